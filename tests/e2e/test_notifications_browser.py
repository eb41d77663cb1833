"""Notifications on the customer's page, in a real browser.

The customer sets "Tell me about charges over" in the notification settings form; the bank's
side then posts a large card charge, which reaches the open page as a toast and the inbox as an
item; marking it "Not helpful" there is written to the offer log as a declined answer to the
action the notification followed up, which is what the learning loop reads. The app, the browser
and the seeded bank are those of ``test_browser``.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from services.db import make_engine
from services.features.live import source_ref
from tests.e2e import test_browser as base
from tests.e2e.test_browser import (
    ADVISOR,
    PASSWORD,
    Bank,
    Customer,
    _accessibility_basics,
    _shot,
    _sign_in,
    expect,
)

pytestmark = pytest.mark.e2e

# the same fixtures: a module-scoped app on a fresh seeded bank, and Debian's chromium
bank = base.bank
browser = base.browser
page = base.page

TOAST_WAIT = 15_000  # ms: the notification is decided as the event is booked, within a second
FEWER = "Thanks — we'll send fewer like this."


def _post_charge(bank: Bank, customer: Customer, dollars: int) -> str:
    """Post a card charge on the customer's checking account as the bank does; its event id."""
    token = httpx.post(
        f"{bank.base_url}/api/auth/token",
        json={"username": ADVISOR[0], "password": ADVISOR[1]},
    ).json()["access_token"]
    event = {
        "id": f"e2e-{uuid.uuid4().hex}",
        "type": "transaction",
        "person_id": customer.person_id,
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": {
            "account_id": customer.checking_id,
            "amount_minor": -dollars * 100,
            "currency": "USD",
            "category": "shopping",
            "channel": "card",
            "merchant": "Hifi Store",
        },
    }
    posted = httpx.post(
        f"{bank.base_url}/api/events",
        json={"events": [event]},
        headers={"authorization": f"Bearer {token}"},
    )
    assert posted.status_code == 202, posted.text
    return str(event["id"])


def _database(tmp_path_factory: pytest.TempPathFactory, event_id: str) -> str:
    """The URL of the running app's SQLite bank: the one that booked this event.

    The ``bank`` fixture keeps its database in a temporary ``e2e*`` folder of the session; more
    than one module's app may have one, so the event's booking says which is this app's.
    """
    ref = source_ref(event_id)
    for path in sorted(tmp_path_factory.getbasetemp().glob("e2e*/bank.db")):
        url = f"sqlite:///{path.as_posix()}"
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                booked = conn.execute(
                    text("SELECT 1 FROM ledger_entry WHERE source_ref = :ref"), {"ref": ref}
                ).first()
        finally:
            engine.dispose()
        if booked:
            return url
    raise AssertionError(f"no test bank under {tmp_path_factory.getbasetemp()} booked the event")


