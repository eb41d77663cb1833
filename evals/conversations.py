"""Run scenario conversations through the assistant's graph and score what actually happened.

Each scenario gets a fresh bank (``evals.fixtures``) and a fresh checkpointer, and its turns go
through ``Assistant.run`` — the graph the app serves — on the scenario's fixed clock. Scoring
looks at the end state as the τ-bench family does (``evals.scoring``): balances and card states,
the executed writes read back from the bank's own write log, confirmations asked, and text
that must or must never appear. ``--repeat K`` gives τ-bench's pass^k.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from evals.fixtures import Fixture, build_fixture
from evals.scenario import Problem, Scenario
from evals.scoring import Observed, TurnRecord, read_state, read_writes, score
from services.stats import percentile


@dataclass
class ScenarioResult:
    """One run of one scenario: verdict, reasons, and the transcript behind them."""

    id: str
    category: str
    suite: str
    file: str
    passed: bool
    reasons: list[str]
    transcript: list[dict[str, Any]] = field(default_factory=list)
    writes: list[dict[str, Any]] = field(default_factory=list)
    confirmations: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    run: int = 0

    def to_json(self) -> dict[str, Any]:
        """A plain dict for results.json."""
        return asdict(self)


Runner = Callable[[Scenario, int], ScenarioResult]


@dataclass
class Options:
    """How to run: the model spec, the intent model and where temporary state goes."""

    model: str = "offline"
    nlu_model: Path | None = None
    workdir: Path | None = None


class WebsocketNotSupported(NotImplementedError):
    """Driving a running server over ``/ws/chat``, which the runner does not support."""


def resolve_nlu_model(
    nlu_model: Path | None, examples: Path | None = None, *, configured: bool = True
) -> Path:
    """The intent model to use: ``nlu_model``, else the one the app would train.

    That is the project's own, trained once if missing, on the utterances and ``examples``;
    when ``examples`` is None and ``configured``, on the ``CONCIERGE_NLU_EXAMPLES`` file, as
    the app reads it (``configured=False``: the utterances alone).
    """
    if nlu_model is not None:
        return nlu_model
    from agents.offline.classifier import default_classifier, model_dir
    from services.settings import Settings

    settings = Settings()
    var = settings.var_dir
    more = examples if examples is not None or not configured else settings.nlu_examples
    default_classifier(var, examples=more)
    return model_dir(var, examples=more)


class ConversationRunner:
    """Runs scenarios in-process, one fresh bank and checkpointer each."""

    def __init__(self, options: Options) -> None:
        """Prepare a working folder (temporary unless ``options.workdir``) shared by runs."""
        self.options = options
        self._own = options.workdir is None
        self.root = (
            Path(tempfile.mkdtemp(prefix="concierge-eval-"))
            if self._own
            else Path(str(options.workdir))
        )
        self.root.mkdir(parents=True, exist_ok=True)
        self.nlu_model = (
            resolve_nlu_model(options.nlu_model)
            if options.model == "offline"
            else (options.nlu_model)
        )
        self._count = 0

    def close(self) -> None:
        """Remove the working folder if it was temporary."""
        if self._own:
            shutil.rmtree(self.root, ignore_errors=True)

    def __call__(self, scenario: Scenario, run: int = 0) -> ScenarioResult:
        """Run ``scenario`` once (``run`` numbers repeats) and score it."""
        self._count += 1
        folder = self.root / f"s{self._count:05d}"
        folder.mkdir(parents=True)
        try:
            return self._run(scenario, run, folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _settings(self, folder: Path) -> Any:
        from services.settings import Settings

        # var_dir is the run's root, so the knowledge index is built once for all scenarios;
        # the bank and the checkpoints are the scenario's own
        return Settings(
            var_dir=self.root,
            database_url=f"sqlite:///{(folder / 'bank.db').as_posix()}",
            nlu_model=self.nlu_model,
            llm=self.options.model,
        )

    def _run(self, scenario: Scenario, run: int, folder: Path) -> ScenarioResult:
        from app.bootstrap import build_assistant, open_engine

        settings = self._settings(folder)
        engine = open_engine(settings)
        turns: list[TurnRecord] = []
        error: str | None = None
        try:
            fixture = build_fixture(engine, scenario)
            with _saver(folder) as saver:
                assistant = build_assistant(settings, engine, saver)
                try:
                    drive(assistant, scenario, fixture, turns, thread=f"eval-{scenario.id}-{run}")
                except Exception as exc:  # noqa: BLE001 - a crash is a failed scenario
                    error = f"turn {len(turns) + 1} raised {type(exc).__name__}: {exc}"
                    traceback.print_exc()
            observed = Observed(
                turns=turns,
                state=read_state(engine, fixture),
                writes=read_writes(engine, fixture),
                error=error,
            )
        finally:
            engine.dispose()
        reasons = score(scenario, observed)
        return ScenarioResult(
            id=scenario.id,
            category=scenario.category,
            suite=scenario.suite,
            file=str(scenario.path),
            passed=not reasons,
            reasons=reasons,
            transcript=[t.to_json() for t in turns],
            writes=observed.writes,
            confirmations=observed.confirmations,
            latencies_ms=[t.latency_ms for t in turns],
            run=run,
        )


@contextmanager
def _saver(folder: Path) -> Iterator[Any]:
    from langgraph.checkpoint.sqlite import SqliteSaver

    db = sqlite3.connect(folder / "checkpoints.db", check_same_thread=False)
    try:
        yield SqliteSaver(db)
    finally:
        db.close()


def drive(
    assistant: Any, scenario: Scenario, fixture: Fixture, turns: list[TurnRecord], thread: str
) -> None:
    """Play ``scenario``'s turns on ``thread``, appending what each produced to ``turns``."""
    from langchain_core.messages import AIMessage, ToolMessage
    from langgraph.types import Command

    seen: set[str] = set()
    calls: dict[str, dict[str, Any]] = {}
    waiting = False  # whether the last turn ended with an action awaiting approval
    for number, turn in enumerate(scenario.turns, start=1):
        if "user" in turn and waiting:
            # words typed while an action waits go with the confirmation, as in the app's
            # CONFIRM frame: they approve, decline, change or ask, as they say
            payload: Any = Command(resume={"text": str(turn["user"])})
            said = str(turn["user"])
        elif "user" in turn:
            payload = {"messages": [("user", str(turn["user"]))]}
            said = str(turn["user"])
        else:
            approve = bool(turn.get("approve"))
            payload = Command(resume={"approve": approve})
            said = "[approve]" if approve else "[decline]"
        started = time.perf_counter()
        result = assistant.run(thread, fixture.person_id, payload, scenario.now)
        latency = (time.perf_counter() - started) * 1000
        texts: list[str] = []
        tools: list[dict[str, Any]] = []
        for message in result.get("messages", []):
            key = message.id or str(id(message))
            if key in seen:
                continue
            seen.add(key)
            if isinstance(message, AIMessage):
                for call in message.tool_calls:
                    calls[str(call.get("id"))] = dict(call)
                if str(message.content).strip():
                    texts.append(str(message.content))
            elif isinstance(message, ToolMessage):
                found = calls.get(str(message.tool_call_id), {})
                tools.append(
                    {
                        "name": message.name or found.get("name", ""),
                        "args": found.get("args", {}),
                        "status": message.status,
                        "result": str(message.content)[:2000],
                    }
                )
        pending: list[dict[str, Any]] = []
        interrupts = result.get("__interrupt__") or []
        waiting = bool(interrupts)
        if interrupts:
            value = interrupts[0].value
            pending = [{"name": c["name"], "args": c["args"]} for c in value.get("calls", [])]
            texts.append(str(value.get("text", "")))
        turns.append(
            TurnRecord(
                number=number,
                said=said,
                replies=texts,
                tools=tools,
                pending=pending,
                latency_ms=latency,
            )
        )


