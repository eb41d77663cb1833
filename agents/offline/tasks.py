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
from datetime import date
from decimal import Decimal
from typing import Any

from agents.context import Account, Card, CustomerContext
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
from agents.offline.slots.dates import last_day
from agents.offline.slots.match import correct_words, rank
from agents.offline.slots.text import MONTH_RE, MONTHS, normalise
from agents.offline.tracker import clean
from services.money import display_money

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
    # a credit card's bill: from a deposit account to the card account, never to a payee
    "pay_card": Task(
        "pay_card_bill", ("card_account", "amount", "from_account"), "the card payment"
    ),
    # one of the customer's goals: its name, target or date ("_change": any of them given)
    "update_goal": Task("update_goal", ("goal", "_change"), "the goal change"),
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
    "card_account": "Which credit card would you like to pay?",
    "goal": "Which goal would you like to change?",
    "_change": "What would you like to change — its name, its target amount or its date?",
}
VERB = {"transfer_money": "move", "pay_bill": "pay", "schedule_payment": "send", "pay_card": "pay"}


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
    text = _not_ours(clean(text))  # "to Diego's savings" is not ours
    accounts = [a.as_ref() for a in ctx.accounts]
    changed = False
    if frame.intent == "transfer_money" and not frame.slots.get("to_account"):
        people = match_payee(text, [(p.ref, p.name) for p in ctx.payees])
        _, targets = match_transfer_accounts(text, accounts)
        if people and not targets:
            # "transfer 50 to Diego": money to a person is a payment to that payee
            frame.intent = "pay_bill"
            frame.options.pop("to_account", None)
    if frame.intent in ("pay_bill", "transfer_money") and pays_card(text, ctx):
        # "pay my Visa": the bill of the customer's own credit card, not a payee called Visa
        frame.intent = "pay_card"
        for slot in ("payee", "to_account", "destination"):
            frame.slots.pop(slot, None)
            frame.options.pop(slot, None)
    if frame.intent == "update_goal":
        return _goal_change(frame, text, ctx, asked=asked)
    needs = set(frame.task.needs)
    if (problem := _unusable(frame, text, ctx, needs)) is not None:
        frame.slots["_problem"] = problem
        return True
    target_slot = "to_account" if "to_account" in needs else "destination"
    if "card_account" in needs:
        changed |= _card_payment(frame, text, ctx, asked=asked)
    elif asked in ("from_account", target_slot) and not re.search(
        r"\b(from|to|into)\b", text, re.I
    ):
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


# What names a credit card's bill when paying: its product or issuer, or the card itself.
_CARD_BILL = re.compile(
    r"\b(?:credit\s*cards?|credit(?!\s+unions?\b)|visa|master\s*card|mc|amex|"
    r"american\s+express|discover|"
    r"card(?:\s*(?:bill|balance|statement|payment))?|platinum|gold|rewards|cc)\b",
    re.I,
)
_CREDIT_CARD = re.compile(
    r"\b(?:credit\s*cards?|credit(?!\s+unions?\b)|visa|master\s*card|amex|american\s+express|cc)\b",
    re.I,
)
# "pay it off", "in full", "the whole balance": all that is owed
_IN_FULL = re.compile(
    r"\b(?:pay(?:ing)?\s+(?:\w+\s+){0,4}off|in\s+full|full\s+(?:balance|amount)|"
    r"(?:whole|entire|total|full|statement|outstanding|current)\s+(?:balance|amount|bill)|"
    r"everything(?:\s+I\s+owe)?|all\s+(?:of\s+it|I\s+owe|that'?s\s+owed)|what(?:ever)?\s+I\s+owe|"
    r"the\s+balance)\b",
    re.I,
)


# The cue words of the card and goal rules, so a typo in one ("platnum", "deadlne") still reads
_CUES = frozenset(
    """credit cards mastercard master american express discover platinum rewards balance
    statement payment change changing update updating rename raise increase lower reduce
    decrease extend postpone delay adjust modify deadline target targets goals funds until
    later earlier sooner whole entire total outstanding current everything using""".split()
)


def _cued(text: str) -> str:
    return correct_words(text, _CUES)


def credit_cards(ctx: CustomerContext) -> list[Account]:
    """The customer's credit-card accounts (what a card bill is paid into)."""
    return [a for a in ctx.accounts if a.type == "credit_card"]


def _deposits(ctx: CustomerContext) -> list[Account]:
    return [a for a in ctx.accounts if a.type in ("checking", "savings")]


