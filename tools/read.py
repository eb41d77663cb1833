"""Read tools: the customer's own data, their insights and offers, and the bank's knowledge.

Each tool is typed, its docstring is its schema, and it takes the customer from the run's context
(``runtime.context.person_id``) — there is no argument that could name another customer. Results are
JSON objects with money as decimal strings; ``agents.offline.replies`` puts them in words, and an
LLM reads them as they are.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from langchain_core.tools import BaseTool, tool

from services.insights import INSIGHT_COPY, for_customer
from services.money import format_money, to_minor
from services.reads import records as queries
from services.recommendations.reasons import customer_reasons, customer_why
from tools.bank import KnowledgeSearch
from tools.refs import ref
from tools.runtime import Runtime


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, default=str)


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} must be a date like 2026-11-28, not {value!r}") from None


@tool
def get_accounts(runtime: Runtime) -> str:
    """List the customer's open accounts with their balances."""
    ctx = runtime.context
    with ctx.bank.read() as conn:
        rows = queries.accounts(conn, person_id=ctx.person_id)
    return _json(
        {
            "accounts": [
                {
                    "ref": ref("acc", r["id"]),
                    "name": r["name"],
                    "type": r["type"],
                    "last4": r["last4"],
                    "balance": format_money(r["balance_minor"], r["currency"], plain=True),
                    "currency": r["currency"],
                }
                for r in rows
            ]
        }
    )


@tool
def search_transactions(
    runtime: Runtime,
    merchant: str = "",
    category: str = "",
    start: str = "",
    end: str = "",
    amount: str = "",
    text: str = "",
) -> str:
    """Find the customer's transactions, newest first.

    Args:
        runtime: Injected by the graph: the customer and the bank (not the model's to fill).
        merchant: Exact merchant name, e.g. "Amazon".
        category: A spending category, e.g. "dining".
        start: First day, YYYY-MM-DD.
        end: Last day, YYYY-MM-DD.
        amount: An exact amount, e.g. "54.99" (either sign).
        text: Words to look for in the description or merchant.
    """
    ctx = runtime.context
    exact = to_minor(amount, "USD") if amount else None
    query = queries.TransactionQuery(
        merchant=merchant or None,
        category=category or None,
        start=_day(start, "start"),
        end=_day(end, "end"),
        min_minor=exact,
        max_minor=exact,
        text=text or None,
    )
    with ctx.bank.read() as conn:
        rows = queries.search_transactions(conn, person_id=ctx.person_id, query=query)
        totals = (
            queries.transaction_totals(conn, person_id=ctx.person_id, query=query)
            if merchant or text
            else None
        )
    answer: dict[str, Any] = {
        "transactions": [
            {
                "ref": ref("txn", r["id"]),
                "date": r["booked_at"].date().isoformat(),
                "merchant": r["merchant"] or r["description"],
                "amount": format_money(r["amount_minor"], r["currency"], plain=True),
                "currency": r["currency"],
                "category": r["category"],
                "account": r["account_name"],
            }
            for r in rows
        ]
    }
    if totals is not None:
        answer["summary"] = _summary(query, totals, rows)
    return _json(answer)


def _summary(
    query: queries.TransactionQuery,
    totals: list[dict[str, Any]],
    rows: list[dict[str, Any]],
) -> dict[str, Any]:
    """One merchant's figures over every match, not only the rows listed.

    How many payments and how much in all, refunds apart, and the latest payment.
    """
    main = max(totals, key=lambda t: (t["debits"], t["credits"]), default=None)
    currency = main["currency"] if main else "USD"
    last = next((r for r in rows if r["amount_minor"] < 0 and r["currency"] == currency), None)
    return {
        # the name as the customer's own rows have it; never the argument echoed back
        "merchant": next((r["merchant"] for r in rows if r["merchant"]), None),
        "start": query.start.isoformat() if query.start else None,
        "end": query.end.isoformat() if query.end else None,
        "currency": currency,
        "payments": main["debits"] if main else 0,
        "spent": format_money(main["debited"] if main else 0, currency, plain=True),
        "refunds": main["credits"] if main else 0,
        "refunded": format_money(main["credited"] if main else 0, currency, plain=True),
        "last_payment": {
            "date": last["booked_at"].date().isoformat(),
            "amount": format_money(-last["amount_minor"], currency, plain=True),
        }
        if last
        else None,
    }


