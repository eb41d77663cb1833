"""``concierge bench handoff``'s figures: what counts as lost, doubled, misrouted or won twice."""

from __future__ import annotations

import pytest

from bench.chat import postgres_url
from bench.handoff import Tally, _tag, figures


def _tally() -> Tally:
    tally = Tally(customers=2)
    # two advisor messages to conversation 7: one read once, one never read
    tally.sent_to_customer = {"a1 [h7:x]": 1.0, "a2 [h7:y]": 1.0}
    tally.heard_by_customer = {"a1 [h7:x]": 1.2}
    tally.customer_reads.update({101: 1})
    # two customer replies; one read twice by the advisor, one never
    tally.sent_to_advisor = {"c1 [h7:z]": 2.0, "c2 [h7:w]": 2.0}
    tally.stored = {"a1 [h7:x]", "a2 [h7:y]", "c1 [h7:z]", "c2 [h7:w]"}
    tally.heard_by_advisor = {"c1 [h7:z]": 2.5}
    tally.advisor_reads.update({102: 2})
    tally.claims = {7: [0], 8: [0, 1]}  # conversation 8: both advisors were told they won
    tally.claim_sent = {7: 0.5}
    tally.first_heard = {7: 1.2}
    tally.conflicts, tally.handed_back = 3, 2
    return tally


def test_every_message_is_followed_end_to_end() -> None:
    out = figures(_tally())
    assert out["messages"] == 4
    assert (out["lost"], out["lost_to_customers"], out["lost_to_advisors"]) == (2, 1, 1)
    assert out["duplicated"] == 1 and out["customer_messages_not_stored"] == 0
    assert out["lost_samples"] == [
        "a2 [h7:y] (stored; advisor 0)",
        "c2 [h7:w] (stored; advisor 0)",
    ]
    assert out["claims"] == 2 and out["claim_conflicts"] == 3
    assert out["claim_conflicts_won_twice"] == 1
    assert out["delivery_ms_p50"] == pytest.approx(200.0)
    assert out["reply_ms_p95"] == pytest.approx(500.0)
    assert out["claim_to_first_message_ms_p95"] == pytest.approx(700.0)


def test_a_reply_never_stored_is_lost_too_and_said_so() -> None:
    tally = _tally()
    tally.stored.discard("c2 [h7:w]")
    out = figures(tally)
    assert out["lost_to_advisors"] == 1 and out["customer_messages_not_stored"] == 1
    assert out["advisor_messages_not_stored"] == 0
    assert out["lost_samples"][-1] == "c2 [h7:w] (not stored; advisor 0)"


def test_advisors_stop_once_every_customer_was_claimed_or_will_never_queue() -> None:
    tally = Tally(customers=3)
    tally.claims = {1: [0]}
    assert not tally.settled()
    tally.never_queued = 2
    assert tally.settled()


def test_a_message_names_its_conversation() -> None:
    assert _tag("Advisor 3, message 2 [h41:ab12cd34]") == 41


def test_a_postgresql_url_is_put_on_the_psycopg_driver() -> None:
    assert postgres_url("postgresql://postgres@127.0.0.1:5432/test") == (
        "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    assert postgres_url("postgresql+psycopg://u:p@db/x").startswith("postgresql+psycopg://u:p@")
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        postgres_url("sqlite:///bank.db")
