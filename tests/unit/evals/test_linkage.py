from evals.linkage import pairwise_scores


def test_perfect_clustering_scores_one() -> None:
    truth = {"a": 1, "b": 1, "c": 2, "d": 3}
    assert pairwise_scores({"a": 9, "b": 9, "c": 8, "d": 7}, truth) == {
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
        "records": 4,
    }


def test_a_missed_link_costs_recall_and_a_wrong_one_precision() -> None:
    truth = {"a": 1, "b": 1, "c": 1, "d": 2}
    missed = pairwise_scores({"a": 1, "b": 1, "c": None, "d": 2}, truth)
    assert missed["precision"] == 1.0 and abs(missed["recall"] - 1 / 3) < 1e-9
    merged = pairwise_scores({"a": 1, "b": 1, "c": 1, "d": 1}, truth)
    assert merged["recall"] == 1.0 and merged["precision"] == 0.5
