"""Whole conversations through the wired graph with the offline model and its trained classifier.

Every intent the offline model knows is driven through the same graph the app serves (real
classifier, tools, database, checkpointer), and then each conversation move: a correction, a
cancellation, a question in the middle of a task and the task resumed, a clarifying question,
several tasks in one conversation, and an honest "not sure" offering an advisor.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.types import Command
from sqlalchemy import Engine, text

from agents.assistant import Assistant
from agents.offline.intents import INTENTS
from app.bootstrap import build_assistant, checkpointer, open_engine
from knowledge.articles import load_articles
from services.settings import Settings
from services.synth.writer import seed_bank

NOW = datetime(2026, 11, 28, 15, tzinfo=UTC)
_threads = count()


@dataclass
class Customer:
    """The seeded customer every conversation here is held with, as the database has them."""

    person_id: int
    first_name: str
    payee: str
    debit_last4: str
    checking_id: int
    savings_id: int
    merchant: str


@dataclass
class Reply:
    """What one turn produced: the assistant's words, tools run, and any pending approval."""

    text: str
    tools: list[str]
    pending: list[dict[str, Any]] = field(default_factory=list)

    @property
    def pending_tools(self) -> list[str]:
        """Names of the tool calls waiting for the customer's approval."""
        return [c["name"] for c in self.pending]


class Chat:
    """One conversation thread with the assistant."""

    def __init__(self, assistant: Assistant, person_id: int) -> None:
        self.assistant = assistant
        self.person_id = person_id
        self.thread = f"conv-{next(_threads)}"

    def _run(self, payload: Any) -> Reply:
        result = self.assistant.run(self.thread, self.person_id, payload, NOW)
        messages = result["messages"]
        last_human = max(i for i, m in enumerate(messages) if isinstance(m, HumanMessage))
        tools = [
            m.name or ""
            for m in messages[last_human:]
            if isinstance(m, ToolMessage) and m.status != "error"
        ]
        pending: list[dict[str, Any]] = []
        words = next(str(m.content) for m in reversed(messages) if isinstance(m, AIMessage))
        if result.get("__interrupt__"):
            value = result["__interrupt__"][0].value
            pending, words = list(value["calls"]), str(value["text"])
        return Reply(words, tools, pending)

    def say(self, words: str) -> Reply:
        """The customer types ``words``."""
        return self._run({"messages": [("user", words)]})

    def approve(self, yes: bool = True) -> Reply:
        """The customer presses approve (or decline) on the pending action."""
        return self._run(Command(resume={"approve": yes}))


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory, classifier_dir: Path) -> Iterator[Any]:
    var = tmp_path_factory.mktemp("conv-var")
    settings = Settings(
        var_dir=var,
        database_url=f"sqlite:///{(var / 'bank.db').as_posix()}",
        nlu_model=classifier_dir,
    )
    engine = open_engine(settings)
    seed_bank(engine, customers=12, seed=5, as_of=NOW.date())
    with checkpointer(settings) as saver:
        yield build_assistant(settings, engine, saver), engine
    engine.dispose()


def _pick_customer(engine: Engine) -> Customer:
    # A customer with one checking and one savings account, one active debit card, payees and
    # card spending: everything the conversations below need, read from the database.
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT p.id, p.first_name FROM person p WHERE "
                "(SELECT COUNT(*) FROM account a WHERE a.person_id = p.id AND a.type = 'checking'"
                " AND a.status = 'open') = 1 AND "
                "(SELECT COUNT(*) FROM account a WHERE a.person_id = p.id AND a.type = 'savings'"
                " AND a.status = 'open') = 1 AND "
                "(SELECT COUNT(*) FROM card c WHERE c.person_id = p.id AND c.type = 'debit'"
                " AND c.status = 'active') = 1 AND "
                "(SELECT COUNT(*) FROM payee y WHERE y.person_id = p.id) > 0 ORDER BY p.id"
            )
        ).all()
        assert rows, "the seeded bank has no customer with checking, savings, a card and payees"
        person, first = int(rows[0][0]), str(rows[0][1])

        def one(sql: str) -> Any:
            return conn.execute(text(sql), {"p": person}).scalar_one()

        return Customer(
            person_id=person,
            first_name=first,
            payee=one("SELECT name FROM payee WHERE person_id = :p ORDER BY id LIMIT 1"),
            debit_last4=one(
                "SELECT last4 FROM card WHERE person_id = :p AND type = 'debit' "
                "AND status = 'active'"
            ),
            checking_id=one(
                "SELECT id FROM account WHERE person_id = :p AND type = 'checking' "
                "AND status = 'open'"
            ),
            savings_id=one(
                "SELECT id FROM account WHERE person_id = :p AND type = 'savings' "
                "AND status = 'open'"
            ),
            merchant=one(
                "SELECT l.merchant FROM ledger_entry l JOIN account a ON a.id = l.account_id "
                "WHERE a.person_id = :p AND l.amount_minor < 0 AND l.merchant IS NOT NULL "
                "AND l.merchant != '' GROUP BY l.merchant ORDER BY COUNT(*) DESC LIMIT 1"
            ),
        )


