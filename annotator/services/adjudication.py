"""Adjudication: curators settle the final label of claims on which reviewers disagree.

A settled label is a ``FinalLabel`` row (label, who, when, version) and every change to it is
a ``Change`` of kind "final" (old -> new), so the claim's history shows it and reviewers' undo
never touches it. Like annotating, a settle based on a version the curator had not seen is
refused (``StaleFinal``, HTTP 409) instead of overwriting another curator's decision.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from annotator.db import begin_write
from annotator.models import (
    Annotation,
    Change,
    ChangeKind,
    Claim,
    FinalLabel,
    Label,
    Passage,
    Project,
    User,
    utcnow,
)
from annotator.services.agreement import passage_conditions, someone_chose
from annotator.services.projects import can_curate
from annotator.services.scope import EVERY_DOCUMENT, DocumentScope

PER_PAGE = 25


class AdjudicationError(ValueError):
    """A settle or bulk accept that cannot be done; nothing was changed."""


class NotCurator(AdjudicationError):
    """Only curators of the project (and admins) settle labels."""


class UnknownClaim(AdjudicationError):
    """The claim does not exist in this project."""


@dataclass(frozen=True)
class FinalState:
    """A claim's settled label as a curator sees it."""

    label: str
    settled_by: str | None
    updated_at: datetime
    version: int


class StaleFinal(AdjudicationError):
    """The settled label changed since the page was loaded; ``current`` is what is stored."""

    def __init__(self, current: FinalState | None) -> None:
        super().__init__(
            "Another curator settled this claim since the page was loaded. Nothing was saved; "
            "the current label is shown."
        )
        self.current = current


@dataclass(frozen=True)
class QueueFilter:
    """Narrow the queue: outlet name (or NO_OUTLET), passage role, a pair of labels that must
    both occur on the claim, a reviewer who labelled it, the documents of a citing site and
    period; settled claims only on request."""

    outlet: str | None = None
    role: str | None = None
    pair: tuple[str, str] | None = None
    reviewer: str | None = None
    include_settled: bool = False
    documents: DocumentScope = EVERY_DOCUMENT


@dataclass(frozen=True)
class Vote:
    reviewer: str
    label: str
    unsure: bool
    note: str


@dataclass(frozen=True)
class QueueItem:
    claim_id: int
    passage_id: int
    document_title: str
    role: str
    outlet: str | None
    text: str
    suggested_label: str
    votes: list[Vote]
    final: FinalState | None


@dataclass(frozen=True)
class QueuePage:
    items: list[QueueItem]
    total: int
    page: int
    pages: int
    unanimous_pending: int


def _label_counts(project: Project) -> Select[*tuple[Any, ...]]:
    """Claim id, number of labels and number of distinct labels, per labelled claim of the
    project."""
    return (
        select(
            Annotation.claim_id,
            func.count(Annotation.id).label("n"),
            func.count(func.distinct(Annotation.label)).label("distinct"),
            func.min(Annotation.label).label("label"),
        )
        .where(Annotation.project_id == project.id)
        .group_by(Annotation.claim_id)
    )


