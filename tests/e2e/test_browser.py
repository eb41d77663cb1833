"""The web pages in a real browser against the real app.

The app runs under uvicorn in a background thread on a free port, on a fresh SQLite bank; the
browser is Debian's chromium (``apt-get install chromium``) driven by Playwright's sync API.
Screenshots go to ``reports/screenshots/``: the customer page of one customer of each archetype,
the advisor console, and the steps of a transfer (the README's picture is the one after it).
"""

from __future__ import annotations

import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import text

from app.main import create_app
from services.db import make_engine
from services.settings import DEMO_ADVISOR, Settings
from services.synth.archetypes import ARCHETYPES
from services.synth.writer import seed_bank
from services.truth import archetypes
from services.wording import findings
from tests.support import ROOT
from tests.support.browser import CHROMIUM

pytestmark = pytest.mark.e2e
try:
    from playwright import sync_api
except ImportError:  # tests/conftest.py skips these tests (fails them in CI) and says why
    sync_api = None
expect = sync_api.expect if sync_api else None

LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking"]
VIEWPORT = {"width": 1280, "height": 800}
SHOTS = ROOT / "reports" / "screenshots"
PASSWORD = "concierge-demo"
ADVISOR = (DEMO_ADVISOR, "concierge-advisor")
CHAT_WAIT = 120_000  # ms: a bound for a reply on a busy host (the app is warm before tests)
READY_WAIT = 600  # s: the warm start loads the models and builds the knowledge index
POLL_WAIT = 20_000  # ms: the dashboard refreshes every 5 s
BANK_CUSTOMERS = 60  # with seed 5: a customer of every archetype


@dataclass(frozen=True)
class Customer:
    """A seeded customer the tests sign in as."""

    person_id: int
    username: str
    full_name: str
    checking_id: int


@dataclass(frozen=True)
class Bank:
    """The running app and the customers picked for the tests."""

    base_url: str
    customers: list[Customer]
    # the first customer of each archetype (hidden from the app; the screenshots show each)
    by_archetype: dict[str, tuple[int, str]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _customers(engine) -> list[Customer]:
    # One checking and one savings account each, so "checking" and "savings" are unambiguous.
    rows = engine.connect().execute(
        text(
            "SELECT p.id, c.username, p.full_name, "
            "  MAX(CASE WHEN a.type = 'checking' THEN a.id END) AS checking_id "
            "FROM person p JOIN credential c ON c.person_id = p.id "
            "JOIN account a ON a.person_id = p.id "
            "GROUP BY p.id, c.username, p.full_name "
            "HAVING SUM(a.type = 'checking') = 1 AND SUM(a.type = 'savings') = 1 "
            "  AND SUM(a.type LIKE '%checking') = 1 "
            "ORDER BY p.id"
        )
    )
    return [Customer(r.id, r.username, r.full_name, r.checking_id) for r in rows]


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory, classifier_dir: Path) -> Iterator[Bank]:
    var = tmp_path_factory.mktemp("e2e")
    settings = Settings(
        var_dir=var,
        database_url=f"sqlite:///{(var / 'bank.db').as_posix()}",
        secret_key="e2e-test-key",
        nlu_model=classifier_dir,
        warm_start=True,  # as `concierge serve`: the tests start once /ready says it is warm
    )
    engine = make_engine(settings.database_url)
    seed_bank(engine, customers=BANK_CUSTOMERS, seed=5, as_of=date.today())
    with engine.begin() as conn:  # enough in every checking account to move money
        conn.execute(text("UPDATE account SET balance_minor = 250000 WHERE type = 'checking'"))
    picked = _customers(engine)
    with engine.connect() as conn:
        archetype_of = archetypes(conn)
        usernames = dict(conn.execute(text("SELECT person_id, username FROM credential")).all())
    engine.dispose()
    first = {}
    for person, archetype in sorted(archetype_of.items()):
        first.setdefault(archetype, (person, usernames[person]))
    assert len(picked) >= 2, "the seeded bank needs two customers with checking and savings"

    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="e2e-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the app did not start"
        time.sleep(0.1)
    deadline = time.monotonic() + READY_WAIT
    while httpx.get(f"http://127.0.0.1:{port}/ready").status_code != 200:
        assert thread.is_alive() and time.monotonic() < deadline, "the app did not get ready"
        time.sleep(0.2)
    yield Bank(f"http://127.0.0.1:{port}", picked, first)
    server.should_exit = True
    thread.join(timeout=15)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    # tests/conftest.py has already skipped (in CI, failed) every test here without the browser
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(POLL_WAIT)
    page.errors = []  # console errors and uncaught exceptions, for the test to check
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def _shot(page, name: str, *, full: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)


