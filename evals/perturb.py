"""Robustness of the conversation scenarios, CheckList style: the same suite, reworded.

Each perturbation rewrites only what the customer types (the ``user:`` turns) and never what it
means; expectations are left as they are, so a scenario that passes clean and fails perturbed
shows the assistant leaning on surface form:

- ``typos``: a key next to the intended one, two letters swapped, a letter dropped or doubled,
  in a few longer words; never in numbers or the words right beside them, quoted text, number,
  month, day or currency words, or names the scenario knows (accounts, payees, merchants,
  goals, categories, expected values).
- ``case``: all lower case, ALL CAPS, or random words in Title Case.
- ``punctuation``: question and exclamation marks, commas between words and trailing dots
  dropped, or added where a writer might put them; never inside a number.
- ``fillers``: "um", "like", "so", "hey", "please", "thanks" at the start or the end.
- ``numbers``: the same amount written another way ("$50", "50 dollars", "fifty dollars",
  "50.00"), in the currency it was said in; a bare number is read as an amount only when the
  scenario holds that amount, and gains a currency only when all of the customer's accounts
  share one.

Every choice comes from a random generator seeded with the seed, the perturbation, the
scenario and the turn, so a seed gives the same texts whatever else runs.
"""

from __future__ import annotations

import copy
import dataclasses
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from evals.scenario import Scenario

KINDS: tuple[str, ...] = ("typos", "case", "punctuation", "fillers", "numbers")


def parse_kinds(spec: str) -> list[str]:
    """The perturbations named in a comma-separated ``spec``, in order, each once."""
    kinds: list[str] = []
    for raw in spec.split(","):
        name = raw.strip().lower()
        if not name:
            continue
        if name not in KINDS:
            raise ValueError(f"unknown perturbation {name!r}; choose from {', '.join(KINDS)}")
        if name not in kinds:
            kinds.append(name)
    if not kinds:
        raise ValueError(f"no perturbation named; choose from {', '.join(KINDS)}")
    return kinds


@dataclass(frozen=True)
class Context:
    """What a scenario says about its customer's words: names to keep, amounts it holds."""

    protected: frozenset[str] = frozenset()  # lower-case words never given a typo
    amounts: frozenset[Decimal] = frozenset()  # values a bare number may be read as an amount
    currency: str | None = "USD"  # the one currency of the customer's accounts, else None
    blocked: frozenset[Decimal] = field(default_factory=frozenset)  # card digits, never amounts


