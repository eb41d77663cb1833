"""Knowledge answers quote the passage on what was asked: fees, limits, timing or steps.

Paraphrased questions across several topics, searched against the shipped articles; each must be
answered from a passage on the asked aspect, not from a section that merely shares the subject
(a transfer's limits for a question about its fees).
"""

from __future__ import annotations

import re

import pytest

from knowledge.embedder import embed
from knowledge.index import KnowledgeBase, make_client

# question -> the (article, section heading) passages that answer it
ANSWERS: dict[str, set[tuple[str, str]]] = {
    "Is there a fee for sending money abroad?": {
        ("international-transfers", "Fees"),
        ("transfer-fees", "Our transfer fees"),
    },
    "what do you charge to send euros to my sister in Spain?": {
        ("international-transfers", "Fees"),
        ("transfer-fees", "Our transfer fees"),
    },
    "are there any costs for a SWIFT payment overseas?": {
        ("international-transfers", "Fees"),
        ("transfer-fees", "Our transfer fees"),
    },
    "what's the maximum I can transfer overseas per day?": {
        ("international-transfers", "Limits"),
        ("limits-overview", "Sending money"),
    },
    "how can I send money to a bank account in another country?": {
        ("international-transfers", "How to send"),
    },
    "does it cost anything to take cash out of an ATM?": {
        ("atm-fees", "Our fees"),
        ("atm-fees", "Fees from the ATM owner"),
    },
    "how much can I top up in one day?": {
        ("top-up-limits", "Card top-ups (including Apple Pay and Google Pay)"),
    },
    "what's the price of express delivery for a card?": {
        ("card-delivery-times", "Delivery options"),
    },
}


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    base = KnowledgeBase(make_client(var_dir=tmp_path_factory.mktemp("kb")))
    base.ensure_index()
    return base


def _quoted(kb: KnowledgeBase, question: str) -> tuple[str, str]:
    hit = kb.search(question, k=3)[0]
    first = hit.passage.split("\n", 1)[0]
    prefix = f"{hit.title}: "
    heading = first[len(prefix) :].rstrip(".") if first.startswith(prefix) else ""
    return hit.article_id, heading


@pytest.mark.parametrize("question", list(ANSWERS))
def test_the_quoted_passage_is_on_the_asked_aspect(kb: KnowledgeBase, question: str) -> None:
    assert _quoted(kb, question) in ANSWERS[question]


def test_one_article_answers_its_fees_limits_timing_and_steps_from_different_passages(
    kb: KnowledgeBase,
) -> None:
    article = kb.articles["international-transfers"]
    asked = {
        "how much does it cost to send money to Mexico?": "Fees",
        "what's the most I can send to Mexico in a day?": "Limits",
        "how long does money sent to Mexico take to arrive?": "How long it takes",
        "how do I send money to Mexico?": "How to send",
    }
    vectors = embed(list(asked))
    for (question, heading), vector in zip(asked.items(), vectors, strict=True):
        passage = kb.answer(article, question, vector)
        assert passage.startswith(f"{article.title}: {heading}.\n"), (question, passage[:60])


def test_a_quoted_table_keeps_its_rows_on_their_own_lines(kb: KnowledgeBase) -> None:
    hit = kb.search("Is there a fee for sending money abroad?", k=1)[0]
    # the fees table of whichever transfer article answers, as Markdown a reply can render
    assert re.search(r"\n\| \w+ \| Fee \|\n\|---\|---\|\n(\| [^\n]+ \|\n)+", hit.passage)