def _dollars(amount: Decimal) -> str:
    return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"


def _read_dollars(shown: str) -> Decimal:
    return Decimal(re.sub(r"[^0-9.-]", "", shown))


def _sign_in(page, base_url: str, path: str, username: str, password: str) -> None:
    page.goto(base_url + path)
    page.get_by_label("Email", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def _ask(page, message: str) -> None:
    page.get_by_label("Message").fill(message)
    page.get_by_role("button", name="Send").click()


def _last_reply(page):
    return page.locator("#chat-log .msg.assistant").last


def _balance(page, kind: str):
    return page.locator(f"#accounts li[data-type='{kind}'] .balance")


def test_customer_moves_money_sees_events_and_the_advisor_sees_it(bank: Bank, page) -> None:
    customer = bank.customers[0]
    _sign_in(page, bank.base_url, "/", customer.username, PASSWORD)
    expect(page.locator("#workspace")).to_be_visible()
    expect(_balance(page, "checking")).to_have_text("$2,500.00")
    checking_before = Decimal("2500.00")
    savings_before = _read_dollars(_balance(page, "savings").inner_text())
    # a proactive insight or greeting arrives before the customer asks anything
    expect(page.locator("#chat-log .msg.assistant").first).to_contain_text("Hi")
    expect(page.locator("#chat-log .card.insight").first).to_be_visible()

    _ask(page, "what's my balance?")
    reply = page.locator("#chat-log .msg.user + .msg.assistant").last
    expect(reply).to_contain_text("balances", timeout=CHAT_WAIT)
    expect(reply).to_contain_text("$2,500.00")

    _ask(page, "move 25 dollars from checking to savings")
    card = page.locator("#chat-log .card.confirm").last
    expect(card).to_be_visible(timeout=CHAT_WAIT)
    expect(card.locator(".confirm-text")).to_contain_text("$25.00")
    expect(card.locator(".confirm-text")).to_contain_text("Checking")
    expect(card.locator(".confirm-text")).to_contain_text("Savings")
    _shot(page, "customer-confirmation")
    card.get_by_role("button", name="Approve").click()
    expect(card).to_contain_text("You approved")
    expect(_last_reply(page)).to_contain_text("Moved $25.00", timeout=CHAT_WAIT)
    checking_after = checking_before - Decimal(25)
    expect(_balance(page, "checking")).to_have_text(_dollars(checking_after))
    expect(_balance(page, "savings")).to_have_text(_dollars(savings_before + 25))
    _shot(page, "customer-after-transfer")

    # A card payment arrives on the event stream; the dashboard shows it within a refresh. The
    # bank's side posts it (an advisor's token): a customer's token may not post transactions.
    token = httpx.post(
        f"{bank.base_url}/api/auth/token",
        json={"username": ADVISOR[0], "password": ADVISOR[1]},
    ).json()["access_token"]
    merchant = "Playwright Noodle Bar"
    event = {
        "id": uuid.uuid4().hex,
        "type": "transaction",
        "person_id": customer.person_id,
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": {
            "account_id": customer.checking_id,
            "amount_minor": -4321,
            "currency": "USD",
            "category": "dining",
            "channel": "card",
            "merchant": merchant,
        },
    }
    posted = httpx.post(
        f"{bank.base_url}/api/events",
        json={"events": [event]},
        headers={"authorization": f"Bearer {token}"},
    )
    assert posted.status_code == 202, posted.text
    expect(page.locator("#transactions")).to_contain_text(merchant)
    expect(_balance(page, "checking")).to_have_text(_dollars(checking_after - Decimal("43.21")))
    _shot(page, "customer-after-event")
    assert page.errors == [], page.errors

    # the advisor finds the customer and sees the transfer in the context summary
    advisor = page.context.browser.new_context(viewport=VIEWPORT).new_page()
    _sign_in(advisor, bank.base_url, "/advisor", *ADVISOR)
    last_name = customer.full_name.split()[-1]
    advisor.get_by_label("Name, email or customer id").fill(last_name)
    advisor.get_by_role("button", name="Search").click()
    advisor.locator(f"#results button[data-customer-id='{customer.person_id}']").click()
    summary = advisor.locator("#summary")
    expect(summary.locator(".fact").first).to_be_visible()
    expect(summary.locator(".fact .source").first).to_be_visible()  # every fact cites a record
    # the new savings balance, the request and the transfer tool, each with its record
    expect(summary).to_contain_text(_dollars(savings_before + 25))  # one money format
    expect(summary).to_contain_text("Asked: move 25 dollars from checking to savings")
    expect(summary).to_contain_text("Assistant used transfer")
    expect(summary).to_contain_text("Moved $25.00 from")  # what was done, from the record
    conversation = advisor.locator("#conversations button").first
    conversation.click()
    expect(advisor.locator("#transcript")).to_contain_text("move 25 dollars from checking")
    _shot(advisor, "advisor-summary")
    advisor.context.close()


