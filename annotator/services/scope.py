"""Which documents of a project a report counts: those of one citing site (the blog or paper
that published the document), published in a period.

A study often holds the articles of several sites over months; the outlet report of one site,
or of one period, says what that site's material from each outlet consists of. A period counts
the documents whose publication date names a day (``records.publication_date``); the others
are left out of it, and ``ScopeCounts`` says how many.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from annotator.models import Document, Passage, Project

SCOPE_KEYS = ("site", "published_from", "published_to")
"""The names of a scope's values in forms, query strings and ``read_scope``'s arguments."""


class ScopeError(ValueError):
    """A scope that names no documents of the project, or an unreadable period."""


@dataclass(frozen=True)
class DocumentScope:
    site: str | None = None
    published_from: date | None = None
    published_to: date | None = None

    @property
    def keeps_everything(self) -> bool:
        return self.site is None and not self.has_period

    @property
    def has_period(self) -> bool:
        return self.published_from is not None or self.published_to is not None

    def conditions(self) -> list[ColumnElement[bool]]:
        """What a document of the scope satisfies (besides being in the project)."""
        kept: list[ColumnElement[bool]] = []
        if self.site is not None:
            kept.append(Document.site == self.site)
        if self.published_from is not None:
            kept.append(Document.published_on >= self.published_from)
        if self.published_to is not None:
            kept.append(Document.published_on <= self.published_to)
        return kept

    def document_ids(self, project: Project) -> Select[int]:
        """The ids of the project's documents in the scope, as a subquery to filter by."""
        return select(Document.id).where(Document.project_id == project.id, *self.conditions())

    def passages_kept(self, project: Project) -> list[ColumnElement[bool]]:
        """What a passage of the scope's documents satisfies (nothing for every document)."""
        if self.keeps_everything:
            return []
        return [Passage.document_id.in_(self.document_ids(project))]

    def describe(self) -> str:
        """The scope in words, for the page and the CSV's name."""
        parts = []
        if self.site is not None:
            parts.append(f"site {self.site}")
        if self.published_from and self.published_to:
            parts.append(f"published {self.published_from} to {self.published_to}")
        elif self.published_from:
            parts.append(f"published from {self.published_from}")
        elif self.published_to:
            parts.append(f"published until {self.published_to}")
        return ", ".join(parts) or "every document"


EVERY_DOCUMENT = DocumentScope()


def _day(value: str | None, what: str) -> date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ScopeError(f"{what} {text!r} is not a date; write it as YYYY-MM-DD.") from None


def read_scope(
    site: str | None, published_from: str | None, published_to: str | None
) -> DocumentScope:
    """The scope these form values name; empty values choose nothing. A date that is not one,
    or a period that ends before it starts, is refused with its reason."""
    scope = DocumentScope(
        site=(site or "").strip() or None,
        published_from=_day(published_from, "Published from:"),
        published_to=_day(published_to, "Published until:"),
    )
    if scope.published_from and scope.published_to and scope.published_from > scope.published_to:
        raise ScopeError(
            f"The period ends ({scope.published_to}) before it starts ({scope.published_from})."
        )
    return scope


def parse_scope(
    session: Session,
    project: Project,
    site: str | None,
    published_from: str | None,
    published_to: str | None,
) -> DocumentScope:
    """``read_scope`` of the project; a site no document of the project names is refused
    rather than read as an empty report that looks like a result."""
    scope = read_scope(site, published_from, published_to)
    if scope.site is not None and not names_site(session, scope.site, project.id):
        raise ScopeError(f"No document of this project names its site as {scope.site!r}.")
    return scope


def names_site(session: Session, site: str, project_id: int | None = None) -> bool:
    """Whether a document (of the project, if given) names this site."""
    query = select(Document.id).where(Document.site == site)
    if project_id is not None:
        query = query.where(Document.project_id == project_id)
    return session.scalar(query.limit(1)) is not None


@dataclass(frozen=True)
class ProjectSites:
    """The sites the project's documents name, with how many documents each, by name; and
    how many documents the project holds in all."""

    sites: list[tuple[str, int]]
    documents: int


def project_sites(session: Session, project: Project) -> ProjectSites:
    rows = session.execute(
        select(Document.site, func.count())
        .where(Document.project_id == project.id)
        .group_by(Document.site)
    ).all()
    named = sorted((site, count) for site, count in rows if site is not None)
    return ProjectSites(named, sum(count for _, count in rows))


@dataclass(frozen=True)
class ScopeCounts:
    """How many of the project's documents the scope keeps; ``undated``: documents of the
    site (or of the project) that a period leaves out because their date names no day."""

    kept: int
    total: int
    undated: int


def scope_counts(
    session: Session, project: Project, scope: DocumentScope, documents: int | None = None
) -> ScopeCounts:
    """``documents``: the project's, when the caller has counted them."""
    in_project = Document.project_id == project.id
    total = (
        documents
        if documents is not None
        else session.scalar(select(func.count()).where(in_project)) or 0
    )
    if scope.keeps_everything:
        return ScopeCounts(total, total, 0)
    kept = session.scalar(select(func.count()).where(in_project, *scope.conditions())) or 0
    undated = 0
    if scope.has_period:
        same_site = DocumentScope(site=scope.site).conditions()
        undated = (
            session.scalar(
                select(func.count()).where(in_project, *same_site, Document.published_on.is_(None))
            )
            or 0
        )
    return ScopeCounts(kept, total, undated)
