"""One table for every evaluation ``make eval`` ran: reads the JSON reports under a folder.

Usage: ``python -m evals.summary reports/`` — each ``*.json`` there is one evaluation's
``--json`` output; known ones get their headline figures, others their top-level numbers.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


def _pct(value: Any) -> str:
    return f"{100 * float(value):.1f}%" if isinstance(value, int | float) else "—"


def headline(name: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    """The figures worth a row for evaluation ``name`` (the report file's stem)."""
    if "pass_rate" in data and "scenarios" in data:
        return [
            ("scenarios passed", f"{data['passed']}/{data['scenarios']}"),
            ("pass rate", _pct(data["pass_rate"])),
            ("latency p50 / p95", f"{data['latency_ms_p50']} / {data['latency_ms_p95']} ms"),
        ]
    if "accuracy" in data and "macro_f1" in data:
        return [
            ("accuracy", _pct(data["accuracy"])),
            ("macro F1", _pct(data["macro_f1"])),
            ("queries", str(data.get("n", "—"))),
        ]
    rows = []
    for key, value in data.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            rows.append((key, f"{value:.4g}" if isinstance(value, float) else str(value)))
        elif isinstance(value, dict):  # one level down, e.g. levels or insight types
            for inner, figure in value.items():
                if isinstance(figure, dict):
                    shown = ", ".join(
                        f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                        for k, v in list(figure.items())[:4]
                        if isinstance(v, int | float) and not isinstance(v, bool)
                    )
                    if shown:
                        rows.append((f"{key}.{inner}", shown))
    return rows[:12]


def build_table(folder: Path) -> Table:
    """A rich table of every JSON report in ``folder``."""
    table = Table(title=f"Concierge evaluations ({folder})")
    table.add_column("evaluation", style="bold")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            table.add_row(path.stem, "unreadable", str(exc)[:60])
            continue
        if isinstance(data, dict) and "summary" in data and "results" in data:
            data = data["summary"]
        if not isinstance(data, dict):
            continue
        for i, (measure, value) in enumerate(headline(path.stem, data)):
            table.add_row(path.stem if i == 0 else "", measure, value)
        table.add_section()
    return table


def main(argv: list[str] | None = None) -> int:
    """Print the summary table of the reports folder given (default ``reports``)."""
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0] if args else "reports")
    if not folder.is_dir():
        Console(stderr=True).print(f"no reports folder at {folder}")
        return 2
    Console().print(build_table(folder))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
