"""A person in the same chat, in a real browser: the customer's page and the advisor console.

The customer asks for a person and waits in the queue; the advisor claims the conversation from
the console's live queue, writes, proposes a transfer the customer approves on their own card,
gets the assistant's suggestions and hands the conversation back, after which the assistant
answers again. The app, the browser and the seeded bank are those of ``test_browser``.
"""

from __future__ import annotations

import httpx
import pytest

from tests.e2e import test_browser as base
from tests.e2e.test_browser import (
    ADVISOR,
    CHAT_WAIT,
    PASSWORD,
    VIEWPORT,
    Bank,
    _accessibility_basics,
    _ask,
    _balance,
    _dollars,
    _last_reply,
    _read_dollars,
    _shot,
    _sign_in,
    expect,
)

pytestmark = pytest.mark.e2e

# the same fixtures: a module-scoped app on a fresh seeded bank, and Debian's chromium
bank = base.bank
browser = base.browser
page = base.page


def _advisor_headers(bank: Bank) -> dict[str, str]:
    answer = httpx.post(
        f"{bank.base_url}/api/auth/token",
        json={"username": ADVISOR[0], "password": ADVISOR[1]},
    )
    return {"authorization": f"Bearer {answer.json()['access_token']}"}


def _queued(bank: Bank, person_id: int) -> int:
    """The id of the customer's conversation in the advisors' queue."""
    queue = httpx.get(f"{bank.base_url}/api/advisor/live/queue", headers=_advisor_headers(bank))
    found = [q["id"] for q in queue.json() if q["customer_id"] == person_id]
    assert found, queue.json()
    return int(found[0])


def _ask_for_a_person(page) -> None:
    _ask(page, "I want to talk to a person")
    card = page.locator("#chat-log .card.confirm").last
    expect(card).to_contain_text("advisor", timeout=CHAT_WAIT)
    card.get_by_role("button", name="Approve").click()
    expect(page.locator("#handoff-text")).to_contain_text("in the queue", timeout=CHAT_WAIT)
    expect(page.get_by_role("button", name="Leave a message")).to_be_visible()


def _advisor_page(page, base_url: str):
    """The advisor console in a browser context of its own, signed in."""
    advisor = page.context.browser.new_context(viewport=VIEWPORT).new_page()
    advisor.set_default_timeout(base.POLL_WAIT)
    advisor.errors = []
    advisor.on("console", lambda m: advisor.errors.append(m.text) if m.type == "error" else None)
    advisor.on("pageerror", lambda e: advisor.errors.append(str(e)))
    _sign_in(advisor, base_url, "/advisor", *ADVISOR)
    expect(advisor.locator("#console")).to_be_visible()
    return advisor


