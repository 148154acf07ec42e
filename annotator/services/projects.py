"""Projects group documents for a study; membership decides who sees what."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from annotator.models import (
    Document,
    MemberRole,
    Passage,
    Project,
    ProjectMember,
    RevealLabels,
    User,
)
from annotator.text.guidelines import DEFAULT_GUIDELINES
from annotator.text.loaded_terms import DEFAULT_LOADED_TERMS, TermListError, parse_terms

DEFAULT_PROJECT = "default"
MIN_OVERLAP = 1
MAX_OVERLAP = 20
MAX_NAME_LENGTH = 120


class ProjectError(ValueError):
    """A user-facing problem with project data (duplicate name, bad overlap, unknown member...)."""


@dataclass(frozen=True)
class ProjectSettings:
    """What an admin sets on a project; blank guidelines mean the default guidelines, a blank
    list of loaded terms means none."""

    name: str
    guidelines: str = DEFAULT_GUIDELINES
    loaded_terms: str = DEFAULT_LOADED_TERMS
    overlap: int = 2
    show_suggestions: bool = True
    reveal_labels: str = RevealLabels.AFTER_COMPLETION
    open_to_all: bool = False


@dataclass(frozen=True)
class ProjectRow:
    """A project with its document and passage counts, for the admin list."""

    project: Project
    documents: int
    passages: int


def get_or_create_project(session: Session, name: str) -> Project:
    name = name.strip()
    if not name:
        raise ValueError("A project needs a name.")
    project = session.scalar(select(Project).where(Project.name == name))
    if project is None:
        # The default project is open to every user, so a single-team setup needs no membership.
        project = Project(
            name=name,
            guidelines=DEFAULT_GUIDELINES,
            loaded_terms=DEFAULT_LOADED_TERMS,
            open_to_all=name == DEFAULT_PROJECT,
        )
        session.add(project)
        session.flush()
    return project


def visible_projects(session: Session, user: User) -> list[Project]:
    """Admins see every project; others the projects they are members of."""
    query = select(Project).order_by(Project.name)
    if not user.is_admin:
        is_member = exists().where(
            ProjectMember.project_id == Project.id, ProjectMember.user_id == user.id
        )
        query = query.where(or_(Project.open_to_all, is_member))
    return list(session.scalars(query))


def member_role(session: Session, user: User, project: Project) -> str | None:
    """The user's role in the project (admins act as curators everywhere), or None."""
    if user.is_admin:
        return MemberRole.CURATOR
    membership = session.scalar(
        select(ProjectMember.role).where(
            ProjectMember.project_id == project.id, ProjectMember.user_id == user.id
        )
    )
    return role_from_membership(user, project, membership)


# The membership of the user ``:user_id`` in the project.
_MEMBERSHIP = and_(
    ProjectMember.project_id == Project.id, ProjectMember.user_id == bindparam("user_id")
)


def with_project_and_membership(query: Select[Any], project_id: Any) -> Select[Any]:
    """``query`` with two more columns: the project whose id is ``project_id`` (a column of
    the query) and the role of the user ``:user_id`` in it as a member (NULL when not one);
    ``role_from_membership`` makes the user's role of them."""
    return (
        query.add_columns(Project, ProjectMember.role)
        .join(Project, Project.id == project_id)
        .outerjoin(ProjectMember, _MEMBERSHIP)
    )


def role_from_membership(user: User, project: Project, membership: str | None) -> str | None:
    """The user's role in the project (admins act as curators everywhere), or None, from
    their membership's role (None when they are not a member)."""
    if user.is_admin:
        return MemberRole.CURATOR
    return _effective_role(user, project, membership)


_PROJECT_AND_MEMBERSHIP = (  # built once: the annotation loop's pages ask
    select(Project, ProjectMember.role)
    .outerjoin(ProjectMember, _MEMBERSHIP)
    .where(Project.id == bindparam("project_id"))
)


def project_and_role(session: Session, user: User, project_id: int) -> tuple[Project, str] | None:
    """The project and the user's role in it, or None when it does not exist or the user has
    no role there: ``member_role`` in one query."""
    row = session.execute(
        _PROJECT_AND_MEMBERSHIP, {"user_id": user.id, "project_id": project_id}
    ).first()
    if row is None:
        return None
    project, membership = row
    role = role_from_membership(user, project, membership)
    return (project, role) if role is not None else None


def _effective_role(user: User, project: Project, membership: str | None) -> str | None:
    if membership is None and project.open_to_all:
        return MemberRole.CURATOR if user.role == MemberRole.CURATOR else MemberRole.REVIEWER
    return membership


def can_curate(session: Session, user: User, project: Project) -> bool:
    return member_role(session, user, project) == MemberRole.CURATOR


def add_member(session: Session, project: Project, user: User, role: str) -> ProjectMember:
    if role not in set(MemberRole):
        raise ValueError(f"Unknown project role {role!r}.")
    member = session.scalar(
        select(ProjectMember).where(
            ProjectMember.project_id == project.id, ProjectMember.user_id == user.id
        )
    )
    if member is None:
        member = ProjectMember(project_id=project.id, user_id=user.id, role=role)
        session.add(member)
    else:
        member.role = role
    session.commit()
    return member


