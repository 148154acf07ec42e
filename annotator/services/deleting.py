"""Deleting a document, or a whole project, with everything recorded on it (the database
cascades) in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, delete, func, select
from sqlalchemy.orm import Session

from annotator.db import begin_write, retrying_deadlocks
from annotator.models import Annotation, Claim, Document, FinalLabel, Passage, Project, Review
from annotator.services import progress, structure, term_hits
from annotator.services.projects import DEFAULT_PROJECT
from annotator.wording import counted


class DeletionError(ValueError):
    """What cannot be deleted (gone already, or the default project)."""


@dataclass(frozen=True)
class Footprint:
    """What deleting a document takes with it."""

    passages: int
    claims: int
    labels: int
    reviewers: int
    settled: int

    def summary(self) -> str:
        return (
            f"{counted(self.passages, 'passage')}, {counted(self.claims, 'claim')}, "
            f"{counted(self.labels, 'label')} by {counted(self.reviewers, 'reviewer')}, "
            f"{counted(self.settled, 'settled label')}"
        )


def footprint(session: Session, document: Document) -> Footprint:
    claims = select(Claim.id).join(Passage).where(Passage.document_id == document.id)
    passages, claim_count = session.execute(
        select(func.count(Passage.id), func.coalesce(func.sum(Passage.claim_count), 0)).where(
            Passage.document_id == document.id
        )
    ).one()
    labels, reviewers = session.execute(
        select(func.count(Annotation.id), func.count(func.distinct(Annotation.user_id))).where(
            Annotation.project_id == document.project_id, Annotation.claim_id.in_(claims)
        )
    ).one()
    settled = session.scalar(
        select(func.count(FinalLabel.id)).where(
            FinalLabel.project_id == document.project_id, FinalLabel.claim_id.in_(claims)
        )
    )
    return Footprint(int(passages), int(claim_count), int(labels), int(reviewers), settled or 0)


def delete_document(session: Session, document_id: int) -> Footprint:
    """Delete the document with its passages, claims, labels, reviews, settled labels and
    history; returns what went with it."""

    def delete_it() -> Footprint:
        begin_write(session)
        lock_work_on_documents(session, [document_id])
        document = session.get(Document, document_id)
        if document is None:
            raise DeletionError("This document no longer exists; it was deleted meanwhile.")
        return _delete(session, document, footprint(session, document))

    return retrying_deadlocks(session, delete_it)


@dataclass(frozen=True)
class ProjectFootprint:
    """What deleting a project takes with it."""

    documents: int
    passages: int
    labels: int
    reviewers: int

    def summary(self) -> str:
        return (
            f"{counted(self.documents, 'document')}, {counted(self.passages, 'passage')}, "
            f"{counted(self.labels, 'label')} by {counted(self.reviewers, 'reviewer')}"
        )


def project_footprint(session: Session, project: Project) -> ProjectFootprint:
    documents, passages = session.execute(
        select(
            select(func.count(Document.id))
            .where(Document.project_id == project.id)
            .scalar_subquery(),
            select(func.count(Passage.id))
            .where(Passage.project_id == project.id)
            .scalar_subquery(),
        )
    ).one()
    labels, reviewers = session.execute(
        select(func.count(Annotation.id), func.count(func.distinct(Annotation.user_id))).where(
            Annotation.project_id == project.id
        )
    ).one()
    return ProjectFootprint(int(documents), int(passages), int(labels), int(reviewers))


def delete_project(session: Session, project_id: int) -> ProjectFootprint:
    """Delete a project with its documents, members and all the work on them; returns what
    went with it. The default project, where imports go when none is named, stays."""

    def delete_it() -> ProjectFootprint:
        begin_write(session)
        project = session.get(Project, project_id)
        if project is None:
            raise DeletionError("This project no longer exists; it was deleted meanwhile.")
        check_deletable(project)
        lock_work_on_project(session, project_id)
        return _delete(session, project, project_footprint(session, project))

    return retrying_deadlocks(session, delete_it)


def is_deletable(project: Project) -> bool:
    return project.name != DEFAULT_PROJECT


def check_deletable(project: Project) -> None:
    if not is_deletable(project):
        raise DeletionError(
            f"The {DEFAULT_PROJECT!r} project cannot be deleted: imports that name no project "
            "go there. Delete its documents instead."
        )


def document_named(session: Session, project_name: str, external_id: str) -> Document:
    """The project's document with this id as imported (for the command line)."""
    found = session.scalar(
        select(Document)
        .join(Project, Project.id == Document.project_id)
        .where(Project.name == project_name, Document.external_id == external_id)
    )
    if found is None:
        raise DeletionError(f"No document {external_id!r} in a project named {project_name!r}.")
    return found


def project_named(session: Session, name: str) -> Project:
    found = session.scalar(select(Project).where(Project.name == name))
    if found is None:
        raise DeletionError(f"No project named {name!r}.")
    return found


Gone = TypeVar("Gone", Footprint, ProjectFootprint)


def lock_work_on_documents(session: Session, document_ids: Sequence[int]) -> None:
    """Lock what deleting the documents' passages takes with it in the order a reviewer's
    save locks it: labels, claims, reviews, passages, then the documents. The DELETE's
    cascade would lock the passages first, and a save holding a claim (its new label refers
    to it) while waiting for its passage would deadlock with it; now the two wait for each
    other (PostgreSQL; on SQLite the writer holds the whole database)."""
    _lock_in_a_saves_order(
        session,
        select(Passage.id).where(Passage.document_id.in_(document_ids)),
        Review.document_id.in_(document_ids),
        select(Document.id).where(Document.id.in_(document_ids)).order_by(Document.id),
    )


def lock_work_on_project(session: Session, project_id: int) -> None:
    """``lock_work_on_documents`` for every document of the project, then the project, whose
    row a save's new labels refer to."""
    _lock_in_a_saves_order(
        session,
        select(Passage.id).where(Passage.project_id == project_id),
        Review.project_id == project_id,
        select(Document.id).where(Document.project_id == project_id).order_by(Document.id),
        select(Project.id).where(Project.id == project_id),
    )


def _lock_in_a_saves_order(
    session: Session,
    passage_ids: Select[int],
    reviews: ColumnElement[bool],
    *then: Select[int],
) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return
    claim_ids = select(Claim.id).where(Claim.passage_id.in_(passage_ids))
    for locking in (
        select(Annotation.id).where(Annotation.claim_id.in_(claim_ids)).order_by(Annotation.id),
        claim_ids.order_by(Claim.id),
        select(Review.id).where(reviews).order_by(Review.id),
        passage_ids.order_by(Passage.id),
        *then,
    ):
        session.execute(locking.with_for_update())


def _delete(session: Session, row: Document | Project, gone: Gone) -> Gone:
    """Delete the row (the database cascades to what hangs on it) and commit. Figures that
    server processes keep per project are keyed by its newest passage, which need not change:
    this process forgets them now, others within a minute."""
    model = type(row)
    session.execute(delete(model).where(model.id == row.id))
    session.commit()
    session.expunge(row)
    progress.forget_totals()
    structure.forget_structures()
    term_hits.forget_hits()
    return gone
