"""The routing evaluation's parts: the capability map, reading a turn's route, the summary."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from evals.routing import (
    Capability,
    Query,
    Route,
    load_capabilities,
    load_queries,
    route_of,
    summarise,
)
from tools.read import READ_TOOLS
from tools.write import WRITE_TOOLS

# CLINC150's banking and credit-card intents, as its domains.json names them
CLINC_BANKING = {
    "transfer", "balance", "pay_bill", "bill_due", "bill_balance", "freeze_account",
    "transactions", "spending_history", "report_fraud", "interest_rate", "min_payment",
    "routing", "pin_change", "order_checks", "account_blocked",
}  # fmt: skip
CLINC_CREDIT_CARDS = {
    "report_lost_card", "damaged_card", "new_card", "replacement_card_duration",
    "card_declined", "credit_limit", "credit_limit_change", "apr", "credit_score",
    "improve_credit_score", "rewards_balance", "redeem_rewards", "international_fees",
    "expiration_date", "application_status",
}  # fmt: skip
SAMPLE = Path(__file__).parents[2] / "integration" / "evals" / "clinc_sample" / "data_full.json"
WRITES = {t.name for t in WRITE_TOOLS}
READS = {t.name for t in READ_TOOLS} - {"search_knowledge"}


def test_the_map_covers_every_banking_and_credit_card_intent_with_a_real_capability() -> None:
    mapping = load_capabilities()
    assert set(mapping) == CLINC_BANKING | CLINC_CREDIT_CARDS
    assert {i for i, c in mapping.items() if c.domain == "banking"} == CLINC_BANKING
    for capability in mapping.values():
        for route in (capability.route, *capability.also):
            assert route.kind in ("task", "read", "knowledge", "none")
            if route.kind == "task":
                assert route.tool in WRITES
            elif route.kind == "read":
                assert route.tool in READS
            else:
                assert route.tool is None
    assert mapping["transfer"].route == Route("task", "transfer")
    assert mapping["balance"].route == Route("read", "get_accounts")


def test_a_map_naming_a_tool_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "map.yaml"
    bad.write_text("banking:\n  transfer: {capability: task, tool: teleport}\n")
    with pytest.raises(ValueError, match="transfer"):
        load_capabilities(bad)
    bad.write_text("banking:\n  transfer: {capability: maybe}\n")
    with pytest.raises(ValueError, match="capability"):
        load_capabilities(bad)


def test_queries_are_split_into_banking_and_everything_else() -> None:
    inside, outside = load_queries(SAMPLE, "test")
    assert {q.domain for q in inside} == {"banking", "credit_cards"}
    assert {q.intent for q in outside} == {"cook_time", "timer", "oos"}
    assert sum(q.intent == "oos" for q in outside) == 3
    with pytest.raises(ValueError):
        load_queries(SAMPLE, "everything")


def _call(name: str) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": name, "args": {}, "id": "c1", "type": "tool_call"}])


def test_the_route_is_the_first_move_a_task_before_a_read_before_knowledge() -> None:
    def route(*messages: object, **more: object) -> str:
        result = {"messages": [HumanMessage("hi"), *messages], **more}
        return str(route_of(result, WRITES, READS))

    assert route(AIMessage("That's not something I can help with here.")) == "none"
    assert route(_call("get_accounts"), AIMessage("Here are your balances")) == "read:get_accounts"
    assert route(_call("search_knowledge"), AIMessage("From our articles")) == "knowledge"
    asking = AIMessage(
        "Who would you like to pay?",
        additional_kwargs={"concierge": {"frame": {"intent": "pay_bill", "status": "asking"}}},
    )
    assert route(asking) == "task:pay_payee"  # a task that starts by asking for a detail
    searching = {"concierge": {"frame": {"intent": "dispute_transaction", "status": "searching"}}}
    assert route(AIMessage("", additional_kwargs=searching)) == "task:dispute_transaction"
    assert route(_call("freeze_card")) == "task:freeze_card"


def test_the_summary_scores_banking_by_the_map_and_the_rest_by_starting_nothing() -> None:
    mapping = {
        "balance": Capability("balance", "banking", Route("read", "get_accounts")),
        "apr": Capability("apr", "credit_cards", Route("knowledge"), (Route("none"),)),
    }
    routed = [
        (Query("my balance", "balance", "banking"), Route("read", "get_accounts"), ""),
        (Query("balance pls", "balance", "banking"), Route("task", "transfer"), ""),
        (Query("apr?", "apr", "credit_cards"), Route("none"), ""),  # an accepted alternative
        (Query("weather", "oos", "oos"), Route("none"), ""),
        (Query("a joke", "oos", "oos"), Route("knowledge"), ""),
    ]
    report = summarise(routed, mapping, seconds=1.0)
    assert report["in_scope_accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    assert report["oos_no_task_rate"] == 0.5
    assert (report["n_in_scope"], report["n_oos"]) == (3, 2)
    assert report["by_intent"]["balance"]["routes"] == {"read:get_accounts": 1, "task:transfer": 1}
    wrong = {(c["intent"], c["routed"]) for c in report["confusions"]}
    assert wrong == {("balance", "task:transfer"), ("oos", "knowledge")}


def test_the_command_learns_the_apps_examples_else_the_data_files_train_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evals.cli import _default_examples

    monkeypatch.delenv("CONCIERGE_NLU_EXAMPLES", raising=False)
    assert _default_examples(SAMPLE) == SAMPLE
    log = tmp_path / "log.csv"
    monkeypatch.setenv("CONCIERGE_NLU_EXAMPLES", str(log))
    from services.settings import get_settings

    get_settings.cache_clear()
    assert _default_examples(SAMPLE) == log
