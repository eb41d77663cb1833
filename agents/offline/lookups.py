"""Questions about the customer's past money: one merchant, their income, one charge.

Pure functions of the customer's words and their own context. A merchant is named from the
merchants the customer has paid (fuzzy, so "starbuks" is Starbucks), or — for a question shaped
like one about a merchant ("how much did I spend at Costco") — taken from the words after
"at", "from" or "to" and looked up as text in their own transactions, so a merchant they have
not paid lately gets an honest "none found" rather than a category total.
"""

from __future__ import annotations

import re
from typing import Any

from agents.context import CustomerContext
from agents.offline.slots import (
    match_merchant,
    parse_amount,
    parse_category,
    parse_period,
)
from agents.offline.slots.match import STOPWORDS, correct_words
from agents.offline.tracker import clean
from services.money import format_money

# The dialogue's name for a read of one merchant's transactions (not a classifier label).
MERCHANT = "merchant_activity"
# Reads a merchant named in the question turns into a merchant read.
MERCHANT_READS = frozenset({"recent_transactions", "spending_summary", MERCHANT})
# A merchant named with a category word must be named in full to win over the category
FULL_NAME = 0.9

_HISTORY = re.compile(
    r"\bhow\s+(?:many\s+times|often|much)\b|\bwhen\s+(?:did|was|were|have|has)\b|"
    r"\b(?:did|have|has)\s+i\b|\bi'?ve\s+(?:paid|spent|been|gone)\b|\blast\s+time\b|"
    r"\bhow\s+many\s+(?:payments|purchases|charges|visits|orders|transactions)\b|"
    r"\b(?:total|sum|count)\s+(?:of\s+)?(?:my\s+)?(?:spend|spending|payments|purchases)\b",
    re.I,
)
_INCOME = re.compile(
    r"\b(?:earn(?:ed|t|ings?)?|income|incomes|pay\s?checks?|pay\s?cheques?|pay\s?slips?|"
    r"salary|salaries|wages?|paid\s+me|(?:get|got|gets|getting)\s+paid|take[\s-]home|"
    r"direct\s+deposits?|\b(?:my|the)\s+(?:last|latest|recent)\s+pay\b|pay\s+(?:come|came|arrive|"
    r"arrived|land|landed|hit|go)\b)",
    re.I,
)
# Doing something with pay (saving part of each paycheck) is a task, not a question about it.
_TASK = re.compile(
    r"\b(?:transfer|send|move|save|put|set\s+up|schedule|every|each|whenever|split|"
    r"round\s?ups?|automatic(?:ally)?)\b",
    re.I,
)
# What was spent out of pay is spending: "how much of my paycheck went on donuts"
_SPENT = re.compile(r"\b(?:spent|spend|spending|bought|buy|buying|went\s+on)\b", re.I)
_BALANCE = re.compile(
    r"\b(?:balances?|available|how\s+much\s+(?:is|do\s+i\s+have|have\s+i\s+got)\s+(?:in|on|left))\b",
    re.I,
)
_AFTER = re.compile(
    r"\b(?:at|from|with|go(?:ne)?\s+to|went\s+to|been\s+to|paid|pay|paying|bought\s+from|"
    r"ordered\s+from|spent\s+at)\s+(?P<name>[a-z0-9][\w&'.-]*(?:\s+[a-z0-9][\w&'.-]*){0,2})",
    re.I,
)
# Where a disputed charge's merchant is said: "a charge from Target", "at Target", "by Target"
_CHARGED_BY = re.compile(
    r"\b(?:at|from|by|with)\s+(?P<name>[a-z0-9][\w&'.-]*(?:\s+[a-z0-9][\w&'.-]*){0,2})",
    re.I,
)
_NOT_NAMES = STOPWORDS | frozenset(
    """times time often go went gone been visit visited visits week weeks month months year
    years today yesterday since before after during in on past previous recently lately ever
    total altogether overall far date dates charge charges dispute disputed report
    recognise recognize wasn't wasnt didn't didnt made make""".split()
)
# Kinds of place, not a merchant's name: "at restaurants" asks about a category.
_GENERIC = frozenset(
    """restaurant restaurants cafe cafes coffee shops shop stores store bars bar supermarket
    supermarkets grocery groceries gas station stations pharmacy pharmacies gym hotels hotel
    airlines airline online work home school the""".split()
)


# The cue words of the rules below, so a typo in one ("paychek", "salry") still reads
CUES = frozenset(
    """earned earning earnings income incomes paycheck paychecks paycheque paycheques payslip
    payslips salary salaries wages direct deposit deposits payroll often times payments
    purchases charges visits orders transactions balance balances available total spent spend
    spending arrive arrived landed transfer schedule whenever automatic automatically""".split()
)


def _cued(text: str) -> str:
    return correct_words(clean(text), CUES)


