"""Insights kept between chat turns: the detectors' own answer, refreshed when records change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from services import banking
from services.insights.cache import InsightCache
from services.insights.detectors import insights_for
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


def _move(conn, person: int, source: int, target: int, minor: int, key: str, at) -> None:
    banking.transfer(
        conn,
        person_id=person,
        from_account_id=source,
        to_account_id=target,
        amount_minor=minor,
        currency="USD",
        idempotency_key=key,
        now=at,
    )


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
        _move(conn, person, checking, savings, 100, "cache-test-1", NOW)
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


def _same(a, b) -> bool:
    return bool(a == b)  # everything the detectors read (equality leaves out the bookkeeping)


def _book(conn, person: int, account: int, at: datetime, amount: int, merchant: str) -> None:
    conn.execute(
        text(
            "INSERT INTO ledger_entry (account_id, person_id, booked_at, amount_minor, currency, "
            "merchant, category, channel, description, balance_after_minor) VALUES "
            "(:a, :p, :t, :m, 'USD', :n, 'shopping', 'card', '', 0)"
        ),
        {"a": account, "p": person, "t": at.replace(tzinfo=None), "m": amount, "n": merchant},
    )


def test_a_history_built_on_an_earlier_one_equals_a_full_load(engine) -> None:
    from services.insights.history import load_history

    seed_bank(engine, customers=3, seed=4, as_of=NOW.date())
    with engine.connect() as conn:
        person, checking, savings = _pair(conn)
    with engine.begin() as conn:
        # booked before the first load, dated after its clock; then a line the first load
        # does see, so the future-dated one's id is below the newest id that load saw
        _book(conn, person, checking, NOW + timedelta(hours=1), -4_200, "Future Dated Store")
        _book(conn, person, checking, NOW - timedelta(hours=1), -700, "Seen Already Deli")
    with engine.connect() as conn:
        before = load_history(conn, person_id=person, now=NOW)
    assert "Future Dated Store" not in {e.merchant for e in before.entries}
    later = NOW + timedelta(hours=2)
    with engine.begin() as conn:
        _move(conn, person, checking, savings, 2_500, "history-1", NOW + timedelta(minutes=5))
        # one backdated into the past, one still in the future at the later clock
        _book(conn, person, checking, NOW - timedelta(days=3), -1_100, "Backdated Cafe")
        _book(conn, person, checking, NOW + timedelta(days=2), -9_900, "Not Yet Store")
    with engine.connect() as conn:
        built_on = load_history(conn, person_id=person, now=later, previous=before)
        full = load_history(conn, person_id=person, now=later)
    assert _same(built_on, full)
    merchants = {e.merchant for e in full.entries}
    assert {"Future Dated Store", "Backdated Cafe"} <= merchants
    assert "Not Yet Store" not in merchants  # still in the clock's future
    assert len(full.entries) >= len(before.entries) + 4  # the transfer's two lines and two more


def _event(conn, person: int | None, at: datetime, page: str, device: str = "dev-1") -> None:
    conn.execute(
        text(
            "INSERT INTO digital_event (person_id, device_id, session_id, occurred_at, channel, "
            "kind, page) VALUES (:p, :d, 's', :t, 'app', 'page_view', :g)"
        ),
        {"p": person, "d": device, "t": at.replace(tzinfo=None), "g": page},
    )


def test_events_built_on_an_earlier_history_equal_a_full_load(engine) -> None:
    from services.identity.resolution import stitch_device
    from services.insights.history import load_history

    seed_bank(engine, customers=3, seed=4, as_of=NOW.date())
    with engine.connect() as conn:
        person, _, _ = _pair(conn)
    with engine.begin() as conn:
        # an anonymous event from before, on a device the customer signs in on later
        _event(conn, None, NOW - timedelta(days=2), "/anonymous", device="dev-later")
        # dated after the first load's clock, with an id below the newest that load sees
        _event(conn, person, NOW + timedelta(hours=1), "/future")
        _event(conn, person, NOW - timedelta(hours=1), "/seen")
    with engine.connect() as conn:
        before = load_history(conn, person_id=person, now=NOW)
    assert "/future" not in {e.page for e in before.events}
    later = NOW + timedelta(hours=2)
    with engine.begin() as conn:
        _event(conn, person, NOW - timedelta(days=3), "/backdated")
        _event(conn, person, NOW + timedelta(days=2), "/not-yet")
    with engine.connect() as conn:
        built_on = load_history(conn, person_id=person, now=later, previous=before)
        full = load_history(conn, person_id=person, now=later)
    assert _same(built_on, full)
    pages = {e.page for e in full.events}
    assert {"/future", "/seen", "/backdated"} <= pages and "/not-yet" not in pages
    assert "/anonymous" not in pages
    # signing in attributes the device's old anonymous event (old id, old time) to them
    with engine.begin() as conn:
        assert stitch_device(conn, device_id="dev-later", person_id=person) == 1
    with engine.connect() as conn:
        stitched = load_history(conn, person_id=person, now=later, previous=built_on)
        assert "/anonymous" in {e.page for e in stitched.events}
        assert _same(stitched, load_history(conn, person_id=person, now=later))


def test_a_history_is_not_built_on_one_from_a_later_clock_or_another_customer(engine) -> None:
    from services.insights.history import load_history

    seed_bank(engine, customers=3, seed=4, as_of=NOW.date())
    with engine.connect() as conn:
        person, checking, _ = _pair(conn)
        other = 3 if person != 3 else 2
        later = load_history(conn, person_id=person, now=NOW + timedelta(days=1))
        theirs = load_history(conn, person_id=other, now=NOW - timedelta(days=1))
        for previous in (later, theirs):
            assert _same(
                load_history(conn, person_id=person, now=NOW, previous=previous),
                load_history(conn, person_id=person, now=NOW),
            )


def test_the_cache_recomputes_from_the_new_entries_only(engine, monkeypatch) -> None:
    import services.insights.cache as insight_cache

    seed_bank(engine, customers=3, seed=4, as_of=NOW.date())
    built_on: list[bool] = []
    real = insight_cache.load_history

    def spy(conn, *, person_id, now, previous=None):  # type: ignore[no-untyped-def]
        built_on.append(previous is not None)
        return real(conn, person_id=person_id, now=now, previous=previous)

    monkeypatch.setattr(insight_cache, "load_history", spy)
    cache = InsightCache()
    with engine.connect() as conn:
        person, checking, savings = _pair(conn)
        cache.insights(conn, person_id=person, now=NOW)
    with engine.begin() as conn:
        _book(conn, person, checking, NOW, -12_345, "Brand New Shop")
    with engine.connect() as conn:
        found = cache.insights(conn, person_id=person, now=NOW + timedelta(seconds=1))
        assert _kinds(found) == _kinds(
            insights_for(conn, person_id=person, now=NOW + timedelta(seconds=1))
        )
    assert built_on == [False, True]
