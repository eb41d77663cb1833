"""The README and .env.example document every setting; Makefile and CI keep their contracts."""

import pytest

from services.settings import Settings
from tests.support import ROOT


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    variable = f"CONCIERGE_{name.upper()}"
    assert f"| `{variable}` |" in (ROOT / "README.md").read_text()
    assert f"\n{variable}=" in (ROOT / ".env.example").read_text()


def test_blank_settings_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONCIERGE_DATABASE_URL", "")
    monkeypatch.setenv("CONCIERGE_REDIS_URL", "  ")
    settings = Settings(_env_file=None)
    assert settings.redis_url is None
    assert settings.resolved_database_url.startswith("sqlite:///")


def test_ci_runs_make_test_and_the_readme_gives_both_commands() -> None:
    assert "make test" in (ROOT / ".ci/run").read_text()
    assert "export CI=true" in (ROOT / ".ci/run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
    makefile = (ROOT / "Makefile").read_text()
    for target in ("run:", "test:", "lint:"):
        assert f"\n{target}" in makefile
