// The customer's chat over /ws/chat (AG-UI frames). The conversation's threadId lives in
// sessionStorage, so a reload or a dropped connection continues the same conversation, and the
// rendered entries are kept there too so the log survives a reload.
//
// A person in the same chat: when the customer asks for one, the server's CUSTOM "handoff"
// frames say where the conversation stands (waiting in the queue, an advisor joined, back with
// the assistant...), shown in a status bar above the message box; the advisor's words arrive
// as "advisor_message" frames and show as their own bubbles. The last line id seen is kept, so
// a reload or a reconnect asks the server (RESUME) for the state and every line since.
//
// A new in-app notification arrives as a CUSTOM "notification" frame; the chat does not show it
// but passes it on as a "concierge:notification" window event (inbox.js shows the toast).

import { el, newId, session } from "./common.js";
import { renderMarkdown } from "./markdown.js";

const KEEP = 120; // entries kept for a reload
const ENDED = ["returned", "closed", "left", "closed_hours"]; // shown until the customer speaks
const WORKING = {
  get_accounts: "Checking your accounts…",
  search_transactions: "Looking through your transactions…",
  spending_summary: "Adding up your spending…",
  upcoming_bills: "Checking your upcoming bills…",
  get_recommendations: "Finding what could help you…",
  search_knowledge: "Searching our help articles…",
};

export class Chat {
  /**
   * @param {object} options
   * @param {HTMLOListElement} options.log the chat log (aria-live)
   * @param {HTMLElement} options.status a one-line status
   * @param {string} options.token the customer's session token
   * @param {() => void} options.onRunFinished after each finished run (refresh the dashboard)
   * @param {() => void} options.onUnauthorized when the server refuses the token
   * @param {(code: string, response: string, option?: string) => Promise<void>} options.respond
   *   offer responses (``option``: the chosen choice of an offer that gives one)
   */
  constructor({ log, status, token, onRunFinished, onUnauthorized, respond }) {
    Object.assign(this, { log, status, token, onRunFinished, onUnauthorized, respond });
    this.threadId = session.get("thread") || newId();
    session.set("thread", this.threadId);
    this.entries = JSON.parse(session.get("chat") || "[]");
    this.outbox = [];
    this.nodes = new Map(); // entry -> its list item
    this.streaming = new Map(); // messageId -> {entry, node}
    this.tools = new Map(); // toolCallId -> tool name
    this.retry = 0;
    this.closed = false;
    // the live hand-off as last heard, for this conversation only
    const kept = JSON.parse(session.get("handoff") || "null");
    this.handoff = kept && kept.thread === this.threadId ? kept
      : { thread: this.threadId, status: null, text: "", advisor: null, lastLine: 0 };
    this.bar = document.getElementById("handoff");
    if (this.bar) this.buildBar();
    this.entries.forEach((entry) => this.log.append(this.draw(entry)));
    this.scroll();
  }

  /** The hand-off status bar: the server's words, and "Leave a message" while waiting. */
  buildBar() {
    this.barText = el("p", { class: "handoff-text", id: "handoff-text", role: "status" });
    this.leaveOpen = el("button", { type: "button", class: "secondary", "aria-expanded": "false",
      "aria-controls": "leave-form", hidden: true, onclick: () => this.toggleLeave(true) },
    "Leave a message");
    this.leaveText = el("textarea", { id: "leave-text", name: "leave", rows: "2",
      maxlength: "2000", required: true });
    this.leaveForm = el("form", { id: "leave-form", class: "leave-form", hidden: true,
      onsubmit: (event) => { event.preventDefault(); this.leaveMessage(); },
      onkeydown: (event) => { if (event.key === "Escape") this.toggleLeave(false); } },
    el("label", { for: "leave-text" }, "Your note for the advisor"),
    el("p", { class: "why", id: "leave-hint" },
      "We'll keep it with your case and an advisor will get back to you. You can close the chat."),
    this.leaveText,
    el("div", { class: "actions" },
      el("button", { type: "submit" }, "Leave message"),
      el("button", { type: "button", class: "secondary", onclick: () => this.toggleLeave(false) },
        "Cancel")));
    this.leaveText.setAttribute("aria-describedby", "leave-hint");
    this.bar.replaceChildren(this.barText, this.leaveOpen, this.leaveForm);
    this.showBar();
  }

  toggleLeave(open) {
    if (!this.leaveForm) return;
    this.leaveForm.hidden = !open;
    this.leaveOpen.setAttribute("aria-expanded", String(open));
    if (open) this.leaveText.focus();
    else if (!this.leaveOpen.hidden) this.leaveOpen.focus();
  }

