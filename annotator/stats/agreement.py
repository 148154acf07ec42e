"""Inter-rater agreement for nominal labels (reported / quoted / editorial, or any strings).

Input everywhere is an iterable of ``(item_id, rater_id, label)`` tuples; items may have any
number of raters. Conventions (see also :mod:`annotator.stats._ratings`):

* a repeated ``(item_id, rater_id)`` keeps the last label given;
* items with a single rating are ignored by every agreement figure;
* a coefficient that is mathematically undefined is returned as ``None``, never ``nan``.
  Chance-corrected coefficients (kappa, alpha) are ``0/0`` when expected agreement is total,
  i.e. when every rating in the data they use carries one and the same label: there is no
  variation to agree about, so we report ``None`` ("not computable") rather than 1 or 0.

Krippendorff's alpha comes from the ``krippendorff`` package. Cohen's and Fleiss' kappa are
their closed forms on numpy count tables, the same arithmetic as ``statsmodels.stats.inter_rater``
(the tests check them against it): importing statsmodels brings scipy and pandas, 1.2 s and about
105 MiB in every process that shows an agreement figure.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

# numpy and krippendorff are imported inside the functions that use them, so that the server
# and the commands that show no agreement figure start without them.
from annotator.stats._ratings import CodedRatings, Rating

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "AgreementSummary",
    "FleissResult",
    "PairKappa",
    "agreement_summary",
    "cohen_kappa_pairs",
    "confusion_matrix",
    "fleiss_kappa",
    "krippendorff_alpha",
    "krippendorff_alpha_of_table",
    "percent_agreement",
    "percent_agreement_of_table",
    "summary_of",
]


@dataclass(frozen=True)
class PairKappa:
    """Cohen's kappa of two raters over the items both of them rated.

    ``rater_a`` sorts before ``rater_b``. ``kappa`` is ``None`` when expected agreement is 1,
    which happens exactly when both raters used one single, identical label on all their common
    items. (If one rater used a single label and the other did not, kappa is defined and 0.)
    """

    rater_a: Hashable
    rater_b: Hashable
    n_items: int
    kappa: float | None


@dataclass(frozen=True)
class FleissResult:
    """Fleiss' kappa and the subset of items it was computed on.

    Fleiss' kappa needs the same number of raters on every item, so it uses only the items with
    exactly ``raters_per_item`` ratings, the most common number of ratings per item among items
    with at least two ratings (ties go to the larger number). ``n_items`` is how many items that
    is. With no usable item, ``kappa`` and ``raters_per_item`` are ``None`` and ``n_items`` is 0.
    """

    kappa: float | None
    n_items: int
    raters_per_item: int | None


@dataclass(frozen=True)
class AgreementSummary:
    """Every agreement figure for one set of ratings; JSON-ready via ``dataclasses.asdict``.

    ``n_items`` / ``n_ratings`` / ``n_raters`` count everything (after de-duplicating repeated
    ``(item, rater)`` ratings), ``n_items_compared`` only the items with >= 2 ratings, which are
    the ones the coefficients use. ``confusion`` is the symmetric pair matrix over ``labels``:
    cell ``[i][j]`` counts the ordered pairs of two different raters on the same item where the
    first said ``labels[i]`` and the second ``labels[j]`` (each unordered pair counts once in
    each direction, so agreeing pairs count 2 on the diagonal).
    """

    labels: list[str]
    n_items: int
    n_ratings: int
    n_raters: int
    n_items_compared: int
    percent_agreement: float | None
    krippendorff_alpha: float | None
    fleiss: FleissResult
    pairwise_kappa: list[PairKappa]
    confusion: list[list[int]]


def _finite_or_none(value: float) -> float | None:
    """A plain ``float``, or ``None`` for nan / infinity."""
    result = float(value)
    return result if math.isfinite(result) else None


def percent_agreement(ratings: Iterable[Rating]) -> float | None:
    """Mean over items with >= 2 ratings of the share of rater pairs that agree on the item
    (sum c(c-1) / m(m-1) over its label counts c, m ratings).

    Every such item weighs the same, however many raters it has. ``None`` without such items.
    """
    return _percent(_compared(CodedRatings.of(ratings)))


def percent_agreement_of_table(table: np.ndarray) -> float | None:
    """``percent_agreement`` of ratings given as a label table (items x labels: how many
    raters gave each label to each item)."""
    return _percent(table[table.sum(axis=1) >= 2])


def krippendorff_alpha_of_table(table: np.ndarray) -> float | None:
    """``krippendorff_alpha`` of ratings given as a label table (items x labels)."""
    return _alpha(table[table.sum(axis=1) >= 2])


def _compared(coded: CodedRatings) -> np.ndarray:
    """The label table (items x labels) of the items with >= 2 ratings."""
    table = coded.label_table()
    compared: np.ndarray = table[table.sum(axis=1) >= 2]
    return compared


def _percent(compared: np.ndarray) -> float | None:
    if not len(compared):
        return None
    m = compared.sum(axis=1)
    agreeing = (compared * (compared - 1)).sum(axis=1)
    return float((agreeing / (m * (m - 1))).mean())


def confusion_matrix(pairs: Iterable[tuple[str, str]], labels: Sequence[str]) -> list[list[int]]:
    """Count label pairs: rows are indexed by the first element, columns by the second.

    Rows and columns follow the order of ``labels``. Raises ``ValueError`` if ``labels`` has
    duplicates or a pair uses a label not in ``labels`` (silently dropping data would hide bugs).
    """
    index = {label: i for i, label in enumerate(labels)}
    if len(index) != len(labels):
        raise ValueError(f"duplicate labels in {list(labels)!r}")
    matrix = [[0] * len(labels) for _ in labels]
    for first, second in pairs:
        if first not in index or second not in index:
            raise ValueError(f"label pair {(first, second)!r} not within {list(labels)!r}")
        matrix[index[first]][index[second]] += 1
    return matrix


def _kappa_from_table(table: list[list[int]]) -> float | None:
    """Cohen's kappa of a square count table, ``None`` when expected agreement is 1."""
    n = sum(map(sum, table))
    rows = [sum(row) for row in table]
    cols = [sum(col) for col in zip(*table, strict=True)]
    # p_e = sum(rows[k] * cols[k]) / n**2 equals 1 only if one label takes all of both margins.
    if n == 0 or any(r * c == n * n for r, c in zip(rows, cols, strict=True)):
        return None
    import numpy as np

    counts = np.asarray(table, dtype=float)
    observed = np.trace(counts) / n
    expected = float(np.dot(counts.sum(axis=1), counts.sum(axis=0))) / (n * n)
    return _finite_or_none((observed - expected) / (1.0 - expected))


