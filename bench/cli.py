"""``concierge bench events|decisions|chat|handoff|soak``: from events to live hand-offs.

``events``: how fast events become profile features, in-process and on Redis. ``decisions``:
cached, cold and event-refreshed decisions (see ``bench/decisions.py``). ``chat``: a burst of
websocket conversations (``bench/chat.py``); ``handoff``: customers handed to advisors live
across server processes (``bench/handoff.py``); ``soak``: conversations held for a while, with
the server's memory before and after (``bench/soak.py``).

Each prints one JSON object with ``--json``, else a table; progress goes to stderr. Redis runs
use a stream and keys under a prefix of their own, removed afterwards, so they are safe against
a shared Redis.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.progress import rich_phases
from bench import decisions as bench_decisions
from bench import events as bench_events
from services.events import Event, EventBus
from services.features.store import FeatureStore, MemoryFeatureStore
from services.settings import get_settings

# the chat and soak benchmarks' server processes
Workers = Annotated[
    int | None,
    typer.Option(
        min=1, max=16, help="Server processes (default: one per CPU this process may use)."
    ),
]

bench_app = typer.Typer(help="Benchmarks that print figures.", no_args_is_help=True)
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def register(cli: typer.Typer) -> None:
    """Add the ``bench`` command group (``events``, ``decisions``) to the ``concierge`` CLI."""
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
    from services.events.in_process import InProcessBus

    bus = InProcessBus(maxlen=len(events) + 1)
    try:
        return _measure("in-process", bus, MemoryFeatureStore(), events, **options)
    except RuntimeError as exc:
        return {"error": str(exc)}


def _redis(url: str, events: list[Event], **options: Any) -> dict[str, Any]:
    import redis

    from services.events.redis_streams import RedisStreamBus, connect
    from services.features.redis_store import RedisFeatureStore

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


DECISION_GOALS = (  # (label, where in the result, goal)
    ("cached p50 us, in-process", ("cached", "p50_us"), ""),
    ("cached p99 us, in-process", ("cached", "p99_us"), "<= 1,000"),
    ("cached decisions/s, one process", ("cached", "per_s"), ">= 5,000"),
    ("cached p50 us, Redis", ("redis", "p50_us"), ""),
    ("cached p99 us, Redis", ("redis", "p99_us"), "<= 3,000"),
    ("cold p50 us", ("cold", "p50_us"), ""),
    ("cold p99 us", ("cold", "p99_us"), "<= 25,000"),
    ("bytes per customer (encoded)", ("bytes_per_customer",), "<= 4,096"),
    ("LRU heap growth per customer", ("lru_heap_bytes_per_customer",), "<= 4,096"),
    ("LRU resident growth per customer", ("lru_rss_bytes_per_customer",), "<= 4,096"),
    ("event -> decision p99 ms, in-process", ("event_to_decision_ms_p99",), "<= 50"),
    ("event -> decision p99 ms, Redis", ("redis", "event_to_decision_ms_p99"), "<= 50"),
)


@bench_app.command("decisions")
def decisions_command(
    customers: Annotated[
        int, typer.Option(min=1, help="Customers in the cache (vectors cloned from the bank).")
    ] = 100_000,
    bank_customers: Annotated[
        int, typer.Option(min=1, help="Customers of the seeded bank (cold path, real vectors).")
    ] = 500,
    level: Annotated[
        str, typer.Option(help="Decision level: segment, behavioral, predictive or random.")
    ] = "predictive",
    events: Annotated[
        int, typer.Option(min=1, help="Events for the event -> decision measure, per bus.")
    ] = 1_000,
    redis_url: Annotated[
        str | None,
        typer.Option(help="Redis to use (default: CONCIERGE_REDIS_URL, else local db 0)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the bank and of the random orders.")] = 11,
    as_of: Annotated[str, typer.Option(help="The bank's today (YYYY-MM-DD).")] = "2026-11-28",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Measure cached, cold and event-refreshed next-best-action decisions."""
    from services.recommendations import LEVELS

    if level not in LEVELS:
        raise typer.BadParameter(f"expected one of {', '.join(LEVELS)}", param_hint="'--level'")
    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        raise typer.BadParameter(f"{as_of!r} is not a date", param_hint="'--as-of'") from None
    with rich_phases() as phase:
        result = bench_decisions.run(
            customers=customers,
            bank_customers=bank_customers,
            level=level,
            events=events,
            seed=seed,
            as_of=day,
            redis_url=redis_url or get_settings().redis_url or DEFAULT_REDIS_URL,
            phase=phase,
        )
    if as_json:
        typer.echo(json.dumps(result))
        return
    table = Table(title=f"decisions: {result['population']}, level {level}")
    for name in ("measure", "value", "goal"):
        table.add_column(name, justify="left" if name == "measure" else "right")
    for label, where, goal in DECISION_GOALS:
        value: Any = result
        for key in where:
            value = value.get(key) if isinstance(value, dict) else None
        shown = "-" if value is None else f"{value:,.1f}"
        table.add_row(label, shown, goal)
    Console().print(table)
    if "error" in result["redis"]:
        Console().print(f"redis: {result['redis']['error']}")