def _filter_conditions(project: Project, filters: QueueFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = passage_conditions(
        project, filters.outlet, filters.role
    )
    conditions += filters.documents.passages_kept(project)
    if filters.pair:
        conditions += [someone_chose(filters.pair[0]), someone_chose(filters.pair[1])]
    if filters.reviewer:
        mine = aliased(Annotation)
        reviewer_ids = select(User.id).where(User.username == filters.reviewer)
        conditions.append(exists().where(mine.claim_id == Claim.id, mine.user_id.in_(reviewer_ids)))
    if not filters.include_settled:
        conditions.append(~exists().where(FinalLabel.claim_id == Claim.id))
    return conditions


def _disputed_ids(counts: Any, project: Project, filters: QueueFilter) -> Select[*tuple[Any, ...]]:
    """The ids of the claims whose reviewers chose different labels, in document order;
    ``counts`` are the project's label counts (``_label_counts``)."""
    return (
        select(Claim.id)
        .join(counts, counts.c.claim_id == Claim.id)
        .join(Passage, Passage.id == Claim.passage_id)
        .where(counts.c.distinct > 1, *_filter_conditions(project, filters))
        .order_by(Passage.document_id, Passage.index, Claim.index)
    )


def disagreement_queue(
    session: Session, project: Project, filters: QueueFilter, page: int = 1
) -> QueuePage:
    """A page of claims whose reviewers chose different labels, in document order."""
    page = max(page, 1)
    found = _page_of(session, project, filters, page)
    pages = max((found.total + PER_PAGE - 1) // PER_PAGE, 1)
    if page > pages:  # a link to a page that no longer exists: the last one
        page = pages
        found = _page_of(session, project, filters, page)
    return QueuePage(_items(session, found.ids), found.total, page, pages, found.unanimous)


@dataclass(frozen=True)
class _Found:
    """A page of the queue as read: its claim ids, and the two counts the page shows."""

    ids: list[int]
    total: int
    unanimous: int


def _page_of(session: Session, project: Project, filters: QueueFilter, page: int) -> _Found:
    """The claim ids on ``page``, how many disputed claims there are on all pages and how
    many unanimous ones await settling, in one statement that groups the project's labels by
    claim once for all three (grouped again for the unanimous count, they took a third of
    the page's time at 120,000 labels; docs/benchmarks.md, round 16). Past the last page
    there are no rows to carry the counts, so they are counted alone."""
    counts = _label_counts(project).cte("label_counts")
    disputed = _disputed_ids(counts, project, filters)
    unanimous = (
        select(func.count())
        .select_from(_unanimous_query(counts, project, filters).order_by(None).subquery())
        .scalar_subquery()
    )
    rows = session.execute(
        disputed.add_columns(func.count().over(), unanimous)
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    if rows:
        return _Found([claim_id for claim_id, _, _ in rows], int(rows[0][1]), int(rows[0][2]))
    total = select(func.count()).select_from(disputed.subquery()).scalar_subquery()
    total_now, unanimous_now = session.execute(select(total, unanimous)).one()
    return _Found([], int(total_now or 0), int(unanimous_now or 0))


def _items(session: Session, claim_ids: list[int]) -> list[QueueItem]:
    # each claim's passage, document and outlet in the same statement
    passage = joinedload(Claim.passage, innerjoin=True)
    claims = session.scalars(
        select(Claim)
        .where(Claim.id.in_(claim_ids))
        .options(
            passage.joinedload(Passage.document, innerjoin=True),
            passage.joinedload(Passage.outlet),
        )
    ).all()
    by_id = {c.id: c for c in claims}
    votes = votes_of(session, claim_ids)
    finals = final_states(session, claim_ids)
    return [_item(by_id[i], votes.get(i, []), finals.get(i)) for i in claim_ids]


def _item(claim: Claim, votes: list[Vote], final: FinalState | None) -> QueueItem:
    passage = claim.passage
    return QueueItem(
        claim_id=claim.id,
        passage_id=passage.id,
        document_title=passage.document.title,
        role=passage.role,
        outlet=passage.outlet.name if passage.outlet else None,
        text=claim.text,
        suggested_label=claim.suggested_label,
        votes=votes,
        final=final,
    )


def votes_of(session: Session, claim_ids: list[int]) -> dict[int, list[Vote]]:
    """Every reviewer's label, unsure flag and note on these claims, by reviewer name."""
    rows = session.execute(
        select(
            Annotation.claim_id, User.username, Annotation.label, Annotation.unsure, Annotation.note
        )
        .join(User, User.id == Annotation.user_id)
        .where(Annotation.claim_id.in_(claim_ids))
        .order_by(User.username)
    )
    votes: dict[int, list[Vote]] = {}
    for claim_id, reviewer, label, unsure, note in rows:
        votes.setdefault(claim_id, []).append(Vote(reviewer, label, bool(unsure), note or ""))
    return votes


def final_labels(session: Session, claim_ids: list[int]) -> dict[int, FinalLabel]:
    """The settled labels of these claims (with who settled them), by claim id."""
    rows = session.scalars(
        select(FinalLabel)
        .where(FinalLabel.claim_id.in_(claim_ids))
        .options(selectinload(FinalLabel.user))
    )
    return {f.claim_id: f for f in rows}


def final_states(session: Session, claim_ids: list[int]) -> dict[int, FinalState]:
    return {c: _state(f) for c, f in final_labels(session, claim_ids).items()}


def _state(final: FinalLabel) -> FinalState:
    settled_by = final.user.username if final.user else None
    return FinalState(final.label, settled_by, final.updated_at, final.version)


def passage_final_labels(session: Session, passage_id: int) -> dict[int, FinalLabel]:
    """The settled labels of one passage's claims, by claim id."""
    rows = session.scalars(
        select(FinalLabel)
        .join(Claim, Claim.id == FinalLabel.claim_id)
        .where(Claim.passage_id == passage_id)
        .options(selectinload(FinalLabel.user))
    )
    return {f.claim_id: f for f in rows}


def _require_curator(session: Session, user: User, project: Project) -> None:
    if not can_curate(session, user, project):
        raise NotCurator("Only curators of this project settle labels.")


def _claim_in_project(session: Session, project: Project, claim_id: int) -> Claim:
    claim = session.scalar(
        select(Claim)
        .join(Passage, Passage.id == Claim.passage_id)
        .where(Claim.id == claim_id, Passage.project_id == project.id)
    )
    if claim is None:
        raise UnknownClaim(f"Claim {claim_id} is not part of {project.name}.")
    return claim


def settle(
    session: Session, curator: User, project: Project, claim_id: int, label: str, version: int
) -> FinalLabel:
    """Set the claim's final label. ``version`` is the one the curator saw (0: none yet)."""
    if label not in set(Label):
        raise AdjudicationError(f"Unknown label {label!r}; use reported, quoted or editorial.")
    _require_curator(session, curator, project)
    begin_write(session)
    try:
        claim = _claim_in_project(session, project, claim_id)
        final = session.scalar(
            select(FinalLabel).where(FinalLabel.claim_id == claim_id).with_for_update()
        )
        if version != (final.version if final else 0):
            raise StaleFinal(_state(final) if final else None)
        final = _apply(session, curator, project, claim, final, label)
    except Exception:
        session.rollback()
        raise
    _commit_or_stale(session, claim_id)
    return final


def _apply(
    session: Session,
    curator: User,
    project: Project,
    claim: Claim,
    final: FinalLabel | None,
    label: str,
) -> FinalLabel:
    old = final.label if final else None
    if final is None:
        final = FinalLabel(
            claim_id=claim.id, project_id=project.id, user_id=curator.id,
            label=label, version=1, updated_at=utcnow(),
        )  # fmt: skip
        session.add(final)
    elif old != label:
        final.label, final.user_id = label, curator.id
        final.version += 1
        final.updated_at = utcnow()
    if old != label:
        session.add(_change(curator, claim.passage_id, claim.id, old, label, uuid.uuid4().hex))
    return final


def _change(
    user: User, passage_id: int, claim_id: int, old: str | None, new: str, batch: str
) -> Change:
    return Change(
        user_id=user.id,
        passage_id=passage_id,
        claim_id=claim_id,
        batch=batch,
        kind=ChangeKind.FINAL,
        old_value=old,
        new_value=new,
    )


def _commit_or_stale(session: Session, claim_id: int) -> None:
    try:
        session.commit()
    except IntegrityError as exc:  # another curator's first settle of this claim won the race
        session.rollback()
        current = final_states(session, [claim_id]).get(claim_id)
        raise StaleFinal(current) from exc


def _unanimous_query(
    counts: Any, project: Project, filters: QueueFilter
) -> Select[*tuple[Any, ...]]:
    """(claim id, passage id, label) of unsettled claims with >= 2 labels, all equal, within
    the outlet, role, reviewer and document filters (a label pair cannot apply); ``counts``
    are the project's label counts (``_label_counts``)."""
    unsettled = replace(filters, pair=None, include_settled=False)
    return (
        select(Claim.id, Claim.passage_id, counts.c.label)
        .join(counts, counts.c.claim_id == Claim.id)
        .join(Passage, Passage.id == Claim.passage_id)
        .where(counts.c.n >= 2, counts.c.distinct == 1, *_filter_conditions(project, unsettled))
        .order_by(Claim.id)
    )


def accept_unanimous(
    session: Session, curator: User, project: Project, filters: QueueFilter | None = None
) -> int:
    """Settle every unsettled claim whose >= 2 reviewers all chose the same label, in one
    transaction; returns how many. The label-pair filter does not apply (no disagreement)."""
    _require_curator(session, curator, project)
    begin_write(session)
    try:
        counts = _label_counts(project).subquery()
        unanimous = _unanimous_query(counts, project, filters or QueueFilter())
        rows = session.execute(unanimous).all()
        batch, now = uuid.uuid4().hex, utcnow()
        for claim_id, passage_id, label in rows:
            session.add(
                FinalLabel(
                    claim_id=claim_id,
                    project_id=project.id,
                    user_id=curator.id,
                    label=label,
                    version=1,
                    updated_at=now,
                )
            )
            session.add(_change(curator, passage_id, claim_id, None, label, batch))
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise AdjudicationError(
            "Another curator settled some of these claims meanwhile; nothing was accepted. "
            "Try again."
        ) from exc
    except Exception:
        session.rollback()
        raise
    return len(rows)
