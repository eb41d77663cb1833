"""Where a balance is heading: a checking account this week, a small business's cash this season.

Balance Watch (as Erica does it) projects a checking account seven days ahead from its bills and
the customer's everyday spending; the business forecast projects two months of takings and costs.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from services.insights import Insight
from services.insights.common import make, median, ref
from services.insights.history import AccountRow, History
from services.spending import MONEY_MOVES, OWN_ACCOUNT_MOVES

# --- balance forecast (Balance Watch) -----------------------------------------------------
FORECAST_DAYS = 7
SPEND_DAYS = 56  # typical spending: the median day of the last eight weeks
STEP = {"weekly": 7, "biweekly": 14, "semimonthly": 15}
PERSONAL_CHECKING = frozenset({"checking"})


def _dates(first: date, cadence: str | None, until: date) -> list[date]:
    """``first`` and its repeats up to ``until`` (monthly: the same day, the 28th at most)."""
    out, when, n = [], first, 0
    while when <= until:
        out.append(when)
        n += 1
        if cadence in STEP:
            when = first + timedelta(days=STEP[cadence] * n)
        elif cadence == "monthly":
            month = first.month - 1 + n
            year, month = first.year + month // 12, month % 12 + 1
            when = first.replace(year=year, month=month, day=min(first.day, 28))
        else:
            break
    return out


def expected_flows(
    history: History, account: AccountRow, today: date, days: int
) -> dict[int, list[tuple[int, str]]]:
    """Known money in and out of ``account`` per day ahead (1..days): (amount, evidence).

    Bills land on their due date; money coming in is counted a day late, because a payday can
    slip and a shortfall found a day early is better than one found a day late.
    """
    flows: dict[int, list[tuple[int, str]]] = defaultdict(list)
    until = today + timedelta(days=days)

    def add(when: date, amount: int, evidence: str) -> None:
        offset = (when - today).days + (1 if amount > 0 else 0)
        if 1 <= offset <= days:
            flows[offset].append((amount, evidence))

    for s in history.series:
        if s.active and s.account_id == account.id and s.next_date is not None:
            for when in _dates(s.next_date, s.cadence, until):
                add(when, s.amount_minor, ref(s))
    own = {a.id for a in history.accounts}
    for t in history.transfers:
        # A transfer between the customer's own accounts is declined, not overdrawn, when the
        # money is not there, so it never takes the balance below zero.
        if not t.active or t.next_date is None or t.to_account_id in own:
            continue
        for when in _dates(t.next_date, t.cadence, until):
            if t.from_account_id == account.id:
                add(when, -t.amount_minor, ref(t))
    return flows


def typical_daily_spend(history: History, account: AccountRow, now: datetime) -> int:
    """Everyday spending from ``account`` on a typical day: the median day of the last eight weeks.

    Bills on a schedule are already in the forecast, and a median is not moved by one big
    shopping day.
    """
    start = now - timedelta(days=SPEND_DAYS)
    days = [0] * SPEND_DAYS
    for e in history.entries:
        if (
            e.account_id == account.id
            and e.amount_minor < 0
            and e.booked_at >= start
            and e.recurring_id is None
            and e.category not in MONEY_MOVES
        ):
            days[min(SPEND_DAYS - 1, (e.booked_at - start).days)] -= e.amount_minor
    return round(median(days))


def low_balance_forecast(history: History, now: datetime) -> list[Insight]:
    """A checking account whose balance could fall below zero within seven days."""
    today, out = now.date(), []
    for a in history.accounts:
        if a.type not in PERSONAL_CHECKING or a.status != "open":
            continue
        flows = expected_flows(history, a, today, FORECAST_DAYS)
        daily = typical_daily_spend(history, a, now)
        balance, low, low_day, evidence, bills = a.balance_minor, a.balance_minor, 0, [], []
        for day in range(1, FORECAST_DAYS + 1):
            # Within a day money goes out before it comes in: posting order is not promised.
            balance += sum(amount for amount, _ in flows[day] if amount < 0) - daily
            bills += [ev for amount, ev in flows[day] if amount < 0]
            if balance < low:
                low, low_day, evidence = balance, day, list(bills)
            balance += sum(amount for amount, _ in flows[day] if amount > 0)
        # Already overdrawn with no bill coming is the overdraft alert's business, not a forecast.
        if low >= 0 or low_day == 0 or (a.balance_minor < 0 and not evidence):
            continue
        when = today + timedelta(days=low_day)
        out.append(
            make(
                "low_balance_forecast",
                "critical" if a.balance_minor < 0 or low_day <= 2 else "warning",
                f"Your {a.name} balance of {history.money(a.balance_minor, a.currency)} could fall "
                f"to {history.money(low, a.currency)} by {when:%b %d} with the bills due and your "
                f"usual spending of about {history.money(daily, a.currency)} a day.",
                [ref(a), *dict.fromkeys(evidence)],
                now,
                account_id=a.id,
                balance_minor=a.balance_minor,
                low_minor=low,
                low_on=when.isoformat(),
                daily_spend_minor=daily,
                currency=a.currency,
            )
        )
    return out


# --- small-business cash-flow shortfall ---------------------------------------------------
# A short cash-flow forecast for a business account, as a relationship manager would sketch it:
# takings continue on their trend (a straight line through the last three months' takings, so
# a business whose sales are falling is projected to keep falling, but never below nothing),
# and money goes out at the average daily pace of the last three months (payroll, rent,
# suppliers, the owner's draw). A shortfall is a projected balance below zero within 60 days.
CASH_MONTHS = 3
CASH_MONTH_DAYS = 30
SHORTFALL_DAYS = 60
MIN_HISTORY_DAYS = 60  # the account must have been active this long before the trend counts


def cash_forecast(history: History, account_id: int, now: datetime) -> tuple[list[int], int, int]:
    """Takings per month (oldest first), the daily pace of money out, and the days of history."""
    start = now - timedelta(days=CASH_MONTHS * CASH_MONTH_DAYS)
    takings = [0] * CASH_MONTHS
    spent, first = 0, None
    for e in history.entries:
        if e.account_id != account_id:
            continue
        first = first or e.booked_at
        if e.booked_at < start:
            continue
        if e.amount_minor > 0 and e.category not in OWN_ACCOUNT_MOVES:
            takings[min(CASH_MONTHS - 1, (e.booked_at - start).days // CASH_MONTH_DAYS)] += (
                e.amount_minor
            )
        elif e.amount_minor < 0:
            spent -= e.amount_minor
    days = (now - first).days if first else 0
    return takings, round(spent / (CASH_MONTHS * CASH_MONTH_DAYS)), days


def business_cash_shortfall(history: History, now: datetime) -> list[Insight]:
    """A business account whose cash-flow forecast goes below zero within 60 days."""
    out = []
    for a in history.accounts:
        if a.type != "business_checking" or a.status != "open":
            continue
        takings, burn, days = cash_forecast(history, a.id, now)
        if days < MIN_HISTORY_DAYS:
            continue
        # Least-squares line through the monthly takings, centred on the middle month.
        mid = (CASH_MONTHS - 1) / 2
        mean = sum(takings) / CASH_MONTHS
        slope = sum((m - mid) * (t - mean) for m, t in enumerate(takings)) / sum(
            (m - mid) ** 2 for m in range(CASH_MONTHS)
        )
        balance, empty_on = a.balance_minor, None
        for day in range(1, SHORTFALL_DAYS + 1):
            month = CASH_MONTHS - 0.5 + day / CASH_MONTH_DAYS  # on the axis of the months above
            balance += round(max(0.0, mean + slope * (month - mid)) / CASH_MONTH_DAYS)
            balance -= burn
            if balance < 0 and empty_on is None:
                empty_on = day
        if empty_on is None:
            continue
        out.append(
            make(
                "business_cash_shortfall",
                "critical" if empty_on <= 30 else "warning",
                f"Your {a.name} takings have moved from {history.money(takings[0], a.currency)} to "
                f"{history.money(takings[-1], a.currency)} a month while about "
                f"{history.money(burn * CASH_MONTH_DAYS, a.currency)} a month goes out; at this "
                "pace "
                f"its balance of {history.money(a.balance_minor, a.currency)} runs out in about "
                f"{empty_on} days.",
                [ref(a)],
                now,
                account_id=a.id,
                balance_minor=a.balance_minor,
                takings_minor=takings,
                monthly_out_minor=burn * CASH_MONTH_DAYS,
                days_left=empty_on,
                projected_minor=balance,
                currency=a.currency,
            )
        )
    return out
