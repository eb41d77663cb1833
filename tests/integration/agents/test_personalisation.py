"""In the conversation: an insight on hello, one suggestion after an answer, the answer logged."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver
from sqlalchemy import text

from agents.customer import customer_context
from agents.graph import compile_graph
from agents.nlu import IntentModel
from agents.offline.model import OfflineChatModel
from app.bootstrap import make_recommender
from services.insights.cache import InsightCache
from services.synth.writer import seed_bank
from tools.bank import Bank
from tools.registry import all_tools
from tools.runtime import ChatContext

NOW = datetime(2026, 11, 28, 15, tzinfo=UTC)


@pytest.fixture
def setup(engine, classifier_dir):
    seed_bank(engine, customers=6, seed=21, as_of=NOW.date())
    insights = InsightCache()
    bank = Bank(engine, recommender=make_recommender(engine, insights), insights=insights)
    model = OfflineChatModel(classifier=IntentModel.load(classifier_dir))
    graph = compile_graph(
        model=model,
        tools=all_tools(),
        customer_context=customer_context,
        checkpointer=InMemorySaver(),
    )
    return bank, graph


def _say(graph, bank, person: int, text_: str) -> str:
    run = ChatContext(person_id=person, bank=bank, now=NOW)
    out = graph.invoke(
        {"messages": [("user", text_)]}, {"configurable": {"thread_id": "p"}}, context=run
    )
    return next(m.content for m in reversed(out["messages"]) if isinstance(m, AIMessage))


def _responses(engine, person: int) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT offer_code, response FROM offer_event WHERE person_id = :p "
                "AND channel = 'chat' ORDER BY id"
            ),
            {"p": person},
        )
        return [(r[0], r[1]) for r in rows]


def test_one_suggestion_follows_an_answer_and_a_no_is_recorded(setup) -> None:
    bank, graph = setup
    people = [p for p in range(1, 7) if customer_context(ChatContext(p, bank, NOW)).offer]
    assert people, "no seeded customer has a chat offer allowed now"
    person = people[0]
    offer = customer_context(ChatContext(person, bank, NOW)).offer
    assert offer is not None
    seen = len(_responses(bank.engine, person))  # the seeded bank's own offer history
    answer = _say(graph, bank, person, "what's my balance")
    assert "By the way" in answer and offer["body"] in answer
    # shown: one row in the offer log, not answered yet
    assert _responses(bank.engine, person)[seen:] == [(offer["code"], "ignored")]
    assert "won't bring it up" in _say(graph, bank, person, "no thanks")
    assert _responses(bank.engine, person)[seen:] == [(offer["code"], "declined")]
    # declined: the cool-down keeps it out of the next answers
    again = customer_context(ChatContext(person, bank, NOW)).offer
    assert again is None or again["code"] != offer["code"]


def test_hello_follows_up_on_an_insight_worth_a_word(setup) -> None:
    bank, graph = setup
    people = [p for p in range(1, 7) if customer_context(ChatContext(p, bank, NOW)).insight]
    if not people:
        pytest.skip("no seeded customer has a warning-level insight")  # pragma: no cover
    ctx = customer_context(ChatContext(people[0], bank, NOW))
    assert ctx.insight is not None
    hello = _say(graph, bank, people[0], "hello")
    assert ctx.first_name in hello and ctx.insight["message"] in hello
