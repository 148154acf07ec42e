"""The project dashboard: aggregate queries only, so its cost does not grow with Python loops
over passages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from annotator.models import (
    Annotation,
    Claim,
    Document,
    Outlet,
    Passage,
    Project,
    Review,
    ReviewStatus,
    User,
)

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


def totals(session: Session, project: Project) -> Totals:
    row = session.execute(
        select(
            func.count(Passage.id),
            _capped_done(project),
            func.coalesce(
                func.sum(case((Passage.completed_count >= project.overlap, 1), else_=0)), 0
            ),
        ).where(Passage.project_id == project.id, Passage.claim_count > 0)
    ).one()
    passages, done, complete = int(row[0]), int(row[1]), int(row[2])
    return Totals(passages, done, passages * project.overlap, complete)


def reviewers(session: Session, project: Project) -> list[ReviewerRow]:
    reviews = (
        select(
            Review.user_id,
            func.sum(case((Review.status == ReviewStatus.COMPLETED, 1), else_=0)).label("done"),
            func.sum(case((Review.status == ReviewStatus.SKIPPED, 1), else_=0)).label("skipped"),
        )
        .join(Passage, Passage.id == Review.passage_id)
        .where(Passage.project_id == project.id)
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
        .join(Claim, Claim.id == Annotation.claim_id)
        .join(Passage, Passage.id == Claim.passage_id)
        .where(Passage.project_id == project.id)
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


def outlets(session: Session, project: Project) -> list[GroupRow]:
    rows = session.execute(
        select(
            func.coalesce(Outlet.name, "(author's own words)"),
            func.count(Passage.id),
            _capped_done(project),
        )
        .select_from(Passage)
        .outerjoin(Outlet, Outlet.id == Passage.outlet_id)
        .where(Passage.project_id == project.id, Passage.claim_count > 0)
        .group_by(Outlet.name)
        .order_by(func.count(Passage.id).desc())
    ).all()
    return [GroupRow(r[0], int(r[1]), int(r[2]), int(r[1]) * project.overlap) for r in rows]


def documents(session: Session, project: Project, page: int) -> list[GroupRow]:
    rows = session.execute(
        select(Document.title, func.count(Passage.id), _capped_done(project))
        .join(Passage, Passage.document_id == Document.id)
        .where(Document.project_id == project.id, Passage.claim_count > 0)
        .group_by(Document.id, Document.title)
        .order_by(Document.id)
        .limit(DOCUMENTS_PER_PAGE)
        .offset(max(page - 1, 0) * DOCUMENTS_PER_PAGE)
    ).all()
    return [GroupRow(r[0], int(r[1]), int(r[2]), int(r[1]) * project.overlap) for r in rows]


def document_count(session: Session, project: Project) -> int:
    return (
        session.scalar(select(func.count(Document.id)).where(Document.project_id == project.id))
        or 0
    )
