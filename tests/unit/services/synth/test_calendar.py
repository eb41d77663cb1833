import calendar
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.synth.calendar import add_months, next_monthly, pay_dates, previous_business_day

FAST = settings(max_examples=200, deadline=None)
FRIDAY, SATURDAY, SUNDAY = 4, 5, 6
STEP = {"weekly": 7, "biweekly": 14}

days = st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 31))


def _last_day(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


# --- weekly and bi-weekly ---------------------------------------------------------------------


@FAST
@given(
    cadence=st.sampled_from(["weekly", "biweekly"]),
    start=days,
    span=st.integers(0, 400),
    # Anchors far before start, inside the window, and well after its end.
    anchor_offset=st.integers(-5000, 5000),
)
def test_periodic_pay_dates_are_evenly_spaced_in_window(
    cadence: str, start: date, span: int, anchor_offset: int
) -> None:
    end = start + timedelta(days=span)
    anchor = start + timedelta(days=anchor_offset)
    step = STEP[cadence]
    out = pay_dates(cadence, start, end, anchor=anchor)

    assert all(start <= d <= end for d in out)
    assert all((b - a).days == step for a, b in zip(out, out[1:], strict=False))
    assert all(d.weekday() == anchor.weekday() for d in out)
    assert all((d - anchor).days % step == 0 for d in out)  # in phase with the anchor
    # Complete: no in-phase payday is missing at either end of the window.
    if out:
        assert out[0] - timedelta(days=step) < start
        assert out[-1] + timedelta(days=step) > end
    else:
        first_on_or_after = start + timedelta(days=(anchor - start).days % step)
        assert first_on_or_after > end


@FAST
@given(cadence=st.sampled_from(["weekly", "biweekly"]), start=days, span=st.integers(0, 400))
def test_periodic_pay_without_anchor_falls_on_fridays(cadence: str, start: date, span: int) -> None:
    end = start + timedelta(days=span)
    out = pay_dates(cadence, start, end)
    assert all(d.weekday() == FRIDAY for d in out)
    assert all(start <= d <= end for d in out)
    assert all((b - a).days == STEP[cadence] for a, b in zip(out, out[1:], strict=False))
    if span >= 6:  # every 7-day window holds a Friday
        assert out
        assert (out[0] - start).days < 7


def test_biweekly_example_with_anchor_after_end() -> None:
    # Anchor is a Friday months after the window; paydays are still in phase with it.
    out = pay_dates("biweekly", date(2026, 1, 1), date(2026, 2, 28), anchor=date(2026, 6, 19))
    assert out == [
        date(2026, 1, 2),
        date(2026, 1, 16),
        date(2026, 1, 30),
        date(2026, 2, 13),
        date(2026, 2, 27),
    ]


def test_weekly_example_with_anchor_long_before_start() -> None:
    out = pay_dates("weekly", date(2026, 3, 1), date(2026, 3, 20), anchor=date(2019, 1, 4))
    assert out == [date(2026, 3, 6), date(2026, 3, 13), date(2026, 3, 20)]


def test_anchor_on_start_and_end_are_included() -> None:
    start, end = date(2026, 1, 2), date(2026, 1, 30)
    assert pay_dates("biweekly", start, end, anchor=start) == [
        date(2026, 1, 2),
        date(2026, 1, 16),
        date(2026, 1, 30),
    ]


# --- semimonthly ------------------------------------------------------------------------------


def test_semimonthly_pays_on_15th_and_last_day_moved_back_off_weekends() -> None:
    # 2026-02-15 is a Sunday, 2026-02-28 a Saturday; 2026-05-31 a Sunday; 2026-08-15 a Saturday.
    out = pay_dates("semimonthly", date(2026, 1, 1), date(2026, 8, 31))
    assert out == [
        date(2026, 1, 15),
        date(2026, 1, 30),  # Jan 31 is a Saturday
        date(2026, 2, 13),
        date(2026, 2, 27),
        date(2026, 3, 13),
        date(2026, 3, 31),  # Mar 15 is a Sunday
        date(2026, 4, 15),
        date(2026, 4, 30),
        date(2026, 5, 15),
        date(2026, 5, 29),
        date(2026, 6, 15),
        date(2026, 6, 30),
        date(2026, 7, 15),
        date(2026, 7, 31),
        date(2026, 8, 14),
        date(2026, 8, 31),
    ]


def test_semimonthly_handles_leap_february() -> None:
    out = pay_dates("semimonthly", date(2024, 2, 1), date(2024, 2, 29))
    assert out == [date(2024, 2, 15), date(2024, 2, 29)]  # both Thursdays


def test_semimonthly_drops_paydays_moved_before_start() -> None:
    # The 15th of Aug 2026 is a Saturday: payday is Friday the 14th, outside the window.
    assert pay_dates("semimonthly", date(2026, 8, 15), date(2026, 8, 30)) == []


@FAST
@given(start=days, span=st.integers(0, 200))
def test_semimonthly_properties(start: date, span: int) -> None:
    end = start + timedelta(days=span)
    out = pay_dates("semimonthly", start, end)
    assert out == sorted(set(out))
    for d in out:
        assert start <= d <= end
        assert d.weekday() < SATURDAY
        nominal = {d.replace(day=15), _last_day(d)}
        assert any(previous_business_day(n) == d for n in nominal)


# --- monthly ----------------------------------------------------------------------------------


def test_monthly_moves_weekend_paydays_to_the_friday_before() -> None:
    # 2026: Feb 1 Sunday, Mar 1 Sunday, Apr 1 Wednesday.
    out = pay_dates("monthly", date(2026, 1, 1), date(2026, 4, 30), day=1)
    # February's payday (Sunday the 1st) is paid on Friday 30 January.
    assert out == [date(2026, 1, 1), date(2026, 1, 30), date(2026, 2, 27), date(2026, 4, 1)]


def test_monthly_clips_day_31_to_month_length() -> None:
    out = pay_dates("monthly", date(2026, 1, 1), date(2026, 6, 30), day=31)
    assert out == [
        date(2026, 1, 30),  # Jan 31 is a Saturday
        date(2026, 2, 27),  # Feb 28 is a Saturday
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 29),  # May 31 is a Sunday
        date(2026, 6, 30),
    ]