@tool
def income_summary(runtime: Runtime, start: str = "", end: str = "") -> str:
    """The customer's income (pay, benefits) over a period: total, each payment, the latest.

    Money in only: moves between the customer's own accounts, refunds and interest are not
    income. Without dates, the last three months.

    Args:
        runtime: Injected by the graph: the customer and the bank (not the model's to fill).
        start: First day, YYYY-MM-DD.
        end: Last day, YYYY-MM-DD.
    """
    ctx = runtime.context
    today = ctx.now.date()
    last = _day(end, "end") or today
    first = _day(start, "start") or last - timedelta(days=INCOME_DAYS)
    if first > last:
        raise ValueError("the period starts after it ends")
    with ctx.bank.read() as conn:
        rows = queries.income(conn, person_id=ctx.person_id, start=first, end=last)
    currencies: dict[str, int] = {}
    for r in rows:
        currencies[r["currency"]] = currencies.get(r["currency"], 0) + int(r["amount_minor"])
    currency = rows[0]["currency"] if rows else "USD"
    payments = [
        {
            "date": r["booked_at"].date().isoformat(),
            "from": r["merchant"] or r["counterparty"] or r["description"],
            "amount": format_money(r["amount_minor"], r["currency"], plain=True),
            "currency": r["currency"],
            "account": r["account_name"],
        }
        for r in rows
    ]
    return _json(
        {
            "start": first.isoformat(),
            "end": last.isoformat(),
            "total": format_money(currencies.get(currency, 0), currency, plain=True),
            "currency": currency,
            "count": len(rows),
            "payments": payments,
        }
    )


# The period income_summary covers when none is given (about three months)
INCOME_DAYS = 91


@tool
def spending_summary(runtime: Runtime, start: str = "", end: str = "", category: str = "") -> str:
    """Sum the customer's spending by category over a period (this month by default).

    Moves between the customer's own accounts, card-bill payments and money sent to other banks
    are not spending; a business's payroll and suppliers come apart, as business_outgoings.

    Args:
        runtime: Injected by the graph: the customer and the bank (not the model's to fill).
        start: First day, YYYY-MM-DD.
        end: Last day, YYYY-MM-DD.
        category: Only this category.
    """
    ctx = runtime.context
    today = ctx.now.date()
    first = _day(start, "start") or today.replace(day=1)
    last = _day(end, "end") or today
    if first > last:
        raise ValueError("the period starts after it ends")
    with ctx.bank.read() as conn:
        found = queries.spending_summary(
            conn, person_id=ctx.person_id, start=first, end=last, category=category or None
        )
    business = found["business_outgoings"]
    rows = found["by_category"] or business["by_category"]
    currency = rows[0]["currency"] if rows else "USD"
    answer: dict[str, Any] = {
        "start": first.isoformat(),
        "end": last.isoformat(),
        "total": format_money(found["total_minor"], currency, plain=True),
        "currency": currency,
        "by_category": _amounts(found["by_category"]),
    }
    if business["by_category"]:
        # Payroll, suppliers and the business account's other costs: not personal spending.
        answer["business_outgoings"] = {
            "total": format_money(business["total_minor"], currency, plain=True),
            "by_category": _amounts(business["by_category"]),
        }
    return _json(answer)


def _amounts(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {"category": r["category"], "amount": format_money(r["spent"], r["currency"], plain=True)}
        for r in rows
    ]


@tool
def upcoming_bills(runtime: Runtime, days: int = 14) -> str:
    """Bills and subscriptions due soon.

    Args:
        runtime: Injected by the graph: the customer and the bank (not the model's to fill).
        days: How many days ahead to look (1 to 60).
    """
    ctx = runtime.context
    days = max(1, min(int(days), 60))
    with ctx.bank.read() as conn:
        rows = queries.upcoming_bills(
            conn, person_id=ctx.person_id, today=ctx.now.date(), days=days
        )
    return _json(
        {
            "bills": [
                {
                    "merchant": r["merchant"],
                    "amount": format_money(-r["amount_minor"], r["currency"], plain=True),
                    "currency": r["currency"],
                    "due": r["next_date"].isoformat(),
                }
                for r in rows
            ]
        }
    )


@tool
def get_goals(runtime: Runtime) -> str:
    """The customer's savings goals and how far along they are."""
    ctx = runtime.context
    with ctx.bank.read() as conn:
        rows = queries.goals(conn, person_id=ctx.person_id)
    return _json(
        {
            "goals": [
                {
                    "ref": ref("goal", r["id"]),
                    "name": r["name"],
                    "saved": format_money(r["saved_minor"], r["currency"], plain=True),
                    "target": format_money(r["target_minor"], r["currency"], plain=True),
                    "currency": r["currency"],
                }
                for r in rows
            ]
        }
    )


@tool
def get_insights(runtime: Runtime) -> str:
    """Anything unusual or worth knowing in the customer's accounts right now."""
    ctx = runtime.context
    with ctx.bank.read() as conn:
        found = for_customer(ctx.bank.insights_of(conn, person_id=ctx.person_id, now=ctx.now))
    return _json(
        {
            "insights": [
                {
                    "type": i.type,
                    "title": INSIGHT_COPY[i.type].title,
                    "severity": i.severity,
                    "message": i.message,
                    "evidence": list(i.evidence),
                }
                for i in found
            ]
        }
    )


def _customer_offers(ctx: Any, found: list[Any]) -> list[dict[str, Any]]:
    """Offers as the customer may read them: copy, choices and reasons in words, never codes."""
    with ctx.bank.read() as conn:
        insights = for_customer(ctx.bank.insights_of(conn, person_id=ctx.person_id, now=ctx.now))
    by_type = {i.type: i for i in insights}
    return [
        {
            "code": r.code,
            "title": r.title,
            "body": r.body,
            "options": [{"code": c, "label": label} for c, label in r.options],
            "why": customer_why(r.reasons, insights=by_type),
            "because": customer_reasons(r.reasons, insights=by_type),
        }
        for r in found
    ]


