"""``concierge eval ...``: evaluations that print one JSON object with ``--json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

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


@evals.command("knowledge")
def knowledge(
    data: Annotated[Path, typer.Option(help="A text,category CSV (e.g. BANKING77 test.csv).")],
    model: Annotated[
        Path | None, typer.Option(help="An intent model (concierge nlu train) to blend in.")
    ] = None,
    workdir: Annotated[
        Path | None, typer.Option(help="Keep the index here (default: a temporary folder).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Search the knowledge base for every query; hit@1, hit@3 and latency."""
    from app.bench_decisions import rich_phases
    from evals.knowledge import run_knowledge_eval

    scorer = None
    try:
        if model is not None:
            from agents.nlu import IntentModel

            scorer = IntentModel.load(model)
        with rich_phases() as phase:
            result = run_knowledge_eval(data, scorer=scorer, workdir=workdir, progress=phase)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if model is not None:
        result["intent_model"] = str(model)
    if as_json:
        typer.echo(json.dumps(result))
        return
    for key, value in result.items():
        typer.echo(f"{key:>20}: {value}")


def register(cli: typer.Typer) -> None:
    """Add the ``eval`` command group to the CLI."""
    cli.add_typer(evals, name="eval")
