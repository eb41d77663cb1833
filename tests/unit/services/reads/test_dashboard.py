"""The dashboard puts what matters to this customer first, and says why."""

from datetime import UTC, date, datetime

from services.insights import Insight
from services.reads.dashboard import arrange_dashboard
from services.reads.profiles import Derived, Digital, Goal, Product, Profile, Series

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def profile(*, checking=500_000, bills=(), goals=(), invest=0, forecast_low=100_000) -> Profile:
    products = [
        Product(
            account_id=1,
            type="checking",
            name="E",
            currency="USD",
            balance_minor=checking,
            status="open",
        )
    ]
    if invest:
        products.append(
            Product(
                account_id=2,
                type="investment",
                name="I",
                currency="USD",
                balance_minor=invest,
                status="open",
            )
        )
    return Profile(
        person_id=1,
        as_of=NOW,
        name="Maya Patel",
        segment="mass_market",
        identities=[],
        preferences={},
        products=products,
        deposit_balance_minor=checking,
        income_minor={"30d": 0, "90d": 0},
        spending_minor={"30d": 0, "90d": 0},
        spending_by_category_minor={"30d": {}, "90d": {}},
        recurring=[
            Series(
                kind="bill",
                merchant=m,
                category="utilities",
                amount_minor=-a,
                cadence="monthly",
                next_date=d,
            )
            for m, a, d in bills
        ],
        goals=[Goal(name=n, target_minor=t, saved_minor=s, target_date=None) for n, t, s in goals],
        digital=Digital(),
        derived=Derived(
            savings_rate_90d=None,
            net_flow_30d_minor=0,
            forecast_balance_minor=forecast_low,
            forecast_low_minor=forecast_low,
            engagement=0.5,
        ),
    )


def test_bills_bigger_than_checking_come_first() -> None:
    p = profile(
        checking=3_000,
        bills=[("Power", 12_000, date(2026, 11, 30))],
        goals=[("Trip", 300_000, 250_000)],
    )
    widgets = arrange_dashboard(p, [])
    assert widgets[0].kind == "upcoming_bills"
    assert "feature:bills_exceed_checking" in widgets[0].reasons


def test_critical_insight_outranks_goals_and_drift_lifts_investments() -> None:
    drift = Insight(
        type="portfolio_drift", severity="warning", message="m", suggested_action="portfolio_review"
    )
    fraud = Insight(
        type="duplicate_charge", severity="critical", message="m", suggested_action="dispute_charge"
    )
    p = profile(goals=[("Trip", 300_000, 30_000)], invest=1_000_000)
    kinds = [w.kind for w in arrange_dashboard(p, [drift, fraud], offers=["card_upgrade"])]
    assert kinds[0] == "insights"
    assert kinds.index("investments") < kinds.index("savings_goals") < kinds.index("offers")
    assert (
        "insight:portfolio_drift"
        in next(w for w in arrange_dashboard(p, [drift]) if w.kind == "investments").reasons
    )


def test_empty_widgets_are_left_out() -> None:
    kinds = {w.kind for w in arrange_dashboard(profile(), [])}
    assert kinds == set()
    assert {w.kind for w in arrange_dashboard(profile(forecast_low=-5_000), [])} == {"cash_flow"}
