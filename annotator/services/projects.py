"""Projects group documents for a study; membership decides who sees what."""

from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from annotator.models import MemberRole, Project, ProjectMember, User
from annotator.text.guidelines import DEFAULT_GUIDELINES

DEFAULT_PROJECT = "default"


def get_or_create_project(session: Session, name: str) -> Project:
    name = name.strip()
    if not name:
        raise ValueError("A project needs a name.")
    project = session.scalar(select(Project).where(Project.name == name))
    if project is None:
        # The default project is open to every user, so a single-team setup needs no membership.
        project = Project(
            name=name, guidelines=DEFAULT_GUIDELINES, open_to_all=name == DEFAULT_PROJECT
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
    role = session.scalar(
        select(ProjectMember.role).where(
            ProjectMember.project_id == project.id, ProjectMember.user_id == user.id
        )
    )
    if role is None and project.open_to_all:
        return MemberRole.CURATOR if user.role == MemberRole.CURATOR else MemberRole.REVIEWER
    return role


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
