"""Questions about one merchant and about income, disputes found by description, card-bill
payments and goal changes: the offline model's moves, with a keyword stand-in classifier.

Each test pins what the customer's words become (which tool, which arguments), and that the
model never acts on anything the customer does not hold: another customer's records are not in
the context, and a payee who happens to share a card's name is never paid instead of the card.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import StructuredTool

from agents.context import Account, CustomerContext, Named
from agents.offline.lookups import (
    asks_history,
    asks_income,
    charge_search,
    merchant_read,
    named_merchant,
)
from agents.offline.model import OfflineChatModel
from agents.offline.replies import render
from agents.offline.slots import parse_amount
from agents.offline.slots.match import correct_words
from agents.offline.tasks import Frame, defaults, fill, pays_card

CTX = CustomerContext(
    first_name="Dana",
    today=date(2026, 6, 10),
    accounts=(
        Account("acc-main", "checking", "Everyday", "4821", 240_000),
        Account("acc-save", "savings", "Savings", "1234", 150_000),
        Account("acc-visa", "credit_card", "Platinum Visa", "9911", -64_025),
    ),
    payees=(Named("payee-visa", "Visa Nguyen"), Named("payee-power", "City Power")),
    goals=(Named("goal-vac", "Vacation"), Named("goal-car", "Car fund")),
    merchants=("Starbucks", "Amazon", "Uber", "Uber Eats", "Netflix", "Brightline Payroll"),
)
NO_CARD = replace(CTX, accounts=CTX.accounts[:2])
NO_GOALS = replace(CTX, goals=())

KEYWORDS = [
    ("dispute", "dispute_transaction"),
    ("recogni", "dispute_transaction"),
    ("earn", "income_summary"),
    ("goal", "create_savings_goal"),
    ("fund", "create_savings_goal"),
    ("how many", "spending_summary"),
    ("spen", "spending_summary"),
    ("transfer", "transfer_money"),
    ("pay", "pay_bill"),
]


class Keywords:
    """The first keyword found names the intent; else an unsure guess."""

    def predict(self, text: str) -> tuple[str, float]:
        lowered = text.lower()
        return next(((i, 0.9) for w, i in KEYWORDS if w in lowered), ("faq", 0.2))


def _tool(name: str) -> StructuredTool:
    return StructuredTool.from_function(func=lambda: "", name=name, description=f"The {name}.")


TOOLS = [
    _tool(n)
    for n in (
        "search_transactions",
        "spending_summary",
        "income_summary",
        "pay_payee",
        "pay_card_bill",
        "transfer",
        "dispute_transaction",
        "update_goal",
        "create_goal",
        "get_goals",
    )
]


class Chat:
    def __init__(self, ctx: CustomerContext = CTX) -> None:
        self.model = OfflineChatModel(classifier=Keywords()).bind_tools(TOOLS)
        self.messages: list[BaseMessage] = [ctx.message()]

    def say(self, text: str) -> AIMessage:
        self.messages.append(HumanMessage(text))
        return self._turn()

    def answer(self, result: dict[str, Any]) -> AIMessage:
        call = self.messages[-1].tool_calls[0]  # type: ignore[attr-defined]
        self.messages.append(
            ToolMessage(json.dumps(result), tool_call_id=call["id"], name=call["name"])
        )
        return self._turn()

    def _turn(self) -> AIMessage:
        reply = self.model.invoke(self.messages)
        assert isinstance(reply, AIMessage)
        self.messages.append(reply)
        return reply


def only_call(reply: AIMessage) -> tuple[str, dict[str, Any]]:
    [call] = reply.tool_calls
    return call["name"], call["args"]


# --- one merchant ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "merchant", "start"),
    [
        ("how many times did I go to Starbucks last month", "Starbucks", "2026-05-01"),
        ("how much have I spent at amazon this year", "Amazon", "2026-01-01"),
        ("how much did i spend at starbuks in may", "Starbucks", "2026-05-01"),
        ("when did I last pay Netflix", "Netflix", None),
        ("how much have I spent on Uber Eats", "Uber Eats", None),  # the fuller name wins
    ],
)
def test_a_question_about_one_merchant_reads_its_transactions(
    text: str, merchant: str, start: str | None
) -> None:
    name, args = only_call(Chat().say(text))
    assert name == "search_transactions" and args["merchant"] == merchant
    assert args.get("start") == start


def test_a_merchant_the_customer_never_paid_is_looked_up_not_summed_by_category() -> None:
    name, args = only_call(Chat().say("how much have I spent at Costco this year"))
    assert name == "search_transactions" and args["text"].lower() == "costco"
    assert "category" not in args


def test_a_category_question_stays_a_category_question() -> None:
    assert merchant_read("how much did I spend at restaurants", "spending_summary", CTX) is None
    assert merchant_read("how much did I spend on dining", "spending_summary", CTX) is None


def test_a_payment_to_make_is_not_a_question_about_one() -> None:
    assert merchant_read("pay Netflix 15.49", "pay_bill", CTX) is None
    assert not asks_history("pay netflix now") and asks_history("when did I last pay netflix")


def test_the_merchant_summary_is_told_in_words_from_the_result() -> None:
    result = {
        "transactions": [
            {"date": "2026-05-27", "merchant": "Starbucks", "amount": "-5.40"},
            {"date": "2026-05-16", "merchant": "Starbucks", "amount": "-7.10"},
        ],
        "summary": {
            "merchant": "Starbucks",
            "start": "2026-05-01",
            "end": "2026-05-31",
            "currency": "USD",
            "payments": 2,
            "spent": "12.50",
            "refunds": 0,
            "refunded": "0.00",
            "last_payment": {"date": "2026-05-27", "amount": "5.40"},
        },
    }
    text = render("search_transactions", json.dumps(result))
    assert "You paid Starbucks 2 times from May 1, 2026 to May 31, 2026, $12.50 in all" in text
    assert "The last one was $5.40 on May 27, 2026" in text
    none = {**result["summary"], "payments": 0, "last_payment": None, "merchant": "Costco"}
    assert "didn't find any payments to Costco" in render(
        "search_transactions", json.dumps({"transactions": [], "summary": none})
    )


# --- income ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "what did I earn in May",
        "how much was my last paycheck",
        "when did my salary come in",
        "hw much did I get paid last month",
        "has my direct deposit arrived",
    ],
)
def test_questions_about_pay_are_income_questions(text: str) -> None:
    assert asks_income(text)


@pytest.mark.parametrize(
    "text",
    [
        "save 10% of every paycheck",
        "move 200 to savings when I get paid",
        "when did I last pay Netflix",
        "pay my visa",
        "I just got my paycheck, what's my balance?",
        "did my salary come in? how much is in my checking",
        "have i spent too much of my paycheck on donuts lately",
        "how much have i spent on eating out recently",
    ],
)
def test_doing_something_with_pay_is_not_a_question_about_it(text: str) -> None:
    assert not asks_income(text)


def test_an_income_question_reads_income_for_the_period_said() -> None:
    name, args = only_call(Chat().say("how much did I earn in April?"))
    assert (name, args) == ("income_summary", {"start": "2026-04-01", "end": "2026-04-30"})


def test_income_is_told_with_the_latest_pay_first() -> None:
    result = {
        "start": "2026-04-01",
        "end": "2026-04-30",
        "currency": "USD",
        "total": "3600.00",
        "count": 2,
        "payments": [
            {"date": "2026-04-28", "from": "Acme", "amount": "3100.00", "account": "Everyday"},
            {"date": "2026-04-26", "from": "Acme", "amount": "500.00", "account": "Everyday"},
        ],
    }
    text = render("income_summary", json.dumps(result))
    assert text.startswith("Your last pay was $3,100.00 from Acme on April 28, 2026")
    assert "$3,600.00" in text and "(2 payments)" in text
    empty = {**result, "payments": [], "count": 0, "total": "0.00"}
    assert "didn't find any income" in render("income_summary", json.dumps(empty))


# --- disputes by description -----------------------------------------------------------------


def test_a_charge_is_sought_by_merchant_amount_and_day() -> None:
    assert charge_search("dispute the $42.50 charge from Uber Eats", CTX) == {
        "merchant": "Uber Eats",
        "amount": "42.50",
    }
    found = charge_search("the amazon charge on june 5th wasn't me", CTX)
    assert found == {"merchant": "Amazon", "start": "2026-06-05", "end": "2026-06-05"}
    assert charge_search("a 55.00 charge from Target I didn't make", CTX) == {
        "text": "Target",
        "amount": "55.00",
    }


def test_an_amount_to_the_cent_before_charge_is_money() -> None:
    found = parse_amount("I need to dispute a 55.00 charge")
    assert found is not None and found.amount_minor == 5500
    assert parse_amount("I made 3 charges") is None  # a count stays a count


def _rows(*rows: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "transactions": [
            {
                "ref": ref,
                "date": "2026-06-01",
                "merchant": "Amazon",
                "amount": amount,
                "category": c,
            }
            for ref, amount, c in rows
        ]
    }


def test_no_matching_charge_is_said_plainly_and_nothing_is_proposed() -> None:
    chat = Chat()
    chat.say("I want to dispute the 89.99 charge from amazon")
    reply = chat.answer(_rows(("txn-1", "89.99", "shopping")))  # a refund: money in
    assert "couldn't find a charge of $89.99 from Amazon" in reply.content
    assert not reply.tool_calls


def test_several_matching_charges_let_the_customer_choose() -> None:
    chat = Chat()
    chat.say("dispute the amazon charge of 18.20")
    reply = chat.answer(_rows(("txn-1", "-18.20", "shopping"), ("txn-2", "-18.20", "shopping")))
    assert "Which one" in reply.content and not reply.tool_calls
    assert only_call(chat.say("the second one")) == (
        "dispute_transaction",
        {"transaction": "txn-2"},
    )


def test_a_move_between_own_accounts_is_never_proposed_for_dispute() -> None:
    chat = Chat()
    chat.say("dispute the 300.00 charge from amazon")
    reply = chat.answer(_rows(("txn-1", "-300.00", "transfer")))
    assert "couldn't find" in reply.content and not reply.tool_calls


# --- a credit card's bill --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "pay my Visa",
        "pay off the platinum card",
        "make a payment to my credit card",
        "pay 50 on my credit card",
    ],
)
def test_a_card_named_by_product_or_issuer_is_the_customers_card_bill(text: str) -> None:
    assert pays_card(text, CTX)
    reply = Chat().say(text)
    for call in reply.tool_calls:
        assert call["name"] == "pay_card_bill"  # never pay_payee to "Visa Nguyen"
    assert "Visa Nguyen" not in reply.content


def test_paying_a_card_off_is_what_is_owed_from_the_only_checking() -> None:
    assert only_call(Chat().say("pay off the platinum card")) == (
        "pay_card_bill",
        {"card_account": "acc-visa", "from_account": "acc-main", "amount": "640.25"},
    )


def test_the_amount_is_asked_with_what_is_owed() -> None:
    chat = Chat()
    asked = chat.say("pay my visa")
    assert "You owe $640.25 on Platinum Visa (…9911)" in asked.content
    name, args = only_call(chat.say("200 from savings"))
    assert (name, args["amount"], args["from_account"]) == ("pay_card_bill", "200.00", "acc-save")


def test_a_transfer_to_the_card_is_its_bill_payment() -> None:
    name, args = only_call(Chat().say("transfer 300 from savings to my visa"))
    assert (name, args["card_account"], args["from_account"]) == (
        "pay_card_bill",
        "acc-visa",
        "acc-save",
    )


def test_without_a_card_account_nothing_is_paid_and_it_says_so() -> None:
    reply = Chat(NO_CARD).say("pay my credit card bill")
    assert not reply.tool_calls and "don't have a credit card account" in reply.content


def test_a_payee_named_in_full_is_still_paid_as_a_payee() -> None:
    assert not pays_card("pay Visa Nguyen 40", CTX)
    assert not pays_card("pay the power bill", CTX)


def test_a_credit_union_is_no_credit_card() -> None:
    assert not pays_card("send 100 to my credit union savings", CTX)
    assert pays_card("pay my credit card bill", CTX)


@pytest.mark.parametrize("text", ["pay Ana 20 with my card", "pay City Power using my debit card"])
def test_paying_someone_with_a_card_is_not_paying_the_card(text: str) -> None:
    assert not pays_card(text, CTX)


# --- changing a goal -------------------------------------------------------------------------


def _goal_change(text: str, ctx: CustomerContext = CTX) -> dict[str, Any]:
    frame = Frame("update_goal")
    fill(frame, text, ctx)
    defaults(frame, ctx)
    return {k: v for k, v in frame.slots.items() if not k.startswith("_")}


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("change my vacation goal to 3000", {"goal": "goal-vac", "target": "3000.00"}),
        ("raise the target on my car fund to 10k", {"goal": "goal-car", "target": "10000.00"}),
        ("rename my vacation goal to Lisbon", {"goal": "goal-vac", "name": "Lisbon"}),
        (
            "push my vacation goal date to next June",
            {"goal": "goal-vac", "target_date": "2027-06-30"},
        ),
        ("postpone my car fund to 2028", {"goal": "goal-car", "target_date": "2028-12-31"}),
        (
            "move the vacation deadline to december 15",
            {"goal": "goal-vac", "target_date": "2026-12-15"},
        ),
    ],
)
def test_a_goal_change_names_the_goal_and_what_changes(text: str, slots: dict[str, Any]) -> None:
    assert _goal_change(text) == slots


def test_a_change_to_an_existing_goal_never_starts_a_new_one() -> None:
    name, args = only_call(Chat().say("change my vacation goal to 3000"))
    assert (name, args) == ("update_goal", {"goal": "goal-vac", "target": "3000.00"})


def test_a_rename_without_the_new_name_asks_for_it() -> None:
    chat = Chat()
    assert "call it" in chat.say("rename the car fund").content
    assert only_call(chat.say("Dream Car")) == (
        "update_goal",
        {"goal": "goal-car", "name": "Dream Car"},
    )


def test_without_goals_there_is_nothing_to_change() -> None:
    reply = Chat(NO_GOALS).say("change my savings goal to 4000")
    assert not reply.tool_calls and "don't have any savings goals" in reply.content


def test_only_the_customers_own_merchants_and_goals_can_be_named() -> None:
    assert named_merchant("how much at Walmart", CTX) is None
    assert _goal_change("change my wedding goal to 100", NO_GOALS) == {"target": "100.00"}


# --- typos in the cue words ------------------------------------------------------------------


def test_a_typo_in_a_cue_word_is_read_as_the_word() -> None:
    vocabulary = frozenset({"paycheck", "salary", "deadline", "spend", "spent"})
    assert correct_words("my last Paychek, salry", vocabulary) == "my last paycheck, salary"
    assert correct_words("spend and spent stay", vocabulary) == "spend and spent stay"
    assert correct_words("Tom and 12345 and Nguyen", vocabulary) == "Tom and 12345 and Nguyen"


@pytest.mark.parametrize(
    ("text", "reads"),
    [
        ("how much was my last paychek", "income"),
        ("when did my salry come in", "income"),
        ("pay off the platnum card", "card"),
        ("push my vacation goal deadlne to next june", "goal"),
    ],
)
def test_questions_and_requests_survive_a_typo_in_their_cue(text: str, reads: str) -> None:
    if reads == "income":
        assert asks_income(text)
    elif reads == "card":
        assert pays_card(text, CTX)
    else:
        assert _goal_change(text) == {"goal": "goal-vac", "target_date": "2027-06-30"}


@pytest.mark.parametrize(
    ("said", "name"),
    [
        ("um Dream Car um", "Dream Car"),
        ("hey Emergency fund", "Emergency Fund"),
        ("Dream Car, thanks", "Dream Car"),
        ("Well Being", "Well Being"),  # a name may start with a word that can be a filler
    ],
)
def test_a_new_name_leaves_out_fillers_around_it(said: str, name: str) -> None:
    chat = Chat()
    chat.say("rename the car fund")
    assert only_call(chat.say(said)) == ("update_goal", {"goal": "goal-car", "name": name})


def test_a_name_given_in_the_request_leaves_out_politeness() -> None:
    assert _goal_change("like, rename my vacation goal to Lisbon trip, please") == {
        "goal": "goal-vac",
        "name": "Lisbon trip",
    }


def test_none_found_is_named_in_the_customers_words_not_from_the_tool() -> None:
    chat = Chat()
    chat.say("how much have I spent at Costco this year")
    empty = {"merchant": None, "payments": 0, "spent": "0.00", "refunds": 0, "currency": "USD"}
    reply = chat.answer({"transactions": [], "summary": empty})
    assert "didn't find any payments to Costco" in reply.content


def test_a_weak_reading_that_asks_to_see_a_merchants_charges_is_that_read() -> None:
    name, args = only_call(Chat().say("show me my Amazon charges"))  # the stand-in is unsure
    assert (name, args) == ("search_transactions", {"merchant": "Amazon"})
    unsure = Chat().say("show me my Walmart charges")  # not a merchant of theirs
    assert not unsure.tool_calls and "not sure" in unsure.content