def test_a_reload_continues_the_same_conversation(bank: Bank, page) -> None:
    customer = bank.customers[1]
    _sign_in(page, bank.base_url, "/", customer.username, PASSWORD)
    _ask(page, "I want to move some money")
    expect(_last_reply(page)).to_contain_text("How much", timeout=CHAT_WAIT)
    thread = page.evaluate("sessionStorage.getItem('concierge.thread')")

    page.reload()
    expect(page.locator("#chat-log")).to_contain_text("I want to move some money")
    assert page.evaluate("sessionStorage.getItem('concierge.thread')") == thread
    _ask(page, "250 dollars")
    expect(_last_reply(page)).to_contain_text("come from", timeout=CHAT_WAIT)


CHAT_ORDER = """() => [...document.querySelectorAll('#chat-log > li')]
  .map((e) => e.classList.contains('msg') ? e.className : 'card')"""


def test_the_greeting_opens_the_conversation_when_the_dashboard_comes_after_the_reply(
    bank: Bank, page
) -> None:
    # The page greets once the dashboard has loaded. Held here until the first question has
    # been answered, the greeting must still open the conversation, not follow the answer.
    held: list[object] = []
    released = threading.Event()

    def hold(route) -> None:
        if released.is_set():
            route.continue_()
        else:
            held.append(route)

    page.route("**/api/me/dashboard", hold)
    _sign_in(page, bank.base_url, "/", bank.customers[-1].username, PASSWORD)
    _ask(page, "I want to move some money")
    expect(_last_reply(page)).to_contain_text("How much", timeout=CHAT_WAIT)
    assert held, "the page asked for its dashboard before the answer came"
    assert page.locator("#chat-log .msg.assistant").count() == 1  # no greeting yet

    released.set()
    for route in held:  # the first load, and the refresh after the finished run
        route.continue_()
    _opens_with_the_greeting(page)
    page.reload()  # as the page kept it
    _opens_with_the_greeting(page)


def _opens_with_the_greeting(page) -> None:
    # the greeting first, then its insight card if any (whenever it comes), then the exchange
    expect(page.locator("#chat-log .msg.assistant").first).to_contain_text("Hi")
    expect(_last_reply(page)).to_contain_text("How much")
    order = page.evaluate(CHAT_ORDER)
    assert order[0] == "msg assistant" and order[-2:] == ["msg user", "msg assistant"], order


