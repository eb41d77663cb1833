"""Where the assistant routes a first message: CLINC150's banking queries and the rest.

Each query is sent as the first message of a fresh conversation with the assistant — the graph
the app serves, on the offline model, over a small seeded bank — and the assistant's first move
is read off the turn: a write tool proposed (a task), a read of the customer's data, a knowledge
search, or an answer with no tool at all. A task the assistant starts by asking for a detail
(which payee, which card) counts as that task.

In-scope queries are CLINC150's ``banking`` and ``credit_cards`` domains; each intent's right
route is in ``evals/data/clinc150_capabilities.yaml``. Every other domain and the ``oos`` lists
are queries a banking assistant must not act on: they pass when no tool runs at all, so nothing
is started and no article or account is quoted as if it answered them.

The offline model's intent classifier is the one the app would train with
``CONCIERGE_NLU_EXAMPLES`` naming ``nlu_examples`` (the command's default: the setting, else the
data file itself, of which only the ``train`` and ``oos_train`` lists are learned; see
:mod:`agents.offline.examples`), or the project's utterances alone when it is None.

``concierge eval routing --data PATH/data_full.json --split test --json``.
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

CAPABILITIES = Path(__file__).parent / "data" / "clinc150_capabilities.yaml"
IN_SCOPE_DOMAINS = ("banking", "credit_cards")
KINDS = ("task", "read", "knowledge", "none")
SPLITS = {"test": ("test", "oos_test"), "val": ("val", "oos_val"), "train": ("train", "oos_train")}
TOP_CONFUSIONS = 15
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

BANK = Path(__file__).parent / "data" / "routing_bank.yaml"


@dataclass(frozen=True)
class Route:
    """A first move: its kind (task, read, knowledge, none) and the tool, for tasks and reads."""

    kind: str
    tool: str | None = None

    def __str__(self) -> str:
        return f"{self.kind}:{self.tool}" if self.tool else self.kind

    def matches(self, other: Route) -> bool:
        """Same kind, and the same tool where this one names a tool."""
        return self.kind == other.kind and (self.tool is None or self.tool == other.tool)


@dataclass(frozen=True)
class Capability:
    """What Concierge does with one CLINC150 intent: the route, and others that are right too."""

    intent: str
    domain: str
    route: Route
    also: tuple[Route, ...] = ()

    def accepts(self, routed: Route) -> bool:
        """Whether ``routed`` serves this intent."""
        return any(r.matches(routed) for r in (self.route, *self.also))


def _tools() -> tuple[set[str], set[str]]:
    """The names of the write tools and of the read tools (knowledge search excluded)."""
    from tools.read import READ_TOOLS
    from tools.write import WRITE_TOOLS

    reads = {t.name for t in READ_TOOLS} - {"search_knowledge"}
    return {t.name for t in WRITE_TOOLS}, reads


def _route(raw: Any, where: str, writes: set[str], reads: set[str]) -> Route:
    if not isinstance(raw, dict) or raw.get("capability") not in KINDS:
        raise ValueError(f"{where}: capability must be one of {', '.join(KINDS)}")
    kind, tool = str(raw["capability"]), raw.get("tool")
    allowed = {"task": writes, "read": reads}.get(kind)
    if allowed is not None and tool not in allowed:
        raise ValueError(f"{where}: a {kind} names one of the {kind} tools, not {tool!r}")
    if allowed is None and tool is not None:
        raise ValueError(f"{where}: a {kind} answer names no tool")
    return Route(kind, str(tool) if tool else None)


def load_capabilities(path: Path = CAPABILITIES) -> dict[str, Capability]:
    """The intent → capability map, checked: known kinds, and tools that exist."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    writes, reads = _tools()
    found: dict[str, Capability] = {}
    for domain, intents in data.items():
        for intent, raw in (intents or {}).items():
            where = f"{path.name}: {domain}.{intent}"
            also = tuple(
                _route(r, f"{where}.also", writes, reads) for r in (raw or {}).get("also", [])
            )
            found[str(intent)] = Capability(
                str(intent), str(domain), _route(raw, where, writes, reads), also
            )
    return found