  leaveMessage() {
    const text = this.leaveText.value.trim();
    if (!text) return;
    this.add({ kind: "user", text, live: true, left: true });
    this.sendFrame({ type: "LEAVE_MESSAGE", text });
    this.leaveText.value = "";
    this.leaveForm.hidden = true;
    this.leaveOpen.setAttribute("aria-expanded", "false");
  }

  showBar() {
    if (!this.bar) return;
    const { status, text } = this.handoff;
    this.bar.className = `handoff${status ? ` on ${status}` : ""}`;
    if (this.barText.textContent !== (text || "")) this.barText.textContent = text || "";
    const input = document.getElementById("chat-input");
    if (input) {
      this.placeholder ??= input.placeholder;
      input.placeholder = status === "active" ? `Write to ${this.handoff.advisor}`
        : this.placeholder;
    }
    const waiting = status === "waiting";
    this.leaveOpen.hidden = !waiting;
    if (!waiting) {
      this.leaveForm.hidden = true;
      this.leaveOpen.setAttribute("aria-expanded", "false");
    }
  }

  saveHandoff() {
    session.set("handoff", JSON.stringify(this.handoff));
    this.showBar();
  }

  /** A line id the server sent: never asked for again on RESUME. */
  sawLine(id) {
    if (Number.isInteger(id) && id > this.handoff.lastLine) this.handoff.lastLine = id;
  }

