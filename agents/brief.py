"""The advisor's brief: a few plain sentences to read before saying hello.

Who the customer is, why they are in touch now (their own latest words), what the assistant
carried out and what it did not (declined or unconfirmed actions, a person asked for whom no
advisor has joined), the risks heard in their words, and the next best step. Only tool calls
that actually ran count as done (:mod:`agents.outcomes`); amounts are written as the customer
reads them (``services.money.display_money`` in their country's locale).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from langchain_core.messages import BaseMessage, HumanMessage

from agents.outcomes import Outcome, outcomes
from agents.sentiment import DISTRESS, FRAUD, VULNERABILITY, Mood
from services.money import MoneyError, display_money, to_minor

QUOTE_CHARS = 120
MAX_TOPICS = 4

SEGMENTS = {
    "mass_market": "an everyday-banking customer",
    "retail": "a retail customer",
    "affluent": "an affluent customer",
    "private": "a private-banking client",
    "youth": "a young customer (youth segment)",
    "business": "a business customer",
    "student": "a student customer",
}

# Why the customer is in touch, read from their own words: (pattern, what they want).
TOPICS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), topic)
    for pattern, topic in (
        (
            r"\b(?:did ?n[o']?t|never|do ?n[o']?t) (?:make|authori[sz]e|recogni[sz]e)\b"
            r"|\bunrecogni[sz]ed\b|\bunauthori[sz]ed\b|\bfraud|\bnot (?:me|mine)\b|\bwasn'?t me\b",
            "reported charges they do not recognise",
        ),
        (
            r"\b(?:stole|stolen|lost|missing)\b[^.?!]{0,20}\bcard\b|\bcard\b[^.?!]{0,20}\b"
            r"(?:stolen|lost|missing)\b",
            "reported a lost or stolen card",
        ),
        (r"\bcharged twice\b|\bdouble[- ]charged\b|\bduplicate\b", "asked about a double charge"),
        (r"\bdispute\b|\brefund\b|\bchargeback\b", "want a charge disputed or refunded"),
        (r"\b(?:freeze|block|lock)\b[^.?!]{0,20}\bcard\b", "want a card frozen or blocked"),
        (
            r"\b(?:transfer|move|send)\b[^.?!]{0,30}(?:\d|money|funds|savings|checking)",
            "want to move money",
        ),
        (r"\bpay\b[^.?!]{0,25}\b(?:bill|invoice)\b|\bpay \w+ \$?\d", "want to make a payment"),
        (r"\bfees?\b|\bcharges? for\b|\binterest rate\b", "asked about fees"),
        (r"\bbalance\b|\bhow much (?:do i have|money)\b", "asked about their balance"),
        (r"\b(?:loan|mortgage|borrow|overdraft|credit limit)\b", "asked about borrowing"),
        (r"\bsave\b|\bsaving (?:up|for|money)\b|\bgoals?\b", "asked about saving"),
        (
            r"\bclose (?:my|the) account\b|\bleav(?:e|ing) (?:the|this|your) bank\b",
            "talked about closing their account",
        ),
        (r"\bcomplain", "want to complain"),
        (
            r"\b(?:talk|speak|chat) (?:to|with) (?:a |an |some|the )?(?:one|person|human|"
            r"advisor|adviser|agent|representative|manager|real person|someone)"
            r"|\b(?:advisor|adviser|human|real person|call me)\b",
            "asked for a person",
        ),
    )
)
ASKED_FOR_PERSON = TOPICS[-1][1]

# What each write did, in the past tense and as an action not taken.
DID: dict[str, tuple[str, str]] = {
    "transfer": (
        "moved {amount} from {from_account} to {to_account}",
        "move {amount} from {from_account} to {to_account}",
    ),
    "pay_payee": ("paid {payee} {amount}", "pay {payee} {amount}"),
    "pay_card_bill": (
        "paid {amount} off the card account {card_account}",
        "pay {amount} off the card account {card_account}",
    ),
    "schedule_payment": (
        "scheduled {amount} from {from_account}",
        "schedule {amount} from {from_account}",
    ),
    "create_savings_rule": (
        "set up a savings rule moving {amount} to {to_account}",
        "set up a savings rule moving {amount} to {to_account}",
    ),
    "cancel_scheduled_payment": ("cancelled a scheduled payment", "cancel a scheduled payment"),
    "freeze_card": ("froze {card}", "freeze {card}"),
    "unfreeze_card": ("unfroze {card}", "unfreeze {card}"),
    "replace_card": ("blocked {card} and ordered a new one", "block {card} and order a new one"),
    "dispute_transaction": ("opened a dispute for {transaction}", "dispute {transaction}"),
    "create_goal": ("started the savings goal '{name}'", "start the savings goal '{name}'"),
    "update_goal": ("changed the goal {goal}", "change the goal {goal}"),
    "set_preferences": ("changed their notification settings", "change notification settings"),
    "respond_to_offer": ("recorded their answer to an offer", "record their answer to an offer"),
    "handoff": (
        "handed the conversation to an advisor{case}",
        "hand the conversation to an advisor",
    ),
}
WHY_NOT = {
    "declined": "the customer declined",
    "changed": "the customer asked for something else instead",
    "pending": "it is waiting for the customer's confirmation",
    "refused": "the bank refused it",
    "failed": "it failed",
}
LOOKED_UP = {
    "get_accounts": "their accounts",
    "search_transactions": "their transactions",
    "spending_summary": "their spending",
    "income_summary": "their income",
    "upcoming_bills": "their upcoming bills",
    "get_goals": "their savings goals",
    "get_insights": "their insights",
    "get_recommendations": "offers for them",
    "search_knowledge": "the help articles",
    "get_profile_summary": "their profile",
    "get_cards": "their cards",
    "get_scheduled": "their scheduled payments",
    "explain_recommendation": "why an offer was made",
}
FLAG_WORDS = {FRAUD: "possible fraud", VULNERABILITY: "vulnerability", DISTRESS: "distress"}


@dataclass(frozen=True)
class Customer:
    """Who the brief is about."""

    name: str
    segment: str
    since: date | None
    locale: str


@dataclass
class Names:
    """The customer's refs by name (``acc-12`` → ``Everyday (…4821)``), and accounts' currencies.

    They let the brief write actions in the customer's terms.
    """

    refs: dict[str, str] = field(default_factory=dict)
    currencies: dict[str, str] = field(default_factory=dict)


def segment_words(segment: str) -> str:
    """The CRM's segment code in plain words."""
    key = segment.strip().lower().replace(" ", "_").replace("-", "_")
    if key in SEGMENTS:
        return SEGMENTS[key]
    words = key.replace("_", " ") or "retail"
    return f"{'an' if words[0] in 'aeiou' else 'a'} {words} customer"