@dataclass(frozen=True)
class Query:
    """One CLINC150 query, its intent (``oos`` for the out-of-scope lists) and its domain."""

    text: str
    intent: str
    domain: str


def load_queries(data: Path, split: str = "test") -> tuple[list[Query], list[Query]]:
    """The split's in-scope (banking, credit cards) queries and all the others.

    ``data`` is CLINC150's ``data_full.json``; its ``domains.json`` beside it names the domain
    of each intent.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}")
    rows = json.loads(Path(data).read_text(encoding="utf-8"))
    domains_file = Path(data).with_name("domains.json")
    domains = json.loads(domains_file.read_text(encoding="utf-8"))
    domain_of = {intent: domain for domain, intents in domains.items() for intent in intents}
    listed, oos = SPLITS[split]
    inside: list[Query] = []
    outside: list[Query] = []
    for text, intent in rows[listed]:
        domain = domain_of.get(intent, "unknown")
        (inside if domain in IN_SCOPE_DOMAINS else outside).append(Query(text, intent, domain))
    outside += [Query(text, "oos", "oos") for text, _ in rows.get(oos, [])]
    return inside, outside


def route_of(result: dict[str, Any], writes: set[str], reads: set[str]) -> Route:
    """The assistant's first move in one turn's graph result."""
    from langchain_core.messages import AIMessage

    interrupts = result.get("__interrupt__") or []
    if interrupts:
        for call in interrupts[0].value.get("calls", []):
            if call.get("name") in writes:
                return Route("task", str(call["name"]))
    messages = [m for m in result.get("messages", []) if isinstance(m, AIMessage)]
    called = [str(c["name"]) for m in messages for c in m.tool_calls]
    for name in called:
        if name in writes:
            return Route("task", name)
    task = _task_under_way(messages[-1]) if messages else None
    if task is not None:
        return Route("task", task)
    for name in called:
        if name in reads:
            return Route("read", name)
    if "search_knowledge" in called:
        return Route("knowledge")
    return Route("none")


def _task_under_way(message: Any) -> str | None:
    """The tool of the task the offline model is filling in, when its last message asks for one.

    The offline model keeps the frame it is filling on its own messages; a frame that is being
    asked about, chosen from or searched for is a task started.
    """
    from agents.offline.tasks import TASKS

    state = (message.additional_kwargs or {}).get("concierge") or {}
    frame = state.get("frame") or {}
    task = TASKS.get(str(frame.get("intent", "")))
    if task is None or frame.get("status") == "suspended":
        return None
    return task.tool


def _reply(result: dict[str, Any]) -> str:
    from langchain_core.messages import AIMessage

    texts = [
        str(m.content)
        for m in result.get("messages", [])
        if isinstance(m, AIMessage) and str(m.content).strip()
    ]
    interrupts = result.get("__interrupt__") or []
    if interrupts:
        texts.append(str(interrupts[0].value.get("text", "")))
    return texts[-1] if texts else ""


@contextmanager
def _assistant(
    workdir: Path | None, nlu_model: Path | None, nlu_examples: Path | None
) -> Iterator[tuple[Any, int]]:
    """The assistant over a fresh bank holding the routing customer; and that customer's id."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    from app.bootstrap import build_assistant, open_engine
    from evals.conversations import resolve_nlu_model
    from evals.fixtures import build_fixture
    from evals.scenario import parse
    from services.settings import Settings

    root = Path(tempfile.mkdtemp(prefix="concierge-routing-")) if workdir is None else workdir
    root.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        var_dir=root,
        database_url=f"sqlite:///{(root / 'bank.db').as_posix()}",
        nlu_model=resolve_nlu_model(nlu_model, nlu_examples, configured=False),
        nlu_examples=nlu_examples,
        llm="offline",
    )
    engine = open_engine(settings)
    db = sqlite3.connect(root / "checkpoints.db", check_same_thread=False)
    try:
        fixture = build_fixture(engine, parse(BANK.read_text(encoding="utf-8"), str(BANK)))
        yield build_assistant(settings, engine, SqliteSaver(db)), fixture.person_id
    finally:
        db.close()
        engine.dispose()
        if workdir is None:
            shutil.rmtree(root, ignore_errors=True)


