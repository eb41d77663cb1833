"""The decision benchmark: next best actions from cached vectors, cold builds and fresh events.

Self-contained. It seeds a small real bank (``bank_customers``, default 500) into a temporary
SQLite file, trains the propensity and risk models on it (``train_all`` with the insight
detectors) and then measures, at one decision level (default ``predictive``):

* **cold**: a decision on a cache miss for every bank customer, through
  :class:`~services.recommendations.recommender.Recommender` with an empty store: the vector is
  built from the system of record (``insights_for`` + ``build_vector``), scored by the risk models,
  stored, and decided on. The insight detectors' and the load's own shares are reported too;
* **cached**: the cache is filled with ``customers`` vectors cloned from the bank's real ones
  (each bank vector re-encoded with a new person id, so every clone is a real customer's
  profile under another id, far quicker than seeding 100,000 customers), then
  every cached customer gets one ``Recommender.decide`` in random order: read from the store,
  ``from_bytes``, ``decide`` (and the decision cached). Latency per call and throughput in one
  thread of one process;
* **decision hit**: a second pass in another order, served from the decision cache (the
  vector's bytes read and digested, the cached decision read and checked), with the mean
  encoded size of a cached decision;
* **memory**: the mean encoded size (``to_bytes``); for the in-process LRU, per customer, the
  growth of the process's resident memory (Linux ``/proc``) while filling it and the Python
  heap an entry takes (``tracemalloc``); for Redis the growth of the server's ``used_memory``;
* **event to decision**: one transaction event at a time is published on the bus for a random
  cached customer; a consumer thread runs the recommender's real handler
  (``Recommender.on_events``, which folds the event into the cached vector); as soon as the
  handler returns, the next decision for that customer is made. Latency runs from just before
  ``publish`` to the end of that decision, and each vector is checked to hold the event (its
  watermark and the money moved), so a fast but stale path fails instead of reporting figures.

The same cached, memory and event measures run on Redis (``RedisVectorStore`` and
``RedisStreamBus``) under a key prefix of the run's own, removed afterwards. The collector is
frozen after set-up (``gc.freeze``), as a long-running service does after warm-up, so the
harness's own objects (the bank's vectors and models, the timing arrays) are not rescanned
mid-measure: unfrozen, an occasional full collection adds a long pause to one cold decision.
"""

from __future__ import annotations

import gc
import os
import random
import tempfile
import threading
import time
import tracemalloc
import uuid
from array import array
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from app.progress import Phase
from services.db import make_engine
from services.events import Event, EventBus, run_consumer
from services.insights import Insight
from services.insights.detectors import insights_for
from services.recommendations import default_catalog, train_all
from services.recommendations.actions import Catalog
from services.recommendations.decision_cache import (
    DecisionStore,
    LruDecisionStore,
    RedisDecisionStore,
    encode_decision,
)
from services.recommendations.live import micros
from services.recommendations.recommender import (
    LruVectorStore,
    Recommender,
    RedisVectorStore,
    VectorStore,
    loader_from_engine,
)
from services.recommendations.trainer import Trained
from services.recommendations.vector import FeatureVector, to_bytes
from services.stats import percentile
from services.synth.writer import seed_bank

# Starts a phase of the run: (label, total steps or None) -> advance(steps).
CLONE_BASE = 10_000_000  # cloned customers' ids start above any bank id
REDIS_BATCH = 1_000  # commands per pipeline when filling or clearing Redis
TTL_S = 6 * 3_600  # the bench's vectors outlive any run, and expire if a run is killed
EVENT_TIMEOUT_S = 10.0
HEAP_SAMPLE = 10_000  # cached entries whose heap cost tracemalloc counts


def _no_phase(label: str, total: int | None) -> Callable[[int], None]:
    return lambda n: None


