"""Shared shaping of raw ratings for the agreement statistics.

Ratings arrive as ``(item_id, rater_id, label)`` tuples. Ids may be any hashable value (in
practice ints or strings); labels are strings. Conventions applied everywhere in
:mod:`annotator.stats`:

* A rater counts at most once per item. If the same ``(item_id, rater_id)`` occurs more than
  once, the **last** label in input order wins (a revised label replaces the earlier one).
* Items with fewer than two ratings carry no information about agreement; the statistics
  ignore them (they still count in ``n_items`` / ``n_ratings`` of the summary).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable
from typing import Any, TypeAlias

Rating: TypeAlias = tuple[Hashable, Hashable, str]
"""One judgement: ``(item_id, rater_id, label)``."""

ItemRatings: TypeAlias = dict[Hashable, str]
"""The labels of one item, keyed by rater id."""


def index_by_item(ratings: Iterable[Rating]) -> dict[Hashable, ItemRatings]:
    """Group ratings as ``{item_id: {rater_id: label}}``, last duplicate winning.

    Items and raters keep their order of first appearance.
    """
    by_item: dict[Hashable, ItemRatings] = {}
    for item_id, rater_id, label in ratings:
        by_item.setdefault(item_id, {})[rater_id] = label
    return by_item


def multi_rated(by_item: dict[Hashable, ItemRatings]) -> list[ItemRatings]:
    """The items with at least two ratings, i.e. the ones that can show (dis)agreement."""
    return [labels for labels in by_item.values() if len(labels) >= 2]


def label_counts(labels: Iterable[str]) -> Counter[str]:
    """How often each label occurs."""
    return Counter(labels)


def ordered_ids(ids: Iterable[Hashable]) -> list[Hashable]:
    """Distinct ids in sorted order; ids of mixed, unorderable types sort by type name and repr."""
    unique: list[Any] = list(dict.fromkeys(ids))  # Any: sorted() needs orderable ids
    try:
        return sorted(unique)
    except TypeError:
        return sorted(unique, key=lambda value: (type(value).__name__, repr(value)))


def ordered_labels(labels: Iterable[str]) -> list[str]:
    """Distinct labels, sorted."""
    return sorted(set(labels))
