"""The notification outbox: decided once per situation, by the contact policy, claimed once."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, select, text, update
from sqlmodel import Session, SQLModel

from services.events import Event
from services.features.live import book_events
from services.models import Account, ContactPreference, NotificationPreference, Person
from services.notifications import outbox
from services.notifications.channels import DeliveryError, Message
from services.notifications.dispatch import Dispatcher
from services.notifications.notifier import Notifier
from services.recommendations.catalog import default_catalog

NOON = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # noon in New York
_T = SQLModel.metadata.tables


def _customer(
    engine: Engine,
    *,
    quiet: tuple[time, time] | None = None,
    over: int | None = None,
    under: int | None = None,
    marketing: bool = False,
) -> tuple[int, int]:
    with Session(engine) as s:
        person = Person(
            full_name="Maya Patel",
            first_name="Maya",
            last_name="Patel",
            email="maya@example.com",
            phone="+1 202-555-0142",
        )
        s.add(person)
        s.flush()
        account = Account(
            person_id=person.id,
            type="checking",
            name="Everyday",
            number=f"CHK-{person.id}",
            balance_minor=100_000,
            opened_on=date(2020, 1, 1),
        )
        s.add(account)
        s.add(
            ContactPreference(
                person_id=person.id,
                push=True,
                email=True,
                sms=True,
                marketing_consent=marketing,
                quiet_start=quiet[0] if quiet else None,
                quiet_end=quiet[1] if quiet else None,
                timezone="America/New_York",
            )
        )
        if over is not None or under is not None:
            s.add(
                NotificationPreference(
                    person_id=person.id,
                    large_purchase_minor=over,
                    low_balance_minor=under,
                    updated_at=NOON,
                )
            )
        s.commit()
        return int(person.id), int(account.id)  # type: ignore[arg-type]


def _charge(person: int, account: int, minor: int, n: int, at: datetime = NOON, **kw: Any) -> Event:
    data = {
        "account_id": account,
        "amount_minor": -minor,
        "currency": "USD",
        "category": "shopping",
        "channel": "card",
        "merchant": "Hifi Store",
        **kw,
    }
    return Event(
        id=f"tx-{person}-{n}", type="transaction", person_id=person, occurred_at=at, data=data
    )


def _notify(engine: Engine, events: list[Event], now: datetime = NOON) -> Notifier:
    notifier = Notifier(engine, catalog=default_catalog(), clock=lambda: now)
    book_events(engine, events)
    notifier.on_events(events)
    return notifier


def _deliveries(engine: Engine, person: int) -> dict[str, tuple[str, str, datetime]]:
    d = _T["notification_delivery"]
    with engine.connect() as conn:
        rows = conn.execute(
            select(d.c.channel, d.c.state, d.c.reason, d.c.due_at).where(d.c.person_id == person)
        ).all()
    return {ch: (state, reason, outbox.aware(due)) for ch, state, reason, due in rows}


def test_a_charge_over_the_customers_threshold_is_told_once_on_each_channel(
    engine: Engine,
) -> None:
    person, account = _customer(engine, over=20_000)
    charge = _charge(person, account, 25_000, 1)
    notifier = _notify(engine, [charge])
    _notify(engine, [charge])  # delivered again by the bus: the same situation, not news
    with engine.connect() as conn:
        notes = conn.execute(
            text("SELECT kind, message_class, title, data FROM notification WHERE person_id = :p"),
            {"p": person},
        ).all()
    assert [(n.kind, n.message_class) for n in notes] == [("large_transaction", "service")]
    assert notifier.recorded == 1
    got = _deliveries(engine, person)
    assert {ch: s for ch, (s, _, _) in got.items()} == {
        "in_app": "pending",
        "push": "pending",
        "email": "pending",
    }
    # each channel's copy comes from the catalogue's template, with the real figures
    data = (
        notes[0].data
        if isinstance(notes[0].data, dict)
        else __import__("json").loads(notes[0].data)
    )
    assert data["copy"]["push"]["title"] == "Was this you?"
    assert "$250" in data["copy"]["in_app"]["body"] and "$200" in data["copy"]["in_app"]["body"]
    # a charge under the threshold the customer chose is not news, however large
    _notify(engine, [_charge(person, account, 19_000, 2)])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM notification")).scalar_one() == 1


def test_quiet_hours_defer_interrupting_channels_to_their_end_in_the_customers_zone(
    engine: Engine,
) -> None:
    night = datetime(2026, 3, 3, 4, 0, tzinfo=UTC)  # 23:00 in New York
    person, account = _customer(engine, quiet=(time(22, 0), time(7, 0)), over=10_000)
    _notify(engine, [_charge(person, account, 30_000, 1, at=night)], now=night)
    got = _deliveries(engine, person)
    seven_am = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)  # 07:00 EST
    assert got["in_app"][0] == "pending"  # the inbox does not interrupt
    assert got["push"][:1] == ("deferred",) and got["push"][2] == seven_am
    assert got["email"][0] == "deferred" and "quiet_hours" in got["email"][1]
    with engine.begin() as conn:  # not claimable before the quiet hours end ...
        [inbox] = outbox.claim(conn, worker="w", now=night)
        assert inbox.channel == "in_app"
        assert outbox.mark_sent(conn, inbox.id, worker="w", now=night, provider_id=None)
    with engine.begin() as conn:  # ... and due once they have
        later = outbox.claim(conn, worker="w", now=seven_am + timedelta(minutes=1))
    assert {c.channel for c in later} == {"push", "email"}


def test_caps_consent_and_a_not_helpful_answer_hold_messages_back_but_not_mandatory_ones(
    engine: Engine,
) -> None:
    person, account = _customer(engine, over=10_000, quiet=(time(0, 0), time(23, 59)))
    _notify(engine, [_charge(person, account, 20_000 + n, n) for n in range(5)])
    d = _T["notification_delivery"]
    with engine.connect() as conn:
        push = conn.execute(
            select(d.c.state, d.c.reason).where(d.c.person_id == person, d.c.channel == "push")
        ).all()
    assert sorted(s for s, _ in push).count("skipped") == 2  # 3 a day, the rest not sent
    assert all("frequency_cap" in r for s, r in push if s == "skipped")
    # the customer marks one "not helpful": that kind rests, on every channel
    n = _T["notification"]
    with engine.begin() as conn:
        conn.execute(update(n).values(feedback="not_helpful", feedback_at=NOON))
    _notify(engine, [_charge(person, account, 50_000, 9)], now=NOON + timedelta(hours=1))
    with engine.connect() as conn:
        last = conn.execute(
            select(d.c.state, d.c.reason).where(d.c.person_id == person).order_by(d.c.id.desc())
        ).first()
    assert last is not None and last.state == "skipped" and "not_helpful" in last.reason
    # a change of contact details is mandatory: past the caps and the quiet hours
    change = Event(
        id=f"profile-{person}",
        type="profile",
        person_id=person,
        occurred_at=NOON,
        data={"field": "email", "value": "new@example.com"},
    )
    _notify(engine, [change])
    with engine.connect() as conn:
        told = conn.execute(
            text(
                "SELECT d.channel, d.state FROM notification_delivery d JOIN notification n "
                "ON n.id = d.notification_id WHERE n.kind = 'contact_details_changed'"
            )
        ).all()
    assert dict(told) == {"in_app": "pending", "email": "pending", "sms": "pending"}


def test_marketing_needs_the_customers_opt_in(engine: Engine) -> None:
    from services.notifications import Candidate
    from services.notifications.policy import load_contacts

    person, _ = _customer(engine)
    offer = Candidate(person, "home_buying", "home_buying:x", "Buying a home?", "Rates", "test")
    with engine.begin() as conn:
        contact = load_contacts(conn, [person], NOON)[person]
        rows = outbox.record(conn, offer, contact, NOON)
    assert {r["state"] for r in rows} == {"skipped"}
    assert {r["reason"] for r in rows} == {"no_marketing_consent"}


def test_of_workers_claiming_at_once_each_row_goes_to_exactly_one(engine: Engine) -> None:
    person, account = _customer(engine, over=10_000)
    _notify(engine, [_charge(person, account, 20_000 + n, n) for n in range(8)])
    with engine.connect() as conn:
        due = conn.execute(
            text("SELECT count(*) FROM notification_delivery WHERE state = 'pending'")
        ).scalar_one()
    got: dict[str, list[int]] = {}
    barrier = threading.Barrier(6)

    def work(name: str) -> None:
        barrier.wait()
        mine: list[int] = []
        while True:
            with engine.begin() as conn:
                rows = outbox.claim(conn, worker=name, now=NOON, limit=3)
            if not rows:
                break
            mine.extend(r.id for r in rows)
        got[name] = mine

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    everything = [i for ids in got.values() for i in ids]
    assert len(everything) == len(set(everything)) == due > 0


def test_a_dead_workers_rows_are_claimed_again_and_failures_back_off_then_die(
    engine: Engine,
) -> None:
    person, account = _customer(engine, over=10_000)
    _notify(engine, [_charge(person, account, 20_000, 1)])
    with engine.begin() as conn:
        first = outbox.claim(conn, worker="crashed", now=NOON, limit=1)
    assert len(first) == 1
    with engine.begin() as conn:  # held while the lease runs
        assert first[0].id not in [r.id for r in outbox.claim(conn, worker="b", now=NOON)]
    after = NOON + outbox.LEASE + timedelta(seconds=1)
    with engine.begin() as conn:
        again = outbox.claim(conn, worker="b", now=after, limit=10)
        assert first[0].id in [r.id for r in again]
        # the crashed worker's late answer changes nothing: the row is no longer its
        assert not outbox.mark_sent(conn, first[0].id, worker="crashed", now=after, provider_id="x")
    row = first[0].id
    when = after
    states = []
    for _ in range(outbox.MAX_ATTEMPTS):
        with engine.begin() as conn:
            conn.execute(
                update(_T["notification_delivery"])
                .where(_T["notification_delivery"].c.id == row)
                .values(state="sending", worker="b", lease_until=when + outbox.LEASE)
            )
            states.append(outbox.mark_failed(conn, row, worker="b", now=when, error="503"))
            due = conn.execute(
                select(_T["notification_delivery"].c.due_at).where(
                    _T["notification_delivery"].c.id == row
                )
            ).scalar_one()
        if states[-1] == "failed":
            assert outbox.aware(due) > when  # backed off
        when = outbox.aware(due)
    assert states == ["failed"] * (outbox.MAX_ATTEMPTS - 1) + ["dead"]


class _Provider:
    """An in-memory channel: keeps what it was given, fails when told to."""

    def __init__(self, name: str, fail: DeliveryError | None = None) -> None:
        self.name, self.fail, self.got = name, fail, list[Message]()

    async def send(self, message: Message) -> str:
        if self.fail is not None:
            raise self.fail
        self.got.append(message)
        return f"{self.name}-{len(self.got)}"


def test_the_dispatcher_sends_each_channel_once_and_sets_a_refused_one_aside(
    engine: Engine,
) -> None:
    person, account = _customer(engine, over=10_000)
    _notify(engine, [_charge(person, account, 20_000, 1)])
    push = _Provider("push")
    email = _Provider("email", DeliveryError("550 no such mailbox", permanent=True))
    toasts: list[tuple[int, dict[str, Any]]] = []

    async def in_app(pid: int, value: dict[str, Any]) -> None:
        toasts.append((pid, value))

    dispatcher = Dispatcher(
        engine, {"push": push, "email": email}, in_app=in_app, clock=lambda: NOON
    )
    assert asyncio.run(dispatcher.run_once()) == 3
    assert asyncio.run(dispatcher.run_once()) == 0  # nothing twice
    assert [m.subject for m in push.got] == ["Was this you?"]
    assert push.got[0].to == f"customer-{person}" and push.got[0].dedupe_key
    assert toasts[0][0] == person and toasts[0][1]["title"] == "Unusual payment"
    got = _deliveries(engine, person)
    assert got["in_app"][0] == got["push"][0] == "sent"
    assert got["email"][0] == "dead"
    with engine.connect() as conn:
        error = conn.execute(
            text("SELECT last_error FROM notification_delivery WHERE channel = 'email'")
        ).scalar_one()
    assert "550" in error


def test_the_scheduler_reads_only_customers_whose_data_or_day_changed(engine: Engine) -> None:
    person, account = _customer(engine)
    other, _ = _customer(engine)
    notifier = Notifier(engine, catalog=default_catalog(), clock=lambda: NOON)
    assert notifier.sweep(everyone=True)["customers"] == 2
    assert notifier.sweep()["customers"] == 0  # nothing changed, same day
    book_events(engine, [_charge(person, account, 500, 1)])
    notifier.on_events([_charge(person, account, 500, 1)])
    assert notifier.sweep()["customers"] == 1  # only the customer with new data
    notifier.clock = lambda: NOON + timedelta(days=1)
    assert notifier.sweep()["customers"] == 2  # a new day for both
    assert other != person


def test_pay_landing_is_told_as_it_is_booked(engine: Engine) -> None:
    person, account = _customer(engine)
    pay = _charge(person, account, -250_000, 1, category="income", merchant="ACME Payroll")
    _notify(engine, [pay, _charge(person, account, 450, 2)])  # pay, and a coffee
    with engine.connect() as conn:
        kinds = conn.execute(text("SELECT kind, title FROM notification")).all()
    assert [k for k, _ in kinds] == ["paycheck_landed"]
    assert kinds[0][1] == "Your pay has landed"
