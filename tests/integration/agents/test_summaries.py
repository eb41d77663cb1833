"""The advisor summary: every fact names its record, and the records are the customer's own."""

from __future__ import annotations

from datetime import UTC, datetime

from langchain_core.messages import AIMessage, HumanMessage
from sqlalchemy import text

from agents.summaries import build_summary, sentiment
from app.bootstrap import make_recommender
from services.insights.cache import InsightCache
from services.insights.detectors import insights_for
from tools.bank import Bank


def _now(bank) -> datetime:
    return datetime(bank.as_of.year, bank.as_of.month, bank.as_of.day, 12, tzinfo=UTC)


def _ids(bank, table: str, person: int) -> set[int]:
    with bank.engine.connect() as conn:
        rows = conn.execute(text(f"SELECT id FROM {table} WHERE person_id = :p"), {"p": person})
        return {int(r[0]) for r in rows}


def test_every_fact_is_traceable_to_the_customers_own_records(bank) -> None:
    talk = {
        "t1": [
            HumanMessage("why was I charged twice? this is ridiculous"),
            AIMessage("", tool_calls=[{"name": "search_transactions", "args": {}, "id": "c1"}]),
            HumanMessage("I want to talk to someone"),
        ]
    }
    now = _now(bank)
    with bank.engine.connect() as conn:  # a customer with investments and insights to explain
        invested = conn.execute(
            text(
                "SELECT DISTINCT a.person_id FROM holding h JOIN account a ON a.id = h.account_id "
                "ORDER BY a.person_id"
            )
        ).scalars()
        person = next(int(p) for p in invested if insights_for(conn, person_id=int(p), now=now))
    recommender = make_recommender(bank.engine, InsightCache())
    summary = build_summary(
        Bank(bank.engine, recommender=recommender), person_id=person, now=now, conversations=talk
    )
    sources = [f.source for f in summary.facts + summary.talking_points]
    kinds = {s.partition(":")[0] for s in sources}
    assert {"person", "account", "ledger", "insight", "offer", "conversation"} <= kinds, kinds
    accounts = _ids(bank, "account", person)
    with bank.engine.connect() as conn:
        holdings = {
            int(r[0])
            for r in conn.execute(
                text(
                    "SELECT h.id FROM holding h JOIN account a ON a.id = h.account_id "
                    "WHERE a.person_id = :p"
                ),
                {"p": person},
            )
        }
        insight_types = {i.type for i in insights_for(conn, person_id=person, now=now)}
    offers = {r.code for r in recommender.decide(person, now=now, level="predictive", k=25)}
    own = {
        "person": {person},
        "account": accounts,
        "ledger": _ids(bank, "ledger_entry", person),
        "series": _ids(bank, "recurring_series", person),
        "event": _ids(bank, "digital_event", person),
        "holding": holdings,
        "write": _ids(bank, "write_request", person),
    }
    for source in sources:
        kind, _, key = source.partition(":")
        if kind in own:
            assert int(key) in own[kind], source  # a record of this customer's, no one else's
        elif kind == "insight":
            assert key in insight_types, source  # found in this customer's own history
        elif kind == "offer":
            assert key in offers, source  # recommended to this customer
        elif kind == "conversation":
            thread, _, turn = key.partition("#")
            assert thread in talk and (not turn or int(turn) < len(talk[thread])), source
        else:
            raise AssertionError(f"a fact with an unknown kind of source: {source}")
    assert f"person:{person}" in sources
    text_ = summary.text()
    assert "Unresolved" in text_ and "I want to talk to someone" in text_
    assert "negative" in text_  # "ridiculous"
    assert all(line.endswith("]") for line in text_.splitlines() if line.startswith("- "))


def test_sentiment_reads_only_the_customers_words() -> None:
    said = [HumanMessage("thanks, that was great"), AIMessage("terrible awful worst")]
    mood = sentiment(said)
    assert mood.label == "positive" and mood.flags == ()
    assert mood.cues == ("thanks", "great")


def test_an_llm_briefing_is_kept_only_when_it_cites_known_facts(bank) -> None:
    from langchain_core.messages import AIMessage as Reply

    from agents.summaries import written_by
    from tests.support.scripted_model import ScriptedChatModel

    summary = build_summary(Bank(bank.engine), person_id=2, now=_now(bank))
    good = (
        "Long-standing customer [person:2].\nHolds "
        + summary.facts[1].text
        + (f" [{summary.facts[1].source}].")
    )
    text_, used = written_by(ScriptedChatModel(messages=iter([Reply(good)])), summary)
    assert used and text_ == good
    invented = "Customer owes $1M [account:999999999]."
    text_, used = written_by(ScriptedChatModel(messages=iter([Reply(invented)])), summary)
    assert not used and text_ == summary.text()
    uncited = "A lovely customer who should get a loan."
    assert written_by(ScriptedChatModel(messages=iter([Reply(uncited)])), summary)[1] is False


def test_what_was_done_for_the_customer_is_in_the_summary(engine) -> None:
    from services import banking
    from services.synth.writer import seed_bank

    now = datetime(2026, 11, 28, 15, tzinfo=UTC)
    seed_bank(engine, customers=3, seed=4, as_of=now.date())
    with engine.begin() as conn:
        person, checking, savings = conn.execute(
            text(
                "SELECT c.person_id, c.id, s.id FROM account c JOIN account s "
                "ON s.person_id = c.person_id AND s.type = 'savings' AND s.status = 'open' "
                "WHERE c.type = 'checking' AND c.status = 'open' ORDER BY c.person_id LIMIT 1"
            )
        ).one()
        done = banking.transfer(
            conn,
            person_id=person,
            from_account_id=checking,
            to_account_id=savings,
            amount_minor=2_500,
            currency="USD",
            idempotency_key="summary-1",
            now=now,
        )
    summary = build_summary(Bank(engine), person_id=person, now=now)
    [fact] = [f for f in summary.facts if f.section == "Done for the customer"]
    assert "Moved $25.00" in fact.text and "Balances now" not in fact.text
    with engine.connect() as conn:
        owner = conn.execute(
            text("SELECT person_id FROM write_request WHERE id = :w"),
            {"w": int(fact.source.split(":")[1])},
        ).scalar_one()
    assert owner == person and done.replayed is False
    others = build_summary(Bank(engine), person_id=person % 3 + 1, now=now)
    assert all(f.section != "Done for the customer" for f in others.facts)
