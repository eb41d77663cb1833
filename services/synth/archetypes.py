"""Who lives in the synthetic bank: archetypes with plausible incomes, products and habits.

Figures are stated here once; the generator draws from them and the tests check the seeded data
against them (spending shares per archetype within ``spend_share`` ranges, salary cadences...).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Card-spending categories and the merchants that book under them.
MERCHANTS: dict[str, tuple[str, ...]] = {
    "groceries": ("Whole Foods", "Trader Joe's", "Kroger", "Safeway", "Aldi", "Costco"),
    "dining": ("Blue Bottle", "Chipotle", "Sweetgreen", "Olive Garden", "Shake Shack", "Starbucks"),
    "transport": ("Shell", "Chevron", "Uber", "Lyft", "Metro Transit", "ParkMobile"),
    "shopping": ("Amazon", "Target", "Walmart", "H&M", "IKEA", "Etsy"),
    "entertainment": ("AMC Theatres", "Ticketmaster", "Steam", "Bowlero", "Barnes & Noble"),
    "health": ("CVS Pharmacy", "Walgreens", "One Medical", "Quest Diagnostics", "GoodRx"),
    "travel": ("Delta Air Lines", "Marriott", "Airbnb", "Expedia", "Hertz"),
    "personal_care": ("Supercuts", "Sephora", "Ulta Beauty", "Great Clips"),
}
CATEGORIES: tuple[str, ...] = tuple(MERCHANTS)

# Typical single purchase (USD) per category: median and log-normal spread.
TICKET: dict[str, tuple[float, float]] = {
    "groceries": (62.0, 0.55),
    "dining": (21.0, 0.6),
    "transport": (28.0, 0.6),
    "shopping": (45.0, 0.8),
    "entertainment": (30.0, 0.6),
    "health": (35.0, 0.7),
    "travel": (240.0, 0.7),
    "personal_care": (38.0, 0.5),
}

SUBSCRIPTIONS: tuple[tuple[str, int], ...] = (
    ("StreamFlix", 1599),
    ("Tunely Music", 1099),
    ("CloudBox Storage", 299),
    ("FitLife Gym", 4999),
    ("NewsDaily", 899),
    ("GameVault", 1499),
    ("KidsLearn", 799),
    ("MealKit Co", 5999),
    ("VPNShield", 1199),
    ("PhotoPro Cloud", 999),
)
UTILITIES: tuple[tuple[str, str, int], ...] = (
    # merchant, kind of bill, typical monthly amount in cents
    ("City Power & Light", "electricity", 11000),
    ("Metro Water", "water", 4500),
    ("FiberNet Internet", "internet", 6999),
    ("Verizon Wireless", "phone", 8500),
    ("State Farm Insurance", "insurance", 14200),
)
# The ledger category each kind of bill books under: an insurer is insurance, not a utility.
BILL_CATEGORY: dict[str, str] = {
    "electricity": "utilities",
    "water": "utilities",
    "internet": "utilities",
    "phone": "utilities",
    "insurance": "insurance",
}
# Every ledger category the generator books, by what the money truly is. Evaluations and tests
# hold the bank's spending figures to this: card purchases, bills, rent, subscriptions, cash,
# payments to friends and the bank's fees are the customer's spending; a business account's
# payroll, suppliers and lease are the business's; the rest only moves money between the
# customer's own accounts or to another bank, or brings it in (pay, interest, takings).
SPENDING_CATEGORIES: tuple[str, ...] = (
    *CATEGORIES,
    "subscriptions",
    "utilities",
    "insurance",
    "housing",
    "transfers",  # person-to-person payments
    "cash",
    "fees",
)
BUSINESS_CATEGORIES: tuple[str, ...] = ("payroll", "supplies", "rent")
MONEY_MOVE_CATEGORIES: tuple[str, ...] = ("transfer", "transfer_out", "income", "interest", "sales")
EMPLOYERS: tuple[str, ...] = (
    "Acme Corp Payroll",
    "Globex Payroll",
    "Initech Inc",
    "Umbrella Health",
    "Stark Industries",
    "Wayne Enterprises",
    "Hooli Payroll",
    "Vandelay Industries",
    "City of Springfield",
    "State University",
)
GIG_PLATFORMS: tuple[str, ...] = (
    "Uber Driver Payout",
    "DoorDash Dasher",
    "Upwork Payments",
    "Instacart Shopper",
    "Fiverr Payout",
)
LANDLORDS: tuple[str, ...] = (
    "Greystar Properties",
    "Oakwood Apartments",
    "Maple Leasing LLC",
    "Riverside Rentals",
    "Parkview Residences",
)
OTHER_BANKS: tuple[str, ...] = ("Ally Bank", "Marcus by Goldman Sachs", "Chase", "SoFi Bank")


@dataclass(frozen=True)
class Archetype:
    """A kind of customer with the distributions the generator draws from."""

    name: str
    share: float  # of all customers
    segment: str  # what the CRM calls them (visible to decisions, unlike the archetype)
    age: tuple[int, int]
    income_median: float  # gross annual USD
    income_sigma: float
    pay_cadence: dict[str, float]  # cadence -> probability
    spend_ratio: tuple[float, float]  # card spending as a share of net income
    spend_share: dict[str, tuple[float, float]]  # category -> stated range of its share
    housing: dict[str, float]  # rent | mortgage | none -> probability
    products: dict[str, float] = field(default_factory=dict)  # product -> probability
    sessions_per_month: float = 8.0
    daily_tx_scale: float = 1.0


def _shares(**ranges: tuple[float, float]) -> dict[str, tuple[float, float]]:
    return dict(ranges)


ARCHETYPES: tuple[Archetype, ...] = (
    Archetype(
        "student",
        0.12,
        "youth",
        (18, 24),
        16000,
        0.35,
        {"biweekly": 0.6, "weekly": 0.4},
        (0.55, 0.75),
        _shares(
            groceries=(0.15, 0.30),
            dining=(0.20, 0.38),
            transport=(0.08, 0.20),
            shopping=(0.10, 0.25),
            entertainment=(0.08, 0.22),
            health=(0.01, 0.06),
            travel=(0.0, 0.10),
            personal_care=(0.02, 0.08),
        ),
        {"rent": 0.7, "none": 0.3},
        {"savings": 0.45, "credit_card": 0.35, "personal_loan": 0.05},
        sessions_per_month=14.0,
        daily_tx_scale=0.9,
    ),
    Archetype(
        "young_professional",
        0.20,
        "mass_market",
        (24, 35),
        68000,
        0.35,
        {"biweekly": 0.6, "semimonthly": 0.25, "monthly": 0.15},
        (0.35, 0.55),
        _shares(
            groceries=(0.15, 0.30),
            dining=(0.15, 0.30),
            transport=(0.08, 0.20),
            shopping=(0.12, 0.28),
            entertainment=(0.05, 0.15),
            health=(0.02, 0.08),
            travel=(0.05, 0.20),
            personal_care=(0.02, 0.08),
        ),
        {"rent": 0.85, "mortgage": 0.1, "none": 0.05},
        {"savings": 0.75, "credit_card": 0.7, "investment": 0.2, "personal_loan": 0.1},
        sessions_per_month=12.0,
        daily_tx_scale=1.2,
    ),
    Archetype(
        "family",
        0.20,
        "mass_market",
        (32, 50),
        98000,
        0.35,
        {"biweekly": 0.7, "semimonthly": 0.2, "monthly": 0.1},
        (0.35, 0.50),
        _shares(
            groceries=(0.28, 0.45),
            dining=(0.08, 0.18),
            transport=(0.08, 0.20),
            shopping=(0.12, 0.28),
            entertainment=(0.04, 0.12),
            health=(0.03, 0.10),
            travel=(0.03, 0.15),
            personal_care=(0.01, 0.06),
        ),
        {"mortgage": 0.6, "rent": 0.4},
        {
            "savings": 0.8,
            "credit_card": 0.75,
            "investment": 0.25,
            "term_deposit": 0.1,
            "personal_loan": 0.15,
            "line_of_credit": 0.1,
        },
        sessions_per_month=9.0,
        daily_tx_scale=1.4,
    ),
    Archetype(
        "retiree",
        0.12,
        "mass_market",
        (65, 88),
        42000,
        0.4,
        {"monthly": 1.0},
        (0.35, 0.55),
        _shares(
            groceries=(0.25, 0.42),
            dining=(0.08, 0.20),
            transport=(0.05, 0.15),
            shopping=(0.08, 0.22),
            entertainment=(0.03, 0.12),
            health=(0.10, 0.25),
            travel=(0.03, 0.18),
            personal_care=(0.01, 0.06),
        ),
        {"none": 0.7, "rent": 0.3},
        {"savings": 0.85, "credit_card": 0.5, "term_deposit": 0.45, "investment": 0.3},
        sessions_per_month=4.0,
        daily_tx_scale=0.8,
    ),
    Archetype(
        "gig_worker",
        0.10,
        "mass_market",
        (20, 45),
        38000,
        0.45,
        {"irregular": 1.0},
        (0.45, 0.65),
        _shares(
            groceries=(0.18, 0.35),
            dining=(0.12, 0.28),
            transport=(0.15, 0.30),
            shopping=(0.08, 0.22),
            entertainment=(0.04, 0.14),
            health=(0.01, 0.07),
            travel=(0.0, 0.08),
            personal_care=(0.01, 0.06),
        ),
        {"rent": 0.85, "none": 0.15},
        {"savings": 0.4, "credit_card": 0.45},
        sessions_per_month=16.0,
        daily_tx_scale=1.0,
    ),
    Archetype(
        "small_business_owner",
        0.10,
        "business",
        (30, 62),
        90000,
        0.45,
        {"monthly": 1.0},
        (0.30, 0.45),
        _shares(
            groceries=(0.18, 0.35),
            dining=(0.10, 0.25),
            transport=(0.08, 0.22),
            shopping=(0.10, 0.25),
            entertainment=(0.03, 0.12),
            health=(0.02, 0.08),
            travel=(0.04, 0.18),
            personal_care=(0.01, 0.06),
        ),
        {"mortgage": 0.55, "rent": 0.45},
        {"savings": 0.7, "credit_card": 0.8, "investment": 0.25, "line_of_credit": 0.3},
        sessions_per_month=15.0,
        daily_tx_scale=1.2,
    ),
    Archetype(
        "affluent",
        0.11,
        "affluent",
        (35, 65),
        185000,
        0.3,
        {"semimonthly": 0.4, "biweekly": 0.3, "monthly": 0.3},
        (0.25, 0.40),
        _shares(
            groceries=(0.15, 0.30),
            dining=(0.12, 0.28),
            transport=(0.05, 0.15),
            shopping=(0.12, 0.28),
            entertainment=(0.04, 0.12),
            health=(0.02, 0.08),
            travel=(0.10, 0.28),
            personal_care=(0.02, 0.08),
        ),
        {"mortgage": 0.8, "rent": 0.2},
        {"savings": 0.95, "credit_card": 0.95, "investment": 0.75, "term_deposit": 0.3},
        sessions_per_month=8.0,
        daily_tx_scale=1.3,
    ),
    Archetype(
        "wealth",
        0.05,
        "private",
        (45, 80),
        420000,
        0.4,
        {"monthly": 0.6, "semimonthly": 0.4},
        (0.15, 0.30),
        _shares(
            groceries=(0.10, 0.25),
            dining=(0.15, 0.30),
            transport=(0.03, 0.12),
            shopping=(0.12, 0.30),
            entertainment=(0.04, 0.14),
            health=(0.02, 0.08),
            travel=(0.15, 0.35),
            personal_care=(0.02, 0.08),
        ),
        {"mortgage": 0.5, "none": 0.5},
        {"savings": 1.0, "credit_card": 1.0, "investment": 1.0, "term_deposit": 0.6},
        sessions_per_month=5.0,
        daily_tx_scale=1.1,
    ),
)
BY_NAME: dict[str, Archetype] = {a.name: a for a in ARCHETYPES}


def pick(rng: np.random.Generator, options: dict[str, float]) -> str:
    """One key of ``options`` drawn by its probability."""
    keys = list(options)
    return str(keys[int(rng.choice(len(keys), p=np.array(list(options.values()))))])
