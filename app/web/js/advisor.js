// The advisor console: find a customer, read their context summary (every fact with its source
// record), their cases, and follow a conversation live.

import { ApiError, api, el, every, fill, pick, session, shortDate, signIn } from "./common.js";

const $ = (id) => document.getElementById(id);
const TRANSCRIPT_MS = 2000;
let stopTranscript = null;

const token = () => session.get("advisor");
const call = (path) => api(path, { token: token() });
const list = (data, ...keys) => (Array.isArray(data) ? data
  : (data && keys.map((k) => data[k]).find(Array.isArray)) || []);

function signedOut(message = "") {
  if (stopTranscript) stopTranscript();
  session.drop("advisor");
  $("console").hidden = true;
  $("customer").hidden = true;
  $("who").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("sign-in-error").textContent = message;
  fill($("results"));
  $("username").focus();
}

/** Errors show in place; an expired session sends the advisor back to sign in. */
function failed(error, where) {
  if (error instanceof ApiError && error.status === 401) {
    signedOut("Your session has ended. Please sign in again.");
  } else {
    const tag = where.tagName === "UL" ? "li" : "p";
    fill(where, el(tag, { class: "error", role: "alert" }, error.message));
  }
}

function start() {
  $("sign-in").hidden = true;
  $("console").hidden = false;
  $("who").hidden = false;
  $("sign-out").hidden = false;
  $("search").focus();
}

async function search(q) {
  $("search-status").textContent = "Searching…";
  try {
    const found = list(await call(`/api/advisor/customers?q=${encodeURIComponent(q)}`),
      "customers", "items", "results");
    $("search-status").textContent = `${found.length} customer${found.length === 1 ? "" : "s"} found`;
    fill($("results"), found.map((c) => el("li", {},
      el("button", { type: "button", class: "link", "data-customer-id": c.id,
        onclick: (event) => open(c, event.currentTarget) },
        pick(c, "name", "full_name") || `Customer ${c.id}`,
        el("small", {}, [c.email, `id ${c.id}`].filter(Boolean).join(" · "))))));
  } catch (error) {
    $("search-status").textContent = "";
    failed(error, $("results"));
  }
}

/** Facts grouped by section, whichever shape the summary arrives in. */
function sections(summary) {
  if (Array.isArray(summary.sections)) {
    return summary.sections.map((s) => [pick(s, "title", "name", "section"), s.facts || []]);
  }
  const grouped = new Map();
  const facts = summary.facts || (summary.sections && typeof summary.sections === "object"
    ? Object.entries(summary.sections).flatMap(([name, fs]) => fs.map((f) => ({ section: name, ...f })))
    : []);
  for (const fact of facts) {
    const name = fact.section || "Facts";
    if (!grouped.has(name)) grouped.set(name, []);
    grouped.get(name).push(fact);
  }
  const talk = summary.talking_points || [];
  if (talk.length) grouped.set("Suggested talking points", talk);
  return [...grouped.entries()];
}

function factItem(fact) {
  const text = typeof fact === "string" ? fact : pick(fact, "text", "fact", "message") || "";
  const source = typeof fact === "string" ? null : pick(fact, "source", "source_id", "ref");
  const codes = (fact && Array.isArray(fact.details)) ? fact.details : [];
  // Phrases first; the exact reason codes behind them only on request.
  return el("li", { class: "fact" }, text,
    source ? el("code", { class: "source", title: "Source record" }, source) : null,
    codes.length ? el("details", { class: "codes" }, el("summary", {}, "Reason codes"),
      el("ul", {}, codes.map((c) => el("li", {}, el("code", {}, c))))) : null);
}

/** The brief: a few plain sentences first, marked when the customer's words raised a risk. */
function briefBox(summary) {
  const brief = Array.isArray(summary.brief) ? summary.brief.filter(Boolean)
    : [summary.brief].filter((b) => typeof b === "string" && b);
  if (!brief.length) return null;
  const flags = (summary.mood && Array.isArray(summary.mood.flags)) ? summary.mood.flags : [];
  return el("section", { class: flags.length ? "card insight brief" : "card brief",
    "aria-labelledby": "brief-title" },
  el("h4", { id: "brief-title" }, "Brief"),
  brief.map((sentence) => el("p", {}, sentence)),
  flags.length ? el("p", { class: "why" }, `Risk flags: ${flags.join(", ")}`) : null);
}

function renderSummary(summary) {
  const groups = sections(summary);
  const brief = briefBox(summary);
  if (!groups.length) {
    fill($("summary"), brief
      || el("p", { class: "pre" }, pick(summary, "text", "summary") || "No summary."));
    return;
  }
  fill($("summary"), brief, groups.flatMap(([name, facts]) => [
    el("h4", {}, name), el("ul", { class: "facts" }, facts.map(factItem)),
  ]));
}

