"""Agreement statistics checked against published worked examples and hand computations."""

from __future__ import annotations

import json
from collections.abc import Hashable, Sequence
from dataclasses import asdict

import krippendorff
import numpy as np
import pytest

from annotator.stats import (
    AgreementSummary,
    FleissResult,
    PairKappa,
    Rating,
    agreement_summary,
    cohen_kappa_pairs,
    confusion_matrix,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
)

R, Q, E = "reported", "quoted", "editorial"
LABELS = [R, Q, E]


def from_rows(rows: Sequence[Sequence[object]], raters: Sequence[Hashable]) -> list[Rating]:
    """Ratings from a raters-by-units table (units numbered from 1; ``None`` = missing)."""
    return [
        (unit, rater, str(value))
        for rater, row in zip(raters, rows, strict=True)
        for unit, value in enumerate(row, start=1)
        if value is not None
    ]


def from_table(table: list[list[int]], labels: Sequence[str]) -> list[Rating]:
    """Two raters ``a`` and ``b`` reproducing a Cohen table (rows: ``a``, columns: ``b``)."""
    ratings: list[Rating] = []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            for _ in range(count):
                item = len(ratings) // 2
                ratings += [(item, "a", labels[i]), (item, "b", labels[j])]
    return ratings


def from_counts(rows: list[list[int]]) -> list[Rating]:
    """Per-subject category counts (Fleiss layout) as ratings by synthetic raters r0, r1, ..."""
    ratings: list[Rating] = []
    for subject, counts in enumerate(rows, start=1):
        labels = [f"c{k}" for k, n in enumerate(counts, start=1) for _ in range(n)]
        ratings += [(subject, f"r{i}", label) for i, label in enumerate(labels)]
    return ratings


# --- Krippendorff's alpha -------------------------------------------------------------------

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: nominal data,
# 4 observers, 12 units, missing values; the paper reports alpha_nominal = 0.743.
# Unit 12 has a single value (B: 3) and is not pairable.
KRIPPENDORFF_C = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],  # observer A
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],  # observer B
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],  # observer C
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],  # observer D
]

# Krippendorff (2011), section A: binary data, two observers, 10 units, no missing values.
# Coincidences: o00 = 10, o11 = 2, o01 = o10 = 4; n = 20, n0 = 14, n1 = 6, so
# alpha = 1 - (n - 1) * o01 / (n0 * n1) = 1 - 19 * 4 / 84 = 0.0952 (the paper: 0.095).
KRIPPENDORFF_A = [
    [0, 1, 0, 0, 0, 0, 0, 0, 1, 0],  # observer A
    [1, 1, 1, 0, 0, 1, 0, 0, 0, 0],  # observer B
]


def test_alpha_nominal_example_with_missing_data() -> None:
    ratings = from_rows(KRIPPENDORFF_C, "ABCD")
    assert krippendorff_alpha(ratings) == pytest.approx(0.743, abs=5e-4)


def test_alpha_binary_example() -> None:
    ratings = from_rows(KRIPPENDORFF_A, "AB")
    assert krippendorff_alpha(ratings) == pytest.approx(1 - 19 * 4 / 84)
    assert krippendorff_alpha(ratings) == pytest.approx(0.095, abs=5e-4)


def test_alpha_does_not_depend_on_input_order_or_ids() -> None:
    ratings = from_rows(KRIPPENDORFF_C, [10, 20, 30, 40])
    assert krippendorff_alpha(list(reversed(ratings))) == pytest.approx(0.743, abs=5e-4)


