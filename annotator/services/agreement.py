"""Agreement figures for a project: reviewers' labels from the database, fed to annotator.stats.

Rater ids are usernames (unique), so every figure reads without a lookup table. Passages are
grouped by their detected outlet (``Passage.outlet_id``), not by reviewers' outlet corrections.

Per-label figures are **one-vs-rest**: for label L every rating is recoded as L or "(other)"
and the usual figures are computed on the recoded data, so kappa/alpha for L say how well
reviewers agree on "is this L or not" (Fleiss' category-specific kappa generalised). The
``label`` *filter* is different: it keeps the claims on which at least one reviewer chose L,
with all their ratings, which is the set a curator looks at when auditing that label.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import cached_property
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.orm import Session, aliased

from annotator.db import driver_rows
from annotator.models import Annotation, Claim, FinalLabel, Label, Outlet, Passage, Project, User
from annotator.services.scope import EVERY_DOCUMENT, DocumentScope
from annotator.stats import (
    AgreementSummary,
    CodedRatings,
    cohen_kappa_pairs,
    confusion_matrix,
    summary_of,
    wilson_interval,
)

if TYPE_CHECKING:
    import numpy as np

LABELS: list[str] = [label.value for label in Label]
NO_OUTLET = "(no outlet)"
OTHER = "(other)"
SETTLED = "(settled)"


class UnknownProject(LookupError):
    """No project by that name."""


@dataclass(frozen=True)
class RatingFilter:
    """Which claims count. ``outlet`` is an outlet name or NO_OUTLET; ``role`` a passage role;
    ``label`` keeps claims where at least one reviewer chose that label. None = no filter.
    ``documents``: the claims of one citing site's documents, published in a period."""

    outlet: str | None = None
    role: str | None = None
    label: str | None = None
    documents: DocumentScope = EVERY_DOCUMENT

    def as_dict(self) -> dict[str, str | None]:
        """The filters as the JSON report states them (dates as ISO 8601)."""
        documents = self.documents

        def day(value: date | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "outlet": self.outlet,
            "role": self.role,
            "label": self.label,
            "site": documents.site,
            "published_from": day(documents.published_from),
            "published_to": day(documents.published_to),
        }

    def on_passages(self, project: Project) -> list[ColumnElement[bool]]:
        """WHERE clauses on ``Passage`` for the outlet, role and documents."""
        return [*passage_filters(self.outlet, self.role), *self.documents.passages_kept(project)]


@dataclass(frozen=True)
class Ratings:
    """Reviewers' labels as columns: the i-th label is ``labels[i]``, given by
    ``reviewers[i]`` to claim ``claim_ids[i]``, whose passage cites ``outlets[i]`` in the role
    ``roles[i]`` and which is settled as ``finals[i]`` (None if not). Columns, not an object
    per label: a finished study loads hundreds of thousands of labels."""

    claim_ids: Sequence[int]
    reviewers: Sequence[str]
    labels: Sequence[str]
    outlets: Sequence[str]
    roles: Sequence[str]
    finals: Sequence[str | None]

    @classmethod
    def of_rows(cls, rows: Iterable[Sequence[Any]]) -> Ratings:
        """Ratings of rows (claim id, reviewer, label, outlet, role, settled label)."""
        rows = list(rows)
        return cls(*(list(map(itemgetter(column), rows)) for column in range(6)))

    def __len__(self) -> int:
        return len(self.claim_ids)

    @cached_property
    def coded(self) -> CodedRatings:
        """The labels as codes, made once for all the figures of a page."""
        return CodedRatings.from_columns(self.claim_ids, self.reviewers, self.labels)


@dataclass(frozen=True)
class GroupFigures:
    """Agreement figures for one slice of the claims (an outlet, a role, a label)."""

    name: str
    summary: AgreementSummary


@dataclass(frozen=True)
class AgreementReport:
    """Everything the agreement page, its JSON and ``annotator stats`` show."""

    project: str
    filters: dict[str, str | None]
    overall: AgreementSummary
    by_outlet: list[GroupFigures]
    by_role: list[GroupFigures]
    by_label: list[GroupFigures]


