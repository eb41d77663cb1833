"""A customer context and a keyword classifier shared by the conversation tests."""

from __future__ import annotations

from datetime import date

from agents.context import Account, Card, CustomerContext, Named

CTX = CustomerContext(
    first_name="Maya",
    today=date(2026, 11, 28),
    accounts=(
        Account("acc-everyday", "checking", "Everyday", "4821", 245_000),
        Account("acc-rainy", "savings", "Rainy Day", "1234", 120_000),
    ),
    payees=(
        Named("payee-tom", "Tom Baker"),
        Named("payee-tomh", "Tom Hardy"),
        Named("payee-city", "City Electric"),
    ),
    cards=(Card("card-debit", "debit", "4821"), Card("card-credit", "credit", "9876")),
    scheduled=(Named("sched-stream", "StreamFlix monthly"),),
    merchants=("Amazon", "Blue Bottle", "StreamFlix"),
)

KEYWORDS: list[tuple[str, str]] = [
    ("recognise", "dispute_transaction"),
    ("balance", "check_balance"),
    ("fee", "faq"),
    ("transfer", "transfer_money"),
    ("move", "transfer_money"),
    ("pay", "pay_bill"),
    ("freeze", "freeze_card"),
    ("weather", "out_of_scope"),
    ("meant", "correction"),
    ("advisor", "human_handoff"),
]


class Keywords:
    """A stand-in classifier: the first keyword found, else an unsure guess."""

    def predict(self, text: str) -> tuple[str, float]:
        lowered = text.lower()
        for word, intent in KEYWORDS:
            if word in lowered:
                return intent, 0.9
        return "faq", 0.2
