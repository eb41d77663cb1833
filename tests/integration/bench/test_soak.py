"""``concierge bench soak --json``: conversations held on loopback, with the server's memory."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bench.cli import register
from bench.proc import server_rss_mb
from bench.soak import RESULT_KEYS, second_half_growth


def _cli() -> typer.Typer:
    cli = typer.Typer()

    @cli.callback()
    def root() -> None:
        """Test CLI."""

    register(cli)
    return cli


def test_bench_soak_holds_sessions_and_reports_memory(classifier_dir: Path) -> None:
    args = ["bench", "soak", "--sessions", "2", "--seconds", "5", "--think-ms", "600"]
    result = CliRunner().invoke(_cli(), [*args, "--nlu-model", str(classifier_dir), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(RESULT_KEYS) <= set(out)
    assert out["errors"] == 0, out["error_samples"]
    assert out["sessions"] == 2
    assert out["seconds"] >= 5
    # every session opens its chat and starts a turn before the run's clock starts, and a turn
    # under way is finished, so each has at least one: counted by events, not by the host's speed
    assert out["turns"] >= out["sessions"]
    assert out["latency_ms_p50"] <= out["latency_ms_p95"] <= out["latency_ms_p99"]
    assert out["server_rss_mb_start"] > 50  # a Python server with the model loaded
    assert out["server_rss_mb_end"] > 50
    times = [at for at, _ in out["server_rss_mb_samples"]]
    assert len(times) >= 3 and times == sorted(times)  # start, readings in between, end
    assert out["server_rss_mb_samples"][-1][1] == out["server_rss_mb_end"]
    assert isinstance(out["rss_growth_pct_second_half"], float)
    assert 1.0 <= out["warmup_s"] <= out["seconds"]  # after both chats opened


def test_second_half_growth_tells_a_leak_from_caches_that_filled() -> None:
    filled = [(10.0, 1000.0), (30.0, 1200.0), (50.0, 1210.0), (70.0, 1212.0), (100.0, 1212.0)]
    assert second_half_growth(filled) == pytest.approx(0.17, abs=0.01)  # from 50 s: 1210 -> 1212
    leaking = [(10.0, 1000.0), (30.0, 1100.0), (50.0, 1200.0), (70.0, 1300.0), (100.0, 1450.0)]
    assert second_half_growth(leaking) == pytest.approx(20.83, abs=0.01)
    assert second_half_growth([(10.0, 1000.0)]) == 0.0


def test_server_memory_counts_the_process_and_its_children() -> None:
    assert server_rss_mb(os.getpid()) > 0
    assert server_rss_mb(1 << 30) == 0  # no such process


def test_server_cpu_counts_the_process_and_its_children() -> None:
    import subprocess
    import sys

    from bench.proc import cpu_seconds

    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nend = time.process_time() + 0.5\n"
            "while time.process_time() < end: pass\ntime.sleep(30)",
        ]
    )
    try:
        deadline = time.monotonic() + 20
        while cpu_seconds(os.getpid()) - time.process_time() < 0.4:
            assert time.monotonic() < deadline, "the child's CPU time was not counted"
            time.sleep(0.05)
    finally:
        child.kill()
        child.wait()
    assert cpu_seconds(1 << 30) == 0  # no such process
