"""Routine tasks as frames: the tool each needs, its slots, and filling them from what was said.

A :class:`Frame` is one task under way. Slots are filled only from what the customer said, matched
against their own accounts, payees, cards and schedules (:mod:`agents.offline.slots`); a slot with
several candidates stays empty and the customer is asked, with the options. Defaults are the
customer's own and unambiguous (their only checking account as the source of a payment) and every
write is confirmed by the graph before it runs, showing exactly these values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from agents.context import Card, CustomerContext
from agents.offline.slots import (
    match_account,
    match_card,
    match_merchant,
    match_payee,
    match_transfer_accounts,
    parse_amount,
    parse_date,
    parse_frequency,
)
from agents.offline.tracker import clean

CLEAR_LEAD = 0.1  # the best candidate must beat the next by this much to be taken


@dataclass(frozen=True)
class Task:
    """A task intent's tool and the slots it needs, in the order they are asked for."""

    tool: str
    needs: tuple[str, ...]
    verb: str  # for "shall we get back to ..."


TASKS: dict[str, Task] = {
    "transfer_money": Task("transfer", ("amount", "from_account", "to_account"), "the transfer"),
    "pay_bill": Task("pay_payee", ("payee", "amount", "from_account"), "the payment"),
    "schedule_payment": Task(
        "schedule_payment",
        ("amount", "destination", "from_account", "first_date", "frequency"),
        "scheduling the payment",
    ),
    "savings_rule": Task(
        "create_savings_rule",
        ("amount", "from_account", "to_account", "frequency"),
        "the savings rule",
    ),
    "cancel_scheduled_payment": Task(
        "cancel_scheduled_payment", ("schedule",), "cancelling the scheduled payment"
    ),
    "freeze_card": Task("freeze_card", ("card",), "freezing your card"),
    "unfreeze_card": Task("unfreeze_card", ("card",), "unfreezing your card"),
    "replace_card": Task("replace_card", ("card", "reason"), "replacing your card"),
    "dispute_transaction": Task("dispute_transaction", ("transaction",), "the dispute"),
    "create_savings_goal": Task("create_goal", ("name", "target"), "the savings goal"),
    "set_alerts": Task("set_preferences", ("channel", "enabled"), "your alert settings"),
}

QUESTIONS = {
    "amount": "How much would you like to {verb}?",
    "target": "What's the target amount for this goal?",
    "from_account": "Which account should the money come from?",
    "to_account": "Which account should it go to?",
    "destination": "Who or which account should it go to?",
    "payee": "Who would you like to pay?",
    "first_date": "When should it start?",
    "frequency": "How often — just once, weekly, every two weeks or monthly?",
    "schedule": "Which scheduled payment should I cancel?",
    "card": "Which card?",
    "reason": "Was the card lost, stolen or damaged?",
    "transaction": "Which transaction would you like to dispute?",
    "name": "What would you like to call this goal?",
    "channel": "Which alerts — push, email or text messages?",
    "enabled": "Should I turn them on or off?",
}
VERB = {"transfer_money": "move", "pay_bill": "pay", "schedule_payment": "send"}