def _offer_log(url: str, person_id: int, code: str) -> dict[int, tuple[Any, ...]]:
    """The customer's offer-log rows for one action: id -> (response, responded_at)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, response, responded_at FROM offer_event "
                    "WHERE person_id = :p AND offer_code = :c"
                ),
                {"p": person_id, "c": code},
            ).all()
    finally:
        engine.dispose()
    return {int(r.id): (r.response, r.responded_at) for r in rows}


def _settings(page, bank: Bank) -> dict[str, Any]:
    """The notification settings the bank holds for the customer signed in on the page."""
    token = page.evaluate("sessionStorage.getItem('concierge.token')")
    got = httpx.get(
        f"{bank.base_url}/api/me/notification-settings",
        headers={"authorization": f"Bearer {token}"},
    )
    assert got.status_code == 200, got.text
    return dict(got.json())


def _save_settings(page) -> None:
    page.get_by_role("button", name="Save settings").click()


def test_a_large_charge_becomes_a_toast_and_not_helpful_teaches_the_offer_log(
    bank: Bank, page, tmp_path_factory: pytest.TempPathFactory
) -> None:
    customer = bank.customers[0]
    _sign_in(page, bank.base_url, "/", customer.username, PASSWORD)
    expect(page.locator("#workspace")).to_be_visible()

    held = _settings(page, bank)
    # the settings form shows what the bank holds
    opener = page.get_by_role("button", name="Notification settings")
    opener.click()
    expect(opener).to_have_attribute("aria-expanded", "true")
    settings = page.locator("#notify-settings")
    expect(settings.get_by_role("heading", name="Notification settings")).to_be_focused()
    expect(page.get_by_label("Time zone")).to_have_value(re.compile(r"\w/\w|UTC"))
    charges_over = page.get_by_label("Tell me about charges over")
    status = settings.get_by_role("status")
    alert = settings.get_by_role("alert")

    # a value the bank refuses: its message, in the form's words, and nothing saved
    charges_over.fill("lots")
    _save_settings(page)
    expect(alert).to_contain_text("Not saved")
    expect(alert).to_contain_text("Tell me about charges over")
    assert _settings(page, bank) == held

    # in the app, no quiet hours (so the toast comes at any hour), and charges over $200
    page.get_by_label("In the app").check()
    page.get_by_label("Quiet hours start").fill("")
    page.get_by_label("Quiet hours end").fill("")
    charges_over.fill("200")
    _save_settings(page)
    expect(status).to_contain_text("Saved")
    expect(status).to_contain_text("Charges over: $200.00")
    expect(page.locator("#settings-error")).to_be_empty()
    expect(charges_over).to_have_value("200.00")  # as the server holds it
    _shot(page, "customer-notification-settings")
    _accessibility_basics(page)
    page.get_by_role("button", name="Close settings").click()
    expect(settings).to_be_hidden()
    expect(opener).to_be_focused()

    # the bank books a $640 card charge: a toast on the open page, and the badge goes up
    event_id = _post_charge(bank, customer, 640)
    toast = page.locator("#toasts .toast", has_text="$640")
    expect(toast).to_be_visible(timeout=TOAST_WAIT)
    expect(toast).to_have_attribute("role", "status")
    expect(toast).to_have_attribute("aria-live", "polite")
    badge = page.locator("#inbox-count")
    expect(badge).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Inbox \d+ unread$"))).to_be_visible()
    _shot(page, "customer-notification-toast")
    toast.get_by_role("button", name="View").click()
    expect(toast).to_be_hidden()

    # the inbox lists it, and opening the inbox read it
    inbox = page.locator("#inbox")
    expect(inbox).to_be_visible()
    item = inbox.locator("li.inbox-item", has_text="$640")
    expect(item).to_be_visible()
    expect(item).to_have_class(re.compile(r"\bunread\b"))  # new when the inbox was opened
    expect(item.locator("time")).to_be_visible()
    _shot(page, "customer-inbox")
    _accessibility_basics(page)

    expect(badge).to_be_hidden()  # each unread one the open inbox shows is answered "opened"

    # opened, the offer log holds a click on the action it followed up
    url = _database(tmp_path_factory, event_id)
    before = _offer_log(url, customer.person_id, "review_transaction")
    clicked = [key for key, (response, _) in before.items() if response == "clicked"]
    assert clicked, before
    item.get_by_role("button", name="Not helpful").click()
    expect(item).to_contain_text(FEWER)
    expect(item.get_by_role("button", name="Not helpful")).to_have_count(0)
    expect(item.locator(".outcome")).to_be_focused()

    # the learning loop hears "not helpful": that click becomes a decline
    after = _offer_log(url, customer.person_id, "review_transaction")
    changed = {key: row for key, row in after.items() if before.get(key) != row}
    assert [response for response, _ in changed.values()] == ["declined"], (before, after)
    assert set(changed) <= set(clicked), (before, after)

    # the answer stays with the notification after a reload
    page.reload()
    page.get_by_role("button", name=re.compile(r"^Inbox")).click()
    expect(inbox.locator("li.inbox-item", has_text="$640")).to_contain_text(FEWER)
    # the refused value logs the 422 as a failed request; nothing else may fail
    assert [e for e in page.errors if "422" not in e] == [], page.errors


def test_the_inbox_and_settings_are_keyboard_usable(bank: Bank, page) -> None:
    customer = bank.customers[1]
    _sign_in(page, bank.base_url, "/", customer.username, PASSWORD)
    expect(page.locator("#workspace")).to_be_visible()
    inbox_button = page.get_by_role("button", name=re.compile(r"^Inbox"))
    inbox_button.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#inbox")).to_be_visible()
    expect(page.get_by_role("heading", name="Inbox")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#inbox")).to_be_hidden()
    expect(inbox_button).to_be_focused()
    expect(inbox_button).to_have_attribute("aria-expanded", "false")

    page.get_by_role("button", name="Notification settings").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Time zone")).to_have_value(re.compile(r"\w/\w|UTC"))
    page.keyboard.press("Tab")  # from the heading to its close button, then into the form
    page.keyboard.press("Tab")
    expect(page.get_by_label("In the app")).to_be_focused()
    # nothing changed: said so, nothing sent
    page.get_by_role("button", name="Save settings").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#settings-status")).to_contain_text("Nothing to save")
    page.keyboard.press("Escape")
    expect(page.locator("#notify-settings")).to_be_hidden()
    assert page.errors == [], page.errors


def test_server_text_is_shown_as_text(bank: Bank, page) -> None:
    """A notification's words are never read as markup, in the toast or in the inbox."""
    customer = bank.customers[2]
    _sign_in(page, bank.base_url, "/", customer.username, PASSWORD)
    expect(page.locator("#workspace")).to_be_visible()
    page.evaluate(
        """() => window.dispatchEvent(new CustomEvent("concierge:notification", {detail: {
        id: 987654, kind: "large_transaction", title: "<img src=x onerror=window.pwned=1>",
        body: "<b>bold</b>", createdAt: new Date().toISOString()}}))"""
    )
    toast = page.locator("#toasts .toast", has_text="<b>bold</b>")
    expect(toast).to_be_visible()
    expect(toast.locator("img, b")).to_have_count(0)
    assert page.evaluate("window.pwned") is None
    toast.get_by_role("button", name="Close notification").click()
    expect(toast).to_have_count(0)
    assert page.errors == [], page.errors
