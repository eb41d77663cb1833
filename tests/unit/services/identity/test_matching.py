"""Comparison levels, blocking and the Fellegi-Sunter model."""

from datetime import date

import numpy as np

from services.identity.matching import (
    FIELDS,
    Record,
    candidate_pairs,
    compare_dob,
    compare_first,
    compare_last,
    estimate,
    normalise_street,
)


def test_first_names_know_their_nicknames() -> None:
    assert compare_first("william", "william") == 3
    assert compare_first("william", "bill") == 2
    assert compare_first("katherine", "kate") == 2
    assert compare_first("anatoly", "anatolyi") == 1
    assert compare_first("maya", "robert") == 0
    assert compare_first("", "maya") == -1


def test_surnames_tolerate_one_typo_but_not_another_name() -> None:
    assert compare_last("patel", "patel") == 3
    assert compare_last("fitzgerald", "fitzgerlad") == 2
    assert compare_last("patel", "nguyen") == 0


def test_dates_of_birth_catch_swapped_day_and_month() -> None:
    assert compare_dob(date(1986, 4, 2), date(1986, 4, 2)) == 2
    assert compare_dob(date(1986, 4, 2), date(1986, 2, 4)) == 1
    assert compare_dob(date(1986, 4, 2), date(1960, 9, 30)) == 0
    assert compare_dob(None, date(1986, 4, 2)) == -1


def test_streets_abbreviate_the_same_way() -> None:
    assert normalise_street("12 Oak Street, Apartment 4") == normalise_street("12 oak st apt 4")
    assert normalise_street("5 North Main Avenue") == "5 n main ave"


def test_blocking_compares_likely_pairs_only() -> None:
    people = [
        Record(
            key=f"core:{i}",
            first=f"name{i}",
            last=f"surname{i % 50}x{i}",
            dob=date(1950 + i % 40, 1 + i % 12, 1 + i % 28),
            postal=f"{10000 + i}",
        )
        for i in range(400)
    ]
    twin = Record(
        key="crm:1", first="name7", last=people[7].last, dob=people[7].dob, postal=people[7].postal
    )
    pairs = candidate_pairs([*people, twin])
    assert (7, 400) in pairs
    assert len(pairs) < 400 * 401 / 2 / 20


def test_em_separates_matches_from_non_matches() -> None:
    rng = np.random.default_rng(0)
    sizes = [levels for _, levels in FIELDS]
    matches = np.array(
        [[k - 1 if rng.random() < 0.9 else rng.integers(0, k) for k in sizes] for _ in range(300)]
    )
    others = np.array(
        [[0 if rng.random() < 0.9 else rng.integers(0, k) for k in sizes] for _ in range(3000)]
    )
    model = estimate(np.vstack([matches, others]))
    assert 0.05 < model.prior < 0.15
    assert model.probability([k - 1 for k in sizes]) > 0.99
    assert model.probability([0] * len(sizes)) < 0.01
    missing = [-1] * len(sizes)
    assert abs(model.probability(missing) - model.prior) < 1e-9
