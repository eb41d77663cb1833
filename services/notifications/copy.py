"""Copy per channel: the catalogue's templates, filled with the customer's real figures.

A notification that follows up an insight uses its catalogue action's variant for the channel
(push and text messages read the ``push`` copy, the inbox and e-mail the ``in_app_card``
copy), filled with the insight's message and figures and the customer's first name; anything
else keeps its own title and body. E-mail goes as plain text and as HTML.
"""

from __future__ import annotations

import html
from typing import Any

from services.notifications import Candidate
from services.recommendations.actions import Catalog

VARIANT: dict[str, Any] = {
    "push": "push",
    "sms": "push",
    "in_app": "in_app_card",
    "email": "in_app_card",
}


def copy_for(
    candidate: Candidate, catalog: Catalog | None, *, first_name: str | None, currency: str = "USD"
) -> dict[str, dict[str, str]]:
    """``{channel: {"title", "body"}}`` for every channel of the candidate's route."""
    action = (
        catalog[candidate.action]
        if catalog is not None and candidate.action and candidate.action in catalog
        else None
    )
    fill = {"message": candidate.body, **candidate.data.get("figures", {})}
    values = {"first_name": first_name} if first_name else {}
    out: dict[str, dict[str, str]] = {}
    for channel in candidate.route.channels:
        variant = action.variants.get(VARIANT[channel]) if action is not None else None
        if variant is None:
            out[channel] = {"title": candidate.title, "body": candidate.body}
            continue
        out[channel] = {
            "title": variant.title.render(values, fill, currency) or candidate.title,
            "body": variant.body.render(values, fill, currency) or candidate.body,
        }
    return out


def copy_on(data: Any, channel: str, title: str, body: str) -> tuple[str, str]:
    """A stored notification's title and body for ``channel`` (its own when none was made)."""
    copy = ((data or {}).get("copy") or {}).get(channel) or {}
    return copy.get("title") or title, copy.get("body") or body


def email_text(title: str, body: str, link: str) -> str:
    """The plain-text e-mail."""
    return (
        f"{body}\n\nSee it in the app: {link}\n\nYou can change which messages you get in Settings."
    )


def email_html(title: str, body: str, link: str) -> str:
    """The HTML e-mail: the same words, escaped, with a link back to the app."""
    t, b, href = html.escape(title), html.escape(body), html.escape(link, quote=True)
    return (
        '<!doctype html><html lang="en"><body style="font-family:sans-serif">'
        f'<h1 style="font-size:1.2em">{t}</h1><p>{b}</p>'
        f'<p><a href="{href}">See it in the app</a></p>'
        '<p style="color:#555;font-size:.9em">You can change which messages you get in '
        "Settings.</p></body></html>"
    )
