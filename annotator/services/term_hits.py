"""The loaded terms found in each passage of a project (``annotator.text.loaded_terms``).

Finding them means reading every passage's text, a batch at a time (0.25 s for 28,000
passages on a slow machine). Each process keeps the hits of a project's passages per term
list until a passage is added or deleted, for at most ten minutes: a passage's text never
changes, but SQLite may give a new passage the id of a deleted one, which a process that did
not delete cannot see.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotator.db import VersionedCache, streamed_rows
from annotator.models import Passage, Project
from annotator.text.loaded_terms import TermHit, matcher, watched_terms

# Fetching all 290,000 texts of a project at once raised a server process's peak memory by
# 120-200 MiB; batches of 5,000 by about 12 (docs/benchmarks.md, round 22).
TEXTS_PER_BATCH = 5_000
_HITS: VersionedCache[tuple[int, tuple[str, ...]], dict[int, tuple[TermHit, ...]]] = VersionedCache(
    ttl_s=600.0
)


def passage_hits(session: Session, project: Project) -> dict[int, tuple[TermHit, ...]]:
    """The loaded terms found in each passage of the project that holds one."""
    terms = watched_terms(project.loaded_terms)
    if not terms:
        return {}
    version = session.execute(
        select(func.max(Passage.id), func.count()).where(Passage.project_id == project.id)
    ).one()
    return _HITS.get(
        session, (project.id, terms), tuple(version), lambda: _find_hits(session, project, terms)
    )


def _find_hits(
    session: Session, project: Project, terms: tuple[str, ...]
) -> dict[int, tuple[TermHit, ...]]:
    find = matcher(terms).find
    texts = select(Passage.id, Passage.text).where(Passage.project_id == project.id)
    return {
        passage: hits
        for batch in streamed_rows(session, texts, TEXTS_PER_BATCH)
        for passage, text in batch
        if (hits := tuple(find(text)))
    }


def forget_hits() -> None:
    """Drop this process's hits (a document was deleted)."""
    _HITS.clear()