@dataclass(frozen=True)
class LabelScore:
    """How well the row labels predict the column labels for one label."""

    label: str
    precision: float | None
    recall: float | None
    support: int


@dataclass(frozen=True)
class Confusion:
    """Counts of (row label, column label) on the claims both sides labelled."""

    rows: str
    columns: str
    labels: list[str]
    matrix: list[list[int]]
    n: int
    scores: list[LabelScore] = field(default_factory=list)

    @property
    def accuracy(self) -> float | None:
        """Share of claims on the diagonal; None without claims."""
        return sum(self.matrix[i][i] for i in range(len(self.labels))) / self.n if self.n else None


@dataclass(frozen=True)
class ReviewerAccuracy:
    """A reviewer against the settled labels: share of agreement (Wilson 95%) and kappa."""

    reviewer: str
    n: int
    agreed: int
    accuracy: float | None
    ci_low: float
    ci_high: float
    kappa: float | None


def passage_conditions(project: Project, outlet: str | None, role: str | None) -> list[Any]:
    """WHERE clauses on ``Passage`` for a project and optional outlet (name) and role."""
    return [Passage.project_id == project.id, *passage_filters(outlet, role)]


def passage_filters(outlet: str | None, role: str | None) -> list[Any]:
    """WHERE clauses on ``Passage`` for an optional outlet (name) and role."""
    conditions: list[ColumnElement[bool]] = []
    if outlet == NO_OUTLET:
        conditions.append(Passage.outlet_id.is_(None))
    elif outlet:
        conditions.append(Passage.outlet_id.in_(select(Outlet.id).where(Outlet.name == outlet)))
    if role:
        conditions.append(Passage.role == role)
    return conditions


def someone_chose(label: str) -> ColumnElement[bool]:
    """True for claims on which at least one reviewer chose ``label``."""
    other = aliased(Annotation)
    return exists().where(other.claim_id == Claim.id, other.label == label)


def _ratings_query(project: Project, filters: RatingFilter) -> Select[*tuple[Any, ...]]:
    query = (
        select(
            Annotation.claim_id,
            User.username,
            Annotation.label,
            func.coalesce(Outlet.name, NO_OUTLET),
            Passage.role,
            FinalLabel.label,
        )
        .join(Claim, Claim.id == Annotation.claim_id)
        .join(Passage, Passage.id == Claim.passage_id)
        .join(User, User.id == Annotation.user_id)
        .outerjoin(Outlet, Outlet.id == Passage.outlet_id)
        .outerjoin(FinalLabel, FinalLabel.claim_id == Claim.id)
        .where(Annotation.project_id == project.id, *filters.on_passages(project))
        .order_by(Annotation.claim_id, User.username)
    )
    if filters.label:
        query = query.where(someone_chose(filters.label))
    return query


def load_ratings(
    session: Session, project: Project, filters: RatingFilter | None = None
) -> Ratings:
    """Every reviewer label of the project's claims that pass ``filters``, in one query whose
    rows are the driver's own (the ORM's handling of each row took as long as the rest of the
    agreement page, and SQLAlchemy's row objects a third of it)."""
    return Ratings.of_rows(driver_rows(session, _ratings_query(project, filters or RatingFilter())))


def summarise(ratings: Ratings) -> AgreementSummary:
    """All agreement figures for these ratings (labels in the usual order)."""
    return summary_of(ratings.coded, LABELS)


def _groups(ratings: Ratings, values: Sequence[str]) -> list[GroupFigures]:
    """Figures per distinct value of a column (``values``), sorted by name. The ratings are
    coded once; each group is a part of them."""
    import numpy as np

    coded = ratings.coded
    names = sorted(set(values))
    code_of = {name: code for code, name in enumerate(names)}
    group = np.fromiter(map(code_of.__getitem__, values), np.int64, len(values))[coded.source]
    return [GroupFigures(n, summary_of(coded.where(group == code_of[n]), LABELS)) for n in names]


def one_vs_rest(ratings: Ratings, label: str) -> AgreementSummary:
    """Figures after recoding every label as ``label`` or OTHER."""
    return _one_vs_rest(ratings.coded, label)


