"""Read tools over the seeded bank: the customer's own data only, whatever the model asks."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from sqlalchemy import text

from agents.customer import customer_context
from agents.graph import compile_graph
from tests.support.scripted_model import ScriptedChatModel, call
from tools.bank import Bank
from tools.read import READ_TOOLS
from tools.runtime import ChatContext


def _now(bank) -> datetime:
    return datetime(bank.as_of.year, bank.as_of.month, bank.as_of.day, 12, tzinfo=UTC)


def _results(bank, person_id: int, script: list[AIMessage]) -> list[dict]:
    model = ScriptedChatModel(messages=iter([*script, AIMessage("done")]))
    graph = compile_graph(
        model=model,
        tools=READ_TOOLS,
        customer_context=customer_context,
        checkpointer=InMemorySaver(),
    )
    run = ChatContext(person_id=person_id, bank=Bank(bank.engine), now=_now(bank))
    out = graph.invoke(
        {"messages": [("user", "hi")]}, {"configurable": {"thread_id": "r"}}, context=run
    )
    return [json.loads(m.content) for m in out["messages"] if isinstance(m, ToolMessage)]


def _owned(bank, table: str, person_id: int, column: str = "id") -> set:
    with bank.engine.connect() as conn:
        rows = conn.execute(
            text(f"SELECT {column} FROM {table} WHERE person_id = :p"), {"p": person_id}
        )
        return {r[0] for r in rows}


@pytest.mark.parametrize("person_id", [2, 57])
def test_accounts_and_transactions_are_the_customers_own(bank, person_id: int) -> None:
    [accounts, found] = _results(
        bank,
        person_id,
        [call("get_accounts", {}, 0), call("search_transactions", {"category": "groceries"}, 1)],
    )
    mine = _owned(bank, "account", person_id)
    assert accounts["accounts"] and {int(a["ref"][4:]) for a in accounts["accounts"]} <= mine
    txns = _owned(bank, "ledger_entry", person_id)
    assert found["transactions"]
    assert all(int(t["ref"][4:]) in txns for t in found["transactions"])
    assert all(t["category"] == "groceries" for t in found["transactions"])


def test_no_argument_reaches_another_customer(bank) -> None:
    # the "model" tries every lever a read tool has: text, merchant, dates
    others = _owned(bank, "ledger_entry", 57)
    results = _results(
        bank,
        2,
        [
            call("search_transactions", {"text": "%"}, 0),
            call("search_transactions", {"merchant": "' OR 1=1 --"}, 1),
            call("spending_summary", {"start": "2000-01-01", "end": "2030-01-01"}, 2),
        ],
    )
    assert not {int(t["ref"][4:]) for t in results[0]["transactions"]} & others
    assert results[1]["transactions"] == []
    with bank.engine.connect() as conn:
        spent_by_2 = conn.execute(
            text(
                "SELECT COALESCE(SUM(-amount_minor), 0) FROM ledger_entry WHERE person_id = 2 "
                "AND amount_minor < 0 AND category NOT IN ('transfer', 'income', 'interest')"
            )
        ).scalar()
    assert results[2]["total"] == f"{spent_by_2 / 100:.2f}"


def test_bad_dates_are_a_clear_error_the_model_can_read(bank) -> None:
    model = ScriptedChatModel(
        messages=iter([call("spending_summary", {"start": "last tuesday"}, 0), AIMessage("ok")])
    )
    graph = compile_graph(
        model=model,
        tools=READ_TOOLS,
        customer_context=customer_context,
        checkpointer=InMemorySaver(),
    )
    run = ChatContext(person_id=2, bank=Bank(bank.engine), now=_now(bank))
    out = graph.invoke(
        {"messages": [("user", "x")]}, {"configurable": {"thread_id": "e"}}, context=run
    )
    [tool_message] = [m for m in out["messages"] if isinstance(m, ToolMessage)]
    assert tool_message.status == "error" and "YYYY-MM-DD" not in tool_message.content
    assert "2026-11-28" in tool_message.content  # the message says what a date looks like


def test_the_customer_context_names_only_their_records(bank) -> None:
    run = ChatContext(person_id=2, bank=Bank(bank.engine), now=_now(bank))
    ctx = customer_context(run)
    assert {int(a.ref[4:]) for a in ctx.accounts} == _owned(bank, "account", 2) - _closed(bank, 2)
    assert {int(p.ref[6:]) for p in ctx.payees} == _owned(bank, "payee", 2)
    assert ctx.first_name and ctx.today == bank.as_of


def _closed(bank, person_id: int) -> set:
    with bank.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id FROM account WHERE person_id = :p AND status = 'closed'"),
            {"p": person_id},
        )
        return {r[0] for r in rows}


def test_profile_cards_and_schedules_are_the_customers_own(bank) -> None:
    profile, cards, scheduled = _results(
        bank,
        2,
        [
            call("get_profile_summary", {}, 0),
            call("get_cards", {}, 1),
            call("get_scheduled", {}, 2),
        ],
    )
    with bank.engine.connect() as conn:
        name = conn.execute(text("SELECT full_name FROM person WHERE id = 2")).scalar()
    assert profile["name"] == name and profile["products"]
    assert {int(c["ref"][5:]) for c in cards["cards"]} <= _owned(bank, "card", 2)
    assert {int(s["ref"][6:]) for s in scheduled["scheduled"]} <= _owned(
        bank, "scheduled_transfer", 2
    )


def test_explaining_an_offer_that_is_not_recommended_is_an_error(bank) -> None:
    [found] = _results(bank, 2, [call("explain_recommendation", {"code": "no_such_offer"}, 0)])
    assert "error" in found


def test_bills_goals_insights_offers_and_knowledge_tools_answer(bank, tmp_path) -> None:
    from knowledge.index import KnowledgeBase, make_client
    from services.insights import for_customer
    from services.insights.detectors import insights_for
    from services.recommendations import default_catalog
    from services.recommendations.recommender import LruVectorStore, Recommender, loader_from_engine

    recommender = Recommender(
        LruVectorStore(),
        load=loader_from_engine(bank.engine, insights_for),
        catalog=default_catalog(),
    )
    kb = KnowledgeBase(make_client(var_dir=tmp_path))
    model = ScriptedChatModel(
        messages=iter(
            [
                call("upcoming_bills", {"days": 30}, 0),
                call("get_goals", {}, 1),
                call("get_insights", {}, 2),
                call("get_recommendations", {}, 3),
                call("search_knowledge", {"query": "how do I change my PIN"}, 4),
                AIMessage("done"),
            ]
        )
    )
    graph = compile_graph(
        model=model,
        tools=READ_TOOLS,
        customer_context=customer_context,
        checkpointer=InMemorySaver(),
    )
    run = ChatContext(
        person_id=2, bank=Bank(bank.engine, knowledge=kb, recommender=recommender), now=_now(bank)
    )
    out = graph.invoke(
        {"messages": [("user", "x")]}, {"configurable": {"thread_id": "k"}}, context=run
    )
    bills, goals, insights, offers, hits = [
        json.loads(m.content) for m in out["messages"] if isinstance(m, ToolMessage)
    ]
    assert all(b["due"] >= bank.as_of.isoformat() for b in bills["bills"])
    assert {g["ref"] for g in goals["goals"]} <= {
        f"goal-{i}" for i in _owned(bank, "savings_goal", 2)
    }
    with bank.engine.connect() as conn:
        expected = {i.type for i in for_customer(insights_for(conn, person_id=2, now=_now(bank)))}
    assert {i["type"] for i in insights["insights"]} == expected
    assert all(o["code"] and o["why"].startswith("Because ") for o in offers["recommendations"])
    assert not any("reasons" in o or "propensity" in o for o in offers["recommendations"])
    assert hits["hits"] and "pin" in hits["hits"][0]["article_id"]


def _busiest_merchant(bank, person_id: int) -> tuple[str, int, int]:
    """The merchant ``person_id`` paid most often: its name, payments and their total."""
    with bank.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT merchant, COUNT(*), SUM(-amount_minor) FROM ledger_entry "
                "WHERE person_id = :p AND merchant IS NOT NULL AND amount_minor < 0 "
                "GROUP BY merchant ORDER BY COUNT(*) DESC, merchant LIMIT 1"
            ),
            {"p": person_id},
        ).one()
    return str(row[0]), int(row[1]), int(row[2])


def test_a_merchants_summary_counts_every_payment_not_only_the_rows_listed(bank) -> None:
    merchant, count, total = _busiest_merchant(bank, 2)
    [found] = _results(bank, 2, [call("search_transactions", {"merchant": merchant}, 0)])
    summary = found["summary"]
    assert summary["payments"] == count and summary["spent"] == f"{total / 100:.2f}"
    newest = next(t for t in found["transactions"] if t["amount"].startswith("-"))
    assert summary["last_payment"] == {"date": newest["date"], "amount": newest["amount"][1:]}
    # a search without a merchant or words keeps its plain shape
    [plain] = _results(bank, 2, [call("search_transactions", {"category": "groceries"}, 0)])
    assert "summary" not in plain


def test_a_merchant_summary_never_counts_another_customers_payments(bank) -> None:
    merchant, _, _ = _busiest_merchant(bank, 57)
    with bank.engine.connect() as conn:
        own = conn.execute(
            text(
                "SELECT COUNT(*) FROM ledger_entry WHERE person_id = 2 AND amount_minor < 0 "
                "AND lower(merchant) = lower(:m)"
            ),
            {"m": merchant},
        ).scalar()
    [found] = _results(bank, 2, [call("search_transactions", {"merchant": merchant}, 0)])
    assert found["summary"]["payments"] == own
    if not own:  # the name asked for is never echoed back: it may be another customer's
        assert merchant not in json.dumps(found)


def test_income_is_money_in_as_income_only_and_the_customers_own(bank) -> None:
    [found] = _results(
        bank, 2, [call("income_summary", {"start": "2000-01-01", "end": "2030-01-01"}, 0)]
    )
    with bank.engine.connect() as conn:
        count, total = conn.execute(
            text(
                "SELECT COUNT(*), COALESCE(SUM(amount_minor), 0) FROM ledger_entry "
                "WHERE person_id = 2 AND amount_minor > 0 AND category = 'income'"
            )
        ).one()
    assert found["count"] == count and found["total"] == f"{total / 100:.2f}"
    assert all(not p["amount"].startswith("-") for p in found["payments"])
    dates = [p["date"] for p in found["payments"]]
    assert dates == sorted(dates, reverse=True)  # the latest first


def test_income_dates_are_checked_like_every_read(bank) -> None:
    [found] = _results(bank, 2, [call("income_summary", {}, 0)])
    assert found["end"] == _now(bank).date().isoformat()  # the last three months by default
    model = ScriptedChatModel(
        messages=iter(
            [
                call("income_summary", {"start": "2026-05-01", "end": "2026-04-01"}, 0),
                AIMessage("ok"),
            ]
        )
    )
    graph = compile_graph(
        model=model,
        tools=READ_TOOLS,
        customer_context=customer_context,
        checkpointer=InMemorySaver(),
    )
    run = ChatContext(person_id=2, bank=Bank(bank.engine), now=_now(bank))
    out = graph.invoke(
        {"messages": [("user", "x")]}, {"configurable": {"thread_id": "i"}}, context=run
    )
    [message] = [m for m in out["messages"] if isinstance(m, ToolMessage)]
    assert message.status == "error" and "starts after it ends" in message.content
