"""Read-only listings for the API: projects, documents, passages and claims as plain dicts,
each behind the same membership rule as the pages (``projects.member_role``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from annotator.models import Annotation, Document, OutletCorrection, Passage, Project, User
from annotator.services import projects, suggestions
from annotator.services.records import MAX_ID
from annotator.text.loaded_terms import watched_terms

MAX_PAGE = 500


def _valid_id(value: int) -> bool:
    return 0 < value <= MAX_ID


def project_dict(session: Session, user: User, project: Project) -> dict[str, Any]:
    documents = session.scalar(
        select(func.count(Document.id)).where(Document.project_id == project.id)
    )
    return {
        "id": project.id,
        "name": project.name,
        "overlap": project.overlap,
        "loaded_terms": list(watched_terms(project.loaded_terms)),
        "documents": documents or 0,
        "role": projects.member_role(session, user, project),
    }


def visible_project(session: Session, user: User, project_id: int) -> Project | None:
    project = session.get(Project, project_id) if _valid_id(project_id) else None
    if project is None or projects.member_role(session, user, project) is None:
        return None
    return project


def document_page(
    session: Session, project: Project, after: int, limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    """Documents with id > ``after``, at most ``limit``; and the cursor of the next page."""
    limit = max(1, min(limit, MAX_PAGE))
    rows = session.scalars(
        select(Document)
        .where(Document.project_id == project.id, Document.id > after)
        .order_by(Document.id)
        .limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return [document_dict(d) for d in rows], (rows[-1].id if more else None)


def document_dict(document: Document) -> dict[str, Any]:
    return {
        "id": document.id,
        "external_id": document.external_id,
        "project_id": document.project_id,
        "title": document.title,
        "url": document.url,
        "site": document.site,
        "published": document.published,
        "published_on": document.published_on.isoformat() if document.published_on else None,
        "metadata": document.meta or {},
        "imported_at": document.imported_at.isoformat(),
    }


def visible_document(session: Session, user: User, document_id: int) -> Document | None:
    document = session.get(Document, document_id) if _valid_id(document_id) else None
    if document is None or visible_project(session, user, document.project_id) is None:
        return None
    return document


def visible_passage(session: Session, user: User, passage_id: int) -> Passage | None:
    if not _valid_id(passage_id):
        return None
    passage = session.scalar(
        select(Passage)
        .where(Passage.id == passage_id)
        .options(selectinload(Passage.claims), selectinload(Passage.outlet))
    )
    if passage is None or visible_project(session, user, passage.project_id) is None:
        return None
    return passage


def passages_of(session: Session, document: Document) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Passage)
        .where(Passage.document_id == document.id)
        .options(selectinload(Passage.outlet))
        .order_by(Passage.index)
    )
    return [passage_dict(p) for p in rows]


def passage_dict(passage: Passage) -> dict[str, Any]:
    return {
        "id": passage.id,
        "document_id": passage.document_id,
        "index": passage.index,
        "text": passage.text,
        "role": passage.role,
        "outlet": passage.outlet.name if passage.outlet else None,
        "cue": passage.cue,
        "cue_start": passage.cue_start,
        "cue_end": passage.cue_end,
        "claim_count": passage.claim_count,
    }


def claims_of(session: Session, passage: Passage) -> list[dict[str, Any]]:
    outside = suggestions.for_claims(session, [c.id for c in passage.claims])
    return [
        {
            "id": claim.id,
            "passage_id": passage.id,
            "index": claim.index,
            "start": claim.start,
            "end": claim.end,
            "text": claim.text,
            "suggested_label": claim.suggested_label,
            "suggestion_reason": claim.suggestion_reason,
            "suggestions": [
                dict(suggestions.suggestion_dict(s)) for s in outside.get(claim.id, [])
            ],
        }
        for claim in passage.claims
    ]


def tags_of(session: Session, user: User, passage: Passage) -> dict[str, Any]:
    """The user's own tags on the passage (what the page pre-fills), with versions."""
    claim_ids = [c.id for c in passage.claims]
    rows = session.scalars(
        select(Annotation).where(Annotation.user_id == user.id, Annotation.claim_id.in_(claim_ids))
    )
    correction = session.scalar(
        select(OutletCorrection).where(
            OutletCorrection.user_id == user.id, OutletCorrection.passage_id == passage.id
        )
    )
    outlet: str = ""
    if correction is not None:
        outlet = str(correction.outlet_id) if correction.outlet_id is not None else "none"
    return {
        "passage_id": passage.id,
        "tags": {
            str(a.claim_id): {
                "label": a.label,
                "version": a.version,
                "unsure": a.unsure,
                "note": a.note,
                "updated_at": a.updated_at.isoformat(),
            }
            for a in rows
        },
        "outlet": outlet,
        "claims": [c.id for c in passage.claims],
    }
