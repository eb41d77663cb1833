// The customer's notifications: an inbox behind a badge in the header, a toast when one arrives
// while the page is open, and the notification settings form.
//
// The chat socket hears a new notification and passes it on as a "concierge:notification"
// window event (chat.js); here it becomes a toast and bumps the unread badge. The inbox reads
// GET /api/me/inbox; an unread notification shown in the open inbox is answered "opened", and
// each one can be dismissed or marked not helpful (POST /api/me/inbox/{id}/feedback), which the
// bank learns from. Everything the server sends is put on the page as text.

import { ApiError, api, el, every, fill, money } from "./common.js";

const $ = (id) => document.getElementById(id);
const TOAST_MS = 10000; // a toast stays this long unless pointed at or focused
const TOASTS_KEPT = 3;
const SYNC_MS = 30000; // the badge asks the server again this often
const FIND_TRIES = 6; // a just-announced notification may take a moment to reach the inbox
const FEWER = "Thanks — we'll send fewer like this.";
const OUTCOME = { not_helpful: FEWER, dismissed: "Dismissed." };
const CHANNELS = {
  in_app: "in the app", email: "by email", push: "by push notification", sms: "by text message",
};
// the form's words for the server's field names, for its messages
const FIELDS = {
  large_purchase_over: "“Tell me about charges over”",
  low_balance_under: "“Tell me when a balance falls under”",
  quiet_start: "“Quiet hours start”",
  quiet_end: "“Quiet hours end”",
  timezone: "“Time zone”",
  marketing_consent: "“Send me offers and news”",
  channels: "the channels",
};
const humane = (text) => String(text).replace(/\b[a-z]+(?:_[a-z]+)+\b|\btimezone\b/g,
  (word) => FIELDS[word] || word.replaceAll("_", " "));

/** A server timestamp as a Date; one without an offset is UTC. */
function when(iso) {
  if (!iso) return null;
  const text = String(iso);
  const zoned = /(?:[zZ]|[+-]\d\d:?\d\d)$/.test(text) ? text : `${text}Z`;
  const date = new Date(zoned);
  return Number.isNaN(date.getTime()) ? null : date;
}

function timeText(date) {
  return date ? date.toLocaleString("en-US", {
    month: "short", day: "numeric", hour: "numeric", minute: "2-digit" }) : "";
}

/** "22:30" shown as typed; "" for none. */
const clock = (value) => value || "";
const amountText = (value) => (value === null || value === undefined || value === ""
  ? "none" : money(value));