@bench_app.command("chat")
def chat_command(
    sessions: Annotated[
        int, typer.Option(min=1, max=2_000, help="Concurrent chat sessions.")
    ] = 100,
    seed: Annotated[int, typer.Option(help="Seed of the demo bank.")] = 7,
    workers: Workers = None,
    think_ms: Annotated[
        int,
        typer.Option(
            min=0,
            max=60_000,
            help="A customer's pause before each message, jittered 50-150% (0: none).",
        ),
    ] = 500,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="A PostgreSQL server to build the bank on, in a schema of its own dropped "
            "afterwards (default: an SQLite file in a temporary folder)."
        ),
    ] = None,
    redis_url: Annotated[
        str | None,
        typer.Option(help="Redis the server processes share (default: none, in-process)."),
    ] = None,
    nlu_model: Annotated[
        str | None,
        typer.Option(
            help="Intent model to use (default: the offline model's, trained if missing)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Drive N concurrent websocket chats with scripted conversations on loopback."""
    from pathlib import Path

    from agents.offline.classifier import default_classifier, model_dir
    from app.serving import usable_cpus
    from bench import chat as bench_chat

    if database_url:
        try:
            bench_chat.postgres_url(database_url)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--database-url") from None
    settings = get_settings()
    with rich_phases() as phase:
        if nlu_model:
            model = Path(nlu_model)
        else:
            phase("intent model (trained once into var/nlu)", None)(1)
            examples = settings.nlu_examples  # the model the app would serve
            default_classifier(Path(settings.var_dir), examples=examples)
            model = model_dir(Path(settings.var_dir), examples=examples)
        result = bench_chat.run(
            sessions,
            nlu_model=model,
            seed=seed,
            workers=workers or usable_cpus(),
            think_ms=think_ms,
            database_url=database_url,
            redis_url=redis_url,
            phase=phase,
        )
    if as_json:
        typer.echo(json.dumps(result))
        return
    table = Table(title=f"chat: {sessions} concurrent sessions")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("goal", justify="right")
    goals = {"errors": "0", "turns_per_s": ">= 100", "latency_ms_p95": "<= 100"}
    for key, value in result.items():
        if key != "error_samples":
            table.add_row(key, str(value), goals.get(key, ""))
    Console().print(table)
    for sample in result["error_samples"]:
        Console().print(f"error: {sample}")


@bench_app.command("handoff")
def handoff_command(
    customers: Annotated[
        int, typer.Option(min=1, max=2_000, help="Customers who each ask for a person at once.")
    ] = 100,
    advisors: Annotated[
        int, typer.Option(min=1, max=200, help="Advisors taking the queue's head at once.")
    ] = 10,
    messages: Annotated[
        int,
        typer.Option(
            min=1, max=15, help="Messages an advisor sends per conversation (each answered)."
        ),
    ] = 3,
    servers: Annotated[
        int,
        typer.Option(
            min=1,
            max=8,
            help="Server processes; customers on the first half, advisors on the rest.",
        ),
    ] = 2,
    redis_url: Annotated[
        str | None,
        typer.Option(
            help="Redis for the live hub the processes share (default: CONCIERGE_REDIS_URL, "
            "else local db 0)."
        ),
    ] = None,
    in_process: Annotated[
        bool,
        typer.Option(
            "--in-process", help="The in-process hub, no Redis (one server process only)."
        ),
    ] = False,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="A PostgreSQL server to build the bank on, in a schema of its own dropped "
            "afterwards (default: an SQLite file in a temporary folder)."
        ),
    ] = None,
    turns: Annotated[
        bool,
        typer.Option(
            "--turns",
            help="Advisors wait for each reply before the next message (default: all at once, "
            "so replies cross them in flight).",
        ),
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the demo bank.")] = 7,
    timeout: Annotated[
        float, typer.Option(min=5, help="Seconds the hand-offs may take in all.")
    ] = 300.0,
    nlu_model: Annotated[
        str | None,
        typer.Option(
            help="Intent model to use (default: the offline model's, trained if missing)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Hand N customers to K advisors live across server processes; nothing lost or doubled."""
    from pathlib import Path

    from agents.offline.classifier import default_classifier, model_dir
    from bench import chat as bench_chat
    from bench import handoff as bench_handoff

    if in_process and servers > 1:
        raise typer.BadParameter("the in-process hub serves one process", param_hint="--servers")
    if database_url:
        try:
            bench_chat.postgres_url(database_url)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--database-url") from None
    settings = get_settings()
    hub = None if in_process else redis_url or settings.redis_url or DEFAULT_REDIS_URL
    with rich_phases() as phase:
        if nlu_model:
            model = Path(nlu_model)
        else:
            phase("intent model (trained once into var/nlu)", None)(1)
            examples = settings.nlu_examples  # the model the app would serve
            default_classifier(Path(settings.var_dir), examples=examples)
            model = model_dir(Path(settings.var_dir), examples=examples)
        result = bench_handoff.run(
            customers,
            advisors,
            nlu_model=model,
            servers=servers,
            messages=messages,
            redis_url=hub,
            database_url=database_url,
            seed=seed,
            turns=turns,
            timeout_s=timeout,
            phase=phase,
        )
    if as_json:
        typer.echo(json.dumps(result))
        return
    table = Table(title=f"hand-off: {customers} customers, {advisors} advisors, {servers} servers")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("goal", justify="right")
    goals = {"lost": "0", "duplicated": "0", "misrouted": "0", "claim_conflicts_won_twice": "0"}
    for key, value in result.items():
        if key != "error_samples":
            table.add_row(key, str(value), goals.get(key, ""))
    Console().print(table)
    for sample in result["error_samples"]:
        Console().print(f"error: {sample}")


@bench_app.command("soak")
def soak_command(
    sessions: Annotated[
        int, typer.Option(min=1, max=2_000, help="Concurrent websocket conversations.")
    ] = 200,
    seconds: Annotated[float, typer.Option(min=1, help="How long they are held.")] = 120.0,
    workers: Workers = None,
    think_ms: Annotated[
        int, typer.Option(min=600, help="Mean pause between a reply and the next message.")
    ] = 1_000,
    reconnect: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Chance of reconnecting after a conversation.")
    ] = 0.25,
    seed: Annotated[int, typer.Option(help="Seed of the demo bank and the sessions.")] = 7,
    nlu_model: Annotated[
        str | None,
        typer.Option(
            help="Intent model to use (default: the offline model's, trained if missing)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Hold N websocket conversations for S seconds; latency, errors and server memory."""
    from pathlib import Path

    from agents.offline.classifier import default_classifier, model_dir
    from app.serving import usable_cpus
    from bench import soak as bench_soak

    settings = get_settings()
    with rich_phases() as phase:
        if nlu_model:
            model = Path(nlu_model)
        else:
            phase("intent model (trained once into var/nlu)", None)(1)
            examples = settings.nlu_examples  # the model the app would serve
            default_classifier(Path(settings.var_dir), examples=examples)
            model = model_dir(Path(settings.var_dir), examples=examples)
        result = bench_soak.run(
            sessions,
            seconds,
            nlu_model=model,
            workers=workers or usable_cpus(),
            seed=seed,
            think_ms=think_ms,
            reconnect=reconnect,
            phase=phase,
        )
    if as_json:
        typer.echo(json.dumps(result))
        return
    table = Table(title=f"soak: {sessions} sessions for {seconds:.0f} s")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("goal", justify="right")
    goals = {"errors": "0", "rss_growth_pct": "< 10"}
    for key, value in result.items():
        if key not in ("error_samples", "server_rss_mb_samples"):
            table.add_row(key, str(value), goals.get(key, ""))
    Console().print(table)
    memory = ", ".join(f"{at:.0f} s: {mb:,.0f}" for at, mb in result["server_rss_mb_samples"])
    Console().print(f"server memory (MB) over time: {memory}")
    for sample in result["error_samples"]:
        Console().print(f"error: {sample}")


@bench_app.command("notifications")
def notifications_command(
    customers: Annotated[int, typer.Option(min=5, max=5_000, help="Customers of the bank.")] = 200,
    events: Annotated[
        int, typer.Option(min=100, max=1_000_000, help="Transactions through the bus.")
    ] = 20_000,
    toasts: Annotated[int, typer.Option(min=1, max=1_000, help="Toasts timed.")] = 40,
    redis_url: Annotated[
        str | None,
        typer.Option(
            help="Redis for the Redis Streams run (default: CONCIERGE_REDIS_URL, else local db 0)."
        ),
    ] = None,
    in_process_only: Annotated[
        bool, typer.Option("--in-process-only", help="Skip the Redis Streams run.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the demo bank and the events.")] = 7,
    nlu_model: Annotated[
        str | None,
        typer.Option(
            help="Intent model to use (default: the offline model's, trained if missing)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Events in -> notifications decided, toasts on open pages, workers killed mid-send."""
    from pathlib import Path

    from agents.offline.classifier import default_classifier, model_dir
    from bench import notifications as bench_notifications

    settings = get_settings()
    hub = None if in_process_only else redis_url or settings.redis_url or DEFAULT_REDIS_URL
    with rich_phases() as phase:
        if nlu_model:
            model = Path(nlu_model)
        else:
            phase("intent model (trained once into var/nlu)", None)(1)
            examples = settings.nlu_examples
            default_classifier(Path(settings.var_dir), examples=examples)
            model = model_dir(Path(settings.var_dir), examples=examples)
        result = bench_notifications.run(
            nlu_model=model,
            customers=customers,
            events=events,
            redis_url=hub,
            toast_count=toasts,
            seed=seed,
            phase=phase,
        )
    if as_json:
        typer.echo(json.dumps(result))
        return
    table = Table(title="notifications")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("goal", justify="right")
    goals = {
        "in_process.events_per_s": ">= 5,000",
        "redis.events_per_s": ">= 2,000",
        "toast_ms_p99": "<= 500",
        "duplicates": "0",
        "lost": "0",
    }
    for key, value in result.items():
        if isinstance(value, dict) and key in ("in_process", "redis"):
            for inner, figure in value.items():
                name = f"{key}.{inner}"
                table.add_row(name, str(figure), goals.get(name, ""))
        else:
            table.add_row(key, str(value), goals.get(key, ""))
    Console().print(table)
