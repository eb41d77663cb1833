"""The knowledge index on Chroma: built once, rebuilt only on change, filtered, cited."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.articles import load_articles, parse_article
from knowledge.index import KnowledgeBase, chunks_of, index_hash, make_client

ARTICLE = """---
id: {id}
title: {title}
tags: [{tag}]
products: [{product}]
intents: [{intent}]
---
{body}

## Details

{details}

## Ways customers ask

- {ask}
"""


def _write(folder: Path, id_: str, **fields: str) -> Path:
    path = folder / f"{id_}.md"
    path.write_text(ARTICLE.format(id=id_, **fields), encoding="utf-8")
    return path


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    _write(
        folder,
        "card-pin",
        title="Changing your card PIN",
        tag="cards",
        product="debit_card",
        intent="change_pin",
        body="You can change the PIN of your debit card at any of our ATMs.",
        details="Choose PIN services, enter the old PIN, then the new one twice.",
        ask="how do i change my pin number",
    )
    _write(
        folder,
        "wire-fees",
        title="Fees for international wire transfers",
        tag="fees",
        product="transfers",
        intent="transfer_fee_charged",
        body="Sending money abroad by wire costs a flat fee per transfer.",
        details="Transfers between your own accounts at Concierge Bank are always free.",
        ask="why was i charged for sending money abroad",
    )
    _write(
        folder,
        "savings-rates",
        title="Savings account interest",
        tag="rates",
        product="savings",
        intent="",
        body="Our high-yield savings account pays interest monthly on the daily balance.",
        details="Rates change with the market; the current rate is in the app.",
        ask="what interest does my savings earn",
    )
    return folder


def test_the_index_is_built_once_and_rebuilt_when_content_changes(
    tmp_path: Path, articles: Path
) -> None:
    client = make_client(var_dir=tmp_path / "var")
    kb = KnowledgeBase(client, load_articles(articles))
    assert kb.ensure_index() is True
    count = kb.collection.count()
    assert count == sum(len(chunks_of(a)) for a in kb.articles.values())
    # a second process on the same files finds it current
    again = KnowledgeBase(make_client(var_dir=tmp_path / "var"), load_articles(articles))
    assert again.ensure_index() is False and again.collection.count() == count
    path = articles / "savings-rates.md"
    path.write_text(path.read_text().replace("monthly", "daily"), encoding="utf-8")
    changed = KnowledgeBase(client, load_articles(articles))
    assert changed.ensure_index() is True
    assert index_hash(list(changed.articles.values())) != index_hash(list(kb.articles.values()))
    [hit] = changed.search("how often is interest paid on savings", k=1)
    assert hit.article_id == "savings-rates" and "daily" in changed.articles[hit.article_id].body


def test_search_ranks_by_meaning_and_names_its_articles(tmp_path: Path, articles: Path) -> None:
    kb = KnowledgeBase(make_client(var_dir=tmp_path), load_articles(articles))
    hits = kb.search("I want a new PIN for my card", k=3)
    assert [h.article_id for h in hits][0] == "card-pin"
    assert len({h.article_id for h in hits}) == len(hits) == 3  # one hit per article
    assert hits[0].title == "Changing your card PIN" and hits[0].passage
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert kb.search("   ") == []


def test_filters_keep_only_matching_articles(tmp_path: Path, articles: Path) -> None:
    kb = KnowledgeBase(make_client(var_dir=tmp_path), load_articles(articles))
    only = kb.search("I want a new PIN for my card", k=3, products=["transfers"])
    assert [h.article_id for h in only] == ["wire-fees"]
    assert kb.search("fees", k=3, tags=["rates"])[0].article_id == "savings-rates"
    assert kb.search("fees", k=3, products=["mortgage"]) == []


def test_intent_probabilities_reorder_the_articles(tmp_path: Path, articles: Path) -> None:
    kb = KnowledgeBase(make_client(var_dir=tmp_path), load_articles(articles))
    query = "my card"
    plain = kb.search(query, k=3)
    steered = kb.search(query, k=3, intent_scores={"transfer_fee_charged": 0.9})
    assert plain[0].article_id == "card-pin"
    assert steered[0].article_id == "wire-fees" and steered[0].score > steered[0].similarity


def test_a_bad_chroma_url_is_refused() -> None:
    with pytest.raises(ValueError, match="CONCIERGE_CHROMA_URL"):
        make_client(var_dir=Path("."), chroma_url="chroma:8000")


def test_the_shipped_articles_chunk_with_their_ids(tmp_path: Path) -> None:
    article = load_articles()[0]
    chunks = chunks_of(article)
    assert {c.article_id for c in chunks} == {article.id}
    assert sum(c.kind == "question" for c in chunks) == len(article.ways_customers_ask)
    assert parse_article(article.path) == article


def test_embeddings_are_sentence_transformers_own() -> None:
    """The index's vectors (ONNX Runtime) are the reference model's, short texts and long."""
    import numpy as np

    from knowledge.embedder import MAX_TOKENS, embed, sentence_model

    article = load_articles()[0]
    texts = [
        "how do I activate my card",
        "my transfer has not arrived yet, what is going on?",
        article.body,
        " ".join([article.body] * 4),  # beyond the model's 256 tokens: truncated alike
    ]
    ours = embed(texts)
    reference = sentence_model().encode(texts, normalize_embeddings=True)
    assert sentence_model().max_seq_length == MAX_TOKENS
    assert ours.shape == (4, 384) and ours.dtype == np.float32
    assert np.allclose(ours, reference, atol=1e-5)
    assert embed([]).shape == (0, 384)


BUILD = """
import sys
from pathlib import Path
from knowledge.articles import load_articles
from knowledge.index import KnowledgeBase, make_client
var = Path(sys.argv[1])
kb = KnowledgeBase(make_client(var_dir=var), load_articles(Path(sys.argv[2])), var_dir=var)
print("built" if kb.ensure_index() else "found", kb.collection.count())
"""


def test_workers_starting_together_build_the_index_once(tmp_path: Path, articles: Path) -> None:
    import subprocess
    import sys

    var = tmp_path / "var"
    command = [sys.executable, "-c", BUILD, str(var), str(articles)]
    workers = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [w.communicate(timeout=300)[0].split() for w in workers]
    assert [w.returncode for w in workers] == [0, 0]
    expected = sum(len(chunks_of(a)) for a in load_articles(articles))
    assert sorted(o[0] for o in outputs) == ["built", "found"]
    assert {int(o[1]) for o in outputs} == {expected}
