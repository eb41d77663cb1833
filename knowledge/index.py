"""The knowledge index: articles chunked into Chroma with the bundled MiniLM, searched by meaning.

Each article becomes chunks: its title with the opening paragraph, each ``##`` section, and each
of the ways customers ask (short questions match short questions best). Every chunk carries the
article's id and title, and flags for its products and tags (``product_<name>``,
``tag_<name>``) so a search can be filtered. An article's score is its best chunk's cosine
similarity, blended with the best probability the question model (:mod:`knowledge.questions`)
gives among the article's labels (its id and its ``intents``): :func:`rank_articles` is the one
ranking, used by the chat's ``search_knowledge`` tool and measured by ``concierge eval
knowledge`` alike. The question model is trained from the articles' own phrasings and, when the
bank gives them (``question_log``), its question logs; it is built on first use (the app's warm
start does it at start-up) and kept under ``var/knowledge/`` (in memory only, without a
``var_dir``). A caller with an intent model of its own may pass its probabilities instead
(``intent_scores``).

Articles are ranked by meaning, but the passage quoted from each is the one that answers the
question asked: every prose chunk of the article is scored by its similarity to the question
plus how far it covers the aspect asked about (fees, limits, timing, steps;
:mod:`knowledge.passages`), so "is there a fee for sending money abroad?" quotes the article's
fees, not its limits. Passages keep their Markdown (tables, lists) for the reply to render.

The index is rebuilt only when the content changes: the collection keeps the articles' content
hash (with the chunker's and embedder's versions) in its metadata. Processes that share a
``var_dir`` (the server's workers) build it one at a time under a file lock there: the first builds,
the others wait and find it built. Storage is a Chroma
``PersistentClient`` under ``var/`` by default and an ``HttpClient`` when ``CONCIERGE_CHROMA_URL``
is set; the embedding function is always ours, never Chroma's downloading default.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
from filelock import FileLock

from knowledge.articles import WAYS_HEADING, Article, load_articles
from knowledge.embedder import NAME as EMBEDDER
from knowledge.embedder import MiniLMEmbeddingFunction, embed
from knowledge.passages import asked_aspects, passage_score
from knowledge.questions import (
    BLEND_WEIGHT,
    QuestionLogError,
    QuestionModel,
    digest,
    question_model,
    read_questions,
    topic,
)

log = logging.getLogger(__name__)

COLLECTION = "concierge-knowledge"
CHUNKER = "chunks-v1"
FETCH = 40  # chunks fetched per query before grouping them by article
# The chunks that are the articles' own phrasings of a question (the question model learns them)
PHRASINGS = ("lead", "question")


@dataclass(frozen=True)
class Chunk:
    """One indexed piece of an article."""

    id: str
    article_id: str
    kind: str  # "lead", "section" or "question"
    text: str
    metadata: dict[str, Any]
    heading: str = ""  # a section's heading
    body: str = ""  # the lead's or the section's Markdown

    @property
    def passage(self) -> str:
        """The chunk as a reply quotes it.

        A section's heading ends its own line and its Markdown follows as written, so its
        tables and lists stay tables and lists.
        """
        if self.kind == "section":
            return f"{self.metadata['title']}: {self.heading}.\n\n{self.body}"
        return self.text


@dataclass(frozen=True)
class Hit:
    """One article found for a query, with the passage that matched best."""

    article_id: str
    title: str
    score: float
    similarity: float
    passage: str


def make_client(*, var_dir: Path, chroma_url: str | None = None) -> Any:
    """A Chroma client: the server at ``chroma_url`` if given, else files under ``var_dir``."""
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if chroma_url:
        url = urlparse(chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(
                f"CONCIERGE_CHROMA_URL must be http(s)://host[:port], not {chroma_url!r}"
            )
        return chromadb.HttpClient(
            host=url.hostname,
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=settings,
        )
    folder = var_dir / "chroma"
    folder.mkdir(parents=True, exist_ok=True)
    # opening creates the store's tables the first time: one process at a time
    with FileLock(str(var_dir / "chroma.lock")):
        return chromadb.PersistentClient(path=str(folder), settings=settings)


def _flag(prefix: str, value: str) -> str:
    return f"{prefix}_{re.sub(r'[^a-z0-9]+', '_', value.lower()).strip('_')}"


def chunks_of(article: Article) -> list[Chunk]:
    """The article's chunks: lead, sections, questions (see the module docstring)."""
    base: dict[str, Any] = {"article_id": article.id, "title": article.title}
    base |= {_flag("product", p): True for p in article.products}
    base |= {_flag("tag", t): True for t in article.tags}
    parts = re.split(r"^## +", article.body, flags=re.MULTILINE)
    lead = parts[0].strip()
    out = [(f"{article.title}. {lead}".strip(), "lead", "", lead)]
    for part in parts[1:]:
        heading, _, text = part.partition("\n")
        if f"## {heading.strip()}" == WAYS_HEADING:
            continue
        section = (heading.strip(), text.strip())
        out.append((f"{article.title}: {section[0]}. {section[1]}", "section", *section))
    out += [(question, "question", "", question) for question in article.ways_customers_ask]
    return [
        Chunk(f"{article.id}#{i}", article.id, kind, text, {**base, "kind": kind}, heading, body)
        for i, (text, kind, heading, body) in enumerate(out)
        if text
    ]


