"""``concierge nlu ...``: train and evaluate the intent classifier on a ``text,category`` CSV.

Progress bars go to stderr; with ``--json`` stdout gets exactly one JSON object. Unusable
input (a missing or malformed CSV, a directory that is not a model) exits with code 2 and
writes nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from app.cli.errors import fail

UNUSABLE = 2  # the exit code for data or options the command cannot use
nlu = typer.Typer(
    help="Intent recognition: train and evaluate the classifier.", no_args_is_help=True
)


def register(cli: typer.Typer) -> None:
    """Add the ``nlu`` command group to the CLI."""
    cli.add_typer(nlu, name="nlu")


@contextmanager
def _bars(enabled: bool = True) -> Iterator[Any]:
    """Yield a ``(stage, done, total)`` callback drawing one rich bar per stage on stderr."""
    progress = Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
    )
    tasks: dict[str, TaskID] = {}

    def tell(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done, total=total)

    with progress:
        yield tell


@nlu.command("train")
def train(
    data: Annotated[Path, typer.Option(help="CSV with columns text,category.")],
    out: Annotated[Path, typer.Option(help="Directory to write the model into.")],
    profile: Annotated[
        str,
        typer.Option(
            help=(
                "Recipe: 'full' (fine-tuned all-mpnet-base-v2), 'compact' (fine-tuned "
                "all-MiniLM-L6-v2: half the time) or 'fast' (no fine-tuning)."
            )
        ),
    ] = "full",
    fast: Annotated[bool, typer.Option("--fast", help="Same as --profile fast.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Train the intent classifier on a CSV and save it (train_seconds is recorded)."""
    started = time.perf_counter()
    from agents.nlu import (
        PROFILES,
        IntentModel,
        NluDataError,
        file_sha256,
        is_model_dir,
        read_labelled_csv,
    )
    from knowledge.encoding.bases import BaseModelError, require

    name = "fast" if fast else profile
    if name not in PROFILES:
        raise fail(f"unknown profile {name!r} (known: {', '.join(PROFILES)})", code=UNUSABLE)
    recipe = PROFILES[name]
    try:  # before any data is read: a recipe whose base model is not installed says what to do
        require(recipe.fine_tune.base if recipe.fine_tune is not None else "minilm")
    except BaseModelError as exc:
        raise fail(f"the {name!r} recipe cannot train here: {exc}", code=UNUSABLE) from None
    try:
        texts, labels = read_labelled_csv(data, min_per_label=2)
        if len(set(labels)) < 2:
            raise NluDataError(f"{data}: need at least 2 categories, found {len(set(labels))}")
        if out.exists() and not is_model_dir(out) and (not out.is_dir() or any(out.iterdir())):
            raise NluDataError(f"{out}: exists and is not a model directory (nor empty)")
        model = IntentModel(profile=name)
        with _bars() as tell:
            model.fit(texts, labels, progress=tell)
        model.train_seconds = time.perf_counter() - started
        model.data_sha256 = file_sha256(data)
        model.save(out, extra={"data_file": data.name})
    except NluDataError as exc:
        raise fail(str(exc), code=UNUSABLE) from None
    summary = {
        "model": str(out),
        "profile": name,
        "labels": len(model.labels),
        "n_train": len(texts),
        "train_seconds": round(float(model.train_seconds), 2),
    }
    if as_json:
        typer.echo(json.dumps(summary))
        return
    for key, value in summary.items():
        typer.echo(f"{key:>14}: {value}")


@nlu.command("eval")
def evaluate_command(
    model_dir: Annotated[Path, typer.Option("--model", help="Directory of a trained model.")],
    data: Annotated[Path, typer.Option(help="CSV with columns text,category.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    threads: Annotated[
        int, typer.Option(min=0, help="Torch threads for the encoder (0: torch's default).")
    ] = 0,
) -> None:
    """Score a trained model on a CSV, one query at a time (accuracy, macro-F1, latency)."""
    from agents.nlu import IntentModel, NluDataError, evaluate, read_labelled_csv

    if threads:
        import torch

        torch.set_num_threads(threads)

    try:
        texts, labels = read_labelled_csv(data)
        model = IntentModel.load(model_dir)
    except NluDataError as exc:
        raise fail(str(exc), code=UNUSABLE) from None
    unknown = sorted(set(labels) - set(model.labels))
    if unknown:
        Console(stderr=True).print(
            f"note: {len(unknown)} label(s) the model never saw count as errors: "
            + ", ".join(unknown[:5])
        )
    with _bars() as tell:
        result = evaluate(model, texts, labels, lambda done, total: tell("queries", done, total))
    if as_json:
        typer.echo(json.dumps(result))
        return
    for key, value in result.items():
        typer.echo(f"{key:>17}: {value}")
