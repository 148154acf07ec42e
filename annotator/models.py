"""Database models (SQLAlchemy 2 typed declarative). No Flask imports."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import IntEnum, StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from annotator.db import Base


def utcnow() -> datetime:
    return datetime.now(UTC)


class Role(StrEnum):
    ADMIN = "admin"
    CURATOR = "curator"
    REVIEWER = "reviewer"


class Label(StrEnum):
    REPORTED = "reported"
    QUOTED = "quoted"
    EDITORIAL = "editorial"


class PassageRole(StrEnum):
    AUTHOR = "author"
    EXCERPT = "excerpt"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.REVIEWER)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    # The Flask-Login user protocol, written out so this module stays free of Flask imports.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        """Session identity; bumping ``session_epoch`` ends every existing session of the user."""
        return f"{self.id}:{self.session_epoch}"

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class RevealLabels(StrEnum):
    """When reviewers may see each other's labels on a passage."""

    NEVER = "never"
    AFTER_COMPLETION = "after_completion"
    ALWAYS = "always"


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    guidelines: Mapped[str] = mapped_column(Text, default="")
    # One term a line (annotator.text.loaded_terms); empty: none highlighted or counted.
    loaded_terms: Mapped[str] = mapped_column(Text, default="", server_default="")
    overlap: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    open_to_all: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    show_suggestions: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    reveal_labels: Mapped[str] = mapped_column(
        String(20), default=RevealLabels.AFTER_COMPLETION, server_default="after_completion"
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    members: Mapped[list[ProjectMember]] = relationship(
        back_populates="project", cascade="all, delete-orphan"
    )


class MemberRole(StrEnum):
    REVIEWER = "reviewer"
    CURATOR = "curator"


class ProjectMember(Base):
    __tablename__ = "project_members"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20), default=MemberRole.REVIEWER)
    project: Mapped[Project] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class Outlet(Base):
    __tablename__ = "outlets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    homepage: Mapped[str | None] = mapped_column(String(255))
    notes: Mapped[str] = mapped_column(Text, default="")
    # Raised on every rename: keys the outlet menu that workers cache (outlets.outlet_menu).
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    aliases: Mapped[list[OutletAlias]] = relationship(
        back_populates="outlet", cascade="all, delete-orphan", order_by="OutletAlias.alias"
    )


class OutletAlias(Base):
    __tablename__ = "outlet_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(200), unique=True)
    outlet: Mapped[Outlet] = relationship(back_populates="aliases")


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("project_id", "external_id"),
        Index("ix_documents_queue", "project_id", "started_by", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    site: Mapped[str | None] = mapped_column(String(255))
    published: Mapped[str | None] = mapped_column(String(64))
    # The day ``published`` names, where it names one (records.publication_date): periods.
    published_on: Mapped[date | None] = mapped_column(Date)
    content_hash: Mapped[str] = mapped_column(String(64))
    # Extra fields of the imported record (CSV columns beyond the known ones, JSONL "metadata").
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSON(none_as_null=True))
    open_passages: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    started_by: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    passages: Mapped[list[Passage]] = relationship(
        back_populates="document", order_by="Passage.index", cascade="all, delete-orphan"
    )


class DocumentSource(Base):
    """The title and text a document's analysis read, kept so that it can read them again
    after the outlets change (reanalysis). None for documents imported before they were
    kept, or restored with their passages. A table of its own: on SQLite an UPDATE rewrites
    the whole row, and a save updates its document's counters."""

    __tablename__ = "document_sources"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)


