"""The pure parts of the reports and agreement services: majority, counting basis, sorting,
one-vs-rest recoding, confusion scores."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotator.services.agreement import Ratings, confusion_of, one_vs_rest, reviewer_confusion
from annotator.services.reports import COLUMNS, Basis, Coverage, LabelledClaims, parse_basis

R, Q, E = "reported", "quoted", "editorial"


def claims(*rows):
    """LabelledClaims of (outlet, role, settled label or None, reviewer labels...) rows."""
    return LabelledClaims.of_rows(
        [
            (o, role, final, *(labels.count(c) for c in COLUMNS[:-1]), 0)
            for o, role, final, *labels in rows
        ]
    )


def one(final, *labels):
    return claims(("AP", "author", final, *labels))


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
    (column,) = one(None, *labels).majority().tolist()
    assert (COLUMNS[column] if column >= 0 else None) == expected


@pytest.mark.parametrize(
    ("item", "basis", "expected"),
    [
        (one(E, R, R), Basis.SETTLED_OR_MAJORITY, [E]),
        (one(None, R, R), Basis.SETTLED_OR_MAJORITY, [R]),
        (one(None, R, Q), Basis.SETTLED_OR_MAJORITY, []),
        (one(E, R, R), Basis.SETTLED, [E]),
        (one(None, R, R), Basis.SETTLED, []),
        (one(E, R, R), Basis.MAJORITY, [R]),
        (one(E, R, Q), Basis.ALL, [R, Q]),
        (one(None), Basis.ALL, []),
    ],
)
def test_counted_labels(item, basis, expected):
    (counts,) = item.counted(basis).tolist()
    assert counts == [expected.count(column) for column in COLUMNS]


def test_coverage_counts_each_claim_once():
    four = claims(*(("AP", "author", *c) for c in [(E, R, R), (None, R, R), (None, R, Q), (None,)]))
    assert four.coverage(Basis.SETTLED_OR_MAJORITY) == Coverage(1, 1, 2, 6)
    assert four.coverage(Basis.SETTLED) == Coverage(1, 0, 3, 6)
    assert four.coverage(Basis.MAJORITY, unlabelled=3) == Coverage(0, 2, 5, 6)
    assert four.coverage(Basis.ALL) == Coverage(0, 0, 0, 6)


def test_a_settled_label_the_tool_does_not_know_counts_as_settled_but_in_no_share():
    (counts,) = one("disputed", R).counted(Basis.SETTLED).tolist()
    assert counts == [0, 0, 0, 1]


def test_per_outlet_sums_each_outlets_claims():
    three = claims(("AP", "author", None, R, R), ("Tass", "excerpt", E), ("AP", "excerpt", None, Q))
    counted = three.counted(Basis.SETTLED_OR_MAJORITY)
    assert three.outlets == ["AP", "Tass"]
    assert three.per_outlet(counted).tolist() == [[1, 1, 0, 0], [0, 0, 1, 0]]
    assert three.per_outlet(counted, keep=three.author).tolist() == [[1, 0, 0, 0], [0, 0, 0, 0]]


def _reference_counted(final, labels, basis):
    """What a claim contributes, worked out claim by claim as the guidelines say."""
    if basis == Basis.ALL:
        return list(labels)
    if final is not None and basis != Basis.MAJORITY:
        return [final]
    ranked = Counter(labels).most_common(2) if basis != Basis.SETTLED else []
    tied = len(ranked) == 2 and ranked[0][1] == ranked[1][1]
    return [ranked[0][0]] if ranked and not tied else []


claim_rows = st.lists(
    st.tuples(
        st.sampled_from(["AP", "NPR", "Tass"]),
        st.sampled_from(["author", "excerpt"]),
        st.sampled_from([None, None, R, Q, E]),
        st.lists(st.sampled_from([R, Q, E]), max_size=5),
    ),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(claim_rows, st.sampled_from(list(Basis)))
def test_the_arrays_count_what_each_claim_contributes(rows, basis):
    arrays = claims(*((o, role, final, *labels) for o, role, final, labels in rows))
    for outlet in ("AP", "NPR", "Tass"):
        for authors_only in (False, True):
            expected = Counter(
                label
                for o, role, final, labels in rows
                if o == outlet and (role == "author" or not authors_only)
                for label in _reference_counted(final, labels, basis)
            )
            keep = arrays.author if authors_only else None
            sums = arrays.per_outlet(arrays.counted(basis), keep=keep)
            got = (
                sums[arrays.outlets.index(outlet)].tolist() if outlet in arrays.outlets else [0] * 4
            )
            assert got == [expected[column] for column in COLUMNS]
    settled = (
        sum(f is not None for _, _, f, _ in rows)
        if basis in (Basis.SETTLED, Basis.SETTLED_OR_MAJORITY)
        else 0
    )
    coverage = arrays.coverage(basis)
    assert coverage.ratings == sum(len(labels) for *_, labels in rows)
    if basis != Basis.ALL:
        assert coverage.settled == settled
        assert coverage.settled + coverage.majority + coverage.undecided == len(rows)
        counted = sum(bool(_reference_counted(f, labels, basis)) for _, _, f, labels in rows)
        assert coverage.settled + coverage.majority == counted


DEFAULT = Basis.SETTLED_OR_MAJORITY


@pytest.mark.parametrize(
    ("value", "expected"), [("all", Basis.ALL), ("", DEFAULT), (None, DEFAULT), ("x", DEFAULT)]
)
def test_parse_basis(value, expected):
    assert parse_basis(value) == expected


def rows(*triples):
    return Ratings.of_rows([(c, r, lab, "AP", "author", None) for c, r, lab in triples])


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
