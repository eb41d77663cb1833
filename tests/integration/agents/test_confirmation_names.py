"""A confirmation's names are kept between asking and approving, and re-read after a write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from langgraph.prebuilt import ToolRuntime
from sqlalchemy import event, text

from agents.graph import describe
from services.fresh_cache import FreshCache
from services.synth.writer import seed_bank
from tools.bank import Bank
from tools.registry import all_tools
from tools.runtime import ChatContext

NOW = datetime(2026, 11, 28, 15, tzinfo=UTC)


def _customer_with_two_accounts(engine: Any) -> tuple[int, int, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT person_id, MIN(id), MAX(id) FROM account WHERE status = 'open' "
                "AND type IN ('checking', 'savings') GROUP BY person_id "
                "HAVING COUNT(DISTINCT type) = 2 ORDER BY person_id"
            )
        ).first()
    assert rows is not None
    return int(rows[0]), int(rows[1]), int(rows[2])


def _statements(engine: Any) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_names_are_read_once_per_revision(engine: Any) -> None:
    seed_bank(engine, customers=4, seed=3, as_of=NOW.date())
    person, source, target = _customer_with_two_accounts(engine)
    bank = Bank(engine, names=FreshCache())
    ctx = ChatContext(person_id=person, bank=bank, now=NOW)
    transfer = {t.name: t for t in all_tools()}["transfer"]
    args = {"from_account": f"acc-{source}", "to_account": f"acc-{target}", "amount": "5"}
    asked = describe(transfer, args, ctx)
    assert "$5.00" in asked and f"acc-{source}" not in asked  # named, not a ref
    with engine.begin() as conn:  # renamed without a write of the customer's
        conn.execute(text("UPDATE account SET name = 'Renamed Pot' WHERE id = :i"), {"i": target})
    seen = _statements(engine)
    assert describe(transfer, args, ctx) == asked  # approving shows what was asked
    assert len(seen) == 1  # only the revision was read
    later = ChatContext(person_id=person, bank=bank, now=NOW + timedelta(seconds=61))
    assert "Renamed Pot" in describe(transfer, args, later)  # kept at most 60 s


@pytest.mark.parametrize("cached", [True, False])
def test_a_write_makes_the_names_read_again(engine: Any, cached: bool) -> None:
    seed_bank(engine, customers=4, seed=3, as_of=NOW.date())
    person, source, target = _customer_with_two_accounts(engine)
    bank = Bank(engine, names=FreshCache() if cached else None)
    ctx = ChatContext(person_id=person, bank=bank, now=NOW)
    tools = {t.name: t for t in all_tools()}
    args = {"from_account": f"acc-{source}", "to_account": f"acc-{target}", "amount": "5"}
    describe(tools["transfer"], args, ctx)
    with engine.begin() as conn:
        conn.execute(text("UPDATE account SET name = 'Renamed Pot' WHERE id = :i"), {"i": target})
    runtime = ToolRuntime(
        state={},
        context=ctx,
        config={},
        stream_writer=lambda _: None,
        tool_call_id="t-1",
        store=None,
    )
    done = tools["transfer"].func(runtime=runtime, **args)  # type: ignore[misc]
    assert '"status": "done"' in done
    assert "Renamed Pot" in describe(tools["transfer"], args, ctx)
