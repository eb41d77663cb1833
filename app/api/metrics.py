"""``GET /metrics``: Prometheus text exposition of the app's own counters.

Each app has its own registry (tests build many apps in one process): HTTP requests counted and
timed by method, route template (``/api/advisor/cases/{case}``, never the raw path, so ids do
not explode the label set) and status; chat turns and chat errors by code.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

router = APIRouter(tags=["health"])
UNMATCHED = "<unmatched>"


class Metrics:
    """The app's metrics, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
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
        found = app.state.metrics = Metrics()
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
