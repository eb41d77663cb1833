"""Write tools: each runs only after the customer approved exactly this call (see agents/graph).

Every write tool is marked ``metadata["write"] = True`` with a ``describe`` that says, in the
customer's terms, what will happen (amount, accounts, payee, card, date) — the text of the
confirmation. The customer comes from the run's context; refs in the arguments are resolved
against that customer's records only (``services.banking`` refuses anything else with the same
"not found" as a record that does not exist). The idempotency key is the conversation's
thread and the tool call's id, so a replayed or re-delivered call executes once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

from langchain_core.tools import BaseTool, tool

from services import banking
from services.banking.rules import money
from services.insights.cache import revision
from services.money import MoneyError, to_minor
from services.reads import records as queries
from tools.refs import RefError, parse_ref, ref
from tools.runtime import ChatContext, Runtime

INJECTED = "Injected by the graph: the customer and the bank (not the model's to fill)."


def _key(runtime: Runtime) -> str:
    thread = (runtime.config.get("configurable") or {}).get("thread_id", "no-thread")
    return f"{thread}:{runtime.tool_call_id}"


def _minor(amount: str, currency: str) -> int:
    try:
        return to_minor(str(amount), currency or "USD")
    except MoneyError as exc:
        raise banking.Refused(f"I can't use that amount ({exc}).") from None


def _run(runtime: Runtime, write: Callable[..., banking.WriteResult]) -> str:
    ctx = runtime.context
    try:
        with ctx.bank.write() as conn:
            result = write(
                conn, person_id=ctx.person_id, idempotency_key=_key(runtime), now=ctx.now
            )
    except (banking.Refused, banking.NotFound, RefError) as exc:
        return json.dumps({"status": "refused", "reason": str(exc).rstrip(".")})
    except banking.IdempotencyConflict:
        return json.dumps({"status": "refused", "reason": "that request was already used"})
    out = {"status": "done", **result.to_json(), "replayed": result.replayed}
    if ctx.bank.recommender is not None:
        ctx.bank.recommender.invalidate(ctx.person_id)  # balances moved: decide afresh
    return json.dumps(out)


def _names(ctx: ChatContext) -> dict[str, str]:
    """What a confirmation calls each of the customer's refs (``acc-12`` → "Everyday (…4821)").

    A confirmation is described twice (when it is asked, and again when the approved run
    resumes), so the names are kept in ``bank.names`` while the customer's revision — which
    every write and booking changes — stays the same.
    """
    cache = getattr(ctx.bank, "names", None)
    with ctx.bank.read() as conn:
        mark = revision(conn, person_id=ctx.person_id) if cache is not None else ()
        found = cache.get(ctx.person_id, mark, ctx.now) if cache is not None else None
        if found is None:
            found = _read_names(conn, ctx.person_id)
            if cache is not None:
                cache.put(ctx.person_id, mark, ctx.now, found)
    return dict(found)


def _read_names(conn: Any, person_id: int) -> dict[str, str]:
    accounts = queries.accounts(conn, person_id=person_id)
    payees = queries.payees(conn, person_id=person_id)
    cards = queries.cards(conn, person_id=person_id)
    scheduled = queries.scheduled(conn, person_id=person_id)
    goals = queries.goals(conn, person_id=person_id)
    out = {ref("acc", a["id"]): f"{a['name']} (…{a['last4']})" for a in accounts}
    out |= {ref("payee", p["id"]): p["name"] for p in payees}
    out |= {ref("card", c["id"]): f"your {c['type']} card ending {c['last4']}" for c in cards}
    out |= {ref("goal", g["id"]): f"'{g['name']}'" for g in goals}
    out |= {
        ref("sched", s["id"]): (
            f"{money(int(s['amount_minor']), s['currency'])} to "
            f"{s['payee_name'] or s['to_name']} from {s['from_name']} ({s['cadence'] or 'once'})"
        )
        for s in scheduled
    }
    return out


def _say(template: str) -> Callable[[dict[str, Any], ChatContext], str]:
    def describe(args: dict[str, Any], ctx: ChatContext) -> str:
        names = _names(ctx)
        fill = {k: names.get(str(v), str(v)) for k, v in args.items()}
        currency = str(args.get("currency") or "USD")
        for field in ("amount", "target"):
            if field in args:
                try:
                    fill[field] = money(to_minor(str(args[field]), currency), currency)
                except MoneyError:
                    fill[field] = str(args[field])
        fill["destination"] = fill.get("to_account") or fill.get("payee") or "?"
        if "enabled" in args:
            fill["enabled"] = "on" if args["enabled"] in (True, "true", "True") else "off"
        if "transaction" in args:
            fill["transaction"] = _transaction(ctx, str(args["transaction"]))
        text = template.format_map(_Blank(fill))
        # an optional detail not given leaves no "(?)" behind in what the customer approves
        return text.replace(f" ({_UNSET})", "").replace(_UNSET, "?")

    return describe


def _transaction(ctx: ChatContext, value: str) -> str:
    try:
        entry_id = parse_ref(value, "txn")
    except RefError:
        return "an unknown transaction"
    with ctx.bank.read() as conn:
        row = queries.transaction(conn, person_id=ctx.person_id, entry_id=entry_id)
    if row is None:
        return "an unknown transaction"
    amount = money(abs(int(row["amount_minor"])), row["currency"])
    return f"{amount} at {row['merchant'] or row['description']} on {row['booked_at']:%b %d}"


_UNSET = "\x00"


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return _UNSET


def _write(template: str) -> Callable[[BaseTool], BaseTool]:
    def mark(t: BaseTool) -> BaseTool:
        t.metadata = {"write": True, "describe": _say(template)}
        return t

    return mark


@tool
def transfer(
    runtime: Runtime,
    from_account: str,
    to_account: str,
    amount: str,
    currency: str = "USD",
) -> str:
    """Move money between two of the customer's own accounts (after their confirmation).

    Args:
        runtime: Injected by the graph: the customer and the bank (not the model's to fill).
        from_account: Ref of the account to take the money from, e.g. "acc-12".
        to_account: Ref of the account to put it in.
        amount: Decimal amount, e.g. "200.00".
        currency: ISO currency code.
    """
    return _run(
        runtime,
        lambda conn, **who: banking.transfer(
            conn,
            **who,
            from_account_id=parse_ref(from_account, "acc"),
            to_account_id=parse_ref(to_account, "acc"),
            amount_minor=_minor(amount, currency),
            currency=currency,
        ),
    )


@tool
def pay_payee(
    runtime: Runtime,
    payee: str,
    amount: str,
    from_account: str,
    currency: str = "USD",
) -> str:
    """Pay one of the customer's saved payees now (after their confirmation).

    Args:
        runtime: Injected by the graph: the customer and the bank (not the model's to fill).
        payee: Ref of the payee, e.g. "payee-3".
        amount: Decimal amount, e.g. "60.00".
        from_account: Ref of the account to pay from.
        currency: ISO currency code.
    """
    return _run(
        runtime,
        lambda conn, **who: banking.pay_payee(
            conn,
            **who,
            from_account_id=parse_ref(from_account, "acc"),
            payee_id=parse_ref(payee, "payee"),
            amount_minor=_minor(amount, currency),
            currency=currency,
        ),
    )


@tool
def schedule_payment(
    runtime: Runtime,
    amount: str,
    from_account: str,
    first_date: str,
    frequency: str = "once",
    to_account: str = "",
    payee: str = "",
    currency: str = "USD",
) -> str:
    """Schedule a future or repeating transfer or payment (after confirmation).

    Args:
        runtime: Injected by the graph: the customer and the bank (not the model's to fill).
        amount: Decimal amount.
        from_account: Ref of the account to pay from.
        first_date: First payment date, YYYY-MM-DD.
        frequency: once, weekly, biweekly, monthly or payday.
        to_account: Ref of one of the customer's accounts (or give payee).
        payee: Ref of a saved payee (or give to_account).
        currency: ISO currency code.
    """
    return _run(
        runtime,
        lambda conn, **who: banking.schedule_payment(
            conn,
            **who,
            from_account_id=parse_ref(from_account, "acc"),
            to_account_id=parse_ref(to_account, "acc") if to_account else None,
            payee_id=parse_ref(payee, "payee") if payee else None,
            amount_minor=_minor(amount, currency),
            currency=currency,
            cadence=frequency,
            first_date=_date(first_date),
        ),
    )


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise banking.Refused(f"{value!r} is not a date like 2026-12-01") from None


@tool
def create_savings_rule(
    runtime: Runtime,
    amount: str,
    from_account: str,
    to_account: str,
    frequency: str = "payday",
    currency: str = "USD",
) -> str:
    """Set up an automatic savings rule, e.g. $200 to savings every payday (after confirmation).

    Args:
        runtime: Injected by the graph: the customer and the bank (not the model's to fill).
        amount: Decimal amount each time.
        from_account: Ref of the account to move money from.
        to_account: Ref of the savings account.
        frequency: weekly, biweekly, monthly or payday.
        currency: ISO currency code.
    """
    return _run(
        runtime,
        lambda conn, **who: banking.create_savings_rule(
            conn,
            **who,
            from_account_id=parse_ref(from_account, "acc"),
            to_account_id=parse_ref(to_account, "acc"),
            amount_minor=_minor(amount, currency),
            currency=currency,
            cadence=frequency,
        ),
    )


@tool
def cancel_scheduled_payment(runtime: Runtime, schedule: str) -> str:
    """Cancel a scheduled payment or savings rule (after confirmation).

    Args:
        runtime: Injected by the graph: the customer and the bank (not the model's to fill).
        schedule: Ref of the scheduled payment, e.g. "sched-4".
    """
    return _run(
        runtime,
        lambda conn, **who: banking.cancel_scheduled(
            conn, **who, scheduled_id=parse_ref(schedule, "sched")
        ),
    )


@tool
def freeze_card(runtime: Runtime, card: str) -> str:
    """Freeze (temporarily lock) one of the customer's cards (after confirmation).

    Args:
        runtime: Injected by the graph: the customer and the bank (not the model's to fill).
        card: Ref of the card, e.g. "card-2".
    """
    return _run(
        runtime,
        lambda conn, **who: banking.freeze_card(conn, **who, card_id=parse_ref(card, "card")),
    )


@tool
def unfreeze_card(runtime: Runtime, card: str) -> str:
    """Unfreeze one of the customer's cards (after confirmation).

    Args:
        runtime: Injected by the graph: the customer and the bank (not the model's to fill).
        card: Ref of the card.
    """
    return _run(
        runtime,
        lambda conn, **who: banking.unfreeze_card(conn, **who, card_id=parse_ref(card, "card")),
    )


@tool
def replace_card(runtime: Runtime, card: str, reason: str) -> str:
    """Report a card lost, stolen or damaged: block it for good and order a new one.

    Args:
        runtime: Injected by the graph: the customer and the bank (not the model's to fill).
        card: Ref of the card.
        reason: lost, stolen or damaged.
    """
    return _run(
        runtime,
        lambda conn, **who: banking.replace_card(
            conn, **who, card_id=parse_ref(card, "card"), reason=reason
        ),
    )


@tool
def dispute_transaction(runtime: Runtime, transaction: str, reason: str = "not recognised") -> str:
    """Dispute a card charge or payment the customer does not recognise (after confirmation).

    Args:
        runtime: Injected by the graph: the customer and the bank (not the model's to fill).
        transaction: Ref of the transaction, e.g. "txn-812".
        reason: Why, in a few words.
    """
    return _run(
        runtime,
        lambda conn, **who: banking.dispute_transaction(
            conn, **who, ledger_entry_id=parse_ref(transaction, "txn"), reason=reason
        ),
    )


@tool
def create_goal(runtime: Runtime, name: str, target: str, currency: str = "USD") -> str:
    """Start a savings goal (after confirmation).

    Args:
        runtime: Injected by the graph: the customer and the bank (not the model's to fill).
        name: What the goal is called, e.g. "Japan trip".
        target: Target amount, e.g. "3000.00".
        currency: ISO currency code.
    """
    return _run(
        runtime,
        lambda conn, **who: banking.create_goal(
            conn, **who, name=name, target_minor=_minor(target, currency), currency=currency
        ),
    )


@tool
def set_preferences(runtime: Runtime, channel: str, enabled: bool) -> str:
    """Turn one kind of notification on or off (after confirmation).

    Args:
        runtime: Injected by the graph: the customer and the bank (not the model's to fill).
        channel: push, email or sms.
        enabled: True to turn on, False to turn off.
    """
    return _run(
        runtime,
        lambda conn, **who: banking.set_preference(conn, **who, channel=channel, enabled=enabled),
    )


@tool
def respond_to_offer(runtime: Runtime, offer: str, response: str) -> str:
    """Record the customer's answer to an offer: accepted or declined (after confirmation).

    Args:
        runtime: Injected by the graph: the customer and the bank (not the model's to fill).
        offer: The offer's code, e.g. "high_yield_savings".
        response: accepted or declined.
    """
    return _run(
        runtime,
        lambda conn, **who: banking.respond_to_offer(
            conn, **who, offer_code=offer, response=response, channel="chat"
        ),
    )


@tool
def handoff(runtime: Runtime, reason: str) -> str:
    """Hand the conversation to a human advisor, with a summary so nothing is repeated.

    Args:
        runtime: Injected by the graph: the customer and the bank (not the model's to fill).
        reason: Why the customer wants an advisor, in their words.
    """
    summary = _conversation_summary(runtime)
    out = _run(
        runtime,
        lambda conn, **who: banking.open_handoff(
            conn, **who, summary=summary, reason=reason[:100] or "customer asked"
        ),
    )
    data = json.loads(out)
    if data.get("status") == "done":
        data["case"] = data.get("reference")
    return json.dumps(data)


def _conversation_summary(runtime: Runtime) -> str:
    """The advisor's context summary when the bank provides one, else what the customer asked."""
    messages = list((runtime.state or {}).get("messages", []))
    ctx = runtime.context
    if ctx.bank.summarise is not None:
        return ctx.bank.summarise(ctx.person_id, ctx.now, messages)[:2000]
    asked = [str(m.content) for m in messages if getattr(m, "type", "") == "human"][-10:]
    text = " | ".join(a.replace("\n", " ")[:180] for a in asked)
    return (text or "The customer asked for an advisor.")[:2000]


@tool
def pay_card_bill(runtime: Runtime, from_account: str, card_account: str, amount: str) -> str:
    """Pay (part of) the customer's credit-card bill from one of their accounts.

    Args:
        runtime: Injected by the graph: the customer and the bank (not the model's to fill).
        from_account: Ref of the account to pay from.
        card_account: Ref of the credit-card account.
        amount: Decimal amount.
    """
    return _run(
        runtime,
        lambda conn, **who: banking.pay_card_bill(
            conn,
            **who,
            from_account_id=parse_ref(from_account, "acc"),
            card_account_id=parse_ref(card_account, "acc"),
            amount_minor=_minor(amount, "USD"),
        ),
    )


@tool
def update_goal(
    runtime: Runtime, goal: str, name: str = "", target: str = "", target_date: str = ""
) -> str:
    """Rename one of the customer's savings goals, or change its target or date (confirmed).

    Args:
        runtime: Injected by the graph: the customer and the bank (not the model's to fill).
        goal: Ref of the goal, e.g. "goal-2".
        name: A new name, or empty to keep it.
        target: A new target amount, e.g. "3000.00", or empty to keep it.
        target_date: A new date to reach the goal by, YYYY-MM-DD, or empty to keep it.
    """
    return _run(
        runtime,
        lambda conn, **who: banking.update_goal(
            conn,
            **who,
            goal_id=parse_ref(goal, "goal"),
            name=name or None,
            target_minor=_minor(target, "USD") if target else None,
            target_date=_date(target_date) if target_date else None,
        ),
    )


def _describe_goal_change(args: dict[str, Any], ctx: ChatContext) -> str:
    """The confirmation of a goal change, naming only what changes (never a blank field)."""
    names = _names(ctx)
    changes = []
    if args.get("name"):
        changes.append(f"rename it '{args['name']}'")
    if args.get("target"):
        try:
            changes.append(f"target to {money(to_minor(str(args['target']), 'USD'), 'USD')}")
        except MoneyError:
            changes.append(f"target to {args['target']}")
    if args.get("target_date"):
        try:
            when = date.fromisoformat(str(args["target_date"]))
            changes.append(f"date to {when:%B} {when.day}, {when.year}")
        except ValueError:
            changes.append(f"date to {args['target_date']}")
    what = names.get(str(args.get("goal")), "an unknown goal")
    return f"Change your goal {what}: {', '.join(changes) or 'nothing'}?"


pay_card_bill = _write("Pay {amount} from {from_account} to {card_account}?")(pay_card_bill)
update_goal.metadata = {"write": True, "describe": _describe_goal_change}
transfer = _write("Move {amount} from {from_account} to {to_account} now?")(transfer)
pay_payee = _write("Pay {payee} {amount} from {from_account} now?")(pay_payee)
schedule_payment = _write(
    "Schedule {amount} from {from_account} to {destination}, {frequency}, first on {first_date}?"
)(schedule_payment)
create_savings_rule = _write(
    "Move {amount} from {from_account} to {to_account} every {frequency}?"
)(create_savings_rule)
cancel_scheduled_payment = _write("Cancel {schedule}?")(cancel_scheduled_payment)
freeze_card = _write("Freeze {card}?")(freeze_card)
unfreeze_card = _write("Unfreeze {card}?")(unfreeze_card)
replace_card = _write("Block {card} for good ({reason}) and send you a new one?")(replace_card)
dispute_transaction = _write("Dispute {transaction} ({reason})?")(dispute_transaction)
create_goal = _write("Start a savings goal '{name}' with a target of {target}?")(create_goal)
set_preferences = _write("Set {channel} notifications to {enabled}?")(set_preferences)
respond_to_offer = _write("Record that you {response} the {offer} offer?")(respond_to_offer)
handoff = _write("Connect you with an advisor and share this conversation with them?")(handoff)

WRITE_TOOLS: list[BaseTool] = [
    transfer,
    pay_payee,
    pay_card_bill,
    update_goal,
    schedule_payment,
    create_savings_rule,
    cancel_scheduled_payment,
    freeze_card,
    unfreeze_card,
    replace_card,
    dispute_transaction,
    create_goal,
    set_preferences,
    respond_to_offer,
    handoff,
]