def card_accounts_named(text: str, ctx: CustomerContext) -> list[tuple[str, float]]:
    """The customer's credit-card accounts ``text`` names (by name, type, issuer or card)."""
    cards = credit_cards(ctx)
    if not cards:
        return []
    found = match_account(text, [a.as_ref() for a in cards])
    if found:
        return found
    return [(a.ref, 0.5) for a in cards] if _CARD_BILL.search(text) else []


def pays_card(text: str, ctx: CustomerContext) -> bool:
    """Whether a payment ``text`` asks for is the bill of one of the customer's credit cards.

    A card named by product or issuer ("my Visa", "the platinum card") or as "my credit card"
    is the customer's own card account when they hold one; a saved payee named in full (a
    card with another bank, kept as a biller) stays a payment to that payee, and so does a
    payee paid with a card ("pay Tom with my card").
    """
    text = _cued(text)
    if not _CARD_BILL.search(text) or _PAID_WITH.search(text):
        return False
    payee = match_payee(text, [(p.ref, p.name) for p in ctx.payees])
    if not credit_cards(ctx):
        # no card account to pay: say so (see nothing_to_choose) rather than pay a namesake
        return not payee and bool(_CREDIT_CARD.search(text))
    by_name = match_account(text, [a.as_ref() for a in credit_cards(ctx)])
    named = bool(by_name and by_name[0][1] >= 1.0)
    if payee and payee[0][1] >= 1.0 and not named:
        return False
    # only "card" said, and a payee named too: the payee is who is paid
    return not (payee and not named and not _CARD_NAMED.search(text))


# Paying someone with a card is not paying the card: "pay Tom with my card"
_PAID_WITH = re.compile(
    r"\b(?:with|using|via|by)\s+(?:my\s+|the\s+)?(?:\w+\s+)?card\b(?!\s*(?:bill|balance))",
    re.I,
)
# A card named by product, issuer or as a credit card (more than the word "card")
_CARD_NAMED = re.compile(
    r"\b(?:credit(?!\s+unions?\b)|visa|master\s*card|amex|american\s+express|discover|platinum|"
    r"gold|"
    r"rewards|cc)\b",
    re.I,
)


def _card_payment(frame: Frame, text: str, ctx: CustomerContext, *, asked: str | None) -> bool:
    """The card account, the account paying it and "all of it" from a card payment's words."""
    changed = False
    if not frame.slots.get("card_account"):
        found = card_accounts_named(text, ctx)
        if asked == "card_account" and not found:
            found = match_account(text, [a.as_ref() for a in credit_cards(ctx)])
        changed |= _take(frame, "card_account", found)
    deposits = [a.as_ref() for a in _deposits(ctx)]
    sources, _ = match_transfer_accounts(text, [*deposits])
    if asked == "from_account" and not sources:
        sources = match_account(text, deposits)
    changed |= _take(frame, "from_account", sources)
    card = ctx.account(str(frame.slots.get("card_account") or ""))
    if card is not None and not frame.slots.get("amount") and _IN_FULL.search(_cued(text)):
        owed = max(0, -card.balance_minor)
        if owed:
            frame.slots["amount"] = _decimal(owed)
            frame.slots["currency"] = card.currency
            changed = True
    return changed


def _decimal(minor: int) -> str:
    return str(Decimal(minor).scaleb(-2).quantize(Decimal("0.01")))


def owed_on(frame: Frame, ctx: CustomerContext) -> str | None:
    """What is owed on the card a payment is for, in a sentence (None before it is known)."""
    card = ctx.account(str(frame.slots.get("card_account") or ""))
    if card is None:
        return None
    owed = max(0, -card.balance_minor)
    return f"You owe {display_money(owed, card.currency, places=2)} on {card.name} (…{card.last4})."


# --- changing a goal -------------------------------------------------------------------------

_GOAL_WORDS = frozenset(
    """goal goals fund funds target targets savings saving date deadline name amount change
    changing update rename edit raise increase lower reduce bump push move extend postpone
    delay set new instead call called""".split()
)
_GOAL_CHANGE = re.compile(
    r"\b(?:change|changing|update|updating|edit|rename|re-?name|raise|increase|lower|reduce|"
    r"decrease|bump|push|move|extend|postpone|delay|adjust|modify|set|up|drop|cut)\b",
    re.I,
)
_GOAL_NOUN = re.compile(r"\b(?:goals?|funds?|target|saving(?:s)?\s+for)\b", re.I)
_RENAME = re.compile(
    r"\b(?:rename|re-?name|call|name)\b(?P<rest>.*)|\bchange\s+(?:the\s+|its\s+|my\s+)?name\b"
    r"(?P<rest2>.*)",
    re.I,
)
_NEW_NAME = re.compile(
    r"\b(?:to|as|it|into)\s+['\"“]?(?P<name>[a-z0-9][\w' &-]{0,39}?)['\"”]?[.!?]*$", re.I
)
_DATE_CUE = re.compile(
    r"\b(?:date|deadline|by|until|till|push|postpone|delay|extend|later|earlier|sooner|when)\b",
    re.I,
)


