"""Live delivery between a customer's chat and an advisor's console, across server processes.

A line said in a hand-off is written to the system of record first (:mod:`services.handoffs`),
then announced here on the conversation's topic (``handoff:<id>``); the queue's changes on
``queue``. Whoever holds the other end — on this process or another — hears it and forwards it
to its socket. Announcements carry the stored line with its id, so a listener that reconnects
reads on from the last id it saw and one that hears a line twice shows it once: nothing said
is lost or duplicated whatever the pub/sub does.

``InProcessHub`` serves one process (the embedded default); ``RedisHub`` uses Redis pub/sub so
a customer on one process and an advisor on another hear each other. :func:`make_hub` picks
one from the settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any, Protocol

log = logging.getLogger(__name__)
PREFIX = "concierge:live:"
QUEUE = "queue"


def topic_of(handoff_id: int) -> str:
    """The topic of one hand-off's conversation."""
    return f"handoff:{handoff_id}"


def handoff_of(topic: str) -> int:
    """The hand-off a conversation's topic (:func:`topic_of`) names."""
    return int(topic.removeprefix("handoff:"))


class Subscription(Protocol):
    """What one socket listens to; topics may be added while it listens."""

    async def listen(self, topic: str) -> None:
        """Hear ``topic`` from now on."""

    async def forget(self, topic: str) -> None:
        """Stop hearing ``topic``."""

    async def next(self, timeout: float) -> dict[str, Any] | None:
        """The next announcement on any topic heard, or None after ``timeout`` seconds."""

    async def close(self) -> None:
        """Stop hearing anything."""


class LiveHub(Protocol):
    """Announces events on topics to every subscription that hears them."""

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        """Announce ``event`` (JSON-ready) on ``topic``."""

    def subscribe(self) -> Subscription:
        """A new subscription, hearing nothing yet."""

    async def close(self) -> None:
        """Release connections."""


class _LocalSubscription:
    def __init__(self, hub: InProcessHub) -> None:
        self.hub, self.queue, self.topics = hub, asyncio.Queue[dict[str, Any]](), set[str]()

    async def listen(self, topic: str) -> None:
        self.topics.add(topic)
        self.hub.listeners.setdefault(topic, set()).add(self)

    async def forget(self, topic: str) -> None:
        self.topics.discard(topic)
        self.hub.listeners.get(topic, set()).discard(self)

    async def next(self, timeout: float) -> dict[str, Any] | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None

    async def close(self) -> None:
        for topic in list(self.topics):
            await self.forget(topic)


class InProcessHub:
    """Topics within one process (one event loop)."""

    def __init__(self) -> None:
        """No topics yet."""
        self.listeners: dict[str, set[_LocalSubscription]] = {}

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        """Hand ``event`` to every subscription hearing ``topic``."""
        for listener in list(self.listeners.get(topic, ())):
            listener.queue.put_nowait({"topic": topic, **event})

    def subscribe(self) -> Subscription:
        """A new local subscription."""
        return _LocalSubscription(self)

    async def close(self) -> None:
        """Nothing to release."""


class _SharedSubscription:
    """A socket's subscription on a :class:`RedisHub`: local fan-out of one shared connection."""

    def __init__(self, hub: RedisHub) -> None:
        self.hub, self.local = hub, hub.local.subscribe()
        self.topics: set[str] = set()

    async def listen(self, topic: str) -> None:
        if topic not in self.topics:
            self.topics.add(topic)
            await self.local.listen(topic)
            await self.hub.hear(topic)

    async def forget(self, topic: str) -> None:
        if topic in self.topics:
            self.topics.discard(topic)
            await self.local.forget(topic)
            await self.hub.unhear(topic)

    async def next(self, timeout: float) -> dict[str, Any] | None:
        return await self.local.next(timeout)

    async def close(self) -> None:
        for topic in list(self.topics):
            await self.forget(topic)


class RedisHub:
    """Topics on Redis pub/sub, shared by every server process on the same Redis.

    A process holds one pub/sub connection, whatever the number of sockets: it subscribes to a
    topic while any local socket hears it, and one reader hands each announcement to the local
    subscriptions (as :class:`InProcessHub` does), so a thousand open chats take one connection.
    """

    def __init__(self, url: str) -> None:
        """Connect lazily to the Redis at ``url``."""
        import redis.asyncio as aioredis

        self.client = aioredis.Redis.from_url(url)
        self.local = InProcessHub()
        self.heard: dict[str, int] = {}
        self.pubsub: Any = None
        self.reader: asyncio.Task[None] | None = None

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        """Announce ``event`` on ``topic`` to every process."""
        await self.client.publish(PREFIX + topic, json.dumps(event, default=str))

    def subscribe(self) -> Subscription:
        """A new subscription, fanned out from the process's one connection."""
        return _SharedSubscription(self)

    async def hear(self, topic: str) -> None:
        """Subscribe the shared connection to ``topic`` (once, however many sockets hear it)."""
        self.heard[topic] = self.heard.get(topic, 0) + 1
        if self.heard[topic] > 1:
            return
        if self.pubsub is None:
            self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        await self.pubsub.subscribe(PREFIX + topic)
        if self.reader is None or self.reader.done():
            self.reader = asyncio.create_task(self._read())

    async def unhear(self, topic: str) -> None:
        """One socket fewer hears ``topic``; unsubscribe when none does."""
        left = self.heard.get(topic, 0) - 1
        if left > 0:
            self.heard[topic] = left
            return
        self.heard.pop(topic, None)
        if self.pubsub is not None:
            with contextlib.suppress(Exception):
                await self.pubsub.unsubscribe(PREFIX + topic)

    async def _read(self) -> None:
        while True:
            try:
                found = await self.pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - Redis went away: the stores are read anyway
                log.warning("live announcements interrupted; retrying", exc_info=True)
                await asyncio.sleep(1.0)
                continue
            if found is None or found.get("type") != "message":
                continue
            try:
                event = json.loads(found["data"])
            except (TypeError, ValueError):
                log.warning("dropped a malformed live announcement")
                continue
            channel = found["channel"]
            channel = channel.decode() if isinstance(channel, bytes) else str(channel)
            await self.local.publish(channel.removeprefix(PREFIX), event)

    async def close(self) -> None:
        """Stop reading and close the connections."""
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.reader
        with contextlib.suppress(Exception):
            if self.pubsub is not None:
                await self.pubsub.aclose()
            await self.client.aclose()


def make_hub(redis_url: str | None) -> LiveHub:
    """Redis pub/sub when a Redis is configured, else in-process."""
    return RedisHub(redis_url) if redis_url else InProcessHub()