@tool
def get_recommendations(runtime: Runtime) -> str:
    """The next best actions for the customer, each with the reasons behind it."""
    ctx = runtime.context
    recommender = ctx.bank.recommender
    if recommender is None:
        return _json({"recommendations": []})
    found = recommender.decide(
        ctx.person_id, now=ctx.now, level=ctx.bank.level, k=3, channel="chat_line"
    )
    return _json({"recommendations": _customer_offers(ctx, found)})


# Articles the chat's knowledge answer carries, best first (``concierge eval knowledge`` scores
# hit@1 and hit@3 over exactly these)
KNOWLEDGE_HITS = 3


def knowledge_answer(knowledge: KnowledgeSearch | None, query: str) -> dict[str, Any]:
    """What ``search_knowledge`` answers for ``query``: the articles found with their passages.

    The knowledge base's own ranking with its defaults (meaning blended with its question
    model); ``concierge eval knowledge`` measures this very function.
    """
    if knowledge is None:
        return {"hits": []}
    hits = knowledge.search(query, k=KNOWLEDGE_HITS)
    return {
        "hits": [{"article_id": h.article_id, "title": h.title, "passage": h.passage} for h in hits]
    }


@tool
def search_knowledge(runtime: Runtime, query: str) -> str:
    """Search the bank's help articles; answers cite the article ids.

    Args:
        runtime: Injected by the graph: the customer and the bank (not the model's to fill).
        query: The customer's question in their own words.
    """
    return _json(knowledge_answer(runtime.context.bank.knowledge, query))


@tool
def get_profile_summary(runtime: Runtime) -> str:
    """Who the customer is with the bank: their products, income and spending, goals."""
    from services.reads.profiles import load_profile

    ctx = runtime.context
    with ctx.bank.read() as conn:
        profile = load_profile(conn, person_id=ctx.person_id, now=ctx.now)
    return _json(
        {
            "name": profile.name,
            "products": [
                {
                    "type": p.type,
                    "name": p.name,
                    "balance": format_money(p.balance_minor, p.currency, plain=True),
                }
                for p in profile.products
            ],
            "income_30d": format_money(profile.income_minor.get("30d", 0), plain=True),
            "spending_30d": format_money(profile.spending_minor.get("30d", 0), plain=True),
            "goals": [g.name for g in profile.goals],
        }
    )


@tool
def get_cards(runtime: Runtime) -> str:
    """The customer's cards and whether each is active, frozen, lost or stolen."""
    ctx = runtime.context
    with ctx.bank.read() as conn:
        rows = queries.cards(conn, person_id=ctx.person_id)
    return _json(
        {
            "cards": [
                {
                    "ref": ref("card", r["id"]),
                    "type": r["type"],
                    "last4": r["last4"],
                    "status": r["status"],
                    "expires": r["expires_on"].isoformat(),
                }
                for r in rows
            ]
        }
    )


@tool
def get_scheduled(runtime: Runtime) -> str:
    """The customer's scheduled transfers, payments and savings rules."""
    ctx = runtime.context
    with ctx.bank.read() as conn:
        rows = queries.scheduled(conn, person_id=ctx.person_id)
    return _json(
        {
            "scheduled": [
                {
                    "ref": ref("sched", r["id"]),
                    "kind": r["kind"],
                    "to": r["payee_name"] or r["to_name"],
                    "from": r["from_name"],
                    "amount": format_money(r["amount_minor"], r["currency"], plain=True),
                    "every": r["cadence"] or "once",
                    "next": r["next_date"].isoformat() if r["next_date"] else None,
                }
                for r in rows
            ]
        }
    )


@tool
def explain_recommendation(runtime: Runtime, code: str) -> str:
    """Why an offer or action is suggested to the customer, in their terms.

    Args:
        runtime: Injected by the graph: the customer and the bank (not the model's to fill).
        code: The recommendation's code, e.g. "high_yield_savings".
    """
    ctx = runtime.context
    recommender = ctx.bank.recommender
    found = []
    if recommender is not None:
        found = recommender.decide(ctx.person_id, now=ctx.now, level=ctx.bank.level, k=25)
    match = next((r for r in found if r.code == code), None)
    if match is None:
        return _json({"error": "that isn't one of your current recommendations"})
    offer = _customer_offers(ctx, [match])[0]
    return _json({k: offer[k] for k in ("code", "title", "why", "because")})


READ_TOOLS: list[BaseTool] = [
    get_profile_summary,
    get_cards,
    get_scheduled,
    explain_recommendation,
    get_accounts,
    search_transactions,
    spending_summary,
    income_summary,
    upcoming_bills,
    get_goals,
    get_insights,
    get_recommendations,
    search_knowledge,
]
