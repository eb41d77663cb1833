"""``concierge bench notifications``' parts on a small bank: decided, sent once, none lost."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from bench.chat import bank_url
from bench.notifications import Provider, build_bank, crash, synthetic_events, throughput
from services.db import make_engine
from services.events.in_process import InProcessBus


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory, classifier_dir: Path) -> Path:
    var = tmp_path_factory.mktemp("notify-bench")
    build_bank(var, 12, nlu_model=classifier_dir, seed=5)
    return var


def test_every_event_is_decided_and_the_large_charges_are_told(bank: Path) -> None:
    engine = make_engine(bank_url(bank))
    try:
        events = synthetic_events(engine, 400, seed=5, now=datetime.now(UTC))
        # every event is on its customer's own account: none is refused by the booking
        with engine.connect() as conn:
            owners = dict(conn.execute(text("SELECT id, person_id FROM account")).all())
        assert all(owners[e.data["account_id"]] == e.person_id for e in events)
        result = throughput(engine, InProcessBus(maxlen=1_000), events)
        with engine.connect() as conn:
            booked = conn.execute(
                text("SELECT count(*) FROM ledger_entry WHERE source_ref IS NOT NULL")
            ).scalar_one()
            large = conn.execute(
                text(
                    "SELECT count(*) FROM ledger_entry WHERE source_ref IS NOT NULL "
                    "AND amount_minor <= -20000"
                )
            ).scalar_one()
            told = conn.execute(
                text("SELECT count(*) FROM notification WHERE kind = 'large_transaction'")
            ).scalar_one()
            addresses = conn.execute(text("SELECT email, phone FROM person")).all()
    finally:
        engine.dispose()
    assert result["events"] == booked == 400
    assert result["events_per_s"] > 0 and result["decide_only_events_per_s"] > 0
    assert told == large > 0  # each charge over the customers' $200 is one notification
    # only reserved addresses, so the real adapters may reach them
    assert all(e.endswith("@example.com") and "555-01" in p for e, p in addresses)


def test_a_worker_killed_mid_send_loses_and_repeats_nothing(bank: Path) -> None:
    result = crash(bank, timeout_s=120)
    assert result["workers_killed"] == 1
    assert result["deliveries_due"] > 0
    assert result["lost"] == 0 and result["duplicates"] == 0
    # whatever was sent again after the kill went under its first key, so receivers can tell
    assert result["resends_caught"] >= result["resent_emails"] >= 0
    assert set(result["states_after"]) <= {"sent", "skipped", "deferred", "dead"}


def test_the_provider_answers_a_repeated_key_with_the_first_id() -> None:
    Provider.received.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/push"
        first = httpx.post(url, content=b"{}", headers={"Idempotency-Key": "k1"})
        again = httpx.post(url, content=b"{}", headers={"Idempotency-Key": "k1"})
    finally:
        server.shutdown()
    assert json.loads(first.text)["id"] == json.loads(again.text)["id"]
    assert Provider.received["k1"] == 2


def test_a_resend_under_its_first_key_is_recognised_and_a_second_key_is_a_duplicate() -> None:
    from collections import Counter

    from bench.notifications import _told_twice

    resent = Counter({"large_transaction:ledger:9:email:41": 2, "bills:week:push:42": 1})
    assert _told_twice(resent, "email") == 0 and _told_twice(resent, "push") == 0
    twice = Counter({"large_transaction:ledger:9:email:41": 1, "large:other:email:41": 1})
    assert _told_twice(twice, "email") == 1
