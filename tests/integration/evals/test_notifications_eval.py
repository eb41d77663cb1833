"""``concierge eval notifications`` on a small bank: planted situations told, the policy kept."""

from __future__ import annotations

from pathlib import Path

from evals.notifications import run_notifications_eval


def test_planted_situations_are_told_and_nothing_goes_against_consent_or_quiet_hours(
    tmp_path: Path,
) -> None:
    result = run_notifications_eval(customers=120, seed=7, workdir=tmp_path)
    assert result["sent_against_consent"] == 0
    assert result["sent_in_quiet_hours"] == 0
    assert result["recall"] is not None and result["recall"] >= 0.8, result["kinds"]
    assert result["precision"] is not None and result["precision"] >= 0.8, result["kinds"]
    # the day's dispatch left nothing due behind: every delivery sent, skipped or set aside
    assert set(result["deliveries"]) <= {"sent", "skipped", "deferred", "dead"}
    assert result["deliveries"].get("sent", 0) > 0
    # the policy said no for stated reasons, each kept on its row, every skip counted once
    assert all(reason for reason in result["skipped_because"])
    assert sum(result["skipped_because"].values()) == result["deliveries"].get("skipped", 0)
