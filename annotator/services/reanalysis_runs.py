"""Reanalyses started from the project page or the API in the background, in a process of
their own, so that a large project's run waits for no request: starting one (one at a time per
project), running it while its row tells how far it has got, and the latest run of a project
as a page shows it. The command (``annotator reanalyse``) runs a reanalysis in its own
process and waits for it."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from annotator.db import begin_write
from annotator.models import Project, ReanalysisRun, RunState, User, utcnow
from annotator.services import importing
from annotator.wording import counted

log = logging.getLogger(__name__)

# A run's process beats its row from a thread of its own, however long a batch takes or waits
# for locks; a run silent for this long was cut short (its process killed, the machine
# restarted). On SQLite a beat waits while another transaction writes, so the margin is wide.
HEARTBEAT_EVERY = timedelta(seconds=15)
STALE_AFTER = timedelta(minutes=2)
STOPPED = "stopped"


GOING_ON = (RunState.RUNNING, RunState.CANCELLING)


class RunRefused(ValueError):
    """A run of the project is already going on (or, to cancel one, none is)."""


class RunCancelled(Exception):
    """An admin asked the run to stop; raised after the batch under way."""


@dataclass(frozen=True)
class RunStatus:
    """The latest run of a project as a page shows it. ``state`` is a RunState, or STOPPED
    for a run whose heartbeat stopped."""

    id: int
    preview: bool
    state: str
    done: int
    total: int | None
    started_by: str | None
    started_at: datetime
    finished_at: datetime | None
    summary: str
    lost_labels: str

    @property
    def going_on(self) -> bool:
        return self.state in GOING_ON

    def message(self) -> str:
        what = "Preview of the analysis" if self.preview else "Analysis"
        kept = (
            "Nothing was changed" if self.preview else "The documents done keep their new analysis"
        )
        if self.state == RunState.RUNNING:
            if self.total is None:
                return f"{what} of the documents again: starting."
            return f"{what} of the documents again: {self.progress()} so far."
        if self.state == RunState.CANCELLING:
            return (
                f"{what} of the documents again: stopping after the batch under way "
                f"({self.progress()} so far)."
            )
        if self.state == RunState.CANCELLED:
            return (
                f"{what} of the documents again was {self.summary} after {self.progress()}. {kept}."
            )
        if self.state == RunState.FINISHED:
            return f"{what} of the documents again finished: {self.summary}."
        if self.state == RunState.FAILED:
            return f"{what} of the documents again failed after {self.progress()}: {self.summary}"
        return (
            f"{what} of the documents again stopped after {self.progress()}, cut short with "
            f"its process (a restart). {kept}; start it again to finish."
        )

    def progress(self) -> str:
        if self.total is None:  # before the run has counted the project's documents
            return "0 documents"
        return f"{self.done:,} of {counted(self.total, 'document')}"

    def took(self) -> str:
        """How long a run that ended took ("" for one that did not end)."""
        if self.finished_at is None:
            return ""
        seconds = round((self.finished_at - self.started_at).total_seconds())
        minutes, seconds = divmod(seconds, 60)
        return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "preview": self.preview,
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "started_by": self.started_by,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "summary": self.summary,
            "lost_labels": self.lost_labels,
            "going_on": self.going_on,
            "message": self.message(),
        }


def latest(session: Session, project: Project) -> RunStatus | None:
    """The project's latest run, or None when none was started."""
    row = session.execute(
        select(ReanalysisRun, User.username)
        .outerjoin(User, User.id == ReanalysisRun.started_by)
        .where(ReanalysisRun.project_id == project.id)
        .order_by(ReanalysisRun.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    run, username = row
    return RunStatus(
        id=run.id,
        preview=run.preview,
        state=STOPPED if _stale(run) else run.state,
        done=run.done,
        total=run.total,
        started_by=username,
        started_at=_in_utc(run.started_at),
        finished_at=_in_utc(run.finished_at) if run.finished_at else None,
        summary=run.summary,
        lost_labels=run.lost_labels,
    )


def _stale(run: ReanalysisRun) -> bool:
    silent = datetime.now(UTC) - _in_utc(run.heartbeat_at)
    return run.state in GOING_ON and silent > STALE_AFTER


def _in_utc(moment: datetime) -> datetime:
    """SQLite hands a stored UTC time back without its zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def start(session: Session, project: Project, user: User, *, preview: bool) -> int:
    """Record a new run of the project (committed) and return its id, for ``launch``; refused
    while another run of it is going on (its heartbeat not stale)."""
    project_id = project.id
    begin_write(session)
    # Two admins starting at once: the second waits here and then sees the first's run.
    session.execute(select(Project.id).where(Project.id == project_id).with_for_update())
    going = latest(session, project)
    if going is not None and going.going_on:
        refusal = RunRefused(
            f"The documents of {project.name!r} are already being analysed again "
            f"({going.progress()} done); wait for that run to finish."
        )
        session.rollback()
        raise refusal
    recorded = ReanalysisRun(project_id=project_id, started_by=user.id, preview=preview)
    session.add(recorded)
    session.commit()
    return recorded.id


def cancel(session: Session, project: Project, user: User) -> None:
    """Ask the project's run going on to stop after the batch under way: a run keeps the
    batches it stored, a preview changes nothing either way. Refused when none goes on."""
    begin_write(session)
    going = latest(session, project)
    if going is None or not going.going_on:
        session.rollback()
        raise RunRefused(f"No analysis of the documents of {project.name!r} is going on.")
    session.execute(
        update(ReanalysisRun)
        .where(ReanalysisRun.id == going.id, ReanalysisRun.state == RunState.RUNNING)
        .values(state=RunState.CANCELLING, summary=f"cancelled by {user.username}")
    )
    session.commit()


def launch(database_url: str, run_id: int) -> subprocess.Popen[bytes]:
    """Do the recorded run in a process of its own (``annotator run-reanalysis``), so that
    the memory it takes goes back to the system when it ends, rather than staying with the
    web worker that started it (a worker's export would then pass its memory target), and
    the worker's CPU stays with its requests. The process outlives a restart of the web
    server; a thread of this process waits for it to end, so that it leaves no zombie."""
    process = subprocess.Popen(  # noqa: S603 (this interpreter, our command, an id)
        [sys.executable, "-m", "annotator", "run-reanalysis", str(run_id)],
        env={**os.environ, "DATABASE_URL": database_url},
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    threading.Thread(target=process.wait, name=f"reanalysis-{run_id}", daemon=True).start()
    return process


def run(engine: Engine, run_id: int) -> None:
    """Do the recorded run, telling its row after each batch; a failure is logged and the row
    says so. A run that is not (or no longer) recorded as running is left alone."""
    with Session(engine, expire_on_commit=False) as work, Session(engine) as told:
        recorded = work.get(ReanalysisRun, run_id)
        if recorded is not None and recorded.state == RunState.CANCELLING:
            work.rollback()
            _record(told, run_id, state=RunState.CANCELLED, finished_at=utcnow())
            return
        if recorded is None or recorded.state != RunState.RUNNING:
            return
        project_id, preview = recorded.project_id, recorded.preview
        project = work.get(Project, project_id)
        work.rollback()
        if project is None:
            return

        def tell(done: int, total: int) -> None:
            state = _record(told, run_id, done=done, total=total)
            if state == RunState.CANCELLING:
                raise RunCancelled

        try:
            with _beating(engine, run_id):
                done = importing.reanalyse_project(work, project, tell, preview=preview)
        except RunCancelled:
            work.rollback()
            _record(told, run_id, state=RunState.CANCELLED, finished_at=utcnow())
            return
        except Exception as exc:
            work.rollback()
            log.exception("The reanalysis run %s of project %s failed", run_id, project_id)
            _record(
                told,
                run_id,
                state=RunState.FAILED,
                finished_at=utcnow(),
                summary=f"{type(exc).__name__}; the batch it was on was undone, and the "
                "server's log has the details.",
            )
            return
        _record(
            told,
            run_id,
            state=RunState.FINISHED,
            finished_at=utcnow(),
            summary=done.summary(),
            lost_labels=done.lost_labels(),
        )


@contextmanager
def _beating(engine: Engine, run_id: int) -> Iterator[None]:
    """Refresh the run's heartbeat every HEARTBEAT_EVERY, from a thread with a session of its
    own, while the block runs: a batch that waits for reviewers' locks or takes long is not
    taken for a run cut short, and no second run starts beside it."""
    stop = threading.Event()

    def beat() -> None:
        with Session(engine) as session:
            while not stop.wait(HEARTBEAT_EVERY.total_seconds()):
                try:
                    _record(session, run_id, heartbeat_at=utcnow())
                except SQLAlchemyError:  # the database busy or away: the next beat tries again
                    session.rollback()
                    log.warning("The reanalysis run %s missed a heartbeat", run_id, exc_info=True)

    beating = threading.Thread(target=beat, name=f"heartbeat-of-run-{run_id}", daemon=True)
    beating.start()
    try:
        yield
    finally:
        stop.set()
        beating.join()


def _record(session: Session, run_id: int, **values: Any) -> str | None:
    """Write the run's row; its state as it is now (None once the row is gone)."""
    begin_write(session)
    state = session.scalar(
        update(ReanalysisRun)
        .where(ReanalysisRun.id == run_id)
        .values(**values)
        .returning(ReanalysisRun.state)
    )
    session.commit()
    return state