# --- suites and summaries -------------------------------------------------------------------


def run_suite(
    scenarios: Sequence[Scenario],
    runner: Runner,
    *,
    repeat: int = 1,
    problems: Sequence[Problem] = (),
    progress: Callable[[ScenarioResult], None] | None = None,
) -> tuple[dict[str, Any], dict[str, list[ScenarioResult]]]:
    """Run every scenario ``repeat`` times; the summary (the ``--json`` object) and the runs.

    ``pass_rate`` is the share of all runs that passed (τ-bench's pass^1); ``passed`` counts
    scenarios that passed every run, and ``pass_hat_k`` is their share (pass^k with k =
    ``repeat``). Files that failed validation count as failed scenarios of category
    ``invalid``.
    """
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    runs: dict[str, list[ScenarioResult]] = {}
    keys: list[tuple[str, Scenario]] = []
    for scenario in scenarios:
        key = f"{scenario.suite}/{scenario.id}" if scenario.suite else scenario.id
        keys.append((key, scenario))
        runs[key] = []
    for run in range(repeat):
        for key, scenario in keys:
            result = runner(scenario, run)
            runs[key].append(result)
            if progress is not None:
                progress(result)
    return summarise(runs, repeat=repeat, problems=problems), runs


def summarise(
    runs: dict[str, list[ScenarioResult]], *, repeat: int, problems: Sequence[Problem] = ()
) -> dict[str, Any]:
    """The summary of ``runs`` (scenario key → its results, one per repeat)."""
    by_category: dict[str, dict[str, int]] = {}
    failures: list[dict[str, Any]] = []
    latencies: list[float] = []
    total_runs = passed_runs = passed_all = 0
    for results in runs.values():
        first = results[0]
        wins = sum(r.passed for r in results)
        total_runs += len(results)
        passed_runs += wins
        every = wins == len(results)
        passed_all += every
        cat = by_category.setdefault(first.category, {"scenarios": 0, "passed": 0})
        cat["scenarios"] += 1
        cat["passed"] += every
        for r in results:
            latencies.extend(r.latencies_ms)
        if not every:
            failed = next(r for r in results if not r.passed)
            reasons = list(failed.reasons)
            if len(results) > 1:
                reasons.append(f"failed {len(results) - wins} of {len(results)} runs")
            failures.append({"id": first.id, "suite": first.suite, "reasons": reasons})
    invalid: dict[str, list[str]] = {}
    for problem in problems:
        invalid.setdefault(problem.file, []).append(str(problem))
    for file, reasons in invalid.items():
        cat = by_category.setdefault("invalid", {"scenarios": 0, "passed": 0})
        cat["scenarios"] += 1
        failures.append({"id": file, "suite": "invalid", "reasons": reasons})
    scenarios = len(runs) + len(invalid)
    total_runs += len(invalid) * repeat
    return {
        "scenarios": scenarios,
        "passed": passed_all,
        "pass_rate": round(passed_runs / total_runs, 4) if total_runs else 0.0,
        "pass_hat_k": round(passed_all / scenarios, 4) if scenarios else 0.0,
        "k": repeat,
        "by_category": dict(sorted(by_category.items())),
        "failures": failures,
        "latency_ms_p50": round(percentile(latencies, 50), 1),
        "latency_ms_p95": round(percentile(latencies, 95), 1),
        "turns": len(latencies),
    }


def results_document(
    summary: dict[str, Any], runs: dict[str, list[ScenarioResult]], *, model: str
) -> dict[str, Any]:
    """Everything a report needs: the summary, the model, and every run's details."""
    return {
        "summary": summary,
        "model": model,
        "results": [r.to_json() for results in runs.values() for r in results],
    }