def rank_articles(
    similarities: Mapping[str, float],
    articles: Mapping[str, Article],
    label_scores: Mapping[str, float] | None,
    *,
    weight: float = BLEND_WEIGHT,
) -> list[tuple[float, float, Article]]:
    """The articles found, best first: ``(score, similarity, article)`` each.

    An article's score is its best chunk's similarity plus ``weight`` times the best of
    ``label_scores`` (the question model's or an intent model's probabilities) among its id
    and its ``intents``; ties go by id.
    """
    ranked = []
    for article_id, similarity in similarities.items():
        article = articles.get(article_id)
        if article is None:
            continue
        score = similarity
        if label_scores:
            labels = (article.id, *article.intents)
            score += weight * max(label_scores.get(label, 0.0) for label in labels)
        ranked.append((round(score, 4), similarity, article))
    ranked.sort(key=lambda r: (-r[0], r[2].id))
    return ranked


def index_hash(articles: Sequence[Article]) -> str:
    """What the index was built from: the articles as loaded, the chunker and the embedder."""
    digest = sha256(f"{CHUNKER}:{EMBEDDER}".encode())
    for a in sorted(articles, key=lambda item: item.id):
        fields = (a.id, a.title, *a.tags, "|", *a.products, "|", *a.intents, "|", a.body)
        for part in fields:
            data = part.encode()
            digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


