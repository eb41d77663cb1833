// The advisor console: find a customer, read their context summary (every fact with its source
// record), their cases, and follow a conversation live; take a customer who asked for a person
// from the live queue (/ws/advisor pushes it) and talk with them in their chat, with the
// assistant's suggestions, actions the customer approves on their side, and hand back or close.

import { ApiError, api, el, every, fill, pick, session, shortDate, signIn } from "./common.js";
import { renderMarkdown } from "./markdown.js";

const $ = (id) => document.getElementById(id);
const TRANSCRIPT_MS = 2000;
let stopTranscript = null;
const WAIT_TICK_MS = 15000;
const PRIORITY = [
  { label: "Standard", class: "standard" },
  { label: "Needs care", class: "care" },
  { label: "Suspected fraud", class: "fraud" },
];

const token = () => session.get("advisor");
const call = (path) => api(path, { token: token() });
const list = (data, ...keys) => (Array.isArray(data) ? data
  : (data && keys.map((k) => data[k]).find(Array.isArray)) || []);

function signedOut(message = "") {
  if (stopTranscript) stopTranscript();
  stopLive();
  session.drop("advisor", "live");
  $("console").hidden = true;
  $("customer").hidden = true;
  $("live").hidden = true;
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
  connectLive();
  const held = JSON.parse(session.get("live") || "null"); // the conversation held before a reload
  if (held && held.id) {
    openLive(held.id, held.name).catch((error) => {
      session.drop("live");
      tell("queue-error", error);
    });
  }
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
  const advisor = line.role === "advisor";
  const calls = line.tool_calls || [];
  const used = calls.length ? `(${advisor ? "proposed" : "used"} ${calls.join(", ")})` : "";
  const words = line.text || used;
  if (!words) return null;
  const who = mine ? "Customer" : advisor ? "Advisor" : "Assistant";
  return el("li", { class: `msg ${mine ? "user" : advisor ? "advisor" : "assistant"}` },
    el("span", { class: "sr-only" }, `${who}: `), el("p", {}, words));
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

/** Open a customer's file; resolves to their context summary (null when it could not load). */
async function open(customer, button, { focus = true } = {}) {
  if (stopTranscript) stopTranscript();
  $("results").querySelectorAll("button").forEach((b) => b.removeAttribute("aria-current"));
  if (button) button.setAttribute("aria-current", "true");
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
  if (focus) $("customer-title").focus();
  return summary.status === "fulfilled" ? summary.value : null;
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

// --- the live queue and the conversation the advisor holds -------------------------------------

let socket = null;
let socketRetry = 0;
let queueItems = []; // the last QUEUE, each with the time it was heard
let waitTicker = null;
const live = {
  id: null, customer: null, lastLine: 0, active: false, assisting: false, assistAgain: false,
};

const post = (path, body) => api(path, { method: "POST", body, token: token() });
const HANDED_BACK = "Handed back to the assistant: it answers the customer again.";
const liveUrl = (rest = "") => `/api/advisor/live/${encodeURIComponent(live.id)}${rest}`;

function stopLive() {
  const was = socket;
  socket = null; // no reconnect
  if (was) was.close();
  if (waitTicker) clearInterval(waitTicker);
  waitTicker = null;
  Object.assign(live, { id: null, customer: null, lastLine: 0, active: false });
  fill($("queue"));
}

/** A message where the advisor looks; an expired session sends them back to sign in. */
function tell(where, error) {
  if (error instanceof ApiError && error.status === 401) {
    signedOut("Your session has ended. Please sign in again.");
    return;
  }
  $(where).textContent = error.message || String(error);
}

function connectLive() {
  if (socket || !token()) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(
    `${scheme}://${location.host}/ws/advisor?token=${encodeURIComponent(token())}`);
  socket = ws;
  ws.addEventListener("open", () => {
    socketRetry = 0;
    if (live.id && live.active) watchLive();
  });
  ws.addEventListener("message", (event) => onLiveFrame(JSON.parse(event.data)));
  ws.addEventListener("close", (event) => {
    if (socket !== ws) return; // closed on purpose
    socket = null;
    if (event.code === 4401) { signedOut("Your session has ended. Please sign in again."); return; }
    $("queue-status").textContent = "Connection lost — reconnecting…";
    setTimeout(connectLive, Math.min(1000 * 2 ** socketRetry++, 10000));
  });
  if (!waitTicker) waitTicker = setInterval(showWaits, WAIT_TICK_MS);
}

function watchLive() {
  if (socket && socket.readyState === WebSocket.OPEN && live.id) {
    socket.send(JSON.stringify({ type: "WATCH", handoffId: live.id, after: live.lastLine }));
  }
}

function onLiveFrame(frame) {
  if (frame.type === "QUEUE") renderQueue(frame.items || []);
  else if (frame.type === "LINE" && frame.handoffId === live.id) addLine(frame.line, { fresh: true });
  else if (frame.type === "ERROR" && frame.code === "not_yours") {
    $("live-status").textContent = "This conversation is no longer yours.";
  }
}

function waited(item) {
  const seconds = item.waiting_seconds + Math.round((Date.now() - item.heard) / 1000);
  if (seconds < 60) return "waiting under a minute";
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `waiting ${minutes} min` : `waiting ${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function showWaits() {
  queueItems.forEach((item) => {
    const node = $("queue").querySelector(`[data-handoff='${item.id}'] .waited`);
    if (node) node.textContent = waited(item);
  });
}

function renderQueue(items) {
  const heard = Date.now();
  queueItems = items.map((item) => ({ ...item, heard }));
  $("queue-status").textContent = items.length
    ? `${items.length} customer${items.length === 1 ? "" : "s"} waiting`
    : "No one is waiting.";
  fill($("queue"), queueItems.map((item) => {
    const priority = PRIORITY[item.priority] || PRIORITY[0];
    const reason = String(item.reason || "").split("\n")[0];
    return el("li", { class: "queue-item", "data-handoff": item.id },
      el("p", { class: "queue-head" }, el("strong", {}, item.customer),
        el("span", { class: `badge ${priority.class}` }, priority.label)),
      el("p", { class: "reason", title: reason }, reason),
      el("p", { class: "why waited" }, waited(item)),
      el("button", { type: "button", onclick: (event) => claim(item, event.currentTarget) },
        "Claim", el("span", { class: "sr-only" }, ` the conversation with ${item.customer}`)));
  }));
}

async function claim(item, button) {
  $("queue-error").textContent = "";
  button.disabled = true;
  try {
    await post(`/api/advisor/live/${encodeURIComponent(item.id)}/claim`);
  } catch (error) {
    button.disabled = false;
    if (error instanceof ApiError && error.status === 409) {
      $("queue-error").textContent = `Another advisor took it (${item.customer}).`;
      return;
    }
    tell("queue-error", error);
    return;
  }
  session.set("live", JSON.stringify({ id: item.id, name: item.customer }));
  try {
    await openLive(item.id, item.customer);
  } catch (error) {
    tell("queue-error", error);
  }
}

function setLiveControls(enabled) {
  $("live").querySelectorAll("button, textarea, select, input").forEach((node) => {
    node.disabled = !enabled;
  });
}

/** Show a conversation the advisor holds: what was said so far, the live lines, the tools. */
async function openLive(id, customerName) {
  const view = await call(`/api/advisor/live/${encodeURIComponent(id)}`);
  Object.assign(live, { id: view.id, customer: view.customer_id, lastLine: 0,
    active: view.status === "active" });
  const name = customerName || `customer ${view.customer_id}`;
  $("live").hidden = false;
  $("live-title").textContent = `Live conversation with ${name}`;
  $("live-status").textContent = live.active ? `You hold this conversation — ${view.reason}.`
    : `This conversation has ended (${view.status.replace("_", " ")}).`;
  ["reply-error", "propose-result", "propose-error", "assist-status", "fees-result",
    "fees-error"].forEach((key) => {
    $(key).textContent = "";
  });
  fill($("assist"));
  const log = $("live-log");
  const said = (view.transcript || []).map(transcriptLine).filter(Boolean);
  fill(log, said.length ? el("li", { class: "note" }, el("p", {}, "With the assistant")) : null,
    said);
  (view.lines || []).forEach((line) => addLine(line));
  setLiveControls(live.active);
  if (live.active) {
    watchLive();
    loadAssist();
    loadFees();
  } else session.drop("live");
  $("live-title").focus();
  // the customer's context below: the console's own summary, cases and conversations
  const summary = await open({ id: view.customer_id, name }, null, { focus: false });
  fillAccounts(summary);
}

function addLine(line, { fresh = false } = {}) {
  if (!line || line.id <= live.lastLine) return; // each line once
  live.lastLine = line.id;
  const log = $("live-log");
  let node;
  if (line.author === "customer") {
    const left = line.kind === "left";
    node = el("li", { class: "msg user" },
      el("span", { class: "sr-only" }, left ? "Customer left a message: " : "Customer: "),
      left ? el("p", { class: "from" }, "Left a message") : null, el("p", {}, line.text));
    if (fresh && !left) loadAssist();
  } else if (line.author === "advisor") {
    node = el("li", { class: "msg advisor" },
      el("p", { class: "from" }, line.advisor || "You"),
      el("span", { class: "sr-only" }, ": "), renderMarkdown(el("div"), line.text));
  } else {
    node = el("li", { class: `note ${line.kind}` }, el("p", {}, line.text));
    // ended elsewhere (another tab): the console says so as the buttons would have
    if (live.active && line.kind === "returned") endLive(HANDED_BACK);
    else if (live.active && line.kind === "closed") endLive(`${line.text}.`);
  }
  log.append(node);
  log.scrollTop = log.scrollHeight;
}

/** The customer's accounts, from the summary's products (each cites "account:<id>"). */
function fillAccounts(summary) {
  const accounts = ((summary && summary.facts) || [])
    .filter((f) => /^account:\d+$/.test(f.source || ""))
    .map((f) => ({ ref: `acc-${f.source.split(":")[1]}`, label: f.text }));
  const options = (selected) => (accounts.length
    ? accounts.map((a, i) => el("option", { value: a.ref, selected: i === selected }, a.label))
    : [el("option", { value: "" }, "No accounts found")]);
  fill($("propose-from"), options(0));
  fill($("propose-to"), options(Math.min(1, accounts.length - 1)));
}

async function propose(tool, args) {
  $("propose-result").textContent = "";
  $("propose-error").textContent = "";
  try {
    const shown = await post(liveUrl("/propose"), { tool, args });
    $("propose-result").textContent = `Sent to the customer to approve: ${shown.text}`;
    return true;
  } catch (error) {
    tell("propose-error", error);
    return false;
  }
}

/** The fees the customer was charged, each with a button to refund it. */
async function loadFees() {
  $("fees-error").textContent = "";
  try {
    const fees = await call(liveUrl("/fees"));
    const rows = fees.map((fee) => el("li", {},
      el("span", {}, `${fee.booked_at.slice(0, 10)} · ${fee.description} · ${fee.amount}`),
      fee.refunded ? el("span", { class: "why" }, " refunded")
        : el("button", { type: "button", class: "secondary",
          onclick: (event) => refund(fee, event.currentTarget) }, `Refund ${fee.amount}`)));
    fill($("fees"), rows.length ? rows : [el("li", {}, "No fees charged.")]);
  } catch (error) {
    tell("fees-error", error);
  }
}

async function refund(fee, button) {
  button.disabled = true;
  $("fees-result").textContent = "";
  try {
    const done = await post(liveUrl("/refund-fee"), { transaction: fee.transaction });
    $("fees-result").textContent = done.summary;
    await loadFees();
  } catch (error) {
    button.disabled = false;
    tell("fees-error", error);
  }
}

/** Suggestions for the customer's latest message (once more after, if asked while busy). */
async function loadAssist() {
  if (!live.id || !live.active) return;
  if (live.assisting) { live.assistAgain = true; return; }
  live.assisting = true;
  live.assistAgain = false;
  const id = live.id;
  $("assist-status").textContent = "Finding suggestions…";
  try {
    const help = await call(liveUrl("/assist"));
    if (id !== live.id) return;
    renderAssist(help);
    $("assist-status").textContent = "Suggestions ready.";
  } catch (error) {
    if (id === live.id && live.active) tell("assist-status", error);
  } finally {
    live.assisting = false;
    if (live.assistAgain) loadAssist();
  }
}

async function used(suggestion) {
  try {
    await post(liveUrl(`/assist/${encodeURIComponent(suggestion)}/used`));
  } catch (error) {
    tell("assist-status", error);
  }
}

function useText(text, suggestion) {
  $("reply").value = text;
  $("reply").focus();
  used(suggestion);
}

function renderAssist(help) {
  const articles = help.articles || [];
  const action = help.next_best_action;
  const draft = help.draft;
  fill($("assist"),
    help.message ? el("p", { class: "why" }, `For the customer's message: “${help.message}”`) : null,
    el("h4", {}, "Drafted reply"),
    draft ? el("div", { class: "card suggestion" }, renderMarkdown(el("div"), draft.text),
      el("button", { type: "button", onclick: () => useText(draft.text, draft.suggestion) },
        "Use draft")) : el("p", { class: "empty" }, "No draft."),
    el("h4", {}, "Help articles"),
    articles.length ? el("ul", { class: "suggestions" }, articles.map((a) => el("li", {},
      el("p", { class: "card-title" }, a.title),
      renderMarkdown(el("div"), a.passage),
      el("button", { type: "button", class: "secondary",
        onclick: () => useText(a.passage, a.suggestion) },
      "Use passage", el("span", { class: "sr-only" }, ` from ${a.title}`)))))
      : el("p", { class: "empty" }, "No article answers it."),
    el("h4", {}, "Next best action"),
    action ? el("div", { class: "card" }, el("p", { class: "card-title" }, action.title),
      action.why ? el("p", { class: "why" }, action.why) : null)
      : el("p", { class: "empty" }, "Nothing to offer now."));
}

function endLive(text) {
  live.active = false;
  session.drop("live");
  setLiveControls(false);
  $("live-status").textContent = text;
}

async function finish(path, body, done) {
  try {
    await post(liveUrl(path), body);
    endLive(done);
  } catch (error) {
    tell("live-status", error);
  }
}

$("reply-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("reply").value.trim();
  if (!text || !live.active) return;
  $("reply-error").textContent = "";
  const button = event.currentTarget.querySelector("button");
  button.disabled = true;
  try {
    addLine(await post(liveUrl("/messages"), { text }));
    $("reply").value = "";
  } catch (error) {
    tell("reply-error", error);
  } finally {
    button.disabled = !live.active;
    $("reply").focus();
  }
});

$("propose-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const from = $("propose-from").value;
  const to = $("propose-to").value;
  const amount = Number($("propose-amount").value);
  if (!from || !to || from === to) {
    $("propose-error").textContent = "Choose two different accounts.";
    return;
  }
  if (!(amount > 0)) {
    $("propose-error").textContent = "Enter an amount above zero, e.g. 50.00.";
    return;
  }
  await propose("transfer", { from_account: from, to_account: to, amount: amount.toFixed(2) });
});

$("propose-other-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  let args;
  try {
    args = JSON.parse($("other-args").value || "{}");
  } catch {
    $("propose-error").textContent = "The details must be JSON, e.g. {\"card\": \"card-12\"}.";
    return;
  }
  await propose($("other-tool").value, args);
});

$("assist-refresh").addEventListener("click", () => loadAssist());
$("hand-back").addEventListener("click", () => finish("/return", undefined, HANDED_BACK));
$("close-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const choice = $("outcome").selectedOptions[0];
  finish("/close", { outcome: $("outcome").value }, `Closed: ${choice.textContent}.`);
});

$("sign-out").addEventListener("click", () => signedOut());

if (token()) start();
