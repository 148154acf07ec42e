"""Wilson intervals and label shares."""

from __future__ import annotations

import json
import math
from dataclasses import asdict

import pytest

from annotator.stats import Share, label_shares, wilson_interval

Z95 = 1.959963984540054  # standard normal quantile at 0.975


def wilson_by_formula(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """(p + z^2/2n -/+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n), written out independently."""
    p = k / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return ((centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n))


def test_wilson_8_of_10() -> None:
    # p = 0.8, z^2/n = 0.38415: centre 0.71675, half-width 0.22658 -> (0.4902, 0.9433).
    low, high = wilson_interval(8, 10)
    assert (low, high) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    assert (low, high) == pytest.approx(wilson_by_formula(8, 10), rel=1e-12)


@pytest.mark.parametrize(("k", "n"), [(1, 3), (17, 40), (250, 1000)])
def test_wilson_matches_formula(k: int, n: int) -> None:
    assert wilson_interval(k, n) == pytest.approx(wilson_by_formula(k, n), rel=1e-12)


def test_wilson_other_confidence_is_wider_at_99() -> None:
    z99 = 2.5758293035489004
    low, high = wilson_interval(8, 10, confidence=0.99)
    assert (low, high) == pytest.approx(wilson_by_formula(8, 10, z99), rel=1e-12)
    assert low < 0.4902
    assert high > 0.9433


def test_wilson_extremes_stay_in_unit_interval() -> None:
    low, high = wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(wilson_by_formula(0, 10)[1])  # 0.2775
    low, high = wilson_interval(10, 10)
    assert high == 1.0
    assert low == pytest.approx(1 - 0.2775, abs=1e-4)


def test_wilson_no_observations_is_full_range() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("k", "n", "confidence"), [(-1, 5, 0.95), (6, 5, 0.95), (1, 5, 0.0), (1, 5, 1.0)]
)
def test_wilson_rejects_invalid_arguments(k: int, n: int, confidence: float) -> None:
    with pytest.raises(ValueError, match=r"must|need"):
        wilson_interval(k, n, confidence)


def test_label_shares() -> None:
    shares = label_shares({"reported": 8, "quoted": 2, "editorial": 0})
    assert list(shares) == ["reported", "quoted", "editorial"]
    reported = shares["reported"]
    assert reported.count == 8
    assert reported.share == pytest.approx(0.8)
    assert (reported.ci_low, reported.ci_high) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    quoted = shares["quoted"]  # mirror image of 8/10
    assert (quoted.ci_low, quoted.ci_high) == pytest.approx((1 - 0.9433, 1 - 0.4902), abs=1e-4)
    editorial = shares["editorial"]
    assert (editorial.share, editorial.ci_low) == (0.0, 0.0)


def test_label_shares_nothing_counted() -> None:
    shares = label_shares({"reported": 0, "quoted": 0})
    assert shares["reported"] == Share(count=0, share=None, ci_low=None, ci_high=None)
    assert label_shares({}) == {}


def test_label_shares_serialisable_and_validated() -> None:
    shares = label_shares({"reported": 3, "quoted": 1})
    data = json.loads(json.dumps({k: asdict(v) for k, v in shares.items()}))
    assert data["quoted"]["share"] == pytest.approx(0.25)
    with pytest.raises(ValueError, match=">= 0"):
        label_shares({"reported": -1})
