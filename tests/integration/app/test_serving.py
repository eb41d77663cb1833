"""`concierge serve --workers N`: N processes, each listening on the port (SO_REUSEPORT)."""

from __future__ import annotations

import os
import socket
import threading
import time

import httpx
import pytest
from typer.testing import CliRunner

from app.serving import (
    ServeError,
    Supervisor,
    check_free,
    compute_threads,
    reuse_port_socket,
)
from bench.chat import free_port
from tests.support import ROOT


@pytest.fixture(autouse=True)
def _tests_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    # the workers are spawned: they import tests.support.pid_app from the parent's sys.path,
    # which must hold the repository's root however pytest was started
    monkeypatch.syspath_prepend(str(ROOT))


def _served(supervisor: Supervisor) -> tuple[threading.Thread, list[int]]:
    codes: list[int] = []
    runner = threading.Thread(target=lambda: codes.append(supervisor.run()), daemon=True)
    runner.start()
    return runner, codes


def _pids_answering(base: str, connections: int, seconds: float = 60) -> list[int]:
    deadline = time.monotonic() + seconds
    while True:
        try:
            # a new client per request: a new TCP connection each time
            return [int(httpx.get(base, timeout=5).text) for _ in range(connections)]
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_connections_are_spread_over_every_worker() -> None:
    port = free_port()
    supervisor = Supervisor(
        {
            "app": "tests.support.pid_app:app",
            "host": "127.0.0.1",
            "port": port,
            "log_level": "warning",
        },
        workers=2,
    )
    runner, codes = _served(supervisor)
    try:
        # wait until both workers listen: before that, all connections go to the first
        deadline = time.monotonic() + 60
        while len(set(_pids_answering(f"http://127.0.0.1:{port}", 20))) < 2:
            assert time.monotonic() < deadline, "the second worker never answered"
        pids = _pids_answering(f"http://127.0.0.1:{port}", 60)
        threads = httpx.get(f"http://127.0.0.1:{port}/threads", timeout=10).text
    finally:
        supervisor.stop()
        runner.join(60)
    assert codes == [0]
    workers = {p.pid for p in supervisor.processes}
    assert set(pids) == workers and len(workers) == 2
    # the kernel hashes each connection to a socket: neither worker is starved
    assert min(pids.count(p) for p in workers) >= 10
    # and each has its share of the CPUs for the encoder's thread pool
    assert threads == os.environ.get("OMP_NUM_THREADS", str(compute_threads(2)))
    assert all(not p.is_alive() for p in supervisor.processes)


def test_a_worker_that_dies_is_replaced() -> None:
    port = free_port()
    supervisor = Supervisor(
        {
            "app": "tests.support.pid_app:app",
            "host": "127.0.0.1",
            "port": port,
            "log_level": "warning",
        },
        workers=2,
        poll_s=0.1,
    )
    runner, codes = _served(supervisor)
    try:
        _pids_answering(f"http://127.0.0.1:{port}", 1)
        first = supervisor.processes[0]
        first.kill()
        deadline = time.monotonic() + 30
        while supervisor.processes[0] is first:
            assert time.monotonic() < deadline, "the dead worker was not replaced"
            time.sleep(0.1)
        assert supervisor.processes[0].is_alive()
    finally:
        supervisor.stop()
        runner.join(60)
    assert codes == [0]


@pytest.mark.parametrize("app", ["tests.support.pid_app:failing_app", "no_such_package.module:app"])
def test_a_worker_that_cannot_start_stops_the_server(app: str) -> None:
    supervisor = Supervisor(
        {"app": app, "host": "127.0.0.1", "port": free_port(), "log_level": "critical"},
        workers=2,
        poll_s=0.1,
    )
    runner, codes = _served(supervisor)
    runner.join(120)
    assert not runner.is_alive()
    assert codes == [1]  # not restarted forever
    assert all(not p.is_alive() for p in supervisor.processes)


def test_a_port_taken_without_reuse_is_refused_clearly() -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        with pytest.raises(ServeError, match=f"cannot listen on 127.0.0.1:{port}"):
            reuse_port_socket("127.0.0.1", port)
        from app import cli

        result = CliRunner().invoke(cli.cli, ["serve", "--port", str(port), "--workers", "2"])
        assert result.exit_code == 1
        assert f"cannot listen on 127.0.0.1:{port}" in result.output
    finally:
        taken.close()


def test_a_port_another_server_shares_is_refused_too() -> None:
    other = reuse_port_socket("127.0.0.1", 0)  # a server already running with workers
    other.listen()
    port = other.getsockname()[1]
    try:
        supervisor = Supervisor(
            {"app": "tests.support.pid_app:app", "host": "127.0.0.1", "port": port}, 2
        )
        with pytest.raises(ServeError, match=f"cannot listen on 127.0.0.1:{port}"):
            supervisor.run()
        assert supervisor.processes == []  # nothing started
    finally:
        other.close()
    check_free("127.0.0.1", port)  # free again once it stopped


def test_workers_share_a_port_only_through_reuse_port() -> None:
    first = reuse_port_socket("127.0.0.1", 0)
    try:
        port = first.getsockname()[1]
        second = reuse_port_socket("127.0.0.1", port)  # the same port, no error
        second.close()
    finally:
        first.close()
    with pytest.raises(ValueError, match="two workers or more"):
        Supervisor({"app": "x:y", "host": "127.0.0.1", "port": 1}, workers=1)
    with pytest.raises(ServeError, match="cannot resolve"):
        reuse_port_socket("no-such-host.invalid", 1)


def test_workers_share_the_cpus_between_their_compute_threads() -> None:
    assert compute_threads(2, cpus=2) == 1
    assert compute_threads(2, cpus=8) == 4
    assert compute_threads(4, cpus=2) == 1  # never none
    assert compute_threads(1, cpus=6) == 6
