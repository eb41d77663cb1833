"""The chat's knowledge search ranks with the question model, and the evaluation measures it.

One index of the shipped articles is built for the module; every knowledge base here opens it
through the composition root (:func:`app.bootstrap.knowledge_base`), as the app does, with its
own settings for the question log.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from app.bootstrap import knowledge_base
from evals.knowledge import run_knowledge_eval, score
from knowledge.index import KnowledgeBase
from knowledge.questions import QuestionModel, topic
from services.settings import Settings
from tools.read import knowledge_answer

# Questions put the way customers put them; with the articles' phrasings blended in, the first
# article is not always the one closest in meaning (checked below, so the test has teeth).
QUERIES = [
    "my card still hasn't come",
    "why was I charged extra for paying in euros",
    "can I get my money back for something I bought",
    "what's the exchange rate at a cash machine",
    "the app says my top up is still pending",
    "is there a charge to receive money from abroad",
    "how do I change my PIN",
    "I can't verify who I am",
    "a payment I didn't make is on my statement",
    "my transfer hasn't arrived yet",
]
LOG_ONLY = "where has my glimmerbox gone"  # words no article uses


@pytest.fixture(scope="module")
def var(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A var/ folder holding the shipped articles' index, built once."""
    folder = tmp_path_factory.mktemp("var")
    knowledge_base(Settings(_env_file=None, var_dir=folder)).ensure_index()
    return folder


def _kb(var: Path, log: Path | None = None) -> KnowledgeBase:
    return knowledge_base(Settings(_env_file=None, var_dir=var, knowledge_questions=log))


def _write_rows(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category"])
        writer.writerows(rows)
    return path


def test_a_fresh_install_learns_from_the_articles_alone(
    var: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONCIERGE_KNOWLEDGE_QUESTIONS", raising=False)
    monkeypatch.setenv("BANKING77", str(var / "nowhere"))  # a data set is no setting of the app
    kb = _kb(var)
    model = kb.questions
    assert model is not None and kb.question_log is None
    topics = {topic(a.intents, a.id) for a in kb.articles.values()}
    assert set(model.labels) == topics
    phrasings = sum(1 + len(a.ways_customers_ask) for a in kb.articles.values())
    assert model.n_train == phrasings
    assert (var / "knowledge").is_dir()  # kept beside the index, for the next start


def test_the_chat_ranks_with_the_question_model(var: Path) -> None:
    kb = _kb(var)
    plain = KnowledgeBase(kb.client, list(kb.articles.values()), questions=False)
    chat = [[h["article_id"] for h in knowledge_answer(kb, q)["hits"]] for q in QUERIES]
    meaning = [[h.article_id for h in plain.search(q, k=3)] for q in QUERIES]
    assert all(len(found) == 3 for found in chat)
    assert chat != meaning  # the blend changes what customers are shown


def test_the_evaluation_scores_exactly_what_the_chat_answers(var: Path, tmp_path: Path) -> None:
    kb = _kb(var)
    chat = {q: [h["article_id"] for h in knowledge_answer(kb, q)["hits"]] for q in QUERIES}
    intents = {q: [kb.articles[a].intents for a in found] for q, found in chat.items()}
    # labelled with the first article's intent: a hit at 1; with only the third's: at 3
    first = [(q, found[0][0]) for q, found in intents.items() if found[0]]
    third = [
        (q, found[2][0])
        for q, found in intents.items()
        if found[2] and found[2][0] not in {*found[0], *found[1]}
    ]
    assert len(first) >= 5 and third

    # the scorer with its defaults, on this knowledge base
    assert score(kb, first)["hit_at_1"] == 1.0
    found = score(kb, third)
    assert found["hit_at_1"] == 0.0 and found["hit_at_3"] == 1.0

    # the whole evaluation, which builds its knowledge base as the app does
    data = _write_rows(tmp_path / "first.csv", first)
    result = run_knowledge_eval(data, workdir=var)
    assert result["hit_at_1"] == 1.0 and result["through_chat"]["n"] == len(first)
    result = run_knowledge_eval(_write_rows(tmp_path / "third.csv", third), workdir=var)
    assert result["hit_at_1"] == 0.0 and result["hit_at_3"] == 1.0


def test_a_question_log_teaches_what_the_articles_do_not_say(var: Path, tmp_path: Path) -> None:
    before = [h.article_id for h in _kb(var).search(LOG_ONLY, k=3)]
    target = "card-not-arrived"
    assert before[0] != target
    log = _write_rows(
        tmp_path / "log.csv",
        [
            ("where has my glimmerbox gone", "card_arrival"),
            ("my glimmerbox is missing", "card_arrival"),
            ("glimmerbox never turned up", "card_arrival"),
            ("how do I close my account", "terminate_account"),
            ("shut my account down", "terminate_account"),
        ],
    )
    kb = _kb(var, log)
    after = [h.article_id for h in kb.search(LOG_ONLY, k=3)]
    assert after[0] == target
    assert kb.questions is not None and "card_arrival" in kb.questions.labels


def test_the_question_model_is_built_once_and_reused(
    var: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds: list[int] = []
    fit = QuestionModel.fit

    def counted(self: QuestionModel, *args: object, **kwargs: object) -> QuestionModel:
        builds.append(1)
        return fit(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(QuestionModel, "fit", counted)
    log = _write_rows(tmp_path / "log.csv", [("card please", "card_arrival"), ("hi", "greeting")])
    first = _kb(var, log)
    first.search("where is my card")
    first.search("and my PIN?")
    assert len(builds) == 1  # built on first use, then kept in memory
    again = _kb(var, log)  # the next start: loaded from var/knowledge
    assert again.questions is not None and len(builds) == 1
    assert again.questions.labels == first.questions.labels  # type: ignore[union-attr]
    _write_rows(log, [("card please", "card_arrival"), ("hello", "greeting")])
    assert _kb(var, log).questions is not None and len(builds) == 2  # the log changed