def tenure(since: date | None, today: date) -> str:
    """How long they have banked here: ``with the bank for 6 years``."""
    if since is None:
        return ""
    months = (today.year - since.year) * 12 + today.month - since.month
    if months >= 24:
        return f"with the bank for {months // 12} years"
    if months >= 2:
        return f"with the bank for {months} months"
    return "new to the bank"


def topics(said: Sequence[str]) -> list[str]:
    """What the customer wants, from their own messages: the latest few, in the order said."""
    found: list[str] = []
    for text in reversed(said):
        plain = text.replace("\u2019", "'")
        found += [topic for pattern, topic in reversed(TOPICS) if pattern.search(plain)]
    return list(reversed(list(dict.fromkeys(found))[:MAX_TOPICS]))


def _amount(o: Outcome, names: Names, locale: str) -> str:
    raw = o.args.get("amount")
    if raw in (None, ""):
        raw = o.args.get("target")
    if raw in (None, ""):
        return "an amount"
    source = str(o.args.get("from_account") or "")
    currency = str(o.args.get("currency") or names.currencies.get(source) or "USD")
    try:
        return display_money(to_minor(str(raw), currency), currency, locale)
    except MoneyError:
        return f"{raw} {currency}"


def action(o: Outcome, names: Names, locale: str, *, done: bool) -> str:
    """What the call did (``moved $200.00 from Everyday to Rainy Day``) or would have done."""
    past, plain = DID.get(o.name, (o.name.replace("_", " "), o.name.replace("_", " ")))
    fill = {k: names.refs.get(str(v), str(v)) for k, v in o.args.items()}
    fill["amount"] = _amount(o, names, locale)
    for key in ("card", "transaction", "from_account", "to_account", "payee", "goal"):
        fill.setdefault(key, "one of their " + key.split("_")[0] + "s")
    fill.setdefault("card_account", "")
    fill.setdefault("name", "")
    case = (o.result.get("ids") or {}).get("case_id")
    fill["case"] = f" (case #{case})" if case else ""
    return (past if done else plain).format_map(fill).replace("  ", " ")


def _quote(text: str) -> str:
    flat = " ".join(text.split())
    return f"“{flat[:QUOTE_CHARS]}{'…' if len(flat) > QUOTE_CHARS else ''}”"


