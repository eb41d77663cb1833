"""The learning loop against a real database: responses logged, cool-downs honoured, uplift."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from services.models import Account, ContactPreference, Person
from services.recommendations.catalog import load_catalog
from services.recommendations.control import ControlGroup
from services.recommendations.engine import decide
from services.recommendations.learning import OnlineLearner, record_response, uplift
from services.recommendations.offer_log import offer_stats
from services.recommendations.vector import build_vector

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _person(engine: Engine, name: str = "Maya", *, consent: bool = True) -> int:
    with Session(engine) as session:
        person = Person(
            full_name=f"{name} Patel",
            first_name=name,
            last_name="Patel",
            segment="mass_market",
            date_of_birth=date(1990, 5, 1),
            customer_since=date(2019, 1, 1),
        )
        session.add(person)
        session.flush()
        assert person.id is not None
        session.add(
            Account(
                person_id=person.id,
                type="checking",
                name="Everyday",
                number=f"CHK{person.id:08d}",
                balance_minor=250_000,
                opened_on=date(2019, 1, 1),
            )
        )
        session.add(
            Account(
                person_id=person.id,
                type="credit_card",
                name="Card",
                number=f"CC{person.id:08d}",
                balance_minor=-150_000,
                credit_limit_minor=500_000,
                opened_on=date(2019, 1, 1),
            )
        )
        session.add(
            ContactPreference(
                person_id=person.id,
                marketing_consent=consent,
                quiet_start=time(21),
                quiet_end=time(8),
            )
        )
        session.commit()
        return person.id


def _answers(engine: Engine, person_id: int) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT offer_code, response FROM offer_event WHERE person_id = :p ORDER BY id"),
            {"p": person_id},
        )
        return [(code, response) for code, response in found]


def test_responses_are_logged_and_a_decline_is_honoured(engine: Engine) -> None:
    person_id = _person(engine)
    catalog = load_catalog()
    learner = OnlineLearner()
    with engine.connect() as conn:
        before = decide(
            build_vector(conn, person_id=person_id, now=NOW),
            catalog=catalog,
            level="behavioral",
            now=NOW,
            k=25,
        )
    assert "cashback_card" not in {r.code for r in before}  # already holds a card
    code = "autopay_card"  # a card balance of $1,500 makes it applicable
    assert code in {r.code for r in before}
    with engine.begin() as conn:
        shown = record_response(
            conn,
            person_id=person_id,
            offer_code=code,
            channel="in_app_card",
            response="shown",
            at=NOW,
        )
        answered = record_response(
            conn,
            person_id=person_id,
            offer_code=code,
            channel="in_app_card",
            response="declined",
            at=NOW + timedelta(minutes=5),
            segment="mass_market",
            learner=learner,
        )
    assert shown == answered  # the answer lands on the showing
    assert _answers(engine, person_id) == [(code, "declined")]
    assert learner.counts() == {("mass_market", code): (0, 1)}
    cooldown = catalog[code].contact.cooldown_days
    for days, expected in ((1, False), (cooldown - 1, False), (cooldown + 1, True)):
        later = NOW + timedelta(days=days)
        with engine.connect() as conn:
            vector = build_vector(conn, person_id=person_id, now=later)
        found = decide(vector, catalog=catalog, level="behavioral", now=later, k=25)
        assert (code in {r.code for r in found}) is expected, days


def test_an_answer_without_a_showing_gets_its_own_row(engine: Engine) -> None:
    person_id = _person(engine)
    with engine.begin() as conn:
        record_response(
            conn,
            person_id=person_id,
            offer_code="savings_rule",
            channel="chat_line",
            response="accepted",
            at=NOW,
        )
        record_response(
            conn,
            person_id=person_id,
            offer_code="savings_rule",
            channel="chat_line",
            response="dismissed",
            at=NOW + timedelta(days=40),
        )  # too late: new row
        with pytest.raises(ValueError, match="unknown response"):
            record_response(
                conn,
                person_id=person_id,
                offer_code="savings_rule",
                channel="chat_line",
                response="maybe",
                at=NOW,
            )
    assert _answers(engine, person_id) == [
        ("savings_rule", "accepted"),
        ("savings_rule", "dismissed"),
    ]
    with engine.connect() as conn:
        stats = offer_stats(conn, person_id=person_id, now=NOW + timedelta(days=41))
        channel = conn.execute(text("SELECT DISTINCT channel FROM offer_event")).scalar()
    assert channel == "chat"  # the offer log's own vocabulary
    assert stats["savings_rule"].last_accepted == int(NOW.timestamp())
    assert stats["savings_rule"].last_dismissed == int((NOW + timedelta(days=40)).timestamp())
    # A clock before an answer does not see it.
    with engine.connect() as conn:
        earlier = offer_stats(conn, person_id=person_id, now=NOW - timedelta(hours=1))
    assert earlier == {}


def test_uplift_and_replay(engine: Engine) -> None:
    people = [_person(engine, f"P{i}") for i in range(12)]
    control = ControlGroup(share=0.5, salt="uplift-test")
    held = [p for p in people if control.contains(p)]
    treated = [p for p in people if not control.contains(p)]
    assert held and treated
    with engine.begin() as conn:
        for i, person_id in enumerate(people):
            yes = person_id in treated or i % 4 == 0
            record_response(
                conn,
                person_id=person_id,
                offer_code="card_upgrade",
                channel="push",
                response="shown",
                at=NOW,
            )
            record_response(
                conn,
                person_id=person_id,
                offer_code="card_upgrade",
                channel="push",
                response="accepted" if yes else "declined",
                at=NOW + timedelta(hours=1),
            )
    with engine.connect() as conn:
        report = uplift(conn, control=control, since=NOW - timedelta(days=1))
        learner = OnlineLearner()
        counted = learner.replay(conn, since=NOW - timedelta(days=1))
    assert report["treatment"] == {
        "people": len(treated),
        "shown": len(treated),
        "accepted": len(treated),
        "rate": 1.0,
    }
    held_yes = sum(1 for i, p in enumerate(people) if p in held and i % 4 == 0)
    assert report["control"]["accepted"] == held_yes
    assert report["uplift"] == pytest.approx(1.0 - held_yes / len(held), abs=1e-4)
    assert counted == len(people)
    assert learner.counts() == {
        ("mass_market", "card_upgrade"): (len(treated) + held_yes, len(held) - held_yes)
    }
