"""Export the seeded bank as its three source systems would, disagreements and all.

Writes the canonical files ``docs/data.md`` describes: core banking CSVs (clean keys), a CRM typed
by people (nicknames, typos, casing, formats, older addresses, duplicates, prospects) and the
digital event log keyed by online-banking login, plus ``truth.json`` saying which records are
the same person. ``noise`` in [0, 1] scales every disagreement; the same bank and noise give
byte-identical files (each person's noise comes from ``default_rng([seed, person_id, k])``).
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np
from faker import Faker
from sqlalchemy import Connection, Engine, Row, and_, func, select
from sqlmodel import SQLModel

from services.money import format_money
from services.synth import noise as typing
from services.synth.customer import national_id

_T = SQLModel.metadata.tables
STREAM = 5000  # rows fetched at a time from the database
CUSTOMER_COLUMNS = (
    "customer_id first_name last_name date_of_birth national_id email phone address_line city "
    "postal_code country segment customer_since is_business"
).split()
ACCOUNT_COLUMNS = (
    "account_number customer_id type name currency balance status opened_on credit_limit "
    "overdraft_limit interest_rate_bps maturity_date term_months risk_tolerance"
).split()
TRANSACTION_COLUMNS = (
    "transaction_id account_number booked_at amount currency merchant category channel "
    "counterparty description balance_after"
).split()
FILES = (
    "core_banking/customers.csv",
    "core_banking/accounts.csv",
    "core_banking/transactions.csv",
    "crm/contacts.json",
    "digital/events.jsonl",
    "truth.json",
)
PROSPECT_SHARE = 0.05  # CRM-only people: prospects who never became customers


class NoBankError(LookupError):
    """The database holds no (completely) seeded bank to export."""


@dataclass
class ExportStats:
    """What an export wrote and how long it took."""

    out: Path
    noise: float
    files: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _meta(conn: Connection) -> dict[str, str]:
    meta = _T["bank_meta"]
    return {row.key: row.value for row in conn.execute(select(meta.c.key, meta.c.value))}


def _stream(conn: Connection, stmt: Any) -> Iterator[Row[Any]]:
    yield from conn.execute(stmt.execution_options(yield_per=STREAM))


class _Export:
    """One export run: open files, counters, and what the passes share."""

    def __init__(self, out: Path, noise: float, seed: int, noise_seed: int, total: int) -> None:
        self.out, self.noise, self.seed, self.noise_seed = out, noise, seed, noise_seed
        self.rows = dict.fromkeys(FILES, 0)
        self.records: dict[str, int | str] = {}
        self.login: dict[int, str | None] = {}
        self.customer_id: dict[int, str] = {}
        self.done, self.total = 0, total
        self.progress: Callable[[int, int], None] | None = None
        self.extra = 0  # contacts that are not a person's first (duplicates, prospects)
        self.prospects = 0
        self.last_person = 0
        self.faker = Faker("en_US")

    def tick(self, name: str) -> None:
        self.rows[name] += 1
        self.done += 1
        if self.progress and self.done % STREAM == 0:
            self.progress(self.done, self.total)

    def open(self, name: str) -> IO[str]:
        path = self.out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("w", encoding="utf-8", newline="")

    def contact_id(self, number: int | None = None) -> str:
        # The seed's CRM key for person n is CRM(n * 7919 mod 10^7): a bijection, so extra
        # contacts numbered after the last person never collide with anyone's.
        if number is None:
            self.extra += 1
            number = self.last_person + self.extra
        return f"CRM{number * 7919 % 10**7:07d}"

    def people(self, conn: Connection) -> None:
        person, ident = _T["person"], _T["source_identity"]
        core = and_(ident.c.person_id == person.c.id, ident.c.system == "core_banking")
        stmt = select(person, ident.c.source_key).outerjoin(ident, core).order_by(person.c.id)
        with self.open(FILES[0]) as cf, self.open(FILES[3]) as crm:
            customers = csv.writer(cf, lineterminator="\n")
            customers.writerow(CUSTOMER_COLUMNS)
            exported_at = _meta(conn).get("as_of", "1970-01-01") + "T00:00:00Z"
            crm.write(f'{{"exported_at": "{exported_at}", "contacts": [\n')
            first = True
            for p in _stream(conn, stmt):
                customer_id = p.source_key or f"CB{p.id:08d}"
                self.customer_id[p.id] = customer_id
                self.records[f"core:{customer_id}"] = p.id
                nid = national_id(self.seed, p.id - 1)
                values = {**p._mapping, "customer_id": customer_id, "national_id": nid}
                customers.writerow([_cell(values[c]) for c in CUSTOMER_COLUMNS])
                self.tick(FILES[0])
                for contact, who in self.contacts(p, customer_id, nid):
                    crm.write(("" if first else ",\n") + json.dumps(contact, ensure_ascii=False))
                    first = False
                    self.records[f"crm:{contact['contact_id']}"] = who
                    self.tick(FILES[3])
            crm.write("\n]}\n")

    def contacts(
        self, p: Row[Any], customer_id: str, nid: str
    ) -> Iterator[tuple[dict[str, Any], int | str]]:
        rng = np.random.default_rng([self.noise_seed, p.id, 2])
        u_login, u_duplicate, u_prospect = rng.random(3)
        old = typing.older_email(p.first_name, p.last_name, p.id, p.email or "x@x.com", rng)
        login = p.email.lower() if p.email else None
        # Someone who enrolled online with an older address has since changed it at the bank
        # but not in the CRM, so the old address links the login to the person.
        stale = bool(login) and u_login < 0.3 * self.noise
        self.login[p.id] = old if stale else login
        yield (
            typing.crm_contact(
                p, self.contact_id(p.id), customer_id, nid, old, rng, self.noise, stale=stale
            ),
            p.id,
        )
        if u_duplicate < 0.15 * self.noise:
            again = np.random.default_rng([self.noise_seed, p.id, 3])
            yield (
                typing.crm_contact(p, self.contact_id(), customer_id, nid, old, again, self.noise),
                p.id,
            )
        if u_prospect < PROSPECT_SHARE:
            self.prospects += 1
            other = np.random.default_rng([self.noise_seed, p.id, 4])
            yield (
                typing.prospect(self.contact_id(), other, self.faker),
                f"prospect-{self.prospects}",
            )

    def accounts(self, conn: Connection) -> None:
        account = _T["account"]
        with self.open(FILES[1]) as f:
            out = csv.writer(f, lineterminator="\n")
            out.writerow(ACCOUNT_COLUMNS)
            for a in _stream(conn, select(account).order_by(account.c.id)):
                cur = a.currency
                values = {
                    **a._mapping,
                    "account_number": a.number,
                    "customer_id": self.customer_id.get(a.person_id),
                    "balance": format_money(a.balance_minor, cur, plain=True),
                    "credit_limit": (
                        None
                        if a.credit_limit_minor is None
                        else format_money(a.credit_limit_minor, cur, plain=True)
                    ),
                    "overdraft_limit": format_money(a.overdraft_limit_minor, cur, plain=True),
                }
                out.writerow([_cell(values[c]) for c in ACCOUNT_COLUMNS])
                self.tick(FILES[1])

    def transactions(self, conn: Connection) -> None:
        ledger, account = _T["ledger_entry"], _T["account"]
        stmt = (
            select(ledger, account.c.number)
            .join(account, account.c.id == ledger.c.account_id)
            .order_by(ledger.c.id)
        )
        with self.open(FILES[2]) as f:
            out = csv.writer(f, lineterminator="\n")
            out.writerow(TRANSACTION_COLUMNS)
            for t in _stream(conn, stmt):
                values = {
                    **t._mapping,
                    "transaction_id": t.source_ref or f"T{t.id:012d}",
                    "account_number": t.number,
                    "amount": format_money(t.amount_minor, t.currency, plain=True),
                    "balance_after": format_money(t.balance_after_minor, t.currency, plain=True),
                }
                out.writerow([_cell(values[c]) for c in TRANSACTION_COLUMNS])
                self.tick(FILES[2])

    def events(self, conn: Connection) -> None:
        event = _T["digital_event"]
        with self.open(FILES[4]) as f:
            for e in _stream(conn, select(event).order_by(event.c.id)):
                user_id = self.login.get(e.person_id) if e.person_id is not None else None
                if user_id:
                    self.records[f"digital:{user_id}"] = e.person_id
                record = {
                    "event_id": e.source_ref or f"E{e.id:012d}",
                    "device_id": e.device_id,
                    "session_id": e.session_id,
                    "occurred_at": _cell(e.occurred_at),
                    "channel": e.channel,
                    "type": e.kind,
                    "page": e.page,
                    "detail": e.detail,
                    "user_id": user_id,
                }
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
                self.tick(FILES[4])


def export_bank(
    engine: Engine,
    out: Path,
    *,
    noise: float = 0.3,
    noise_seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ExportStats:
    """Write the seeded bank under ``out`` in the canonical source formats.

    Args:
        engine: The database holding a seeded bank.
        out: Folder to write into (created; files in it are overwritten).
        noise: 0 (systems agree wherever formats allow) to 1 (every disagreement as likely
            as it gets).
        noise_seed: Seed of the disagreements; defaults to the bank's own seed.
        progress: Called now and then with (rows written, rows in all).

    Returns:
        The files written, rows per file and seconds taken.

    Raises:
        ValueError: when ``noise`` is outside [0, 1].
        NoBankError: when the database holds no completely seeded bank.
    """
    if not 0.0 <= noise <= 1.0:
        raise ValueError(f"noise must be between 0 and 1, not {noise}")
    started = time.perf_counter()
    with engine.connect() as conn:
        meta = _meta(conn)
        if meta.get("completed") != "true" or "seed" not in meta:
            raise NoBankError("the database holds no completely seeded bank")
        seed = int(meta["seed"])
        counts = [
            conn.execute(select(func.count()).select_from(_T[name])).scalar_one()
            for name in ("person", "person", "account", "ledger_entry", "digital_event")
        ]
        last = conn.execute(select(func.max(_T["person"].c.id))).scalar_one() or 0
        run = _Export(out, noise, seed, seed if noise_seed is None else noise_seed, sum(counts))
        run.progress, run.last_person = progress, last
        run.people(conn)
        run.accounts(conn)
        run.transactions(conn)
        run.events(conn)
    truth = {"noise": noise, "seed": seed, "noise_seed": run.noise_seed, "records": run.records}
    with run.open(FILES[5]) as f:
        json.dump(truth, f, indent=1)
        f.write("\n")
    run.rows[FILES[5]] = len(run.records)
    if progress:
        progress(run.done, max(run.total, run.done))
    return ExportStats(
        out=out,
        noise=noise,
        files=list(FILES),
        rows=run.rows,
        seconds=time.perf_counter() - started,
    )
