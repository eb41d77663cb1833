"""The bank's write operations, called by the chat's tools after the customer confirms.

Every operation takes a SQLAlchemy ``Connection`` in a transaction the caller commits
(``with engine.begin() as conn``) and keyword-only arguments: first ``person_id`` (the
authenticated customer, from the caller, never from the model), then the request, then
``idempotency_key`` and ``now`` (aware; stored in UTC). Rules shared by all of them:

- Ownership: an id that is not this customer's raises :class:`NotFound` with the same message
  as an id that does not exist.
- Refusals raise :class:`Refused` with a customer-facing ``reason``; nothing changes.
- Money is conserved: every balance change is a ledger row in the same transaction.
- Idempotency: the same key with the same request returns the stored result (``replayed``)
  and runs nothing; with a different request it raises :class:`IdempotencyConflict`. Keys
  are per customer, kept at least 24 hours (30 days by default; ``purge_write_requests``).
- Every successful write appends an audit-log row.
- Limits: debits need the balance (overdraft is not used); outgoing transfers and payments
  are limited to :data:`DAILY_LIMIT_MINOR` per customer per currency per UTC day.

The work is split by subject: ``banking_money`` (transfers, payments), ``banking_schedule``
(scheduled payments, savings rules), ``banking_cards`` (cards, disputes), ``banking_goals``,
``banking_requests`` (preferences, offers, advisor cases), ``refunds`` (a fee refunded on an
advisor's decision, never from the customer's chat), ``banking_rules`` (checks, booking,
wording), ``banking_core`` (errors, results, idempotency, audit) and ``banking_retention`` (how
long idempotency keys are kept).
"""

from __future__ import annotations

from services.banking.cards import (
    DISPUTE_WINDOW_DAYS,
    REPLACE_REASONS,
    dispute_transaction,
    freeze_card,
    replace_card,
    unfreeze_card,
)
from services.banking.core import (
    BankingError,
    IdempotencyConflict,
    NotFound,
    Refused,
    WriteResult,
)
from services.banking.goals import create_goal, update_goal
from services.banking.requests import (
    CHANNELS,
    OFFER_RESPONSES,
    open_handoff,
    respond_to_offer,
    set_preference,
)
from services.banking.retention import (
    DEFAULT_RETENTION,
    MIN_RETENTION,
    purge_write_requests,
)
from services.banking.rules import DAILY_LIMIT_MINOR, sent_today
from services.banking.schedule import (
    CADENCES,
    RULE_CADENCES,
    cancel_scheduled,
    create_savings_rule,
    schedule_payment,
)
from services.banking.transfers import pay_card_bill, pay_payee, transfer

__all__ = [
    "CADENCES",
    "CHANNELS",
    "DAILY_LIMIT_MINOR",
    "DEFAULT_RETENTION",
    "DISPUTE_WINDOW_DAYS",
    "MIN_RETENTION",
    "OFFER_RESPONSES",
    "REPLACE_REASONS",
    "RULE_CADENCES",
    "BankingError",
    "IdempotencyConflict",
    "NotFound",
    "Refused",
    "WriteResult",
    "cancel_scheduled",
    "create_goal",
    "create_savings_rule",
    "dispute_transaction",
    "freeze_card",
    "open_handoff",
    "pay_card_bill",
    "pay_payee",
    "purge_write_requests",
    "replace_card",
    "respond_to_offer",
    "schedule_payment",
    "sent_today",
    "set_preference",
    "transfer",
    "unfreeze_card",
    "update_goal",
]