@dataclass(frozen=True)
class _PairTables:
    """The rater pairs that share an item (codes ``a * n_raters + b``, a < b, in order) and
    each pair's table of labels (pairs x labels x labels, the first rater's label first)."""

    codes: np.ndarray
    tables: np.ndarray

    @classmethod
    def of(cls, coded: CodedRatings) -> _PairTables:
        import numpy as np

        first, second = coded.pairs()
        width, n_raters = len(coded.labels), len(coded.raters)
        raw = coded.rater[first] * n_raters + coded.rater[second]
        # np.unique(raw, return_inverse=True) without its sort: the codes are few and small
        present = np.bincount(raw, minlength=n_raters * n_raters) > 0
        codes, pair = np.flatnonzero(present), (np.cumsum(present) - 1)[raw]
        cells = (pair * width + coded.label[first]) * width + coded.label[second]
        counts = np.bincount(cells, minlength=len(codes) * width * width)
        return cls(codes, counts.reshape(len(codes), width, width))


def _cohen_kappa_pairs(coded: CodedRatings, pairs: _PairTables) -> list[PairKappa]:
    kappas = []
    for code, table in zip(pairs.codes.tolist(), pairs.tables, strict=True):
        used = (table.sum(axis=0) + table.sum(axis=1)) > 0  # the pair's labels, sorted
        kappa = _kappa_from_table(table[used][:, used].tolist())
        a, b = divmod(code, len(coded.raters))
        kappas.append(PairKappa(coded.raters[a], coded.raters[b], int(table.sum()), kappa))
    return kappas


def cohen_kappa_pairs(ratings: Iterable[Rating]) -> list[PairKappa]:
    """Cohen's kappa for every pair of raters with at least one item in common.

    Pairs are ordered by rater id (``rater_a < rater_b``); pairs without a common item are
    left out. See :class:`PairKappa` for when ``kappa`` is ``None``.
    """
    coded = CodedRatings.of(ratings)
    return _cohen_kappa_pairs(coded, _PairTables.of(coded))


