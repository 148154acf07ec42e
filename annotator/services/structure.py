"""What a project's passages are made of, per cited outlet: its documents, passages (with
claims, excerpts, the author's own) and claims.

These figures are fixed once the passages are stored, but reading them means reading every
passage of the project (0.1-0.15 s at 290,000 passages, for the dashboard and the outlet
report alike). So each web worker keeps them per project, with (read when first asked for)
the outlet each passage with claims cites, under the project's newest passage
id and the outlet registry's version: an import or re-import stores passages with new ids,
and merging, renaming or deleting an outlet changes the registry's version. Entries also
expire after a minute, for what leaves both as they were: a document deleted by another
process (the deleting one forgets at once, ``deleting``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Select, bindparam, case, func, select
from sqlalchemy.orm import Session

from annotator.db import VersionedCache, driver_rows
from annotator.models import Outlet, Passage, PassageRole, Project
from annotator.services.outlets import menu_version
from annotator.services.progress import newest_passage_id

if TYPE_CHECKING:
    import numpy as np


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


@dataclass(frozen=True)
class PassageOutlets:
    """The outlet each passage with claims of a project cites: the passages' ids in order and,
    for each, the position of its outlet in ``outlet_ids`` (None: the author's own words)."""

    passage_ids: np.ndarray
    outlet_positions: np.ndarray
    outlet_ids: tuple[int | None, ...]

    def positions_of(self, passage_ids: np.ndarray) -> np.ndarray:
        """The position of each passage's outlet; -1 for a passage that is not one of them."""
        import numpy as np

        if not len(self.passage_ids):
            return np.full(len(passage_ids), -1, dtype=np.intp)
        found = np.minimum(
            np.searchsorted(self.passage_ids, passage_ids), len(self.passage_ids) - 1
        )
        return np.where(self.passage_ids[found] == passage_ids, self.outlet_positions[found], -1)


class Structure:
    """A project's structure as a worker keeps it: the figures per outlet, and which outlet
    each passage with claims cites (read when first asked for: only the dashboard needs it)."""

    def __init__(self, project_id: int, outlets: tuple[OutletStructure, ...]) -> None:
        self.project_id = project_id
        self.outlets = outlets
        self._passage_outlets: PassageOutlets | None = None

    def passage_outlets(self, session: Session) -> PassageOutlets:
        if self._passage_outlets is None:
            self._passage_outlets = read_passage_outlets(session, self.project_id)
        return self._passage_outlets


_VERSION = select(newest_passage_id(bindparam("project_id")), menu_version())
_STRUCTURES: VersionedCache[int, Structure] = VersionedCache(ttl_s=60.0)


def forget_structures() -> None:
    """Drop this process's structures (a document was deleted: the newest passage may not
    change)."""
    _STRUCTURES.clear()


def structure_of(session: Session, project: Project) -> Structure:
    """The project's structure, read once per version (see the module)."""
    version = tuple(session.execute(_VERSION, {"project_id": project.id}).one())
    return _STRUCTURES.get(
        session,
        project.id,
        version,
        lambda: Structure(project.id, read_structure(session, project)),
    )


def project_structure(session: Session, project: Project) -> tuple[OutletStructure, ...]:
    """The project's passages per cited outlet (see ``structure_of``)."""
    return structure_of(session, project).outlets


def read_passage_outlets(session: Session, project_id: int) -> PassageOutlets:
    """From the passages themselves (290,000 of them: 0.1 s on PostgreSQL, once per version)."""
    import numpy as np

    rows = driver_rows(
        session,
        select(Passage.id, Passage.outlet_id)
        .where(Passage.project_id == project_id, Passage.claim_count > 0)
        .order_by(Passage.id),
    )
    outlet_ids = tuple(sorted({outlet for _, outlet in rows}, key=lambda o: (o is not None, o)))
    position = {outlet: index for index, outlet in enumerate(outlet_ids)}
    return PassageOutlets(
        np.fromiter((passage for passage, _ in rows), dtype=np.int64, count=len(rows)),
        np.fromiter((position[outlet] for _, outlet in rows), dtype=np.intp, count=len(rows)),
        outlet_ids,
    )


def read_structure(
    session: Session, project: Project, documents: Select[int] | None = None
) -> tuple[OutletStructure, ...]:
    """The figures from the passages themselves (of ``documents`` only, when given: a
    subquery of document ids)."""
    of_documents = [] if documents is None else [Passage.document_id.in_(documents)]
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
        .where(Passage.project_id == project.id, *of_documents)
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
