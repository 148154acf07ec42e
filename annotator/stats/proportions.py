"""Label shares with Wilson score confidence intervals.

Conventions:

* ``wilson_interval`` with ``n == 0`` returns ``(0.0, 1.0)``: with no observations every
  proportion is possible, and the full range keeps the result a plain pair of floats.
* Bounds are clamped to ``[0, 1]``, and are exactly 0 for ``successes == 0`` and exactly 1
  for ``successes == n``, as in the formula (floating point would leave e.g. ``1 - 1e-16``).
* Invalid arguments (negative counts, ``successes > n``, confidence outside ``(0, 1)``) are
  caller errors and raise ``ValueError``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist

__all__ = ["Share", "label_shares", "wilson_interval"]


@dataclass(frozen=True)
class Share:
    """Count and share of one label among all counted labels, with a Wilson interval.

    ``share`` and the interval are ``None`` when nothing was counted at all: a report shows
    "—" there rather than the uninformative ``(0, 1)``.
    """

    count: int
    share: float | None
    ci_low: float | None
    ci_high: float | None


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for the proportion ``successes / n``; ``(0.0, 1.0)`` when n == 0.

    Wilson (1927), as ``statsmodels.stats.proportion.proportion_confint(method="wilson")``
    computes it (the tests check it against that).
    """
    _check_confidence(confidence)
    if not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return (0.0, 1.0)
    z = NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)
    share, z2 = successes / n, z * z
    centre = (share + z2 / (2 * n)) / (1 + z2 / n)
    half_width = z / (1 + z2 / n) * math.sqrt(share * (1 - share) / n + z2 / (4 * n * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half_width)
    high = 1.0 if successes == n else min(1.0, centre + half_width)
    return (low, high)


def label_shares(counts: Mapping[str, int], confidence: float = 0.95) -> dict[str, Share]:
    """Share of each label in ``counts`` with its Wilson interval, in the mapping's order.

    Each label is treated as "this label vs. all others" out of the total count.
    """
    if any(count < 0 for count in counts.values()):
        raise ValueError(f"counts must be >= 0, got {dict(counts)!r}")
    total = sum(counts.values())
    shares: dict[str, Share] = {}
    for label, count in counts.items():
        if total:
            low, high = wilson_interval(count, total, confidence)
            shares[label] = Share(count=count, share=count / total, ci_low=low, ci_high=high)
        else:
            shares[label] = Share(count=count, share=None, ci_low=None, ci_high=None)
    return shares