export class Notifications {
  /** @param {{onUnauthorized: () => void}} options called when the server refuses the token */
  constructor({ onUnauthorized }) {
    this.onUnauthorized = onUnauthorized;
    this.token = null;
    this.unread = 0;
    this.pending = new Set(); // announced ids the inbox has not listed yet
    this.openings = new Map(); // id -> its "opened" answer on its way (sent once per page)
    this.items = [];
    this.settings = null;
    this.stopSync = null;
    this.onNotification = (event) => this.arrived(event.detail || {});
    $("inbox-open").addEventListener("click", () => this.toggleInbox(!this.inboxOpen));
    $("inbox-close").addEventListener("click", () => this.toggleInbox(false));
    $("settings-open").addEventListener("click", () => this.toggleSettings(!this.settingsOpen));
    $("settings-close").addEventListener("click", () => this.toggleSettings(false));
    $("inbox").addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.toggleInbox(false);
    });
    $("notify-settings").addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.toggleSettings(false);
    });
    $("settings-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
  }

  get inboxOpen() { return !$("inbox").hidden; }

  get settingsOpen() { return !$("notify-settings").hidden; }

  start(token) {
    this.token = token;
    $("inbox-open").hidden = false;
    $("settings-open").hidden = false;
    window.addEventListener("concierge:notification", this.onNotification);
    this.stopSync = every(SYNC_MS, () => this.sync());
  }

  stop() {
    window.removeEventListener("concierge:notification", this.onNotification);
    if (this.stopSync) this.stopSync();
    this.stopSync = null;
    this.token = null;
    this.unread = 0;
    this.pending.clear();
    this.openings.clear();
    this.items = [];
    this.settings = null;
    this.showCount();
    $("inbox").hidden = true;
    $("notify-settings").hidden = true;
    for (const id of ["inbox-open", "settings-open"]) {
      $(id).hidden = true;
      $(id).setAttribute("aria-expanded", "false");
    }
    $("inbox-list").replaceChildren();
    $("inbox-status").textContent = "";
    $("settings-status").textContent = "";
    $("settings-error").textContent = "";
    $("toasts").replaceChildren();
  }

  async call(path, options = {}) {
    try {
      return await api(path, { ...options, token: this.token });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) this.onUnauthorized();
      throw error;
    }
  }

  // --- the unread badge ---------------------------------------------------------------------

  showCount() {
    const count = this.unread + this.pending.size;
    const badge = $("inbox-count");
    badge.hidden = count === 0;
    // read as "Inbox 2 unread"; the number alone is what the badge shows
    fill(badge, count ? [String(count), el("span", { class: "sr-only" }, " unread")] : []);
  }

  /** The server's unread count, plus what was announced but is not in the inbox yet. */
  async sync() {
    if (!this.token) return;
    let data;
    try {
      data = await this.call("/api/me/inbox?unread=true&limit=50");
    } catch {
      return; // the badge keeps its number until the next try
    }
    (data.items || []).forEach((item) => this.pending.delete(item.id));
    this.unread = Number(data.unread) || 0;
    this.showCount();
  }

  // --- a toast for a notification that arrives while the page is open -----------------------

  arrived(note) {
    if (!this.token || note.id === undefined) return;
    if (!this.items.some((item) => item.id === note.id)) this.pending.add(note.id);
    this.showCount();
    this.toast(note);
    if (this.inboxOpen) this.load(note.id);
  }

  toast(note) {
    const titleId = `toast-title-${note.id}`;
    const view = el("button", { type: "button", "aria-describedby": titleId }, "View");
    const close = el("button", { type: "button", class: "secondary",
      "aria-label": "Close notification" }, "Close");
    const node = el("div", { class: "toast", role: "status", "aria-live": "polite",
      "aria-atomic": "true", "data-notification": note.id },
    el("p", { class: "toast-title", id: titleId }, note.title || "Notification"),
    note.body ? el("p", { class: "toast-body" }, note.body) : null,
    el("div", { class: "actions" }, view, close));
    let timer = null;
    const gone = () => {
      clearTimeout(timer);
      const hadFocus = node.contains(document.activeElement);
      node.remove();
      if (hadFocus && !this.inboxOpen) $("inbox-open").focus();
    };
    const wait = () => { clearTimeout(timer); timer = setTimeout(gone, TOAST_MS); };
    const hold = () => clearTimeout(timer);
    view.addEventListener("click", () => { gone(); this.toggleInbox(true, note.id); });
    close.addEventListener("click", gone);
    node.addEventListener("keydown", (event) => { if (event.key === "Escape") gone(); });
    node.addEventListener("mouseenter", hold);
    node.addEventListener("mouseleave", () => {
      if (!node.contains(document.activeElement)) wait();
    });
    node.addEventListener("focusin", hold);
    node.addEventListener("focusout", (event) => {
      if (!node.contains(event.relatedTarget)) wait();
    });
    const box = $("toasts");
    box.append(node);
    while (box.children.length > TOASTS_KEPT) box.firstElementChild.remove();
    wait();
  }

  // --- the inbox ----------------------------------------------------------------------------

  toggleInbox(open, wanted = null) {
    $("inbox").hidden = !open;
    $("inbox-open").setAttribute("aria-expanded", String(open));
    if (open) {
      $("inbox-title").focus();
      $("inbox").scrollIntoView({ block: "nearest" });
      this.load(wanted);
    } else {
      $("inbox-open").focus();
    }
  }

  /** Read the inbox and show it; `wanted` is a notification the list should hold (retried). */
  async load(wanted = null, tries = FIND_TRIES) {
    if (!this.items.length) $("inbox-status").textContent = "Loading your notifications…";
    let data;
    try {
      data = await this.call("/api/me/inbox?limit=50");
    } catch (error) {
      $("inbox-status").textContent = `Could not load your notifications: ${error.message}`;
      return;
    }
    if (!this.inboxOpen) return;
    const items = data.items || [];
    if (wanted !== null && !items.some((i) => i.id === wanted) && tries > 1) {
      setTimeout(() => { if (this.inboxOpen) this.load(wanted, tries - 1); }, 500);
    }
    items.forEach((item) => this.pending.delete(item.id));
    // what is new keeps its look while the inbox stays open, though it is read from now on
    const seen = new Map(this.items.map((i) => [i.id, i]));
    this.items = items.map((item) => ({ ...item,
      isNew: item.read_at === null || Boolean(seen.get(item.id) && seen.get(item.id).isNew) }));
    this.unread = Number(data.unread) || 0;
    this.render();
    this.openUnread();
  }

  render() {
    $("inbox-status").textContent = this.items.length
      ? `${this.items.length} notification${this.items.length === 1 ? "" : "s"}`
      : "Nothing here yet. We'll let you know when something needs your attention.";
    fill($("inbox-list"), this.items.map((item) => this.row(item)));
    this.showCount();
  }

  row(item) {
    const titleId = `note-title-${item.id}`;
    const date = when(item.created_at);
    const answered = OUTCOME[item.feedback];
    const actions = answered
      ? el("p", { class: "outcome", tabindex: "-1" }, answered)
      : el("div", { class: "actions" },
          el("button", { type: "button", class: "secondary", "aria-describedby": titleId,
            onclick: () => this.answer(item, "dismissed") }, "Dismiss"),
          el("button", { type: "button", class: "secondary", "aria-describedby": titleId,
            onclick: () => this.answer(item, "not_helpful") }, "Not helpful"));
    const look = `inbox-item${item.isNew ? " unread" : ""}${answered ? " answered" : ""}`;
    return el("li", { class: look, "data-notification": item.id, "aria-labelledby": titleId },
    el("p", { class: "note-title", id: titleId },
      item.isNew ? el("span", { class: "new-tag" }, "New") : null,
      item.isNew ? el("span", { class: "sr-only" }, ": ") : null,
      item.title || "Notification"),
    date ? el("p", { class: "why" }, el("time", { datetime: date.toISOString() }, timeText(date)))
      : null,
    item.body ? el("p", { class: "note-body" }, item.body) : null,
    item.error ? el("p", { class: "error" }, item.error) : null,
    actions);
  }

  /**
   * Every unread notification the open inbox shows has been opened: say so, once each. An
   * answer given meanwhile waits for it (answer()), so "opened" never lands after "not helpful".
   */
  async openUnread() {
    const unread = this.items.filter((item) => item.read_at === null
      && !this.openings.has(item.id));
    if (!unread.length) return;
    await Promise.all(unread.map((item) => {
      const sent = this.call(`/api/me/inbox/${encodeURIComponent(item.id)}/feedback`,
        { method: "POST", body: { response: "opened" } })
        .then((answer) => {
          Object.assign(item, { read_at: answer.read_at, feedback: answer.feedback });
          this.unread = Math.max(0, this.unread - 1);
        })
        .catch(() => {
          this.openings.delete(item.id); // still unread: tried again when shown again
        });
      this.openings.set(item.id, sent);
      return sent;
    }));
    this.showCount();
  }

  async answer(item, response) {
    const find = () => $("inbox-list")
      .querySelector(`[data-notification="${CSS.escape(String(item.id))}"]`);
    find()?.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    await this.openings.get(item.id);
    try {
      const answer = await this.call(`/api/me/inbox/${encodeURIComponent(item.id)}/feedback`,
        { method: "POST", body: { response } });
      if (item.read_at === null) this.unread = Math.max(0, this.unread - 1);
      Object.assign(item, { read_at: answer.read_at, feedback: answer.feedback, error: null });
    } catch (error) {
      item.error = `Could not record your answer: ${error.message}`;
    }
    // the list may have been drawn again meanwhile: replace the row as it is now
    const fresh = this.row(item);
    const node = find();
    if (node) node.replaceWith(fresh);
    this.showCount();
    // the buttons are gone: keep the focus on what took their place
    (fresh.querySelector(".outcome") || fresh.querySelector("button"))?.focus();
  }

  // --- notification settings ----------------------------------------------------------------

  async toggleSettings(open) {
    $("notify-settings").hidden = !open;
    $("settings-open").setAttribute("aria-expanded", String(open));
    $("settings-error").textContent = "";
    $("settings-status").textContent = "";
    if (!open) {
      $("settings-open").focus();
      return;
    }
    $("settings-title").focus();
    $("notify-settings").scrollIntoView({ block: "nearest" });
    $("settings-status").textContent = "Loading your settings…";
    try {
      this.fillForm(await this.call("/api/me/notification-settings"));
      $("settings-status").textContent = "";
    } catch (error) {
      $("settings-status").textContent = "";
      $("settings-error").textContent = `Could not load your settings: ${error.message}`;
    }
  }

  fillForm(settings) {
    this.settings = settings;
    for (const [name, on] of Object.entries(settings.channels || {})) {
      const box = $(`channel-${name}`);
      if (box) box.checked = Boolean(on);
    }
    $("marketing-consent").checked = Boolean(settings.marketing_consent);
    $("quiet-start").value = clock(settings.quiet_start);
    $("quiet-end").value = clock(settings.quiet_end);
    this.zones(settings.timezone);
    $("large-over").value = settings.large_purchase_over ?? "";
    $("low-under").value = settings.low_balance_under ?? "";
  }

  /** The time zone choices: every zone this browser knows, and the customer's own. */
  zones(current) {
    const select = $("timezone");
    if (!select.options.length) {
      let names = [];
      try { names = Intl.supportedValuesOf("timeZone"); } catch { names = []; }
      const local = Intl.DateTimeFormat().resolvedOptions().timeZone;
      const all = [...new Set(["America/New_York", local, ...names, "UTC"].filter(Boolean))].sort();
      fill(select, all.map((zone) => el("option", { value: zone }, zone.replaceAll("_", " "))));
    }
    if (current && ![...select.options].some((o) => o.value === current)) {
      select.append(el("option", { value: current }, current.replaceAll("_", " ")));
    }
    select.value = current || "America/New_York";
  }

  /** What the form says that differs from the settings last heard from the server. */
  changes() {
    const was = this.settings || {};
    const out = {};
    const channels = {};
    for (const name of Object.keys(CHANNELS)) {
      const on = $(`channel-${name}`).checked;
      if (on !== Boolean((was.channels || {})[name])) channels[name] = on;
    }
    if (Object.keys(channels).length) out.channels = channels;
    if ($("marketing-consent").checked !== Boolean(was.marketing_consent)) {
      out.marketing_consent = $("marketing-consent").checked;
    }
    for (const [key, id] of [["quiet_start", "quiet-start"], ["quiet_end", "quiet-end"]]) {
      const value = $(id).value || null;
      if (value !== (was[key] || null)) out[key] = value;
    }
    if ($("timezone").value && $("timezone").value !== was.timezone) {
      out.timezone = $("timezone").value;
    }
    for (const [key, id] of [["large_purchase_over", "large-over"],
      ["low_balance_under", "low-under"]]) {
      const value = $(id).value.trim() || null;
      if (value !== (was[key] ?? null)) out[key] = value;
    }
    return out;
  }

  async save() {
    const status = $("settings-status");
    const problem = $("settings-error");
    status.textContent = "";
    problem.textContent = "";
    if (!this.settings) {
      problem.textContent = "Your settings have not loaded yet; close this and try again.";
      return;
    }
    const body = this.changes();
    if (!Object.keys(body).length) {
      status.textContent = "Nothing to save: you have not changed anything.";
      return;
    }
    const button = $("settings-form").querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const saved = await this.patch(body);
      this.fillForm(saved);
      status.textContent = `Saved. ${this.summary(saved)}`;
    } catch (error) {
      problem.textContent = `Not saved: ${error.message}`;
    } finally {
      button.disabled = false;
    }
  }

  /** PATCH the settings; a refusal's message is the server's, in the form's words. */
  async patch(body) {
    const response = await fetch("/api/me/notification-settings", {
      method: "PATCH",
      headers: { accept: "application/json", "content-type": "application/json",
        authorization: `Bearer ${this.token}` },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => null);
    if (response.ok) return data;
    if (response.status === 401) this.onUnauthorized();
    const detail = data && data.detail;
    const message = typeof detail === "string" ? humane(detail)
      : Array.isArray(detail) ? detail.map((d) => {
        const field = Array.isArray(d.loc) ? d.loc.filter((p) => p !== "body").join(" ") : "";
        return humane(`${field ? `${field}: ` : ""}${d.msg || "not accepted"}`);
      }).join("; ")
        : `the bank did not accept it (${response.status})`;
    throw new ApiError(response.status, message);
  }

  /** The settings the server now holds, in a sentence or three. */
  summary(s) {
    const on = Object.entries(s.channels || {}).filter(([, v]) => v)
      .map(([name]) => CHANNELS[name] || name);
    const quiet = s.quiet_start && s.quiet_end ? `${s.quiet_start}–${s.quiet_end}`
      : s.quiet_start ? `from ${s.quiet_start}` : s.quiet_end ? `until ${s.quiet_end}` : "none";
    return [
      `Charges over: ${s.large_purchase_over ? money(s.large_purchase_over) : "our judgement"}.`,
      `Balance under: ${amountText(s.low_balance_under)}.`,
      `Quiet hours: ${quiet} (${String(s.timezone || "").replaceAll("_", " ")}).`,
      on.length ? `We reach you ${on.length > 1 ? `${on.slice(0, -1).join(", ")} and ` : ""}`
        + `${on.at(-1)}.` : "We do not reach you on any channel.",
      s.marketing_consent ? "Offers and news: yes." : "Offers and news: no.",
    ].join(" ");
  }
}
