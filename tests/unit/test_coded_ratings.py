"""Ratings coded once and then split (by outlet, role) or recoded (one label against the rest)
give the same figures as the split or recoded ratings coded anew, and the coding keeps the
conventions: the last label of a repeated (item, rater) wins, raters in id order."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotator.stats import CodedRatings, agreement_summary, summary_of

LABELS = ["reported", "quoted", "editorial"]

ratings_with_groups = st.lists(
    st.tuples(
        st.integers(0, 12),  # item
        st.sampled_from(["ann", "bob", "cat", "dan", 7]),  # rater (mixed id types)
        st.sampled_from([*LABELS, "nan"]),
        st.sampled_from(["AP", "Tass", "(no outlet)"]),  # a group, fixed per item below
    ),
    max_size=60,
)


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


def _same(first: Any, second: Any) -> None:
    assert _rounded(asdict(first)) == _rounded(asdict(second))


def _with_item_groups(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Every rating of an item in the group of the item's first rating (a claim has one
    outlet)."""
    group_of: dict[int, str] = {}
    return [(i, r, lab, group_of.setdefault(i, g)) for i, r, lab, g in rows]


@settings(max_examples=150, deadline=None)
@given(ratings_with_groups)
def test_a_part_of_the_coded_ratings_is_summarised_as_those_ratings_alone(rows):
    rows = _with_item_groups(rows)
    coded = CodedRatings.of([(i, r, lab) for i, r, lab, _ in rows])
    group = np.array([rows[k][3] for k in coded.source.tolist()], dtype=object)
    for name in {g for *_, g in rows}:
        alone = [(i, r, lab) for i, r, lab, g in rows if g == name]
        _same(summary_of(coded.where(group == name), LABELS), agreement_summary(alone, LABELS))


@settings(max_examples=150, deadline=None)
@given(ratings_with_groups, st.sampled_from(LABELS))
def test_relabelled_ratings_are_summarised_as_ratings_given_those_labels(rows, label):
    ratings = [(i, r, lab) for i, r, lab, _ in rows]
    binary = {name: label if name == label else "(other)" for name in [*LABELS, "nan"]}
    recoded = [(i, r, binary[lab]) for i, r, lab in ratings]
    relabelled = CodedRatings.of(ratings).relabelled(binary)
    _same(
        summary_of(relabelled, [label, "(other)"]), agreement_summary(recoded, [label, "(other)"])
    )


def test_the_last_label_of_a_repeated_rating_wins_and_raters_are_in_id_order():
    coded = CodedRatings.of([(1, "bob", "quoted"), (1, "ann", "reported"), (1, "bob", "editorial")])
    assert coded.raters == ["ann", "bob"]
    assert [coded.raters[r] for r in coded.rater.tolist()] == ["ann", "bob"]
    assert [coded.labels[lab] for lab in coded.label.tolist()] == ["reported", "editorial"]
    assert coded.source.tolist() == [1, 2], "each rating knows its place in the input"
    assert (coded.n_items, coded.n_ratings, coded.n_raters) == (1, 2, 2)


def test_no_ratings_at_all():
    coded = CodedRatings.of([])
    assert (coded.n_items, coded.n_ratings, coded.n_raters) == (0, 0, 0)
    summary = summary_of(coded, LABELS)
    assert summary.pairwise_kappa == []
    assert summary.percent_agreement is None
    with pytest.raises(ValueError, match="columns"):
        CodedRatings.from_columns([1], ["ann", "bob"], ["quoted"])