@dataclass
class Frame:
    """A task under way: its intent, the slots filled so far and where the dialogue stands."""

    intent: str
    slots: dict[str, Any] = field(default_factory=dict)
    options: dict[str, list[str]] = field(default_factory=dict)  # slot -> candidate refs
    status: str = "asking"  # asking | proposed | suspended | done

    @property
    def task(self) -> Task:
        """The task definition."""
        return TASKS[self.intent]

    def missing(self) -> list[str]:
        """Slots still empty, in asking order."""
        return [s for s in self.task.needs if self.slots.get(s) in (None, "")]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (kept on the assistant's message)."""
        return {
            "intent": self.intent,
            "slots": dict(self.slots),
            "options": dict(self.options),
            "status": self.status,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Frame:
        """The frame :meth:`to_dict` wrote."""
        return cls(data["intent"], dict(data["slots"]), dict(data["options"]), data["status"])

    def moved(self, status: str) -> Frame:
        """A copy in another status."""
        return replace(self, slots=dict(self.slots), options=dict(self.options), status=status)


def _take(frame: Frame, slot: str, found: list[tuple[str, float]]) -> bool:
    """Set ``slot`` from ranked candidates if one clearly leads, else keep the options."""
    if not found:
        return False
    if len(found) == 1 or found[0][1] - found[1][1] >= CLEAR_LEAD:
        frame.slots[slot] = found[0][0]
        frame.options.pop(slot, None)
    else:
        frame.options[slot] = [ref for ref, _ in found]
    return True


def _money(frame: Frame, slot: str, text: str, ctx: CustomerContext) -> bool:
    source = ctx.account(str(frame.slots.get("from_account") or ""))
    money = parse_amount(
        text,
        default_currency=ctx.currency,
        available_minor=source.balance_minor if source else None,
    )
    if money is None:
        return False
    frame.slots[slot] = str(Decimal(money.amount_minor).scaleb(-2).quantize(Decimal("0.01")))
    frame.slots["currency"] = money.currency
    return True


def fill(frame: Frame, text: str, ctx: CustomerContext, *, asked: str | None = None) -> bool:
    """Fill every slot ``text`` speaks to; ``asked`` is the slot just asked for. Whether any."""
    text = _OTHERS_ACCOUNT.sub(" ", clean(text))  # "to someone's savings" is not ours
    accounts = [a.as_ref() for a in ctx.accounts]
    changed = False
    if frame.intent == "transfer_money" and not frame.slots.get("to_account"):
        people = match_payee(text, [(p.ref, p.name) for p in ctx.payees])
        _, targets = match_transfer_accounts(text, accounts)
        if people and not targets:
            # "transfer 50 to Diego": money to a person is a payment to that payee
            frame.intent = "pay_bill"
            frame.options.pop("to_account", None)
    needs = set(frame.task.needs)
    if (problem := _unusable(frame, text, ctx, needs)) is not None:
        frame.slots["_problem"] = problem
        return True
    target_slot = "to_account" if "to_account" in needs else "destination"
    if asked in ("from_account", target_slot) and not re.search(r"\b(from|to|into)\b", text, re.I):
        changed |= _take(frame, asked, match_account(text, accounts))  # answers the question
    elif "from_account" in needs and target_slot in needs:
        sources, targets = match_transfer_accounts(text, accounts)
        changed |= _take(frame, "from_account", sources)
        changed |= _take(frame, target_slot, targets)
    elif "from_account" in needs:
        changed |= _take(frame, "from_account", match_account(text, accounts))
    for slot in ("amount", "target"):
        if slot in needs and _money(frame, slot, text, ctx):
            changed = True
    if needs & {"payee", "destination"} and not frame.slots.get("destination"):
        payees = [(p.ref, p.name) for p in ctx.payees]
        slot = "payee" if "payee" in needs else "destination"
        changed |= _take(frame, slot, match_payee(text, payees))
    if "card" in needs:
        # a card already reported lost or stolen (or replaced) can be neither frozen nor
        # replaced again: never offer it
        cards = [c.as_ref() for c in _usable_cards(ctx)]
        changed |= _take(frame, "card", match_card(text, cards))
    if "first_date" in needs:
        when = parse_date(text, today=ctx.today)
        if when is not None:
            frame.slots["first_date"] = when.isoformat()
            changed = True
    if "frequency" in needs:
        often = "payday" if re.search(r"\bpay ?days?\b", text, re.I) else parse_frequency(text)
        if often is not None:
            frame.slots["frequency"] = often
            changed = True
    if "schedule" in needs:
        names = [s.name for s in ctx.scheduled]
        refs = {s.name: s.ref for s in ctx.scheduled}
        found = [(refs[name], score) for name, score in match_merchant(text, names)]
        changed |= _take(frame, "schedule", found)
    changed |= _words(frame, text, needs)
    if asked == "name" and not frame.slots.get("name") and (name := _bare_name(text)):
        frame.slots["name"] = name  # "Emergency fund", said in answer to "call it what?"
        changed = True
    return changed


_OTHERS_ACCOUNT = re.compile(
    r"\b(?:someone(?: else)?'?s|somebody(?: else)?'?s|his|her|their|a friend'?s|"
    r"(?!(?:it|that|what|there|here|let|he|she|who)'s)[a-z]+'s)\s+"
    r"(?:savings|checking|current)(?:\s+account)?\b",
    re.I,
)
_GENERIC = {"account", "accounts", "my", "the", "savings", "checking", "card", "credit", "debit"}
_LAST4 = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def _unusable(frame: Frame, text: str, ctx: CustomerContext, needs: set[str]) -> str | None:
    """Why the account or card ``text`` names cannot be used, if it names one that can't."""
    lowered = text.lower()
    words = set(re.findall(r"[a-z0-9]+", lowered))
    if needs & {"from_account", "to_account", "destination"}:
        for closed in ctx.closed:
            own = set(re.findall(r"[a-z0-9]+", closed.name.lower())) - _GENERIC
            if own and own <= words:
                return f"Your {closed.name} account is closed, so I can't use it for that."
    if "card" in needs and not frame.slots.get("card"):
        usable = [c.as_ref() for c in _usable_cards(ctx)]
        if match_card(text, usable):
            return None
        named = _LAST4.search(text)
        if named and all(c.last4 != named.group(1) for c in ctx.cards):
            return f"I couldn't find a card ending {named.group(1)} among yours."
        for card in ctx.cards:
            if card in _usable_cards(ctx):
                continue
            if (named and card.last4 == named.group(1)) or (not named and card.type in words):
                return (
                    f"Your {card.type} card ending {card.last4} was reported {card.status}, "
                    "so it can't be used any more; a replacement is on its way or can be "
                    "ordered."
                )
    return None


def _bare_name(text: str) -> str | None:
    words = re.sub(
        r"^(?:let's |just |please )?(?:call it |name it )?", "", text.strip(), flags=re.I
    )
    words = words.strip(" .!\"'")
    if 1 <= len(words) <= 40 and re.fullmatch(r"[A-Za-z][A-Za-z' -]*", words):
        return words.title()
    return None


_REASON = re.compile(r"\b(stolen|lost|damaged|broken|cracked|snapped)\b", re.I)
_CHANNEL = re.compile(r"\b(push|e-?mails?|sms|texts?|notifications?)\b", re.I)
# marketing is a consent, not a channel: "no more marketing emails" keeps service e-mails on
_MARKETING = re.compile(
    r"\b(marketing|promotional|promotions?|promos?|newsletters?|offers)\b", re.I
)
_OFF = re.compile(r"\b(off|stop|disable|no more|unsubscribe|mute)\b", re.I)
_ON = re.compile(r"\b(on|enable|start|turn on|send me|activate)\b", re.I)
_GOAL_NAME = re.compile(
    r"\b(?:for|called|named|towards?)\s+(?:an?\s+|my\s+|the\s+)?"
    r"(?P<name>[a-z][a-z' -]{1,40}?)(?=\s*(?:$|[,.!?]|\bwith\b|\bof\b|\bfor\b|\bto\b|\$|\d))",
    re.I,
)


def _words(frame: Frame, text: str, needs: set[str]) -> bool:
    changed = False
    if "reason" in needs and (m := _REASON.search(text)):
        word = m.group(1).lower()
        frame.slots["reason"] = word if word in ("stolen", "lost") else "damaged"
        changed = True
    if "channel" in needs and _MARKETING.search(text):
        frame.slots["channel"] = "marketing"
        changed = True
    elif "channel" in needs and (m := _CHANNEL.search(text)):
        word = m.group(1).lower()
        if word.startswith(("email", "e-mail")):
            frame.slots["channel"] = "email"
        else:
            frame.slots["channel"] = {"text": "sms", "texts": "sms"}.get(
                word, "push" if word.startswith("notification") else word
            )
        changed = True
    if "enabled" in needs and (_OFF.search(text) or _ON.search(text)):
        frame.slots["enabled"] = not _OFF.search(text)
        changed = True
    if "name" in needs and not frame.slots.get("name") and (m := _GOAL_NAME.search(text)):
        frame.slots["name"] = m.group("name").strip().title()
        changed = True
    return changed


def defaults(frame: Frame, ctx: CustomerContext) -> None:
    """Fill the customer's own unambiguous defaults for slots still empty."""
    needs = set(frame.task.needs)
    checking = [a for a in ctx.accounts if a.type == "checking"]
    if "from_account" in needs and not frame.slots.get("from_account") and len(checking) == 1:
        if frame.intent in ("pay_bill", "schedule_payment", "savings_rule"):
            frame.slots["from_account"] = checking[0].ref
    if "schedule" in needs and not frame.slots.get("schedule") and len(ctx.scheduled) == 1:
        frame.slots["schedule"] = ctx.scheduled[0].ref
    if "card" in needs and not frame.slots.get("card"):
        usable = _usable_cards(ctx)
        if len(usable) == 1:
            frame.slots["card"] = usable[0].ref
    if frame.intent == "schedule_payment" and frame.slots.get("first_date"):
        frame.slots.setdefault("frequency", "once")
    if frame.intent == "savings_rule" and not frame.slots.get("to_account"):
        savings = [a for a in ctx.accounts if a.type == "savings"]
        if len(savings) == 1:
            frame.slots["to_account"] = savings[0].ref


def _usable_cards(ctx: CustomerContext) -> list[Card]:
    return [c for c in ctx.cards if c.status not in ("lost", "stolen", "replaced", "closed")]


def nothing_to_choose(slot: str, ctx: CustomerContext, frame: Frame | None = None) -> str | None:
    """What to say when the customer holds nothing that could fill ``slot``, else None."""
    if slot in ("from_account", "to_account"):
        taken = frame.slots.get("from_account") if frame is not None else None
        if not [a for a in ctx.accounts if a.ref != taken]:
            if not ctx.accounts:
                return "I can't find an open account of yours to do that with."
            return (
                "You have only one account with us, so there's no other account to move "
                "money to. I can pay one of your payees instead, or open a savings account "
                "with an advisor."
            )
    if slot == "schedule" and not ctx.scheduled:
        return "You don't have any scheduled payments or savings rules to cancel."
    if slot == "card" and not _usable_cards(ctx):
        return "You don't have a card in use that I could do that for."
    if slot == "payee" and not ctx.payees:
        return "You don't have any saved payees yet — you can add one in the app."
    return None


def question(frame: Frame, slot: str, ctx: CustomerContext) -> str:
    """The question that asks for ``slot``, with the customer's own options."""
    text = QUESTIONS[slot].format(verb=VERB.get(frame.intent, "set aside"))
    options = frame.options.get(slot)
    names = names_of(ctx)
    if options:
        return f"{text} I found {_either(names, options)}."
    if slot in ("from_account", "to_account") and ctx.accounts:
        choices = [a.ref for a in ctx.accounts if a.ref != frame.slots.get("from_account")]
        return f"{text} You have {_either(names, choices)}."
    if slot == "card" and (usable := _usable_cards(ctx)):
        return f"{text} You have {_either(names, [c.ref for c in usable])}."
    return text


def names_of(ctx: CustomerContext) -> dict[str, str]:
    """How each of the customer's refs is called in a reply."""
    out = {a.ref: f"{a.name} (…{a.last4})" for a in ctx.accounts}
    out |= {p.ref: p.name for p in ctx.payees}
    out |= {c.ref: f"the {c.type} card ending {c.last4}" for c in ctx.cards}
    out |= {s.ref: s.name for s in ctx.scheduled}
    return out


def _either(names: dict[str, str], refs: list[str]) -> str:
    shown = [names.get(r, r) for r in refs]
    if not shown:
        return "nothing to choose from"
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def tool_args(frame: Frame) -> dict[str, Any]:
    """The tool call's arguments: the filled slots, destination split into account or payee."""
    args = {k: v for k, v in frame.slots.items() if v not in (None, "") and not k.startswith("_")}
    if "destination" in args:
        dest = args.pop("destination")
        args["payee" if str(dest).startswith("payee") else "to_account"] = dest
    return args
