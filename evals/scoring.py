"""Score one conversation on what happened: end state, executed writes, confirmations, words.

Writes are read back from the bank's write log (``write_request`` rows: the request and the
result of every executed write) and put in the scenario vocabulary (``transfer everyday→rainy
200.00``), with refs for the records the scenario named. Expected writes are an exact multiset:
each must match one executed write of its kind on every field it gives, and every executed
write must be matched.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import SQLModel

from evals.fixtures import Fixture, cadence
from evals.scenario import Scenario, money
from services.money import to_decimal

_T = SQLModel.metadata.tables
_MONEY_FIELDS = ("amount", "target")


@dataclass
class TurnRecord:
    """What one turn produced."""

    number: int
    said: str
    replies: list[str]
    tools: list[dict[str, Any]] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)
    latency_ms: float = 0.0

    @property
    def reply(self) -> str:
        """Everything the assistant said this turn (a confirmation's text included)."""
        return "\n".join(self.replies)

    @property
    def asked_confirmation(self) -> bool:
        """Whether the turn ended waiting for the customer's approval."""
        return bool(self.pending)

    def to_json(self) -> dict[str, Any]:
        """A plain dict for transcripts."""
        return asdict(self)


@dataclass
class Observed:
    """A conversation's outcome: its turns, the end state and the executed writes."""

    turns: list[TurnRecord]
    state: dict[str, dict[str, str]]
    writes: list[dict[str, Any]]
    error: str | None = None

    @property
    def confirmations(self) -> int:
        """How many times the customer was asked to approve something."""
        return sum(t.asked_confirmation for t in self.turns)


# --- reading the bank back ------------------------------------------------------------------


def read_state(engine: Engine, fixture: Fixture) -> dict[str, dict[str, str]]:
    """Balances (as decimal text) and card states of every record the scenario named."""
    accounts, cards = _T["account"], _T["card"]
    balances: dict[str, str] = {}
    statuses: dict[str, str] = {}
    with engine.connect() as conn:
        for ref, (table, row_id) in fixture.refs.items():
            if table == "account":
                row = conn.execute(
                    select(accounts.c.balance_minor, accounts.c.currency).where(
                        accounts.c.id == row_id
                    )
                ).one()
                balances[ref] = str(to_decimal(int(row.balance_minor), row.currency))
            elif table == "card":
                statuses[ref] = str(
                    conn.execute(select(cards.c.status).where(cards.c.id == row_id)).scalar_one()
                )
    return {"balances": balances, "cards": statuses}


def read_writes(engine: Engine, fixture: Fixture) -> list[dict[str, Any]]:
    """Every executed write, oldest first, in the scenario vocabulary."""
    requests = _T["write_request"]
    with engine.connect() as conn:
        rows = conn.execute(
            select(requests.c.kind, requests.c.request, requests.c.result, requests.c.person_id)
            .where(requests.c.result.is_not(None))
            .order_by(requests.c.id)
        ).all()
        scheduled = {
            int(r.id): r.next_date
            for r in conn.execute(
                select(_T["scheduled_transfer"].c.id, _T["scheduled_transfer"].c.next_date)
            )
        }
    out = []
    for row in rows:
        write = to_vocabulary(
            str(row.kind), dict(row.request or {}), dict(row.result or {}), fixture
        )
        if int(row.person_id) != fixture.person_id:
            write["customer"] = f"person {row.person_id}"
        if write["kind"] == "schedule" and "first" not in write:
            sid = (row.result or {}).get("ids", {}).get("scheduled_id")
            if sid is not None and scheduled.get(int(sid)) is not None:
                write["first"] = str(scheduled[int(sid)])
        out.append(write)
    return out


def to_vocabulary(
    kind: str, request: dict[str, Any], result: dict[str, Any], fixture: Fixture
) -> dict[str, Any]:
    """One write-log row as ``{kind, from, to, amount, ...}`` with the scenario's refs."""

    def name(table: str, row_id: Any) -> str | None:
        if row_id is None:
            return None
        return fixture.ref_of(table, int(row_id)) or f"{table}#{row_id}"

    currency = str(request.get("currency") or "USD")
    out: dict[str, Any] = {"kind": kind}
    if "from_account_id" in request:
        out["from"] = name("account", request["from_account_id"])
    if request.get("to_account_id") is not None:
        out["to"] = name("account", request["to_account_id"])
    if request.get("card_account_id") is not None:
        out["to"] = name("account", request["card_account_id"])
    if request.get("payee_id") is not None:
        out["payee"] = name("payee", request["payee_id"])
    if "amount_minor" in request:
        out["amount"] = str(to_decimal(int(request["amount_minor"]), currency))
    if "target_minor" in request and request["target_minor"] is not None:
        out["target"] = str(to_decimal(int(request["target_minor"]), currency))
    if kind == "schedule":
        out["every"] = request.get("cadence") or "once"
        if request.get("first_date"):
            out["first"] = str(request["first_date"])[:10]
    if "scheduled_id" in request:
        out["schedule"] = name("scheduled_transfer", request["scheduled_id"])
    if "card_id" in request:
        out["card"] = name("card", request["card_id"])
    if "ledger_entry_id" in request:
        out["transaction"] = name("ledger_entry", request["ledger_entry_id"])
    if kind == "goal":
        out["name"] = request.get("name")
        if request.get("goal_id") is not None:
            out["goal"] = name("savings_goal", request["goal_id"])
        if request.get("target_date"):
            out["target_date"] = str(request["target_date"])[:10]
    for key in ("channel", "enabled", "response", "reason"):
        if key in request:
            out[key] = request[key]
    if "offer_code" in request:
        out["offer"] = request["offer_code"]
    return {k: v for k, v in out.items() if v is not None}


def describe_write(write: dict[str, Any]) -> str:
    """A write in a few words: ``transfer everyday→rainy 200.00``."""
    parts = [str(write.get("kind"))]
    source = write.get("from")
    target = write.get("to") or write.get("payee")
    if source or target:
        parts.append(f"{source or '?'}→{target or '?'}" if source else str(target))
    if "amount" in write:
        parts.append(str(write["amount"]))
    for key in (
        "every",
        "first",
        "schedule",
        "card",
        "transaction",
        "goal",
        "name",
        "target",
        "target_date",
        "channel",
        "enabled",
        "offer",
        "response",
        "customer",
    ):
        if key in write:
            parts.append(f"{key}={write[key]}")
    return " ".join(parts)


# --- comparing ------------------------------------------------------------------------------


def _same(key: str, wanted: Any, got: Any) -> bool:
    if got is None:
        return False
    if key in _MONEY_FIELDS:
        try:
            return money(wanted) == Decimal(str(got))
        except ArithmeticError:
            return False
    if key == "every":
        return cadence(str(wanted)) == cadence(str(got))
    if key == "name":
        return str(wanted).strip().lower() == str(got).strip().lower()
    return bool(wanted == got) or str(wanted) == str(got)


def _matches(expected: dict[str, Any], actual: dict[str, Any]) -> bool:
    return all(_same(k, v, actual.get(k)) for k, v in expected.items())


def match_writes(
    expected: list[dict[str, Any]], actual: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The expected writes nothing matched, and the executed writes nothing expected."""
    left = list(actual)
    missing = []
    # the most specific expectations first, so a loose one can't take a write a strict one needs
    for want in sorted(expected, key=len, reverse=True):
        found = next((i for i, got in enumerate(left) if _matches(want, got)), None)
        if found is None:
            missing.append(want)
        else:
            left.pop(found)
    return missing, left


def _norm(text: str) -> str:
    # curly quotes and non-breaking spaces compare like their plain forms
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("\u00a0", " ").lower()


def _snippet(text: str, size: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= size else flat[: size - 1] + "…"


def score(scenario: Scenario, observed: Observed) -> list[str]:
    """Every way ``observed`` falls short of ``scenario``'s expectations, as sentences."""
    reasons: list[str] = []
    if observed.error:
        reasons.append(observed.error)
    expect = scenario.expect
    state = expect.get("state") or {}
    for ref, wanted in (state.get("balances") or {}).items():
        got = observed.state["balances"].get(ref)
        if got is None or money(wanted) != Decimal(got):
            reasons.append(f"balance of {ref}: expected {money(wanted):.2f}, got {got}")
    for ref, wanted in (state.get("cards") or {}).items():
        got = observed.state["cards"].get(ref)
        if got != wanted:
            reasons.append(f"card {ref}: expected {wanted}, got {got}")
    if "writes" in expect:
        missing, unexpected = match_writes(list(expect["writes"] or []), observed.writes)
        reasons += [f"missing write: {describe_write(w)}" for w in missing]
        reasons += [f"unexpected write: {describe_write(w)}" for w in unexpected]
    if "confirmations" in expect and observed.confirmations != expect["confirmations"]:
        reasons.append(
            f"confirmations: expected {expect['confirmations']}, got {observed.confirmations}"
        )
    last = observed.turns[-1].reply if observed.turns else ""
    for words in expect.get("reply_includes") or []:
        if _norm(words) not in _norm(last):
            reasons.append(f"final reply lacks {words!r}: {_snippet(last)!r}")
    for words in expect.get("never_includes") or []:
        for turn in observed.turns:
            if _norm(words) in _norm(turn.reply):
                reasons.append(f"forbidden text {words!r} in reply {turn.number}")
    reasons += _turn_reasons(scenario, observed)
    return reasons


def _turn_reasons(scenario: Scenario, observed: Observed) -> list[str]:
    reasons: list[str] = []
    by_number = {t.number: t for t in observed.turns}
    for number, turn in enumerate(scenario.turns, start=1):
        want = turn.get("expect")
        if not want:
            continue
        got = by_number.get(number)
        if got is None:
            reasons.append(f"turn {number}: never ran")
            continue
        if (
            "confirmation_required" in want
            and want["confirmation_required"] != got.asked_confirmation
        ):
            if want["confirmation_required"]:
                reasons.append(
                    f"turn {number}: expected a confirmation request, got none: "
                    f"{_snippet(got.reply)!r}"
                )
            else:
                names = ", ".join(p["name"] for p in got.pending)
                reasons.append(f"turn {number}: unexpected confirmation request ({names})")
        for words in want.get("reply_includes") or []:
            if _norm(words) not in _norm(got.reply):
                reasons.append(f"turn {number}: reply lacks {words!r}: {_snippet(got.reply)!r}")
        for words in want.get("never_includes") or []:
            if _norm(words) in _norm(got.reply):
                reasons.append(f"turn {number}: forbidden text {words!r} in reply")
        ran = {t["name"] for t in got.tools if t.get("status") != "error"}
        ran |= {p["name"] for p in got.pending}
        for tool in want.get("tools") or []:
            if tool not in ran:
                reasons.append(
                    f"turn {number}: tool {tool!r} did not run "
                    f"(ran: {', '.join(sorted(ran)) or 'none'})"
                )
    return reasons