@pytest.fixture(scope="module")
def customer(bank: Any) -> Customer:
    return _pick_customer(bank[1])


@pytest.fixture
def chat(bank: Any, customer: Customer) -> Chat:
    return Chat(bank[0], customer.person_id)


def _balance(engine: Engine, account_id: int) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT balance_minor FROM account WHERE id = :a"), {"a": account_id}
            ).scalar_one()
        )


# --- every intent, through the graph ---------------------------------------------------------

# intent -> (what the customer says, what must happen). "{payee}" and "{merchant}" are filled in
# with the customer's own records. Kinds: "confirm" a write waits for approval; "read" a read
# tool ran; "says" the reply holds these words (any of them, lower case).
EVERY_INTENT: dict[str, tuple[str, str, str | tuple[str, ...]]] = {
    "transfer_money": ("move 50 dollars from checking to savings", "confirm", "transfer"),
    "pay_bill": ("pay {payee} 20 bucks", "confirm", "pay_payee"),
    "schedule_payment": (
        "send 100 dollars to savings next friday",
        "confirm",
        "schedule_payment",
    ),
    "cancel_scheduled_payment": (
        "cancel my scheduled payment",
        "confirm",
        "cancel_scheduled_payment",
    ),
    "freeze_card": ("freeze my debit card", "confirm", "freeze_card"),
    "unfreeze_card": ("please unfreeze my debit card", "confirm", "unfreeze_card"),
    "replace_card": ("my debit card was stolen", "confirm", "replace_card"),
    "dispute_transaction": (
        "I don't recognise a charge from {merchant}",
        "read",
        "search_transactions",
    ),
    "create_savings_goal": (
        "start a savings goal for a vacation of 3000 dollars",
        "confirm",
        "create_goal",
    ),
    "savings_rule": ("move 200 to savings every payday", "confirm", "create_savings_rule"),
    "set_alerts": ("turn off marketing emails", "confirm", "set_preferences"),
    "check_balance": ("what's my balance", "read", "get_accounts"),
    "recent_transactions": ("show my recent transactions", "read", "search_transactions"),
    "spending_summary": (
        "how much did I spend on groceries last month",
        "read",
        "spending_summary",
    ),
    "upcoming_bills": ("any bills coming up?", "read", "upcoming_bills"),
    "show_insights": ("anything unusual on my account?", "read", "get_insights"),
    "show_offers": ("any offers for me?", "read", "get_recommendations"),
    "goal_progress": ("how are my savings goals doing", "read", "get_goals"),
    "income_summary": ("what did I earn last month", "read", "income_summary"),
    # asks for the new name, or which goal, or says there is none (the customer's own goals)
    "update_goal": (
        "rename my savings goal",
        "says",
        ("call it", "which goal", "don't have any savings goals"),
    ),
    "greeting": ("hello there", "says", ("hi {first}",)),
    "thanks": ("thanks a lot", "says", ("welcome",)),
    "goodbye": ("bye for now", "says", ("goodbye", "bye")),
    "help": ("what can you do?", "says", ("check balances",)),
    "human_handoff": ("can I talk to a real person please", "confirm", "handoff"),
    "affirm": ("yes please", "says", ("what would you like",)),
    "deny": ("no", "says", ("anything else",)),
    "cancel": ("cancel", "says", ("nothing in progress",)),
    "correction": ("sorry I meant 65", "says", ("what would you like to change",)),
    "out_of_scope": ("what's the weather like tomorrow", "says", ("outside what i can help",)),
    "faq": ("how do I activate my new card", "read", "search_knowledge"),
}