def test_alpha_treats_label_nan_as_a_label() -> None:
    """A label spelled "nan" must not be mistaken for a missing value."""
    rows = [[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]
    ratings = [(u, r, "nan" if v == "1" else v) for u, r, v in from_rows(rows, "AB")]
    assert krippendorff_alpha(ratings) == pytest.approx(1 - 19 * 4 / 84)


def test_alpha_matches_the_package_on_a_sparse_reliability_matrix() -> None:
    """Our per-item counts give the same alpha as the package's rater-by-unit matrix input."""
    rng = np.random.default_rng(7)
    matrix = rng.integers(0, 3, size=(5, 40)).astype(float)
    matrix[rng.random(matrix.shape) < 0.5] = np.nan
    ratings = [
        (unit, rater, LABELS[int(value)])
        for (rater, unit), value in np.ndenumerate(matrix)
        if not np.isnan(value)
    ]
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    assert krippendorff_alpha(ratings) == pytest.approx(expected, rel=1e-12)


def test_alpha_perfect_agreement_is_one() -> None:
    ratings = [(1, "a", R), (1, "b", R), (2, "a", Q), (2, "b", Q), (3, "c", E)]
    assert krippendorff_alpha(ratings) == pytest.approx(1.0)


# --- Fleiss' kappa --------------------------------------------------------------------------

# Fleiss (1971) as worked on Wikipedia's "Fleiss' kappa" page: 10 subjects, 14 raters,
# 5 categories; P-bar = 0.378, P-bar_e = 0.213, kappa = 0.210.
FLEISS_TABLE = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def test_fleiss_wikipedia_example() -> None:
    result = fleiss_kappa(from_counts(FLEISS_TABLE))
    assert result.kappa == pytest.approx(0.210, abs=5e-4)
    assert (result.n_items, result.raters_per_item) == (10, 14)


def test_fleiss_uses_only_items_with_the_modal_number_of_raters() -> None:
    extra: list[Rating] = [(99, "r0", "c1"), (99, "r1", "c2"), (99, "r2", "c3"), (100, "r0", "c5")]
    result = fleiss_kappa(from_counts(FLEISS_TABLE) + extra)
    assert result.kappa == pytest.approx(0.210, abs=5e-4)
    assert (result.n_items, result.raters_per_item) == (10, 14)


def test_fleiss_tie_in_rater_count_goes_to_more_raters() -> None:
    # Two items with 2 raters, two with 3 raters: the 3-rater items are used.
    # Used counts: item 3 (R, R, Q), item 4 (Q, Q, Q); P_i = 1/3 and 1, P-bar = 2/3;
    # p_R = 2/6, p_Q = 4/6, P_e = 4/36 + 16/36 = 5/9; kappa = (2/3 - 5/9) / (4/9) = 1/4.
    ratings = [
        (1, "a", R), (1, "b", E),
        (2, "a", E), (2, "b", R),
        (3, "a", R), (3, "b", R), (3, "c", Q),
        (4, "a", Q), (4, "b", Q), (4, "c", Q),
    ]  # fmt: skip
    result = fleiss_kappa(ratings)
    assert result.kappa == pytest.approx(0.25)
    assert (result.n_items, result.raters_per_item) == (2, 3)


# --- Cohen's kappa --------------------------------------------------------------------------


def test_cohen_wikipedia_example() -> None:
    # Wikipedia "Cohen's kappa": 50 proposals, yes/yes 20, a-yes/b-no 5, a-no/b-yes 10, no/no 15.
    # p_o = 35/50 = 0.7; p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5; kappa = 0.2 / 0.5 = 0.4.
    ratings = from_table([[20, 5], [10, 15]], ["yes", "no"])
    [pair] = cohen_kappa_pairs(ratings)
    assert isinstance(pair, PairKappa)
    assert (pair.rater_a, pair.rater_b, pair.n_items) == ("a", "b", 50)
    assert pair.kappa == pytest.approx(0.4)


THREE_LABEL_TABLE = [  # rows: rater a, columns: rater b, order reported/quoted/editorial
    [3, 1, 0],
    [0, 2, 1],
    [1, 0, 2],
]


def test_cohen_three_labels_by_hand() -> None:
    # n = 10, agreement p_o = (3 + 2 + 2) / 10 = 0.7.
    # Margins: a = (4, 3, 3), b = (4, 3, 3); p_e = (16 + 9 + 9) / 100 = 0.34.
    # kappa = (0.7 - 0.34) / (1 - 0.34) = 0.36 / 0.66 = 6/11 = 0.5454...
    [pair] = cohen_kappa_pairs(from_table(THREE_LABEL_TABLE, LABELS))
    assert pair.n_items == 10
    assert pair.kappa == pytest.approx(6 / 11)


def test_cohen_pairs_only_for_raters_sharing_items() -> None:
    ratings = [
        (1, "ann", R), (1, "bob", R),
        (2, "ann", Q), (2, "bob", E),
        (3, "cy", R), (3, "bob", R),
        (4, "cy", Q),
    ]  # fmt: skip
    pairs = cohen_kappa_pairs(ratings)
    assert [(p.rater_a, p.rater_b, p.n_items) for p in pairs] == [
        ("ann", "bob", 2),
        ("bob", "cy", 1),
    ]
    # ann/bob: p_o = 1/2, ann (R, Q), bob (R, E): p_e = 1/4, kappa = (1/2 - 1/4) / (3/4) = 1/3.
    assert pairs[0].kappa == pytest.approx(1 / 3)
    # bob/cy agree on their single common item with one label: p_e = 1, kappa undefined.
    assert pairs[1].kappa is None


def test_cohen_rater_with_a_single_label_gets_kappa_zero() -> None:
    # a always says "reported": p_o = share of b's "reported" = p_e, so kappa = 0.
    ratings = from_table([[2, 1, 1], [0, 0, 0], [0, 0, 0]], LABELS)
    assert cohen_kappa_pairs(ratings)[0].kappa == pytest.approx(0.0)


def test_cohen_raters_with_different_single_labels_get_kappa_zero() -> None:
    ratings = from_table([[0, 3], [0, 0]], [R, Q])
    assert cohen_kappa_pairs(ratings)[0].kappa == pytest.approx(0.0)


# --- percent agreement ----------------------------------------------------------------------


def test_percent_agreement_by_hand_with_missing_data() -> None:
    ratings = [
        (1, "a", R), (1, "b", R), (1, "c", R),  # 3 of 3 pairs agree -> 1
        (2, "a", R), (2, "b", R), (2, "c", Q),  # 1 of 3 pairs agree -> 1/3
        (3, "a", R), (3, "c", Q),  # 0 of 1 -> 0
        (4, "b", E),  # single rating: ignored
    ]  # fmt: skip
    assert percent_agreement(ratings) == pytest.approx((1 + 1 / 3 + 0) / 3)


def test_percent_agreement_duplicate_rating_keeps_the_last() -> None:
    ratings = [(1, "a", Q), (1, "b", R), (1, "a", R)]
    assert percent_agreement(ratings) == pytest.approx(1.0)
    assert agreement_summary(ratings, LABELS).n_ratings == 2


# --- confusion matrix -----------------------------------------------------------------------


def test_confusion_matrix_rows_are_first_element() -> None:
    ratings = from_table(THREE_LABEL_TABLE, LABELS)
    pairs = [(ratings[i][2], ratings[i + 1][2]) for i in range(0, len(ratings), 2)]
    assert confusion_matrix(pairs, LABELS) == THREE_LABEL_TABLE
    assert confusion_matrix([(R, Q)], [Q, R]) == [[0, 0], [1, 0]]
    assert confusion_matrix([], LABELS) == [[0, 0, 0], [0, 0, 0], [0, 0, 0]]


def test_confusion_matrix_rejects_unknown_or_duplicate_labels() -> None:
    with pytest.raises(ValueError, match="not within"):
        confusion_matrix([(R, "opinion")], LABELS)
    with pytest.raises(ValueError, match="duplicate"):
        confusion_matrix([], [R, R])


# --- edge cases -----------------------------------------------------------------------------


def test_no_data() -> None:
    assert percent_agreement([]) is None
    assert cohen_kappa_pairs([]) == []
    assert fleiss_kappa([]) == FleissResult(kappa=None, n_items=0, raters_per_item=None)
    assert krippendorff_alpha([]) is None
    summary = agreement_summary([], LABELS)
    assert (summary.n_items, summary.n_ratings, summary.n_raters) == (0, 0, 0)
    assert summary.confusion == [[0] * 3] * 3


def test_single_rater() -> None:
    ratings = [(1, "a", R), (2, "a", Q), (3, "a", E)]
    summary = agreement_summary(ratings, LABELS)
    assert summary.percent_agreement is None
    assert summary.pairwise_kappa == []
    assert summary.fleiss.kappa is None
    assert summary.krippendorff_alpha is None
    assert (summary.n_items, summary.n_ratings, summary.n_raters) == (3, 3, 1)
    assert summary.n_items_compared == 0


def test_everybody_agrees_on_one_label() -> None:
    ratings = [(i, r, R) for i in range(4) for r in ("a", "b", "c")]
    summary = agreement_summary(ratings, LABELS)
    assert summary.percent_agreement == 1.0
    assert summary.krippendorff_alpha is None
    assert summary.fleiss == FleissResult(kappa=None, n_items=4, raters_per_item=3)
    assert [p.kappa for p in summary.pairwise_kappa] == [None, None, None]
    # 4 items x 3 raters x 2 ordered partners, all on the reported/reported cell.
    assert summary.confusion == [[24, 0, 0], [0, 0, 0], [0, 0, 0]]


def test_single_label_in_pairable_items_but_others_in_single_ratings() -> None:
    ratings = [(1, "a", R), (1, "b", R), (2, "a", Q), (3, "b", E)]
    assert krippendorff_alpha(ratings) is None
    assert fleiss_kappa(ratings).kappa is None


# --- summary --------------------------------------------------------------------------------


def test_summary_on_krippendorff_example_is_consistent_and_serialisable() -> None:
    ratings = from_rows(KRIPPENDORFF_C, "ABCD")
    summary = agreement_summary(ratings, ["5", "4", "3"])
    assert isinstance(summary, AgreementSummary)
    # Given labels first, the others observed appended in sorted order.
    assert summary.labels == ["5", "4", "3", "1", "2"]
    assert (summary.n_items, summary.n_ratings, summary.n_raters) == (12, 41, 4)
    assert summary.n_items_compared == 11
    assert summary.krippendorff_alpha == pytest.approx(krippendorff_alpha(ratings))
    assert summary.percent_agreement == pytest.approx(percent_agreement(ratings))
    assert summary.fleiss == fleiss_kappa(ratings)
    assert summary.fleiss.raters_per_item == 4
    assert summary.pairwise_kappa == cohen_kappa_pairs(ratings)
    assert len(summary.pairwise_kappa) == 6
    matrix = summary.confusion
    assert matrix == [list(row) for row in zip(*matrix, strict=True)]  # symmetric
    # Sum over items of m(m-1): units 2-9 have 4 ratings, units 1 and 10 have 3, unit 11 has 2.
    assert sum(map(sum, matrix)) == 8 * 12 + 2 * 6 + 1 * 2
    data = json.loads(json.dumps(asdict(summary)))
    assert data["fleiss"]["raters_per_item"] == 4
    assert data["pairwise_kappa"][0]["rater_a"] == "A"


def test_summary_of_empty_data_is_serialisable() -> None:
    data = asdict(agreement_summary([], LABELS))
    assert json.loads(json.dumps(data))["krippendorff_alpha"] is None