class KnowledgeBase:
    """Search over the bank's articles, backed by one Chroma collection."""

    def __init__(
        self,
        client: Any,
        articles: Sequence[Article] | None = None,
        *,
        collection: str = COLLECTION,
        var_dir: Path | None = None,
        question_log: Path | None = None,
        questions: bool = True,
    ) -> None:
        """Open (without building) the index of ``articles`` (the shipped ones by default).

        Args:
            client: The Chroma client (:func:`make_client`).
            articles: The articles; the shipped ones when None.
            collection: The Chroma collection's name.
            var_dir: Where the question model is kept (``var_dir/knowledge``); in memory only
                when None.
            question_log: A ``text,category`` CSV of the bank's customer questions that the
                question model learns from beside the articles' own phrasings.
            questions: Rank with the question model (False: by meaning alone).
        """
        self.client, self.name = client, collection
        self.articles = {a.id: a for a in (load_articles() if articles is None else articles)}
        self.var_dir, self.question_log, self.use_questions = var_dir, question_log, questions
        self._collection: Any = None
        self._prose: dict[str, list[tuple[Chunk, np.ndarray]]] | None = None
        self._questions: QuestionModel | None = None
        self._questions_ready = False
        self._lock = threading.Lock()

    def ensure_index(self, progress: Callable[[int, int], None] | None = None) -> bool:
        """Build the index if it is missing or stale; whether it was (re)built.

        With a ``var_dir``, one process at a time checks and builds (a file lock there): two
        workers starting together would otherwise both find it missing and both create it.
        """
        if self.var_dir is None:
            return self._ensure_index(progress)
        folder = self.var_dir / "knowledge"
        folder.mkdir(parents=True, exist_ok=True)
        with FileLock(str(folder / "index.lock")):
            return self._ensure_index(progress)

    def _ensure_index(self, progress: Callable[[int, int], None] | None) -> bool:
        wanted = index_hash(list(self.articles.values()))
        function = MiniLMEmbeddingFunction()
        existing = {c.name if hasattr(c, "name") else c for c in self.client.list_collections()}
        if self.name in existing:
            found = self.client.get_collection(self.name, embedding_function=function)
            if (found.metadata or {}).get("content_hash") == wanted and found.count() > 0:
                self._collection, self._prose = found, None
                return False
            self.client.delete_collection(self.name)
        collection = self.client.create_collection(
            self.name,
            embedding_function=function,
            metadata={"content_hash": wanted, "hnsw:space": "cosine"},
        )
        chunks = [c for a in self.articles.values() for c in chunks_of(a)]
        batch = 256
        for start in range(0, len(chunks), batch):
            part = chunks[start : start + batch]
            collection.add(
                ids=[c.id for c in part],
                documents=[c.text for c in part],
                metadatas=[c.metadata for c in part],
                embeddings=list(embed([c.text for c in part])),
            )
            if progress is not None:
                progress(min(start + batch, len(chunks)), len(chunks))
        self._collection, self._prose = collection, None
        return True

    def question_rows(self) -> list[tuple[str, str]]:
        """The question model's training rows: the articles' phrasings, then the log's."""
        rows = [
            (chunk.text, topic(article.intents, article.id))
            for article in self.articles.values()
            for chunk in chunks_of(article)
            if chunk.kind in PHRASINGS
        ]
        if self.question_log is not None:
            rows += read_questions(self.question_log)
        return rows

    @property
    def questions(self) -> QuestionModel | None:
        """The question model, loaded or built (after the index, whose vectors it reuses) once.

        None when ranking by meaning alone, or when the rows name fewer than two labels.
        """
        if not self.use_questions:
            return None
        with self._lock:
            if not self._questions_ready:
                try:
                    rows = self.question_rows()
                except QuestionLogError:
                    # a log that cannot be read must not silence the chat's knowledge answers
                    log.exception("the question log is unusable: learning from the articles alone")
                    self.question_log = None
                    rows = self.question_rows()
                key = digest(rows, EMBEDDER)[:16]
                folder = None if self.var_dir is None else self.var_dir / "knowledge"
                self._questions = question_model(
                    rows,
                    self._phrasing_vectors,
                    folder=None if folder is None else folder / f"questions-{key}",
                )
                self._questions_ready = True
            return self._questions

    def _phrasing_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of ``texts``: the index's own for the articles' phrasings, else encoded."""
        stored = self.collection.get(
            where={"kind": {"$in": list(PHRASINGS)}}, include=["documents", "embeddings"]
        )
        known = {
            text: np.asarray(v, dtype=np.float32)
            for text, v in zip(stored["documents"], stored["embeddings"], strict=True)
        }
        missing = sorted({t for t in texts if t not in known})
        known |= dict(zip(missing, embed(missing), strict=True))
        return np.vstack([known[t] for t in texts])

    @property
    def collection(self) -> Any:
        """The Chroma collection, built on first use if need be."""
        if self._collection is None:
            self.ensure_index()
        return self._collection

    def _prose_chunks(self) -> dict[str, list[tuple[Chunk, np.ndarray]]]:
        """Each article's lead and sections with their unit vectors, read from the index once."""
        if self._prose is None:
            stored = self.collection.get(
                where={"kind": {"$ne": "question"}}, include=["embeddings"]
            )
            vectors = {
                chunk_id: np.asarray(v, dtype=np.float32)
                for chunk_id, v in zip(stored["ids"], stored["embeddings"], strict=True)
            }
            prose: dict[str, list[tuple[Chunk, np.ndarray]]] = {}
            for article in self.articles.values():
                for chunk in chunks_of(article):
                    v = vectors.get(chunk.id)
                    if chunk.kind != "question" and v is not None:
                        prose.setdefault(article.id, []).append((chunk, v / np.linalg.norm(v)))
            self._prose = prose
        return self._prose

    def answer(self, article: Article, question: str, vector: np.ndarray) -> str:
        """The passage of ``article`` that answers ``question`` best.

        Each lead and section is scored by its similarity to ``vector`` (the question's unit
        vector) plus its coverage of the aspect asked (:func:`knowledge.passages.passage_score`).
        """
        aspects = asked_aspects(question)
        best: tuple[float, Chunk] | None = None
        for chunk, v in self._prose_chunks().get(article.id, []):
            score = passage_score(float(v @ vector), chunk.heading, chunk.body, aspects)
            if best is None or score > best[0]:
                best = (score, chunk)
        return best[1].passage if best else chunks_of(article)[0].passage

    def search(
        self,
        query: str,
        *,
        k: int = 3,
        products: Sequence[str] = (),
        tags: Sequence[str] = (),
        intent_scores: Mapping[str, float] | None = None,
        vector: np.ndarray | None = None,
    ) -> list[Hit]:
        """The ``k`` best articles for ``query``, best first.

        Args:
            query: The customer's words.
            k: How many articles at most.
            products: Only articles about all of these products.
            tags: Only articles with all of these tags.
            intent_scores: Probabilities per label from an intent model of the caller's own,
                used instead of the question model's.
            vector: The query's unit-length MiniLM embedding when the caller already has it
                (the intent model's fast recipe computes the very same vector), so the query
                is not encoded twice.
        """
        if not query.strip():
            return []
        flags = [{_flag("product", p): True} for p in products]
        flags += [{_flag("tag", t): True} for t in tags]
        where: Any = None
        if len(flags) == 1:
            where = flags[0]
        elif flags:
            where = {"$and": flags}
        if vector is None:
            vector = embed([query])[0]
        found = self.collection.query(
            query_embeddings=[vector.tolist()],
            n_results=min(FETCH, max(1, self.collection.count())),
            where=where,
            include=["metadatas", "documents", "distances"],
        )
        # Rank articles by their best chunk of any kind, but answer with prose: a matching
        # "ways customers ask" question is only the customer's words said back to them.
        best: dict[str, float] = {}
        for meta, dist in zip(found["metadatas"][0], found["distances"][0], strict=True):
            article_id, similarity = str(meta["article_id"]), 1.0 - float(dist)
            best[article_id] = max(similarity, best.get(article_id, -1.0))
        unit = np.asarray(vector, dtype=np.float32)
        unit = unit / (np.linalg.norm(unit) or 1.0)
        if intent_scores is None and (model := self.questions) is not None:
            intent_scores = model.probabilities(query, unit)
        ranked = rank_articles(best, self.articles, intent_scores)
        return [
            Hit(a.id, a.title, score, similarity, self.answer(a, query, unit))
            for score, similarity, a in ranked[:k]
        ]