def asks_history(text: str) -> bool:
    """Whether ``text`` asks about payments already made (how many, how much, when)."""
    return bool(_HISTORY.search(_cued(text)))


def asks_balance(text: str) -> bool:
    """Whether ``text`` asks for a balance (how much is in an account now)."""
    return bool(_BALANCE.search(_cued(text)))


def asks_income(text: str) -> bool:
    """Whether ``text`` asks about the customer's income (pay, salary, what they earned).

    Not when it asks for a balance ("my paycheck came in, what's my balance?"): the balance
    is the answer then; nor when it asks what was spent ("have I spent too much of my
    paycheck?"): that is spending.
    """
    words = _cued(text)
    return (
        bool(_INCOME.search(words))
        and not _TASK.search(words)
        and not _BALANCE.search(words)
        and not _SPENT.search(words)
    )


def named_merchant(text: str, ctx: CustomerContext, *, strict: bool = False) -> str | None:
    """The one merchant of the customer's that ``text`` names (the fullest name on a tie)."""
    found = match_merchant(text, list(ctx.merchants))
    if not found:
        return None
    top = found[0][1]
    if strict and top < FULL_NAME:
        return None
    tied = [name for name, score in found if score >= top]
    return max(tied, key=lambda name: (len(name.split()), len(name)))


def _unknown_merchant(text: str, pattern: re.Pattern[str] = _AFTER) -> str | None:
    """A name after "at", "from", "to" or "pay" that is no common word, period or kind of place."""
    for match in pattern.finditer(clean(text)):
        kept: list[str] = []
        for word in match.group("name").split():
            if word.lower() in _NOT_NAMES or re.fullmatch(r"[\d.,$]+", word):
                break
            kept.append(word)
        name = " ".join(kept).strip(" .,'")
        if len(name) >= 3 and not set(name.lower().split()) & _GENERIC:
            rest = text.replace(match.group(0), " ")
            if parse_category(name) is None or parse_category(rest) is None:
                return name  # a brand ("Costco") is a merchant, not its category
    return None


# Asking to see money moved: "show me my StreamFlix charges", "list the Amazon payments"
_LOOK = re.compile(
    r"\b(?:show|list|see|view|find|pull\s+up|look\s+up|check)\b.*\b(?:charges?|payments?|"
    r"purchases?|transactions?|orders?|spending|bills?)\b",
    re.I,
)


def asks_about_merchant(text: str, ctx: CustomerContext) -> bool:
    """Whether ``text`` asks about, or to see, payments to one of the customer's merchants.

    For a message the classifier reads weakly: only a merchant named in full (or nearly) and
    a question about past payments or a request to see them count.
    """
    if named_merchant(text, ctx, strict=True) is None:
        return False
    return asks_history(text) or bool(_LOOK.search(_cued(text)))


def merchant_read(text: str, intent: str, ctx: CustomerContext) -> dict[str, Any] | None:
    """``search_transactions`` arguments when ``text`` asks about one merchant, else None.

    A merchant read is a transactions read or a spending question naming a merchant, or a
    question about past payments misread as a payment to make ("when did I last pay
    Netflix"). A category named as well keeps a spending question by category unless the
    merchant is named in full.
    """
    history = asks_history(text)
    if intent not in MERCHANT_READS and not (history and intent in _MISREAD):
        return None
    category = parse_category(text)
    merchant = named_merchant(text, ctx, strict=category is not None)
    args: dict[str, Any] = {}
    if merchant is not None:
        args["merchant"] = merchant
    elif history and intent in ("spending_summary", MERCHANT):
        unknown = _unknown_merchant(text)
        if unknown is None:
            return None
        args["text"] = unknown
    else:
        return None
    period = parse_period(text, today=ctx.today)
    if period:
        args["start"], args["end"] = period[0].isoformat(), period[1].isoformat()
    return args


_MISREAD = frozenset(
    {
        "pay_bill",
        "transfer_money",
        "schedule_payment",
        "check_balance",
        "upcoming_bills",
        "show_insights",
    }
)


def charge_search(text: str, ctx: CustomerContext) -> dict[str, Any]:
    """``search_transactions`` arguments for the charge a customer describes to dispute it.

    The merchant (theirs, fuzzily; else the name after "from" or "at" as text), the exact
    amount, and the day or period if one is said ("on May 3", "last week").
    """
    args: dict[str, Any] = {}
    merchant = named_merchant(text, ctx)
    if merchant is not None:
        args["merchant"] = merchant
    elif unknown := _unknown_merchant(text, _CHARGED_BY):
        args["text"] = unknown
    money = parse_amount(text, default_currency=ctx.currency)
    if money:
        args["amount"] = format_money(money.amount_minor, places=2, plain=True)
    period = parse_period(text, today=ctx.today)
    if period and period[0] <= ctx.today:
        args["start"], args["end"] = period[0].isoformat(), period[1].isoformat()
    return args