def _fleiss(compared: np.ndarray) -> FleissResult:
    import numpy as np

    if not len(compared):
        return FleissResult(kappa=None, n_items=0, raters_per_item=None)
    sizes = np.bincount(compared.sum(axis=1))
    m = int(np.flatnonzero(sizes == sizes.max())[-1])  # the most frequent; ties: the larger
    used = compared[compared.sum(axis=1) == m]
    table = used[:, used.sum(axis=0) > 0]  # the categories used, sorted
    # With a single category expected agreement is 1 and kappa is 0/0.
    kappa = None if table.shape[1] < 2 else _finite_or_none(_fleiss_of_table(table, m))
    return FleissResult(kappa=kappa, n_items=len(used), raters_per_item=m)


def _fleiss_of_table(table: np.ndarray, m: int) -> float:
    """Fleiss (1971) of an items x categories count table with ``m`` ratings on every item."""
    counts = table.astype(float)
    observed = float(((counts * counts).sum(axis=1) - m).mean()) / (m * (m - 1))
    shares = counts.sum(axis=0) / counts.sum()
    expected = float(shares @ shares)
    return (observed - expected) / (1.0 - expected)


def fleiss_kappa(ratings: Iterable[Rating]) -> FleissResult:
    """Fleiss' kappa (1971) over the items rated by the modal number of raters m >= 2.

    See :class:`FleissResult` for which items are used. ``kappa`` is ``None`` when there is no
    item with >= 2 ratings or all used ratings carry the same label.
    """
    return _fleiss(_compared(CodedRatings.of(ratings)))


def _alpha(compared: np.ndarray) -> float | None:
    import numpy as np

    value_counts = compared[:, compared.sum(axis=0) > 0]  # the labels of pairable ratings
    if value_counts.shape[1] < 2:
        return None
    import krippendorff

    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = krippendorff.alpha(value_counts=value_counts, level_of_measurement="nominal")
    return _finite_or_none(alpha)


def krippendorff_alpha(ratings: Iterable[Rating]) -> float | None:
    """Krippendorff's alpha for nominal data, allowing any number of raters per item.

    Computed by ``krippendorff.alpha`` from per-item label counts (its ``value_counts`` input,
    equivalent to a rater-by-item ``reliability_data`` matrix with gaps, but with no NaN
    coding, so a label spelled "nan" is safe). Items with one rating are not pairable and are
    dropped, as in Krippendorff's definition. ``None`` when no item has two ratings or all
    pairable ratings carry one label (alpha is 0/0).
    """
    return _alpha(_compared(CodedRatings.of(ratings)))


def _summary_labels(labels: Sequence[str], observed: Iterable[str]) -> list[str]:
    """``labels`` in the given order, then any other observed labels, sorted."""
    known = list(dict.fromkeys(labels))
    return known + [lab for lab in sorted(set(observed)) if lab not in set(known)]


def _pair_confusion(coded: CodedRatings, pairs: _PairTables, labels: list[str]) -> list[list[int]]:
    """Both orientations of every pair of ratings by different raters on the same item, as a
    table over ``labels``."""
    one_way = pairs.tables.sum(axis=0)
    both_ways = one_way + one_way.T
    order = [coded.labels.index(label) if label in coded.labels else None for label in labels]
    return [[0 if i is None or j is None else int(both_ways[i, j]) for j in order] for i in order]


def agreement_summary(ratings: Iterable[Rating], labels: Sequence[str]) -> AgreementSummary:
    """All agreement figures at once (see :class:`AgreementSummary`).

    ``labels`` fixes the row/column order of ``confusion``; labels found in the data but not
    listed are appended in sorted order, so unknown labels never raise here.
    """
    return summary_of(CodedRatings.of(ratings), labels)


def summary_of(coded: CodedRatings, labels: Sequence[str]) -> AgreementSummary:
    """``agreement_summary`` of ratings already coded (see ``CodedRatings.where`` and
    ``relabelled`` for parts of them)."""
    compared = _compared(coded)
    pairs = _PairTables.of(coded)
    all_labels = _summary_labels(labels, coded.observed_labels)
    return AgreementSummary(
        labels=all_labels,
        n_items=coded.n_items,
        n_ratings=coded.n_ratings,
        n_raters=coded.n_raters,
        n_items_compared=len(compared),
        percent_agreement=_percent(compared),
        krippendorff_alpha=_alpha(compared),
        fleiss=_fleiss(compared),
        pairwise_kappa=_cohen_kappa_pairs(coded, pairs),
        confusion=_pair_confusion(coded, pairs, all_labels),
    )
