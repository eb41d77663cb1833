"""langgraph.json points at things that exist: the graph factory and the FastAPI app."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from tests.support import ROOT


def _target(spec: str) -> object:
    path, _, name = spec.partition(":")
    module = ".".join(Path(path).with_suffix("").parts).lstrip(".")
    return getattr(importlib.import_module(module), name)


def test_every_graph_and_the_app_resolve() -> None:
    config = json.loads((ROOT / "langgraph.json").read_text())
    assert config["graphs"] and config["dependencies"] == ["."]
    for spec in config["graphs"].values():
        assert callable(_target(spec))
    from fastapi import FastAPI

    assert isinstance(_target(config["http"]["app"]), FastAPI)
