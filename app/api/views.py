"""What the customer routes return: response models, with every amount an exact decimal string.

The services speak integer minor units; these views turn them into fixed-point text in the
amount's own currency (``"-12.50"``, ``"1234"`` for yen), never a float.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from services.insights import INSIGHT_COPY, Insight
from services.money import DEFAULT_LOCALE, EXPONENT, format_money
from services.reads.dashboard import Widget
from services.recommendations.engine import Recommendation
from services.recommendations.reasons import customer_reasons, customer_why


def decimal_text(minor: int, currency: str = "USD") -> str:
    """Minor units as fixed-point text in the currency's exponent, e.g. ``'-12.50'``.

    A currency the bank does not book gets two places rather than an error.
    """
    return format_money(int(minor), currency, places=EXPONENT.get(currency.upper(), 2), plain=True)


def plain(data: dict[str, Any], currency: str = "USD") -> dict[str, Any]:
    """A JSON-ready copy: ``*_minor`` integers become decimal strings without the suffix."""
    currency = str(data.get("currency") or currency)
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key.endswith("_minor") and isinstance(value, int) and not isinstance(value, bool):
            out[key.removesuffix("_minor")] = decimal_text(value, currency)
        elif isinstance(value, dict):
            out[key] = plain(value, currency)
        elif isinstance(value, (list, tuple)):
            out[key] = [plain(v, currency) if isinstance(v, dict) else _scalar(v) for v in value]
        else:
            out[key] = _scalar(value)
    return out


def _scalar(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


class TransactionView(BaseModel):
    """One booked transaction (negative amounts are money out)."""

    id: int
    account_id: int
    booked_at: datetime
    amount: str = Field(description="Signed decimal string, e.g. '-12.50'.")
    currency: str
    merchant: str | None
    category: str
    description: str


def transaction_view(row: dict[str, Any]) -> TransactionView:
    """A ledger row as the API shows it."""
    return TransactionView(
        id=row["id"],
        account_id=row["account_id"],
        booked_at=row["booked_at"],
        amount=decimal_text(row["amount_minor"], row["currency"]),
        currency=row["currency"],
        merchant=row["merchant"],
        category=row["category"],
        description=row["description"] or "",
    )


class TransactionPage(BaseModel):
    """One page of transactions and the cursor to the next (null on the last page)."""

    items: list[TransactionView]
    next_cursor: str | None


class InsightView(BaseModel):
    """Something worth knowing in the customer's own data, with the evidence behind it."""

    code: str = Field(description="The insight type, e.g. 'duplicate_charge'.")
    title: str
    message: str
    severity: str = Field(description="info, warning or critical.")
    suggested_action: str = Field(description="The catalogue action that follows it up.")
    evidence: list[str] = Field(description="Records behind it, e.g. 'ledger:123'.")
    detected_at: datetime | None = None
    data: dict[str, Any] = Field(default_factory=dict, description="Figures, amounts as text.")


def insight_view(insight: Insight) -> InsightView:
    """An insight as the API shows it (callers pass only those its reader may see)."""
    copy = INSIGHT_COPY.get(insight.type)
    return InsightView(
        code=insight.type,
        title=copy.title if copy else insight.type.replace("_", " ").capitalize(),
        message=insight.message,
        severity=insight.severity,
        suggested_action=insight.suggested_action,
        evidence=list(insight.evidence),
        detected_at=insight.detected_at,
        data=plain(insight.data),
    )


class NotificationView(InsightView):
    """An insight the contact policy lets the bank push to the customer now."""

    channel: str = Field(description="Where it may go: 'push' or 'in_app_card'.")


class OptionView(BaseModel):
    """One choice an offer gives; POST its code with an ``accepted`` response."""

    code: str
    label: str = Field(description="What the button says it does, e.g. 'Move to savings'.")