@dataclass
class Bank:
    """The seeded bank, its clock, trained models and every customer's vector."""

    engine: Engine
    now: datetime
    catalog: Catalog
    trained: Trained

    @property
    def vectors(self) -> list[FeatureVector]:
        """The bank's vectors (with risk scores), in person id order."""
        return [self.trained.vectors[p] for p in sorted(self.trained.vectors)]

    def recommender(
        self,
        store: VectorStore,
        insights: Any = insights_for,
        decisions: DecisionStore | None = None,
    ) -> Recommender:
        """A recommender over ``store`` that builds misses from this bank."""
        return Recommender(
            store,
            load=loader_from_engine(self.engine, insights),
            catalog=self.catalog,
            propensity=self.trained.propensity,
            risk=self.trained.risk,
            decisions=decisions,
        )


@contextmanager
def seeded_bank(
    customers: int, *, seed: int, as_of: date, phase: Phase = _no_phase
) -> Iterator[Bank]:
    """A bank of ``customers`` in a temporary SQLite file, with models trained at noon."""
    with tempfile.TemporaryDirectory(prefix="concierge-bench-") as folder:
        engine = make_engine(f"sqlite:///{(Path(folder) / 'bank.db').as_posix()}")
        try:
            advance = phase(f"seed a {customers:,}-customer bank", customers)
            seed_bank(engine, customers=customers, seed=seed, as_of=as_of, progress=advance)
            now = datetime(as_of.year, as_of.month, as_of.day, 12, tzinfo=UTC)
            catalog = default_catalog()
            phase("train models (vectors of everyone)", None)
            with engine.connect() as conn:
                trained = train_all(conn, now=now, catalog=catalog, insights_of=insights_for)
            yield Bank(engine, now, catalog, trained)
        finally:
            engine.dispose()


