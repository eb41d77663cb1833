"""The bank's system of record (SQLModel).

Conventions: money is integer minor units (``*_minor``) beside a currency code; times are
timezone-aware UTC (SQLModel's ``UTCDateTime``); kinds are short strings validated by the
enums below (kept as text so every backend stores them the same way). Tables follow the
Base / Create / Public / table split where an API needs it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class AccountType(StrEnum):
    """Every kind of account a retail and small-business bank holds."""

    checking = "checking"
    savings = "savings"
    credit_card = "credit_card"
    term_deposit = "term_deposit"
    mortgage = "mortgage"
    personal_loan = "personal_loan"
    line_of_credit = "line_of_credit"
    investment = "investment"
    business_checking = "business_checking"


DEPOSIT_TYPES = frozenset(
    {AccountType.checking, AccountType.savings, AccountType.business_checking}
)
LIABILITY_TYPES = frozenset(
    {
        AccountType.credit_card,
        AccountType.mortgage,
        AccountType.personal_loan,
        AccountType.line_of_credit,
    }
)


class CardStatus(StrEnum):
    """A card's life: active, frozen by the customer, blocked as lost/stolen, replaced."""

    active = "active"
    frozen = "frozen"
    lost = "lost"
    stolen = "stolen"
    replaced = "replaced"


class Cadence(StrEnum):
    """How often a recurring series or scheduled transfer repeats."""

    weekly = "weekly"
    biweekly = "biweekly"
    semimonthly = "semimonthly"
    monthly = "monthly"
    quarterly = "quarterly"
    annual = "annual"
    irregular = "irregular"
    payday = "payday"


class SourceSystem(StrEnum):
    """The bank's systems that know a person under their own key."""

    core_banking = "core_banking"
    crm = "crm"
    digital = "digital"


def money_column() -> Any:
    """A non-null 64-bit integer column for minor units."""
    return Field(default=0, sa_type=BigInteger)


# --- people -------------------------------------------------------------------------------


class PersonBase(SQLModel):
    """Who a customer is, as the bank knows them."""

    full_name: str = Field(max_length=200)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    date_of_birth: date | None = None
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    address_line: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str = Field(default="US", max_length=2)
    segment: str = Field(default="retail", max_length=40)
    is_business: bool = False
    customer_since: date | None = None


class Person(PersonBase, table=True):
    """A person (or sole-trader business owner) with everything else hanging off them."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    # A one-way hash of the national id (and its last four digits) for identity resolution;
    # kept off PersonBase so no API model ever returns them.
    national_id_hash: str | None = Field(default=None, max_length=64, index=True)
    national_id_last4: str | None = Field(default=None, max_length=4)


class PersonCreate(PersonBase):
    """What it takes to open a customer record."""


class PersonPublic(SQLModel):
    """A customer's own profile as returned by the API.

    Everything the customer told the bank, and nothing the bank concluded about them: the
    marketing ``segment`` is the bank's, and stays off every customer surface.
    """

    id: int
    full_name: str
    first_name: str
    last_name: str
    date_of_birth: date | None = None
    email: str | None = None
    phone: str | None = None
    address_line: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country: str = "US"
    is_business: bool = False
    customer_since: date | None = None


class SourceIdentity(SQLModel, table=True):
    """The key under which one system knows a person."""

    __tablename__ = "source_identity"
    __table_args__ = (UniqueConstraint("system", "source_key"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    system: str = Field(max_length=30)
    source_key: str = Field(max_length=100)


class Credential(SQLModel, table=True):
    """A customer's sign-in: username and an scrypt password hash (never the password)."""

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    username: str = Field(max_length=200, unique=True)
    password_hash: str = Field(max_length=300)


class AdvisorBase(SQLModel):
    """A call-centre or branch advisor who serves customers."""

    username: str = Field(max_length=200, unique=True)
    display_name: str = Field(max_length=200)


class Advisor(AdvisorBase, table=True):
    """An advisor's sign-in: an scrypt password hash, never the password."""

    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=300)


class AdvisorCreate(AdvisorBase):
    """What it takes to add an advisor (the password is hashed before it is stored)."""

    password: str = Field(min_length=8, max_length=1024)


class AdvisorPublic(AdvisorBase):
    """An advisor as the API shows them."""

    id: int


# --- accounts -----------------------------------------------------------------------------


