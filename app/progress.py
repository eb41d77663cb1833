"""Progress on stderr for the long commands, so stdout stays for their one JSON object."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# A phase reporter: ``phase(label, total)`` starts a phase and returns ``advance(n)``.
Phase = Callable[[str, int | None], Callable[[int], None]]


@contextmanager
def rich_phases() -> Iterator[Phase]:
    """Phases shown as progress bars on stderr (stdout stays for the JSON)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=Console(stderr=True)) as progress:
        tasks: list[Any] = []

        def phase(label: str, total: int | None) -> Callable[[int], None]:
            if tasks:  # the previous phase is over
                done = progress.tasks[-1]
                progress.update(tasks[-1], total=done.completed or 1, completed=done.completed or 1)
            task = progress.add_task(label, total=total)
            tasks.append(task)
            return lambda n: progress.advance(task, n)

        yield phase
        if tasks:
            done = progress.tasks[-1]
            progress.update(tasks[-1], total=done.completed or 1, completed=done.completed or 1)