def test_monthly_leap_year_february_day_30() -> None:
    assert pay_dates("monthly", date(2024, 2, 1), date(2024, 2, 29), day=30) == [date(2024, 2, 29)]


@FAST
@given(start=days, span=st.integers(0, 400), day=st.integers(1, 31))
def test_monthly_properties(start: date, span: int, day: int) -> None:
    end = start + timedelta(days=span)
    out = pay_dates("monthly", start, end, day=day)
    assert out == sorted(set(out))
    for d in out:
        assert start <= d <= end
        assert d.weekday() < SATURDAY
        # The nominal payday is in this month, or early next month and moved back over a weekend.
        candidates = [d.replace(day=1), add_months(d.replace(day=1), 1)]
        nominal = [m.replace(day=min(day, _last_day(m).day)) for m in candidates]
        assert any(previous_business_day(n) == d for n in nominal)


def test_monthly_includes_next_months_payday_moved_back_into_the_window() -> None:
    # 1 Feb 2026 is a Sunday: February's day-1 salary is paid on Friday 30 January.
    whole = pay_dates("monthly", date(2026, 1, 1), date(2026, 2, 28), day=1)
    assert date(2026, 1, 30) in whole
    assert pay_dates("monthly", date(2026, 1, 1), date(2026, 1, 31), day=1) == [
        date(2026, 1, 1),
        date(2026, 1, 30),
    ]


@FAST
@given(
    cadence=st.sampled_from(["weekly", "biweekly", "semimonthly", "monthly"]),
    start=days,
    first_span=st.integers(0, 200),
    second_span=st.integers(0, 200),
    day=st.integers(1, 31),
    anchor_offset=st.integers(-500, 500),
)
def test_splitting_the_window_does_not_change_paydays(
    cadence: str, start: date, first_span: int, second_span: int, day: int, anchor_offset: int
) -> None:
    mid = start + timedelta(days=first_span)
    end = mid + timedelta(days=1 + second_span)
    anchor = start + timedelta(days=anchor_offset)
    whole = pay_dates(cadence, start, end, anchor=anchor, day=day)
    before = pay_dates(cadence, start, mid, anchor=anchor, day=day)
    after = pay_dates(cadence, mid + timedelta(days=1), end, anchor=anchor, day=day)
    assert whole == before + after


