"""The bank's knowledge-base articles: Markdown files with YAML front matter.

Each article lives in ``knowledge/articles/<id>.md`` and starts with a front-matter block
delimited by ``---`` lines::

    ---
    id: card-delivery-times
    title: How long card delivery takes
    tags: [card, delivery]
    products: [debit_card]
    intents: [card_delivery_estimate]
    ---
    Plain-language Markdown body...

``id`` is kebab-case and equal to the file stem; ``tags``, ``products`` and ``intents`` are
lists of strings (``products`` and ``intents`` may be empty). ``intents`` holds the BANKING77
labels the article answers. :func:`load_articles` reads a whole folder and
:func:`content_hash` fingerprints it, so the search index is rebuilt only when content changes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ARTICLES_DIR: Path = Path(__file__).parent / "articles"

REQUIRED_FIELDS: tuple[str, ...] = ("id", "title", "tags", "products", "intents")
LIST_FIELDS: tuple[str, ...] = ("tags", "products", "intents")
DELIMITER = "---"
WAYS_HEADING = "## Ways customers ask"

_ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class ArticleError(ValueError):
    """An article file that cannot be read, or a folder of articles that is inconsistent."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


@dataclass(frozen=True)
class Article:
    """One knowledge-base article.

    Attributes:
        id: Kebab-case identifier, equal to the file stem.
        title: Human-readable title.
        tags: Short keywords.
        products: Products the article is about (may be empty).
        intents: BANKING77 intent labels the article answers (may be empty).
        body: The Markdown body, without the front matter.
        path: The file the article was read from.
    """

    id: str
    title: str
    tags: tuple[str, ...]
    products: tuple[str, ...]
    intents: tuple[str, ...]
    body: str
    path: Path

    @property
    def ways_customers_ask(self) -> tuple[str, ...]:
        """The example phrasings listed under the ``## Ways customers ask`` heading.

        Returns:
            The text of each bullet in that section, in order (empty if there is no section).
        """
        lines = self.body.splitlines()
        try:
            start = next(i for i, line in enumerate(lines) if line.strip() == WAYS_HEADING)
        except StopIteration:
            return ()
        found: list[str] = []
        for line in lines[start + 1 :]:
            stripped = line.strip()
            if stripped.startswith("#"):
                break
            if stripped[:2] in ("- ", "* "):
                found.append(stripped[2:].strip())
        return tuple(found)


def _split_front_matter(path: Path, text: str) -> tuple[str, str]:
    """Separate the front-matter block from the body.

    Args:
        path: The file, for error messages.
        text: The whole file text.

    Returns:
        The YAML text of the front matter and the Markdown body.

    Raises:
        ArticleError: When the file does not start with a complete ``---`` block.
    """
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != DELIMITER:
        raise ArticleError(path, "front matter missing: the file must start with a '---' line")
    for index in range(1, len(lines)):
        if lines[index].strip() == DELIMITER:
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :]).strip()
    raise ArticleError(path, "front matter not closed: no second '---' line")


def _string_list(path: Path, field: str, value: Any) -> tuple[str, ...]:
    """Check that a front-matter field is a list of non-empty strings.

    Args:
        path: The file, for error messages.
        field: The field's name.
        value: The parsed YAML value.

    Returns:
        The strings, as a tuple.

    Raises:
        ArticleError: When the value is not a list of non-empty strings.
    """
    if not isinstance(value, list):
        raise ArticleError(path, f"field '{field}' must be a list, got {type(value).__name__}")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ArticleError(path, f"field '{field}' must hold non-empty strings, got {item!r}")
    if len(set(value)) != len(value):
        raise ArticleError(path, f"field '{field}' lists an item more than once")
    return tuple(value)


def parse_article(path: Path) -> Article:
    """Read and validate one article file.

    Args:
        path: A Markdown file with YAML front matter.

    Returns:
        The parsed article.

    Raises:
        ArticleError: When the file cannot be read, the front matter is missing or not valid
            YAML, a required field is missing or has the wrong type, the id is not kebab-case
            or differs from the file stem, or the body is empty.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ArticleError(path, f"cannot read the file ({exc})") from exc
    front_text, body = _split_front_matter(path, text)
    try:
        front = yaml.safe_load(front_text)
    except yaml.YAMLError as exc:
        raise ArticleError(path, f"front matter is not valid YAML ({exc})") from exc
    if not isinstance(front, dict):
        raise ArticleError(path, "front matter must be a YAML mapping of fields")
    missing = [field for field in REQUIRED_FIELDS if field not in front]
    if missing:
        raise ArticleError(path, f"missing required field(s): {', '.join(missing)}")

    article_id = front["id"]
    if not isinstance(article_id, str) or not _ID_PATTERN.match(article_id):
        raise ArticleError(path, f"id must be a kebab-case string, got {article_id!r}")
    if article_id != path.stem:
        raise ArticleError(path, f"id {article_id!r} differs from the file name {path.stem!r}")
    title = front["title"]
    if not isinstance(title, str) or not title.strip():
        raise ArticleError(path, f"title must be a non-empty string, got {title!r}")
    lists = {field: _string_list(path, field, front[field]) for field in LIST_FIELDS}
    if not body:
        raise ArticleError(path, "the article has no body after the front matter")
    return Article(
        id=article_id,
        title=title.strip(),
        tags=lists["tags"],
        products=lists["products"],
        intents=lists["intents"],
        body=body,
        path=path,
    )


def load_articles(folder: Path | None = None) -> list[Article]:
    """Read every ``*.md`` article under a folder (subfolders included).

    Args:
        folder: Where the articles live; defaults to :data:`ARTICLES_DIR`.

    Returns:
        The articles, sorted by id.

    Raises:
        ArticleError: When the folder does not exist, any article is invalid, or two files
            carry the same id.
    """
    root = ARTICLES_DIR if folder is None else folder
    if not root.is_dir():
        raise ArticleError(root, "articles folder not found")
    by_id: dict[str, Article] = {}
    for path in sorted(root.rglob("*.md")):
        article = parse_article(path)
        earlier = by_id.get(article.id)
        if earlier is not None:
            raise ArticleError(path, f"duplicate id {article.id!r} (also in {earlier.path})")
        by_id[article.id] = article
    return [by_id[key] for key in sorted(by_id)]


def content_hash(articles: Iterable[Article]) -> str:
    """Fingerprint a set of articles, to tell when the search index must be rebuilt.

    Args:
        articles: The articles, in any order.

    Returns:
        The hex SHA-256 over each article's id and full file text, taken in id order.

    Raises:
        ArticleError: When an article's file can no longer be read.
    """
    digest = hashlib.sha256()
    for article in sorted(articles, key=lambda item: item.id):
        try:
            data = article.path.read_bytes()
        except OSError as exc:
            raise ArticleError(article.path, f"cannot read the file ({exc})") from exc
        for part in (article.id.encode("utf-8"), data):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()
