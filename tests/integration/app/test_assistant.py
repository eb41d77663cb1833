"""The wired assistant: real classifier, tools, checkpoints; a conversation outlives a restart."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage

from app.bootstrap import build_assistant, checkpointer, open_engine
from services.settings import Settings
from services.synth.writer import seed_bank

NOW = datetime(2026, 11, 28, 15, tzinfo=UTC)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, classifier_dir: Path) -> Settings:
    var = tmp_path_factory.mktemp("var")
    settings = Settings(
        var_dir=var,
        database_url=f"sqlite:///{(var / 'bank.db').as_posix()}",
        nlu_model=classifier_dir,
    )
    engine = open_engine(settings)
    seed_bank(engine, customers=12, seed=5, as_of=NOW.date())
    engine.dispose()
    return settings


def _text(result: dict) -> str:
    return next(m.content for m in reversed(result["messages"]) if isinstance(m, AIMessage))


def test_a_balance_question_is_answered_from_the_customers_accounts(settings: Settings) -> None:
    engine = open_engine(settings)
    try:
        with checkpointer(settings) as saver:
            assistant = build_assistant(settings, engine, saver)
            result = assistant.run("b1", 3, {"messages": [("user", "what's my balance?")]}, NOW)
        with engine.connect() as conn:
            names = [
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT name FROM account WHERE person_id = 3 AND status != 'closed'"
                )
            ]
        reply = _text(result)
        assert names and all(name in reply for name in names)
    finally:
        engine.dispose()


def test_a_task_half_done_continues_after_a_restart(settings: Settings) -> None:
    engine = open_engine(settings)
    try:
        with checkpointer(settings) as saver:
            first = build_assistant(settings, engine, saver)
            asked = first.run("r1", 3, {"messages": [("user", "I want to move some money")]}, NOW)
            assert "How much" in _text(asked)
        with checkpointer(settings) as saver:  # a new process: a fresh saver on the same store
            second = build_assistant(settings, engine, saver)
            again = second.run("r1", 3, {"messages": [("user", "250 dollars")]}, NOW)
            assert "come from" in _text(again)
            history = second.graph.get_state({"configurable": {"thread_id": "r1"}}).values
            assert len([m for m in history["messages"] if isinstance(m, AIMessage)]) == 2
    finally:
        engine.dispose()


def test_checkpoints_live_under_var(settings: Settings) -> None:
    assert (Path(settings.var_dir) / "checkpoints.db").is_file()


def test_a_handoff_opens_a_case_carrying_the_context_summary(settings: Settings) -> None:
    from langgraph.types import Command
    from sqlalchemy import text

    engine = open_engine(settings)
    try:
        with checkpointer(settings) as saver:
            assistant = build_assistant(settings, engine, saver)
            asked = assistant.run(
                "h1", 3, {"messages": [("user", "can I talk to a real person please")]}, NOW
            )
            assert "advisor" in asked["__interrupt__"][0].value["text"]
            done = assistant.run("h1", 3, Command(resume={"approve": True}), NOW)
        assert "advisor" in _text(done)
        with engine.connect() as conn:
            summary = conn.execute(
                text("SELECT summary FROM handoff_case WHERE person_id = 3")
            ).scalar_one()
        assert "Products:" in summary and "[account:" in summary
        assert "can I talk to a real person please" in summary
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_conversation_resumes_from_postgres_checkpoints_across_restarts(
    settings: Settings,
) -> None:
    import uuid

    from tests.support.servers import POSTGRES_URL, require_postgres

    require_postgres()
    on_postgres = settings.model_copy(update={"database_url": POSTGRES_URL})
    thread = f"pg-{uuid.uuid4().hex}"
    engine = open_engine(settings)  # the bank stays on SQLite; only checkpoints move
    try:
        with checkpointer(on_postgres) as saver:
            assert type(saver).__name__ == "PostgresSaver"
            first = build_assistant(settings, engine, saver)
            asked = first.run(thread, 3, {"messages": [("user", "I want to move some money")]}, NOW)
            assert "How much" in _text(asked)
        with checkpointer(on_postgres) as saver:
            second = build_assistant(settings, engine, saver)
            again = second.run(thread, 3, {"messages": [("user", "250 dollars")]}, NOW)
            assert "come from" in _text(again)
    finally:
        engine.dispose()
