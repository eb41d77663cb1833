// The personalised dashboard: renders GET /api/me/dashboard into the page's sections.

import { el, fill, money, pick, setMoneyLocale, shortDate } from "./common.js";

const $ = (id) => document.getElementById(id);
const label = (text) => String(text || "").replaceAll("_", " ");
const empty = (text) => el("li", { class: "empty" }, text);

function accountRow(account) {
  const last4 = pick(account, "last4") || String(pick(account, "number") || "").slice(-4);
  return el("li", { "data-account-id": account.id, "data-type": account.type },
    el("span", { class: "name" }, account.name,
      el("small", {}, ` ${label(account.type)}${last4 ? ` ••${last4}` : ""}`)),
    el("span", { class: "balance num" }, money(account.balance, account.currency)));
}

function transactionRow(t) {
  const amount = Number(t.amount);
  return el("tr", { "data-transaction-id": t.id },
    el("td", {}, shortDate(t.booked_at)),
    el("td", {}, pick(t, "merchant", "description") || "—"),
    el("td", {}, label(t.category)),
    el("td", { class: `num ${amount < 0 ? "out" : "in"}` }, money(t.amount, t.currency)));
}

function spending(data, currency) {
  const rows = (data && data.by_category) || [];
  const top = Math.max(1, ...rows.map((r) => Math.abs(Number(r.amount))));
  $("spending-total").textContent = data
    ? `${money(Math.abs(Number(data.total)), currency)} ${label(data.period || "")}`.trim()
    : "";
  fill($("spending"), rows.length ? rows.slice(0, 6).map((r) => {
    const bar = el("span", { class: "fill" });
    bar.style.width = `${Math.max(2, Math.round((100 * Math.abs(Number(r.amount))) / top))}%`;
    return el("li", {},
      el("span", { class: "name" }, label(r.category)),
      el("span", { class: "num" }, money(Math.abs(Number(r.amount)), currency)),
      el("span", { class: "bar", "aria-hidden": "true" }, bar));
  }) : [empty("No spending yet this period.")]);
  // A business's payroll and suppliers are its costs, not the owner's spending: shown apart.
  const costs = data && data.business_outgoings;
  $("business-outgoings").hidden = !costs;
  if (costs) {
    $("business-outgoings").textContent =
      `Business outgoings (payroll, suppliers and other costs): ${money(Math.abs(Number(costs.total)), currency)}`;
  }
}

function billRow(bill, currency) {
  const name = pick(bill, "merchant", "payee", "name", "title", "description") || "Bill";
  const due = pick(bill, "due_on", "due_date", "next_date", "date", "due");
  const amount = pick(bill, "amount", "amount_due");
  return el("li", {},
    el("span", { class: "name" }, name, due ? el("small", {}, ` due ${shortDate(due)}`) : null),
    el("span", { class: "num" },
      amount === undefined ? "" : money(Math.abs(Number(amount)), bill.currency || currency)));
}

function goalRow(goal, currency) {
  const saved = Number(pick(goal, "saved", "saved_amount", "current") || 0);
  const target = Number(pick(goal, "target", "target_amount") || 0);
  const cur = goal.currency || currency;
  return el("li", { class: "goal" },
    el("span", { class: "name" }, pick(goal, "name", "title") || "Goal"),
    el("span", { class: "num" }, `${money(saved, cur)} of ${money(target, cur)}`),
    target > 0 ? el("progress", { max: target, value: Math.min(saved, target),
      "aria-label": `${pick(goal, "name", "title") || "Goal"} progress` }) : null);
}

function insightRow(insight) {
  return el("li", { class: `insight ${insight.severity || ""}` },
    el("span", {},
      insight.title ? el("strong", {}, `${insight.title}: `) : null,
      pick(insight, "message", "body", "text") || ""));
}

function offer(recommendations, respond) {
  const box = $("offer");
  const r = (recommendations || [])[0];
  if (!r) { fill(box, el("p", { class: "empty" }, "Nothing new for you right now.")); return; }
  const code = pick(r, "offer", "code");
  if (box.dataset.offer === code && box.dataset.answered) return; // keep the thank-you visible
  box.dataset.offer = code;
  delete box.dataset.answered;
  const answer = async (response, choice = null) => {
    try {
      await respond(code, response, choice && choice.code);
      box.dataset.answered = "yes";
      const said = choice ? `Noted: ${choice.label.toLowerCase()}. We'll confirm with you before anything changes.`
        : response === "accepted" ? `Thanks — we'll be in touch about ${r.title}.`
          : "Got it — we won't suggest this again soon.";
      fill(box, el("p", { class: "outcome", role: "status" }, said));
    } catch (error) {
      box.append(el("p", { class: "error", role: "alert" }, error.message));
    }
  };
  // One button per choice the offer gives, each saying what it does; else its one action.
  const choices = (r.options || []).map((o) =>
    el("button", { type: "button", "data-option": o.code, onclick: () => answer("accepted", o) }, o.label));
  const accept = choices.length ? choices
    : [el("button", { type: "button", onclick: () => answer("accepted") }, r.cta || "Yes, please")];
  fill(box, el("article", { class: "offer-card", "data-offer": code },
    el("h4", {}, r.title),
    r.body ? el("p", {}, r.body) : null,
    r.why ? el("p", { class: "why" }, r.why) : null,
    el("div", { class: "actions" }, ...accept,
      el("button", { type: "button", class: "secondary", onclick: () => answer("declined") },
        "No thanks"))));
}

/** Put one dashboard answer on the page. */
export function renderDashboard(data, { respond }) {
  if (data.locale) setMoneyLocale(data.locale);
  const accounts = data.accounts || [];
  const currency = (accounts[0] && accounts[0].currency) || "USD";
  fill($("accounts"), accounts.length ? accounts.map(accountRow) : [empty("No accounts.")]);
  spending(data.spending, (data.spending && data.spending.currency) || currency);
  const tx = data.recent_transactions || [];
  fill($("transactions").tBodies[0], tx.length ? tx.slice(0, 12).map(transactionRow)
    : [el("tr", {}, el("td", { colspan: 4, class: "empty" }, "No transactions yet."))]);
  const bills = data.upcoming_bills || [];
  fill($("bills"), bills.length ? bills.slice(0, 6).map((b) => billRow(b, currency))
    : [empty("No bills due soon.")]);
  const goals = data.goals || [];
  fill($("goals"), goals.length ? goals.map((g) => goalRow(g, currency))
    : [empty("No savings goals yet — ask Concierge to set one up.")]);
  const insights = data.insights || [];
  fill($("insights"), insights.length ? insights.slice(0, 5).map(insightRow)
    : [empty("All looks normal.")]);
  offer(data.recommendations, respond);
  $("dash-updated").textContent = `Updated ${new Date().toLocaleTimeString("en-US")}`;
}
