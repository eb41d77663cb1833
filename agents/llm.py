"""Which language model drives the agent: the offline one by default, any LLM by configuration.

``CONCIERGE_LLM`` is ``offline`` (the default) or ``provider:model`` — ``openai:gpt-4.1-mini``,
``anthropic:claude-…``, ``ollama:llama3.1`` — built with LangChain's ``init_chat_model``; the
provider's package is an optional extra (``pip install -e ".[openai]"``). The graph and the
tools are the same either way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel

from agents.offline.understand import IntentClassifier

OFFLINE = "offline"
EXTRAS = {"openai": "openai", "anthropic": "anthropic", "ollama": "ollama"}


class ModelConfigError(ValueError):
    """``CONCIERGE_LLM`` names no model this installation can build."""


def parse_llm(spec: str | None) -> tuple[str, str | None]:
    """``("offline", None)`` or ``(provider, model)`` from a ``CONCIERGE_LLM`` value."""
    value = (spec or OFFLINE).strip()
    if value == OFFLINE:
        return OFFLINE, None
    provider, sep, model = value.partition(":")
    if not sep or not provider.strip() or not model.strip():
        raise ModelConfigError(
            f"CONCIERGE_LLM must be 'offline' or 'provider:model' (e.g. openai:gpt-4.1-mini), "
            f"not {value!r}"
        )
    return provider.strip().lower(), model.strip()


def make_chat_model(
    spec: str | None,
    *,
    classifier: Callable[[], IntentClassifier],
    **kwargs: Any,
) -> BaseChatModel:
    """The chat model ``spec`` names; ``classifier`` is only called for the offline model.

    Raises:
        ModelConfigError: for a malformed value, or a provider whose package is not installed.
    """
    provider, model = parse_llm(spec)
    if provider == OFFLINE:
        from agents.offline.model import OfflineChatModel

        return OfflineChatModel(classifier=classifier())
    try:
        from langchain.chat_models import init_chat_model
    except ImportError as exc:  # pragma: no cover - langchain is a dependency
        raise ModelConfigError("the 'langchain' package is needed for CONCIERGE_LLM") from exc
    try:
        built = init_chat_model(model, model_provider=provider, **kwargs)
    except ImportError as exc:
        extra = EXTRAS.get(provider, provider)
        raise ModelConfigError(
            f"CONCIERGE_LLM={spec!r} needs the provider package: pip install -e '.[{extra}]' "
            f"({exc})"
        ) from exc
    except ValueError as exc:
        raise ModelConfigError(f"CONCIERGE_LLM={spec!r}: {exc}") from exc
    if not isinstance(built, BaseChatModel):  # pragma: no cover - configurable models
        raise ModelConfigError(f"CONCIERGE_LLM={spec!r} did not build a chat model")
    return built
