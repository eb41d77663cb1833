"""One synthetic customer's records before they are written: what every generator step fills in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.synth.ledger import Entry


@dataclass
class Bundle:
    """Everything about one customer, keyed locally; the writer assigns database ids."""

    index: int
    archetype: str
    person: dict[str, Any]
    accounts: list[dict[str, Any]] = field(default_factory=list)
    holdings: list[dict[str, Any]] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    payees: list[dict[str, Any]] = field(default_factory=list)
    series: list[dict[str, Any]] = field(default_factory=list)
    cards: list[dict[str, Any]] = field(default_factory=list)
    goals: list[dict[str, Any]] = field(default_factory=list)
    scheduled: list[dict[str, Any]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    preference: dict[str, Any] = field(default_factory=dict)
    offers: list[dict[str, Any]] = field(default_factory=list)
    truth: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def equity_share_pp(self, account: str) -> int:
        """Equity as a whole-number percentage of an investment account's holdings."""
        mine = [h for h in self.holdings if h["account"] == account]
        total = sum(h["market_value_minor"] for h in mine)
        equity = sum(h["market_value_minor"] for h in mine if h["asset_class"] == "equity")
        return round(100 * equity / total) if total else 0