def _us(seconds: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of ``seconds`` in microseconds."""
    return round(percentile(seconds, q) * 1e6, 1)


def _summary(seconds: list[float]) -> dict[str, float]:
    seconds.sort()
    return {"p50_us": _us(seconds, 50), "p99_us": _us(seconds, 99)}


def measure_cold(bank: Bank, *, level: str, phase: Phase = _no_phase) -> dict[str, Any]:
    """A decision on a cache miss for every bank customer (build from the database + decide)."""
    spent = {"insights": 0.0, "load": 0.0}

    def timed_insights(conn: Connection, *, person_id: int, now: datetime) -> list[Insight]:
        start = time.perf_counter()
        try:
            return insights_for(conn, person_id=person_id, now=now)
        finally:
            spent["insights"] = time.perf_counter() - start

    recommender = bank.recommender(LruVectorStore(), timed_insights)
    load = recommender.load

    def timed_load(person_id: int, now: datetime) -> FeatureVector:
        start = time.perf_counter()
        try:
            return load(person_id, now)
        finally:
            spent["load"] = time.perf_counter() - start

    recommender.load = timed_load
    people = sorted(bank.trained.vectors)
    advance = phase("cold decisions (build from the database)", len(people))
    total, insights, build, decided = [], [], [], []
    for person_id in people:
        start = time.perf_counter()
        recommender.decide(person_id, now=bank.now, level=level)
        elapsed = time.perf_counter() - start
        total.append(elapsed)
        insights.append(spent["insights"])
        build.append(spent["load"] - spent["insights"])
        decided.append(elapsed - spent["load"])
        advance(1)
    out: dict[str, Any] = _summary(total)
    for name, values in (("insights", insights), ("build", build), ("risk_and_decide", decided)):
        values.sort()
        out[f"{name}_p50_us"], out[f"{name}_p99_us"] = _us(values, 50), _us(values, 99)
    out["max_us"] = round(total[-1] * 1e6, 1)
    out["samples"] = len(total)
    return out


def clones(vectors: Sequence[FeatureVector], n: int) -> Iterator[tuple[int, bytes]]:
    """``n`` encoded vectors: the bank's own, round-robin, each under a new person id."""
    for i in range(n):
        vector = vectors[i % len(vectors)]
        person_id = CLONE_BASE + i
        yield person_id, to_bytes(replace(vector, person_id=person_id))


def _rss() -> int | None:
    """This process's resident memory in bytes (Linux), or None."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def fill_lru(
    store: LruVectorStore, vectors: Sequence[FeatureVector], n: int, advance: Callable[[int], None]
) -> dict[str, Any]:
    """Put ``n`` cloned vectors in ``store``; their mean size and what the store took.

    Two views of the store's memory per customer: the growth of the process's resident set
    while filling it (what the OS sees; memory the set-up freed before, e.g. training, is
    reused first, so it can read low), and the growth of the Python heap as ``tracemalloc``
    counts it while filling a second store with the first ``HEAP_SAMPLE`` of the same clones
    (every byte an entry keeps: the encoded vector, entry tuple, expiry, key, dict slot;
    measured apart because tracing itself takes resident memory).
    """
    gc.collect()
    rss_before = _rss()
    size = 0
    for i, (person_id, data) in enumerate(clones(vectors, n), 1):
        store.put(person_id, data)
        size += len(data)
        if i % 1_000 == 0 or i == n:
            advance(1_000 if i % 1_000 == 0 else i % 1_000)
    gc.collect()
    rss_after = _rss()
    sample = min(n, HEAP_SAMPLE)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        twin = LruVectorStore(capacity=sample, ttl_seconds=store.ttl)
        for person_id, data in clones(vectors, sample):
            twin.put(person_id, data)
        gc.collect()
        heap = (tracemalloc.get_traced_memory()[0] - before) / sample
    finally:
        tracemalloc.stop()
    del twin
    grown = None if rss_before is None or rss_after is None else (rss_after - rss_before) / n
    return {
        "bytes_per_customer": round(size / n, 1),
        "lru_heap_bytes_per_customer": round(heap, 1),
        "lru_rss_bytes_per_customer": None if grown is None else round(grown, 1),
    }


def measure_cached(
    recommender: Recommender,
    ids: Sequence[int],
    *,
    now: datetime,
    level: str,
    advance: Callable[[int], None],
) -> dict[str, Any]:
    """One cached decision per id, in the given order; latency and throughput."""
    seconds = array("d", bytes(8 * len(ids)))
    clock = time.perf_counter
    empty = 0
    start = clock()
    for i, person_id in enumerate(ids):  # a miss would raise: clone ids are not in the bank
        began = clock()
        if not recommender.decide(person_id, now=now, level=level):
            empty += 1  # nothing allowed now (consent, quiet hours, caps): still a decision
        seconds[i] = clock() - began
        if i % 1_000 == 999:
            advance(1_000)
    wall = clock() - start
    advance(len(ids) % 1_000)
    out: dict[str, Any] = _summary(list(seconds))
    out["per_s"] = round(len(ids) / wall, 1) if wall > 0 else None
    out["samples"] = len(ids)
    out["empty_share"] = round(empty / len(ids), 4)
    return out


def _event(i: int, person_id: int, at: datetime) -> Event:
    """A paycheck or a card purchase for ``person_id`` at ``at``."""
    if i % 2 == 0:
        data = {"amount_minor": 250_000 + i, "category": "income", "channel": "ach"}
    else:
        data = {"amount_minor": -(1_000 + i), "category": "groceries", "channel": "card"}
    data |= {
        "account_id": person_id * 100,
        "currency": "USD",
        "account_type": "checking",
        "balance_after_minor": 500_000 + i,
    }
    return Event(
        id=f"bench-nba-{i}-{person_id}",
        type="transaction",
        person_id=person_id,
        occurred_at=at,
        data=data,
    )


def measure_events(
    bus: EventBus,
    recommender: Recommender,
    ids: Sequence[int],
    *,
    now: datetime,
    level: str,
    count: int,
    seed: int,
    advance: Callable[[int], None],
) -> dict[str, Any]:
    """Publish one event at a time; time publish -> the first decision after it was folded in.

    Raises:
        RuntimeError: when the consumer stalls or a vector does not hold its event.
    """
    rng = random.Random(seed)
    applied = {"n": 0}
    done = threading.Condition()

    def handle(events: Sequence[Event]) -> None:
        recommender.on_events(events)  # the real handler: folds each event into the cache
        with done:
            applied["n"] += len(events)
            done.notify_all()

    stop = threading.Event()
    worker = threading.Thread(
        target=run_consumer,
        args=(bus, "bench-nba", "nba-1", handle),
        kwargs={"stop": stop, "count": 100, "block_ms": 50},
        daemon=True,
    )
    worker.start()
    seconds: list[float] = []
    try:
        for i in range(count):
            person_id = rng.choice(ids)
            at = now + timedelta(milliseconds=i + 1)  # after every vector's watermark
            event = _event(i, person_id, at)
            before = recommender.vector(person_id, now=now)
            start = time.perf_counter()
            bus.publish(event)
            with done:
                deadline = time.monotonic() + EVENT_TIMEOUT_S
                while applied["n"] <= i:
                    if not done.wait(max(0.0, deadline - time.monotonic())):
                        raise RuntimeError("the event consumer stopped making progress")
            recommender.decide(person_id, now=at, level=level)
            seconds.append(time.perf_counter() - start)
            _check(recommender.vector(person_id, now=at), before, event)
            advance(1)
    finally:
        stop.set()
        worker.join(5)
    seconds.sort()
    return {
        "event_to_decision_ms_p50": round(percentile(seconds, 50) * 1e3, 3),
        "event_to_decision_ms_p99": round(percentile(seconds, 99) * 1e3, 3),
        "events": count,
    }


def _check(after: FeatureVector, before: FeatureVector, event: Event) -> None:
    """The vector the decision read holds the event (nothing else writes it meanwhile)."""
    amount = int(event.data["amount_minor"])
    moved = after.net_flow_30d_minor - before.net_flow_30d_minor
    if after.watermark != micros(event.occurred_at) or moved != amount:
        raise RuntimeError(f"the decision after event {event.id} did not see it")


def run_memory(
    bank: Bank, *, customers: int, level: str, events: int, seed: int, phase: Phase = _no_phase
) -> dict[str, Any]:
    """Cached decisions, memory and event to decision on the in-process LRU and bus."""
    from services.events.in_process import InProcessBus

    store = LruVectorStore(capacity=customers, ttl_seconds=TTL_S)
    filled = fill_lru(store, bank.vectors, customers, phase("fill the LRU", customers))
    decisions = LruDecisionStore(capacity=customers)
    recommender = bank.recommender(store, decisions=decisions)
    ids = list(range(CLONE_BASE, CLONE_BASE + customers))
    random.Random(seed).shuffle(ids)
    with frozen_gc():
        cached = measure_cached(
            recommender,
            ids,
            now=bank.now,
            level=level,
            advance=phase("cached decisions, in-process", len(ids)),
        )
        random.Random(seed + 2).shuffle(ids)
        hits = measure_cached(
            recommender,
            ids,
            now=bank.now,
            level=level,
            advance=phase("decision-cache hits, in-process", len(ids)),
        )
        bus = InProcessBus(maxlen=events + 1)
        fresh = measure_events(
            bus,
            recommender,
            ids,
            now=bank.now,
            level=level,
            count=events,
            seed=seed,
            advance=phase("event -> decision, in-process", events),
        )
    sample = [decisions.get(key) for key in list(decisions._items)[:HEAP_SAMPLE]]
    sizes = [len(encode_decision(entry)) for entry in sample if entry is not None]
    hits["decision_bytes_mean"] = round(sum(sizes) / len(sizes), 1) if sizes else None
    return {"cached": cached, "decision_hit": hits, **filled, **fresh}


def run_redis(
    bank: Bank,
    url: str,
    *,
    customers: int,
    level: str,
    events: int,
    seed: int,
    phase: Phase = _no_phase,
) -> dict[str, Any]:
    """Cached decisions, memory and event to decision on Redis; ``{"error"}`` if unreachable."""
    import redis

    from services.events.redis_streams import RedisStreamBus, connect

    client = connect(url)
    prefix = f"concierge:bench:{uuid.uuid4().hex[:12]}"
    try:
        client.ping()
        store = RedisVectorStore(client, prefix=f"{prefix}:vec", ttl_seconds=TTL_S)
        bus = RedisStreamBus(client, stream=f"{prefix}:events", maxlen=events + 1_000)
        used = _used_memory(client)
        advance = phase("fill Redis", customers)
        pipe = client.pipeline(transaction=False)
        for i, (person_id, data) in enumerate(clones(bank.vectors, customers), 1):
            pipe.set(store._key(person_id), data, ex=TTL_S)
            if i % REDIS_BATCH == 0 or i == customers:
                pipe.execute()
                advance(REDIS_BATCH if i % REDIS_BATCH == 0 else i % REDIS_BATCH)
        grown = round((_used_memory(client) - used) / customers, 1)
        decisions = RedisDecisionStore(client, prefix=f"{prefix}:dec", ttl_seconds=TTL_S)
        recommender = bank.recommender(store, decisions=decisions)
        ids = list(range(CLONE_BASE, CLONE_BASE + customers))
        random.Random(seed + 1).shuffle(ids)
        with frozen_gc():
            cached = measure_cached(
                recommender,
                ids,
                now=bank.now,
                level=level,
                advance=phase("cached decisions, Redis", len(ids)),
            )
            random.Random(seed + 3).shuffle(ids)
            hit = measure_cached(
                recommender,
                ids,
                now=bank.now,
                level=level,
                advance=phase("decision-cache hits, Redis", len(ids)),
            )
            fresh = measure_events(
                bus,
                recommender,
                ids,
                now=bank.now,
                level=level,
                count=events,
                seed=seed + 1,
                advance=phase("event -> decision, Redis", events),
            )
        return {
            **cached,
            "decision_hit": {name: hit[name] for name in ("p50_us", "p99_us", "per_s")},
            "used_memory_per_customer": grown,
            **fresh,
        }
    except (redis.RedisError, RuntimeError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        try:
            _clear(client, prefix)
        except redis.RedisError:
            pass  # unreachable: nothing was written
        client.close()


def _used_memory(client: Any) -> int:
    return int(client.info("memory")["used_memory"])


def _clear(client: Any, prefix: str) -> None:
    """Remove every key under ``prefix`` (the vectors, the stream and its dead letters)."""
    batch: list[bytes] = []
    for key in client.scan_iter(match=f"{prefix}:*", count=REDIS_BATCH):
        batch.append(key)
        if len(batch) >= REDIS_BATCH:
            client.unlink(*batch)
            batch = []
    if batch:
        client.unlink(*batch)


@contextmanager
def frozen_gc() -> Iterator[None]:
    """Move everything alive now out of the collector's sight for the measurement."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def run(
    *,
    customers: int,
    bank_customers: int,
    level: str,
    events: int,
    seed: int,
    as_of: date,
    redis_url: str,
    phase: Phase = _no_phase,
) -> dict[str, Any]:
    """The whole benchmark; one JSON-ready dict (see the module docstring)."""
    started = time.perf_counter()
    with seeded_bank(bank_customers, seed=seed, as_of=as_of, phase=phase) as bank:
        with frozen_gc():
            cold = measure_cold(bank, level=level, phase=phase)
        memory = run_memory(
            bank, customers=customers, level=level, events=events, seed=seed, phase=phase
        )
        on_redis = run_redis(
            bank,
            redis_url,
            customers=customers,
            level=level,
            events=events,
            seed=seed,
            phase=phase,
        )
    return {
        "cached": memory["cached"],
        "decision_hit": memory["decision_hit"],
        "cold": cold,
        "redis": on_redis,
        "bytes_per_customer": memory["bytes_per_customer"],
        "lru_heap_bytes_per_customer": memory["lru_heap_bytes_per_customer"],
        "lru_rss_bytes_per_customer": memory["lru_rss_bytes_per_customer"],
        "event_to_decision_ms_p50": memory["event_to_decision_ms_p50"],
        "event_to_decision_ms_p99": memory["event_to_decision_ms_p99"],
        "events": memory["events"],
        "customers": customers,
        "bank_customers": bank_customers,
        "population": (
            f"{customers:,} vectors cloned from a {bank_customers:,}-customer seeded bank "
            f"(seed {seed}, as of {as_of.isoformat()}), each under a new person id"
        ),
        "level": level,
        "gc": "frozen after set-up (gc.freeze) for every measure",
        "seconds": round(time.perf_counter() - started, 1),
    }
