"""Amounts of money in a customer's message: "$200", "two grand", "€50", "half of it".

Dates, card or account digits, times, counts ("3 days") and percentages are never amounts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from agents.offline.slots.shares import part_of, share_in
from agents.offline.slots.text import MONTH_RE, NUMBER_WORDS, normalise, tokens, words_to_int
from services.money import EXPONENT, MoneyError, to_minor


@dataclass(frozen=True)
class Money:
    """An amount in integer minor units (cents) of an ISO 4217 currency."""

    amount_minor: int
    currency: str = "USD"


@dataclass(frozen=True)
class _Found:
    start: int
    end: int
    value: Decimal  # in major units
    currency: str | None  # None: the default currency
    marked: bool  # a currency sign or word, or "k"/"grand", says it is money


_SYMBOL = {"$": "$", "us$": "USD", "c$": "CAD", "ca$": "CAD", "€": "EUR", "£": "GBP", "¥": "JPY"}
# Currency words and signs after a number; "$" is the default dollar currency.
_WORD_CURRENCY = dict(
    pair.split("=")
    for pair in """dollar=$ dollars=$ buck=$ bucks=$ $=$ euro=EUR euros=EUR €=EUR pound=GBP
    pounds=GBP quid=GBP £=GBP franc=CHF francs=CHF yen=JPY ¥=JPY""".split()
)
_CODES = "usd|eur|gbp|cad|chf|jpy"
_POST = rf"(?:dollars?|bucks?|euros?|pounds?|quid|francs?|yen|{_CODES}|cents?|pence|[$€£¥])"
_MULT = {"k": 1_000, "grand": 1_000, "thousand": 1_000, "hundred": 100}
_MULT |= {"m": 1_000_000, "mil": 1_000_000, "mn": 1_000_000, "million": 1_000_000}
_AMOUNT = re.compile(
    r"(?<![\w.,/:#*$€£¥-])"
    rf"(?P<pre>us\$|ca?\$|[$€£¥]|(?:{_CODES})\b)?\s?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|[1-9]\d{0,2}(?:\.\d{3})+(?:,\d{2})?|\d+\.\d+"
    r"|\d+,\d{2}(?![\d,])|\d+|\.\d+)"
    r"(?:\s?(?P<mult>k|mil|mn|m|thousand|million|grand|hundred)(?![a-z]))?"
    rf"(?:\s?(?P<post>{_POST})(?![a-z]))?"
    r"(?![\w%]|[/:-]\d|[.,]\d)"
)
_AFTER_POST = re.compile(rf"\s?(?P<post>{_POST})(?![a-z])")
_CENTS_TAIL = re.compile(
    r"\s*(?:and\s+)?(?P<n>\d{1,2}|[a-z]+(?:[\s-][a-z]+)?)\s*(?:cents?|pence)\b"
)

# Context that makes a bare number something other than money.
_UNIT_AFTER = re.compile(
    r"\s*(?:%|percent|per\s?cent|pct\b|am\b|pm\b|a\.m|p\.m|o'?clock|h\b|hrs?\b|hours?|mins?\b"
    r"|minutes?|seconds?|days?|nights?|weeks?|wks?\b|months?|mos?\b|years?|yrs?\b|times?|x\b"
    r"|transactions?|payments?|charges?|purchases?|items?|people|persons?|accounts?|cards?"
    r"|digits?|numbers?|installments?|instalments?|stars?|rd\b|th\b|st\b|nd\b|bills?|things?"
    r"|ones?\b|tickets?|of\s+(?:them|those|these)"
    rf"|(?:of\s+)?(?:{MONTH_RE})\b)"
)
_CENTS = re.compile(r"\d{1,3}(?:,\d{3})*\.\d{2}|\d+\.\d{2}")
_MONEY_NOUN_AFTER = re.compile(
    r"\s*(?:charges?|payments?|purchases?|transactions?|bills?|debits?)\b"
)
_PERCENT_AFTER = re.compile(r"\s*(?:%|percent|per\s?cent|pct\b)")
_ID_BEFORE = re.compile(
    r"(?:\bend(?:ing|s)?(?:\s+(?:in|with|on))?|\blast\s+(?:four|4)(?:\s+digits)?(?:\s+(?:is|are))?"
    r"|#|\bno\.?|\bnumber|\bnum|\bpin|\bcode|\bzip|\bid|\bref\.?"
    r"|\breference|\brouting|\bext\.?|\bextension|\bphone|\bcall|\bx|\*+|\.\.\.|\bapt\.?|\bunit"
    r"|\bsuite|\broom|\bflight|\bpage|\boption|\bversion|\bstep)\s*[:#-]?\s*$"
)
_HOLDER_BEFORE = re.compile(r"\b(?:acct\.?|account|card)\s*[:#-]?\s*$")
_ROUTE_BEFORE = re.compile(r"\b(?:from|to|into|in|out\s+of)\s+(?:my\s+|the\s+)?$")
_MONTH_BEFORE = re.compile(rf"\b(?:{MONTH_RE})\.?\s*$")
_DAY_BEFORE = re.compile(r"\b(?:on|by|before|after|until|till|til|starting|due)\s+(?:the\s+)?$")
_AT_BEFORE = re.compile(r"\bat\s+(?:around\s+|about\s+)?$")
_YEAR_BEFORE = re.compile(r"\b(?:in|since|of|during|year|until|before|after)\s+$")
_COUNT_BEFORE = re.compile(r"\b(?:last|past|next|first|top|previous|recent|latest)\s+$")
_VAGUE = frozenset({"few", "several", "many", "some", "hundreds", "thousands"})
_NEGATIVE_BEFORE = re.compile(r"(?:\bminus|\bnegative|-)\s*$")


def _currency(symbol: str | None, default: str) -> str | None:
    if symbol is None:
        return None
    code = _SYMBOL.get(symbol) or _WORD_CURRENCY.get(symbol) or symbol.upper()
    if code == "$":
        return default if default in ("USD", "CAD") else "USD"
    return code


def _is_other_number(before: str, after: str, value: Decimal, raw: str) -> bool:
    """Whether a bare number (no currency sign or word) is a date, time, id, count or year."""
    whole = value == value.to_integral_value() and "." not in raw and "," not in raw
    if _CENTS.fullmatch(raw) and _MONEY_NOUN_AFTER.match(after):
        return False  # "a 55.00 charge": to the cent, before a word for money taken
    if _UNIT_AFTER.match(after) or _ID_BEFORE.search(before) or _COUNT_BEFORE.search(before):
        return True
    if _MONTH_BEFORE.search(before):
        return True
    digits = raw.replace(",", "").replace(".", "")
    if whole and len(digits) >= 4 and _HOLDER_BEFORE.search(before):
        return True
    if whole and len(digits) == 4 and _ROUTE_BEFORE.search(before):
        return True  # "from 4821 to 1234": last fours, not amounts
    if whole and value <= 31 and _DAY_BEFORE.search(before):
        return True
    if whole and value <= 24 and _AT_BEFORE.search(before):
        return True
    if whole and 1900 <= value <= 2100 and _YEAR_BEFORE.search(before):
        return True
    return whole and (len(digits) >= 7 or (len(digits) >= 2 and digits.startswith("0")))


def _post(after: str) -> tuple[str | None, int]:
    match = _AFTER_POST.match(after)
    return (match.group("post"), match.end()) if match else (None, 0)


def _cents_tail(after: str) -> tuple[Decimal, int]:
    match = _CENTS_TAIL.match(after)
    if not match:
        return Decimal(0), 0
    raw = match.group("n")
    if raw.isdigit():
        return Decimal(raw) / 100, match.end()
    words = re.split(r"[\s-]+", raw)
    found = words_to_int(words)
    if found is None or found[1] != len(words) or found[0] >= 100:
        return Decimal(0), 0
    return Decimal(found[0]) / 100, match.end()


def _finish(
    text: str,
    span: tuple[int, int],
    value: Decimal,
    raw: str,
    pre: str | None,
    post: str | None,
    mult: bool,
) -> _Found | None:
    """Apply cents, currency and context rules to one candidate; None when it is not money."""
    start, end = span
    before, after = text[:start], text[end:]
    if _NEGATIVE_BEFORE.search(before) or _PERCENT_AFTER.match(after):
        return None
    currency = pre
    if post in ("cent", "cents", "pence"):
        value /= 100
        currency = currency or ("£" if post == "pence" else None)
    elif post:
        currency = currency or post
        extra, used = _cents_tail(after)
        value, end = value + extra, end + used
    marked = bool(pre or post or mult)
    if not marked and _is_other_number(before, after, value, raw):
        return None
    return _Found(start, end, value, currency, marked)


def _numeric(text: str) -> list[_Found]:
    found = []
    for m in _AMOUNT.finditer(text):
        raw, mult, pre, post = m.group("num"), m.group("mult"), m.group("pre"), m.group("post")
        if mult in ("m", "mil", "mn") and not (pre or post):
            continue  # "5m" is minutes or metres unless money is said
        grouped = re.fullmatch(r"[1-9]\d{0,2}(?:\.\d{3})+(?P<cents>,\d{2})?", raw)
        dollar = _currency(pre or post, "USD") in ("USD", "CAD")
        if grouped and not grouped["cents"] and not (pre or post):
            continue  # "5.000": five or five thousand? Not guessed.
        if grouped and (grouped["cents"] or not dollar):
            number = raw.replace(".", "").replace(",", ".")  # "1.250,50", "€5.000"
        elif re.search(r",\d{3}", raw):
            number = raw.replace(",", "")  # "1,250.50"
        else:
            number = raw.replace(",", ".")  # "12,50"
        value = Decimal(number) * _MULT.get(mult or "", 1)
        start = m.start("pre") if pre else m.start("num")
        item = _finish(text, (start, m.end()), value, raw, pre, post, mult in ("k", "grand"))
        if item is not None:
            found.append(item)
    return found


def _worded(text: str, taken: list[_Found]) -> list[_Found]:
    toks = [t for t in tokens(text) if t.text != "-"]
    found: list[_Found] = []
    i = 0
    while i < len(toks):
        word = toks[i].text
        inside = any(f.start <= toks[i].start < f.end for f in taken + found)
        if inside or not (word in NUMBER_WORDS or word in ("a", "an")):
            i += 1
            continue
        run = [toks[i]]
        for tok in toks[i + 1 :]:
            if re.fullmatch(r"[\s-]*", text[run[-1].end : tok.start]) is None:
                break
            run.append(tok)
        parsed = words_to_int([t.text for t in run])
        if parsed is None:
            i += 1
            continue
        value, used = parsed
        if i and toks[i - 1].text in _VAGUE:
            i += used  # "a few hundred" is no number
            continue
        start, end = run[0].start, run[used - 1].end
        thousands = re.match(r"\s?k\b", text[end:])  # "ten k"
        if thousands:
            value, end = value * 1000, end + thousands.end()
        post, length = _post(text[end:])
        is_scale = run[used - 1].text == "grand" or thousands is not None
        item = _finish(
            text, (start, end + length), Decimal(value), str(value), None, post, is_scale
        )
        lone_one = used == 1 and word == "one"
        if item is not None and (item.marked or not lone_one):
            found.append(item)
        i += used
    return found


def _candidates(text: str) -> list[_Found]:
    numeric = _numeric(text)
    return sorted(numeric + _worded(text, numeric), key=lambda f: f.start)


def _to_money(value: Decimal, currency: str) -> Money | None:
    if value <= 0 or currency not in EXPONENT:
        return None
    try:
        return Money(to_minor(value, currency), currency)
    except MoneyError:
        return None


def find_amounts(text: str, *, default_currency: str = "USD") -> list[Money]:
    """Every explicit amount in ``text``, in order ("50 to Tom and 30 to Ann" gives two).

    Shares ("half of it") are not included: they need a balance, see :func:`parse_amount`.
    """
    out = []
    for item in _candidates(normalise(text)):
        money = _to_money(
            item.value, _currency(item.currency, default_currency) or default_currency
        )
        if money is not None:
            out.append(money)
    return out


def parse_amount(
    text: str, *, default_currency: str = "USD", available_minor: int | None = None
) -> Money | None:
    """The amount of money a customer means in ``text``.

    Understands "$200", "200 bucks", "$1.2k", "1,250.50", "twenty-five", "a hundred and fifty",
    "two grand", "€50", "50 EUR", "£20", "5 quid", "50 cents", a bare "65", and shares: "half of
    $400", or "half of it", "all of it", "everything", "the full balance" of ``available_minor``.
    A sum with a currency sign or word wins over a share, which wins over a bare number.

    Args:
        text: the customer's message.
        default_currency: ISO code for amounts without a currency, and for "$"/"dollars" when it
            is a dollar currency (otherwise those mean USD).
        available_minor: the balance a share ("half of it") is taken of.

    Returns:
        The amount, or None when there is none, it is zero or negative, or it is a share and
        ``available_minor`` is not given.
    """
    norm = normalise(text)
    found = _candidates(norm)
    share = share_in(norm)
    if share is not None:
        base = next((f for f in found if f.start == share[1]), None)
        if base is not None:
            currency = _currency(base.currency, default_currency) or default_currency
            money = _to_money(base.value, currency)
            part = part_of(money.amount_minor, share[0]) if money else 0
            return Money(part, currency) if part > 0 else None
    for item in [f for f in found if f.marked] + ([] if share else found):
        currency = _currency(item.currency, default_currency) or default_currency
        money = _to_money(item.value, currency)
        if money is not None:
            return money
    if share is None or available_minor is None or default_currency not in EXPONENT:
        return None
    part = part_of(available_minor, share[0])
    return Money(part, default_currency) if part > 0 else None