class AccountBase(SQLModel):
    """An account of any type; type-specific fields are null where they do not apply."""

    type: str = Field(max_length=30)
    name: str = Field(max_length=100)
    number: str = Field(max_length=34, unique=True)
    currency: str = Field(default="USD", max_length=3)
    balance_minor: int = money_column()
    status: str = Field(default="open", max_length=20)
    opened_on: date
    credit_limit_minor: int | None = Field(default=None, sa_type=BigInteger)
    overdraft_limit_minor: int = money_column()
    interest_rate_bps: int | None = None
    maturity_date: date | None = None
    term_months: int | None = None
    risk_tolerance: str | None = Field(default=None, max_length=20)
    target_allocation: dict[str, int] | None = Field(default=None, sa_column=Column(JSON))


class Account(AccountBase, table=True):
    """An account owned by one person."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)


class AccountPublic(AccountBase):
    """An account as its owner sees it."""

    id: int


class Holding(SQLModel, table=True):
    """A position in an investment account; value in minor units at the last price."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    symbol: str = Field(max_length=20)
    asset_class: str = Field(max_length=20)  # equity | bond | cash
    quantity_milli: int = Field(sa_type=BigInteger)
    market_value_minor: int = money_column()


class LedgerEntry(SQLModel, table=True):
    """One booked transaction on an account (negative = money out)."""

    __tablename__ = "ledger_entry"
    __table_args__ = (Index("ix_ledger_account_booked", "account_id", "booked_at"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    booked_at: datetime
    amount_minor: int = money_column()
    currency: str = Field(default="USD", max_length=3)
    merchant: str | None = Field(default=None, max_length=100)
    category: str = Field(max_length=40)
    channel: str = Field(
        max_length=20
    )  # card | ach | transfer | atm | check | wire | fee | interest
    counterparty: str | None = Field(default=None, max_length=100)
    description: str = Field(default="", max_length=200)
    balance_after_minor: int = money_column()
    recurring_id: int | None = Field(default=None, foreign_key="recurring_series.id")
    # The source system's id for this transaction (ingestion is idempotent on it).
    source_ref: str | None = Field(default=None, max_length=64, unique=True)


class Payee(SQLModel, table=True):
    """Someone the customer pays: a biller or another person."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    name: str = Field(max_length=100)
    kind: str = Field(max_length=20)  # biller | person
    account_number: str = Field(max_length=34)


class RecurringSeries(SQLModel, table=True):
    """A salary, bill, rent or subscription that repeats on a cadence."""

    __tablename__ = "recurring_series"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    account_id: int = Field(foreign_key="account.id")
    kind: str = Field(max_length=20)  # salary | rent | mortgage | bill | subscription | loan
    merchant: str = Field(max_length=100)
    category: str = Field(max_length=40)
    amount_minor: int = money_column()  # the latest amount (signed)
    currency: str = Field(default="USD", max_length=3)
    cadence: str = Field(max_length=20)
    day: int | None = None  # day of month or weekday (0 = Monday) the series lands on
    started_on: date
    next_date: date | None = None
    ends_on: date | None = None  # e.g. a lease's end
    active: bool = True


class Card(SQLModel, table=True):
    """A debit or credit card on an account."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    account_id: int = Field(foreign_key="account.id")
    type: str = Field(max_length=10)  # debit | credit
    last4: str = Field(max_length=4)
    status: str = Field(default=CardStatus.active, max_length=10)
    expires_on: date
    replaced_by_id: int | None = Field(default=None, foreign_key="card.id")


class SavingsGoal(SQLModel, table=True):
    """Money put aside towards a named target."""

    __tablename__ = "savings_goal"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    account_id: int | None = Field(default=None, foreign_key="account.id")
    name: str = Field(max_length=100)
    target_minor: int = money_column()
    saved_minor: int = money_column()
    currency: str = Field(default="USD", max_length=3)
    target_date: date | None = None


class ScheduledTransfer(SQLModel, table=True):
    """A future or repeating movement of money, including savings rules ("every payday")."""

    __tablename__ = "scheduled_transfer"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    from_account_id: int = Field(foreign_key="account.id")
    to_account_id: int | None = Field(default=None, foreign_key="account.id")
    payee_id: int | None = Field(default=None, foreign_key="payee.id")
    amount_minor: int = money_column()
    currency: str = Field(default="USD", max_length=3)
    kind: str = Field(max_length=20)  # one_off | recurring | savings_rule
    cadence: str | None = Field(default=None, max_length=20)
    next_date: date | None = None
    active: bool = True


# --- digital, contact, offers, audit ------------------------------------------------------


class DigitalEvent(SQLModel, table=True):
    """An app or web event; ``person_id`` is null until the device's user signs in."""

    __tablename__ = "digital_event"
    __table_args__ = (
        Index("ix_event_person_time", "person_id", "occurred_at"),
        # the newest event of a customer (the insight cache's watermark, before every turn):
        # one index step, where the time index would be walked through all their events
        Index("ix_event_person_id", "person_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    device_id: str = Field(max_length=40, index=True)
    session_id: str = Field(max_length=40)
    occurred_at: datetime
    channel: str = Field(max_length=10)  # app | web
    kind: str = Field(max_length=20)  # app_open | login | page_view | search | click | calculator
    page: str | None = Field(default=None, max_length=100)
    detail: str | None = Field(default=None, max_length=200)
    user_id: str | None = Field(default=None, max_length=200)  # the online-banking login, if any
    source_ref: str | None = Field(default=None, max_length=64, unique=True)


class ContactPreference(SQLModel, table=True):
    """Channels a customer accepts, marketing consent and quiet hours (local time)."""

    __tablename__ = "contact_preference"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    push: bool = True
    email: bool = True
    sms: bool = False
    in_app: bool = True
    marketing_consent: bool = False
    quiet_start: time | None = None
    quiet_end: time | None = None
    timezone: str = Field(default="America/New_York", max_length=50)


class OfferEvent(SQLModel, table=True):
    """An offer the bank showed and how the customer responded."""

    __tablename__ = "offer_event"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    offer_code: str = Field(max_length=50)
    channel: str = Field(max_length=20)
    shown_at: datetime
    response: str = Field(max_length=20)  # accepted | declined | clicked | ignored
    responded_at: datetime | None = None


class AuditLog(SQLModel, table=True):
    """Append-only record of who did what (PCI DSS 10.2.2 fields); triggers forbid changes.

    Rows form a hash chain (``services.audit``), so a change made around the triggers shows.
    """

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    actor: str = Field(max_length=100)
    action: str = Field(max_length=50)
    resource: str = Field(max_length=50)
    resource_id: str | None = Field(default=None, max_length=100)
    outcome: str = Field(max_length=20)  # success | failure | denied
    origin: str | None = Field(default=None, max_length=100)
    detail: str | None = Field(default=None, max_length=500)
    # The hash chain (services.audit): null only on rows written before the chain existed.
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)


class BankMeta(SQLModel, table=True):
    """Facts about the seeded bank itself (seed, as-of date, generator version)."""

    __tablename__ = "bank_meta"

    key: str = Field(primary_key=True, max_length=50)
    value: str = Field(max_length=200)


class CrmContact(SQLModel, table=True):
    """A CRM contact as the CRM holds it, linked to a person by identity resolution."""

    __tablename__ = "crm_contact"

    id: int | None = Field(default=None, primary_key=True)
    contact_id: str = Field(max_length=64, unique=True)
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    street: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    date_of_birth: date | None = None
    national_id_last4: str | None = Field(default=None, max_length=4)
    segment: str | None = Field(default=None, max_length=40)
    notes: list[str] | None = Field(default=None, sa_column=Column(JSON))
    core_customer_id: str | None = Field(default=None, max_length=64)  # a cross-reference
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)


class IngestReject(SQLModel, table=True):
    """A row or event that could not be loaded, with where it came from and why."""

    __tablename__ = "ingest_reject"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=30)
    file: str = Field(max_length=300)
    line: int
    reason: str = Field(max_length=300)
    raw: str = Field(max_length=4000)
    rejected_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


# --- writes the customer asked for ----------------------------------------------------------


class WriteRequest(SQLModel, table=True):
    """One executed customer write, kept so a retried request replays instead of re-running."""

    __tablename__ = "write_request"
    # Keys are per customer: one customer's key can never reach another's result.
    __table_args__ = (UniqueConstraint("person_id", "idempotency_key"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    idempotency_key: str = Field(max_length=100)
    kind: str = Field(max_length=30)
    request_hash: str = Field(max_length=64)
    request: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime


class Dispute(SQLModel, table=True):
    """A customer's challenge of a transaction taken from their account."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    ledger_entry_id: int = Field(foreign_key="ledger_entry.id", unique=True)
    amount_minor: int = money_column()  # as booked (negative)
    currency: str = Field(default="USD", max_length=3)
    reason: str = Field(max_length=200)
    status: str = Field(default="open", max_length=20)  # open | resolved | rejected
    opened_at: datetime


class HandoffCase(SQLModel, table=True):
    """A case handed to a human advisor, with the context so the customer need not repeat it."""

    __tablename__ = "handoff_case"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    reason: str = Field(max_length=100)
    summary: str = Field(max_length=2000)
    status: str = Field(default="open", max_length=20)  # open | assigned | closed
    opened_at: datetime


class LiveHandoff(SQLModel, table=True):
    """A conversation waiting for, or held by, a human advisor in the same chat.

    ``waiting`` in the queue, ``active`` once one advisor claimed it, ``returned`` to the
    assistant, ``closed`` with an outcome, or ``left`` when the customer left a message and
    went (the case stays open for an advisor).
    """

    __tablename__ = "live_handoff"
    __table_args__ = (Index("ix_live_handoff_status_priority", "status", "priority"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    thread: str = Field(max_length=100)  # the customer's own conversation id
    case_id: int | None = Field(default=None, foreign_key="handoff_case.id")
    reason: str = Field(max_length=100)
    priority: int = 0  # 2 suspected fraud, 1 a customer who may need more care, 0 otherwise
    status: str = Field(default="waiting", max_length=20)
    advisor_id: int | None = Field(default=None, foreign_key="advisor.id")
    requested_at: datetime
    claimed_at: datetime | None = None
    ended_at: datetime | None = None
    outcome: str | None = Field(default=None, max_length=100)


class LiveMessage(SQLModel, table=True):
    """One line of a live conversation: said by the customer, an advisor or the system."""

    __tablename__ = "live_message"

    id: int | None = Field(default=None, primary_key=True)
    handoff_id: int = Field(foreign_key="live_handoff.id", index=True)
    author: str = Field(max_length=20)  # customer | advisor | system
    advisor_id: int | None = Field(default=None, foreign_key="advisor.id")
    kind: str = Field(default="text", max_length=20)  # text | joined | returned | closed | left
    text: str = Field(max_length=2000)
    at: datetime


class AssistSuggestion(SQLModel, table=True):
    """What the assistant suggested to the advisor holding a conversation; whether it was used."""

    __tablename__ = "assist_suggestion"

    id: int | None = Field(default=None, primary_key=True)
    handoff_id: int = Field(foreign_key="live_handoff.id", index=True)
    kind: str = Field(max_length=20)  # article | action | draft
    ref: str = Field(max_length=200)
    used: bool = False
    at: datetime


class Notification(SQLModel, table=True):
    """Something the bank tells a customer unprompted: an insight or a due reminder.

    ``dedupe_key`` names the situation (``large_transaction:ledger:123``), so the same insight
    is one notification however often it is detected. ``message_class`` is ``mandatory``
    (bypasses caps and quiet hours), ``service`` or ``marketing`` (needs opt-in). The
    customer's answer (``opened``, ``dismissed``, ``not_helpful``) is kept with it.
    """

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("person_id", "dedupe_key", name="uq_notification_dedupe"),
        Index("ix_notification_person_created", "person_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    kind: str = Field(max_length=40)  # an insight type, or a reminder kind
    message_class: str = Field(max_length=20)  # mandatory | service | marketing
    dedupe_key: str = Field(max_length=200)
    title: str = Field(max_length=200)
    body: str = Field(max_length=1000)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    source: str = Field(max_length=100)  # the event id or scheduler run that produced it
    created_at: datetime
    read_at: datetime | None = None
    feedback: str | None = Field(default=None, max_length=20)
    feedback_at: datetime | None = None


class NotificationDelivery(SQLModel, table=True):
    """The outbox: one row per notification and channel, and where its delivery stands.

    ``pending`` (due at ``due_at``), ``deferred`` (quiet hours: due when they end), ``sending``
    (claimed by a worker until ``lease_until``), ``sent``, ``failed`` (retried with backoff),
    ``dead`` (a poison row: the error is kept) or ``skipped`` (the contact policy said no).
    ``reason`` says why it was sent, deferred or not sent.
    """

    __tablename__ = "notification_delivery"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel", name="uq_delivery_channel"),
        Index("ix_delivery_state_due", "state", "due_at"),
        Index("ix_delivery_person_channel_sent", "person_id", "channel", "sent_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(foreign_key="notification.id")
    person_id: int = Field(foreign_key="person.id")
    channel: str = Field(max_length=20)  # in_app | email | push | sms
    state: str = Field(max_length=20)
    reason: str = Field(default="", max_length=200)
    attempts: int = 0
    due_at: datetime
    lease_until: datetime | None = None
    worker: str | None = Field(default=None, max_length=100)
    last_error: str | None = Field(default=None, max_length=500)
    provider_id: str | None = Field(default=None, max_length=200)
    created_at: datetime
    sent_at: datetime | None = None


class NotificationPreference(SQLModel, table=True):
    """A customer's own thresholds: tell me about charges over X, a balance under Y."""

    __tablename__ = "notification_preference"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    large_purchase_minor: int | None = Field(default=None, sa_type=BigInteger)
    low_balance_minor: int | None = Field(default=None, sa_type=BigInteger)
    updated_at: datetime
