"""Events about a person, and the bus that carries them to the consumers that keep profiles.

Three kinds travel on the bus: a booked ``transaction``, a ``digital`` app or web event, and a
``profile`` change (a preference or consent). Each carries a globally unique ``id`` so that a
consumer can recognise a re-delivery: the bus delivers at least once, consumers are idempotent.

Two adapters implement :class:`EventBus`: ``InProcessBus`` (:mod:`.in_process`, the embedded
default) and ``RedisStreamBus`` (:mod:`.redis_streams`, consumer groups on a Redis stream); the
composition root (``app.bootstrap.event_bus``) picks one from the settings. Both have the same
delivery semantics: groups each see every event, consumers of one group share them, a batch is
acknowledged only after its handler returned, and entries left pending by a dead consumer are
claimed by another after ``claim_idle_ms``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Protocol

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
)

log = logging.getLogger(__name__)

EventType = Literal["transaction", "digital", "profile"]
DigitalKind = Literal["app_open", "login", "page_view", "search", "click", "calculator"]
Handler = Callable[[Sequence["Event"]], None]
"""Processes a batch; returning means every event of it is done and may be acknowledged."""

_Name = Annotated[str, Field(min_length=1, max_length=100)]


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TransactionData(_Payload):
    """A booked transaction: signed integer minor units (credit positive), never a float."""

    account_id: StrictInt
    amount_minor: StrictInt
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    category: _Name
    channel: _Name
    merchant: _Name | None = None
    balance_after_minor: StrictInt | None = None
    account_type: _Name | None = None  # checking, savings, ... when the source knows it


class DigitalData(_Payload):
    """An app or web event of a signed-in customer."""

    kind: DigitalKind
    channel: _Name
    page: Annotated[str, Field(max_length=200)] | None = None
    detail: Annotated[str, Field(max_length=200)] | None = None
    device_id: _Name | None = None
    session_id: _Name | None = None


class ProfileData(_Payload):
    """A change to a preference or consent, e.g. ``{"field": "marketing_consent", ...}``."""

    field: str = Field(pattern=r"^[a-z][a-z0-9_]{0,49}$")
    value: StrictBool | StrictInt | StrictStr | None


PAYLOADS: dict[str, type[_Payload]] = {
    "transaction": TransactionData,
    "digital": DigitalData,
    "profile": ProfileData,
}


class Event(BaseModel):
    """One thing that happened to a person, as it travels on the bus.

    ``data`` is validated against the payload model of ``type`` (``TransactionData``,
    ``DigitalData`` or ``ProfileData``) and kept as a plain dict without unset optional keys.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=200)
    type: EventType
    person_id: int = Field(ge=0)
    occurred_at: AwareDatetime
    data: dict[str, Any]

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @field_validator("data")
    @classmethod
    def _payload(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        kind = info.data.get("type")
        if kind is None:  # the type itself failed validation and is reported already
            return value
        model = PAYLOADS[kind]
        fields = model.model_fields
        dumped = model.model_validate(value).model_dump()
        # Unset optional keys go; a required one stays even when null (a cleared preference).
        return {k: v for k, v in dumped.items() if v is not None or fields[k].is_required()}

    def to_json(self) -> bytes:
        """The event as compact UTF-8 JSON."""
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, raw: str | bytes) -> Event:
        """Parse and validate an event from JSON.

        Raises:
            pydantic.ValidationError: when the text is not a valid event.
        """
        return cls.model_validate_json(raw)


class EventBus(Protocol):
    """Carries events from producers to groups of consumers, at least once."""

    def publish(self, event: Event) -> None:
        """Append one event to the bus."""
        ...

    def publish_many(self, events: Iterable[Event]) -> int:
        """Append events in one go; returns how many were published."""
        ...

    def consume(
        self, group: str, consumer: str, handler: Handler, *, count: int = 200, block_ms: int = 100
    ) -> int:
        """Hand one batch (claimed stale entries first, else new ones) to ``handler``.

        Waits up to ``block_ms`` for events. Acknowledges what the handler finished; when a
        batch fails, its events are retried one by one and those that still fail stay pending
        for a later claim. A ``BaseException`` that is not an ``Exception`` (a crash) propagates
        with nothing acknowledged. Returns how many events were acknowledged.
        """
        ...

    def pending(self, group: str) -> int:
        """How many events of ``group`` are delivered but not yet acknowledged (lag alarms)."""
        ...

    def close(self) -> None:
        """Release connections; the bus is not used afterwards."""
        ...


def deliver(handler: Handler, events: Sequence[Event]) -> list[int]:
    """Run ``handler`` on a batch; returns the indexes of the events that are done.

    A failing batch is retried event by event so that one bad event does not hold back the
    others; the failures are logged and left out of the result (so they stay unacknowledged).
    """
    try:
        handler(events)
        return list(range(len(events)))
    except Exception:
        if len(events) == 1:
            log.exception("event %s failed", events[0].id)
            return []
    done = []
    for index, event in enumerate(events):
        try:
            handler([event])
            done.append(index)
        except Exception:
            log.exception("event %s failed", event.id)
    return done


def run_consumer(
    bus: EventBus,
    group: str,
    consumer: str,
    handler: Handler,
    *,
    stop: threading.Event,
    count: int = 200,
    block_ms: int = 100,
) -> None:
    """Consume until ``stop`` is set; a failing poll (e.g. a lost connection) is retried."""
    while not stop.is_set():
        try:
            bus.consume(group, consumer, handler, count=count, block_ms=block_ms)
        except Exception:
            log.exception("consumer %s/%s failed; retrying", group, consumer)
            stop.wait(1.0)