# --- irregular and unknown ---------------------------------------------------------------------


def test_irregular_is_deterministic_for_a_seed_and_stays_in_window() -> None:
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    first = pay_dates("irregular", start, end, rng=np.random.default_rng(7))
    again = pay_dates("irregular", start, end, rng=np.random.default_rng(7))
    other = pay_dates("irregular", start, end, rng=np.random.default_rng(8))
    assert first == again
    assert first != other
    assert first == sorted(set(first))
    assert all(start <= d <= end for d in first)
    assert 20 < len(first) < 200  # gig payouts: roughly one and a half a week


def test_irregular_needs_randomness() -> None:
    with pytest.raises(AssertionError, match="randomness"):
        pay_dates("irregular", date(2026, 1, 1), date(2026, 1, 31))


@pytest.mark.parametrize("cadence", ["fortnightly", "", "Weekly", "daily"])
def test_unknown_cadence_raises(cadence: str) -> None:
    with pytest.raises(ValueError, match="unknown pay cadence"):
        pay_dates(cadence, date(2026, 1, 1), date(2026, 1, 31))


# --- month arithmetic and business days ---------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
        (date(2026, 5, 31), 13, date(2027, 6, 30)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2026, 7, 4), 0, date(2026, 7, 4)),
    ],
)
def test_add_months_examples(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@FAST
@given(day=days, months=st.integers(-240, 240))
def test_add_months_moves_whole_months_and_clips(day: date, months: int) -> None:
    out = add_months(day, months)
    assert (out.year * 12 + out.month) - (day.year * 12 + day.month) == months
    assert out.day == min(day.day, calendar.monthrange(out.year, out.month)[1])


@pytest.mark.parametrize(
    ("after", "day", "expected"),
    [
        (date(2026, 1, 10), 15, date(2026, 1, 15)),
        (date(2026, 1, 15), 15, date(2026, 2, 15)),  # strictly after
        (date(2026, 1, 20), 15, date(2026, 2, 15)),
        (date(2026, 1, 31), 31, date(2026, 2, 28)),
        (date(2026, 2, 28), 30, date(2026, 3, 30)),  # Feb's clipped 30th is today, not after
        (date(2026, 12, 31), 1, date(2027, 1, 1)),
    ],
)
def test_next_monthly_examples(after: date, day: int, expected: date) -> None:
    assert next_monthly(after, day) == expected


@FAST
@given(after=days, day=st.integers(1, 31))
def test_next_monthly_is_the_first_matching_date_strictly_after(after: date, day: int) -> None:
    out = next_monthly(after, day)
    assert out > after
    assert out.day == min(day, calendar.monthrange(out.year, out.month)[1])
    # No matching date lies strictly between ``after`` and the answer.
    gap_months = (out.year * 12 + out.month) - (after.year * 12 + after.month)
    assert gap_months in (0, 1)
    if gap_months == 1:
        this_month = after.replace(day=min(day, calendar.monthrange(after.year, after.month)[1]))
        assert this_month <= after


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 3, 6), date(2026, 3, 6)),  # Friday
        (date(2026, 3, 7), date(2026, 3, 6)),  # Saturday
        (date(2026, 3, 8), date(2026, 3, 6)),  # Sunday
        (date(2026, 3, 9), date(2026, 3, 9)),  # Monday
        (date(2026, 8, 1), date(2026, 7, 31)),  # Saturday back across a month end
    ],
)
def test_previous_business_day_examples(day: date, expected: date) -> None:
    assert previous_business_day(day) == expected


@FAST
@given(days)
def test_previous_business_day_is_the_latest_weekday_not_after(day: date) -> None:
    out = previous_business_day(day)
    assert out <= day
    assert out.weekday() < SATURDAY
    assert (day - out).days <= 2
    skipped = [out + timedelta(days=k) for k in range(1, (day - out).days + 1)]
    assert all(d.weekday() >= SATURDAY for d in skipped)
