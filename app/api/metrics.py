"""``GET /metrics``: Prometheus text exposition of the app's own counters.

Each app has its own registry (tests build many apps in one process): HTTP requests counted and
timed by method, route template (``/api/advisor/cases/{case}``, never the raw path, so ids do
not explode the label set) and status; chat turns and chat errors by code; and, read from the
system of record when scraped (so every server process reports the same), the live hand-off's
containment, hand-off rate, conversations waiting, waits p50/p95 and assist suggestions used.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])
UNMATCHED = "<unmatched>"


class HandoffCollector(Collector):
    """The live hand-off's figures, read from the system of record at each scrape."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        """Containment, hand-off rate, waiting, waits and assist use (nothing before start-up)."""
        state = getattr(self.app, "state", None) if self.app is not None else None
        if state is None or getattr(state, "engine", None) is None:
            return
        from app.api.live import live_stats

        try:
            found = live_stats(self.app)
        except Exception:  # noqa: BLE001 - a scrape must not fail for one figure
            log.warning("could not read the live hand-off figures", exc_info=True)
            return
        for name, key, about in (
            ("concierge_containment", "containment", "Share of conversations without a person."),
            ("concierge_handoff_rate", "handoff_rate", "Share of conversations handed off."),
            ("concierge_handoffs_waiting", "waiting", "Conversations waiting for an advisor."),
        ):
            yield GaugeMetricFamily(name, about, value=float(found[key]))
        waits = GaugeMetricFamily(
            "concierge_handoff_wait_seconds",
            "Seconds from asking for a person to an advisor's claim.",
            labels=["quantile"],
        )
        for quantile, key in (("0.5", "wait_seconds_p50"), ("0.95", "wait_seconds_p95")):
            if found[key] is not None:
                waits.add_metric([quantile], float(found[key]))
        yield waits
        assist = GaugeMetricFamily(
            "concierge_assist_suggestions",
            "Suggestions the assistant made to advisors, by whether they were used.",
            labels=["used"],
        )
        assist.add_metric(["true"], float(found["assist_used"]))
        assist.add_metric(["false"], float(found["assist_suggested"] - found["assist_used"]))
        yield assist


class Metrics:
    """The app's metrics, in a registry of their own."""

    def __init__(self, app: Any = None) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(HandoffCollector(app))
        self.requests = Counter(
            "concierge_http_requests",
            "HTTP requests served.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "concierge_http_request_duration_seconds",
            "Time to serve an HTTP request.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.chat_turns = Counter(
            "concierge_chat_turns", "Chat runs started over the websocket.", registry=self.registry
        )
        self.chat_errors = Counter(
            "concierge_chat_errors",
            "Chat runs that ended in RUN_ERROR, by code.",
            ("code",),
            registry=self.registry,
        )


def metrics_of(app: Any) -> Metrics:
    """The metrics of ``app`` (created on first use)."""
    found = getattr(app.state, "metrics", None)
    if found is None:
        found = app.state.metrics = Metrics(app)
    return found


class RequestMetrics:
    """ASGI middleware: count and time every HTTP request by its route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, then record it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        code = {"status": 500}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                code["status"] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED
            labels = (scope["method"], template, str(code["status"]))
            metrics = metrics_of(scope["app"])
            metrics.requests.labels(*labels).inc()
            metrics.latency.labels(*labels).observe(time.perf_counter() - started)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text."}},
)
def metrics(request: Request) -> Response:
    """The app's metrics in Prometheus' text format."""
    body = generate_latest(metrics_of(request.app).registry)
    return Response(content=body, media_type=CONTENT_TYPE_LATEST)
