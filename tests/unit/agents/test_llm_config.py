"""CONCIERGE_LLM: the offline model by default, any LangChain chat model by name, clear errors."""

from __future__ import annotations

import pytest

from agents.llm import ModelConfigError, make_chat_model, parse_llm
from agents.offline.model import OfflineChatModel


class Never:
    def predict(self, text: str) -> tuple[str, float]:
        raise AssertionError("not used")


def test_offline_is_the_default_and_gets_the_classifier() -> None:
    built = []
    model = make_chat_model(None, classifier=lambda: built.append(1) or Never())
    assert isinstance(model, OfflineChatModel) and built == [1]
    assert isinstance(make_chat_model("offline", classifier=Never), OfflineChatModel)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("openai:gpt-4.1-mini", ("openai", "gpt-4.1-mini")),
        (" Ollama:llama3.1 ", ("ollama", "llama3.1")),
    ],
)
def test_provider_and_model_are_read(spec: str, expected: tuple[str, str]) -> None:
    assert parse_llm(spec) == expected


@pytest.mark.parametrize("spec", ["gpt-4", "openai:", ":gpt-4", "   :  "])
def test_malformed_values_are_refused(spec: str) -> None:
    with pytest.raises(ModelConfigError, match="provider:model"):
        parse_llm(spec)


def test_a_provider_without_its_package_says_which_extra_to_install() -> None:
    called = []
    with pytest.raises(ModelConfigError, match=r"pip install -e '\.\[openai\]'"):
        make_chat_model("openai:gpt-4.1-mini", classifier=lambda: called.append(1) or Never())
    assert called == []  # the offline classifier is never built for an LLM


def test_an_unknown_provider_is_refused() -> None:
    with pytest.raises(ModelConfigError, match="nosuchprovider"):
        make_chat_model("nosuchprovider:model-x", classifier=Never)
