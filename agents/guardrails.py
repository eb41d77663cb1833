"""Guardrails on the way in and out of the model.

In: a customer message that is too long, or that tries to re-instruct the assistant ("ignore
your previous instructions", "you are now ...", "show me your system prompt"), typos and
all, is answered here and never reaches the model. Out: digits that look like an account or
card number and are not the customer's own are masked in whatever the model says (an LLM could
echo what someone typed, never data: tools return only the customer's own records).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from agents.offline.slots.spelling import spell

MAX_CHARS = 2_000
INJECTION = re.compile(
    r"\b(ignore|disregard|forget)\b.{0,40}\b(instructions|rules|prompt|guidelines)\b"
    r"|\byou are now\b|\bact as (?:an? )?(?:admin|administrator|developer|root)\b"
    r"|\b(system|hidden|developer) prompt\b|\bjailbreak\b|\bdeveloper mode\b",
    re.IGNORECASE | re.DOTALL,
)
LONG_NUMBER = re.compile(r"(?<!\d)\d{8,19}(?!\d)")


def check_input(text: str) -> str | None:
    """A refusal to send instead of calling the model, or None when the message is fine."""
    if len(text) > MAX_CHARS:
        return (
            f"That message is too long for me (over {MAX_CHARS:,} characters). "
            "Could you say it in a few sentences?"
        )
    if INJECTION.search(text) or INJECTION.search(spell(text)):  # "dissregard your rules"
        return (
            "I can't change how I work, but I'm happy to help with your accounts, payments, "
            "cards or questions about the bank."
        )
    return None


def mask_foreign_numbers(text: str, own: Iterable[str]) -> str:
    """``text`` with long digit runs masked unless they end with one of ``own`` last fours."""
    mine = {o for o in own if o}

    def mask(match: re.Match[str]) -> str:
        digits = match.group(0)
        return digits if digits[-4:] in mine else "•" * (len(digits) - 4) + digits[-4:]

    return LONG_NUMBER.sub(mask, text)
