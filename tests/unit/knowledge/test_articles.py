"""The knowledge base: every article parses, covers BANKING77, and states figures consistently."""

from __future__ import annotations

import json
import re
import shutil
from functools import cache
from pathlib import Path

import pytest

from knowledge.articles import (
    ARTICLES_DIR,
    Article,
    ArticleError,
    content_hash,
    load_articles,
    parse_article,
)
from tests.support.banking77 import banking77_file

MIN_ARTICLES = 85
MIN_WORDS, MAX_WORDS = 120, 350
MIN_WAYS, MAX_WAYS = 6, 10
WAYS_HEADING = "## Ways customers ask"

VALID = """---
id: {id}
title: A test article
tags: [test]
products: [checking]
intents: [card_arrival]
---
Some body text.
"""


@cache
def articles() -> tuple[Article, ...]:
    return tuple(load_articles())


@cache
def banking77_labels() -> frozenset[str]:
    categories = banking77_file("categories.json")
    labels = json.loads(categories.read_text(encoding="utf-8"))
    assert isinstance(labels, list) and len(labels) == 77
    return frozenset(labels)


def words(text: str) -> int:
    """Words of running text: tokens with a letter or digit (table pipes and dashes don't count)."""
    return sum(1 for token in text.split() if re.search(r"[A-Za-z0-9]", token))


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.md"
    path.write_text(text, encoding="utf-8")
    return path


# --- the articles on disk -------------------------------------------------------------------


def test_articles_dir_is_next_to_the_module() -> None:
    assert ARTICLES_DIR.name == "articles"
    assert ARTICLES_DIR.parent.name == "knowledge"
    assert ARTICLES_DIR.is_dir()


def test_every_article_file_parses() -> None:
    files = sorted(ARTICLES_DIR.glob("*.md"))
    assert files, "no article files"
    for path in files:
        article = parse_article(path)
        assert article.path == path
        assert article.title and article.body and article.tags


def test_at_least_85_articles() -> None:
    assert len(articles()) >= MIN_ARTICLES


def test_ids_are_unique_equal_to_stem_and_sorted() -> None:
    ids = [article.id for article in articles()]
    assert len(ids) == len(set(ids))
    assert ids == sorted(ids)
    for article in articles():
        assert article.id == article.path.stem
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", article.id)


def test_titles_are_unique() -> None:
    titles = [article.title.lower() for article in articles()]
    assert len(titles) == len(set(titles))


def test_every_banking77_label_is_covered() -> None:
    covered = {intent for article in articles() for intent in article.intents}
    missing = sorted(banking77_labels() - covered)
    assert not missing, f"labels without an article: {missing}"


def test_no_article_lists_an_unknown_intent() -> None:
    labels = banking77_labels()
    unknown = {
        article.id: sorted(set(article.intents) - labels)
        for article in articles()
        if set(article.intents) - labels
    }
    assert not unknown, f"intents that are not BANKING77 labels: {unknown}"


def test_most_labels_have_a_dedicated_article() -> None:
    """A dedicated article answers exactly one label (a few broader articles may share)."""
    dedicated = {a.intents[0] for a in articles() if len(a.intents) == 1}
    assert len(dedicated) >= 70, sorted(banking77_labels() - dedicated)


def test_body_word_counts_within_bounds() -> None:
    out_of_bounds = {
        article.id: words(article.body)
        for article in articles()
        if not MIN_WORDS <= words(article.body) <= MAX_WORDS
    }
    assert not out_of_bounds, f"bodies outside {MIN_WORDS}-{MAX_WORDS} words: {out_of_bounds}"


def test_every_article_ends_with_ways_customers_ask() -> None:
    for article in articles():
        lines = article.body.splitlines()
        headings = [line for line in lines if line.startswith("## ")]
        assert headings and headings[-1] == WAYS_HEADING, article.id
        assert lines.count(WAYS_HEADING) == 1, article.id
        ways = article.ways_customers_ask
        assert MIN_WAYS <= len(ways) <= MAX_WAYS, (article.id, len(ways))
        assert len({way.lower() for way in ways}) == len(ways), article.id
        # Nothing but the bullets after the heading.
        tail = lines[lines.index(WAYS_HEADING) + 1 :]
        assert all(not line.strip() or line.startswith("- ") for line in tail), article.id