class RunState(StrEnum):
    RUNNING = "running"
    CANCELLING = "cancelling"  # asked to stop; it does after the batch under way
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ReanalysisRun(Base):
    """A reanalysis (or its preview) started from the project page, run in the background:
    how far it has got, refreshed after each batch, and what it did or why it failed. Its
    process beats ``heartbeat_at`` while it runs; a run whose heartbeat stopped was cut short
    with its process."""

    __tablename__ = "reanalysis_runs"
    __table_args__ = (Index("ix_reanalysis_runs_project_id_id", "project_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    started_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    preview: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(20), default=RunState.RUNNING)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    summary: Mapped[str] = mapped_column(Text, default="")
    lost_labels: Mapped[str] = mapped_column(Text, default="")
    user: Mapped[User | None] = relationship()


class Passage(Base):
    __tablename__ = "passages"
    __table_args__ = (
        UniqueConstraint("document_id", "index"),
        Index("ix_passages_project_id_id", "project_id", "id"),
        # which outlets a project cites, without reading its passages (agreement.outlet_names)
        Index("ix_passages_outlet_id_project_id", "outlet_id", "project_id"),
        # never reuse an id: a page from before a re-import must not reach a new passage
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(10))
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id", ondelete="SET NULL"))
    cue: Mapped[str | None] = mapped_column(Text)
    cue_start: Mapped[int | None] = mapped_column(Integer)
    cue_end: Mapped[int | None] = mapped_column(Integer)
    claim_count: Mapped[int] = mapped_column(Integer, default=0)
    completed_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    document: Mapped[Document] = relationship(back_populates="passages")
    outlet: Mapped[Outlet | None] = relationship()
    claims: Mapped[list[Claim]] = relationship(
        back_populates="passage", order_by="Claim.index", cascade="all, delete-orphan"
    )


class CsvForm(IntEnum):
    """How a claim's text is written as a CSV cell (``exporting.csv_form_of``). It is decided
    when the claim is stored, as its text never changes, so that the export does not test the
    text of every claim again."""

    AS_IS = 0  # nothing to quote, no formula sign first
    QUOTED = 1  # a comma, quote or line end inside, no formula sign first
    CHECKED = 2  # anything else, or not known: the export applies all the rules


class Claim(Base):
    __tablename__ = "claims"
    # never reuse an id: a page from before a claim edit must not label a new claim
    __table_args__ = (UniqueConstraint("passage_id", "index"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    passage_id: Mapped[int] = mapped_column(ForeignKey("passages.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    suggested_label: Mapped[str] = mapped_column(String(20))
    suggestion_reason: Mapped[str] = mapped_column(Text)
    csv_form: Mapped[int] = mapped_column(
        SmallInteger, default=CsvForm.CHECKED, server_default=str(int(CsvForm.CHECKED))
    )
    # passage.text[start:end], kept: cutting it out of the passage was a fifth of the CSV
    # export's work in PostgreSQL, which counts characters from the start (docs/benchmarks.md)
    text: Mapped[str] = mapped_column(Text)
    passage: Mapped[Passage] = relationship(back_populates="claims")


class Annotation(Base):
    """One reviewer's label for one claim; ``version`` guards against stale saves."""

    __tablename__ = "annotations"
    __table_args__ = (
        UniqueConstraint("claim_id", "user_id"),
        Index("ix_annotations_project_id_claim_id", "project_id", "claim_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"))
    # the claim's project, as for reviews: a project's labels are read from this index, not
    # from every label of every project nor through every passage of the project
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(20))
    unsure: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user: Mapped[User] = relationship()


class FinalLabel(Base):
    """The label a curator settled for a claim."""

    __tablename__ = "final_labels"
    __table_args__ = (Index("ix_final_labels_project_id_claim_id", "project_id", "claim_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    label: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user: Mapped[User | None] = relationship()


class OutletCorrection(Base):
    """A reviewer's verdict on a passage's cited outlet; ``outlet_id`` None = author's own words."""

    __tablename__ = "outlet_corrections"
    __table_args__ = (UniqueConstraint("passage_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    passage_id: Mapped[int] = mapped_column(ForeignKey("passages.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user: Mapped[User] = relationship()
    outlet: Mapped[Outlet | None] = relationship()


class ReviewStatus(StrEnum):
    RESERVED = "reserved"
    COMPLETED = "completed"
    SKIPPED = "skipped"


class Review(Base):
    """A reviewer's work on a passage: served (reserved), completed or skipped."""

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("passage_id", "user_id"),
        # covers the reviewer's progress in a project (a count, read by every page and save)
        Index("ix_reviews_user_id_status_project_id", "user_id", "status", "project_id"),
        Index("ix_reviews_user_id_document_id", "user_id", "document_id"),
        Index("ix_reviews_user_id_updated_at", "user_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    passage_id: Mapped[int] = mapped_column(ForeignKey("passages.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    # the passage's project, as document_id its document: counting a reviewer's progress then
    # reads only the index, not one passage per completed review
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    reserved_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChangeKind(StrEnum):
    LABEL = "label"
    UNSURE = "unsure"
    NOTE = "note"
    OUTLET = "outlet"
    SKIP = "skip"
    FINAL = "final"
    CLAIMS = "claims"  # a curator moved the passage's claim boundaries (claim_editing)
    PASSAGE_OUTLET = "passage_outlet"  # a curator set the passage's outlet (passage_decisions)
    PASSAGE_ROLE = "passage_role"  # a curator set the passage's role (passage_decisions)


class Change(Base):
    """History: who changed what, when, old -> new. Undo walks it backwards."""

    __tablename__ = "changes"
    __table_args__ = (
        Index("ix_changes_user_id_id", "user_id", "id"),
        Index("ix_changes_claim_id", "claim_id"),
        # a passage's history, everyone's or one reviewer's, newest first
        Index("ix_changes_passage_id_user_id_id", "passage_id", "user_id", "id"),
        Index("ix_changes_batch", "batch"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    passage_id: Mapped[int] = mapped_column(ForeignKey("passages.id", ondelete="CASCADE"))
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"))
    batch: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(20))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    undone: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user: Mapped[User] = relationship()


class Suggestion(Base):
    """A label suggested for a claim by an outside source (a model posting through the API);
    one per claim and source, replaced when the source posts again."""

    __tablename__ = "suggestions"
    __table_args__ = (UniqueConstraint("claim_id", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(20))
    score: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiToken(Base):
    """A personal API token; only the SHA-256 of the secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    user: Mapped[User] = relationship()
