"""Every tool the agent may call, reads then writes."""

from __future__ import annotations

from langchain_core.tools import BaseTool

from tools.read import READ_TOOLS
from tools.write import WRITE_TOOLS


def all_tools() -> list[BaseTool]:
    """The read tools and the write tools (each write marked ``metadata["write"]``)."""
    return [*READ_TOOLS, *WRITE_TOOLS]