def create_project(session: Session, settings: ProjectSettings) -> Project:
    """Create a project with these settings."""
    project = Project()
    _apply_settings(session, project, settings)
    session.add(project)
    session.commit()
    return project


def update_project(session: Session, project: Project, settings: ProjectSettings) -> None:
    """Change a project's name, guidelines and settings."""
    _apply_settings(session, project, settings)
    session.commit()


def _apply_settings(session: Session, project: Project, settings: ProjectSettings) -> None:
    """Validate everything before touching the project, so bad input changes nothing."""
    name = settings.name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise ProjectError(f"A project needs a name of 1 to {MAX_NAME_LENGTH} characters.")
    if not MIN_OVERLAP <= settings.overlap <= MAX_OVERLAP:
        raise ProjectError(f"Overlap must be between {MIN_OVERLAP} and {MAX_OVERLAP} reviewers.")
    if settings.reveal_labels not in set(RevealLabels):
        raise ProjectError(f"Unknown reveal setting {settings.reveal_labels!r}.")
    clash = session.scalar(select(Project.id).where(Project.name == name))
    if clash is not None and clash != project.id:
        raise ProjectError(f"A project named {name!r} already exists.")
    try:
        terms = parse_terms(settings.loaded_terms)
    except TermListError as exc:
        raise ProjectError(f"Loaded terms: {exc}") from exc
    # Browsers send textarea line breaks as CRLF.
    guidelines = settings.guidelines.replace("\r\n", "\n")
    project.name = name
    project.guidelines = guidelines if guidelines.strip() else DEFAULT_GUIDELINES
    project.loaded_terms = "".join(f"{term}\n" for term in terms)
    project.overlap = settings.overlap
    project.show_suggestions = settings.show_suggestions
    project.reveal_labels = settings.reveal_labels
    project.open_to_all = settings.open_to_all


def project_rows(session: Session) -> list[ProjectRow]:
    """Every project with how many documents and passages it holds."""
    documents = (
        select(Document.project_id, func.count(Document.id).label("n"))
        .group_by(Document.project_id)
        .subquery()
    )
    passages = (
        select(Passage.project_id, func.count(Passage.id).label("n"))
        .group_by(Passage.project_id)
        .subquery()
    )
    rows = session.execute(
        select(Project, func.coalesce(documents.c.n, 0), func.coalesce(passages.c.n, 0))
        .outerjoin(documents, documents.c.project_id == Project.id)
        .outerjoin(passages, passages.c.project_id == Project.id)
        .order_by(Project.name)
    )
    return [ProjectRow(project, docs, passages) for project, docs, passages in rows]


def members_of(session: Session, project: Project) -> list[ProjectMember]:
    """The project's members with their users loaded, by username."""
    query = (
        select(ProjectMember)
        .join(User, User.id == ProjectMember.user_id)
        .where(ProjectMember.project_id == project.id)
        .options(selectinload(ProjectMember.user))
        .order_by(User.username)
    )
    return list(session.scalars(query))


def non_members(session: Session, project: Project) -> list[User]:
    """Users who could be added to the project, by username."""
    is_member = exists().where(
        ProjectMember.project_id == project.id, ProjectMember.user_id == User.id
    )
    return list(session.scalars(select(User).where(~is_member).order_by(User.username)))


def enrol_member(session: Session, project: Project, user: User, role: str) -> ProjectMember:
    """Add a user who is not yet a member (``add_member`` would silently change the role)."""
    _check_member_role(role)
    if _membership(session, project, user.id) is not None:
        raise ProjectError(f"{user.username} is already a member of {project.name}.")
    return add_member(session, project, user, role)


def change_member_role(session: Session, project: Project, user_id: int, role: str) -> None:
    """Give an existing member another project role."""
    _check_member_role(role)
    member = _existing_membership(session, project, user_id)
    member.role = role
    session.commit()


def remove_member(session: Session, project: Project, user_id: int) -> None:
    """Take a user out of the project; their past work stays."""
    session.delete(_existing_membership(session, project, user_id))
    session.commit()


def _check_member_role(role: str) -> None:
    """Raise unless ``role`` is a project role."""
    if role not in set(MemberRole):
        raise ProjectError(f"Unknown project role {role!r}; use one of {', '.join(MemberRole)}.")


def _membership(session: Session, project: Project, user_id: int) -> ProjectMember | None:
    """The user's membership row in the project, if any."""
    return session.scalar(
        select(ProjectMember).where(
            ProjectMember.project_id == project.id, ProjectMember.user_id == user_id
        )
    )


def _existing_membership(session: Session, project: Project, user_id: int) -> ProjectMember:
    """The user's membership row, or a ProjectError naming the project."""
    member = _membership(session, project, user_id)
    if member is None:
        raise ProjectError(f"That user is not a member of {project.name}.")
    return member
