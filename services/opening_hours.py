"""When the bank's advisors answer live: days of the week and daily spans, in its time zone.

Written as ``"mon-fri 08:00-20:00, sat 09:00-13:00"``, or ``"always"`` for round the clock
(the ``CONCIERGE_ADVISOR_HOURS`` setting, read in ``CONCIERGE_BANK_TIMEZONE``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Hours:
    """When advisors answer live: days of the week and a daily span, in the bank's zone.

    Written as ``"mon-fri 08:00-20:00, sat 09:00-13:00"``; ``"always"`` for round the clock.
    """

    spans: tuple[tuple[int, time, time], ...]
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str, zone: str = "UTC") -> Hours:
        """The hours ``text`` gives, in time zone ``zone``.

        Raises:
            ValueError: an unknown day, a malformed time or an empty span.
        """
        tz = ZoneInfo(zone)
        if text.strip().lower() in ("always", "24/7"):
            return cls(tuple((d, time(0), time.max) for d in range(7)), tz)
        spans: list[tuple[int, time, time]] = []
        for part in filter(None, (p.strip().lower() for p in text.split(","))):
            found = re.fullmatch(
                r"(?P<a>[a-z]{3})(?:-(?P<b>[a-z]{3}))?\s+(?P<s>\d{1,2}:\d{2})-(?P<e>\d{1,2}:\d{2})",
                part,
            )
            if not found or found["a"] not in _DAYS or (found["b"] or "mon") not in _DAYS:
                raise ValueError(f"opening hours: cannot read {part!r} (e.g. mon-fri 08:00-20:00)")
            first, last = _DAYS.index(found["a"]), _DAYS.index(found["b"] or found["a"])
            start, end = _clock(found["s"]), _clock(found["e"])
            if end <= start:
                raise ValueError(f"opening hours: {part!r} ends before it starts")
            days = range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
            spans.extend((d, start, end) for d in days)
        if not spans:
            raise ValueError("opening hours: no days given")
        return cls(tuple(spans), tz)

    def open_at(self, now: datetime) -> bool:
        """Whether advisors answer at ``now``."""
        local = now.astimezone(self.zone)
        return any(d == local.weekday() and s <= local.time() < e for d, s, e in self.spans)

    def next_opening(self, now: datetime) -> datetime | None:
        """When advisors next answer after ``now`` (in the bank's zone), None if never."""
        local = now.astimezone(self.zone)
        for ahead in range(8):
            day: date = (local + timedelta(days=ahead)).date()
            for d, start, _ in sorted(self.spans, key=lambda s: s[1]):
                at = datetime.combine(day, start, tzinfo=self.zone)
                if d == day.weekday() and at > local:
                    return at
        return None

    def describe(self) -> str:
        """The hours in words: "Mon-Fri 08:00-20:00 (America/New_York)"."""
        by_span: dict[tuple[time, time], list[int]] = {}
        for d, s, e in self.spans:
            by_span.setdefault((s, e), []).append(d)
        parts = []
        for (s, e), days in by_span.items():
            if len(days) == 7 and s == time(0) and e == time.max:
                return "round the clock"
            names = [_DAYS[d].title() for d in sorted(days)]
            label = f"{names[0]}-{names[-1]}" if len(names) > 2 else "/".join(names)
            parts.append(f"{label} {s:%H:%M}-{'24:00' if e == time.max else f'{e:%H:%M}'}")
        return f"{', '.join(parts)} ({self.zone.key})"


def _clock(text: str) -> time:
    hours, minutes = (int(x) for x in text.split(":"))
    if hours == 24 and minutes == 0:
        return time.max
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ValueError(f"opening hours: {text!r} is no time of day")
    return time(hours, minutes)
