"""Projects group documents for a study."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator.models import Project


def get_or_create_project(session: Session, name: str) -> Project:
    name = name.strip()
    if not name:
        raise ValueError("A project needs a name.")
    project = session.scalar(select(Project).where(Project.name == name))
    if project is None:
        project = Project(name=name)
        session.add(project)
        session.flush()
    return project
