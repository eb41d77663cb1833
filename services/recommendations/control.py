"""The control group: a fixed, configurable share of customers who get no model-driven offers.

Membership is a keyed hash of the person id, so it is the same on every replica and every day
without storing anything, and uplift (treatment versus control acceptance) can be measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from hashlib import blake2b
from typing import Literal

SCALE = float(2**64)


@dataclass(frozen=True)
class ControlGroup:
    """Who is held out, and what they get instead.

    ``mode="random"``: random eligible actions (a baseline for uplift); ``mode="none"``: no
    marketing at all, only service messages and insight follow-ups, which no customer should
    miss.
    """

    share: float = 0.05
    salt: str = "concierge-nba-1"
    mode: Literal["random", "none"] = "random"

    def __post_init__(self) -> None:
        if not 0.0 <= self.share <= 1.0:
            raise ValueError(f"control share must be within [0, 1], got {self.share}")

    def contains(self, person_id: int) -> bool:
        """Whether ``person_id`` is held out."""
        digest = blake2b(f"{self.salt}:{person_id}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / SCALE < self.share
