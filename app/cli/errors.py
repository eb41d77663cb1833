"""How a command says it cannot go on: one line on stderr, and the exit code to stop with."""

from __future__ import annotations

import typer


def fail(message: str, *, code: int = 1) -> typer.Exit:
    """Print ``error: message`` on stderr; the ``typer.Exit`` for the caller to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=code)