function renderCases(cases, customerId) {
  const mine = cases.filter((c) => {
    const owner = pick(c, "person_id", "customer_id");
    return owner === undefined || String(owner) === String(customerId);
  });
  fill($("cases"), mine.length ? mine.map((c) => el("li", {},
    el("span", {}, el("strong", {}, pick(c, "title", "subject", "kind", "type") || `Case ${c.id}`),
      " ", pick(c, "summary", "reason", "description", "text") || ""),
    el("span", { class: "num" }, [pick(c, "status"), shortDate(pick(c, "opened_at",
      "created_at", "updated_at"))].filter(Boolean).join(" · "))))
    : [el("li", { class: "empty" }, "No open cases.")]);
}

function transcriptLine(line) {
  if (line.role === "tool") return null; // the assistant's reply says what the tool found
  const mine = line.role === "user" || line.role === "customer";
  const used = (line.tool_calls || []).length ? `(used ${line.tool_calls.join(", ")})` : "";
  const words = line.text || used;
  if (!words) return null;
  return el("li", { class: `msg ${mine ? "user" : "assistant"}` },
    el("span", { class: "sr-only" }, `${mine ? "Customer" : "Assistant"}: `), el("p", {}, words));
}

function watch(thread, button) {
  if (stopTranscript) stopTranscript();
  $("conversations").querySelectorAll("button").forEach((b) => b.removeAttribute("aria-current"));
  button.setAttribute("aria-current", "true");
  $("transcript-title").hidden = false;
  const log = $("transcript");
  log.replaceChildren();
  let shown = 0;
  stopTranscript = every(TRANSCRIPT_MS, async () => {
    try {
      const lines = list(await call(`/api/advisor/conversations/${encodeURIComponent(thread)}/transcript`),
        "lines", "messages", "transcript");
      if (lines.length < shown) { log.replaceChildren(); shown = 0; }
      // Append only what is new, so the live region announces just the new lines.
      lines.slice(shown).map(transcriptLine).filter(Boolean).forEach((node) => log.append(node));
      shown = lines.length;
      log.scrollTop = log.scrollHeight;
      $("transcript-status").textContent = `Live — updated ${new Date().toLocaleTimeString("en-US")}`;
    } catch (error) {
      $("transcript-status").textContent = `Could not load the transcript: ${error.message}`;
      if (error instanceof ApiError && error.status === 401) signedOut("Your session has ended.");
    }
  });
}

function renderConversations(conversations) {
  fill($("conversations"), conversations.length ? conversations.map((c) => {
    const thread = pick(c, "thread_id", "thread");
    const when = pick(c, "last_activity", "updated_at");
    return el("li", {},
      el("button", { type: "button", class: "link", "data-thread": thread,
        onclick: (event) => watch(thread, event.currentTarget) },
        `Conversation ${String(pick(c, "thread", "thread_id")).split(":").pop().slice(0, 12)}`,
        el("small", {}, [when ? `active ${new Date(when).toLocaleString("en-US")}` : "",
          c.messages ? `${c.messages} messages` : ""].filter(Boolean).join(" · "))));
  }) : [el("li", { class: "empty" }, "No conversations yet.")]);
}

async function open(customer, button) {
  if (stopTranscript) stopTranscript();
  $("results").querySelectorAll("button").forEach((b) => b.removeAttribute("aria-current"));
  button.setAttribute("aria-current", "true");
  $("customer").hidden = false;
  $("customer-title").textContent = pick(customer, "name", "full_name") || `Customer ${customer.id}`;
  $("transcript-title").hidden = true;
  $("transcript-status").textContent = "";
  $("transcript").replaceChildren();
  const loading = el("p", { class: "status" }, "Loading…");
  [$("summary"), $("cases"), $("conversations")].forEach((box) => fill(box, loading.cloneNode(true)));
  const id = encodeURIComponent(customer.id);
  const [summary, cases, conversations] = await Promise.allSettled([
    call(`/api/advisor/customers/${id}/summary`),
    call("/api/advisor/cases"),
    call(`/api/advisor/customers/${id}/conversations`),
  ]);
  if (summary.status === "fulfilled") renderSummary(summary.value);
  else failed(summary.reason, $("summary"));
  if (cases.status === "fulfilled") renderCases(list(cases.value, "cases", "items"), customer.id);
  else failed(cases.reason, $("cases"));
  if (conversations.status === "fulfilled") {
    renderConversations(list(conversations.value, "conversations", "items"));
  } else failed(conversations.reason, $("conversations"));
  $("customer-title").focus();
}

$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  form.querySelector("button").disabled = true;
  $("sign-in-error").textContent = "";
  try {
    const answer = await signIn($("username").value, $("password").value);
    if (answer.role !== "advisor") {
      $("sign-in-error").textContent = "This console is for advisors: customers sign in at /.";
      return;
    }
    session.set("advisor", answer.access_token);
    form.reset();
    start();
  } catch (error) {
    $("sign-in-error").textContent = error.message;
  } finally {
    form.querySelector("button").disabled = false;
  }
});

$("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  search($("search").value.trim());
});

$("sign-out").addEventListener("click", () => signedOut());

if (token()) start();
