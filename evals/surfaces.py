"""What customers read, scanned across a whole seeded bank: no codes, no verdicts, one money format.

For every customer of a freshly seeded bank this signs in as that customer (a token of the
``customer`` role), reads what the customer pages read (the dashboard, insights, next best
actions and notifications, through the HTTP API) and holds a short scripted chat through the
websocket API, keeping every frame the browser receives (text, cards, tool results, the state
snapshot). Every readable string goes through :func:`services.wording.findings`: a raw reason
code, the bank's vocabulary about the customer (churn, propensity, segment, retention...) or an
amount in a second format is a finding. The answer to "is any of it on a customer surface" is
``findings == 0``.

``concierge eval surfaces --customers 1000 --json`` runs it in a temporary folder.
"""

from __future__ import annotations

import json
import re
import secrets
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from services.wording import BANK_ONLY, findings, keys, texts

# The short chat every customer holds: a greeting, the proactive questions, a spending question.
CHAT: tuple[str, ...] = (
    "hi",
    "anything unusual in my accounts?",
    "any offers for me?",
    "why do you suggest that?",
    "how much did I spend this month?",
)
ROUTES: tuple[str, ...] = (
    "/api/me/profile",
    "/api/me/accounts",
    "/api/me/transactions",
    "/api/me/goals",
    "/api/me/dashboard",
    "/api/me/insights",
    "/api/me/recommendations",
    "/api/me/notifications",
)
# An amount as customers read it (symbol first, grouped, cents): what every amount should be.
SHOWN_AMOUNT = re.compile(r"-?[$€£¥]\d{1,3}(?:,\d{3})*(?:\.\d{2})?")
# A bare decimal amount inside a sentence (no symbol): a second money format in running text.
BARE_AMOUNT = re.compile(r"(?<![\w$€£¥.,])\d{1,3}(?:,\d{3})*\.\d{2}(?![\d%])")
EXAMPLES = 20


def _sentences(value: Any) -> list[tuple[str, str]]:
    """Readable strings of a JSON answer that are running text (a bare number is data)."""
    return [(where, text) for where, text in texts(value) if " " in text.strip()]


class Tally:
    """Findings by kind, with the first few examples and where they were."""

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()
        self.examples: list[str] = []
        self.amounts = 0
        self.strings = 0

    def scan(self, where: str, value: Any) -> None:
        """Scan one answer or frame (JSON or text)."""
        if not isinstance(value, str):
            for path in keys(value):
                name = path.rsplit(".", 1)[-1].split("[", 1)[0]
                if BANK_ONLY.search(name):
                    self.kinds["bank-only"] += 1
                    if len(self.examples) < EXAMPLES:
                        self.examples.append(f"{where}: bank-only key {path}")
        items = _sentences(value) if not isinstance(value, str) else [("", value)]
        for key, text in items:
            self.strings += 1
            self.amounts += len(SHOWN_AMOUNT.findall(text))
            found = findings(text) + [f"money: {m}" for m in BARE_AMOUNT.findall(text)]
            for finding in found:
                self.kinds[finding.split(":", 1)[0]] += 1
                if len(self.examples) < EXAMPLES:
                    self.examples.append(f"{where} {key}: {finding} in {text[:160]!r}")


def run_surfaces_eval(
    *,
    customers: int = 1000,
    seed: int = 7,
    chat: tuple[str, ...] = CHAT,
    folder: Path | None = None,
    nlu_model: Path | None = None,
    step: Callable[[str], None] | None = None,
    advance: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Seed a bank, then read every customer surface of every customer and count findings.

    Args:
        customers: How many customers to seed and scan.
        seed: The bank's seed.
        chat: The customer's messages in the scripted chat (empty: no chat).
        folder: Where to build the bank and the app's files; a temporary folder when omitted.
        nlu_model: A trained intent model to chat with; trained into ``folder`` when omitted.
        step: Called with the name of each phase (for a progress display).
        advance: Called with 1 after each customer is scanned.

    Returns:
        ``{"customers", "http_answers", "chat_turns", "strings", "amounts_shown", "findings",
        "by_kind", "examples", "seconds"}``.
    """
    if folder is None:
        with tempfile.TemporaryDirectory(prefix="concierge-surfaces-") as tmp:
            return run_surfaces_eval(
                customers=customers,
                seed=seed,
                chat=chat,
                folder=Path(tmp),
                nlu_model=nlu_model,
                step=step,
                advance=advance,
            )
    from fastapi.testclient import TestClient

    from app.auth import Role, issue_token
    from app.main import create_app
    from services.settings import Settings
    from services.synth.writer import seed_bank

    say = step or (lambda _name: None)
    started = time.perf_counter()
    key = secrets.token_urlsafe(32)
    settings = Settings(
        var_dir=folder,
        database_url=f"sqlite:///{(folder / 'bank.db').as_posix()}",
        secret_key=key,
        nlu_model=nlu_model,
        warm_start=False,
    )
    app = create_app(settings)
    tally = Tally()
    answers = turns = 0
    with TestClient(app) as client:
        say(f"seeding {customers} customers")
        seed_bank(app.state.engine, customers=customers, seed=seed, as_of=date.today())
        say("reading every customer's pages and chat")
        for person in range(1, customers + 1):
            token = issue_token(person_id=person, role=Role.customer, key=key)
            headers = {"authorization": f"Bearer {token}"}
            for route in ROUTES:
                answer = client.get(route, headers=headers)
                if answer.status_code != 200:
                    raise RuntimeError(f"{route} for customer {person}: {answer.status_code}")
                tally.scan(f"customer {person} {route}", answer.json())
                answers += 1
            if chat:
                turns += _chat(client, token, person, chat, tally)
            if advance is not None:
                advance(1)
    total = sum(tally.kinds.values())
    return {
        "customers": customers,
        "seed": seed,
        "http_answers": answers,
        "chat_turns": turns,
        "strings": tally.strings,
        "amounts_shown": tally.amounts,
        "findings": total,
        "by_kind": dict(tally.kinds),
        "examples": tally.examples,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _chat(client: Any, token: str, person: int, chat: tuple[str, ...], tally: Tally) -> int:
    """Hold the scripted chat; scan every frame the browser would receive. Returns turns."""
    turns = 0
    with client.websocket_connect(f"/ws/chat?token={token}") as ws:
        tally.scan(f"customer {person} chat snapshot", ws.receive_json())
        for n, text in enumerate(chat):
            ws.send_json({"type": "USER_MESSAGE", "threadId": f"scan-{person}", "text": text})
            said = []
            while True:
                frame = ws.receive_json()
                kind = frame.get("type")
                if kind == "TEXT_MESSAGE_CONTENT":
                    said.append(str(frame.get("delta", "")))
                elif kind == "TOOL_CALL_RESULT":  # the page reads it as JSON (cards)
                    try:
                        tally.scan(f"customer {person} chat tool", json.loads(frame["content"]))
                    except (KeyError, ValueError):
                        tally.scan(f"customer {person} chat tool", str(frame.get("content")))
                elif kind != "TEXT_MESSAGE_START":
                    tally.scan(f"customer {person} chat {kind}", frame)
                if kind in ("RUN_FINISHED", "RUN_ERROR"):
                    break
            tally.scan(f"customer {person} chat reply {n}", "".join(said))
            turns += 1
    return turns
