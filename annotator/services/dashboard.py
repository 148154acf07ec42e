"""The project dashboard: aggregate queries over the work done (reviews, labels) and over the
page of documents it shows, and the project's structure kept per worker (``structure``), so
its cost does not grow with the number of passages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from annotator.db import driver_rows
from annotator.models import (
    Annotation,
    Document,
    Outlet,
    Passage,
    Project,
    Review,
    ReviewStatus,
    User,
)
from annotator.services import structure

DOCUMENTS_PER_PAGE = 50


@dataclass(frozen=True)
class Totals:
    passages: int
    reviews_done: int
    reviews_needed: int
    complete_passages: int

    @property
    def share(self) -> float:
        return self.reviews_done / self.reviews_needed if self.reviews_needed else 1.0

    @property
    def project_complete(self) -> bool:
        return self.passages > 0 and self.complete_passages == self.passages


@dataclass(frozen=True)
class ReviewerRow:
    username: str
    completed: int
    skipped: int
    tags: int
    first: datetime | None
    last: datetime | None

    @property
    def tags_per_hour(self) -> float | None:
        if not self.tags or self.first is None or self.last is None:
            return None
        hours = max((self.last - self.first).total_seconds() / 3600, 1 / 60)
        return self.tags / hours


@dataclass(frozen=True)
class GroupRow:
    name: str
    passages: int
    reviews_done: int
    reviews_needed: int
    complete_passages: int = 0


def _capped_done(project: Project) -> object:
    return func.coalesce(
        func.sum(
            case(
                (Passage.completed_count > project.overlap, project.overlap),
                else_=Passage.completed_count,
            )
        ),
        0,
    )


def totals_of(outlet_rows: list[GroupRow], project: Project) -> Totals:
    """The project's figures from its rows per outlet (``outlets``), which cover every
    passage with claims once."""
    passages = sum(row.passages for row in outlet_rows)
    return Totals(
        passages,
        sum(row.reviews_done for row in outlet_rows),
        passages * project.overlap,
        sum(row.complete_passages for row in outlet_rows),
    )


def reviewers(session: Session, project: Project) -> list[ReviewerRow]:
    reviews = (
        select(
            Review.user_id,
            func.sum(case((Review.status == ReviewStatus.COMPLETED, 1), else_=0)).label("done"),
            func.sum(case((Review.status == ReviewStatus.SKIPPED, 1), else_=0)).label("skipped"),
        )
        .where(Review.project_id == project.id)
        .group_by(Review.user_id)
        .subquery()
    )
    tags = (
        select(
            Annotation.user_id,
            func.count(Annotation.id).label("tags"),
            func.min(Annotation.created_at).label("first"),
            func.max(Annotation.updated_at).label("last"),
        )
        .where(Annotation.project_id == project.id)
        .group_by(Annotation.user_id)
        .subquery()
    )
    rows = session.execute(
        select(
            User.username, reviews.c.done, reviews.c.skipped, tags.c.tags, tags.c.first, tags.c.last
        )
        .join(reviews, reviews.c.user_id == User.id)
        .outerjoin(tags, tags.c.user_id == User.id)
        .order_by(User.username)
    ).all()
    return [
        ReviewerRow(r[0], int(r[1] or 0), int(r[2] or 0), int(r[3] or 0), r[4], r[5]) for r in rows
    ]


AUTHOR_OWN_WORDS = "(author's own words)"


def outlets(session: Session, project: Project) -> list[GroupRow]:
    """Progress per cited outlet over the passages with claims, most passages first: the
    passages from the project's structure (kept per worker), the reviews done from the
    completed reviews, so that the work done is read, not every passage."""
    kept = structure.structure_of(session, project)
    done = _done_by_outlet(session, project, kept.passage_outlets(session))
    groups = []
    for outlet in kept.outlets:
        if not outlet.passages_with_claims:
            continue
        reviews_done, complete = done.get(outlet.outlet_id, (0, 0))
        passages = outlet.passages_with_claims
        name = outlet.name or AUTHOR_OWN_WORDS
        groups.append(GroupRow(name, passages, reviews_done, passages * project.overlap, complete))
    return sorted(groups, key=lambda row: -row.passages)


def _done_by_outlet(
    session: Session, project: Project, passages: structure.PassageOutlets
) -> dict[int | None, tuple[int, int]]:
    """Per cited outlet: the completed reviews of its passages with claims, counting at most
    ``overlap`` per passage, and how many of those passages have all their reviews. The
    database counts the completed reviews per passage; the worker's map of the passages'
    outlets sorts them (joined to the passages, PostgreSQL scanned them all: 36-42 ms at
    29,000 passages, 78-85 ms at 290,000; docs/benchmarks.md, round 17)."""
    import numpy as np

    rows = driver_rows(
        session,
        select(Review.passage_id, func.count())
        .where(Review.project_id == project.id, Review.status == ReviewStatus.COMPLETED)
        .group_by(Review.passage_id),
    )
    if not rows:
        return {}
    per_passage = np.array(rows, dtype=np.int64)
    positions = passages.positions_of(per_passage[:, 0])
    cited = positions >= 0
    outlet, reviews = positions[cited], per_passage[cited, 1]
    size = len(passages.outlet_ids)
    done = np.bincount(outlet, weights=np.minimum(reviews, project.overlap), minlength=size)
    complete = np.bincount(outlet, weights=reviews >= project.overlap, minlength=size)
    return {
        outlet_id: (int(done[i]), int(complete[i]))
        for i, outlet_id in enumerate(passages.outlet_ids)
        if done[i]
    }


@dataclass(frozen=True)
class DocumentRow:
    id: int
    title: str
    passages: int
    reviews_done: int
    reviews_needed: int


def _documents_matching(project: Project, search: str) -> ColumnElement[bool]:
    """The project's documents, those whose title or id contains ``search`` (any case)
    when it is given."""
    in_project = Document.project_id == project.id
    if not search:
        return in_project
    wanted = search.lower()
    return and_(
        in_project,
        or_(
            func.lower(Document.title).contains(wanted, autoescape=True),
            func.lower(Document.external_id).contains(wanted, autoescape=True),
        ),
    )


def documents(session: Session, project: Project, page: int, search: str = "") -> list[DocumentRow]:
    """Progress of one page of the project's documents (or of those ``search`` finds), in
    import order. The page's documents are picked first, so only their passages are read."""
    on_page = (
        select(Document.id)
        .where(_documents_matching(project, search))
        .order_by(Document.id)
        .limit(DOCUMENTS_PER_PAGE)
        .offset(max(page - 1, 0) * DOCUMENTS_PER_PAGE)
    )
    rows = session.execute(
        select(Document.id, Document.title, func.count(Passage.id), _capped_done(project))
        .outerjoin(Passage, and_(Passage.document_id == Document.id, Passage.claim_count > 0))
        .where(Document.id.in_(on_page))
        .group_by(Document.id, Document.title)
        .order_by(Document.id)
    ).all()
    return [
        DocumentRow(r[0], r[1], int(r[2]), int(r[3]), int(r[2]) * project.overlap) for r in rows
    ]