def test_an_advisor_takes_the_chat_proposes_a_transfer_and_hands_back(bank: Bank, page) -> None:
    customer = bank.customers[0]
    _sign_in(page, bank.base_url, "/", customer.username, PASSWORD)
    expect(page.locator("#workspace")).to_be_visible()
    expect(_balance(page, "checking")).to_have_text("$2,500.00")
    savings_before = _read_dollars(_balance(page, "savings").inner_text())

    _ask_for_a_person(page)
    handoff = _queued(bank, customer.person_id)

    advisor = _advisor_page(page, bank.base_url)
    row = advisor.locator(f"#queue li[data-handoff='{handoff}']")
    expect(row).to_be_visible()
    expect(row.locator(".badge")).to_be_visible()
    expect(row).to_contain_text("waiting")
    row.get_by_role("button", name="Claim").click()

    live = advisor.locator("#live")
    expect(live).to_be_visible()
    log = advisor.locator("#live-log")
    expect(log).to_contain_text("I want to talk to a person")  # what the assistant heard
    expect(log).to_contain_text("joined the chat")
    expect(advisor.locator("#summary .fact").first).to_be_visible()  # the context summary
    expect(advisor.locator("#fees li").first).to_be_visible()  # fees the advisor may refund
    expect(page.locator("#handoff-text")).to_contain_text("joined the chat")
    expect(page.get_by_role("button", name="Leave a message")).to_be_hidden()

    # the advisor's words reach the customer, labelled with the advisor's name
    advisor.get_by_label("Reply to the customer").fill("Hi, I'm here to help with that.")
    advisor.get_by_role("button", name="Send reply").click()
    said = page.locator("#chat-log .msg.advisor").last
    expect(said).to_contain_text("Hi, I'm here to help with that.")
    expect(said.locator(".from")).to_contain_text("Alex Morgan")
    expect(log).to_contain_text("Hi, I'm here to help with that.")

    # a reload on either side keeps the conversation where it was
    page.reload()
    expect(page.locator("#chat-log .msg.advisor")).to_have_count(1)
    expect(page.locator("#handoff-text")).to_contain_text("joined the chat")
    advisor.reload()
    expect(log).to_contain_text("Hi, I'm here to help with that.")
    expect(advisor.get_by_role("button", name="Send reply")).to_be_enabled()

    # the customer's words go to the advisor, not the assistant; the box is ready at once
    replies = page.locator("#chat-log .msg.assistant").count()
    _ask(page, "Could you move 25 to my savings please?")
    expect(log).to_contain_text("Could you move 25 to my savings please?")
    expect(page.get_by_label("Message")).to_be_enabled()
    expect(page.get_by_label("Message")).to_have_value("")
    mine = page.locator("#chat-log .msg.user", has_text="Could you move 25 to my savings")
    expect(mine).to_have_count(1)  # the server's echo is not shown twice
    assert page.locator("#chat-log .msg.assistant").count() == replies

    # assist: a drafted reply the advisor can use (recorded as used)
    use = advisor.get_by_role("button", name="Use draft")
    expect(use).to_be_visible(timeout=CHAT_WAIT)
    use.click()
    expect(advisor.get_by_label("Reply to the customer")).not_to_have_value("")

    # the advisor proposes a transfer between the customer's own accounts
    source = f"acc-{customer.checking_id}"
    advisor.get_by_label("From account").select_option(source)
    target = advisor.locator("#propose-to option", has_text="(savings)").first.get_attribute(
        "value"
    )
    advisor.get_by_label("To account").select_option(target)
    advisor.get_by_label("Amount").fill("25.00")
    advisor.get_by_role("button", name="Propose transfer").click()
    expect(advisor.locator("#propose-result")).to_contain_text("$25.00", timeout=CHAT_WAIT)
    _shot(advisor, "advisor-live-conversation", full=True)
    _accessibility_basics(advisor)

    card = page.locator("#chat-log .card.confirm").last
    expect(card).to_contain_text("Proposed by Alex Morgan", timeout=CHAT_WAIT)
    expect(card.locator(".confirm-text")).to_contain_text("$25.00")
    _shot(page, "customer-advisor-proposal")
    _accessibility_basics(page)
    card.get_by_role("button", name="Approve").click()
    expect(card).to_contain_text("You approved")
    expect(_last_reply(page)).to_contain_text("Moved $25.00", timeout=CHAT_WAIT)
    expect(_balance(page, "checking")).to_have_text("$2,475.00")
    expect(_balance(page, "savings")).to_have_text(_dollars(savings_before + 25))
    expect(log).to_contain_text("Moved $25.00")  # the advisor sees what was done

    # hand back: the customer hears it and the assistant answers again
    advisor.get_by_role("button", name="Hand back to the assistant").click()
    expect(advisor.locator("#live-status")).to_contain_text("Handed back")
    expect(advisor.get_by_role("button", name="Send reply")).to_be_disabled()
    expect(page.locator("#handoff-text")).to_contain_text("back with the assistant")
    _ask(page, "what's my balance")
    reply = page.locator("#chat-log .msg.user + .msg.assistant").last
    expect(reply).to_contain_text("balances", timeout=CHAT_WAIT)
    expect(reply).to_contain_text("$2,475.00")

    stats = httpx.get(
        f"{bank.base_url}/api/advisor/live/stats", headers=_advisor_headers(bank)
    ).json()
    assert stats["assist_used"] >= 1, stats
    assert page.errors == [], page.errors
    assert advisor.errors == [], advisor.errors
    advisor.context.close()


def test_a_waiting_customer_reloads_and_leaves_a_message(bank: Bank, page) -> None:
    customer = bank.customers[1]
    _sign_in(page, bank.base_url, "/", customer.username, PASSWORD)
    expect(page.locator("#workspace")).to_be_visible()
    _ask_for_a_person(page)
    handoff = _queued(bank, customer.person_id)

    # a reload asks the server where the conversation stands (nothing kept on the page)
    page.evaluate("sessionStorage.removeItem('concierge.handoff')")
    page.reload()
    expect(page.locator("#handoff-text")).to_contain_text("in the queue")

    # a claim someone else won says so and leaves the row to the queue's next update
    advisor = _advisor_page(page, bank.base_url)
    row = advisor.locator(f"#queue li[data-handoff='{handoff}']")
    expect(row).to_be_visible()
    advisor.route(
        f"**/api/advisor/live/{handoff}/claim",
        lambda route: route.fulfill(
            status=409, json={"detail": "already claimed, or no longer waiting"}
        ),
    )
    row.get_by_role("button", name="Claim").click()
    expect(advisor.locator("#queue-error")).to_contain_text("Another advisor took it")
    expect(advisor.locator("#live")).to_be_hidden()

    page.get_by_role("button", name="Leave a message").click()
    box = page.get_by_label("Your note for the advisor")
    expect(box).to_be_focused()
    box.fill("Please call me back tomorrow morning.")
    page.get_by_role("button", name="Leave message", exact=True).click()
    expect(page.locator("#handoff-text")).to_contain_text("your message is with the case")
    expect(page.locator("#chat-log")).to_contain_text("Please call me back tomorrow morning.")
    expect(row).to_be_hidden()  # no longer waiting for an advisor
    assert page.errors == [], page.errors
    # the refused claim logs the 409 as a failed request; nothing else may fail
    assert [e for e in advisor.errors if "409" not in e] == [], advisor.errors
    advisor.context.close()