# --- the scenario's own vocabulary ------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z]+")
_AMOUNT_FIELDS = frozenset({"amount", "balance", "target", "saved", "credit_limit"})
_AMOUNT_FIELDS |= {"overdraft_limit"}


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _decimals(value: Any, into: set[Decimal]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _AMOUNT_FIELDS and not isinstance(item, (dict, list, bool)):
                number = _decimal(str(item))
                if number is not None and number != 0:
                    into.add(abs(number))
            else:
                _decimals(item, into)
    elif isinstance(value, list):
        for item in value:
            _decimals(item, into)


def _decimal(raw: str) -> Decimal | None:
    try:
        return Decimal(raw.replace(",", ""))
    except InvalidOperation:
        return None


def context_for(scenario: Scenario) -> Context:
    """The words and amounts ``scenario`` knows: its records and what it expects to be written."""
    data = scenario.data
    expect = data.get("expect") or {}
    known = [data.get("customer") or {}, data.get("others") or [], expect.get("writes") or []]
    known.append(expect.get("state") or {})
    protected: set[str] = set()
    for text in _strings(known):
        protected.update(w.lower() for w in _WORD.findall(text))
    for turn in data.get("turns") or []:
        for value in (turn.get("expect") or {}).get("tools") or []:
            protected.update(w.lower() for w in _WORD.findall(str(value)))
    amounts: set[Decimal] = set()
    _decimals(known, amounts)
    customer = data.get("customer") or {}
    currencies = {str(a.get("currency") or "USD").upper() for a in customer.get("accounts") or []}
    blocked = set()
    for card in customer.get("cards") or []:
        if card.get("last4") is not None:
            number = _decimal(str(card["last4"]))
            if number is not None:
                blocked.add(number)
    return Context(
        protected=frozenset(protected),
        amounts=frozenset(amounts - blocked),
        currency=currencies.pop() if len(currencies) == 1 else ("USD" if not currencies else None),
        blocked=frozenset(blocked),
    )


# --- typos ------------------------------------------------------------------------------------

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS: dict[str, str] = {}
for _r, _row in enumerate(_ROWS):
    for _c, _ch in enumerate(_row):
        near = [_row[j] for j in (_c - 1, _c + 1) if 0 <= j < len(_row)]
        for _other in (_r - 1, _r + 1):
            if 0 <= _other < len(_ROWS):
                near += [_ROWS[_other][j] for j in (_c - 1, _c) if 0 <= j < len(_ROWS[_other])]
        _NEIGHBOURS[_ch] = "".join(near)

_NUMBER_WORDS = frozenset(
    """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty
    ninety hundred thousand million grand couple half quarter first second third fourth fifth
    sixth seventh eighth ninth tenth twice""".split()
)
_CALENDAR_WORDS = frozenset(
    """january february march april june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday""".split()
)
_MONEY_WORDS = frozenset("dollar dollars bucks euro euros pound pounds cents pence quid".split())
_QUOTED = re.compile(
    r"\"[^\"]+\"|\u201c[^\u201d]+\u201d|\u2018[^\u2019]+\u2019|(?<!\w)'[^']+'(?!\w)"
)
# A number's own words ("3 days", "the 86.40 charge") say what it is: left as they are.
_NEXT_TO_NUMBER = re.compile(r"\d[$€£%]?\s?$")
_BEFORE_NUMBER = re.compile(r"\s?[$€£]?\d")
_TYPO_WORD = re.compile(r"(?<![\w'\u2019-])[A-Za-z]{5,}(?![\w'\u2019-])")


def _typo(word: str, rng: random.Random, forbidden: frozenset[str] = frozenset()) -> str:
    """``word`` with one slip of the fingers, never at its first letter.

    A slip that makes a ``forbidden`` word (a number, a month, a name) is not taken: "there"
    never becomes "three".
    """
    for _ in range(10):
        op = rng.choice(("neighbour", "swap", "drop", "double"))
        i = rng.randrange(1, len(word))
        ch = word[i]
        if op == "neighbour":
            new = rng.choice(_NEIGHBOURS.get(ch.lower(), ch.lower()))
            out = word[:i] + (new.upper() if ch.isupper() else new) + word[i + 1 :]
        elif op == "swap" and i < len(word) - 1:
            out = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        elif op == "drop":
            out = word[:i] + word[i + 1 :]
        else:
            out = word[: i + 1] + ch + word[i + 1 :]
        if out.lower() != word.lower() and out.lower() not in forbidden:
            return out
    return word


def typos(text: str, rng: random.Random, context: Context = Context()) -> str:
    """A typo in a few (one to three) of the longer words ``text`` may safely misspell."""
    quoted = [m.span() for m in _QUOTED.finditer(text)]
    keep = context.protected | _NUMBER_WORDS | _CALENDAR_WORDS | _MONEY_WORDS
    spans = [
        m.span()
        for m in _TYPO_WORD.finditer(text)
        if m.group().lower() not in keep
        and not any(a <= m.start() < b for a, b in quoted)
        and not m.group().isupper()  # an acronym or a code
        and not _NEXT_TO_NUMBER.search(text[max(0, m.start() - 3) : m.start()])
        and not _BEFORE_NUMBER.match(text[m.end() :])
    ]
    if not spans:
        return text
    count = min(len(spans), 3, max(1, round(len(spans) / 3)))
    chosen = sorted(rng.sample(spans, count), reverse=True)
    for start, end in chosen:
        text = text[:start] + _typo(text[start:end], rng, keep) + text[end:]
    return text


# --- case -------------------------------------------------------------------------------------


def case(text: str, rng: random.Random, context: Context = Context()) -> str:
    """``text`` in all lower case, ALL CAPS, or with random words in Title Case."""
    styles = ["lower", "upper", "title"]
    rng.shuffle(styles)
    for style in styles:
        if style == "lower":
            out = text.lower()
        elif style == "upper":
            out = text.upper()
        else:
            out = re.sub(
                r"[A-Za-z]+",
                lambda m: m.group().capitalize() if rng.random() < 0.5 else m.group().lower(),
                text,
            )
        if out != text:
            return out
    return text


# --- punctuation ------------------------------------------------------------------------------

_QUESTION_START = re.compile(
    r"^\W*(?:what|what's|whats|how|when|where|why|who|which|can|could|do|does|did|is|are|"
    r"will|would|should|have|has|am)\b",
    re.I,
)
_LEAD_WORD = re.compile(
    r"^(\W*(?:ok|okay|yes|yeah|yep|no|nope|sorry|actually|so|well|hi|hello|hey|thanks|"
    r"great|right|sure|oh))(\s+)(?=\w)",
    re.I,
)
_TRAILING = re.compile(r"\s*[.?!]+\s*$")
_COMMA_BETWEEN_WORDS = re.compile(r"(?<=[^\d\s]),(?=\s+\D)")
_MARK_BETWEEN_WORDS = re.compile(r"(?<=[A-Za-z])[?!.]+(?=\s+[A-Za-z])")


def _strip(text: str) -> str:
    out = _COMMA_BETWEEN_WORDS.sub("", text)
    out = _MARK_BETWEEN_WORDS.sub("", out)
    return _TRAILING.sub("", out)


def _add(text: str, rng: random.Random) -> str:
    out = text.rstrip()
    lead = _LEAD_WORD.match(out)
    if lead and not lead.group(1).endswith(",") and rng.random() < 0.7:
        out = lead.group(1) + "," + out[lead.end(1) :]
    question = bool(_QUESTION_START.match(out))
    if out.endswith("?"):
        out += rng.choice(("?", "??"))
    elif out.endswith("!"):
        out += "!"
    elif out.endswith("."):
        out = out[:-1] + rng.choice(("...", "!")) if not question else out[:-1] + "?"
    elif question:
        out += rng.choice(("?", "??"))
    else:
        out += rng.choice((".", "!", "..."))
    return out


def punctuation(text: str, rng: random.Random, context: Context = Context()) -> str:
    """``text`` with its ?, !, commas between words and trailing dots dropped, or some added."""
    stripped = _strip(text)
    if stripped != text and rng.random() < 0.5:
        return stripped
    return _add(text, rng) if text.strip() else text


# --- fillers ----------------------------------------------------------------------------------

_STARTS = ("um", "um,", "so", "so,", "hey", "hey,", "like", "like,", "please")
_ENDS = ("please", ", please", "thanks", ", thanks", "thanks!", "um")
_REFUSAL = re.compile(r"^\W*(?:no|nope|nah|cancel|stop|don't|do not|never ?mind)\b", re.I)


def fillers(text: str, rng: random.Random, context: Context = Context()) -> str:
    """``text`` with a filler word at its start, its end, or both."""
    if not text.strip():
        return text
    lowered = text.lower()
    refusal = bool(_REFUSAL.match(text))

    def usable(filler: str) -> bool:
        word = filler.strip(" ,!")
        if word == "please" and refusal:
            return False  # "no please" could be read either way
        return re.search(rf"\b{word}\b", lowered) is None

    where = rng.choice(("start", "end", "both"))
    out = text.strip()
    if where in ("start", "both"):
        options = [f for f in _STARTS if usable(f)]
        if options:
            out = f"{rng.choice(options)} {out}"
    if where in ("end", "both"):
        options = [f for f in _ENDS if usable(f)]
        if options:
            ending = rng.choice(options)
            if ending.startswith(","):
                body = out.rstrip()
                tail = ""
                while body and body[-1] in ".?!":
                    body, tail = body[:-1], body[-1] + tail
                out = f"{body}{ending}{tail}"
            else:
                out = f"{out} {ending}"
    return out


# --- numbers ----------------------------------------------------------------------------------

_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP"}
_UNIT_WORDS = {
    "dollar": "USD",
    "dollars": "USD",
    "buck": "USD",
    "bucks": "USD",
    "usd": "USD",
    "euro": "EUR",
    "euros": "EUR",
    "eur": "EUR",
    "pound": "GBP",
    "pounds": "GBP",
    "gbp": "GBP",
}
_SIGN = {"USD": "$", "EUR": "€", "GBP": "£"}
_NAME = {"USD": ("dollar", "dollars"), "EUR": ("euro", "euros"), "GBP": ("pound", "pounds")}
_CENT_NAME = {"USD": "cents", "EUR": "cents", "GBP": "pence"}
_MONEY = re.compile(
    r"(?<![\w.,$€£/:#*-])(?P<sign>[$€£])?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d{2})?|\d+(?:\.\d{2})?)"
    r"(?![\d%]|[.,:/-]\d|[A-Za-z])"
    r"(?:\s?(?P<unit>dollars?|bucks?|usd|euros?|eur|pounds?|gbp)\b)?",
    re.I,
)
_NOT_AMOUNT_AFTER = re.compile(
    r"\s*(?:%|percent|am\b|pm\b|o'?clock|hours?|mins?\b|minutes?|days?|weeks?|months?|years?"
    r"|times?|st\b|nd\b|rd\b|th\b|of\b|digits?|transactions?|payments?|charges?|purchases?)",
    re.I,
)
_NOT_AMOUNT_BEFORE = re.compile(
    r"(?:\bthe|\bon|\bby|\bbefore|\bafter|\buntil|\bevery|\blast|\bpast|\bnext|\bfirst|\bending"
    r"(?:\s+in)?|\bends\s+in|\bnumber|\bno\.?|\bcard|\bpin|\bcode|\bid|\bat)\s*$",
    re.I,
)
_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
_ONES += " fifteen sixteen seventeen eighteen nineteen"
_UNITS = _ONES.split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(n: int) -> str:
    """``n`` (0 to 999,999) in English words: 1250 is "one thousand two hundred fifty"."""
    if not 0 <= n < 1_000_000:
        raise ValueError("only 0 to 999,999 are written in words")
    if n < 20:
        return _UNITS[n]
    if n < 100:
        return _TENS[n // 10] + ("-" + _UNITS[n % 10] if n % 10 else "")
    if n < 1000:
        head = f"{_UNITS[n // 100]} hundred"
        return head + (" " + number_words(n % 100) if n % 100 else "")
    head = f"{number_words(n // 1000)} thousand"
    return head + (" " + number_words(n % 1000) if n % 1000 else "")


def _digits(value: Decimal, rng: random.Random, cents: bool) -> str:
    grouped = value >= 1000 and rng.random() < 0.5
    if cents or value != value.to_integral_value():
        return f"{value:,.2f}" if grouped else f"{value:.2f}"
    return f"{int(value):,}" if grouped else f"{int(value)}"


def _forms(
    value: Decimal, currency: str | None, rng: random.Random, *, bare_words: bool = True
) -> list[str]:
    """Ways to write ``value`` in ``currency`` (None: without one) that mean the same amount.

    ``bare_words`` allows a number in words without a currency ("fifty"), which only a number
    said without one is rewritten to.
    """
    whole = value == value.to_integral_value()
    plain = _digits(value, rng, cents=False)
    forms = [] if currency else [_digits(value, rng, cents=True)]
    if whole and currency is None and bare_words and 2 <= value < 1_000_000:
        forms.append(number_words(int(value)))
    if currency in _SIGN:
        sign = _SIGN[currency]
        one, many = _NAME[currency]
        unit = one if value == 1 else many
        forms += [f"{sign}{plain}", f"{plain} {unit}", f"{sign}{_digits(value, rng, True)}"]
        if value < 1_000_000:
            units = int(value)
            cents = int((value - units) * 100)
            if whole:
                forms.append(f"{number_words(units)} {unit}")
            elif units:
                words = f"{number_words(units)} {many if units != 1 else one}"
                forms.append(f"{words} and {number_words(cents)} {_CENT_NAME[currency]}")
    return forms


def _reads_as_amount(text: str, match: re.Match[str]) -> bool:
    """Whether a number here, said without a currency, reads as money.

    It does when no unit or count follows it ("3 days", "the 86.40 charge") and, for a whole
    number, no day, card or position word comes before it ("on the 15", "ending in 4821").
    """
    if _NOT_AMOUNT_AFTER.match(text[match.end() :]):
        return False
    has_cents = "." in match.group("num")
    return has_cents or not _NOT_AMOUNT_BEFORE.search(text[: match.start()])


def _bare_amount(text: str, match: re.Match[str], value: Decimal, context: Context) -> bool:
    """Whether a number without a currency is, in this scenario, an amount of money."""
    if value not in context.amounts or value in context.blocked:
        return False
    return _reads_as_amount(text, match)


def numbers(text: str, rng: random.Random, context: Context = Context()) -> str:
    """Every amount in ``text`` written another way that means the same amount."""
    pieces: list[str] = []
    last = 0
    for match in _MONEY.finditer(text):
        raw = match.group("num")
        value = _decimal(raw)
        if value is None or value <= 0:
            continue
        sign, unit = match.group("sign"), match.group("unit")
        if sign or unit:
            said = _SYMBOLS.get(sign or "") or _UNIT_WORDS[(unit or "").lower()]
            if sign and unit and said != _UNIT_WORDS[unit.lower()]:
                continue  # "$50 euros": not ours to guess
            currencies: list[str | None] = [said]
            if said == context.currency and _reads_as_amount(text, match):
                currencies.append(None)
        else:
            if not _bare_amount(text, match, value, context):
                continue
            currencies = [None]
            if context.currency in _SIGN:
                currencies.append(context.currency)
        written = match.group().strip()
        options = [
            form
            for currency in currencies
            for form in _forms(value, currency, rng, bare_words=not (sign or unit))
            if form.lower() != written.lower()
        ]
        if not options:
            continue
        pieces += [text[last : match.start()], rng.choice(sorted(set(options)))]
        last = match.end()
    if not pieces:
        return text
    return "".join(pieces) + text[last:]


# --- scenarios --------------------------------------------------------------------------------

PERTURBATIONS: dict[str, Callable[[str, random.Random, Context], str]] = {
    "typos": typos,
    "case": case,
    "punctuation": punctuation,
    "fillers": fillers,
    "numbers": numbers,
}


def scenario_key(scenario: Scenario) -> str:
    """The key a suite run files ``scenario`` under: ``suite/id``, or the id alone."""
    return f"{scenario.suite}/{scenario.id}" if scenario.suite else scenario.id


def perturb_text(
    text: str, kind: str, *, seed: int, key: str = "", context: Context = Context()
) -> str:
    """``text`` perturbed by ``kind``; the same ``seed`` and ``key`` give the same result."""
    rng = random.Random(f"{seed}:{kind}:{key}")
    return PERTURBATIONS[kind](text, rng, context)


def perturb_scenario(
    scenario: Scenario, kind: str, seed: int
) -> tuple[Scenario, list[tuple[str, str]]]:
    """A copy of ``scenario`` with every ``user:`` turn perturbed by ``kind``.

    Returns the copy and the (clean, perturbed) texts of the turns that changed; expectations,
    records and approvals are left as they are.
    """
    context = context_for(scenario)
    data = copy.deepcopy(scenario.data)
    changed: list[tuple[str, str]] = []
    base = scenario_key(scenario)
    for number, turn in enumerate(data.get("turns") or [], start=1):
        if "user" not in turn or turn["user"] is None:
            continue
        clean = str(turn["user"])
        said = perturb_text(clean, kind, seed=seed, key=f"{base}:{number}", context=context)
        if said != clean:
            turn["user"] = said
            changed.append((clean, said))
    return dataclasses.replace(scenario, data=data), changed


# --- running ----------------------------------------------------------------------------------


def run_perturbed(
    scenarios: Sequence[Scenario],
    runner: Callable[[Scenario, int], Any],
    kinds: Sequence[str],
    *,
    seed: int,
    clean: dict[str, list[Any]],
    progress: Callable[[Any], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Run every scenario once per perturbation; the ``perturbed`` part of the summary.

    ``clean`` holds the clean runs (scenario key → results, as ``run_suite`` returns them); a
    scenario passes clean when every clean run passed. A scenario none of whose messages a
    perturbation changes keeps its clean verdict without being run again. For each kind:
    ``pass_rate``, ``passed`` and ``total`` over the valid scenarios; ``broken``, the
    scenarios that pass clean and fail perturbed, and ``fixed``, the reverse; ``changed``, the
    scenarios with at least one message reworded, and ``messages_changed`` of ``messages``;
    ``examples``, each broken scenario's reworded messages and reasons.
    """
    out: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        passed = changed_scenarios = messages = messages_changed = 0
        broken: list[str] = []
        fixed: list[str] = []
        examples: list[dict[str, Any]] = []
        for scenario in scenarios:
            key = scenario_key(scenario)
            was = all(r.passed for r in clean.get(key, [])) and bool(clean.get(key))
            variant, changed = perturb_scenario(scenario, kind, seed)
            messages += sum(1 for t in scenario.turns if t.get("user") is not None)
            messages_changed += len(changed)
            if changed:
                changed_scenarios += 1
                result = runner(variant, 0)
                now, reasons = bool(result.passed), list(result.reasons)
                if progress is not None:
                    progress(result)
            else:
                now, reasons = was, []
                if progress is not None and clean.get(key):
                    progress(clean[key][0])
            passed += now
            if was and not now:
                broken.append(key)
                examples.append(
                    {"scenario": key, "messages": [list(p) for p in changed], "reasons": reasons}
                )
            elif now and not was:
                fixed.append(key)
        total = len(scenarios)
        out[kind] = {
            "pass_rate": round(passed / total, 4) if total else 0.0,
            "passed": passed,
            "total": total,
            "broken": broken,
            "fixed": fixed,
            "changed": changed_scenarios,
            "messages": messages,
            "messages_changed": messages_changed,
            "examples": examples,
        }
    return out
