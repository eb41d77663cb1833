"""``concierge eval ...``: evaluations that print one JSON object with ``--json``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

evals = typer.Typer(help="Evaluations: measure a layer against known truth.", no_args_is_help=True)


@evals.command("identity")
def identity(
    customers: Annotated[int, typer.Option(min=10, help="Size of the bank to build.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bank and its exports.")] = 7,
    noise: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="How much the systems disagree (0..1).")
    ] = 0.3,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Seed, export with noise, ingest, resolve identities; score pairwise against the truth."""
    from evals.identity import run_identity_eval

    err = Console(stderr=True)
    with err.status("starting") as status:
        result = run_identity_eval(
            customers=customers,
            seed=seed,
            noise=noise,
            step=lambda name: status.update(f"{name} ({customers} customers, noise {noise})"),
        )
    if as_json:
        typer.echo(json.dumps(result))
        return
    for key, value in result.items():
        typer.echo(f"{key:>20}: {value}")


@evals.command("recommendations")
def recommendations(
    customers: Annotated[int, typer.Option(min=50, help="Size of each bank.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the test bank (training: seed + 1000).")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Train on one bank, recommend on another; score the levels and the insight detectors."""
    from evals.recommendations import run_recommendations_eval

    err = Console(stderr=True)
    with err.status("starting") as status:
        result = run_recommendations_eval(
            customers=customers, seed=seed, step=lambda name: status.update(name)
        )
    if as_json:
        typer.echo(json.dumps(result))
        return
    for level, figures in result["levels"].items():
        typer.echo(f"{level:>12}: {figures}")
    for kind, figures in result["insights"].items():
        typer.echo(f"{kind:>24}: {figures}")


@evals.command("notifications")
def notifications(
    customers: Annotated[int, typer.Option(min=10, help="Size of the bank.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bank.")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Notify a seeded bank for a day; recall of its planted situations, and the policy kept."""
    from evals.notifications import run_notifications_eval

    err = Console(stderr=True)
    with err.status("starting") as status:
        result = run_notifications_eval(
            customers=customers, seed=seed, step=lambda name: status.update(name)
        )
    if as_json:
        typer.echo(json.dumps(result))
        return
    for key in ("recall", "precision", "sent_against_consent", "sent_in_quiet_hours"):
        typer.echo(f"{key:>22}: {result[key]}")
    for kind, figures in result["kinds"].items():
        typer.echo(f"{kind:>22}: {figures}")


@evals.command("knowledge")
def knowledge(
    data: Annotated[Path, typer.Option(help="A text,category CSV (e.g. BANKING77 test.csv).")],
    questions: Annotated[
        Path | None,
        typer.Option(
            help="The question log (text,category CSV) the chat's question model learns from "
            "beside the articles' phrasings, as CONCIERGE_KNOWLEDGE_QUESTIONS gives it to the "
            "app. Default: CONCIERGE_KNOWLEDGE_QUESTIONS, else $BANKING77/train.csv when "
            "BANKING77 is set, else the train.csv beside --data (a published split's training "
            "half standing in for the bank's log; never the file being scored)."
        ),
    ] = None,
    articles_only: Annotated[
        bool,
        typer.Option(
            "--articles-only", help="The question model learns from the articles' phrasings alone."
        ),
    ] = False,
    model: Annotated[
        Path | None,
        typer.Option(help="An intent model (concierge nlu train) to blend in, for comparison."),
    ] = None,
    train: Annotated[
        Path | None,
        typer.Option(
            help="Train a fast intent model on this text,category CSV for the run and blend it "
            "in, for comparison; its MiniLM vector is reused for the search (never the file "
            "being scored)."
        ),
    ] = None,
    workdir: Annotated[
        Path | None,
        typer.Option(
            help="Keep the index and the question model here (default: a temporary folder)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Search the knowledge base for every query as the chat does; hit@1, hit@3 and latency."""
    from app.progress import rich_phases
    from evals.knowledge import run_knowledge_eval

    scorer = None
    try:
        if model is not None and train is not None:
            raise ValueError("give --model or --train, not both")
        if questions is not None and articles_only:
            raise ValueError("give --questions or --articles-only, not both")
        if train is not None and train.resolve() == data.resolve():
            raise ValueError("--train must not be the file being scored")
        log = None if articles_only else (questions or _default_questions(data))
        if log is not None and log.resolve() == data.resolve():
            raise ValueError("the question log must not be the file being scored")
        if model is not None:
            from agents.nlu import IntentModel

            scorer = IntentModel.load(model)
        if train is not None:
            from agents.nlu import IntentModel, read_labelled_csv

            texts, labels = read_labelled_csv(train, min_per_label=2)
            with rich_phases() as phase:
                step = phase("train a fast intent model", None)
                scorer = IntentModel(profile="fast").fit(texts, labels)
                step(1)
        with rich_phases() as phase:
            result = run_knowledge_eval(
                data, questions=log, scorer=scorer, workdir=workdir, progress=phase
            )
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if model is not None:
        result["intent_model"] = str(model)
    if train is not None and scorer is not None:
        result["intent_model"] = f"fast, trained on {train.name}"
        result["train_seconds"] = round(float(scorer.train_seconds or 0.0), 1)
    if as_json:
        typer.echo(json.dumps(result))
        return
    for key, value in result.items():
        typer.echo(f"{key:>20}: {value}")


def _default_questions(data: Path) -> Path | None:
    """The question log the chat would be given: the setting, else a training split.

    ``CONCIERGE_KNOWLEDGE_QUESTIONS`` first; else BANKING77's ``train.csv`` when ``BANKING77``
    names its folder; else the ``train.csv`` beside the scored file, when that file is not it.
    """
    import os

    from services.settings import get_settings

    configured = get_settings().knowledge_questions
    if configured is not None:
        return configured
    folder = os.environ.get("BANKING77", "").strip()
    if folder:
        return Path(folder) / "train.csv"
    beside = data.parent / "train.csv"
    return beside if beside.is_file() and beside.resolve() != data.resolve() else None


def _default_examples(data: Path) -> Path:
    """The intent examples the app would learn: the setting, else CLINC150's own train lists.

    The app gets the same model with ``CONCIERGE_NLU_EXAMPLES`` naming the data file; only its
    ``train`` and ``oos_train`` lists are learned, never the scored split.
    """
    from services.settings import get_settings

    configured = get_settings().nlu_examples
    return configured if configured is not None else data


_DEFAULT_SUITE = Path(__file__).resolve().parent / "scenarios"


@evals.command("validate")
def validate(
    suite: Annotated[
        list[Path] | None, typer.Option(help="Scenario folder or file (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Check scenario files against the schema and their refs; exit 1 on any problem."""
    from evals.scenario import load_suite

    found, problems = [], []
    for folder in suite or [_DEFAULT_SUITE]:
        try:
            scenarios, bad = load_suite(folder)
        except FileNotFoundError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        found += scenarios
        problems += bad
    if as_json:
        typer.echo(json.dumps({"valid": len(found), "problems": [p.__dict__ for p in problems]}))
    else:
        for problem in problems:
            typer.echo(str(problem), err=True)
        typer.echo(f"{len(found)} valid scenario(s), {len(problems)} problem(s)")
    if problems:
        raise typer.Exit(1)


@evals.command("surfaces")
def surfaces(
    customers: Annotated[int, typer.Option(min=1, help="Size of the bank to scan.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bank.")] = 7,
    chat: Annotated[bool, typer.Option(help="Hold the short scripted chat per customer.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Scan every customer's pages and chat for codes, bank-only words and a second money format.

    Exits 1 when anything is found.
    """
    from rich.progress import Progress

    from evals.surfaces import CHAT, run_surfaces_eval

    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("starting", total=customers)
        result = run_surfaces_eval(
            customers=customers,
            seed=seed,
            chat=CHAT if chat else (),
            step=lambda name: progress.update(task, description=name),
            advance=lambda n: progress.advance(task, n),
        )
    if as_json:
        typer.echo(json.dumps(result))
    else:
        for key, value in result.items():
            typer.echo(f"{key:>14}: {value}")
    if result["findings"]:
        raise typer.Exit(1)


@evals.command("conversations")
def conversations(
    suite: Annotated[
        list[Path] | None,
        typer.Option(help="Scenario folder or file (repeatable; default: every suite)."),
    ] = None,
    model: Annotated[
        str, typer.Option(help="'offline' or 'provider:model' (as CONCIERGE_LLM).")
    ] = "offline",
    nlu_model: Annotated[
        Path | None,
        typer.Option(help="Intent model folder for the offline model (default: var/nlu)."),
    ] = None,
    repeat: Annotated[int, typer.Option(min=1, help="Runs per scenario, for pass^k.")] = 1,
    report: Annotated[
        Path | None, typer.Option(help="Write results.json and index.html here.")
    ] = None,
    via_websocket: Annotated[
        str | None, typer.Option(help="Drive a running server's /ws/chat (not built yet).")
    ] = None,
    workdir: Annotated[
        Path | None, typer.Option(help="Keep temporary banks here (default: a temp folder).")
    ] = None,
    perturb: Annotated[
        str | None,
        typer.Option(help="Also replay reworded: typos,case,punctuation,fillers,numbers."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the rewording (--perturb).")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Run scripted conversations on fresh banks; score end state, writes and replies."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from evals.conversations import ConversationRunner, Options, results_document, run_suite
    from evals.perturb import parse_kinds, run_perturbed
    from evals.scenario import load_suite

    try:
        kinds = parse_kinds(perturb) if perturb is not None else []
    except ValueError as exc:
        typer.echo(f"error: --perturb: {exc}", err=True)
        raise typer.Exit(2) from exc

    if via_websocket:
        typer.echo(
            "error: --via-websocket is not implemented yet: a running server holds its own "
            "bank, so scenario fixtures cannot be created in it from here. Run in-process "
            "(the default), which drives the same graph the server serves.",
            err=True,
        )
        raise typer.Exit(2)
    scenarios, problems = [], []
    for folder in suite or [_DEFAULT_SUITE]:
        try:
            found, bad = load_suite(folder)
        except FileNotFoundError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        scenarios += found
        problems += bad
    err = Console(stderr=True)
    for problem in problems:
        err.print(f"[red]invalid scenario[/red] {problem}", markup=True, highlight=False)
    runner = ConversationRunner(Options(model=model, nlu_model=nlu_model, workdir=workdir))
    try:
        with Progress(
            TextColumn("conversations"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[last]}"),
            console=err,
            transient=as_json,
        ) as bar:
            total = len(scenarios) * (repeat + len(kinds))
            task = bar.add_task("run", total=total, last="")

            def step(result: Any) -> None:
                mark = "✓" if result.passed else "✗"
                bar.update(task, advance=1, last=f"{mark} {result.id}")

            summary, runs = run_suite(
                scenarios, runner, repeat=repeat, problems=problems, progress=step
            )
            if kinds:
                summary["perturbed"] = run_perturbed(
                    scenarios, runner, kinds, seed=seed, clean=runs, progress=step
                )
    finally:
        runner.close()
    if report is not None:
        from evals.report import write_report

        page = write_report(results_document(summary, runs, model=model), report)
        err.print(f"report: {page}")
    if as_json:
        typer.echo(json.dumps(summary))
        return
    typer.echo(
        f"{summary['passed']}/{summary['scenarios']} passed "
        f"(pass rate {summary['pass_rate']:.1%}, pass^{repeat} {summary['pass_hat_k']:.1%}); "
        f"latency p50 {summary['latency_ms_p50']} ms, p95 {summary['latency_ms_p95']} ms"
    )
    for failure in summary["failures"]:
        typer.echo(f"FAIL {failure['id']}")
        for reason in failure["reasons"]:
            typer.echo(f"  - {reason}")
    for kind, row in summary.get("perturbed", {}).items():
        typer.echo(
            f"{kind:>11}: {row['passed']}/{row['total']} passed ({row['pass_rate']:.1%}), "
            f"{len(row['broken'])} broken: {', '.join(row['broken']) or '-'}"
        )


@evals.command("routing")
def routing(
    data: Annotated[Path, typer.Option(help="CLINC150's data_full.json (domains.json beside it).")],
    split: Annotated[str, typer.Option(help="test, val or train (with its oos_ list).")] = "test",
    limit: Annotated[
        int | None,
        typer.Option(min=1, help="Route a seeded sample of at most N in scope and N outside."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the sample.")] = 7,
    nlu_model: Annotated[
        Path | None,
        typer.Option(help="Intent model folder for the offline model (default: var/nlu)."),
    ] = None,
    nlu_examples: Annotated[
        Path | None,
        typer.Option(
            help="More examples the intent model learns (CONCIERGE_NLU_EXAMPLES's forms; "
            "default: the setting, else --data's train lists)."
        ),
    ] = None,
    own_only: Annotated[
        bool,
        typer.Option(
            "--utterances-only", help="Train the intent model on the project's utterances alone."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Send each CLINC150 query as a first message; score where the assistant routes it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from evals.routing import SPLITS, run_routing_eval

    if split not in SPLITS:
        typer.echo(f"error: --split must be one of {', '.join(SPLITS)}", err=True)
        raise typer.Exit(2)
    if not data.is_file() or not data.with_name("domains.json").is_file():
        typer.echo(f"error: need {data} and domains.json beside it", err=True)
        raise typer.Exit(2)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=as_json,
    ) as bar:
        task = bar.add_task("routing", total=None)
        examples = None if own_only or nlu_model else nlu_examples or _default_examples(data)
        result = run_routing_eval(
            data,
            split=split,
            limit=limit,
            seed=seed,
            nlu_model=nlu_model,
            nlu_examples=examples,
            step=lambda name: bar.update(task, description=name),
            advance=lambda done, total: bar.update(
                task, description="routing", completed=done, total=total
            ),
        )
    if nlu_model is not None:
        result["intent_model"] = str(nlu_model)
    else:
        result["intent_examples"] = examples.name if examples is not None else None
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(
        f"in scope {result['in_scope_accuracy']:.1%} of {result['n_in_scope']} routed right; "
        f"outside {result['oos_no_task_rate']:.1%} of {result['n_oos']} started nothing "
        f"({result['seconds']} s)"
    )
    for row in result["confusions"]:
        typer.echo(
            f"  {row['count']:>4} {row['intent']}: {row['expected']} -> {row['routed']}"
            f"  e.g. {row['example']!r}"
        )


@evals.command("acts")
def acts(
    sgd: Annotated[
        Path | None,
        typer.Option(help="SGD's user_turns.jsonl.gz (default: CONCIERGE_SGD_USER_TURNS)."),
    ] = None,
    split: Annotated[str, typer.Option(help="The SGD split scored (never trained on).")] = "test",
    workdir: Annotated[
        Path | None,
        typer.Option(help="Keep the trained act models here (default: a temporary folder)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Train the dialogue-act model with and without SGD; score its moves on SGD's test split."""
    import tempfile

    from agents.offline.acts import SGD_ENV, default_act_model, evaluate_sgd, sgd_path
    from app.progress import rich_phases

    path = sgd or sgd_path()
    if path is None or not path.is_file():
        typer.echo(f"error: give --sgd FILE or set {SGD_ENV} (SGD's user_turns.jsonl.gz)", err=True)
        raise typer.Exit(2)
    if split not in ("test", "dev"):
        typer.echo("error: --split must be test or dev (train is what the model learns)", err=True)
        raise typer.Exit(2)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="concierge-acts-") as tmp, rich_phases() as phase:
        folder = workdir or Path(tmp)
        phase("train the act model (seed + SGD train and dev)", None)
        model = default_act_model(folder, sgd=path)
        phase("train the act model (seed only)", None)
        seed_only = default_act_model(folder, sgd=None)
        phase(f"score SGD {split}", None)
        result: dict[str, Any] = {
            "with_sgd": evaluate_sgd(model, path, split),
            "seed_only": evaluate_sgd(seed_only, path, split),
            "seconds": round(time.perf_counter() - started, 1),
        }
    if as_json:
        typer.echo(json.dumps(result))
        return
    for name in ("with_sgd", "seed_only"):
        figures = result[name]
        typer.echo(
            f"{name:>10}: {figures['accuracy']:.1%} of {figures['n']} moves; after a "
            f"confirmation question {figures['confirm_context_accuracy']:.1%}"
        )


@evals.command("compare")
def compare_runs(
    a: Annotated[Path, typer.Argument(help="results.json of the first run (before).")],
    b: Annotated[Path, typer.Argument(help="results.json of the second run (after).")],
    report: Annotated[
        Path | None, typer.Option(help="Write comparison.json and index.html here.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Two conversation runs side by side: verdicts that changed, category and latency deltas."""
    from evals.report import compare, write_comparison

    for path in (a, b):
        if not path.is_file():
            typer.echo(f"error: no results file at {path}", err=True)
            raise typer.Exit(2)
    if report is not None:
        diff, page = write_comparison(a, b, report)
        Console(stderr=True).print(f"report: {page}")
    else:
        diff = compare(a, b)
    if as_json:
        typer.echo(json.dumps(diff))
        return
    typer.echo(
        f"pass rate {diff['a']['pass_rate']:.1%} -> {diff['b']['pass_rate']:.1%} "
        f"({diff['pass_rate_delta']:+.1%}); fixed {diff['fixed']}, broken {diff['broken']}"
    )
    for change in diff["changed"]:
        typer.echo(f"  {change['scenario']}: {change['a']} -> {change['b']}")


def register(cli: typer.Typer) -> None:
    """Add the ``eval`` command group to the CLI."""
    cli.add_typer(evals, name="eval")
