"""``concierge chat --customer ID``: the assistant in a terminal, on the same graph as the web."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer
from langchain_core.messages import AIMessage
from langgraph.types import Command


def _reply(result: dict[str, Any]) -> str:
    for message in reversed(result.get("messages", [])):
        if isinstance(message, AIMessage) and message.content:
            return str(message.content)
    return ""


def chat(
    customer: Annotated[int, typer.Option(min=1, help="The customer to chat as (person id).")],
    thread: Annotated[
        str | None, typer.Option(help="Continue this conversation (default: a new one).")
    ] = None,
) -> None:
    """Chat with the assistant as one customer; writes ask for your confirmation."""
    from rich.console import Console

    from app.bootstrap import build_assistant, checkpointer, open_engine
    from services.settings import get_settings

    settings = get_settings()
    out = Console()
    engine = open_engine(settings)
    thread_id = thread or f"cli-{customer}-{uuid.uuid4().hex[:8]}"
    try:
        with checkpointer(settings) as saver:
            with out.status("loading the assistant"):
                assistant = build_assistant(settings, engine, saver)
            out.print(f"[dim]conversation {thread_id}; an empty line ends it[/dim]")
            payload: Any = None
            while True:
                text = input("you> ").strip()
                if not text:
                    break
                payload = payload or {"messages": [("user", text)]}
                result = assistant.run(thread_id, customer, payload)
                payload = None
                while "__interrupt__" in result:
                    ask = result["__interrupt__"][0].value
                    out.print(f"[bold]confirm:[/bold] {ask['text']}")
                    answer = input("yes / no / or say what to change> ").strip()
                    if answer.lower() in ("y", "yes", "ok", "confirm"):
                        resume: dict[str, Any] = {"approve": True}
                    elif answer.lower() in ("", "n", "no", "cancel"):
                        resume = {"approve": False}
                    else:
                        resume = {"text": answer}
                    result = assistant.run(thread_id, customer, Command(resume=resume))
                out.print(f"[cyan]concierge>[/cyan] {_reply(result)}")
    except LookupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()


def register(cli: typer.Typer) -> None:
    """Add ``chat`` to the CLI."""
    cli.command("chat")(chat)
