"""Identity resolution on a real database: rules, probabilistic matches, prospects, devices."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, select, text
from sqlmodel import Session

from services.identity.resolution import resolve
from services.models import CrmContact, DigitalEvent, Person
from services.synth.writer import seed_bank

AS_OF = date(2026, 11, 28)


def _people(engine: Engine) -> list[Person]:
    with Session(engine) as session:
        return list(session.exec(select(Person).order_by(Person.id)).scalars())


def _core_key(engine: Engine, person_id: int) -> str:
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT source_key FROM source_identity WHERE person_id = :p "
                "AND system = 'core_banking'"
            ),
            {"p": person_id},
        ).scalar_one()


def _contact_person(engine: Engine) -> dict[str, int | None]:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT contact_id, person_id FROM crm_contact")).all())


def _setup(engine: Engine) -> list[Person]:
    seed_bank(engine, customers=8, seed=3, as_of=AS_OF, workers=1)
    people = _people(engine)
    a, b, c, d = people[:4]
    street = (c.address_line or "").replace("Street", "St.").replace("Avenue", "Ave")
    with Session(engine) as session:
        session.add_all(
            [
                # a cross-reference to the core id, with everything else blank
                CrmContact(contact_id="X1", core_customer_id=_core_key(engine, a.id)),
                # the same e-mail, typed with odd casing and spaces
                CrmContact(
                    contact_id="X2",
                    first_name="??",
                    last_name="??",
                    email=f"  {(b.email or '').upper()} ",
                ),
                # no shared key at all: a nickname, a typo, the same birthday and street
                CrmContact(
                    contact_id="X3",
                    first_name=c.first_name.lower(),
                    last_name=c.last_name[:-1] + c.last_name[-1].upper(),
                    date_of_birth=c.date_of_birth,
                    street=street,
                    postal_code=c.postal_code,
                    city=c.city,
                ),
                # d's namesake: different birthday, address and contacts -> a different person
                CrmContact(
                    contact_id="X4",
                    first_name=d.first_name,
                    last_name=d.last_name,
                    date_of_birth=date(1931, 1, 1),
                    street="1 Nowhere Rd",
                    postal_code="00001",
                    email="someone.else@example.org",
                ),
                # a prospect the bank does not hold, entered twice
                CrmContact(
                    contact_id="P1",
                    first_name="Zebulon",
                    last_name="Quartermaine",
                    date_of_birth=date(1990, 5, 17),
                    street="9 Elm Street",
                    postal_code="12345",
                    phone="(555) 010-9999",
                ),
                CrmContact(
                    contact_id="P2",
                    first_name="Zeb",
                    last_name="Quartermain",
                    date_of_birth=date(1990, 5, 17),
                    street="9 Elm St",
                    postal_code="12345",
                    phone="555.010.9999",
                ),
            ]
        )
        session.commit()
    return people


def test_rules_and_probabilistic_matches_link_the_right_people(engine: Engine) -> None:
    people = _setup(engine)
    before = len(people)
    report = resolve(engine)
    linked = _contact_person(engine)
    a, b, c, d = people[:4]
    assert linked["X1"] == a.id
    assert linked["X2"] == b.id
    assert linked["X3"] == c.id
    assert linked["X4"] not in {p.id for p in people}
    assert linked["P1"] == linked["P2"] and linked["P1"] is not None
    after = _people(engine)
    assert len(after) == before + 2  # the namesake and the prospect
    assert {p.segment for p in after[before:]} == {"prospect"}
    assert report.probabilistic_links >= 1  # X3 shares no key with c


def test_resolution_is_idempotent(engine: Engine) -> None:
    _setup(engine)
    resolve(engine)
    first = (_contact_person(engine), len(_people(engine)))
    resolve(engine)
    assert (_contact_person(engine), len(_people(engine))) == first
    with engine.connect() as conn:
        dupes = conn.execute(
            text(
                "SELECT system, source_key FROM source_identity GROUP BY "
                "system, source_key HAVING COUNT(*) > 1"
            )
        ).all()
    assert dupes == []


def test_a_device_is_stitched_when_it_logs_in(engine: Engine) -> None:
    people = _setup(engine)
    target = people[5]
    start = datetime(2026, 11, 27, 9, tzinfo=UTC)
    with Session(engine) as session:
        for k, (kind, user) in enumerate(
            [
                ("page_view", None),
                ("page_view", None),
                ("login", (target.email or "").upper()),
                ("page_view", (target.email or "").upper()),
            ]
        ):
            session.add(
                DigitalEvent(
                    device_id="NEWDEVICE",
                    session_id="s1",
                    channel="web",
                    occurred_at=start + timedelta(minutes=k),
                    kind=kind,
                    user_id=user,
                    source_ref=f"E{k}",
                )
            )
        session.add(
            DigitalEvent(
                device_id="OTHER",
                session_id="s2",
                channel="web",
                occurred_at=start,
                kind="page_view",
                source_ref="E9",
            )
        )
        session.commit()
    report = resolve(engine)
    with engine.connect() as conn:
        owners = dict(
            conn.execute(
                text("SELECT source_ref, person_id FROM digital_event WHERE source_ref IS NOT NULL")
            ).all()
        )
    assert owners == {
        "E0": target.id,
        "E1": target.id,
        "E2": target.id,
        "E3": target.id,
        "E9": None,
    }
    assert report.events_attributed >= 4
