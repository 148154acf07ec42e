"""Shared shaping of raw ratings for the agreement statistics.

Ratings arrive as ``(item_id, rater_id, label)`` tuples. Ids may be any hashable value (in
practice ints or strings); labels are strings. Conventions applied everywhere in
:mod:`annotator.stats`:

* A rater counts at most once per item. If the same ``(item_id, rater_id)`` occurs more than
  once, the **last** label in input order wins (a revised label replaces the earlier one).
* Items with fewer than two ratings carry no information about agreement; the statistics
  ignore them (they still count in ``n_items`` / ``n_ratings`` of the summary).

The figures are computed on integer codes in numpy arrays (``CodedRatings``): a finished
study holds hundreds of thousands of ratings, and loops over them in Python took seconds.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from operator import itemgetter
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    import numpy as np

Rating: TypeAlias = tuple[Hashable, Hashable, str]
"""One judgement: ``(item_id, rater_id, label)``."""


def ordered_ids(ids: Iterable[Hashable]) -> list[Hashable]:
    """Distinct ids in sorted order; ids of mixed, unorderable types sort by type name and repr."""
    unique: list[Any] = list(dict.fromkeys(ids))  # Any: sorted() needs orderable ids
    try:
        return sorted(unique)
    except TypeError:
        return sorted(unique, key=lambda value: (type(value).__name__, repr(value)))


@dataclass(frozen=True)
class CodedRatings:
    """Ratings as integer codes, one per ``(item, rater)`` (the last label given), sorted by
    item and then rater. Raters are coded in ``ordered_ids`` order and labels in sorted
    order, so pairs of raters and tables of labels come out in the order the figures use.
    ``n_items`` counts the items; ``source`` is each rating's place in the input, so that
    callers can group the ratings by what else they know of them (``where``)."""

    item: np.ndarray
    rater: np.ndarray
    label: np.ndarray
    source: np.ndarray
    n_items: int
    raters: list[Hashable]
    labels: list[str]

    @classmethod
    def of(cls, ratings: Iterable[Rating]) -> CodedRatings:
        rows = list(ratings)
        return cls.from_columns(*(list(map(itemgetter(i), rows)) for i in range(3)))

    @classmethod
    def from_columns(
        cls, item_ids: Sequence[Hashable], rater_ids: Sequence[Hashable], labels: Sequence[str]
    ) -> CodedRatings:
        """The ratings ``(item_ids[i], rater_ids[i], labels[i])``."""
        if not len(item_ids) == len(rater_ids) == len(labels):
            raise ValueError("the columns of items, raters and labels differ in length")
        items, item_names = _codes(item_ids)
        raters, rater_names = _codes(rater_ids, ordered_ids)
        label_codes, label_names = _codes(labels, sorted)
        last = _last_per_item_and_rater(items, raters, len(rater_names))
        return cls(
            item=items[last],
            rater=raters[last],
            label=label_codes[last],
            source=last,
            n_items=len(item_names),
            raters=rater_names,
            labels=[str(name) for name in label_names],
        )

    @property
    def n_ratings(self) -> int:
        return len(self.item)

    @property
    def n_raters(self) -> int:
        import numpy as np

        return len(np.unique(self.rater))

    @property
    def observed_labels(self) -> list[str]:
        """The labels these ratings use, sorted."""
        import numpy as np

        return [self.labels[code] for code in np.unique(self.label).tolist()]

    def where(self, keep: np.ndarray) -> CodedRatings:
        """The ratings where ``keep`` (a boolean array over the ratings) is true."""
        import numpy as np

        present, item = np.unique(self.item[keep], return_inverse=True)
        return replace(
            self,
            item=item,
            rater=self.rater[keep],
            label=self.label[keep],
            source=self.source[keep],
            n_items=len(present),
        )

    def relabelled(self, new_label: Mapping[str, str]) -> CodedRatings:
        """The same ratings with every label ``x`` read as ``new_label[x]``."""
        import numpy as np

        names = sorted({new_label[name] for name in self.labels})
        code_of = {name: code for code, name in enumerate(names)}
        recode = np.array([code_of[new_label[name]] for name in self.labels], dtype=np.int64)
        return replace(self, label=recode[self.label], labels=names)

    def ratings_per_item(self) -> np.ndarray:
        import numpy as np

        return np.bincount(self.item, minlength=self.n_items)

    def label_table(self) -> np.ndarray:
        """Items x labels: how many raters gave each label to each item."""
        import numpy as np

        width = len(self.labels)
        counts = np.bincount(self.item * width + self.label, minlength=self.n_items * width)
        return counts.reshape(self.n_items, width)

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Every pair of ratings by two raters on the same item, as indexes into the ratings:
        the first of each pair has the lower rater code."""
        import numpy as np

        firsts, seconds = [np.empty(0, dtype=np.int64)], [np.empty(0, dtype=np.int64)]
        most = int(self.ratings_per_item().max()) if self.n_items else 0
        for gap in range(1, most):  # sorted by item: an item's ratings sit side by side
            start = np.flatnonzero(self.item[:-gap] == self.item[gap:])
            firsts.append(start)
            seconds.append(start + gap)
        return np.concatenate(firsts), np.concatenate(seconds)


def _codes(values: Sequence[Hashable], order: Any = None) -> tuple[np.ndarray, list[Any]]:
    """Each value's code, and the distinct values by code (first appearance, or ``order``)."""
    import numpy as np

    distinct = list(dict.fromkeys(values))
    if order is not None:
        distinct = list(order(distinct))
    code_of = {value: code for code, value in enumerate(distinct)}
    codes = np.fromiter(map(code_of.__getitem__, values), dtype=np.int64, count=len(values))
    return codes, distinct


def _last_per_item_and_rater(items: np.ndarray, raters: np.ndarray, n_raters: int) -> np.ndarray:
    """Indexes of the last rating of every (item, rater), sorted by item and then rater."""
    import numpy as np

    keys = items * max(n_raters, 1) + raters
    _, first_from_the_end = np.unique(keys[::-1], return_index=True)
    return len(keys) - 1 - first_from_the_end
