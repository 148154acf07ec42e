"""Cohen's and Fleiss' kappa and the Wilson interval agree with statsmodels, the reference
implementation, on any ratings. The app computes them from their closed forms so that a page
with agreement figures does not load statsmodels (and with it scipy and pandas); statsmodels
is a test dependency for this comparison."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.inter_rater import cohens_kappa, fleiss_kappa
from statsmodels.stats.proportion import proportion_confint

from annotator.stats import cohen_kappa_pairs, wilson_interval
from annotator.stats import fleiss_kappa as our_fleiss_kappa

LABELS = ["reported", "quoted", "editorial"]
RATERS = ["ann", "bob", "cat", "dan"]

ratings = st.lists(
    st.tuples(st.integers(0, 15), st.sampled_from(RATERS), st.sampled_from(LABELS)),
    max_size=80,
)


def _last_label_per_item_and_rater(rows: list[tuple[int, str, str]]) -> dict[tuple[int, str], str]:
    return {(item, rater): label for item, rater, label in rows}


def _reference_pair_kappa(labels: dict[tuple[int, str], str], a: str, b: str) -> float | None:
    items = sorted({i for i, r in labels if r == a} & {i for i, r in labels if r == b})
    used = sorted({labels[i, r] for i in items for r in (a, b)})
    table = np.zeros((len(used), len(used)))
    for item in items:
        table[used.index(labels[item, a]), used.index(labels[item, b])] += 1
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = float(cohens_kappa(table, return_results=False))
    return kappa if np.isfinite(kappa) else None


@settings(max_examples=200, deadline=None)
@given(ratings)
def test_cohen_kappa_of_every_pair_is_statsmodels(rows):
    labels = _last_label_per_item_and_rater(rows)
    for pair in cohen_kappa_pairs(rows):
        expected = _reference_pair_kappa(labels, str(pair.rater_a), str(pair.rater_b))
        if expected is None:
            assert pair.kappa is None
        else:
            assert pair.kappa == pytest.approx(expected, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(ratings)
def test_fleiss_kappa_is_statsmodels_on_the_items_it_uses(rows):
    labels = _last_label_per_item_and_rater(rows)
    result = our_fleiss_kappa(rows)
    per_item = Counter(item for item, _ in labels)
    used = sorted(item for item, count in per_item.items() if count == result.raters_per_item)
    assert result.n_items == len(used)
    table = np.array(
        [[sum(labels.get((i, r)) == lab for r in RATERS) for lab in LABELS] for i in used]
    ).reshape(len(used), len(LABELS))
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        assert result.kappa is None
        return
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = float(fleiss_kappa(table))
    assert result.kappa == pytest.approx(expected, abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 100_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.floats(0.5, 0.999),
)
def test_wilson_interval_is_statsmodels(successes_and_n, confidence):
    successes, n = successes_and_n
    low, high = proportion_confint(successes, n, alpha=1.0 - confidence, method="wilson")
    expected = (0.0 if successes == 0 else low, 1.0 if successes == n else high)
    assert wilson_interval(successes, n, confidence) == pytest.approx(expected, abs=1e-12)
