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


class _RedisSubscription:
    def __init__(self, client: Any) -> None:
        self.pubsub = client.pubsub(ignore_subscribe_messages=True)
        self.started = False

    async def listen(self, topic: str) -> None:
        await self.pubsub.subscribe(PREFIX + topic)
        self.started = True

    async def forget(self, topic: str) -> None:
        await self.pubsub.unsubscribe(PREFIX + topic)

    async def next(self, timeout: float) -> dict[str, Any] | None:
        if not self.started:
            await asyncio.sleep(timeout)
            return None
        found = await self.pubsub.get_message(timeout=timeout)
        if found is None or found.get("type") != "message":
            return None
        try:
            event = json.loads(found["data"])
        except (TypeError, ValueError):
            log.warning("dropped a malformed live announcement")
            return None
        channel = found["channel"]
        channel = channel.decode() if isinstance(channel, bytes) else str(channel)
        return {"topic": channel.removeprefix(PREFIX), **event}

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.pubsub.aclose()


class RedisHub:
    """Topics on Redis pub/sub, shared by every server process on the same Redis."""

    def __init__(self, url: str) -> None:
        """Connect lazily to the Redis at ``url``."""
        import redis.asyncio as aioredis

        self.client = aioredis.Redis.from_url(url)

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        """Announce ``event`` on ``topic`` to every process."""
        await self.client.publish(PREFIX + topic, json.dumps(event, default=str))

    def subscribe(self) -> Subscription:
        """A new subscription on its own pub/sub connection."""
        return _RedisSubscription(self.client)

    async def close(self) -> None:
        """Close the connection pool."""
        with contextlib.suppress(Exception):
            await self.client.aclose()


def make_hub(redis_url: str | None) -> LiveHub:
    """Redis pub/sub when a Redis is configured, else in-process."""
    return RedisHub(redis_url) if redis_url else InProcessHub()
