"""The whole HTTP API fuzzed from its own OpenAPI schema with schemathesis, in process.

Every operation gets schema-valid (positive) and schema-breaking (negative) requests under a
customer's token and under an advisor's token, on a small seeded SQLite bank. Every response
must be no 5xx, a documented status code and content type, and a body that matches the
documented schema. The run is bounded and seeded (``derandomize``), so it is the same run each
time and finishes in well under two minutes.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.auth import Role, issue_token
from app.main import create_app
from services.settings import Settings
from services.synth.writer import seed_bank

KEY = "fuzz-key"
CUSTOMER, ADVISOR, GONE = 1, 1, 987_654
MAX_EXAMPLES = 25
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class Tally:
    """How many cases were sent, by role and generation mode."""

    cases: int = 0


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    var: Path = tmp_path_factory.mktemp("fuzz")
    app = create_app(
        Settings(
            var_dir=var,
            database_url=f"sqlite:///{(var / 'bank.db').as_posix()}",
            secret_key=KEY,
        )
    )
    # The lifespan stays open for the module: schemathesis's in-process calls share its state.
    with TestClient(app):
        seed_bank(app.state.engine, customers=3, seed=5, as_of=date.today(), workers=1)
        yield app


@pytest.fixture(scope="module")
def schema(app: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="module")
def tally() -> Iterator[Tally]:
    count = Tally()
    yield count
    print(f"\nAPI fuzz: {count.cases} cases run")  # noqa: T201 - the run's size is the report


def _operations(app: FastAPI) -> list[str]:
    spec = app.openapi()
    return [f"{m.upper()} {p}" for p, ops in spec["paths"].items() for m in ops]


def test_the_fuzzed_schema_covers_every_route(schema: Any, app: FastAPI) -> None:
    labels = {op.ok().label for op in schema.get_all_operations()}
    assert labels == set(_operations(app))
    assert len(labels) >= 15


ROLES = {
    "customer": lambda: issue_token(person_id=CUSTOMER, role=Role.customer, key=KEY),
    "advisor": lambda: issue_token(person_id=ADVISOR, role=Role.advisor, key=KEY),
    # A validly signed token whose customer is no longer on file (e.g. after a reseed).
    "gone": lambda: issue_token(person_id=GONE, role=Role.customer, key=KEY),
}


@pytest.mark.parametrize(
    ("role", "mode"),
    [
        ("customer", GenerationMode.POSITIVE),
        ("customer", GenerationMode.NEGATIVE),
        ("advisor", GenerationMode.POSITIVE),
        ("advisor", GenerationMode.NEGATIVE),
        ("gone", GenerationMode.POSITIVE),  # refused before any input is read: one mode is enough
    ],
)
def test_no_operation_fails_or_breaks_its_schema(
    schema: Any, tally: Tally, role: str, mode: GenerationMode
) -> None:
    headers = {"Authorization": f"Bearer {ROLES[role]()}"}
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=MAX_EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def fuzz(case: Any) -> None:
            tally.cases += 1
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            fuzz()
        except Unsatisfiable:
            # No request can break this operation's schema (no parameters, no body).
            assert mode is GenerationMode.NEGATIVE, operation.label
        except (Exception, FailureGroup) as exc:  # noqa: BLE001 - report every operation's
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)


def _cursor(booked: str, last_id: object) -> str:
    raw = json.dumps([booked, last_id]).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# Inputs the fuzzer once found (or could have) that reached the database driver as numbers it
# cannot hold, or date arithmetic past the calendar: each must be a 4xx or an empty answer.
EDGES = [
    ("/api/advisor/customers/99999999999999999999/summary", "advisor", 422),
    ("/api/advisor/customers/9223372036854775808/conversations", "advisor", 422),
    ("/api/advisor/cases/-99999999999999999999", "advisor", 422),
    ("/api/advisor/conversations/t/transcript?customer=99999999999999999999", "advisor", 422),
    ("/api/me/transactions?account=99999999999999999999", "customer", 404),
    ("/api/me/transactions?account=%C2%B2", "customer", 404),  # "²": a digit, not a number
    ("/api/me/transactions?account_id=99999999999999999999", "customer", 422),
    ("/api/me/transactions?min_amount=1e30", "customer", 422),
    ("/api/me/transactions?max_amount=92233720368547758.08", "customer", 422),
    ("/api/me/transactions?until=9999-12-31", "customer", 200),
    (
        f"/api/me/transactions?cursor={_cursor('2026-01-01T00:00:00+00:00', 10**30)}",
        "customer",
        400,
    ),
    (f"/api/me/transactions?cursor={_cursor('2026-01-01T00:00:00+00:00', -1)}", "customer", 400),
]


@pytest.mark.parametrize(("url", "role", "status"), EDGES)
def test_numbers_beyond_the_database_are_refused_not_crashed(
    app: FastAPI, url: str, role: str, status: int
) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        got = client.get(url, headers={"Authorization": f"Bearer {ROLES[role]()}"})
    assert got.status_code == status, got.text