def write_brief(
    customer: Customer,
    *,
    today: date,
    conversations: Mapping[str, Sequence[BaseMessage]],
    mood: Mood,
    names: Names,
    next_offer: str | None = None,
) -> list[str]:
    """The brief's sentences (conversations most recent first; ``mood`` over all of them)."""
    locale = customer.locale
    since = tenure(customer.since, today)
    out = [f"{customer.name} is {segment_words(customer.segment)}{', ' + since if since else ''}."]
    threads = [list(ms) for ms in conversations.values() if ms]
    latest = threads[0] if threads else []
    said = [str(m.content) for m in latest if isinstance(m, HumanMessage)]
    wanted = topics(said)
    if not threads or not said:
        out.append("No recent conversation with the assistant.")
    elif wanted:
        out.append(f"In their latest conversation they {_join(wanted)}.")
    else:
        out.append(f"Their latest message: {_quote(said[-1])}.")
    calls = [o for messages in threads for o in outcomes(messages)]
    done = [o for o in calls if o.is_write and o.happened]
    looked = [o for o in calls if not o.is_write and o.happened]
    reads = list(dict.fromkeys(LOOKED_UP.get(o.name, o.name.replace("_", " ")) for o in looked))
    if done:
        out.append(
            "The assistant " + _join([action(o, names, locale, done=True) for o in done]) + "."
        )
    elif threads:
        out.append("The assistant carried out no action for them.")
    if reads:
        out.append(f"It looked up {_join(reads)}.")
    out += _not_done(calls, names, locale, asked_for_person=ASKED_FOR_PERSON in wanted)
    out.append(_risks(mood))
    out.append(_next_step(mood, calls, wanted, next_offer))
    return out


def _not_done(
    calls: list[Outcome], names: Names, locale: str, *, asked_for_person: bool
) -> list[str]:
    out: list[str] = []
    handed = any(o.name == "handoff" and o.happened for o in calls)
    for o in calls:
        if not o.is_write or o.happened or o.name == "handoff":
            continue
        reason = WHY_NOT.get(o.status, o.status)
        if o.status == "refused" and o.result.get("reason"):
            reason += f" ({o.result['reason']})"
        out.append(f"Not done: {action(o, names, locale, done=False)} — {reason}.")
    if not handed:
        offered = [o for o in calls if o.name == "handoff"]
        if offered and offered[-1].status == "pending":
            out.append(
                "They asked for a person; the hand-off has not completed (it needs their "
                "confirmation) and no advisor has joined yet."
            )
        elif offered and offered[-1].status in ("declined", "changed"):
            out.append("A hand-off to an advisor was offered and the customer declined it.")
        elif asked_for_person or offered:
            out.append("They asked for a person; no advisor has joined yet.")
    return out


def _risks(mood: Mood) -> str:
    flags = []
    for flag in mood.flags:
        cue = mood.first(flag)
        flags.append(f"{FLAG_WORDS[flag]} ({_quote(cue.words)})" if cue else FLAG_WORDS[flag])
    heard = f"They sound {mood.label}"
    if mood.label in ("negative", "distressed") and not flags and mood.cues:
        heard += f" ({', '.join(_quote(c) for c in mood.cues[:3])})"
    return f"{heard}; " + (f"risk flags: {_join(flags)}." if flags else "no risk flags.")


def _next_step(mood: Mood, calls: list[Outcome], wanted: list[str], offer: str | None) -> str:
    first = ""
    secured = {"dispute_transaction", "replace_card", "freeze_card"}
    if FRAUD in mood.flags and not any(o.name in secured and o.happened for o in calls):
        first = (
            "go through the charges they do not recognise, then block the card and dispute "
            "any they confirm"
        )
    elif set(mood.flags) & {DISTRESS, VULNERABILITY}:
        first = "ask how they are coping and offer support before anything else"
    open_ = [o for o in calls if o.is_write and o.status == "pending"]
    if not first and open_:
        first = "settle the action still waiting for their confirmation"
    closed = [o for o in calls if o.is_write and o.status in ("declined", "changed")]
    if not first and closed and not any(o.happened for o in calls if o.is_write):
        first = "ask whether they still want what they declined"
    if not first and wanted and not offer:
        first = f"make sure their latest request is settled (they {wanted[-1]})"
    if first and offer:
        return f"Next best step: {first}; then, if it fits, {offer}."
    if first:
        return f"Next best step: {first}."
    if offer:
        return f"Next best step: {offer}."
    return "Next best step: nothing open; ask how you can help."


def _join(items: Sequence[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