def test_front_matter_lists_are_tidy() -> None:
    for article in articles():
        assert article.tags, article.id
        for value in article.tags + article.products:
            assert re.fullmatch(r"[a-z0-9]+([-_][a-z0-9]+)*", value), (article.id, value)


def test_general_topics_are_covered() -> None:
    ids = {article.id for article in articles()}
    for expected in (
        "checking-account",
        "savings-account",
        "high-yield-savings",
        "certificates-of-deposit",
        "investment-account",
        "cashback-credit-card",
        "premium-rewards-card-upgrade",
        "overdraft-protection",
        "business-line-of-credit",
        "mortgage-pre-approval",
        "fees-overview",
        "limits-overview",
        "savings-goals",
        "savings-rules",
        "alerts-and-notifications",
        "talk-to-an-advisor",
        "scheduled-payments-bill-pay",
        "statements",
        "security-and-fraud",
        "close-account",
    ):
        assert expected in ids, expected


def test_no_leftover_front_matter_in_bodies() -> None:
    for article in articles():
        assert not article.body.startswith("---"), article.id
        assert "\nid:" not in article.body, article.id


# --- figures are the same wherever they appear ----------------------------------------------

MONEY = re.compile(r"\$\d{1,3}(?:,\d{3})*(?:\.\d+)?")
PERCENT = re.compile(r"\d+(?:\.\d+)?%")

# (what the sentence talks about, the kind of figure, the one figure every article must use)
FACTS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (r"express (card )?delivery", MONEY, "$15"),
    (r"international (card )?delivery", MONEY, "$25"),
    (r"out-of-network ATM", MONEY, "$2.50"),
    (r"spare cards?\b", MONEY, "$5"),
    (r"paper statements?", MONEY, "$2"),
    (r"outgoing domestic wire", MONEY, "$25"),
    (r"incoming international wire", MONEY, "$10"),
    (r"Premium Rewards", MONEY, "$95"),
    (r"daily card spending limit", MONEY, "$5,000"),
    (r"daily ATM (withdrawal )?limit", MONEY, "$1,000"),
    (r"fair-use allowance", MONEY, "$5,000"),
    (r"fair-use allowance", PERCENT, "0.5%"),
    (r"weekend markup", PERCENT, "1%"),
    (r"High Yield Savings", PERCENT, "4.25%"),
    (r"Concierge Savings", PERCENT, "0.50%"),
    (r"credit card top-ups?", PERCENT, "2.5%"),
    (r"advisory fee", PERCENT, "0.25%"),
    (r"ATMs? abroad", MONEY, "$300"),
    (r"ATMs? abroad", PERCENT, "2%"),
    (r"instant transfers?", PERCENT, "1%"),
)
PHONE_NUMBERS = {"1-800-555-0134", "+1-302-555-0134"}


def sentences(text: str) -> list[str]:
    """Split on line breaks, table cells' rows and sentence ends (not on decimal points)."""
    return [part for part in re.split(r"\n|(?<=[.!?])\s+", text) if part.strip()]


def stated_figures(text: str, topic: str, kind: re.Pattern[str]) -> list[str]:
    """For each sentence about ``topic`` that has a figure of ``kind``, the figure nearest to it."""
    found = []
    for sentence in sentences(text):
        for mention in re.finditer(topic, sentence, flags=re.IGNORECASE):
            figures = list(kind.finditer(sentence))
            if figures:
                # Gap between the mention and each figure; on a tie the figure after wins.
                nearest = min(
                    figures,
                    key=lambda f: (
                        f.start() - mention.end()
                        if f.start() >= mention.end()
                        else mention.start() - f.end() + 0.5
                    ),
                )
                found.append(nearest.group())
    return found


def test_stated_figures_helper_picks_the_nearest_figure() -> None:
    text = "Express delivery costs $15. Standard delivery is free, or $9 | for express delivery."
    assert stated_figures(text, r"express delivery", MONEY) == ["$15", "$9"]
    assert stated_figures("Pay 1% at weekends (the weekend markup).", "weekend markup", PERCENT)


