"""A goal change in the scenario vocabulary: which goal, and what changed (name, target, date)."""

from __future__ import annotations

import pytest

from evals.fixtures import Fixture
from evals.scenario import ScenarioError, parse
from evals.scoring import describe_write, match_writes, to_vocabulary

FIXTURE = Fixture(person_id=1, people=[1], refs={"vac": ("savings_goal", 7)})


def test_a_goal_change_names_the_goal_and_only_what_changed() -> None:
    request = {
        "operation": "update_goal",
        "goal_id": 7,
        "name": None,
        "target_minor": None,
        "target_date": "2027-06-30",
    }
    write = to_vocabulary("goal", request, {}, FIXTURE)
    assert write == {"kind": "goal", "goal": "vac", "target_date": "2027-06-30"}
    assert "goal=vac" in describe_write(write) and "target_date=2027-06-30" in describe_write(write)


def test_an_expected_goal_change_matches_on_the_fields_it_gives() -> None:
    done = [{"kind": "goal", "goal": "vac", "target": "3000.00"}]
    assert match_writes([{"kind": "goal", "goal": "vac", "target": "3000"}], done) == ([], [])
    missing, extra = match_writes([{"kind": "goal", "goal": "vac", "target": "2500"}], done)
    assert missing and extra


SCENARIO = """
id: goal-change
category: goal_change
customer:
  name: Lena Brooks
  accounts: [{ref: main, type: checking, name: Everyday, balance: "10.00"}]
  goals: [{ref: vac, name: Vacation, target: "2000.00", saved: "0.00"}]
turns: [{user: change my vacation goal to 3000}]
expect:
  writes: [{kind: goal, goal: GOAL, target: "3000.00", target_date: "2027-06-30"}]
"""


def test_a_goal_write_may_name_the_goal_instead_of_a_name_and_the_ref_must_exist() -> None:
    assert parse(SCENARIO.replace("GOAL", "vac")).data["id"] == "goal-change"
    with pytest.raises(ScenarioError) as raised:
        parse(SCENARIO.replace("GOAL", "car"))
    assert [p.message for p in raised.value.problems] == ["no goal has ref 'car'"]
    with pytest.raises(ScenarioError):  # a goal write names the goal or a name
        parse(SCENARIO.replace("goal: GOAL, ", ""))