def _one_vs_rest(coded: CodedRatings, label: str) -> AgreementSummary:
    binary = {name: label if name == label else OTHER for name in coded.labels}
    return summary_of(coded.relabelled(binary), [label, OTHER])


def build_report(project_name: str, ratings: Ratings, filters: RatingFilter) -> AgreementReport:
    """The whole report from loaded ratings (pure: no database). The ratings are coded once
    for all the figures."""
    coded = ratings.coded
    observed = set(coded.observed_labels)
    labels = LABELS + sorted(observed - set(LABELS))
    return AgreementReport(
        project=project_name,
        filters=filters.as_dict(),
        overall=summary_of(coded, LABELS),
        by_outlet=_groups(ratings, ratings.outlets),
        by_role=_groups(ratings, ratings.roles),
        by_label=[GroupFigures(lab, _one_vs_rest(coded, lab)) for lab in labels if lab in observed],
    )


def agreement_report(
    session: Session, project: Project, filters: RatingFilter | None = None
) -> AgreementReport:
    """Load and compute the project's agreement report."""
    filters = filters or RatingFilter()
    return build_report(project.name, load_ratings(session, project, filters), filters)


def project_named(session: Session, name: str) -> Project:
    """The project called ``name``; UnknownProject otherwise."""
    project = session.scalar(select(Project).where(Project.name == name))
    if project is None:
        raise UnknownProject(f"No project named {name!r}.")
    return project


def report_dict(report: AgreementReport) -> dict[str, Any]:
    """JSON-ready form of the report (the page's JSON and ``annotator stats --format json``)."""
    return asdict(report)


def reviewers_of(ratings: Ratings) -> list[str]:
    """Reviewers who gave any of the labels, by name."""
    return sorted(set(ratings.reviewers))


def _matrix_labels(pairs: Sequence[tuple[str, str]]) -> list[str]:
    seen = {label for pair in pairs for label in pair}
    return LABELS + sorted(seen - set(LABELS))


def confusion_of(pairs: Sequence[tuple[str, str]], rows: str, columns: str) -> Confusion:
    """Confusion of label pairs (row label, column label), with per-label precision/recall."""
    labels = _matrix_labels(pairs)
    matrix = confusion_matrix(pairs, labels)
    return Confusion(rows, columns, labels, matrix, len(pairs), _scores(labels, matrix))


def _scores(labels: list[str], matrix: list[list[int]]) -> list[LabelScore]:
    """Precision = hits / row total (how often the row side was right when it said L);
    recall = hits / column total (how much of L it found). None on empty totals."""
    scores = []
    for i, label in enumerate(labels):
        predicted, actual = sum(matrix[i]), sum(row[i] for row in matrix)
        hits = matrix[i][i]
        scores.append(
            LabelScore(
                label,
                hits / predicted if predicted else None,
                hits / actual if actual else None,
                actual,
            )
        )
    return scores


def reviewer_confusion(ratings: Ratings, first: str, second: str) -> Confusion:
    """Labels of ``first`` (rows) against ``second`` (columns) on the claims both labelled."""
    coded = ratings.coded
    firsts, seconds = (_label_per_item(coded, reviewer) for reviewer in (first, second))
    both = (firsts >= 0) & (seconds >= 0)
    codes = zip(firsts[both].tolist(), seconds[both].tolist(), strict=True)
    pairs = [(coded.labels[a], coded.labels[b]) for a, b in codes]
    return confusion_of(pairs, first, second)


def _label_per_item(coded: CodedRatings, rater: str) -> np.ndarray:
    """Each item's label code from ``rater``; -1 where the rater gave none."""
    import numpy as np

    labels = np.full(coded.n_items, -1)
    if rater in coded.raters:
        mine = coded.rater == coded.raters.index(rater)
        labels[coded.item[mine]] = coded.label[mine]
    return labels


