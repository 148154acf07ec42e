"""The pure parts of the reports and agreement services: majority, counting basis, sorting,
one-vs-rest recoding, confusion scores."""

from __future__ import annotations

import pytest

from annotator.services.agreement import RatingRow, confusion_of, one_vs_rest, reviewer_confusion
from annotator.services.reports import (
    Basis,
    ClaimLabels,
    Coverage,
    counted_labels,
    coverage_of,
    majority,
    parse_basis,
)

R, Q, E = "reported", "quoted", "editorial"


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ([], None),
        ([R], R),
        ([R, R, Q], R),
        ([R, Q], None),
        ([R, Q, E], None),
        ([E, E, Q, Q, R], None),
    ],
)
def test_majority(labels, expected):
    assert majority(labels) == expected


def claim(final, *labels):
    return ClaimLabels(1, "AP", "author", final, {f"r{i}": lab for i, lab in enumerate(labels)})


@pytest.mark.parametrize(
    ("item", "basis", "expected"),
    [
        (claim(E, R, R), Basis.SETTLED_OR_MAJORITY, [E]),
        (claim(None, R, R), Basis.SETTLED_OR_MAJORITY, [R]),
        (claim(None, R, Q), Basis.SETTLED_OR_MAJORITY, []),
        (claim(E, R, R), Basis.SETTLED, [E]),
        (claim(None, R, R), Basis.SETTLED, []),
        (claim(E, R, R), Basis.MAJORITY, [R]),
        (claim(E, R, Q), Basis.ALL, [R, Q]),
        (claim(None), Basis.ALL, []),
    ],
)
def test_counted_labels(item, basis, expected):
    assert counted_labels(item, basis) == expected


def test_coverage_counts_each_claim_once():
    claims = [claim(E, R, R), claim(None, R, R), claim(None, R, Q), claim(None)]
    assert coverage_of(claims, Basis.SETTLED_OR_MAJORITY) == Coverage(1, 1, 2, 6)
    assert coverage_of(claims, Basis.SETTLED) == Coverage(1, 0, 3, 6)


DEFAULT = Basis.SETTLED_OR_MAJORITY


@pytest.mark.parametrize(
    ("value", "expected"), [("all", Basis.ALL), ("", DEFAULT), (None, DEFAULT), ("x", DEFAULT)]
)
def test_parse_basis(value, expected):
    assert parse_basis(value) == expected


def rows(*triples):
    return [RatingRow(c, r, lab, "AP", "author", None) for c, r, lab in triples]


def test_one_vs_rest_recodes_other_labels():
    summary = one_vs_rest(rows((1, "a", R), (1, "b", Q), (2, "a", E), (2, "b", E)), E)
    assert summary.labels == [E, "(other)"]
    assert summary.percent_agreement == 1.0  # R and Q are both "(other)"
    assert summary.confusion == [[2, 0], [0, 2]]  # each agreeing pair counts once each way


def test_reviewer_confusion_uses_shared_claims_only():
    data = rows((1, "a", R), (1, "b", Q), (2, "a", E), (2, "b", E), (3, "a", R))
    table = reviewer_confusion(data, "a", "b")
    assert table.n == 2
    assert table.matrix[0][1] == 1  # a said reported where b said quoted
    assert table.matrix[2][2] == 1


def test_scores_are_none_without_support():
    table = confusion_of([(R, R), (R, E)], "suggested", "settled")
    scores = {s.label: (s.precision, s.recall, s.support) for s in table.scores}
    assert scores == {R: (0.5, 1.0, 1), Q: (None, None, 0), E: (None, 0.0, 1)}
    assert table.accuracy == 0.5
