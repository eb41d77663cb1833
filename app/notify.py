"""Notifications in the server process: the notifier on the event consumer, a dispatcher, a clock.

:class:`Notifications` wires :mod:`services.notifications` into the app: the notifier decides
each booked batch of events (a handler of the live consumer), the dispatcher sends what is due
(when ``CONCIERGE_NOTIFY_DISPATCH`` is on; otherwise ``concierge notify work`` processes do),
and the scheduler looks every ``CONCIERGE_NOTIFY_SWEEP_SECONDS`` at the customers whose data or
day changed. An in-app notification reaches the customer's open pages as a toast through the
live hub (topic ``inbox:<customer>``), so it crosses server processes on Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from app.live import LiveHub
from services.notifications.channels.setup import build_channels
from services.notifications.dispatch import Dispatcher
from services.notifications.notifier import Notifier
from services.recommendations.actions import Catalog
from services.settings import Settings

log = logging.getLogger(__name__)


def inbox_topic(person_id: int) -> str:
    """The live topic a customer's open pages hear new in-app notifications on."""
    return f"inbox:{person_id}"


class Notifications:
    """The notifier, the dispatcher and the scheduler of one server process."""

    def __init__(self, settings: Settings, engine: Engine, catalog: Catalog, hub: LiveHub) -> None:
        """Build the parts; :meth:`start` runs the dispatcher and the scheduler."""
        self.settings, self.hub = settings, hub
        self.channels = build_channels(settings)
        self.dispatcher = Dispatcher(
            engine,
            self.channels,
            in_app=self.tell_pages,
            app_url=settings.app_url,
            lease=timedelta(seconds=settings.notify_lease_seconds),
        )
        self.notifier = Notifier(
            engine,
            catalog=catalog,
            channels=self.channels,
            on_due=self.dispatcher.wake if settings.notify_dispatch else None,
        )
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []

    async def tell_pages(self, person_id: int, value: dict[str, Any]) -> None:
        """Show a new in-app notification on the customer's open pages, on any process."""
        try:
            await self.hub.publish(
                inbox_topic(person_id), {"event": "notification", "value": value}
            )
        except Exception:  # noqa: BLE001 - the inbox holds it; a missed toast is not a failure
            log.warning("could not show a notification on the customer's open pages")

    async def start(self) -> None:
        """Run the dispatcher (when this process sends) and the scheduler."""
        self._stop.clear()
        if self.settings.notify_dispatch:
            self._tasks.append(asyncio.create_task(self.dispatcher.run(self._stop)))
        self._tasks.append(asyncio.create_task(self._sweeps()))

    async def _sweeps(self) -> None:
        every = self.settings.notify_sweep_seconds
        first = True
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), every)
                return
            try:
                found = await asyncio.to_thread(self.notifier.sweep, everyone=first)
                first = False
                log.info("notification sweep: %s", found)
            except Exception:  # noqa: BLE001 - the next pass tries again
                log.exception("notification sweep failed")

    async def stop(self) -> None:
        """Stop the dispatcher and the scheduler (what a worker holds is handed back)."""
        self._stop.set()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
