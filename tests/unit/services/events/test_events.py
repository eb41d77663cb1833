"""The event model: per-type payload validation, UTC times, JSON round trip; the bus factory."""

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from services.events import Event
from tests.support.event_samples import NOW, digital, profile, transaction


def test_json_round_trip_keeps_every_field() -> None:
    event = transaction("t1", 7, NOW, -420, merchant="Blue Bottle", balance_after_minor=10_000)
    again = Event.from_json(event.to_json())
    assert again == event
    assert again.data["amount_minor"] == -420 and isinstance(again.data["amount_minor"], int)


def test_times_are_normalised_to_utc() -> None:
    local = datetime(2026, 11, 28, 9, 0, tzinfo=timezone(timedelta(hours=-5)))
    event = digital("d1", 1, local, "login")
    assert event.occurred_at == datetime(2026, 11, 28, 14, 0, tzinfo=NOW.tzinfo)
    assert event.occurred_at.utcoffset() == timedelta(0)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValidationError):
        digital("d1", 1, datetime(2026, 11, 28, 9, 0), "login")


@pytest.mark.parametrize("amount", [4.2, "420", True, None])
def test_amounts_must_be_integer_minor_units(amount: object) -> None:
    with pytest.raises(ValidationError):
        transaction("t1", 1, NOW, amount)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("transaction", {"account_id": 1, "amount_minor": 1, "currency": "usd"}),
        ("transaction", {"account_id": 1, "amount_minor": 1, "currency": "USD", "category": "x"}),
        ("digital", {"kind": "teleport", "channel": "app"}),
        ("digital", {"kind": "login", "channel": "app", "colour": "red"}),
        ("profile", {"field": "Marketing Consent", "value": True}),
        ("profile", {"field": "push", "value": 0.5}),
        ("profile", {"field": "push", "value": ["a"]}),
    ],
)
def test_payloads_are_validated_per_type(kind: str, data: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Event(id="x", type=kind, person_id=1, occurred_at=NOW, data=data)


def test_a_payload_of_another_type_is_refused() -> None:
    with pytest.raises(ValidationError):
        Event(id="x", type="digital", person_id=1, occurred_at=NOW, data={"field": "push"})


def test_unset_optional_fields_are_left_out_and_events_are_frozen() -> None:
    event = profile("p1", 1, NOW, "push", False)
    assert event.data == {"field": "push", "value": False}
    assert "merchant" not in transaction("t1", 1, NOW, -1).data
    with pytest.raises(ValidationError):
        event.id = "other"  # type: ignore[misc]