@dataclass(frozen=True)
class PassageHit:
    """A passage whose text holds the words searched for."""

    id: int
    document_id: int
    document_title: str
    index: int
    text: str
    role: str
    outlet: str | None
    claims: int


PASSAGES_PER_PAGE = 50


def find_passages(
    session: Session, project: Project, words: str, page: int
) -> tuple[list[PassageHit], int]:
    """One page of the project's passages whose text contains ``words`` (any case), in
    document order, and how many there are. It reads every passage's text: a search, not a
    page every request makes (0.16-0.36 s at 290,000 passages; README, "Find passages")."""
    matching = and_(
        Passage.project_id == project.id,
        func.lower(Passage.text).contains(words.lower(), autoescape=True),
    )
    total = session.scalar(select(func.count(Passage.id)).where(matching)) or 0
    rows = session.execute(
        select(
            Passage.id,
            Passage.document_id,
            Document.title,
            Passage.index,
            Passage.text,
            Passage.role,
            Outlet.name,
            Passage.claim_count,
        )
        .join(Document, Document.id == Passage.document_id)
        .outerjoin(Outlet, Outlet.id == Passage.outlet_id)
        .where(matching)
        .order_by(Passage.document_id, Passage.index)
        .limit(PASSAGES_PER_PAGE)
        .offset(max(page - 1, 0) * PASSAGES_PER_PAGE)
    ).all()
    return [PassageHit(*row) for row in rows], total


def document_count(session: Session, project: Project, search: str = "") -> int:
    count = select(func.count(Document.id)).where(_documents_matching(project, search))
    return session.scalar(count) or 0


@dataclass(frozen=True)
class PassageRow:
    """One passage of a document as its overview shows it."""

    id: int
    index: int
    text: str
    role: str
    outlet: str | None
    cue_start: int | None
    cue_end: int | None
    claims: int
    reviews_done: int
    own_review: str | None  # the viewer's review: completed, skipped, or none


def document_of(session: Session, project: Project, document_id: int) -> Document | None:
    """The document if it belongs to the project."""
    document = session.get(Document, document_id)
    return document if document is not None and document.project_id == project.id else None


def document_passages(
    session: Session, project: Project, document: Document, user_id: int
) -> list[PassageRow]:
    """Every passage of the document in reading order, with its cited outlet, its reviews
    done (at most the project's overlap) and the viewer's own review of it."""
    own = (
        select(Review.passage_id, Review.status)
        .where(
            Review.document_id == document.id,
            Review.user_id == user_id,
            Review.status.in_((ReviewStatus.COMPLETED, ReviewStatus.SKIPPED)),
        )
        .subquery()
    )
    rows = session.execute(
        select(
            Passage.id,
            Passage.index,
            Passage.text,
            Passage.role,
            Outlet.name,
            Passage.cue_start,
            Passage.cue_end,
            Passage.claim_count,
            Passage.completed_count,
            own.c.status,
        )
        .outerjoin(Outlet, Outlet.id == Passage.outlet_id)
        .outerjoin(own, own.c.passage_id == Passage.id)
        .where(Passage.document_id == document.id)
        .order_by(Passage.index)
    ).all()
    return [
        PassageRow(
            passage_id, index, text, role, outlet, cue_start, cue_end, claims,
            min(completed, project.overlap), own_review,
        )
        for (
            passage_id, index, text, role, outlet, cue_start, cue_end, claims, completed,
            own_review,
        ) in rows
    ]  # fmt: skip