  get withAdvisor() { return this.handoff.status === "active"; }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const url = `${scheme}://${location.host}/ws/chat?token=${encodeURIComponent(this.token)}`;
    this.socket = new WebSocket(url);
    this.socket.addEventListener("open", () => {
      this.retry = 0;
      this.setStatus("");
      // the live side of the conversation (waiting for or with an advisor) and what was missed
      this.socket.send(JSON.stringify({
        type: "RESUME", threadId: this.threadId, after: this.handoff.lastLine || 0 }));
      this.outbox.splice(0).forEach((frame) => this.socket.send(JSON.stringify(frame)));
    });
    this.socket.addEventListener("message", (event) => this.onFrame(JSON.parse(event.data)));
    this.socket.addEventListener("close", (event) => {
      if (this.closed) return;
      if (event.code === 4401) { this.onUnauthorized(); return; }
      // Reconnect with the same threadId: the server resumes the conversation from its checkpoint.
      const wait = Math.min(1000 * 2 ** this.retry++, 10000);
      this.setStatus("Connection lost — reconnecting…");
      setTimeout(() => this.connect(), wait);
    });
  }

  close() {
    this.closed = true;
    session.drop("handoff");
    if (this.socket) this.socket.close();
  }

  sendFrame(frame) {
    const full = { ...frame, threadId: this.threadId };
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(full));
    } else {
      this.outbox.push(full);
    }
  }

  say(text) {
    if (ENDED.includes(this.handoff.status)) {
      this.handoff = { ...this.handoff, status: null, text: "" };
      this.saveHandoff();
    }
    // While an action waits for approval, words answer it ("yes, go ahead", "no", "sorry, I
    // meant 30", or a question): they go with the CONFIRM frame and the server reads them; the
    // card says it was answered below, where the outcome (done, declined, a new card) appears.
    const waiting = [...this.entries].reverse()
      .find((e) => e.kind === "confirm" && e.state === "pending");
    if (waiting) {
      this.add({ kind: "user", text });
      waiting.state = "answered";
      this.redraw(waiting);
      this.save();
      this.sendFrame({ type: "CONFIRM", text });
      return;
    }
    // While an advisor holds the conversation the words go to them and come back as a stored
    // line; no run starts, so nothing waits for one and the box stays ready for the next.
    this.add({ kind: "user", text, live: this.withAdvisor || undefined });
    this.sendFrame({ type: "USER_MESSAGE", text });
  }

  confirm(entry, approve) {
    entry.state = approve ? "approved" : "declined";
    this.redraw(entry);
    this.save();
    this.sendFrame({ type: "CONFIRM", approve });
  }

  onFrame(frame) {
    switch (frame.type) {
      case "RUN_STARTED":
        this.log.setAttribute("aria-busy", "true");
        this.setStatus("Concierge is working…");
        break;
      case "TOOL_CALL_START":
        this.tools.set(frame.toolCallId, frame.toolCallName);
        this.setStatus(WORKING[frame.toolCallName] || "Working on it…");
        break;
      case "TOOL_CALL_RESULT":
        this.onToolResult(this.tools.get(frame.toolCallId), frame.content);
        break;
      case "TEXT_MESSAGE_START": {
        const entry = { kind: "assistant", text: "" };
        this.streaming.set(frame.messageId, { entry, node: this.add(entry) });
        break;
      }
      case "TEXT_MESSAGE_CONTENT": {
        const open = this.streaming.get(frame.messageId);
        if (!open) break;
        open.entry.text += frame.delta;
        renderMarkdown(open.node.querySelector(".text"), open.entry.text);
        this.scroll();
        break;
      }
      case "TEXT_MESSAGE_END":
        this.streaming.delete(frame.messageId);
        this.save();
        break;
      case "CONFIRMATION_REQUIRED":
        this.add({ kind: "confirm", text: frame.text, state: "pending",
          proposedBy: frame.proposedBy === "advisor" ? this.handoff.advisor || "Your advisor"
            : null });
        this.idle();
        this.log.querySelector(".confirm:last-child button")?.focus();
        break;
      case "RUN_FINISHED":
        this.idle();
        this.onRunFinished();
        break;
      case "RUN_ERROR":
        this.idle();
        if (frame.code === "unauthorized") { this.closed = true; this.onUnauthorized(); break; }
        this.add({ kind: "error", text: frame.message || "Something went wrong." });
        break;
      case "CUSTOM":
        this.onCustom(frame.name, frame.value || {});
        break;
      default:
        break; // frames this page does not show (e.g. STATE_SNAPSHOT)
    }
  }

  onCustom(name, value) {
    if (name === "handoff") this.onHandoff(value);
    else if (name === "advisor_message") this.onAdvisorMessage(value);
    else if (name === "handoff_line") this.onLine(value);
    else if (name === "notification") {
      window.dispatchEvent(new CustomEvent("concierge:notification", { detail: value }));
    }
  }

  onHandoff(value) {
    const { status, text } = value;
    if (value.lineId) this.sawLine(value.lineId);
    const was = this.handoff.status;
    if (status === "none") {
      // nothing live any more (it ended while the page was away): no stale bar
      if (was === "waiting" || was === "active") {
        this.handoff = { ...this.handoff, status: null, text: "", advisor: null };
      }
    } else if (status === "waiting") {
      this.handoff = { ...this.handoff, status, text, handoffId: value.handoffId };
    } else if (status === "active") {
      // the bar says who joined; their name is on each of their messages
      this.handoff = { ...this.handoff, status, text: text || `${value.advisor} joined the chat`,
        advisor: value.advisor || "Your advisor" };
    } else if (status) {
      this.handoff = { ...this.handoff, status, text: text || "", advisor: null };
      if (text) this.add({ kind: "note", text });
      if (status === "left" || status === "closed_hours") this.idle();
    }
    this.saveHandoff();
  }

  onAdvisorMessage(value) {
    if (value.id && value.id <= this.handoff.lastLine) return; // shown already
    this.sawLine(value.id);
    this.saveHandoff();
    this.add({ kind: "advisor", text: value.text || "", advisor: value.advisor || "Advisor" });
  }

  /** A line of the live conversation: the customer's own words as stored, or a result. */
  onLine(value) {
    if (value.id && value.id <= this.handoff.lastLine) return;
    this.sawLine(value.id);
    this.saveHandoff();
    // what an approved action did is already the assistant's reply in the conversation
    if (value.author !== "customer") return;
    const sent = this.entries.find((e) => e.kind === "user" && e.live && e.text === value.text);
    if (sent) { delete sent.live; this.save(); return; }
    this.add({ kind: "user", text: value.text, left: value.kind === "left" });
  }

  onToolResult(name, content) {
    let data;
    try { data = JSON.parse(content); } catch { return; }
    if (name === "get_recommendations") {
      (data.recommendations || []).slice(0, 2).forEach((r) => this.add({
        kind: "card", variant: "offer", code: r.code, title: r.title, body: r.body, why: r.why,
        options: r.options || [],
      }));
    } else if (name === "get_insights") {
      (data.insights || []).slice(0, 2).forEach((i) => this.addInsight(i.message, i.severity));
    }
  }

  /**
   * A proactive insight or notification, shown as a card in the conversation; with `opening`,
   * in the conversation's opening (see addOpening) rather than at its end.
   */
  addInsight(body, title = "Insight", { opening = false } = {}) {
    const label = title.charAt(0).toUpperCase() + title.slice(1);
    const entry = { kind: "card", variant: "insight", title: label, body };
    return opening ? this.addOpening(entry) : this.add(entry);
  }

  /**
   * Add to the conversation's opening (the greeting and what it shows before the customer
   * asks): after the opening so far, above everything said since. The page greets once the
   * dashboard has loaded, and by then the customer may already have asked and been answered;
   * appended, the greeting would land below that answer as if it were the latest reply.
   */
  addOpening(entry) {
    const opening = { ...entry, opening: true };
    const at = this.entries.findIndex((e) => !e.opening);
    const before = at === -1 ? null : this.nodes.get(this.entries[at]) || null;
    this.entries.splice(at === -1 ? this.entries.length : at, 0, opening);
    const node = this.draw(opening);
    this.log.insertBefore(node, before);
    this.save();
    return node;
  }

  idle() {
    this.log.removeAttribute("aria-busy");
    this.setStatus("");
  }

  setStatus(text) { this.status.textContent = text; }

  add(entry) {
    this.entries.push(entry);
    const node = this.draw(entry);
    this.log.append(node);
    this.save();
    this.scroll();
    return node;
  }

  draw(entry) {
    const node = this.render(entry);
    this.nodes.set(entry, node);
    return node;
  }

  redraw(entry) {
    const old = this.nodes.get(entry);
    if (old) old.replaceWith(this.draw(entry));
  }

  save() {
    this.entries.slice(0, -KEEP).forEach((entry) => this.nodes.delete(entry));
    this.entries = this.entries.slice(-KEEP);
    session.set("chat", JSON.stringify(this.entries));
  }

  scroll() { this.log.scrollTop = this.log.scrollHeight; }

  render(entry) {
    if (entry.kind === "user") {
      // the customer's own words, as typed: text, never Markdown or HTML
      return el("li", { class: "msg user" },
        el("span", { class: "sr-only" }, entry.left ? "You left a message: " : "You: "),
        entry.left ? el("p", { class: "from" }, "Message for the advisor") : null,
        el("p", { class: "text" }, entry.text));
    }
    if (entry.kind === "advisor") {
      // a person from the bank: their name on every message, apart from the assistant's
      return el("li", { class: "msg advisor" },
        el("p", { class: "from" }, entry.advisor, el("span", { class: "sr-only" }, ", advisor:"),
          el("span", { class: "tag", "aria-hidden": "true" }, "Advisor")),
        renderMarkdown(el("div", { class: "text" }), entry.text));
    }
    if (entry.kind === "note") {
      return el("li", { class: "note" }, el("p", {}, entry.text));
    }
    if (entry.kind === "assistant") {
      // the assistant writes Markdown (lists, tables); markdown.js sanitises what it renders
      return el("li", { class: "msg assistant" }, el("span", { class: "sr-only" }, "Concierge: "),
        renderMarkdown(el("div", { class: "text" }), entry.text));
    }
    if (entry.kind === "error") {
      return el("li", { class: "msg error" }, el("p", { class: "text" }, entry.text));
    }
    if (entry.kind === "confirm") return this.renderConfirm(entry);
    return this.renderCard(entry);
  }

  renderConfirm(entry) {
    const id = `confirm-${newId()}`;
    const pending = entry.state === "pending";
    const actions = pending
      ? el("div", { class: "actions" },
          el("button", { type: "button", onclick: () => this.confirm(entry, true) }, "Approve"),
          el("button", { type: "button", class: "secondary",
            onclick: () => this.confirm(entry, false) }, "Decline"))
      : el("p", { class: "outcome" }, entry.state === "approved" ? "You approved this."
        : entry.state === "answered" || entry.state === "changed" ? "Answered by your reply below."
        : "You declined this.");
    return el("li", { class: "card confirm", role: "group", "aria-labelledby": id },
      el("p", { class: "card-title", id }, "Please confirm"),
      entry.proposedBy ? el("p", { class: "why" }, `Proposed by ${entry.proposedBy}`) : null,
      el("p", { class: "confirm-text" }, entry.text),
      actions);
  }

  renderCard(entry) {
    const id = `card-${newId()}`;
    let actions = null;
    if (entry.variant === "offer" && entry.code) {
      // One button per choice the offer gives, each saying what it does; else one "Yes, please".
      const choices = (entry.options || []).map((o) => el("button", {
        type: "button", "data-option": o.code, onclick: () => this.answerOffer(entry, "accepted", o),
      }, o.label));
      const accept = choices.length ? choices : [el("button", { type: "button",
        onclick: () => this.answerOffer(entry, "accepted") }, "Yes, please")];
      actions = entry.state
        ? el("p", { class: "outcome" }, entry.state === "accepted"
          ? (entry.choice ? `Noted: ${entry.choice.toLowerCase()}.` : "Accepted — thank you.")
          : "Declined — we won't suggest this again soon.")
        : el("div", { class: "actions" }, ...accept,
            el("button", { type: "button", class: "secondary",
              onclick: () => this.answerOffer(entry, "declined") }, "No thanks"));
    }
    return el("li", { class: `card ${entry.variant}`, role: "group", "aria-labelledby": id },
      el("p", { class: "card-title", id }, entry.title || ""),
      entry.body ? el("p", {}, entry.body) : null,
      entry.why ? el("p", { class: "why" }, entry.why) : null,
      actions);
  }

  async answerOffer(entry, response, choice = null) {
    try {
      await this.respond(entry.code, response, choice && choice.code);
    } catch (error) {
      this.add({ kind: "error", text: `Could not record your answer: ${error.message}` });
      return;
    }
    entry.state = response;
    if (choice) entry.choice = choice.label;
    this.redraw(entry);
    this.save();
  }
}
