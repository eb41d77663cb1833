"""What the model may know about the customer it is talking to, and how it travels.

The graph builds a :class:`CustomerContext` from the authenticated customer's own records (never
from anything the model or the customer typed) and puts it in the conversation as a
``SystemMessage``: its text is the prompt an LLM reads; the same facts ride along in
``additional_kwargs["concierge_context"]`` for the offline model, which matches the customer's
words against them. Refs are opaque handles the tools resolve — and check — against the
authenticated customer's records; they are not database ids the customer could type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from langchain_core.messages import BaseMessage, SystemMessage


@dataclass(frozen=True)
class AccountRef:
    """One of the customer's accounts as the extractor sees it."""

    ref: str
    type: str  # checking | savings | credit_card | term_deposit | mortgage | ...
    name: str  # e.g. "Rainy Day Savings"
    last4: str


@dataclass(frozen=True)
class CardRef:
    """One of the customer's cards."""

    ref: str
    type: str  # debit | credit
    last4: str


KEY = "concierge_context"


@dataclass(frozen=True)
class Account:
    """One of the customer's accounts, as the conversation may name it."""

    ref: str
    type: str
    name: str
    last4: str
    balance_minor: int
    currency: str = "USD"

    def as_ref(self) -> AccountRef:
        """The slot extractor's view."""
        return AccountRef(self.ref, self.type, self.name, self.last4)


@dataclass(frozen=True)
class Card:
    """One of the customer's cards."""

    ref: str
    type: str
    last4: str
    status: str = "active"

    def as_ref(self) -> CardRef:
        """The slot extractor's view."""
        return CardRef(self.ref, self.type, self.last4)


@dataclass(frozen=True)
class Named:
    """A payee, a scheduled payment or a goal: a ref and what the customer calls it."""

    ref: str
    name: str


@dataclass(frozen=True)
class CustomerContext:
    """The customer's own names for things, and today's date in their time zone."""

    first_name: str
    today: date
    accounts: tuple[Account, ...] = ()
    payees: tuple[Named, ...] = ()
    cards: tuple[Card, ...] = ()
    scheduled: tuple[Named, ...] = ()
    goals: tuple[Named, ...] = ()
    closed: tuple[Named, ...] = ()  # accounts closed: named only to say so, never acted on
    merchants: tuple[str, ...] = ()
    currency: str = "USD"
    notes: tuple[str, ...] = field(default=())
    # The next best action allowed on chat now (code, title, body, why) and the insight most
    # worth a word (type, message), chosen by the recommendation core for this run.
    offer: dict[str, str] | None = None
    insight: dict[str, str] | None = None

    def account(self, ref: str) -> Account | None:
        """The account with ``ref``, if it is this customer's."""
        return next((a for a in self.accounts if a.ref == ref), None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (what :func:`dataclasses.asdict` gives, without its deep copies).

        Every field is a string, a number, a tuple of those flat records, or a dict of
        strings, so copying each level once is a full copy. It is written into the
        conversation's state every turn, which is why it is spelled out.
        """
        return {
            "first_name": self.first_name,
            "today": self.today.isoformat(),
            "accounts": tuple(vars(a).copy() for a in self.accounts),
            "payees": tuple(vars(p).copy() for p in self.payees),
            "cards": tuple(vars(c).copy() for c in self.cards),
            "scheduled": tuple(vars(s).copy() for s in self.scheduled),
            "goals": tuple(vars(g).copy() for g in self.goals),
            "closed": tuple(vars(c).copy() for c in self.closed),
            "merchants": tuple(self.merchants),
            "currency": self.currency,
            "notes": tuple(self.notes),
            "offer": dict(self.offer) if self.offer is not None else None,
            "insight": dict(self.insight) if self.insight is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CustomerContext:
        """The context :meth:`to_dict` wrote."""
        return cls(
            first_name=str(data["first_name"]),
            today=date.fromisoformat(data["today"]),
            accounts=tuple(Account(**a) for a in data.get("accounts", ())),
            payees=tuple(Named(**p) for p in data.get("payees", ())),
            cards=tuple(Card(**c) for c in data.get("cards", ())),
            scheduled=tuple(Named(**s) for s in data.get("scheduled", ())),
            goals=tuple(Named(**g) for g in data.get("goals", ())),
            closed=tuple(Named(**c) for c in data.get("closed", ())),
            merchants=tuple(data.get("merchants", ())),
            currency=str(data.get("currency", "USD")),
            notes=tuple(data.get("notes", ())),
            offer=data.get("offer"),
            insight=data.get("insight"),
        )

    def prompt(self) -> str:
        """The same facts as text, for a language model's system prompt."""
        lines = [
            f"You are Concierge, the bank's assistant, talking with {self.first_name}.",
            f"Today is {self.today.isoformat()}.",
        ]
        for a in self.accounts:
            lines.append(f"Account {a.ref}: {a.name} ({a.type}, ending {a.last4}).")
        lines += [f"Payee {p.ref}: {p.name}." for p in self.payees]
        lines += [f"Card {c.ref}: {c.type} ending {c.last4}, {c.status}." for c in self.cards]
        lines += [f"Scheduled {s.ref}: {s.name}." for s in self.scheduled]
        lines += [f"Goal {g.ref}: {g.name}." for g in self.goals]
        lines += list(self.notes)
        if self.insight:
            lines.append(f"Worth mentioning: {self.insight['message']}")
        if self.offer:
            lines.append(
                f"One suggestion you may make once, when it fits: {self.offer['title']} — "
                f"{self.offer['body']} (because: {self.offer['why']})."
            )
        lines.append(
            "Use the tools for every figure; never invent an account, payee, card or amount. "
            "Writes run only after the customer confirms exactly what will happen."
        )
        return "\n".join(lines)

    def message(self) -> SystemMessage:
        """The system message carrying this context."""
        return SystemMessage(content=self.prompt(), additional_kwargs={KEY: self.to_dict()})


def context_of(messages: Sequence[BaseMessage]) -> CustomerContext | None:
    """The latest context in the conversation, if any."""
    for message in reversed(messages):
        data = message.additional_kwargs.get(KEY) if isinstance(message, SystemMessage) else None
        if data:
            return CustomerContext.from_dict(data)
    return None