@pytest.mark.parametrize(("topic", "kind", "canonical"), FACTS)
def test_figures_are_consistent_across_articles(
    topic: str, kind: re.Pattern[str], canonical: str
) -> None:
    seen = 0
    wrong = {}
    for article in articles():
        figures = stated_figures(article.body, topic, kind)
        seen += len(figures)
        bad = [figure for figure in figures if figure != canonical]
        if bad:
            wrong[article.id] = bad
    assert seen, f"no article states a figure for {topic!r}"
    assert not wrong, f"{topic!r} should always be {canonical}: {wrong}"


def test_one_set_of_phone_numbers() -> None:
    seen = set()
    for article in articles():
        for number in re.findall(r"\+?\d{1,2}-\d{3}-\d{3}-\d{4}", article.body):
            assert number in PHONE_NUMBERS, (article.id, number)
            seen.add(number)
    assert seen == PHONE_NUMBERS


def test_fees_and_limits_overviews_state_every_fact() -> None:
    by_id = {article.id: article for article in articles()}
    overviews = by_id["fees-overview"].body + "\n" + by_id["limits-overview"].body
    overviews += "\n" + by_id["high-yield-savings"].body + by_id["savings-account"].body
    for topic, kind, canonical in FACTS:
        assert canonical in stated_figures(overviews, topic, kind), topic


# --- parse_article rejects bad files --------------------------------------------------------


def test_parse_article_reads_a_valid_file(tmp_path: Path) -> None:
    path = write(tmp_path, "good-one", VALID.format(id="good-one"))
    article = parse_article(path)
    assert article == Article(
        id="good-one",
        title="A test article",
        tags=("test",),
        products=("checking",),
        intents=("card_arrival",),
        body="Some body text.",
        path=path,
    )


def test_parse_article_accepts_empty_products_and_intents(tmp_path: Path) -> None:
    text = VALID.format(id="general").replace("[checking]", "[]").replace("[card_arrival]", "[]")
    article = parse_article(write(tmp_path, "general", text))
    assert article.products == () and article.intents == ()


@pytest.mark.parametrize("field", ["id", "title", "tags", "products", "intents"])
def test_parse_article_rejects_a_missing_field(tmp_path: Path, field: str) -> None:
    lines = [
        line for line in VALID.format(id="missing").splitlines() if not line.startswith(f"{field}:")
    ]
    path = write(tmp_path, "missing", "\n".join(lines))
    with pytest.raises(ArticleError, match=field) as raised:
        parse_article(path)
    assert "missing.md" in str(raised.value)


def test_parse_article_rejects_an_id_that_differs_from_the_file_name(tmp_path: Path) -> None:
    path = write(tmp_path, "right-name", VALID.format(id="other-name"))
    with pytest.raises(ArticleError, match="other-name") as raised:
        parse_article(path)
    assert "right-name" in str(raised.value)


@pytest.mark.parametrize("bad_id", ["Not_Kebab", "two  words", "trailing-", "42"])
def test_parse_article_rejects_a_non_kebab_id(tmp_path: Path, bad_id: str) -> None:
    """The file name matches, so only the id's form (or type: 42 is an int) is at fault."""
    text = VALID.format(id=bad_id if bad_id == "42" else f"'{bad_id}'")
    with pytest.raises(ArticleError, match="kebab-case"):
        parse_article(write(tmp_path, bad_id, text))


def test_parse_article_rejects_bad_yaml(tmp_path: Path) -> None:
    text = VALID.format(id="bad-yaml").replace("tags: [test]", "tags: [test\n  oops: : ]")
    with pytest.raises(ArticleError, match="YAML"):
        parse_article(write(tmp_path, "bad-yaml", text))


@pytest.mark.parametrize(
    ("before", "after", "problem"),
    [
        ("tags: [test]", "tags: test", "tags"),
        ("intents: [card_arrival]", "intents: [1, 2]", "intents"),
        ("products: [checking]", "products: {a: b}", "products"),
        ("title: A test article", "title: ''", "title"),
        ("tags: [test]", "tags: [test, test]", "tags"),
    ],
)
def test_parse_article_rejects_wrong_types(
    tmp_path: Path, before: str, after: str, problem: str
) -> None:
    text = VALID.format(id="typed").replace(before, after)
    assert text != VALID.format(id="typed")
    with pytest.raises(ArticleError, match=problem):
        parse_article(write(tmp_path, "typed", text))


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("plain", "no front matter at all\n", "front matter missing"),
        ("unclosed", "---\nid: unclosed\ntitle: x\n", "not closed"),
        ("listy", "---\n- just\n- a list\n---\nbody\n", "mapping"),
        ("no-body", VALID.format(id="no-body").replace("Some body text.\n", ""), "no body"),
    ],
)
def test_parse_article_rejects_malformed_files(
    tmp_path: Path, name: str, text: str, problem: str
) -> None:
    with pytest.raises(ArticleError, match=problem):
        parse_article(write(tmp_path, name, text))


