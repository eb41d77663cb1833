"""Workers that empty the outbox: claim due deliveries, send them, mark them.

A :class:`Dispatcher` claims a batch under a lease (:func:`.outbox.claim`), sends each delivery
on its channel concurrently, and marks it sent, failed (retried with backoff) or dead. The
in-app channel's "send" tells the customer's open pages (a toast) through ``in_app``; the
notification is in their inbox whether or not a page is open. Several dispatchers, in one
process or many, share the outbox safely; a dispatcher killed mid-send leaves its rows to be
claimed again when their lease ends, and each resend carries the same idempotency key, so the
provider recognises it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import SQLModel

from services.notifications.channels import Channel, DeliveryError, Message
from services.notifications.copy import copy_on, email_html, email_text
from services.notifications.outbox import LEASE, Claimed, claim, mark_failed, mark_sent
from services.notifications.policy import Contact

log = logging.getLogger(__name__)
_T = SQLModel.metadata.tables
InApp = Callable[[int, dict[str, Any]], Awaitable[None]]


def toast(row: Claimed) -> dict[str, Any]:
    """The in-app notification as the customer's page shows it."""
    title, body = copy_on(row.data, "in_app", row.title, row.body)
    return {
        "id": row.notification_id,
        "kind": row.kind,
        "title": title,
        "body": body,
        "createdAt": row.created_at.isoformat(),
    }


class Dispatcher:
    """Claims and sends due deliveries until stopped.

    Args:
        engine: The system of record holding the outbox.
        channels: The adapters by channel name (``email``, ``push``, ``sms``).
        in_app: Tells a customer's open pages of a new in-app notification.
        worker: This worker's name in the outbox (default: host and process id).
        batch: Deliveries claimed at once.
        app_url: Where the e-mails' link goes.
        lease: How long a claimed delivery is this worker's before another may take it.
        clock: The time (tests fix it).
    """

    def __init__(
        self,
        engine: Engine,
        channels: Mapping[str, Channel],
        *,
        in_app: InApp | None = None,
        worker: str | None = None,
        batch: int = 50,
        app_url: str = "http://127.0.0.1:8000/",
        lease: timedelta = LEASE,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.engine, self.channels, self.in_app = engine, dict(channels), in_app
        self.worker = worker or f"{socket.gethostname()}-{os.getpid()}-{id(self):x}"
        self.batch, self.app_url, self.lease = batch, app_url, lease
        self.clock = clock or (lambda: datetime.now(UTC))
        self.sent = self.failed = 0
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self, _due: int = 0) -> None:
        """Look at the outbox now (safe from any thread)."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self, stop: asyncio.Event, *, idle_s: float = 1.0) -> None:
        """Send until ``stop`` is set, looking again at once after a full batch."""
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        while not stop.is_set():
            try:
                done = await self.run_once()
            except Exception:  # noqa: BLE001 - a lost database must not end the worker
                log.exception("notification dispatch failed; retrying")
                done = 0
            if done >= self.batch:
                continue
            self._wake.clear()
            waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waits, timeout=idle_s, return_when=asyncio.FIRST_COMPLETED)
            for waiting in waits:
                waiting.cancel()

    async def run_once(self) -> int:
        """Claim one batch and send it; how many deliveries were claimed."""
        claimed, addresses = await asyncio.to_thread(self._claim)
        if claimed:
            await asyncio.gather(*(self._send(row, addresses) for row in claimed))
        return len(claimed)

    def _claim(self) -> tuple[list[Claimed], dict[int, tuple[str | None, str | None]]]:
        with self.engine.begin() as conn:
            rows = claim(
                conn,
                worker=self.worker,
                now=self.clock(),
                limit=self.batch,
                lease=self.lease,
                channels=("in_app", *self.channels),  # a channel it cannot send is another's
            )
            if not rows:
                return [], {}
            p = _T["person"]
            people = {r.person_id for r in rows}
            found = conn.execute(select(p.c.id, p.c.email, p.c.phone).where(p.c.id.in_(people)))
            return rows, {int(pid): (email, phone) for pid, email, phone in found}

    async def _send(
        self, row: Claimed, addresses: dict[int, tuple[str | None, str | None]]
    ) -> None:
        try:
            provider_id = await self._deliver(row, addresses.get(row.person_id, (None, None)))
        except DeliveryError as exc:
            await asyncio.to_thread(self._failed, row, str(exc), exc.permanent)
            return
        except Exception as exc:  # noqa: BLE001 - an adapter's bug is a failed attempt, not a crash
            log.exception("notification %s on %s failed", row.notification_id, row.channel)
            await asyncio.to_thread(self._failed, row, f"{type(exc).__name__}: {exc}", False)
            return
        await asyncio.to_thread(self._sent, row, provider_id)

    async def _deliver(self, row: Claimed, address: tuple[str | None, str | None]) -> str:
        if row.channel == "in_app":
            if self.in_app is not None:
                await self.in_app(row.person_id, toast(row))
            return f"inbox:{row.notification_id}"
        adapter = self.channels.get(row.channel)
        if adapter is None:
            raise DeliveryError(f"no {row.channel} channel is configured", permanent=True)
        email, phone = address
        to = Contact(person_id=row.person_id, email=email, phone=phone).address(row.channel)
        if not to:
            raise DeliveryError(f"no address for {row.channel}", permanent=True)
        title, body = copy_on(row.data, row.channel, row.title, row.body)
        link = f"{self.app_url.rstrip('/')}/?notification={row.notification_id}"
        message = Message(
            channel=row.channel,
            to=to,
            subject=title,
            text=email_text(title, body, link) if row.channel == "email" else body,
            html=email_html(title, body, link) if row.channel == "email" else None,
            dedupe_key=f"{row.dedupe_key}:{row.channel}:{row.notification_id}",
            data={"notification_id": row.notification_id, "kind": row.kind, "link": link},
        )
        return await adapter.send(message)

    def _sent(self, row: Claimed, provider_id: str) -> None:
        with self.engine.begin() as conn:
            if mark_sent(
                conn, row.id, worker=self.worker, now=self.clock(), provider_id=provider_id
            ):
                self.sent += 1

    def _failed(self, row: Claimed, error: str, permanent: bool) -> None:
        with self.engine.begin() as conn:
            state = mark_failed(
                conn, row.id, worker=self.worker, now=self.clock(), error=error, permanent=permanent
            )
        if state is not None:
            self.failed += 1
            log.warning(
                "notification %s on %s: %s (%s)", row.notification_id, row.channel, error, state
            )
