"""`concierge eval recommendations`: trains on one bank, scores on another."""

from evals.recommendations import run_recommendations_eval


def test_levels_are_scored_and_models_beat_the_baselines() -> None:
    result = run_recommendations_eval(customers=80, seed=5)
    levels = result["levels"]
    assert set(levels) == {"random", "segment", "segment_learned", "behavioral", "predictive"}
    for figures in levels.values():
        assert 0 <= figures["precision_at_3"] <= 1 and 0 <= figures["recall_at_3"] <= 1
    assert levels["predictive"]["precision_at_3"] > levels["segment"]["precision_at_3"]
    assert levels["segment"]["precision_at_3"] > levels["random"]["precision_at_3"]
    assert levels["predictive"]["conversion"] > levels["random"]["conversion"]
    assert result["train_seed"] != result["seed"]
    assert "duplicate_charge" in result["insights"]