def test_article_error_is_a_value_error_naming_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "broken", "nothing here")
    with pytest.raises(ValueError) as raised:
        parse_article(path)
    assert isinstance(raised.value, ArticleError)
    assert raised.value.path == path
    assert str(path) in str(raised.value)


# --- load_articles and content_hash ----------------------------------------------------------


def copy_articles(tmp_path: Path, count: int = 5) -> Path:
    folder = tmp_path / "kb"
    folder.mkdir()
    for article in articles()[:count]:
        shutil.copy(article.path, folder / article.path.name)
    return folder


def test_load_articles_sorts_by_id(tmp_path: Path) -> None:
    for name in ("zeta", "alpha", "mid-way"):
        write(tmp_path, name, VALID.format(id=name))
    assert [a.id for a in load_articles(tmp_path)] == ["alpha", "mid-way", "zeta"]


def test_load_articles_rejects_duplicate_ids(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write(tmp_path / "a", "same", VALID.format(id="same"))
    write(tmp_path / "b", "same", VALID.format(id="same"))
    with pytest.raises(ArticleError, match="duplicate"):
        load_articles(tmp_path)


def test_load_articles_reports_the_bad_file(tmp_path: Path) -> None:
    write(tmp_path, "fine", VALID.format(id="fine"))
    write(tmp_path, "broken", "no front matter")
    with pytest.raises(ArticleError, match="broken.md"):
        load_articles(tmp_path)


def test_load_articles_rejects_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ArticleError):
        load_articles(tmp_path / "nowhere")


def test_content_hash_is_stable(tmp_path: Path) -> None:
    folder = copy_articles(tmp_path)
    first = content_hash(load_articles(folder))
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert content_hash(load_articles(folder)) == first
    assert content_hash(reversed(load_articles(folder))) == first
    assert content_hash(articles()) == content_hash(load_articles())


def test_content_hash_changes_when_one_article_changes(tmp_path: Path) -> None:
    folder = copy_articles(tmp_path)
    before = content_hash(load_articles(folder))
    target = sorted(folder.glob("*.md"))[2]
    target.write_text(target.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    after = content_hash(load_articles(folder))
    assert after != before
    target.write_text(target.read_text(encoding="utf-8").replace("\nOne more line.\n", ""))
    assert content_hash(load_articles(folder)) == before


def test_content_hash_changes_when_an_article_is_added_or_removed(tmp_path: Path) -> None:
    folder = copy_articles(tmp_path)
    before = content_hash(load_articles(folder))
    write(folder, "extra-article", VALID.format(id="extra-article"))
    with_extra = content_hash(load_articles(folder))
    assert with_extra != before
    sorted(folder.glob("*.md"))[0].unlink()
    assert content_hash(load_articles(folder)) not in (before, with_extra)


def test_ways_customers_ask_property(tmp_path: Path) -> None:
    text = VALID.format(id="ways") + "\n## Ways customers ask\n\n- one\n- two\n"
    assert parse_article(write(tmp_path, "ways", text)).ways_customers_ask == ("one", "two")
    plain = parse_article(write(tmp_path, "plain", VALID.format(id="plain")))
    assert plain.ways_customers_ask == ()


def test_no_phrasing_is_a_near_copy_of_a_banking77_test_query() -> None:
    """The knowledge base is scored on BANKING77's test queries (and its phrasings could train
    the intent model): none may be one of them with a word or a mark changed."""
    import csv

    from rapidfuzz import fuzz, process

    test_csv = banking77_file("test.csv")
    with test_csv.open(encoding="utf-8") as handle:
        queries = [row["text"].lower() for row in csv.DictReader(handle)]
    near = []
    for article in articles():
        for phrasing in article.ways_customers_ask:
            found = process.extractOne(phrasing.lower(), queries, scorer=fuzz.ratio)
            if found is not None and found[1] >= 90:
                near.append((article.id, phrasing, found[0]))
    assert near == []
