"""EXPLAIN of the queries behind "Next", captured while the real service code runs."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from annotator.db import get_engine, get_session
from annotator.models import Project, User
from annotator.services import queue

BIG_TABLES = ("documents", "passages", "claims", "reviews", "annotations", "changes")


def explain_next(app: Flask, username: str, project_id: int) -> tuple[str, list[str]]:
    """Run ``next_passage`` for the user, EXPLAIN every SELECT it issued; returns the plans as
    text and the full scans of big tables found in them (empty = index lookups only)."""
    with app.app_context():
        engine = get_engine()
        statements = _capture(engine, app, username, project_id)
        plans: list[str] = []
        scans: list[str] = []
        with engine.connect() as connection:
            for statement, parameters in statements:
                prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
                rows = connection.exec_driver_sql(prefix + statement, parameters).all()
                plan = "\n".join(" | ".join(str(v) for v in row) for row in rows)
                plans.append(f"-- query\n{statement}\n-- plan\n{plan}\n")
                scans += _full_scans(plan, engine.dialect.name)
            connection.rollback()
        return "\n".join(plans), scans


def _capture(engine: Engine, app: Flask, username: str, project_id: int) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def listener(
        _c: Any, _cur: Any, statement: str, parameters: Any, _ctx: Any, _many: bool
    ) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        session = get_session()
        user = session.scalar(select(User).where(User.username == username))
        project = session.get(Project, project_id)
        if user is None or project is None:
            raise RuntimeError(f"no user {username!r} or project {project_id}")
        minutes = int(app.config["RESERVATION_MINUTES"])
        queue.next_passage(session, user, project, timedelta(minutes=minutes))
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return seen


def _full_scans(plan: str, dialect: str) -> list[str]:
    found = []
    for line in plan.splitlines():
        if dialect == "sqlite":
            match = re.search(r"\bSCAN (\w+)", line)
            if match and match.group(1) in BIG_TABLES:
                found.append(line.strip())
        else:
            match = re.search(r"Seq Scan on (\w+)", line)
            if match and match.group(1) in BIG_TABLES:
                found.append(line.strip())
    return found
