// The customer page: sign in, then the chat beside the personalised dashboard, with the inbox,
// notification toasts and notification settings (inbox.js) in reach from the header.

import { ApiError, api, every, pick, session, signIn } from "./common.js";
import { Chat } from "./chat.js";
import { renderDashboard } from "./dashboard.js";
import { Notifications } from "./inbox.js";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 5000;
let chat = null;
let stopPolling = null;
const inbox = new Notifications({
  onUnauthorized: () => signedOut("Your session has ended. Please sign in again."),
});

function signedOut(message = "") {
  if (chat) chat.close();
  if (stopPolling) stopPolling();
  inbox.stop();
  chat = null;
  stopPolling = null;
  session.drop("token", "thread", "chat", "greeted", "name");
  $("chat-log").replaceChildren();
  $("workspace").hidden = true;
  $("who").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("sign-in-error").textContent = message;
  $("username").focus();
}

const respond = (code, response, option = null) => api(
  `/api/me/recommendations/${encodeURIComponent(code)}/response`,
  { method: "POST", body: option ? { response, option } : { response }, token: session.get("token") },
);

async function notifications(token) {
  try {
    const data = await api("/api/me/notifications", { token });
    return Array.isArray(data) ? data : (data && (data.notifications || data.items)) || [];
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) throw error;
    return [];
  }
}

/**
 * Greet once per session and show the most useful insight before the customer asks. Both open
 * the conversation: the customer may have asked (and been answered) before the dashboard came.
 */
async function greet(dashboard, token) {
  if (!chat || session.get("greeted")) return;
  session.set("greeted", "yes");
  const name = dashboard.first_name ? `, ${dashboard.first_name}` : "";
  chat.addOpening({ kind: "assistant", text: `Hi${name}! Ask me about your balances, spending `
    + "or bills, or ask me to move money or pay someone — I'll always check with you first." });
  const notes = await notifications(token);
  if (!chat) return;
  const first = notes[0] || (dashboard.insights || [])[0];
  if (first) {
    chat.addInsight(pick(first, "message", "body", "text") || "",
      pick(first, "title", "severity") || "Insight", { opening: true });
  }
}

async function refresh() {
  const token = session.get("token");
  if (!token) return;
  try {
    const data = await api("/api/me/dashboard", { token });
    renderDashboard(data, { respond });
    if (data.first_name && !session.get("name")) {
      session.set("name", data.first_name);
      $("who").textContent = `Signed in as ${data.first_name}`;
    }
    await greet(data, token);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      signedOut("Your session has ended. Please sign in again.");
      return;
    }
    $("dash-updated").textContent = `Could not refresh: ${error.message}`;
  }
}

function start(token) {
  $("sign-in").hidden = true;
  $("workspace").hidden = false;
  $("who").hidden = false;
  $("who").textContent = session.get("name") ? `Signed in as ${session.get("name")}` : "Signed in";
  $("sign-out").hidden = false;
  chat = new Chat({
    log: $("chat-log"),
    status: $("chat-status"),
    token,
    respond,
    onRunFinished: () => refresh(),
    onUnauthorized: () => signedOut("Your session has ended. Please sign in again."),
  });
  chat.connect();
  inbox.start(token);
  stopPolling = every(REFRESH_MS, refresh);
  $("chat-input").focus();
}

$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const button = form.querySelector("button");
  button.disabled = true;
  $("sign-in-error").textContent = "";
  try {
    const answer = await signIn($("username").value, $("password").value);
    if (answer.role && answer.role !== "customer") {
      $("sign-in-error").textContent = "This is the customer page: advisors sign in at /advisor.";
      return;
    }
    session.set("token", answer.access_token);
    form.reset();
    start(answer.access_token);
  } catch (error) {
    $("sign-in-error").textContent = error.message;
  } finally {
    button.disabled = false;
  }
});

$("chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("chat-input").value.trim();
  if (!text || !chat) return;
  chat.say(text);
  $("chat-input").value = "";
});

$("sign-out").addEventListener("click", () => signedOut());

const saved = session.get("token");
if (saved) start(saved);
