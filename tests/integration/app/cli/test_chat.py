"""``concierge chat``: the same graph in a terminal, with confirmations asked at the prompt."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from app.bootstrap import open_engine
from app.cli import cli
from services.settings import Settings, get_settings
from services.synth.writer import seed_bank


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, classifier_dir: Path) -> Settings:
    url = f"sqlite:///{(tmp_path / 'bank.db').as_posix()}"
    monkeypatch.setenv("CONCIERGE_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CONCIERGE_DATABASE_URL", url)
    monkeypatch.setenv("CONCIERGE_NLU_MODEL", str(classifier_dir))
    get_settings.cache_clear()
    settings = get_settings()
    engine = open_engine(settings)
    seed_bank(engine, customers=3, seed=9, as_of=date.today())
    engine.dispose()
    yield settings
    get_settings.cache_clear()


def _checking_and_savings(settings: Settings) -> int:
    engine = open_engine(settings)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT person_id FROM account WHERE status = 'open' AND type IN "
                "('checking', 'savings') GROUP BY person_id HAVING COUNT(DISTINCT type) = 2"
            )
        ).all()
    person = int(rows[0][0])
    with engine.begin() as conn:  # whatever the seeded history left, there is $1,000 to move
        conn.execute(
            text(
                "UPDATE account SET balance_minor = 100000 "
                "WHERE person_id = :p AND type = 'checking'"
            ),
            {"p": person},
        )
    engine.dispose()
    return person


def test_a_balance_question_in_the_terminal(env: Settings) -> None:
    result = CliRunner().invoke(cli, ["chat", "--customer", "1"], input="what's my balance\n\n")
    assert result.exit_code == 0, result.output
    assert "concierge>" in result.output and "balances" in result.output


def test_a_transfer_is_confirmed_at_the_prompt(env: Settings) -> None:
    person = _checking_and_savings(env)
    talk = "move 20 from checking to savings\nno\nmove 20 from checking to savings\nyes\n\n"
    result = CliRunner().invoke(cli, ["chat", "--customer", str(person)], input=talk)
    assert result.exit_code == 0, result.output
    assert result.output.count("confirm:") == 2 and "$20.00" in result.output
    assert "haven't done anything" in result.output and "Moved $20.00" in result.output


def test_an_unknown_customer_is_a_clear_error(env: Settings) -> None:
    result = CliRunner().invoke(cli, ["chat", "--customer", "999"], input="hi\n\n")
    assert result.exit_code == 2 and "no longer exists" in result.output
