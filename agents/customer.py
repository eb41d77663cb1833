"""The customer's context for a conversation, built from their own records each run.

Reading the records costs about ten queries; a :class:`ContextCache` on the bank keeps the
facts between a customer's turns while their :func:`~services.insights.cache.revision` (newest
booking, event and executed write) is unchanged, for at most ``max_age_s`` and never past
midnight. A write in the conversation (or a booking, or an event) therefore shows in the very
next turn; a change the bank makes that books nothing (a new payee from the core system) shows
within ``max_age_s``. The next best action is decided afresh every run (its cache is the
recommender's own), since showing an offer changes what may be shown next.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import SQLModel

from agents.context import Account, Card, CustomerContext, Named
from agents.offline.replies import money
from services.fresh_cache import FreshCache
from services.insights import for_customer
from services.insights.cache import revision
from services.money import to_decimal
from services.reads import records as queries
from services.recommendations.reasons import customer_why
from tools.refs import ref
from tools.runtime import ChatContext

MERCHANT_DAYS = 90
WORTH_SAYING = ("critical", "warning")


def _offer(run: ChatContext) -> dict[str, Any] | None:
    recommender = run.bank.recommender
    if recommender is None:
        return None
    found = recommender.decide(
        run.person_id, now=run.now, level=run.bank.level, k=1, channel="chat_line"
    )
    if not found:
        return None
    best = found[0]
    return {
        "code": best.code,
        "title": best.title,
        "body": best.body,
        "why": customer_why(best.reasons),
        "options": [{"code": code, "label": label} for code, label in best.options],
    }


def _insight(conn: object, run: ChatContext) -> dict[str, str] | None:
    found = [
        i
        for i in for_customer(run.bank.insights_of(conn, person_id=run.person_id, now=run.now))
        if i.severity in WORTH_SAYING
    ]
    return {"type": found[0].type, "message": found[0].message} if found else None


def _describe(row: dict[str, object]) -> str:
    target = row.get("payee_name") or row.get("to_name") or "another account"
    cadence = row.get("cadence") or "once"
    currency = str(row.get("currency") or "USD")
    amount = money(to_decimal(int(str(row.get("amount_minor") or 0)), currency), currency)
    return f"{amount} to {target} from {row.get('from_name')} ({cadence})"


class ContextCache(FreshCache[CustomerContext]):
    """Customers' contexts (without the offer) between turns, while their records are unchanged."""


def customer_context(run: ChatContext) -> CustomerContext:
    """The signed-in customer's names for things, as of this run (see the module docstring)."""
    cache: ContextCache | None = run.bank.contexts
    with run.bank.read() as conn:
        mark = revision(conn, person_id=run.person_id) if cache is not None else ()
        found = cache.get(run.person_id, mark, run.now) if cache is not None else None
        if found is None:
            found = _read(conn, run)
            if cache is not None:
                cache.put(run.person_id, mark, run.now, found)
    return replace(found, today=run.now.date(), offer=_offer(run))


def _read(conn: Any, run: ChatContext) -> CustomerContext:
    person = SQLModel.metadata.tables["person"]
    first = conn.execute(
        select(person.c.first_name).where(person.c.id == run.person_id)
    ).scalar_one_or_none()
    if first is None:
        raise LookupError("the signed-in customer no longer exists")
    accounts = queries.accounts(conn, person_id=run.person_id)
    payees = queries.payees(conn, person_id=run.person_id)
    cards = queries.cards(conn, person_id=run.person_id)
    scheduled = queries.scheduled(conn, person_id=run.person_id)
    goals = queries.goals(conn, person_id=run.person_id)
    closed = queries.closed_accounts(conn, person_id=run.person_id)
    since = run.now - timedelta(days=MERCHANT_DAYS)
    merchants = queries.merchants(conn, person_id=run.person_id, since=since)
    insight = _insight(conn, run)
    return CustomerContext(
        first_name=str(first),
        today=run.now.date(),
        accounts=tuple(
            Account(
                ref("acc", a["id"]),
                a["type"],
                a["name"],
                a["last4"],
                int(a["balance_minor"]),
                a["currency"],
            )
            for a in accounts
        ),
        payees=tuple(Named(ref("payee", p["id"]), p["name"]) for p in payees),
        cards=tuple(Card(ref("card", c["id"]), c["type"], c["last4"], c["status"]) for c in cards),
        scheduled=tuple(Named(ref("sched", s["id"]), _describe(s)) for s in scheduled),
        goals=tuple(Named(ref("goal", g["id"]), g["name"]) for g in goals),
        closed=tuple(Named(ref("acc", c["id"]), c["name"]) for c in closed),
        merchants=tuple(merchants),
        currency=accounts[0]["currency"] if accounts else "USD",
        insight=insight,
    )