def test_words_typed_while_an_action_waits_change_it(bank: Bank, page) -> None:
    customer = bank.customers[2]
    _sign_in(page, bank.base_url, "/", customer.username, PASSWORD)
    _ask(page, "move 10 dollars from checking to savings")
    cards = page.locator("#chat-log .card.confirm")
    expect(cards.last.locator(".confirm-text")).to_contain_text("$10.00", timeout=CHAT_WAIT)
    # pinned by position: `.last` would move on to the new card once the reply arrives
    first = cards.nth(cards.count() - 1)
    _ask(page, "sorry, I meant 12")
    expect(first).to_contain_text("Answered by your reply below.")
    second = page.locator("#chat-log .card.confirm").last
    expect(second.locator(".confirm-text")).to_contain_text("$12.00", timeout=CHAT_WAIT)
    second.get_by_role("button", name="Decline").click()
    expect(second).to_contain_text("You declined this.")
    expect(_last_reply(page)).to_contain_text("haven't done anything", timeout=CHAT_WAIT)
    # a typed yes approves exactly the action shown, as the button does
    _ask(page, "move 10 dollars from checking to savings")
    third = page.locator("#chat-log .card.confirm").last
    expect(third.locator(".confirm-text")).to_contain_text("$10.00", timeout=CHAT_WAIT)
    _ask(page, "yep, go ahead")
    expect(third).to_contain_text("Answered by your reply below.")
    expect(_last_reply(page)).to_contain_text("Moved $10.00", timeout=CHAT_WAIT)


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter((e) => e.type !== 'hidden')
  .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
    && !e.getAttribute('aria-labelledby'))
  .map((e) => e.id || e.name || e.outerHTML)"""

# WCAG contrast of an element's text against the first opaque background behind it.
CONTRAST = """(selector) => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const back = (e) => {
    for (; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || c[3] === 1) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll(selector)].filter((e) => e.offsetParent).map((e) => {
    const [a, b] = [lum(rgb(getComputedStyle(e).color).slice(0, 3)), lum(back(e))];
    return [e.textContent.trim().slice(0, 30), (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
  });
}"""


def _accessibility_basics(page) -> None:
    assert page.evaluate(UNLABELLED) == []
    for landmark in ("header", "main", "nav"):
        assert page.locator(landmark).count() >= 1, landmark
    assert page.locator("[role=button], div[onclick], span[onclick]").count() == 0
    low = [
        (what, ratio)
        for what, ratio in page.evaluate(CONTRAST, "button, label, h1, h2, h3, p, td, th, li")
        if what and ratio < 4.5
    ]
    assert low == [], low
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none"), "focus must be visible"


def test_pages_have_no_console_errors_and_the_accessibility_basics(bank: Bank, page) -> None:
    page.goto(bank.base_url + "/advisor")
    expect(page.get_by_role("heading", name="Advisor sign-in")).to_be_visible()
    _accessibility_basics(page)

    _sign_in(page, bank.base_url, "/", bank.customers[1].username, PASSWORD)
    expect(page.locator("#accounts li[data-account-id]").first).to_be_visible()
    log = page.locator("#chat-log")
    assert log.get_attribute("aria-live") == "polite"
    _accessibility_basics(page)
    _shot(page, "customer-dashboard")
    offer = page.locator("#offer")
    offer.get_by_role("button", name="No thanks").click()
    expect(offer).to_contain_text("won't suggest this again")
    assert page.errors == [], page.errors


@pytest.mark.parametrize("archetype", [a.name for a in ARCHETYPES])
def test_each_archetypes_page_reads_as_a_service(bank: Bank, page, archetype: str) -> None:
    """The customer page of one customer of each archetype: words, not codes, in one money format.

    The screenshots (``customer-<archetype>.png``) are for people to look at.
    """
    person, username = bank.by_archetype[archetype]
    _sign_in(page, bank.base_url, "/", username, PASSWORD)
    expect(page.locator("#workspace")).to_be_visible()
    expect(page.locator("#accounts li").first).to_be_visible()
    expect(page.locator("#offer > *").first).to_be_visible()  # an offer, or "nothing new"
    expect(page.locator("#dash-updated")).to_contain_text("Updated")
    expect(page.locator("#chat-log .msg.assistant").first).to_contain_text("Hi")
    _shot(page, f"customer-{archetype}")
    shown = page.inner_text("body")
    assert findings(shown) == [], (archetype, person, findings(shown))
    assert "$" in shown  # amounts are written as customers read them
    why = page.locator("#offer .why")
    if why.count():
        assert why.first.inner_text().startswith("Because ")
    assert page.errors == [], page.errors


def test_the_advisor_console_reads_phrases_with_codes_on_request(bank: Bank, page) -> None:
    person, _ = bank.by_archetype["affluent"]
    _sign_in(page, bank.base_url, "/advisor", *ADVISOR)
    page.get_by_label("Name, email or customer id").fill(str(person))
    page.get_by_role("button", name="Search").click()
    page.locator(f"#results button[data-customer-id='{person}']").click()
    summary = page.locator("#summary")
    expect(summary.locator(".fact").first).to_be_visible()
    codes = summary.locator("details.codes")
    if codes.count():  # an open recommendation: phrases shown, its codes only on request
        expect(codes.first.locator("code").first).not_to_be_visible()
        codes.first.locator("summary").click()
        expect(codes.first.locator("code").first).to_be_visible()
    _shot(page, "advisor-console", full=True)
    assert page.errors == [], page.errors
