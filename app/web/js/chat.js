// The customer's chat over /ws/chat (AG-UI frames). The conversation's threadId lives in
// sessionStorage, so a reload or a dropped connection continues the same conversation, and the
// rendered entries are kept there too so the log survives a reload.

import { el, newId, session } from "./common.js";
import { renderMarkdown } from "./markdown.js";

const KEEP = 120; // entries kept for a reload
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
    this.entries.forEach((entry) => this.log.append(this.draw(entry)));
    this.scroll();
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const url = `${scheme}://${location.host}/ws/chat?token=${encodeURIComponent(this.token)}`;
    this.socket = new WebSocket(url);
    this.socket.addEventListener("open", () => {
      this.retry = 0;
      this.setStatus("");
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
    this.add({ kind: "user", text });
    // While an action waits for approval, words answer it ("yes, go ahead", "no", "sorry, I
    // meant 30", or a question): they go with the CONFIRM frame and the server reads them; the
    // card says it was answered below, where the outcome (done, declined, a new card) appears.
    const waiting = [...this.entries].reverse()
      .find((e) => e.kind === "confirm" && e.state === "pending");
    if (waiting) {
      waiting.state = "answered";
      this.redraw(waiting);
      this.save();
      this.sendFrame({ type: "CONFIRM", text });
      return;
    }
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
        this.add({ kind: "confirm", text: frame.text, state: "pending" });
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
      default:
        break; // frames this page does not show (e.g. STATE_SNAPSHOT)
    }
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
        el("span", { class: "sr-only" }, "You: "), el("p", { class: "text" }, entry.text));
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