def test_the_table_covers_every_intent_the_offline_model_knows() -> None:
    assert set(EVERY_INTENT) == set(INTENTS)


@pytest.mark.parametrize("intent", sorted(EVERY_INTENT))
def test_every_intent_through_the_graph(chat: Chat, customer: Customer, intent: str) -> None:
    words, kind, expected = EVERY_INTENT[intent]
    said = chat.say(words.format(payee=customer.payee, merchant=customer.merchant))
    if kind == "confirm":
        assert said.pending_tools == [expected], said.text
        assert not said.tools, "a write ran before approval"
    elif kind == "read":
        assert expected in said.tools, said.text
        assert not said.pending
    else:
        assert not said.pending and not said.tools, said.text
        wanted = [w.format(first=customer.first_name.lower()) for w in expected]
        assert any(w in said.text.lower() for w in wanted), said.text


def test_a_faq_answer_cites_the_articles_it_used(chat: Chat) -> None:
    said = chat.say("how do I activate my new card")
    cited = re.search(r"\(From our help articles: ([a-z0-9-]+(?:, [a-z0-9-]+)*)\)$", said.text)
    assert cited, said.text
    assert cited.group(1).split(", ")[0] == "activate-your-card"  # the passage shown is its own
    passage = said.text[: cited.start()].strip()
    article = next(a for a in load_articles() if a.id == "activate-your-card")
    assert passage.startswith(f"{article.title}: ")  # a passage of the article cited first


# --- conversation moves ----------------------------------------------------------------------


def test_a_correction_before_approval_changes_what_is_confirmed_and_paid(
    chat: Chat, customer: Customer, bank: Any
) -> None:
    engine = bank[1]
    before = _balance(engine, customer.checking_id)
    first = chat.say(f"pay {customer.payee} 20 bucks")
    assert first.pending[0]["args"]["amount"] == "20.00"
    fixed = chat.say("sorry, I meant 25")
    assert fixed.pending_tools == ["pay_payee"]
    assert fixed.pending[0]["args"]["amount"] == "25.00" and "$25.00" in fixed.text
    done = chat.approve()
    assert done.tools == ["pay_payee"]
    assert _balance(engine, customer.checking_id) == before - 2500


def test_cancelling_a_proposed_payment_changes_nothing(
    chat: Chat, customer: Customer, bank: Any
) -> None:
    before = _balance(bank[1], customer.checking_id)
    assert chat.say(f"pay {customer.payee} 30").pending_tools == ["pay_payee"]
    said = chat.say("actually never mind, cancel that")
    assert "cancelled" in said.text and not said.pending and not said.tools
    assert _balance(bank[1], customer.checking_id) == before


def test_cancelling_while_details_are_asked_for_drops_the_task(chat: Chat) -> None:
    assert "How much" in chat.say("I want to move some money").text
    said = chat.say("cancel")
    assert "cancelled" in said.text
    assert "How much" not in chat.say("thanks").text


def test_a_question_in_the_middle_of_a_task_is_answered_and_the_task_resumes(
    chat: Chat, customer: Customer, bank: Any
) -> None:
    assert "How much" in chat.say("I want to move some money").text
    aside = chat.say("what's my balance?")
    assert aside.tools == ["get_accounts"]
    assert "get back to the transfer" in aside.text
    assert "come from" in chat.say("100").text
    assert "go to" in chat.say("checking").text
    proposed = chat.say("savings")
    assert proposed.pending_tools == ["transfer"]
    assert proposed.pending[0]["args"] == {
        "amount": "100.00",
        "currency": "USD",
        "from_account": f"acc-{customer.checking_id}",
        "to_account": f"acc-{customer.savings_id}",
    }
    before = _balance(bank[1], customer.savings_id)
    assert chat.approve().tools == ["transfer"]
    assert _balance(bank[1], customer.savings_id) == before + 10_000