class RecommendationView(BaseModel):
    """A next best action for the customer, with why in the customer's own terms."""

    offer: str = Field(description="The catalogue code; POST responses to it.")
    title: str
    body: str
    cta: str | None = Field(None, description="The one call to action, when there are no options.")
    options: list[OptionView] = Field(
        default_factory=list, description="One button per choice, when the offer gives a choice."
    )
    why: str = Field(description="Why it is suggested, in a sentence: 'Because your CD ...'.")
    because: list[str] = Field(description="Every reason the customer may read, as phrases.")
    insight: str | None = Field(None, description="The insight it follows up, if any.")


def recommendation_view(
    r: Recommendation,
    *,
    insights: Iterable[Insight] = (),
    locale: str = DEFAULT_LOCALE,
    currency: str = "USD",
) -> RecommendationView:
    """A recommendation as its customer sees it: copy, choices, and reasons in words.

    Reason codes, model scores and contact-policy checks stay with the bank: only the phrases
    whose audience is the customer are shown.
    """
    found = {i.type: i for i in insights}
    because = customer_reasons(r.reasons, insights=found, locale=locale, currency=currency)
    copy = INSIGHT_COPY.get(r.insight or "")
    return RecommendationView(
        offer=r.code,
        title=r.title,
        body=r.body,
        cta=None if r.options else r.cta,
        options=[OptionView(code=code, label=label) for code, label in r.options],
        why=customer_why(r.reasons, insights=found, locale=locale, currency=currency),
        because=because,
        insight=r.insight if copy is not None and copy.audience == "customer" else None,
    )


class GoalView(BaseModel):
    """A savings goal and how far along it is."""

    id: int
    name: str
    target: str
    saved: str
    currency: str
    target_date: date | None
    progress: float = Field(description="Saved over target, 0 to 1.")


def goal_view(row: dict[str, Any]) -> GoalView:
    """A goal row as the API shows it."""
    target, saved = int(row["target_minor"]), int(row["saved_minor"])
    return GoalView(
        id=row["id"],
        name=row["name"],
        target=decimal_text(target, row["currency"]),
        saved=decimal_text(saved, row["currency"]),
        currency=row["currency"],
        target_date=row["target_date"],
        progress=round(min(1.0, saved / target), 4) if target > 0 else 0.0,
    )


class BillView(BaseModel):
    """A bill or subscription due soon."""

    id: int
    merchant: str
    amount: str
    currency: str
    due_date: date
    kind: str


def bill_view(row: dict[str, Any]) -> BillView:
    """A recurring series row as the API shows it."""
    return BillView(
        id=row["id"],
        merchant=row["merchant"],
        amount=decimal_text(row["amount_minor"], row["currency"]),
        currency=row["currency"],
        due_date=row["next_date"],
        kind=row["kind"],
    )


class CategorySpend(BaseModel):
    """Money spent in one category."""

    category: str
    amount: str


class BusinessOutgoings(BaseModel):
    """A business's payroll, suppliers and other costs over the period: not personal spending."""

    total: str
    by_category: list[CategorySpend]


class SpendingView(BaseModel):
    """Personal spending over a period, largest category first; a business's costs apart."""

    period: str
    start: date
    end: date
    currency: str
    total: str
    by_category: list[CategorySpend]
    business_outgoings: BusinessOutgoings | None = Field(
        None, description="For a business owner: the business's own outgoings, kept apart."
    )


class WidgetView(BaseModel):
    """A dashboard tile, its relevance and, in the customer's terms, why it is where it is."""

    kind: str
    score: float
    reasons: list[str] = Field(description="Phrases, e.g. 'you have bills due soon'.")
    data: dict[str, Any]


def widget_view(widget: Widget, *, insights: Iterable[Insight] = ()) -> WidgetView:
    """A widget as its customer sees it."""
    found = {i.type: i for i in insights}
    return WidgetView(
        kind=widget.kind,
        score=round(widget.score, 4),
        reasons=customer_reasons(widget.reasons, insights=found),
        data=plain(widget.data),
    )
