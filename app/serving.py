"""Serving the app on several processes, each listening on its own ``SO_REUSEPORT`` socket.

uvicorn's own ``--workers`` binds one socket in the parent and shares it: every worker accepts
from it, and an event loop that wakes first accepts everything waiting (asyncio takes up to
the backlog in one go). Connections that arrive together, as a crowd opening the chat after
a push notification, then mostly land on one process, which runs their turns on one core
while the others idle: under ``concierge bench chat --sessions 100 --workers 2`` one worker
took most of the turns (docs/performance.md).

Here each worker binds the port itself with ``SO_REUSEPORT``, and the kernel spreads new
connections over the listening sockets by a hash of their addresses (Linux 3.9+). The parent
only supervises: it starts the workers, restarts one that dies, stops them all on SIGINT or
SIGTERM, and gives up when a worker fails before it could serve (a bad setting or a port in
use would fail every restart the same way).

Each worker gets its share of the CPUs for compute libraries' own thread pools (the intent
model's encoder runs on ONNX Runtime or PyTorch, which size their pools by
``OMP_NUM_THREADS``, by default one thread per CPU). N workers on N cores, each encoding one
sentence on two threads, spent more time per sentence on handing work between threads than
one thread takes (int8 MiniLM; figures in docs/performance.md), while the other worker wanted
that core. A value already in the environment is kept.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from typing import Any

from uvicorn.config import STARTUP_FAILURE  # a worker that could not start exits with it

log = logging.getLogger("concierge.serving")


class ServeError(RuntimeError):
    """The app cannot be served as asked (for example the port is taken)."""


def _address(host: str, port: int) -> tuple[int, int, int, Any]:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise ServeError(f"cannot resolve {host!r}: {exc}") from None
    return family, kind, proto, address


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` with ``SO_REUSEPORT`` (not yet listening).

    Raises:
        ServeError: The platform has no ``SO_REUSEPORT``, or the address cannot be bound
            (taken by a socket without it, or not an address of this machine).
    """
    if not hasattr(socket, "SO_REUSEPORT"):
        raise ServeError("several workers need SO_REUSEPORT, which this platform lacks")
    family, kind, proto, address = _address(host, port)
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def check_free(host: str, port: int) -> None:
    """Refuse a port some socket already listens on, even one that allows sharing it.

    A plain bind (``SO_REUSEADDR`` only, so connections of an earlier run waiting to close do
    not count) fails on any listener: without this, a second ``concierge serve --workers N``
    on the same port would quietly share it with the first.

    Raises:
        ServeError: The port is taken, or the address cannot be bound.
    """
    family, kind, proto, address = _address(host, port)
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def usable_cpus() -> int:
    """How many CPUs this process may run on (its affinity mask), at least 1.

    One Python process runs one turn at a time (the interpreter lock), so a server uses N
    cores through N processes.
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def compute_threads(workers: int, cpus: int | None = None) -> int:
    """Threads for each worker's compute pools: its share of the usable CPUs, at least one."""
    return max(1, (usable_cpus() if cpus is None else cpus) // max(1, workers))


def _worker(options: dict[str, Any], threads: int = 0) -> None:
    import sys
    import traceback

    if threads:  # before anything imports the libraries that read it
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    import uvicorn

    try:
        sock = reuse_port_socket(options["host"], options["port"])
    except ServeError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(STARTUP_FAILURE)
    server = uvicorn.Server(uvicorn.Config(**options))
    try:
        server.run(sockets=[sock])
    except (Exception, SystemExit) as exc:
        if server.started:
            raise
        # the app could not be imported or started: every restart would fail the same way
        if not isinstance(exc, SystemExit):
            traceback.print_exc()
        sys.exit(STARTUP_FAILURE)
    if not server.started:  # the lifespan failed: restarting would fail the same way
        sys.exit(STARTUP_FAILURE)


class Supervisor:
    """``workers`` processes serving ``options`` (``uvicorn.Config`` arguments), kept alive."""

    def __init__(self, options: dict[str, Any], workers: int, poll_s: float = 0.5) -> None:
        if workers < 2:
            raise ValueError("a supervisor runs two workers or more")
        self.options = options
        self.workers = workers
        self.poll_s = poll_s
        self.stopping = threading.Event()
        self.processes: list[Any] = []
        self._context = multiprocessing.get_context("spawn")

    def _start(self) -> Any:
        threads = compute_threads(self.workers)
        process = self._context.Process(target=_worker, args=(self.options, threads), daemon=False)
        process.start()
        return process

    def run(self) -> int:
        """Serve until stopped; 0 after a requested stop, 1 when a worker could not start."""
        check_free(self.options["host"], self.options["port"])  # fail early and clearly
        self.processes = [self._start() for _ in range(self.workers)]
        code = 0
        try:
            while not self.stopping.wait(self.poll_s):
                for i, process in enumerate(self.processes):
                    if process.is_alive():
                        continue
                    if process.exitcode == STARTUP_FAILURE:
                        log.error("a worker failed to start (exit %s); stopping", STARTUP_FAILURE)
                        self.stopping.set()
                        code = 1
                        break
                    log.warning(
                        "worker %s died (exit %s); restarting", process.pid, process.exitcode
                    )
                    self.processes[i] = self._start()
        finally:
            self._stop_all()
        return code

    def stop(self) -> None:
        """Ask :meth:`run` to stop the workers and return."""
        self.stopping.set()

    def _stop_all(self, grace_s: float = 20.0) -> None:
        for process in self.processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes what is in hand, then exits
        deadline = time.monotonic() + grace_s
        for process in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()


def serve(app: str, *, host: str, port: int, workers: int = 1, **options: Any) -> int:
    """Serve ``app`` (an import string) on ``host:port``; the exit code.

    One worker runs uvicorn in this process. More run as processes that each listen on the
    port with ``SO_REUSEPORT`` (see the module docstring), supervised from here.

    Raises:
        ServeError: The port cannot be listened on by several processes.
    """
    import uvicorn

    if workers <= 1:
        uvicorn.run(app, host=host, port=port, **options)
        return 0
    supervisor = Supervisor({"app": app, "host": host, "port": port, **options}, workers)
    previous = {
        sig: signal.signal(sig, lambda _sig, _frame: supervisor.stop())
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        return supervisor.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
