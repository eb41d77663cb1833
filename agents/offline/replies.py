"""Answers in plain words from tool results: every figure comes from the result, none is made up.

Tools return JSON objects (see ``tools/``); each read tool has a renderer here, writes share one
(``status`` done or refused with a ``summary`` or ``reason``), and anything with an ``error``
says so. Knowledge answers quote the best passage and cite the article ids they used.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from services.money import display_money

MAX_ROWS = 8


def money(amount: Any, currency: str = "USD") -> str:
    """``$1,400.00`` or ``CHF\u00a01,400.00`` from a decimal string; the text itself if not one.

    Tool results carry decimal strings; replies show them to the cent whatever the currency,
    in the one customer-facing format (``services.money.display_money``).
    """
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    if not value.is_finite():
        return str(amount)
    cents = int(value.scaleb(2).to_integral_value(ROUND_HALF_EVEN))
    return display_money(cents, currency, places=2)


def _accounts(r: dict[str, Any]) -> str:
    rows = r.get("accounts", [])
    if not rows:
        return "I couldn't find any open accounts."
    lines = [
        f"- {a['name']} (…{a.get('last4', '')}): {money(a['balance'], a.get('currency', 'USD'))}"
        for a in rows
    ]
    return "Here are your balances:\n" + "\n".join(lines)


def _transactions(r: dict[str, Any]) -> str:
    if r.get("summary"):
        return _merchant(r["summary"], r.get("transactions", []))
    rows = r.get("transactions", [])
    if not rows:
        return "I didn't find any transactions matching that."
    lines = [
        f"- {t['date']}: {t.get('merchant') or t.get('description', '')} "
        f"{money(t['amount'], t.get('currency', 'USD'))}"
        for t in rows[:MAX_ROWS]
    ]
    more = f"\n…and {len(rows) - MAX_ROWS} more." if len(rows) > MAX_ROWS else ""
    return (
        f"I found {len(rows)} transaction{'s' if len(rows) != 1 else ''}:\n"
        + "\n".join(lines)
        + more
    )


def day(value: str) -> str:
    """``May 3, 2026`` from an ISO date; the text itself if it is not one."""
    try:
        when = date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{when:%B} {when.day}, {when.year}"


def _span(start: str | None, end: str | None) -> str:
    if start and end:
        return f" on {day(start)}" if start == end else f" from {day(start)} to {day(end)}"
    return ""


def _merchant(s: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """One merchant: how many payments, how much in all, the latest (and refunds, if any)."""
    currency = s.get("currency", "USD")
    name, count, span = s.get("merchant") or "that merchant", int(s.get("payments", 0)), ""
    span = _span(s.get("start"), s.get("end"))
    if not count:
        text = f"I didn't find any payments to {name}{span}."
    else:
        times = "once" if count == 1 else f"{count} times"
        text = f"You paid {name} {times}{span}, {money(s['spent'], currency)} in all."
        if last := s.get("last_payment"):
            latest = "That was" if count == 1 else "The last one was"
            text += f" {latest} {money(last['amount'], currency)} on {day(last['date'])}."
    if int(s.get("refunds", 0)):
        text += (
            f" {name} also paid you back {money(s['refunded'], currency)}"
            f" ({s['refunds']} refund{'s' if int(s['refunds']) != 1 else ''})."
        )
    shown = [t for t in rows if t.get("merchant")][:MAX_SHOWN]
    if count > 1 and shown:
        text += "\nMost recent:\n" + "\n".join(
            f"- {day(t['date'])}: {money(t['amount'], t.get('currency', currency))}" for t in shown
        )
    return text


MAX_SHOWN = 5


def _income(r: dict[str, Any]) -> str:
    """Income over a period: the total and each payment, the latest first."""
    currency = r.get("currency", "USD")
    rows = r.get("payments", [])
    span = _span(r.get("start"), r.get("end"))
    if not rows:
        return f"I didn't find any income paid into your accounts{span}."
    last = rows[0]
    text = (
        f"Your last pay was {money(last['amount'], last.get('currency', currency))} from "
        f"{last['from']} on {day(last['date'])}, into {last['account']}."
    )
    count = int(r.get("count", len(rows)))
    text += (
        f" In all you received {money(r['total'], currency)}{span}"
        f" ({count} payment{'s' if count != 1 else ''})."
    )
    if count > 1:
        text += "\n" + "\n".join(
            f"- {day(p['date'])}: {money(p['amount'], p.get('currency', currency))} from "
            f"{p['from']}"
            for p in rows[:MAX_ROWS]
        )
    return text


def _spending(r: dict[str, Any]) -> str:
    currency = r.get("currency", "USD")
    head = f"From {r['start']} to {r['end']} you spent {money(r['total'], currency)}"
    parts = [f"{c['category']} {money(c['amount'], currency)}" for c in r.get("by_category", [])]
    return head + (": " + ", ".join(parts[:MAX_ROWS]) + "." if parts else ".")


def _bills(r: dict[str, Any]) -> str:
    rows = r.get("bills", [])
    if not rows:
        return "You have no bills due in the next few days."
    lines = [
        f"- {b['merchant']} {money(b['amount'], b.get('currency', 'USD'))} on {b['due']}"
        for b in rows
    ]
    return "Coming up:\n" + "\n".join(lines)


def _insights(r: dict[str, Any]) -> str:
    rows = r.get("insights", [])
    if not rows:
        return "Nothing unusual stands out in your accounts right now."
    return "A few things worth knowing:\n" + "\n".join(f"- {i['message']}" for i in rows)


def _offers(r: dict[str, Any]) -> str:
    rows = r.get("recommendations", [])
    if not rows:
        return "I don't have anything to suggest right now."
    lines = []
    for o in rows:
        why = f" {o['why']}" if o.get("why") else ""
        lines.append(f"- **{o['title']}**: {o['body']}{why}")
    return "Here's what I'd suggest:\n" + "\n".join(lines)


def _goals(r: dict[str, Any]) -> str:
    rows = r.get("goals", [])
    if not rows:
        return "You don't have any savings goals yet — want to start one?"
    lines = [
        f"- {g['name']}: {money(g['saved'], g.get('currency', 'USD'))} of "
        f"{money(g['target'], g.get('currency', 'USD'))}"
        for g in rows
    ]
    return "Your goals:\n" + "\n".join(lines)


def _knowledge(r: dict[str, Any]) -> str:
    hits = r.get("hits", [])
    if not hits:
        return "I couldn't find that in our help articles. Shall I connect you with an advisor?"
    best = hits[0]
    cited = ", ".join(h["article_id"] for h in hits[:2])
    return f"{best['passage']}\n\n(From our help articles: {cited})"


def _handoff(r: dict[str, Any]) -> str:
    if r.get("status") in ("declined", "refused"):
        return _write(r)  # nothing was passed on: say so, never claim a case
    case = r.get("case")
    suffix = f" Your case number is {case}." if case else ""
    return "I've passed our conversation to an advisor, so you won't need to repeat yourself." + (
        suffix
    )


def _write(r: dict[str, Any]) -> str:
    if r.get("status") == "refused":
        return f"I couldn't do that: {r.get('reason', 'it was refused')}. Nothing was changed."
    if r.get("status") == "declined":
        return "OK, I haven't done anything."
    return str(r.get("summary") or "Done.")


def _cards(r: dict[str, Any]) -> str:
    rows = r.get("cards", [])
    if not rows:
        return "You don't have any cards with us."
    return "Your cards:\n" + "\n".join(
        f"- {c['type']} card ending {c['last4']}: {c['status']}" for c in rows
    )


def _scheduled(r: dict[str, Any]) -> str:
    rows = r.get("scheduled", [])
    if not rows:
        return "You have nothing scheduled."
    return "Scheduled:\n" + "\n".join(
        f"- {money(s['amount'])} to {s['to']} ({s['every']}), next {s['next']}" for s in rows
    )


def _explain(r: dict[str, Any]) -> str:
    because = r.get("because") or []
    if not because:
        return f"I suggested {r['title']} because it fits how you use your accounts."
    return f"I suggested {r['title']} because " + " and ".join(because) + "."


def _profile(r: dict[str, Any]) -> str:
    held = ", ".join(p["name"] for p in r.get("products", []))
    return f"You're with us as {r['name']}; your accounts: {held}."


RENDER: dict[str, Callable[[dict[str, Any]], str]] = {
    "get_cards": _cards,
    "get_scheduled": _scheduled,
    "explain_recommendation": _explain,
    "get_profile_summary": _profile,
    "get_accounts": _accounts,
    "search_transactions": _transactions,
    "spending_summary": _spending,
    "income_summary": _income,
    "upcoming_bills": _bills,
    "get_insights": _insights,
    "get_recommendations": _offers,
    "get_goals": _goals,
    "search_knowledge": _knowledge,
    "handoff": _handoff,
}


def render(tool: str, content: str | dict[str, Any]) -> str:
    """The customer-facing answer for ``tool``'s result."""
    try:
        result = json.loads(content) if isinstance(content, str) else dict(content)
    except (json.JSONDecodeError, TypeError, ValueError):
        return str(content)
    if not isinstance(result, dict):
        return str(content)
    if result.get("error"):
        return f"Sorry — {result['error']}"
    try:
        return RENDER.get(tool, _write)(result)
    except (KeyError, TypeError):
        return str(result.get("message") or result.get("summary") or "Done.")


def render_balance(content: str, ref: str) -> str | None:
    """One account's balance from a ``get_accounts`` result, or None if it is not listed."""
    try:
        rows = json.loads(content).get("accounts", [])
    except (json.JSONDecodeError, AttributeError):
        return None
    for a in rows:
        if a.get("ref") == ref:
            amount = money(a["balance"], a.get("currency", "USD"))
            return f"Your {a['name']} (…{a.get('last4', '')}) balance is {amount}."
    return None
