"""The live hand-off queue in the system of record, on SQLite and PostgreSQL.

Claims race for real: many threads, each in its own transaction, claim the same waiting
conversation at the same moment (released by a barrier), and exactly one wins; several advisors
working through a queue of many conversations at once claim each exactly once. Then the rest of
the queue's behaviour: one open hand-off per thread, the order advisors take them in, the place
and wait a customer is told, who may speak and end a conversation, leaving a message, the
figures (containment, hand-off rate, waits, assist used), and the bank's opening hours
(:mod:`services.opening_hours`).
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from services import handoffs
from services.banking.rules import Refused
from services.models import Advisor, HandoffCase, Person
from services.opening_hours import Hours

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday
RACERS = 12  # threads claiming one conversation at once (within the PostgreSQL pool's 15)


def _people(engine: Engine, n: int, *, born: date | None = None) -> list[int]:
    with Session(engine) as s:
        people = [
            Person(full_name=f"Queue Person{i}", first_name="Queue", last_name=f"Person{i}")
            for i in range(n)
        ]
        for p in people:
            p.date_of_birth = born
        s.add_all(people)
        s.commit()
        return [int(p.id) for p in people]  # type: ignore[arg-type]


def _advisors(engine: Engine, n: int) -> list[int]:
    with Session(engine) as s:
        found = [
            Advisor(username=f"desk{i}@bank.example", display_name=f"Desk {i}", password_hash="x")
            for i in range(n)
        ]
        s.add_all(found)
        s.commit()
        return [int(a.id) for a in found]  # type: ignore[arg-type]


def _enqueue(
    engine: Engine, person: int, thread: str = "t", *, at: datetime = NOW, **kw: Any
) -> int:
    with engine.begin() as conn:
        row = handoffs.enqueue(
            conn, person_id=person, thread=thread, reason="asked for a person", now=at, **kw
        )
    return int(row["id"])


def _claim(engine: Engine, handoff: int, advisor: int, at: datetime = NOW) -> bool:
    with engine.begin() as conn:
        return handoffs.claim(conn, handoff, advisor_id=advisor, now=at)


def _get(engine: Engine, handoff: int) -> dict[str, Any]:
    with engine.connect() as conn:
        found = handoffs.get(conn, handoff)
    assert found is not None
    return found


def _kinds(engine: Engine, handoff: int) -> list[str]:
    with engine.connect() as conn:
        return [r["kind"] for r in handoffs.lines(conn, handoff)]


# --- exactly-once claims under concurrency --------------------------------------------------


def test_of_many_advisors_claiming_one_conversation_at_once_exactly_one_wins(
    engine: Engine,
) -> None:
    person = _people(engine, 1)[0]
    advisors = _advisors(engine, RACERS)
    handoff = _enqueue(engine, person)
    gate = threading.Barrier(RACERS)
    won: dict[int, bool] = {}
    failures: list[BaseException] = []

    def race(advisor: int) -> None:
        try:
            gate.wait(timeout=30)
            won[advisor] = _claim(engine, handoff, advisor)
        except BaseException as exc:  # noqa: BLE001 - reported below, with the others
            failures.append(exc)

    threads = [threading.Thread(target=race, args=(a,)) for a in advisors]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert failures == []  # every loser was told no, none got a database error
    winners = [a for a, ok in won.items() if ok]
    assert len(won) == RACERS and len(winners) == 1
    row = _get(engine, handoff)
    assert row["status"] == "active" and row["advisor_id"] == winners[0]
    assert _kinds(engine, handoff).count("joined") == 1


def test_advisors_working_through_a_queue_at_once_claim_each_conversation_exactly_once(
    engine: Engine,
) -> None:
    people = _people(engine, 24)
    advisors = _advisors(engine, 6)
    ids = [_enqueue(engine, p, at=NOW + timedelta(seconds=i)) for i, p in enumerate(people)]
    gate = threading.Barrier(len(advisors))
    wins: list[tuple[int, int]] = []
    losses = Counter[int]()
    failures: list[BaseException] = []

    def work(advisor: int) -> None:
        # each advisor takes the head of the queue, as "take next" does: they all collide
        try:
            gate.wait(timeout=30)
            while True:
                with engine.connect() as conn:
                    waiting = handoffs.queue(conn)
                if not waiting:
                    return
                head = int(waiting[0]["id"])
                if _claim(engine, head, advisor):
                    wins.append((head, advisor))
                else:
                    losses[advisor] += 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(a,)) for a in advisors]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert failures == []
    claimed = Counter(h for h, _ in wins)
    assert sorted(claimed) == sorted(ids) and set(claimed.values()) == {1}
    for handoff, advisor in wins:
        row = _get(engine, handoff)
        assert row["status"] == "active" and row["advisor_id"] == advisor
        assert _kinds(engine, handoff).count("joined") == 1
    with engine.connect() as conn:
        assert handoffs.queue(conn) == []


# --- the queue ------------------------------------------------------------------------------


def test_enqueue_keeps_one_open_hand_off_per_thread(engine: Engine) -> None:
    person, other = _people(engine, 2)
    advisor = _advisors(engine, 1)[0]
    first = _enqueue(engine, person, "chat-1")
    assert _enqueue(engine, person, "chat-1", at=NOW + timedelta(minutes=1)) == first
    assert _kinds(engine, first) == ["queued"]  # asked twice, queued once
    assert _enqueue(engine, person, "chat-2") != first  # another conversation of theirs
    assert _enqueue(engine, other, "chat-1") != first  # another customer's thread of that name
    assert _claim(engine, first, advisor)
    assert _enqueue(engine, person, "chat-1") == first  # still open while the advisor holds it
    with engine.begin() as conn:
        handoffs.end(conn, first, advisor_id=advisor, status="returned", now=NOW)
    again = _enqueue(engine, person, "chat-1", at=NOW + timedelta(minutes=5))
    assert again != first and _get(engine, again)["status"] == "waiting"
    with engine.connect() as conn:
        assert handoffs.current(conn, person_id=person, thread="chat-1")["id"] == again  # type: ignore[index]


def test_the_queue_is_ordered_by_priority_then_by_how_long_each_has_waited(
    engine: Engine,
) -> None:
    a, b, c, d = _people(engine, 4)
    old = _enqueue(engine, a, at=NOW)
    fraud = _enqueue(engine, b, at=NOW + timedelta(minutes=3), priority=2)
    care = _enqueue(engine, c, at=NOW + timedelta(minutes=2), priority=1)
    newer = _enqueue(engine, d, at=NOW + timedelta(minutes=1))
    with engine.connect() as conn:
        order = [r["id"] for r in handoffs.queue(conn)]
        first = handoffs.queue(conn)[0]
    assert order == [fraud, care, old, newer]
    assert first["first_name"] == "Queue" and first["last_name"].startswith("Person")


def test_priority_for_suspected_fraud_and_for_customers_who_may_need_more_care() -> None:
    assert handoffs.priority_of("card", ["someone used my card, I think it's fraud"]) == 2
    assert handoffs.priority_of("I don't recognise a payment", []) == 2
    assert handoffs.priority_of("help with a bill", [], age=84) == 1
    assert handoffs.priority_of("help with a bill", ["hello"], age=40) == 0
    assert handoffs.priority_of("help with a bill", []) == 0


def test_the_place_and_wait_told_follow_the_queue_and_how_fast_advisors_claimed(
    engine: Engine,
) -> None:
    p1, p2, p3, p4 = _people(engine, 4)
    a1, a2 = _advisors(engine, 2)
    h1 = _enqueue(engine, p1, at=NOW)
    h2 = _enqueue(engine, p2, at=NOW + timedelta(seconds=1))
    h3 = _enqueue(engine, p3, at=NOW + timedelta(seconds=2))
    with engine.connect() as conn:
        # nothing timed yet: HANDLE_SECONDS per place, and no advisor is busy
        assert handoffs.place(conn, h1) == {
            "position": 1,
            "wait_seconds": handoffs.HANDLE_SECONDS,
        }
        assert handoffs.place(conn, h3)["position"] == 3  # type: ignore[index]
    assert _claim(engine, h1, a1, NOW + timedelta(seconds=60))  # waited 60 s
    with engine.connect() as conn:
        assert handoffs.place(conn, h1) is None  # no longer waiting
        # one advisor busy, 60 s per place
        assert handoffs.place(conn, h3) == {"position": 2, "wait_seconds": 120}
    assert _claim(engine, h2, a2, NOW + timedelta(seconds=121))  # waited 120 s
    h4 = _enqueue(engine, p4, at=NOW + timedelta(seconds=130))
    with engine.connect() as conn:
        # the median of 60 and 120 s per place, shared between two busy advisors
        assert handoffs.place(conn, h3) == {"position": 1, "wait_seconds": 45}
        assert handoffs.place(conn, h4) == {"position": 2, "wait_seconds": 90}
        # one read tells every waiting customer their place, in the order advisors take them
        assert handoffs.places(conn) == {
            h3: {"position": 1, "wait_seconds": 45},
            h4: {"position": 2, "wait_seconds": 90},
        }


# --- speaking and ending --------------------------------------------------------------------


def test_only_the_holding_advisor_speaks_and_only_in_an_active_conversation(
    engine: Engine,
) -> None:
    person = _people(engine, 1)[0]
    holder, other = _advisors(engine, 2)
    handoff = _enqueue(engine, person)
    with engine.begin() as conn, pytest.raises(Refused, match="not with an advisor"):
        handoffs.say(conn, handoff, author="customer", text="hello?")
    assert _claim(engine, handoff, holder)
    assert not _claim(engine, handoff, other)  # a late click loses
    with engine.begin() as conn, pytest.raises(Refused, match="Another advisor"):
        handoffs.say(conn, handoff, author="advisor", text="hi", advisor_id=other)
    with engine.begin() as conn:
        mine = handoffs.say(conn, handoff, author="advisor", text=" Hi,  Maya ", advisor_id=holder)
        theirs = handoffs.say(conn, handoff, author="customer", text="thanks")
    with engine.begin() as conn, pytest.raises(Refused):
        handoffs.say(conn, handoff, author="customer", text="   ")
    with engine.connect() as conn:
        found = handoffs.lines(conn, handoff)
        after = handoffs.lines(conn, handoff, after=mine["id"])
    assert [(r["author"], r["kind"]) for r in found] == [
        ("system", "queued"),
        ("system", "joined"),
        ("advisor", "text"),
        ("customer", "text"),
    ]
    assert found[1]["text"] == "Desk 0 joined the chat"
    assert found[2]["text"] == "Hi, Maya" and found[2]["advisor_id"] == holder
    assert [r["id"] for r in after] == [theirs["id"]]  # a reader reads on from its last line
    # each line names the one before it in its conversation, so a listener can tell a gap
    assert [mine["prev"], theirs["prev"]] == [found[1]["id"], found[2]["id"]]


def test_ending_a_conversation_hands_it_back_or_closes_it_with_an_outcome(
    engine: Engine,
) -> None:
    p1, p2 = _people(engine, 2)
    holder, other = _advisors(engine, 2)
    with Session(engine) as s:
        case = HandoffCase(person_id=p2, reason="card", summary="lost card", opened_at=NOW)
        s.add(case)
        s.commit()
        case_id = int(case.id)  # type: ignore[arg-type]
    back = _enqueue(engine, p1)
    closed = _enqueue(engine, p2, case_id=case_id)
    assert _claim(engine, back, holder) and _claim(engine, closed, holder)

    later = NOW + timedelta(minutes=9)
    with engine.begin() as conn, pytest.raises(Refused, match="advisor holding"):
        handoffs.end(conn, back, advisor_id=other, status="returned", now=later)
    with engine.begin() as conn:
        ended = handoffs.end(conn, back, advisor_id=holder, status="returned", now=later)
    assert ended["status"] == "returned" and ended["outcome"] is None
    assert ended["line"]["kind"] == "returned"
    assert handoffs._aware(_get(engine, back)["ended_at"]) == later
    with engine.begin() as conn, pytest.raises(Refused, match="advisor holding"):
        handoffs.end(conn, back, advisor_id=holder, status="returned", now=later)  # once only

    for outcome in (None, "sorted"):
        with engine.begin() as conn, pytest.raises(Refused, match="outcome must be"):
            handoffs.end(
                conn, closed, advisor_id=holder, status="closed", now=later, outcome=outcome
            )
    assert _get(engine, closed)["status"] == "active"  # a refused close changes nothing
    with engine.begin() as conn:
        done = handoffs.end(
            conn, closed, advisor_id=holder, status="closed", now=later, outcome="resolved"
        )
    assert done["status"] == "closed" and done["outcome"] == "resolved"
    assert done["line"]["text"] == "Closed: resolved"
    with engine.connect() as conn:
        status = conn.execute(
            text("SELECT status FROM handoff_case WHERE id = :c"), {"c": case_id}
        ).scalar_one()
    assert status == "closed"


def test_a_customer_who_leaves_a_message_goes_out_of_the_queue(engine: Engine) -> None:
    person, stranger = _people(engine, 2)
    advisor = _advisors(engine, 1)[0]
    handoff = _enqueue(engine, person)
    with engine.begin() as conn, pytest.raises(Refused):
        handoffs.leave(conn, handoff, person_id=stranger, text="not mine", now=NOW)
    with engine.begin() as conn:
        handoffs.leave(conn, handoff, person_id=person, text="call me tomorrow", now=NOW)
    row = _get(engine, handoff)
    assert row["status"] == "left"
    with engine.connect() as conn:
        last = handoffs.lines(conn, handoff)[-1]
        assert handoffs.queue(conn) == [] and handoffs.place(conn, handoff) is None
        assert handoffs.current(conn, person_id=person, thread="t") is None
    assert (last["author"], last["kind"], last["text"]) == ("customer", "left", "call me tomorrow")
    assert not _claim(engine, handoff, advisor)  # nobody can take a conversation that left
    with engine.begin() as conn, pytest.raises(Refused):
        handoffs.leave(conn, handoff, person_id=person, text="again", now=NOW)  # once only


# --- the figures ----------------------------------------------------------------------------


def test_stats_give_containment_hand_off_rate_waits_and_assist_used(engine: Engine) -> None:
    with engine.connect() as conn:
        empty = handoffs.stats(conn, conversations=0)
    assert empty["containment"] == 1.0 and empty["handoff_rate"] == 0.0
    assert empty["wait_seconds_p50"] is None and empty["wait_seconds_p95"] is None

    people = _people(engine, 4)
    advisor = _advisors(engine, 1)[0]
    ids = [_enqueue(engine, p, at=NOW) for p in people]
    for handoff, waited in zip(ids, (30, 60, 120), strict=False):
        assert _claim(engine, handoff, advisor, NOW + timedelta(seconds=waited))
    with engine.begin() as conn:
        first = handoffs.suggested(conn, ids[0], [("article", "a1"), ("draft", "Hi")], NOW)
        handoffs.suggested(conn, ids[1], [("action", "offer-x")], NOW)
        assert handoffs.used(conn, ids[0], first[1])
        assert not handoffs.used(conn, ids[1], first[0])  # another conversation's suggestion
        figures = handoffs.stats(conn, conversations=20)
    assert figures == {
        "conversations": 20,
        "handed_off": 4,
        "handoff_rate": 0.2,
        "containment": 0.8,
        "waiting": 1,
        "wait_seconds_p50": 60.0,
        "wait_seconds_p95": 120.0,
        "assist_suggested": 3,
        "assist_used": 1,
    }
    with engine.connect() as conn:
        # fewer conversations counted than handed off (a checkpointer reset): never above 100%
        assert handoffs.stats(conn, conversations=2)["handoff_rate"] == 1.0


# --- opening hours --------------------------------------------------------------------------

NY = "America/New_York"


def _ny(day: int, hour: int, minute: int = 0) -> datetime:
    """2026-03-02 is a Monday; ``day`` 0-6 is Monday-Sunday of that week, New York time."""
    from zoneinfo import ZoneInfo

    return datetime(2026, 3, 2 + day, hour, minute, tzinfo=ZoneInfo(NY))


def test_hours_are_read_from_days_and_spans_in_the_banks_zone() -> None:
    hours = Hours.parse("mon-fri 08:00-20:00, sat 09:00-13:00", NY)
    assert hours.describe() == "Mon-Fri 08:00-20:00, Sat 09:00-13:00 (America/New_York)"
    assert hours.open_at(_ny(0, 8)) and hours.open_at(_ny(4, 19, 59))
    assert not hours.open_at(_ny(0, 7, 59)) and not hours.open_at(_ny(2, 20))  # end excluded
    assert hours.open_at(_ny(5, 12, 30)) and not hours.open_at(_ny(5, 13))
    assert not hours.open_at(_ny(6, 12))  # closed on Sunday
    # read in the bank's zone whatever the zone of the clock: 13:30 UTC is 08:30 in New York
    assert hours.open_at(datetime(2026, 3, 2, 13, 30, tzinfo=UTC))
    assert not hours.open_at(datetime(2026, 3, 2, 12, 30, tzinfo=UTC))


def test_the_next_opening_across_a_week() -> None:
    hours = Hours.parse("mon-fri 08:00-20:00, sat 09:00-13:00", NY)
    assert hours.next_opening(_ny(0, 7)) == _ny(0, 8)  # later the same morning
    assert hours.next_opening(_ny(0, 10)) == _ny(1, 8)  # open now: the next opening is tomorrow
    assert hours.next_opening(_ny(4, 21)) == _ny(5, 9)  # Friday night: Saturday morning
    assert hours.next_opening(_ny(5, 14)) == _ny(7, 8)  # Saturday afternoon: Monday
    assert hours.next_opening(_ny(6, 23, 59)) == _ny(7, 8)
    found = hours.next_opening(datetime(2026, 3, 8, 4, 0, tzinfo=UTC))  # Saturday 23:00 NY
    assert found == _ny(7, 8) and found.utcoffset() == timedelta(hours=-4)  # after DST began
    one_day = Hours.parse("wed 10:00-11:00", NY)
    assert one_day.next_opening(_ny(2, 10, 30)) == _ny(9, 10)  # a week later


def test_hours_round_the_clock_and_spans_that_wrap_the_week() -> None:
    always = Hours.parse("always", "Europe/London")
    assert always.describe() == "round the clock"
    assert all(always.open_at(NOW + timedelta(hours=h)) for h in range(0, 24 * 7, 5))
    assert Hours.parse(" 24/7 ").open_at(NOW)
    weekend = Hours.parse("fri-mon 10:00-24:00")
    assert [d for d, _, _ in weekend.spans] == [4, 5, 6, 0]
    assert weekend.spans[0][2] == time.max  # 24:00 is the end of the day
    assert weekend.open_at(datetime(2026, 3, 8, 23, 59, tzinfo=UTC))  # Sunday night
    assert not weekend.open_at(datetime(2026, 3, 4, 12, 0, tzinfo=UTC))  # Wednesday


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("funday 09:00-17:00", "cannot read"),
        ("mon-someday 09:00-17:00", "cannot read"),
        ("mon 9-17", "cannot read"),
        ("mon 17:00-09:00", "ends before it starts"),
        ("mon 09:00-09:00", "ends before it starts"),
        ("mon 09:00-25:00", "no time of day"),
        ("mon 09:75-10:00", "no time of day"),
        ("", "no days"),
        (" , ", "no days"),
    ],
)
def test_hours_that_cannot_be_read_are_refused_saying_why(written: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        Hours.parse(written)


def test_hours_in_an_unknown_zone_are_refused() -> None:
    with pytest.raises(Exception, match="Nowhere"):
        Hours.parse("always", "Nowhere/Atlantis")


def test_a_conversations_lines_commit_in_the_order_of_their_ids(engine: Engine) -> None:
    """A reader that has seen line n never misses a lower line committed after it."""
    [person] = _people(engine, 1)
    handoff = _enqueue(engine, person)
    first = engine.connect()
    slow = first.begin()
    early = handoffs.said(first, handoff, author="customer", text="typed first, committed late")
    done: dict[str, Any] = {}

    def later() -> None:
        with engine.begin() as conn:
            done["line"] = handoffs.said(conn, handoff, author="advisor", text="typed second")

    racer = threading.Thread(target=later)
    racer.start()
    racer.join(timeout=0.5)
    assert racer.is_alive(), "the second line committed while the first was still open"
    slow.commit()
    first.close()
    racer.join(timeout=30)
    assert done["line"]["id"] > early["id"]
    with engine.connect() as conn:
        after_first = handoffs.lines(conn, handoff, after=early["id"])
    assert [line["text"] for line in after_first] == ["typed second"]


def test_lines_said_at_once_each_name_the_line_before_them(engine: Engine) -> None:
    """Whoever commits next, ``prev`` is the line stored just before it in the conversation."""
    [person] = _people(engine, 1)
    handoff = _enqueue(engine, person)
    told: list[dict[str, Any]] = []

    def speak(who: int) -> None:
        for n in range(5):
            with engine.begin() as conn:
                line = handoffs.said(conn, handoff, author="customer", text=f"{who}.{n}")
            told.append(line)

    threads = [threading.Thread(target=speak, args=(who,)) for who in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with engine.connect() as conn:
        stored = [line["id"] for line in handoffs.lines(conn, handoff)]
    assert len(told) == 30 and len(stored) == 31  # the queued line, then the thirty
    by_id = sorted(told, key=lambda line: line["id"])
    assert [line["prev"] for line in by_id] == stored[:-1]