def _sample(queries: list[Query], limit: int | None, seed: int) -> list[Query]:
    if limit is None or limit >= len(queries):
        return queries
    return random.Random(seed).sample(queries, limit)


def run_routing_eval(
    data: Path,
    *,
    split: str = "test",
    limit: int | None = None,
    seed: int = 7,
    capabilities: Path = CAPABILITIES,
    nlu_model: Path | None = None,
    nlu_examples: Path | None = None,
    workdir: Path | None = None,
    step: Callable[[str], None] | None = None,
    advance: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Route every query of ``split`` (at most ``limit`` in scope and ``limit`` outside).

    ``nlu_examples``: the file of more examples the intent classifier learns beside the
    project's utterances (``CONCIERGE_NLU_EXAMPLES``); None for the utterances alone. ``step``
    hears what is being set up; ``advance(done, total)`` hears each query routed.
    """
    started = time.perf_counter()
    mapping = load_capabilities(capabilities)
    inside, outside = load_queries(data, split)
    inside = [q for q in inside if q.intent in mapping]
    inside, outside = _sample(inside, limit, seed), _sample(outside, limit, seed)
    writes, reads = _tools()
    total = len(inside) + len(outside)
    if step:
        step("building the bank, the intent model and the knowledge index")
    routed: list[tuple[Query, Route, str]] = []
    with _assistant(workdir, nlu_model, nlu_examples) as (assistant, person_id):
        for number, query in enumerate([*inside, *outside], start=1):
            payload = {"messages": [("user", query.text)]}
            result = assistant.run(f"routing-{number}", person_id, payload, NOW)
            routed.append((query, route_of(result, writes, reads), _reply(result)))
            if advance:
                advance(number, total)
    return summarise(routed, mapping, seconds=time.perf_counter() - started)


def summarise(
    routed: list[tuple[Query, Route, str]], mapping: dict[str, Capability], *, seconds: float
) -> dict[str, Any]:
    """The report: accuracy in scope, the no-task rate outside, per intent, top confusions."""
    by_intent: dict[str, dict[str, Any]] = {}
    by_domain: dict[str, dict[str, Any]] = {}
    outside_routes: Counter[str] = Counter()
    confusions: Counter[tuple[str, str, str]] = Counter()
    examples: dict[tuple[str, str, str], str] = {}
    n_in = right_in = n_out = right_out = 0
    for query, route, _reply_text in routed:
        capability = mapping.get(query.intent)
        if capability is not None:
            n_in += 1
            right = capability.accepts(route)
            right_in += right
            expected = str(capability.route)
            row = by_intent.setdefault(
                query.intent, {"expected": expected, "n": 0, "right": 0, "routes": Counter()}
            )
        else:
            n_out += 1
            right = route.kind == "none"
            right_out += right
            expected = "none"
            outside_routes[str(route)] += 1
            row = by_domain.setdefault(query.domain, {"n": 0, "right": 0, "routes": Counter()})
        row["n"] += 1
        row["right"] += right
        row["routes"][str(route)] += 1
        if not right:
            key = (query.intent, expected, str(route))
            confusions[key] += 1
            examples.setdefault(key, query.text)
    for row in [*by_intent.values(), *by_domain.values()]:
        row["rate"] = round(row["right"] / row["n"], 4)
        row["routes"] = dict(row["routes"].most_common())
    return {
        "in_scope_accuracy": round(right_in / n_in, 4) if n_in else 0.0,
        "oos_no_task_rate": round(right_out / n_out, 4) if n_out else 0.0,
        "n_in_scope": n_in,
        "n_oos": n_out,
        "by_intent": dict(sorted(by_intent.items())),
        "by_domain": dict(sorted(by_domain.items())),
        "oos_routes": dict(outside_routes.most_common()),
        "confusions": [
            {"intent": i, "expected": e, "routed": r, "count": n, "example": examples[(i, e, r)]}
            for (i, e, r), n in confusions.most_common(TOP_CONFUSIONS)
        ],
        "seconds": round(seconds, 1),
    }