def test_a_missing_detail_gets_a_clarifying_question_with_the_customers_own_options(
    chat: Chat, customer: Customer
) -> None:
    said = chat.say("pay 40 dollars")
    assert not said.pending and "Who would you like to pay" in said.text
    proposed = chat.say(customer.payee)
    assert proposed.pending_tools == ["pay_payee"]
    assert customer.payee in proposed.text and "$40.00" in proposed.text


def test_a_declined_write_runs_nothing(chat: Chat, customer: Customer) -> None:
    assert chat.say("freeze my debit card").pending_tools == ["freeze_card"]
    said = chat.approve(False)
    assert not said.tools and "haven't done anything" in said.text


def test_two_tasks_in_one_conversation_each_get_their_own_confirmation(
    chat: Chat, customer: Customer, bank: Any
) -> None:
    engine = bank[1]
    checking = _balance(engine, customer.checking_id)
    assert chat.say("move 30 dollars from checking to savings").pending_tools == ["transfer"]
    assert chat.approve().tools == ["transfer"]
    freeze = chat.say("and freeze my debit card")
    assert freeze.pending_tools == ["freeze_card"] and customer.debit_last4 in freeze.text
    assert chat.approve().tools == ["freeze_card"]
    unfreeze = chat.say("now unfreeze my debit card again")
    assert unfreeze.pending_tools == ["unfreeze_card"]
    assert chat.approve().tools == ["unfreeze_card"]
    assert _balance(engine, customer.checking_id) == checking - 3000
    with engine.connect() as conn:
        status = conn.execute(
            text("SELECT status FROM card WHERE person_id = :p AND last4 = :l"),
            {"p": customer.person_id, "l": customer.debit_last4},
        ).scalar_one()
    assert status == "active"


def _active_rules(engine: Engine, person_id: int) -> list[int]:
    with engine.connect() as conn:
        return [
            int(r[0])
            for r in conn.execute(
                text("SELECT amount_minor FROM scheduled_transfer WHERE person_id = :p AND active"),
                {"p": person_id},
            )
        ]


def test_a_savings_rule_is_set_up_then_cancelled_by_picking_it(
    chat: Chat, customer: Customer, bank: Any
) -> None:
    engine = bank[1]
    existing = _active_rules(engine, customer.person_id)
    if existing:  # one rule per pair of accounts: drop the seeded one first
        drop = chat.say("cancel my scheduled payment")
        if len(existing) > 1:
            drop = chat.say("the first one")
        assert drop.pending_tools == ["cancel_scheduled_payment"], drop.text
        chat.approve()
        assert len(_active_rules(engine, customer.person_id)) == len(existing) - 1
    rule = chat.say("move 215 to savings every payday")
    assert rule.pending_tools == ["create_savings_rule"], rule.text
    assert "every payday" in rule.text and "$215.00" in rule.text
    assert chat.approve().tools == ["create_savings_rule"]
    assert 21_500 in _active_rules(engine, customer.person_id)
    again = chat.say("set up another 215 every payday into savings")
    assert again.pending_tools == ["create_savings_rule"]
    refused = chat.approve()
    assert "already have a savings rule" in refused.text and "Nothing was changed" in refused.text
    assert _active_rules(engine, customer.person_id).count(21_500) == 1
    cancel = chat.say("cancel my scheduled payment")
    if "Which scheduled payment" in cancel.text:
        assert "$215.00" in cancel.text
        cancel = chat.say("the 215 one")
    assert cancel.pending_tools == ["cancel_scheduled_payment"], cancel.text
    assert "$215.00" in cancel.text or "215" in str(cancel.pending)
    assert chat.approve().tools == ["cancel_scheduled_payment"]
    assert 21_500 not in _active_rules(engine, customer.person_id)


def test_words_the_model_cannot_place_get_an_honest_offer_of_an_advisor(chat: Chat) -> None:
    said = chat.say("asdkj qwe")
    assert "not sure" in said.text and "advisor" in said.text
    handed = chat.say("yes")
    assert handed.pending_tools == ["handoff"]
