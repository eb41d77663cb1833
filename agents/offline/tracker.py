"""The dialogue-state tracker: a customer's message read against the assistant's last act.

Whatever the chat model, the graph asks :func:`read_confirmation` what typed words mean while an
action waits for approval: ``accept`` (run exactly the shown action, as the button does),
``refuse`` (decline it), ``change`` (a detail differs: close it and let the model propose the
changed action afresh) or ``ask`` (anything else: answer it, keep the action pending and offer it
again). The offline model's turn-taking (:mod:`agents.offline.dialogue`) reads every message with
:func:`read_move` against the slot it just asked for or the answer it just gave.

The move comes from the act model (:mod:`agents.offline.acts`, trained on people's words in the
context of the system's previous act) and from the details the message carries, matched against
the customer's own accounts and payees: a message that names an amount, an account, a payee or a
date other than the shown action's changes that action whatever else it says, and typed words
approve only when they clearly accept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from agents.context import CustomerContext
from agents.offline.slots import match_account, match_payee, parse_amount, parse_date
from agents.offline.slots.spelling import spell
from agents.offline.understand import short_reply

Decision = Literal["accept", "refuse", "change", "ask"]
ACCEPT_AT = 0.55  # the act model's confidence typed acceptance needs

_DASH = re.compile(r"(?:(?<=\s)|^)[-–—]+(?=\s|[$€£]?\d)")
_QUOTES = re.compile(r"[\"“”‘’]|(?<!\w)'|'(?!\w)")
_APOSTROPHE = re.compile(r"(?<=\w)[’‘](?=\w)")  # a phone's "what’s" is "what's"
# "not the joint one, the personal one": the part after "not" names what it is *not*
_NOT = re.compile(
    r"\bnot\s+(?:the\s+|my\s+|to\s+|from\s+|with\s+)?(?P<neg>[^,;.!?]+?)(?=[,;.!?]|\s+but\b|$)",
    re.I,
)
_CONTRAST = re.compile(
    r"\b(instead|rather|actually|i meant|meant|make it|change (?:it|that|the)|should be|"
    r"switch|swap|correction|wrong)\b",
    re.I,
)
_ACCEPT_HEAD = re.compile(
    r"^\s*(yes|yeah|yep|yup|sure|ok|okay|correct|confirmed?|approved?|agreed?|go ahead|"
    r"that'?s (?:right|correct|fine)|that is (?:right|correct|fine)|perfect|great|sounds good|"
    r"absolutely|please do|do it|right|alright|all right)\b",
    re.I,
)
_REFUSE_HEAD = re.compile(
    r"^\s*(no|nope|nah|don'?t|do not|cancel|stop|never ?mind|forget it|hold off|not now)\b",
    re.I,
)


_ASKING = re.compile(
    r"^(?:(?:hang on|hold on|wait|one sec(?:ond)?|quick question|before that|first|also|"
    r"actually|oh|and|but|sorry)[,.!]?\s+)*(?:what|what's|whats|how|is|are|can|could|do|does|"
    r"did|when|where|why|who|will|would|should)\b",
    re.I,
)


def asks(text: str) -> bool:
    """Whether ``text`` is put as a question (after any "hang on," or "before that,")."""
    words = clean(text)
    return "?" in words or bool(_ASKING.search(words))


def statements(text: str) -> str:
    """The sentences of ``text`` that are not questions ("Her name is Kim. Can you send it?")."""
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    return " ".join(s for s in sentences if s and not asks(s))


def spelt(text: str, ctx: CustomerContext | None) -> str:
    """``text`` with typos of the words people use with a bank put right ("go ahad").

    Every word of a name the customer's bank knows (an account, payee, merchant, goal or
    scheduled payment) stays as typed.
    """
    if ctx is None:
        return spell(text)
    named: tuple[Any, ...] = (*ctx.accounts, *ctx.payees, *ctx.goals, *ctx.scheduled, *ctx.closed)
    return spell(text, [*(n.name for n in named), *ctx.merchants])


def clean(text: str) -> str:
    """The message with quotes around names and a dash before an amount taken away."""
    text = _QUOTES.sub(" ", _DASH.sub(" ", _APOSTROPHE.sub("'", text)))
    return " ".join(text.split())


def negated(text: str) -> tuple[str, str]:
    """``(said, denied)``: the message without its "not X" parts, and those parts."""
    denied = " ".join(m.group("neg") for m in _NOT.finditer(text))
    return _NOT.sub(" ", text), denied


@dataclass(frozen=True)
class Details:
    """The details a message carries, as the customer's own refs."""

    amount: Decimal | None = None
    accounts: tuple[str, ...] = ()
    payee: str | None = None
    when: date | None = None

    @property
    def any(self) -> bool:
        """Whether the message carries any detail at all."""
        return bool(self.amount is not None or self.accounts or self.payee or self.when)


def details(text: str, ctx: CustomerContext) -> Details:
    """The amount, accounts, payee and date ``text`` names (not those it says "not" to)."""
    said, _ = negated(clean(text))
    money = parse_amount(said, default_currency=ctx.currency)
    amount = Decimal(money.amount_minor).scaleb(-2) if money else None
    accounts = tuple(
        ref for ref, score in match_account(said, [a.as_ref() for a in ctx.accounts]) if score
    )
    payees = match_payee(said, [(p.ref, p.name) for p in ctx.payees])
    when = parse_date(said, today=ctx.today) if re.search(r"[a-z]", said, re.I) else None
    return Details(amount, accounts[:2], payees[0][0] if payees else None, when)


