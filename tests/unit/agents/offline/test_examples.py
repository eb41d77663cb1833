"""More examples for the intent classifier: CLINC150's form, a labelled CSV, and their weights."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.nlu import NluDataError
from agents.offline.classifier import model_dir
from agents.offline.dialogue import READS
from agents.offline.examples import (
    LABEL_CAP,
    OWN_WEIGHT,
    clinc_mapping,
    read_clinc,
    read_examples,
    training_set,
)
from agents.offline.intents import INTENTS
from agents.offline.tasks import TASKS
from evals.routing import IN_SCOPE_DOMAINS, Route, load_capabilities


def _clinc(tmp_path: Path) -> Path:
    data = {
        "train": [
            ["move fifty dollars into my savings", "transfer"],
            ["is my card blocked", "account_blocked"],
            ["how long do i bake a potato", "cook_time"],
            ["hello there", "greeting"],
            ["yes that's right", "yes"],
            ["maybe later", "maybe"],
        ],
        "oos_train": [["who sang that song", "oos"]],
        "val": [["what do i have in checking", "balance"]],
        "test": [["please send 40 from checking to savings", "transfer"]],
        "oos_val": [["how tall is a giraffe", "oos"]],
        "oos_test": [["what's the weather in paris", "oos"]],
    }
    path = tmp_path / "data_full.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_clinc_train_lists_are_relabelled_and_its_scored_lists_never_read(tmp_path: Path) -> None:
    found = dict(read_clinc(_clinc(tmp_path)))
    assert found == {
        "move fifty dollars into my savings": "transfer_money",
        "is my card blocked": "out_of_scope",  # banking Concierge does not do from the chat
        "how long do i bake a potato": "out_of_scope",  # another domain
        "hello there": "greeting",
        "yes that's right": "affirm",
        "who sang that song": "out_of_scope",
    }  # "maybe" is mapped to nothing; val, test, oos_val and oos_test are never read


def test_a_json_file_not_in_clinc_form_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"rows": []}), encoding="utf-8")
    with pytest.raises(NluDataError, match="train"):
        read_examples(path)
    with pytest.raises(NluDataError, match="no such file"):
        read_examples(tmp_path / "missing.csv")


def test_a_csv_keeps_concierge_intents_and_learns_other_categories_as_questions(
    tmp_path: Path,
) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "text,category\nsend 20 to savings,transfer_money\nwhat's the weather,out_of_scope\n"
        "my card still hasn't arrived,card_arrival\n",
        encoding="utf-8",
    )
    assert read_examples(path) == [
        ("send 20 to savings", "transfer_money"),
        ("what's the weather", "out_of_scope"),
        ("my card still hasn't arrived", "faq"),
    ]


def test_big_labels_are_weighed_down_and_the_projects_own_phrasings_count_more() -> None:
    own_texts = ["hi", "hello", "the weather?"]
    own_labels = ["greeting", "greeting", "out_of_scope"]
    extra = [(f"other request {i}", "out_of_scope") for i in range(5000)]
    extra += [("HELLO", "out_of_scope"), ("howdy", "greeting")]
    texts, labels, weights = training_set(own_texts, own_labels, extra)
    assert "HELLO" not in texts  # one of the project's own: its curated label stands
    assert texts[:3] == own_texts and len(texts) == 3 + 5000 + 1
    total = {label: 0.0 for label in labels}
    for label, weight in zip(labels[3:], weights[3:], strict=True):
        total[label] += weight
    assert total["out_of_scope"] <= LABEL_CAP + 1e-6  # thousands count as LABEL_CAP together
    assert weights[texts.index("howdy")] == 1.0  # a small label's examples count once each
    assert weights[0] == weights[1] == OWN_WEIGHT
    assert weights[2] == pytest.approx(OWN_WEIGHT * weights[-2])


def test_every_mapped_label_is_an_intent_and_every_in_scope_clinc_intent_is_mapped() -> None:
    mapping = clinc_mapping()
    capabilities = {
        name: c for name, c in load_capabilities().items() if c.domain in IN_SCOPE_DOMAINS
    }
    assert set(capabilities) <= set(mapping)
    assert {label for label in mapping.values() if label} <= set(INTENTS)


def test_each_banking_intent_is_learned_as_an_intent_that_routes_where_the_map_says() -> None:
    """What the classifier learns for a CLINC intent leads the assistant to a right route."""
    mapping = clinc_mapping()
    for name, capability in load_capabilities().items():
        label = mapping[name]
        assert label is not None, name
        if label in TASKS:
            route = Route("task", TASKS[label].tool)
        elif label in READS:
            route = Route("read", READS[label])
        elif label == "faq":
            route = Route("knowledge")
        else:
            route = Route("none")
        assert capability.accepts(route), (name, label, str(route))


def test_the_model_folder_follows_the_examples_file(tmp_path: Path) -> None:
    data = _clinc(tmp_path)
    plain = model_dir(tmp_path, examples=None)
    first = model_dir(tmp_path, examples=data)
    assert first != plain
    data.write_text(data.read_text(encoding="utf-8").replace("potato", "pie"), encoding="utf-8")
    assert model_dir(tmp_path, examples=data) != first
