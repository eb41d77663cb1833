"""Websocket compression is a setting, off by default, honoured by `serve` and the benchmark."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from services.settings import Settings, get_settings


def test_compression_is_off_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONCIERGE_WS_COMPRESSION", raising=False)
    assert Settings(_env_file=None).ws_compression is False
    monkeypatch.setenv("CONCIERGE_WS_COMPRESSION", "true")
    assert Settings(_env_file=None).ws_compression is True


def _serve(monkeypatch: pytest.MonkeyPatch, compression: str | None, *more: str) -> None:
    """``concierge serve --port 8765 [more]`` with ``CONCIERGE_WS_COMPRESSION`` as given."""
    from app import cli

    if compression is None:
        monkeypatch.delenv("CONCIERGE_WS_COMPRESSION", raising=False)
    else:
        monkeypatch.setenv("CONCIERGE_WS_COMPRESSION", compression)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli.cli, ["serve", "--port", "8765", *more])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("value", "expected"), [(None, False), ("true", True), ("0", False)])
def test_serve_hands_the_setting_to_uvicorn(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: bool
) -> None:
    import uvicorn

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: seen.update(kw))
    _serve(monkeypatch, value)
    assert seen["ws_per_message_deflate"] is expected


@pytest.mark.parametrize(("value", "expected"), [(None, False), ("true", True)])
def test_serve_with_workers_hands_the_setting_to_each_worker(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: bool
) -> None:
    from app import serving

    seen: dict[str, Any] = {}

    def run(self: serving.Supervisor) -> int:
        seen.update(self.options, workers=self.workers)
        return 0

    monkeypatch.setattr(serving.Supervisor, "run", run)
    _serve(monkeypatch, value, "--workers", "2")
    assert seen["ws_per_message_deflate"] is expected
    assert seen["workers"] == 2 and seen["app"] == "app.main:app" and seen["port"] == 8765


def test_the_benchmark_server_is_concierge_serve(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from bench import chat as bench_chat

    started: list[tuple[list[str], dict[str, str]]] = []

    class Fake:
        def __init__(self, command: list[str], env: dict[str, str]) -> None:
            started.append((command, env))

    monkeypatch.setattr(bench_chat.subprocess, "Popen", Fake)
    monkeypatch.setattr(bench_chat, "_wait_ready", lambda base, process: None)
    env = {"CONCIERGE_WS_COMPRESSION": "yes"}
    bench_chat.start_server(tmp_path, nlu_model=tmp_path, port=1, workers=2, env=env)
    command, child_env = started[0]
    # the same command, so the same settings (read by `serve`) and the same workers
    assert command[-7:] == ["serve", "--host", "127.0.0.1", "--port", "1", "--workers", "2"]
    assert child_env["CONCIERGE_WS_COMPRESSION"] == "yes"
    assert child_env["CONCIERGE_VAR_DIR"] == str(tmp_path)
