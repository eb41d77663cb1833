"""The warm start: /ready waits for the models and the knowledge index, then the first question
loads nothing.

The loaders are counted where they are defined (``SentenceEncoder.load``, ``IntentModel.load``,
``KnowledgeBase.ensure_index``, the knowledge search's question model, ``build_assistant``),
and the process's shared encoder is dropped first, so the warm start has to load everything itself.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import knowledge.embedder
import knowledge.index
from agents.nlu.model import IntentModel
from app import bootstrap
from app.auth import Role, issue_token
from app.main import create_app
from app.warmup import WarmUp
from knowledge.encoding.encoder import SentenceEncoder
from knowledge.index import KnowledgeBase
from services.db import make_engine
from services.settings import Settings
from services.synth.writer import seed_bank

pytestmark = pytest.mark.slow
KEY = "warm-test-key"
QUESTION = "how long does an international transfer take?"  # answered from the help articles
WAIT_S = 600  # a bound for a hung warm-up, not a speed expectation


def _counting(calls: Counter[str], name: str, original: Callable[..., Any]) -> Any:
    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[name] += 1
        return original(*args, **kwargs)

    return counted


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often each loader ran; the process's shared sentence encoder starts unloaded."""
    found: Counter[str] = Counter()
    monkeypatch.setattr(knowledge.embedder, "_encoder", None)
    encoder_load = SentenceEncoder.load.__func__  # type: ignore[attr-defined]
    model_load = IntentModel.load.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(
        SentenceEncoder, "load", classmethod(_counting(found, "encoder", encoder_load))
    )
    monkeypatch.setattr(IntentModel, "load", classmethod(_counting(found, "intents", model_load)))
    monkeypatch.setattr(
        KnowledgeBase, "ensure_index", _counting(found, "index", KnowledgeBase.ensure_index)
    )
    monkeypatch.setattr(
        knowledge.index,
        "question_model",
        _counting(found, "questions", knowledge.index.question_model),
    )
    monkeypatch.setattr(
        bootstrap, "build_assistant", _counting(found, "assistant", bootstrap.build_assistant)
    )
    return found


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, classifier_dir: Path) -> Settings:
    """A small bank; the knowledge index under its var/ is built by the first test to start."""
    var = tmp_path_factory.mktemp("warm")
    url = f"sqlite:///{(var / 'bank.db').as_posix()}"
    engine = make_engine(url)
    seed_bank(engine, customers=2, seed=3, as_of=date.today())
    engine.dispose()
    return Settings(
        var_dir=var, database_url=url, secret_key=KEY, nlu_model=classifier_dir, warm_start=True
    )


@pytest.fixture
def index_gate(monkeypatch: pytest.MonkeyPatch, calls: Counter[str]) -> Iterator[threading.Event]:
    """Holds the warm start at the knowledge index until set."""
    gate = threading.Event()
    counted = KnowledgeBase.ensure_index

    def held(self: KnowledgeBase, *args: Any, **kwargs: Any) -> bool:
        gate.wait()
        return counted(self, *args, **kwargs)

    monkeypatch.setattr(KnowledgeBase, "ensure_index", held)
    yield gate
    gate.set()  # never leave the warm-up thread waiting


def _ask(client: TestClient, thread: str) -> list[dict[str, Any]]:
    token = issue_token(person_id=1, role=Role.customer, key=KEY)
    with client.websocket_connect(f"/ws/chat?token={token}") as ws:
        assert ws.receive_json()["type"] == "STATE_SNAPSHOT"
        ws.send_json({"type": "USER_MESSAGE", "threadId": thread, "text": QUESTION})
        frames = [ws.receive_json()]
        while frames[-1]["type"] not in {"RUN_FINISHED", "RUN_ERROR"}:
            frames.append(ws.receive_json())
    return frames


def test_ready_waits_for_the_warm_start_and_the_first_question_then_loads_nothing(
    settings: Settings, calls: Counter[str], index_gate: threading.Event
) -> None:
    app = create_app(settings)
    with TestClient(app) as client:
        # the knowledge index is held: the process serves, but is not ready
        assert client.get("/health").json() == {"status": "ok"}
        waiting = client.get("/ready")
        assert waiting.status_code == 503
        body = waiting.json()
        assert body["status"] == "warming" and body["database"] == "ok"
        assert "knowledge" in body["warming"]
        assert set(body["warming"]) <= {"assistant", "knowledge"}

        index_gate.set()
        assert app.state.warm_up.done.wait(WAIT_S), "the warm start did not finish"
        ready = client.get("/ready")
        assert ready.status_code == 200 and ready.json() == {"status": "ok", "database": "ok"}
        warmed = Counter(calls)
        # the warm start did the loading: the assistant, its intent model, both encoders
        # (the intent model's and the knowledge index's), the index (built or opened) and the
        # knowledge search's question model (built or loaded)
        assert warmed["assistant"] == 1 and warmed["intents"] == 1 and warmed["index"] == 1
        assert warmed["questions"] == 1
        assert warmed["encoder"] >= 2

        frames = _ask(client, "warm")
        assert frames[-1]["type"] == "RUN_FINISHED", frames[-1]
        used = [f["toolCallName"] for f in frames if f["type"] == "TOOL_CALL_START"]
        assert "search_knowledge" in used, used
        assert calls == warmed, "the first question loaded something the warm start had not"


def test_without_a_warm_start_ready_answers_at_once_and_the_first_chat_builds(
    settings: Settings, calls: Counter[str]
) -> None:
    app = create_app(settings.model_copy(update={"warm_start": False}))
    with TestClient(app) as client:
        assert client.get("/ready").status_code == 200
        assert calls["assistant"] == 0 and calls["index"] == 0
        frames = _ask(client, "cold")
        assert frames[-1]["type"] == "RUN_FINISHED", frames[-1]
        assert calls["assistant"] == 1 and calls["index"] == 1


def test_ready_names_a_part_that_failed_to_load(settings: Settings) -> None:
    def broken() -> None:
        raise OSError("the knowledge index cannot be opened")

    app = create_app(settings.model_copy(update={"warm_start": False}))
    with TestClient(app) as client:
        app.state.warm_up = WarmUp([("assistant", lambda: None), ("knowledge", broken)])
        app.state.warm_up.run()
        answer = client.get("/ready")
        assert answer.status_code == 503
        assert answer.json() == {
            "status": "unavailable",
            "database": "ok",
            "warming": [],
            "failed": ["knowledge"],
        }
        assert client.get("/health").status_code == 200
