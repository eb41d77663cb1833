"""The threads chat turns run on: a customer's turn first, background work only when idle.

A turn is CPU-bound Python, so two threads of one process running at once mostly share the
interpreter's lock: work started beside a turn slows that turn down. Reading a customer's
context again after a write only saves their *next* turn time, so it waits until no turn
is running or waiting (and if it has not run by then, that next turn reads the context itself:
nothing is lost, only moved).
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

Fn = Callable[..., Any]
Job = tuple[Future[Any], Fn, tuple[Any, ...], dict[str, Any]]


class ChatThreads(Executor):
    """``threads`` threads; :meth:`submit` is urgent, :meth:`submit_background` waits for idle."""

    def __init__(self, threads: int, *, name: str = "chat") -> None:
        if threads < 1:
            raise ValueError("a chat pool needs at least one thread")
        self._urgent: deque[Job] = deque()
        self._background: deque[Job] = deque()
        self._running_urgent = 0
        self._closed = False
        self._changed = threading.Condition()
        counter = itertools.count(1)
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{next(counter)}", daemon=True)
            for _ in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Fn, /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``fn(*args, **kwargs)`` as soon as a thread is free (a customer is waiting)."""
        return self._put(self._urgent, fn, args, kwargs)

    def submit_background(
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> Future[Any]:
        """Run ``fn`` once no urgent work is running or waiting."""
        return self._put(self._background, fn, args, kwargs)

    def _put(
        self,
        lane: deque[Job],
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Future[Any]:
        future: Future[Any] = Future()
        with self._changed:
            if self._closed:
                raise RuntimeError("cannot schedule new work after shutdown")
            lane.append((future, fn, args, kwargs))
            self._changed.notify_all()
        return future

    def _next(self) -> tuple[Job, bool] | None:
        with self._changed:
            while True:
                if self._urgent:
                    self._running_urgent += 1
                    return self._urgent.popleft(), True
                if self._background and self._running_urgent == 0:
                    return self._background.popleft(), False
                if self._closed:
                    return None
                self._changed.wait()

    def _work(self) -> None:
        while (taken := self._next()) is not None:
            (future, fn, args, kwargs), urgent = taken
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(fn(*args, **kwargs))
                    except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
                        future.set_exception(exc)
            finally:
                if urgent:
                    with self._changed:
                        self._running_urgent -= 1
                        self._changed.notify_all()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Take no more work; drop what waits when ``cancel_futures``; join when ``wait``."""
        with self._changed:
            self._closed = True
            if cancel_futures:
                for lane in (self._urgent, self._background):
                    while lane:
                        lane.popleft()[0].cancel()
            self._changed.notify_all()
        if wait:
            for thread in self._threads:
                thread.join()


async def in_chat_thread(app: Any, fn: Any, *args: Any, background: bool = False) -> Any:
    """``fn(*args)`` on the app's chat threads (``chat_threads`` of them), off the event loop.

    ``background`` work waits until no turn is running or waiting (``app.chat_threads``).
    """
    executor = getattr(app.state, "chat_executor", None)
    context = contextvars.copy_context()
    if background and isinstance(executor, ChatThreads):
        return await asyncio.wrap_future(executor.submit_background(context.run, fn, *args))
    return await asyncio.get_running_loop().run_in_executor(executor, context.run, fn, *args)