def _amount_of(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def differs(found: Details, args: dict[str, Any]) -> bool:
    """Whether the details differ from a proposed call's arguments."""
    if found.amount is not None:
        shown = _amount_of(args.get("amount", args.get("target")))
        if shown is not None and shown != found.amount:
            return True
    own = {str(args[k]) for k in ("from_account", "to_account", "account") if args.get(k)}
    if found.accounts and own and not set(found.accounts[:1]) & own:
        return True
    if found.payee and args.get("payee") and found.payee != args.get("payee"):
        return True
    if found.payee and not args.get("payee") and args.get("to_account"):
        return True  # "send it to Sam instead" of an own account
    first = args.get("first_date") or args.get("date")
    return bool(found.when and first and found.when.isoformat() != str(first))


# Words that open a sentence as often as they agree ("ok, what's my balance?"): before a
# question they approve nothing; the question is answered and the action offered again.
_MARKER = re.compile(r"^\s*(?:ok|okay|right|alright|all right|great|perfect|fine)\b", re.I)
# A question about the action itself: when it lands, how long it takes, what it costs
_ABOUT_ACTION = re.compile(
    r"\b(?:it|that|this|transfer|payment|money|arrive|reach|land|take|go(?:es)? through|"
    r"effective|process(?:ed)?|clear|show up|fee|cost|charge)\b",
    re.I,
)


def clear_yes(words: str) -> bool:
    """Whether ``words`` open with a yes that nothing after it takes back ("ok, never mind").

    A question after a word that may only open the sentence ("ok, what's my balance?") is no
    yes unless it asks about the action ("alright, when will it arrive?"); after a plain yes
    ("yes, what's my balance after?") it is.
    """
    if _ACCEPT_HEAD.search(words) is None or _REFUSE_HEAD.search(words):
        return False
    heads, rest = _yes_heads(words)
    if rest and _REFUSE_HEAD.search(rest):
        return False
    if not rest or not asks(rest) or any(not _MARKER.match(h) for h in heads):
        return True
    # "alright, when will the transfer go through?" asks about the action: a yes to it
    return bool(_ABOUT_ACTION.search(rest))


def words_after(text: str, end: int) -> str:
    """``text`` from ``end`` on, without the punctuation that joined it."""
    return text[end:].lstrip(" ,.;:!-–—").strip()


def _yes_heads(words: str) -> tuple[list[str], str]:
    """The yeses ``words`` open with ("right, please go ahead."), and what follows them."""
    heads: list[str] = []
    rest = words
    head = _ACCEPT_HEAD.search(rest)
    while head is not None:  # "yeah go ahead. and when...": every yes, then the joining word
        heads.append(head.group(1))
        rest = words_after(rest, head.end())
        rest = re.sub(
            r"^(?:and|but|also|so|then|actually|please|thanks?|thank you)\b\W*",
            "",
            rest,
            flags=re.I,
        )
        head = _ACCEPT_HEAD.search(rest)
    return heads, rest


def after_yes(text: str) -> str | None:
    """What follows a clear yes ("yes please, send Sam 20" → "send Sam 20"), else None."""
    words = clean(text)
    if _ACCEPT_HEAD.search(words) is None or _REFUSE_HEAD.search(words):
        return None
    return _yes_heads(words)[1] or None


def asked_after_yes(text: str) -> str | None:
    """The question that follows a clear yes ("yes, how long will it take?"), else None."""
    words = clean(text)
    if not clear_yes(words):
        return None
    rest = _yes_heads(words)[1]
    return rest if rest and asks(rest) else None


def read_confirmation(
    text: str,
    calls: Sequence[Mapping[str, Any]],
    ctx: CustomerContext | None,
    model: Any | None = None,
) -> Decision:
    """What typed ``text`` does to the waiting ``calls`` (``name``/``args``).

    A changed detail wins; then a clear "yes" or "no"; then the act model, read in the
    ``CONFIRM`` context. Acceptance needs a clear reading; an unclear message is ``ask``, so the
    action stays pending and is offered again rather than run on a guess.
    """
    words = clean(spelt(text, ctx))
    question = asks(words)
    if ctx is not None and (not question or _CONTRAST.search(words)):
        # a question may name an account ("what's in savings?") without changing anything
        found = details(words, ctx)
        _, denied = negated(words)
        if any(differs(found, dict(c.get("args") or {})) for c in calls):
            return "change"
        if denied and (found.any or details(denied, ctx).any):
            return "change"  # "not the joint one, the personal one"
        if found.any and _CONTRAST.search(words):
            return "change"
    short = short_reply(words)
    if short == "affirm":
        return "accept"
    if short in ("deny", "cancel"):
        return "refuse"
    if clear_yes(words):
        return "accept"  # "yes, 50 to Tom" / "yeah, how long will that take?": nothing changed
    move, confidence = ("", 0.0)
    if model is not None:
        move, confidence = model.predict(words, "CONFIRM")
    if move in ("accept", "accept_ask") and confidence >= ACCEPT_AT:
        # a question never approves by itself: "how much is in main?" is not a yes
        return "ask" if question else "accept"
    if move == "refuse" and confidence >= ACCEPT_AT and not question:
        return "refuse"
    if move in ("correct", "new_task") and confidence >= ACCEPT_AT:
        return "change"
    if model is None or confidence < ACCEPT_AT:
        if clear_yes(words):
            return "accept"
        if _REFUSE_HEAD.search(words) and not question:
            return "refuse"
    return "ask"


def read_move(text: str, context: str, model: Any | None) -> tuple[str, float]:
    """The move of ``text`` after an assistant act of ``context`` (``START``, ``REQUEST``...)."""
    if model is None:
        return "", 0.0
    move, confidence = model.predict(clean(text), context)
    return str(move), float(confidence)
