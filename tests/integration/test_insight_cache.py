"""Insights kept between chat turns: the detectors' own answer, refreshed when records change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from services import banking
from services.insight_cache import InsightCache
from services.insight_detectors import insights_for
from services.synth.writer import seed_bank

NOW = datetime(2026, 11, 28, 15, tzinfo=UTC)


def _pair(conn) -> tuple[int, int, int]:
    row = conn.execute(
        text(
            "SELECT c.person_id, c.id, s.id FROM account c JOIN account s "
            "ON s.person_id = c.person_id AND s.type = 'savings' AND s.status = 'open' "
            "WHERE c.type = 'checking' AND c.status = 'open' ORDER BY c.person_id LIMIT 1"
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def _kinds(found) -> list[tuple[str, str]]:
    return [(i.type, i.message) for i in found]


def test_kept_insights_are_the_detectors_and_refresh_when_money_moves(engine) -> None:
    seed_bank(engine, customers=3, seed=4, as_of=NOW.date())
    cache = InsightCache(max_age_s=60)
    with engine.connect() as conn:
        person, checking, savings = _pair(conn)
        first = cache.insights(conn, person_id=person, now=NOW)
        assert _kinds(first) == _kinds(insights_for(conn, person_id=person, now=NOW))
        again = cache.insights(conn, person_id=person, now=NOW + timedelta(seconds=30))
        assert _kinds(again) == _kinds(first)
        assert (cache.hits, cache.misses) == (1, 1)
    with engine.begin() as conn:
        banking.transfer(
            conn,
            person_id=person,
            from_account_id=checking,
            to_account_id=savings,
            amount_minor=100,
            currency="USD",
            idempotency_key="cache-test-1",
            now=NOW,
        )
    with engine.connect() as conn:
        cache.insights(conn, person_id=person, now=NOW + timedelta(seconds=31))
        assert cache.misses == 2  # a new ledger entry: computed afresh
        cache.insights(conn, person_id=person, now=NOW + timedelta(seconds=200))
        assert cache.misses == 3  # too old
        cache.insights(conn, person_id=person, now=NOW + timedelta(hours=9, seconds=10))
        assert cache.misses == 4  # the clock passed midnight
        cache.forget(person)
        cache.insights(conn, person_id=person, now=NOW + timedelta(hours=9, seconds=20))
        assert cache.misses == 5