def changes_goal(text: str, ctx: CustomerContext) -> bool:
    """Whether ``text`` asks to change one of the customer's existing goals."""
    text = _cued(text)
    if not _GOAL_CHANGE.search(text):
        return False
    if ctx.goals and _goal_named(text, ctx):
        return True
    return bool(_GOAL_NOUN.search(text) and re.search(r"\b(?:my|the|our)\b", text, re.I))


def _goal_named(text: str, ctx: CustomerContext) -> list[tuple[str, float]]:
    goals = [(g.ref, g.name) for g in ctx.goals]
    return rank(text, goals, people=False, extra_stopwords=_GOAL_WORDS)


def _title(name: str) -> str:
    name = _without_fillers(name).strip(" .!?\"'“”")
    return name.title() if name == name.lower() else name


def _goal_change(frame: Frame, text: str, ctx: CustomerContext, *, asked: str | None) -> bool:
    """The goal and what changes about it: a new name, target amount or date."""
    changed = False
    text = _cued(text)
    rest = text
    if not frame.slots.get("goal"):
        found = _goal_named(text, ctx)
        if found:
            changed |= _take(frame, "goal", found)
        elif len(ctx.goals) > 1:
            frame.options["goal"] = [g.ref for g in ctx.goals]  # ask which, with their names
    if (asked == "name" or frame.slots.get("_rename")) and not frame.slots.get("name"):
        if asked in ("name", "_change") and (name := _bare_name(text)):
            frame.slots["name"] = name  # the new name, said in answer to "call it what?"
            return True
    if rename := _RENAME.search(text):
        tail = rename.group("rest") if rename.group("rest") is not None else rename.group("rest2")
        new = _NEW_NAME.search(_without_fillers(tail or ""))
        if new and not parse_amount(new.group("name"), default_currency=ctx.currency):
            frame.slots["name"] = _title(new.group("name"))
            rest = text[: rename.start()]
        else:
            frame.slots["_rename"] = True
        changed = True
    when = _goal_date(rest, ctx, asked=asked)
    if when is not None:
        frame.slots["target_date"] = when.isoformat()
        return True
    # "to 3000" is a target here, never the last four digits of an account
    money = parse_amount(_TO_NUMBER.sub("target ", rest), default_currency=ctx.currency)
    if money is not None:
        frame.slots["target"] = _decimal(money.amount_minor)
        changed = True
    return changed


_TO_NUMBER = re.compile(r"\b(?:to|at|into|of)\s+(?=[$€£]?\d)", re.I)
_MONTH_NAMED = re.compile(rf"\b(?P<mo>{MONTH_RE})\b(?:\s*,?\s*(?P<y>20\d\d))?")
_YEAR_ALONE = re.compile(r"\b(?:in|to|until|till|by|for|into)\s+(?P<y>20\d\d)\b")
_DAY_NUMBER = re.compile(r"\d{1,2}(?:st|nd|rd|th)?\b")


def _goal_date(text: str, ctx: CustomerContext, *, asked: str | None) -> date | None:
    """A goal's new date: a day, or the end of a month or year named ("next June", "2028")."""
    words = normalise(text)
    if not (_DATE_CUE.search(words) or asked == "_change"):
        return None
    today = ctx.today
    month = _MONTH_NAMED.search(words)
    if month and not _DAY_NUMBER.match(words[month.end() :].lstrip(" ,")):
        number = MONTHS[month["mo"]]
        # the coming one: "next June" in June is a year on, in February this June
        year = int(month["y"]) if month["y"] else today.year + (number <= today.month)
        return date(year, number, last_day(year, number))
    if alone := _YEAR_ALONE.search(words):
        return date(int(alone["y"]), 12, 31)
    if re.search(r"\bnext\s+year\b", words):
        return date(today.year + 1, 12, 31)
    return parse_date(words, today=today)


