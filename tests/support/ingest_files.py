"""Source files for the ingestion tests: an exported synthetic bank, and table counts."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlmodel import SQLModel

from services.synth.export import export_bank
from services.synth.writer import seed_bank
from tests.support.servers import fresh_engine

AS_OF = date(2026, 11, 28)


def exported_bank(path: Path, *, customers: int, seed: int, noise: float) -> Path:
    """Seed a bank on SQLite under ``path`` and export it to ``path / "out"``."""
    for engine in fresh_engine("sqlite", path):
        seed_bank(engine, customers=customers, seed=seed, as_of=AS_OF, workers=1)
        export_bank(engine, path / "out", noise=noise)
    return path / "out"


def counts(engine: Engine) -> dict[str, int]:
    """Rows in every table of the schema."""
    with engine.connect() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables
        }


def csv_rows(path: Path) -> list[dict[str, str]]:
    """A CSV file's rows as dicts."""
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """Write a CSV file (creating its folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(header)
        out.writerows(rows)
    return path
