"""The web pages: the customer's chat and dashboard at ``/``, the advisor console at ``/advisor``.

The pages are static HTML, CSS and JavaScript modules under ``app/web`` (no build step); they
talk to the REST routes and ``/ws/chat`` with the session token the sign-in returns. The
directory is found next to this package, so it works from a checkout, an editable install and a
wheel that ships ``app/web`` as package data.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

WEB_DIR = Path(__file__).resolve().parent.parent / "web"

# Only this origin's scripts, styles and sockets: no inline code, no third-party hosts, no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


def _page(name: str) -> FileResponse:
    return FileResponse(WEB_DIR / name, media_type="text/html", headers=SECURITY_HEADERS)


@router.get("/")
def customer_page() -> FileResponse:
    """The customer's page: sign in, then chat beside the personalised dashboard."""
    return _page("index.html")


@router.get("/advisor")
def advisor_page() -> FileResponse:
    """The advisor console: find a customer, read their context summary, follow their chats."""
    return _page("advisor.html")


def static_files() -> StaticFiles:
    """The pages' scripts, styles and images, to mount at ``/static``."""
    return StaticFiles(directory=WEB_DIR)