# Someone else's account named as where the money goes: "to Diego's savings", "to the checking
# account of Jasbir", "to their savings". Not the customer's own account; a name in it stays
# (it is the payee).
_ACCOUNT_WORDS = r"(?:savings|checking|current)(?:\s+account)?"
_OTHERS_ACCOUNT = re.compile(
    r"\b(?:(?:someone|somebody)(?: else)?(?:'s|\s+s)?|his|her|their|a friend(?:'s|\s+s)?)\s+"
    + _ACCOUNT_WORDS
    + r"\b"
    + r"|\b(?P<owner>(?!(?:it|that|what|there|here|let|he|she|who|today|tomorrow)\b)[a-z]+)"
    r"(?:'s|\s+s)\s+" + _ACCOUNT_WORDS + r"\b"
    r"|\b(?:the\s+|a\s+)?(?:savings|checking|current)\s+account\s+of\s+(?P<of>(?!mine\b)[a-z]+)",
    re.I,
)


def _not_ours(text: str) -> str:
    """``text`` without someone else's account, keeping the name of whose it is."""
    return _OTHERS_ACCOUNT.sub(lambda m: f" {m.group('owner') or m.group('of') or ''} ", text)


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
    words = _without_fillers(text)
    words = re.sub(r"^(?:let's |just |please )?(?:call it |name it )?", "", words, flags=re.I)
    words = words.strip(" .!\"'")
    if 1 <= len(words) <= 40 and re.fullmatch(r"[A-Za-z][A-Za-z' -]*", words):
        return words.title()
    return None


# Words said around a name that are not part of it: "um Dream Car um", "New car, thanks"
_LEADING_FILLERS = re.compile(
    r"^(?:\s*(?:(?:um+|uh+|er+|hmm+|hey|please|pls)\b|(?:like|so|well|ok(?:ay)?|oh),)[\s,.!]*)+",
    re.I,
)
_TRAILING_FILLERS = re.compile(
    r"(?:[\s,.!]*\b(?:um+|uh+|er+|please|pls|thanks|thank\s+you|thx|ty|cheers))+[\s,.!?]*$",
    re.I,
)


def _without_fillers(text: str) -> str:
    """``text`` without fillers and politeness at its start and end ("hey", "um", "thanks")."""
    stripped = _TRAILING_FILLERS.sub("", _LEADING_FILLERS.sub("", text.strip()))
    return stripped.strip() or text.strip()


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
        frame.slots["name"] = _without_fillers(m.group("name")).title()
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
    if frame.intent == "pay_card":
        if not frame.slots.get("card_account") and len(credit_cards(ctx)) == 1:
            frame.slots["card_account"] = credit_cards(ctx)[0].ref
        checking = [a for a in _deposits(ctx) if a.type == "checking"]
        if not frame.slots.get("from_account") and len(checking) == 1:
            frame.slots["from_account"] = checking[0].ref
    if frame.intent == "update_goal":
        if not frame.slots.get("goal") and len(ctx.goals) == 1:
            frame.slots["goal"] = ctx.goals[0].ref
        if any(frame.slots.get(k) for k in ("name", "target", "target_date")):
            frame.slots["_change"] = "yes"
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
    if slot == "card_account" and not credit_cards(ctx):
        return (
            "You don't have a credit card account with us, so there's no card bill I can pay. "
            "If the card is with another bank, add it as a payee in the app and I can pay it."
        )
    if slot == "goal" and not ctx.goals:
        return "You don't have any savings goals to change yet — want to start one?"
    return None


def question(frame: Frame, slot: str, ctx: CustomerContext) -> str:
    """The question that asks for ``slot``, with the customer's own options."""
    text = QUESTIONS[slot].format(verb=VERB.get(frame.intent, "set aside"))
    if frame.intent == "pay_card" and slot == "amount" and (owed := owed_on(frame, ctx)):
        text = f"{owed} {text}"
    if frame.intent == "pay_card" and slot == "from_account" and _deposits(ctx):
        choices = [a.ref for a in _deposits(ctx)]
        return f"{text} You have {_either(names_of(ctx), choices)}."
    if frame.intent == "update_goal" and slot == "_change" and frame.slots.get("_rename"):
        return "What would you like to call it instead?"
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
    out |= {g.ref: f"'{g.name}'" for g in ctx.goals}
    return out


def _either(names: dict[str, str], refs: list[str]) -> str:
    shown = [names.get(r, r) for r in refs]
    if not shown:
        return "nothing to choose from"
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def tool_args(frame: Frame) -> dict[str, Any]:
    """The tool call's arguments: the filled slots, destination split into account or payee."""
    args = {k: v for k, v in frame.slots.items() if v not in (None, "") and not k.startswith("_")}
    if frame.intent == "pay_card":
        args.pop("currency", None)  # a card bill is paid in the accounts' own currency
    if "destination" in args:
        dest = args.pop("destination")
        args["payee" if str(dest).startswith("payee") else "to_account"] = dest
    return args
