"""``concierge bench events``: how fast events become profile features, in-process and on Redis.

Prints one JSON object with ``--json``, else a table; progress goes to stderr. The Redis run
uses a stream and keys under a prefix of its own, removed afterwards, so it is safe against a
shared Redis. See ``app/bench_events.py`` for what is measured.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app import bench_events
from services.events import Event, EventBus
from services.feature_store import FeatureStore, MemoryFeatureStore
from services.settings import get_settings

bench_app = typer.Typer(help="Benchmarks that print figures.", no_args_is_help=True)
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def register(cli: typer.Typer) -> None:
    """Add the ``bench`` command group (with ``events``) to the ``concierge`` CLI."""
    cli.add_typer(bench_app, name="bench")


def _measure(
    label: str, bus: EventBus, store: FeatureStore, events: list[Event], **options: Any
) -> dict[str, Any]:
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(label, total=len(events))
        return bench_events.run(
            bus, store, events, advance=lambda n: progress.advance(task, n), **options
        )


def _in_process(events: list[Event], **options: Any) -> dict[str, Any]:
    from services.bus_memory import InProcessBus

    bus = InProcessBus(maxlen=len(events) + 1)
    try:
        return _measure("in-process", bus, MemoryFeatureStore(), events, **options)
    except RuntimeError as exc:
        return {"error": str(exc)}


def _redis(url: str, events: list[Event], **options: Any) -> dict[str, Any]:
    import redis

    from services.bus_redis import RedisStreamBus, connect
    from services.feature_store_redis import RedisFeatureStore

    client = connect(url)
    prefix = f"concierge:bench:{uuid.uuid4().hex[:12]}"
    bus = RedisStreamBus(client, stream=f"{prefix}:events", maxlen=len(events) + 1_000)
    store = RedisFeatureStore(client, prefix=f"{prefix}:features")
    try:
        client.ping()
        return _measure("redis", bus, store, events, **options)
    except (redis.RedisError, RuntimeError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        try:
            bus.delete()
            store.clear()
        except redis.RedisError:
            pass  # unreachable: nothing was written
        client.close()


def _print_table(results: dict[str, dict[str, Any]]) -> None:
    table = Table(title="event bus -> profile features")
    for name in ("bus", "events", "events/s", "p50 ms", "p99 ms"):
        table.add_column(name, justify="right" if name != "bus" else "left")
    for bus, result in results.items():
        if "error" in result:
            table.add_row(bus, "-", "-", "-", result["error"])
            continue
        table.add_row(
            bus,
            f"{result['events']:,}",
            f"{result['events_per_s']:,.0f}",
            f"{result['latency_ms_p50']:.2f}",
            f"{result['latency_ms_p99']:.2f}",
        )
    Console().print(table)


@bench_app.command("events")
def events_command(
    events: Annotated[
        int | None,
        typer.Option(min=1, help="Events per run (default: 50,000 in-process, 20,000 Redis)."),
    ] = None,
    redis_events: Annotated[
        int | None, typer.Option(min=1, help="Events for the Redis run (default: --events).")
    ] = None,
    people: Annotated[int, typer.Option(min=1, help="People the events are spread over.")] = 1000,
    batch: Annotated[int, typer.Option(min=1, help="Most events a consumer takes at once.")] = 200,
    in_flight: Annotated[
        int,
        typer.Option(
            min=1, help="Most events published but not yet applied (two publish batches)."
        ),
    ] = 200,
    redis_url: Annotated[
        str | None,
        typer.Option(help="Redis to use (default: CONCIERGE_REDIS_URL, else local db 0)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic events.")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Measure events/s and publish-to-profile latency on the in-process and Redis buses."""
    now = datetime.now(UTC)
    options: dict[str, Any] = {"now": now, "batch": batch, "in_flight": in_flight}
    n_memory = events or 50_000
    n_redis = redis_events or events or 20_000
    make = bench_events.synthetic_events
    results = {
        "in_process": _in_process(make(n_memory, people=people, seed=seed, now=now), **options),
        "redis": _redis(
            redis_url or get_settings().redis_url or DEFAULT_REDIS_URL,
            make(n_redis, people=people, seed=seed + 1, now=now),
            **options,
        ),
    }
    if as_json:
        typer.echo(json.dumps(results))
    else:
        _print_table(results)
