// Small helpers shared by the customer page and the advisor console.
// Everything the server sends is put on the page as text (never as HTML).

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Create an element: el("p", {class: "x"}, "text", child, ...). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** A session kept for this browser tab only. */
export const session = {
  get(key) { return sessionStorage.getItem(`concierge.${key}`); },
  set(key, value) { sessionStorage.setItem(`concierge.${key}`, value); },
  drop(...keys) { keys.forEach((k) => sessionStorage.removeItem(`concierge.${k}`)); },
};

/** Call a JSON route with the signed-in token; throws ApiError on a non-2xx answer. */
export async function api(path, { method = "GET", body, token } = {}) {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = data && data.detail;
    const message = typeof detail === "string" ? detail : `request failed (${response.status})`;
    throw new ApiError(response.status, message);
  }
  return data;
}

/** Sign in; resolves to the token response ({access_token, role, customer_id, ...}). */
export function signIn(username, password) {
  return api("/api/auth/token", { method: "POST", body: { username, password } });
}

// The customer's locale, as the dashboard reports it: the server writes amounts in replies and
// insights with the same CLDR data (Babel), so a page and a chat reply write an amount alike.
let moneyLocale = "en-US";

/** Write amounts for this locale from now on (e.g. "en-US"); an unknown one is ignored. */
export function setMoneyLocale(locale) {
  try {
    new Intl.NumberFormat(locale);
    moneyLocale = locale || moneyLocale;
  } catch {
    /* keep the one we have */
  }
}

/** "1234.5" in USD -> "$1,234.50" (in the customer's locale). Amounts arrive as decimal strings. */
export function money(amount, currency = "USD") {
  const value = Number(amount);
  if (amount === null || amount === undefined || Number.isNaN(value)) return "—";
  try {
    return new Intl.NumberFormat(moneyLocale, { style: "currency", currency }).format(value);
  } catch {
    return `${currency}\u00a0${value.toFixed(2)}`;
  }
}

/** An ISO date or timestamp as "Mar 2". */
export function shortDate(iso) {
  if (!iso) return "";
  const when = new Date(iso.length === 10 ? `${iso}T12:00:00` : iso);
  if (Number.isNaN(when.getTime())) return String(iso);
  return when.toLocaleDateString("en-US", { month: "short", day: "numeric" });
}

/** The first of several possibly-present fields, for records whose shape may grow. */
export function pick(record, ...keys) {
  for (const key of keys) {
    if (record && record[key] !== undefined && record[key] !== null && record[key] !== "") {
      return record[key];
    }
  }
  return undefined;
}

/** A random id that works outside secure contexts too. */
export function newId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Replace a container's children. */
export function fill(container, ...children) {
  container.replaceChildren(...children.flat().filter(Boolean));
}

/** Run fn now and every `ms`, never overlapping; returns a stop function. */
export function every(ms, fn) {
  let timer = null;
  let stopped = false;
  const tick = async () => {
    try { await fn(); } catch (error) { console.warn(error); }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}
