"""Progress figures: a reviewer's own, and the project dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ScalarSelect, bindparam, func, select
from sqlalchemy.orm import Session

from annotator.db import VersionedCache, table_of
from annotator.models import Passage, Project, Review, ReviewStatus, User


@dataclass(frozen=True)
class ReviewerProgress:
    completed: int
    total: int

    @property
    def text(self) -> str:
        return f"{self.completed} of {self.total}"

    @property
    def mine_complete(self) -> bool:
        return self.total > 0 and self.completed >= self.total


_REVIEWS, _PASSAGES = table_of(Review), table_of(Passage)


def completed_by_user(project_id: Any) -> ScalarSelect[int]:
    """Passages of the project (``project_id``: a column or parameter) that the user
    (parameter ``user_id``) completed."""
    return (
        select(func.count())
        .where(
            _REVIEWS.c.user_id == bindparam("user_id"),
            _REVIEWS.c.status == ReviewStatus.COMPLETED,
            _REVIEWS.c.project_id == project_id,
        )
        .scalar_subquery()
    )


def newest_passage_id(project_id: Any) -> ScalarSelect[int | None]:
    """The largest passage id of the project: keys the cached total (``passages_to_review``)."""
    return (
        select(func.max(_PASSAGES.c.id))
        .where(_PASSAGES.c.project_id == project_id)
        .scalar_subquery()
    )


# Built once: the project list and JSON saves ask (the passage page's query brings the same).
_COMPLETED_AND_NEWEST = select(
    completed_by_user(bindparam("project_id")), newest_passage_id(bindparam("project_id"))
)


def reviewer_progress(session: Session, user: User, project: Project) -> ReviewerProgress:
    """Passages of the project the user completed, out of all its passages with claims."""
    params = {"user_id": user.id, "project_id": project.id}
    completed, newest = session.execute(_COMPLETED_AND_NEWEST, params).one()
    return progress_from(session, project, completed, newest)


def progress_from(
    session: Session, project: Project, completed: int | None, newest: int | None
) -> ReviewerProgress:
    """The progress from figures a query already brought (``completed_by_user``,
    ``newest_passage_id``)."""
    return ReviewerProgress(completed or 0, passages_to_review(session, project, newest or 0))


# Counting a project's passages reads every one of them (5 ms at 29,000 passages, growing
# with the project), and the page and every save need the figure. Keyed by the project's
# newest passage id: any import or re-import adds passages with new ids (never an id given
# before, on either database). Entries also expire, for a document deleted by another process
# (the newest passage may stay; the deleting process forgets at once).
_TOTALS: VersionedCache[int, int] = VersionedCache(ttl_s=60.0)


def forget_totals() -> None:
    """Drop this process's totals (a document was deleted: the newest passage may not change)."""
    _TOTALS.clear()


def passages_to_review(session: Session, project: Project, newest: int) -> int:
    """Passages with claims in the project, cached per process under its ``newest`` passage
    id (``newest_passage_id``)."""
    return _TOTALS.get(
        session, project.id, newest, lambda: _count_passages_to_review(session, project)
    )


def _count_passages_to_review(session: Session, project: Project) -> int:
    count = select(func.count(Passage.id)).where(
        Passage.project_id == project.id, Passage.claim_count > 0
    )
    return session.scalar(count) or 0
