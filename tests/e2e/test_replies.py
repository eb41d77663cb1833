"""Chat replies in a real browser: Markdown rendered as lists and tables, stored data as text.

Runs against the same kind of app as test_browser.py (its fixtures and helpers, on a bank of
this module's own).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from tests.e2e.test_browser import (
    ADVISOR,
    CHAT_WAIT,
    PASSWORD,
    POLL_WAIT,
    Bank,
    _ask,
    _shot,
    _sign_in,
    bank,
    browser,
    expect,
    page,
)

pytestmark = pytest.mark.e2e
__all__ = ["bank", "browser", "page"]  # the fixtures, used here by name


def _advisor_token(base_url: str) -> str:
    return str(
        httpx.post(
            f"{base_url}/api/auth/token", json={"username": ADVISOR[0], "password": ADVISOR[1]}
        ).json()["access_token"]
    )


def test_replies_render_their_lists_and_tables(bank: Bank, page) -> None:
    customer = bank.customers[-1]
    _sign_in(page, bank.base_url, "/", customer.username, PASSWORD)
    _ask(page, "what's my balance?")
    reply = page.locator("#chat-log .msg.user + .msg.assistant").last
    expect(reply.locator("ul > li").first).to_be_visible(timeout=CHAT_WAIT)  # a real list
    assert not re.search(r"(?m)^- ", reply.inner_text())  # no Markdown bullets left as text

    _ask(page, "Is there a fee for sending money abroad?")
    answer = page.locator("#chat-log .msg.user + .msg.assistant").last
    table = answer.locator("table")
    expect(table).to_be_visible(timeout=CHAT_WAIT)  # the fees table, not its Markdown
    # a fees table (the international transfer routes, or the bank's transfer fees)
    expect(table.locator("th").nth(1)).to_have_text("Fee")
    expect(answer).to_contain_text("$25")
    expect(answer).not_to_contain_text("|---|")
    expect(answer).not_to_contain_text("| Fee |")
    # the customer's own words stay text, whatever they look like
    _ask(page, "**bold** | a | b |")
    mine = page.locator("#chat-log .msg.user").last
    expect(mine).to_contain_text("**bold** | a | b |")
    assert mine.locator("strong, table").count() == 0
    _shot(page, "customer-rendered-replies")
    assert page.errors == [], page.errors


def test_a_hostile_merchant_name_shows_as_text_and_runs_nothing(bank: Bank, page) -> None:
    customer = bank.customers[-2]
    hostile = ["<img src=x onerror=alert(1)>", "<script>window.pwned=1</script>"]
    events = [
        {
            "id": uuid.uuid4().hex,
            "type": "transaction",
            "person_id": customer.person_id,
            "occurred_at": datetime.now(UTC).isoformat(),
            "data": {
                "account_id": customer.checking_id,
                "amount_minor": -1200 - i,
                "currency": "USD",
                "category": "shopping",
                "channel": "card",
                "merchant": name,
            },
        }
        for i, name in enumerate(hostile)
    ]
    posted = httpx.post(
        f"{bank.base_url}/api/events",
        json={"events": events},
        headers={"authorization": f"Bearer {_advisor_token(bank.base_url)}"},
    )
    assert posted.status_code == 202, posted.text
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    _sign_in(page, bank.base_url, "/", customer.username, PASSWORD)
    expect(page.locator("#transactions")).to_contain_text(hostile[0], timeout=POLL_WAIT)
    _ask(page, "show me my recent transactions")
    reply = page.locator("#chat-log .msg.user + .msg.assistant").last
    expect(reply.locator("ul > li").first).to_be_visible(timeout=CHAT_WAIT)
    for name in hostile:
        expect(reply).to_contain_text(name)  # shown literally, as the merchant is called
    assert page.locator("#chat-log img, #chat-log script, [onerror]").count() == 0
    assert page.evaluate("window.pwned") is None
    assert dialogs == []
    assert page.errors == [], page.errors
