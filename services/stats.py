"""Summary statistics the benchmarks and evaluations report, with one convention each."""

from __future__ import annotations

from collections.abc import Iterable


def percentile(values: Iterable[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by linear interpolation between ranks; 0 for no values.

    The position is ``(n - 1) * q / 100`` in the sorted values (NumPy's default "linear",
    ``statistics.quantiles(method="inclusive")``): the median of an even count is the mean of
    the middle two. Every latency figure the benchmarks and evaluations publish uses it.
    """
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))