def suggester_confusion(
    session: Session, project: Project, filters: RatingFilter | None = None
) -> Confusion:
    """The tool's suggested label (rows) against the settled label (columns)."""
    filters = filters or RatingFilter()
    query = (
        select(Claim.suggested_label, FinalLabel.label)
        .select_from(FinalLabel)
        .join(Claim, Claim.id == FinalLabel.claim_id)
        .join(Passage, Passage.id == Claim.passage_id)
        .where(FinalLabel.project_id == project.id, *filters.on_passages(project))
    )
    if filters.label:
        query = query.where(someone_chose(filters.label))
    pairs = [(suggested, settled) for suggested, settled in session.execute(query)]
    return confusion_of(pairs, "suggested", "settled")


def reviewer_accuracy(ratings: Ratings) -> list[ReviewerAccuracy]:
    """Each reviewer against the settled labels of the claims they labelled (curators only)."""
    settled: dict[str, list[tuple[int, str, str]]] = {}
    columns = (ratings.claim_ids, ratings.reviewers, ratings.labels, ratings.finals)
    for claim_id, reviewer, label, final in zip(*columns, strict=True):
        if final is not None:
            settled.setdefault(reviewer, []).append((claim_id, label, final))
    return [_accuracy(name, settled.get(name, [])) for name in reviewers_of(ratings)]


def _accuracy(reviewer: str, labels: list[tuple[int, str, str]]) -> ReviewerAccuracy:
    """``reviewer`` against the settled labels, from (claim id, label, settled label)."""
    agreed = sum(label == final for _, label, final in labels)
    low, high = wilson_interval(agreed, len(labels))
    ratings = [(claim_id, reviewer, label) for claim_id, label, _ in labels]
    ratings += [(claim_id, SETTLED, final) for claim_id, _, final in labels]
    pairs = cohen_kappa_pairs(ratings)
    kappa = pairs[0].kappa if pairs else None
    accuracy = agreed / len(labels) if labels else None
    return ReviewerAccuracy(reviewer, len(labels), agreed, accuracy, low, high, kappa)


def mean_kappa(summary: AgreementSummary, reviewer: str) -> float | None:
    """Mean Cohen's kappa over the reviewer's pairs whose kappa is defined (None if none)."""
    values = [
        p.kappa
        for p in summary.pairwise_kappa
        if reviewer in (p.rater_a, p.rater_b) and p.kappa is not None
    ]
    return sum(values) / len(values) if values else None


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _table_line(name: str, s: AgreementSummary) -> str:
    return (
        f"{name[:28]:<28} {s.n_items:>6} {s.n_items_compared:>8} {_fmt(s.percent_agreement):>7} "
        f"{_fmt(s.fleiss.kappa):>7} {_fmt(s.krippendorff_alpha):>7}"
    )


def format_table(report: AgreementReport) -> str:
    """Plain-text tables of the report, for the terminal."""
    header = f"{'':<28} {'claims':>6} {'compared':>8} {'agree':>7} {'fleiss':>7} {'alpha':>7}"
    lines = [f"Agreement for project {report.project}", header]
    lines.append(_table_line("all claims", report.overall))
    sections = [
        ("outlet", report.by_outlet),
        ("role", report.by_role),
        ("label (one-vs-rest)", report.by_label),
    ]
    for title, groups in sections:
        lines += ["", f"By {title}", header]
        lines += [_table_line(g.name, g.summary) for g in groups]
    lines += ["", "Cohen's kappa per reviewer pair"]
    lines += [
        f"{p.rater_a} / {p.rater_b}: {_fmt(p.kappa)} on {p.n_items} claims"
        for p in report.overall.pairwise_kappa
    ] or ["(no pair of reviewers shares a claim)"]
    return "\n".join(lines)


def outlet_names(session: Session, project: Project) -> list[str]:
    """The outlets the project's passages cite, by name, then NO_OUTLET if some cite none.
    Asked outlet by outlet of the registry (``ix_passages_outlet_id_project_id``), not by
    reading every passage of the project."""
    cited = exists().where(Passage.outlet_id == Outlet.id, Passage.project_id == project.id)
    names = list(session.scalars(select(Outlet.name).where(cited).order_by(Outlet.name)))
    authors_only = exists().where(Passage.outlet_id.is_(None), Passage.project_id == project.id)
    return sorted(names) + ([NO_OUTLET] if session.scalar(select(authors_only)) else [])
