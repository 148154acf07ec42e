"""What a project's passages are made of, per cited outlet: its documents, passages (with
claims, excerpts, the author's own) and claims.

These figures are fixed once the passages are stored, but reading them means reading every
passage of the project (0.1-0.15 s at 290,000 passages, for the dashboard and the outlet
report alike). So each web worker keeps them per project, under the project's newest passage
id and the outlet registry's version: an import or re-import stores passages with new ids,
and merging, renaming or deleting an outlet changes the registry's version. Entries also
expire after a minute, in case a re-import of the newest document reuses its passages' ids
(SQLite may).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import Session

from annotator.db import VersionedCache
from annotator.models import Outlet, Passage, PassageRole, Project
from annotator.services.outlets import menu_version
from annotator.services.progress import newest_passage_id


@dataclass(frozen=True)
class OutletStructure:
    """The passages of a project that cite one outlet (``outlet_id`` None: the author's own
    words)."""

    outlet_id: int | None
    name: str | None
    documents: int
    passages_with_claims: int
    excerpt_passages: int
    author_passages: int
    claims: int


_VERSION = select(newest_passage_id(bindparam("project_id")), menu_version())
_STRUCTURES: VersionedCache[int, tuple[OutletStructure, ...]] = VersionedCache(ttl_s=60.0)


def project_structure(session: Session, project: Project) -> tuple[OutletStructure, ...]:
    """The project's passages per cited outlet, read once per version (see the module)."""
    version = tuple(session.execute(_VERSION, {"project_id": project.id}).one())
    return _STRUCTURES.get(session, project.id, version, lambda: read_structure(session, project))


def read_structure(session: Session, project: Project) -> tuple[OutletStructure, ...]:
    """The figures from the passages themselves."""
    rows = session.execute(
        select(
            Passage.outlet_id,
            Outlet.name,
            func.count(func.distinct(Passage.document_id)),
            func.sum(case((Passage.claim_count > 0, 1), else_=0)),
            func.sum(case((Passage.role == PassageRole.EXCERPT, 1), else_=0)),
            func.sum(case((Passage.role == PassageRole.AUTHOR, 1), else_=0)),
            func.sum(Passage.claim_count),
        )
        .outerjoin(Outlet, Outlet.id == Passage.outlet_id)
        .where(Passage.project_id == project.id)
        .group_by(Passage.outlet_id, Outlet.name)
    )
    return tuple(
        OutletStructure(
            outlet_id,
            name,
            int(documents),
            int(with_claims or 0),
            int(excerpts or 0),
            int(authors or 0),
            int(claims or 0),
        )
        for outlet_id, name, documents, with_claims, excerpts, authors, claims in rows
    )
