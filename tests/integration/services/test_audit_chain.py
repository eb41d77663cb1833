"""The audit log's hash chain on SQLite and PostgreSQL: every writer links, tampering shows.

Rows come from every writer of the log (``record_audit`` for the REST routes, a banking write,
the seed); tampering goes around the append-only triggers the way someone with the database's
keys could, and ``verify_chain`` (and ``concierge audit verify``) must name the first bad row.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session
from typer.testing import CliRunner

from app.api.queries import record_audit
from app.cli import cli
from services import audit, banking
from services.audit import GENESIS, append_audit, verify_chain
from services.db import create_schema, make_engine
from services.synth.writer import seed_bank
from tests.support.bank_world import NOW, build_world

runner = CliRunner()
FIELDS = "occurred_at, actor, action, resource, resource_id, outcome, origin, detail"


def _record(engine: Engine, n: int, actor: str = "advisor:1") -> None:
    with Session(engine) as session:
        record_audit(
            session,
            actor=actor,
            action="view_summary",
            resource="customer",
            resource_id=str(n),
            outcome="success",
            origin="127.0.0.1",
        )


def _ids(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT id FROM audit_log ORDER BY id")).scalars())


def _verify(engine: Engine) -> audit.ChainReport:
    with engine.connect() as conn:
        return verify_chain(conn)


def _tamper(engine: Engine, *statements: str, **params: object) -> None:
    """Run statements with the append-only triggers out of the way (as a DBA could)."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        else:
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        for statement in statements:
            conn.execute(text(statement), params)


def _chain_of_five(engine: Engine) -> list[int]:
    for n in range(5):
        _record(engine, n)
    ids = _ids(engine)
    assert len(ids) == 5 and _verify(engine).ok
    return ids


def test_every_writer_links_into_one_chain_that_verifies(engine: Engine) -> None:
    seed_bank(engine, customers=2, seed=3, as_of=date(2026, 3, 1), workers=1)  # the seed's row
    world = build_world(engine)
    with engine.begin() as conn:  # a banking write's row
        banking.transfer(
            conn,
            person_id=world.a.person,
            from_account_id=world.a.everyday,
            to_account_id=world.a.rainy,
            amount_minor=10_00,
            currency="USD",
            idempotency_key=uuid.uuid4().hex,
            now=NOW,
        )
    _record(engine, 1)  # a route's row
    with engine.connect() as conn:
        rows = conn.execute(
            text(f"SELECT {FIELDS}, prev_hash, hash FROM audit_log ORDER BY id")
        ).all()
    assert [r.actor for r in rows] == ["system:seed", f"customer:{world.a.person}", "advisor:1"]
    assert rows[0].prev_hash == GENESIS
    assert all(
        later.prev_hash == earlier.hash for earlier, later in zip(rows, rows[1:], strict=False)
    )
    # PCI DSS 10.2.2: who, what, when, outcome, origin, affected resource, on every row
    for r in rows:
        assert r.actor and r.action and r.occurred_at and r.outcome and r.origin and r.resource
    assert rows[1].resource_id and rows[1].action == "transfer"
    assert _verify(engine).to_json() == {"rows": 3, "ok": True, "first_bad_id": None}


def test_an_edited_outcome_breaks_the_chain_at_that_row(engine: Engine) -> None:
    ids = _chain_of_five(engine)
    _tamper(engine, "UPDATE audit_log SET outcome = 'failure' WHERE id = :id", id=ids[2])
    assert _verify(engine).to_json() == {"rows": 5, "ok": False, "first_bad_id": ids[2]}


def test_a_deleted_row_breaks_the_chain_at_the_next_one(engine: Engine) -> None:
    ids = _chain_of_five(engine)
    _tamper(engine, "DELETE FROM audit_log WHERE id = :id", id=ids[2])
    assert _verify(engine).to_json() == {"rows": 4, "ok": False, "first_bad_id": ids[3]}


def test_reordered_rows_break_the_chain_where_the_order_changed(engine: Engine) -> None:
    ids = _chain_of_five(engine)
    # Swap rows 2 and 3 completely, seals included: each still matches its own fields.
    spare = ids[-1] + 100
    _tamper(
        engine,
        "UPDATE audit_log SET id = :spare WHERE id = :b",
        "UPDATE audit_log SET id = :b WHERE id = :a",
        "UPDATE audit_log SET id = :a WHERE id = :spare",
        a=ids[1],
        b=ids[2],
        spare=spare,
    )
    assert _verify(engine).to_json() == {"rows": 5, "ok": False, "first_bad_id": ids[1]}


def test_a_forged_row_with_a_fresh_seal_still_breaks_the_link_after_it(engine: Engine) -> None:
    ids = _chain_of_five(engine)
    with engine.connect() as conn:
        row = conn.execute(
            text(f"SELECT {FIELDS}, prev_hash FROM audit_log WHERE id = :id"), {"id": ids[1]}
        ).one()
    forged = {**row._asdict(), "outcome": "failure"}
    _tamper(
        engine,
        "UPDATE audit_log SET outcome = 'failure', hash = :h WHERE id = :id",
        h=audit.seal(row.prev_hash, forged),
        id=ids[1],
    )
    assert _verify(engine).first_bad_id == ids[2]


def test_concurrent_appends_never_fork_the_chain(engine: Engine) -> None:
    threads, each = 8, 10
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(worker: int) -> None:
        try:
            start.wait()
            for n in range(each):
                if n % 2:
                    _record(engine, n, actor=f"advisor:{worker}")
                else:
                    with engine.begin() as conn:
                        append_audit(
                            conn, actor=f"system:{worker}", action="tick", resource="t", outcome="x"
                        )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors, errors
    with engine.connect() as conn:
        links = conn.execute(text("SELECT prev_hash FROM audit_log")).scalars().all()
    assert len(links) == threads * each and len(set(links)) == len(links)  # no two share a parent
    assert _verify(engine).to_json() == {"rows": threads * each, "ok": True, "first_bad_id": None}


def test_the_verify_command_reports_and_exits_1_when_broken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{(tmp_path / 'bank.db').as_posix()}"
    monkeypatch.setenv("CONCIERGE_DATABASE_URL", url)
    monkeypatch.setenv("CONCIERGE_VAR_DIR", str(tmp_path))
    engine = make_engine(url)
    create_schema(engine)
    ids = _chain_of_five(engine)
    ok = runner.invoke(cli, ["audit", "verify", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout) == {"rows": 5, "ok": True, "first_bad_id": None}
    _tamper(engine, "UPDATE audit_log SET actor = 'advisor:2' WHERE id = :id", id=ids[3])
    broken = runner.invoke(cli, ["audit", "verify", "--json"])
    assert broken.exit_code == 1
    assert json.loads(broken.stdout) == {"rows": 5, "ok": False, "first_bad_id": ids[3]}
    plain = runner.invoke(cli, ["audit", "verify"])
    assert plain.exit_code == 1 and str(ids[3]) in plain.stdout
    engine.dispose()
