"""What counts as the customer's own spending: the one definition every spending figure uses.

The spending summary and the dashboard, the profile, the feature store, the decision vector's live
deltas and the insight detectors all ask this module, so "spending" means the same thing on every
screen and in every answer. A debit is **personal spending** unless it is

* money moving between the customer's own accounts (``transfer``): savings moves, paying the
  bank's own credit card, loan and mortgage repayments;
* money moving to the customer's accounts at other banks (``transfer_out``);
* income or interest (``income``, ``interest``, a business's ``sales``): interest charged on a
  loan or card is the price of borrowing, reported with the loan, not a purchase;
* a business's outgoings: anything debited from a business account, and payroll or supplier
  payments wherever they are booked. These are reported on their own, as business outgoings.

Card purchases, bills, rent, subscriptions, cash withdrawals, payments to other people and the
bank's fees are spending. Refunds and other credits do not net against it.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, or_

# Between the customer's own accounts: neither spending nor income.
OWN_ACCOUNT_MOVES = frozenset({"transfer"})
# To the customer's own accounts at another bank: money leaving the bank, not being spent.
TRANSFERS_OUT = frozenset({"transfer_out"})
MONEY_MOVES = OWN_ACCOUNT_MOVES | TRANSFERS_OUT
INCOME = frozenset({"income"})
# Money coming in, and interest either way.
EARNINGS = INCOME | {"interest", "sales"}
# A business's costs, whichever account pays them.
BUSINESS_CATEGORIES = frozenset({"payroll", "supplies"})
BUSINESS_ACCOUNT_TYPES = frozenset({"business_checking"})
# Categories that are never personal spending, on any account.
NOT_SPENDING = MONEY_MOVES | EARNINGS | BUSINESS_CATEGORIES
# Never a purchase the customer chose at a till: besides what is not spending, the bank's own
# charges, housing and loan payments (the large-purchase detector looks only at purchases).
NOT_PURCHASE = NOT_SPENDING | {"fees", "housing", "loan"}

Flow = Literal["spending", "business", "move_out", "own_move", "income", "other"]


def is_business(category: str, account_type: str | None = None) -> bool:
    """Whether money booked under ``category`` on an ``account_type`` account is the business's."""
    return account_type in BUSINESS_ACCOUNT_TYPES or category in BUSINESS_CATEGORIES


def flow_of(category: str, amount_minor: int, account_type: str | None = None) -> Flow:
    """What one ledger entry is, for the money figures.

    ``spending`` and ``business`` are debits the customer (or their business) paid out;
    ``move_out`` is money sent to another bank; ``own_move`` a move between the customer's own
    accounts; ``income`` income credited; ``other`` everything else (interest, refunds, other
    credits), which no money figure counts.
    """
    if category in OWN_ACCOUNT_MOVES:
        return "own_move"
    if amount_minor > 0:
        return "income" if category in INCOME else "other"
    if amount_minor == 0 or category in EARNINGS:
        return "other"
    if category in TRANSFERS_OUT:
        return "move_out"
    return "business" if is_business(category, account_type) else "spending"


def is_spending(category: str, amount_minor: int, account_type: str | None = None) -> bool:
    """Whether an entry is the customer's personal spending."""
    return flow_of(category, amount_minor, account_type) == "spending"


def is_business_outgoing(category: str, amount_minor: int, account_type: str | None = None) -> bool:
    """Whether an entry is one of a business's outgoings (payroll, suppliers, its rent...)."""
    return flow_of(category, amount_minor, account_type) == "business"


def spending_where(category: Any, account_type: Any) -> ColumnElement[bool]:
    """SQL condition for personal spending, over a ledger category and its account's type.

    The caller adds ``amount < 0``; ``account_type`` may be NULL (an unknown account counts as a
    personal one).
    """
    return and_(
        category.not_in(sorted(NOT_SPENDING)),
        or_(account_type.is_(None), account_type.not_in(sorted(BUSINESS_ACCOUNT_TYPES))),
    )


def business_where(category: Any, account_type: Any) -> ColumnElement[bool]:
    """SQL condition for a business's outgoings; the caller adds ``amount < 0``."""
    return and_(
        category.not_in(sorted(MONEY_MOVES | EARNINGS)),
        or_(
            category.in_(sorted(BUSINESS_CATEGORIES)),
            account_type.in_(sorted(BUSINESS_ACCOUNT_TYPES)),
        ),
    )
