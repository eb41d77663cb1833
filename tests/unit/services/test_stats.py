"""The percentile every benchmark and evaluation reports: linear interpolation between ranks."""

from __future__ import annotations

import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.stats import percentile


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([], 95) == 0.0
    assert percentile([10.0], 50) == 10.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([float(i) for i in range(101)], 95) == 95.0
    assert percentile([10, 20, 30, 40, 50], 50) == 30
    assert percentile([10, 20], 99) == pytest.approx(19.9)


def test_values_need_not_be_sorted_and_the_ends_are_min_and_max() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 5.0
    assert percentile(iter(values), 25) == 2.0
    assert values == [5.0, 1.0, 4.0, 2.0, 3.0]  # left as they were


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=60),
    st.integers(min_value=1, max_value=99),
)
def test_same_as_the_inclusive_method_of_the_standard_library(values: list[float], q: int) -> None:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    assert percentile(values, q) == pytest.approx(cuts[q - 1], rel=1e-9, abs=1e-6)
