"""Real server processes for the fault tests: ``annotator serve`` in a subprocess on a free
loopback port against a database of its own, started, killed (SIGKILL) and restarted at will,
and reviewers working it over HTTP in threads (tests/web_client.py)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import select, update

from annotator import create_app
from annotator.db import get_engine, get_session, release_session
from annotator.models import Annotation, Project, User
from annotator.services import importing
from tests.conftest import SHARED
from tests.security.conftest import PASSWORD_HASH
from tests.web_client import Reviewer

SECRET_KEY = "fault-tests"  # shared by every server process, so a session works on each
CLI = "from annotator.cli import cli; cli()"
LABELS = ("reported", "quoted", "editorial")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_cli(database_url: str, *args: str) -> str:
    """Run the real ``annotator`` command in a subprocess, with the environment a server
    process gets; returns its output."""
    done = subprocess.run(
        [sys.executable, "-c", CLI, *args],
        env=_env(database_url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _env(database_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY}


class ServerProcess:
    """``annotator serve --port PORT`` with its output in ``log``."""

    def __init__(self, database_url: str, log: Path) -> None:
        self.database_url = database_url
        self.log = log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServerProcess:
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-c", CLI, "serve", "--port", str(self.port)],
                env=_env(self.database_url),
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self._wait_until_up()
        return self

    def _wait_until_up(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited:\n{self.log.read_text()}")
            try:
                if requests.get(f"{self.url}/login", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise AssertionError(f"the server did not come up:\n{self.log.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly like a crash or the OOM killer."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def seed(
    database_url: str, documents: int, reviewers: int, tmp_path: Path, project: str = "faults"
) -> int:
    """Import a corpus into ``project`` (open to all, overlap 2) and create the reviewers
    ``{project}0..N``; returns the project id. Done in this process, on the servers' database."""
    corpus = tmp_path / f"{project}.jsonl"
    maker = SHARED / "bench" / "make_corpus.py"
    subprocess.run([sys.executable, str(maker), str(documents), str(corpus)], check=True)
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY})
    with app.app_context():
        session = get_session()
        report = importing.import_files(session, [(corpus.name, corpus.read_bytes())], project)
        assert not report.failed, report.failed
        session.execute(update(Project).where(Project.name == project).values(open_to_all=True))
        for index in range(reviewers):
            session.add(User(username=f"{project}{index}", password_hash=PASSWORD_HASH))
        session.commit()
        project_id = session.scalar(select(Project.id).where(Project.name == project))
        release_session()
        get_engine().dispose()
    assert project_id is not None
    return project_id


@dataclass
class Work:
    """What the servers acknowledged: (username, claim id) -> label, for 2xx saves only."""

    acknowledged: dict[tuple[str, int], str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, username: str, claim_ids: list[int], label: str) -> None:
        with self.lock:
            for claim_id in claim_ids:
                self.acknowledged[(username, claim_id)] = label

    def count(self) -> int:
        with self.lock:
            return len(self.acknowledged)


def review_until_done(
    url: str, username: str, project_id: int, work: Work, stop: threading.Event
) -> None:
    """Log in, then Next and save every claim until nothing is left, ``stop`` is set or the
    server goes away (a refused or dropped connection ends the reviewer quietly)."""
    reviewer = Reviewer(url, username)
    try:
        reviewer.log_in()
        while not stop.is_set() and (found := reviewer.next_passage(project_id)) is not None:
            passage_id, html = found
            label = LABELS[(passage_id + sum(map(ord, username))) % 3]
            response = reviewer.save_all(passage_id, html, label)
            if response.status_code == 200:
                claims = [int(c) for c in response.json()["annotations"]]
                work.record(username, claims, label)
            elif response.status_code != 409:
                work.errors.append(f"{username}: HTTP {response.status_code} {response.text[:200]}")
    except requests.RequestException:
        return


def stored_labels(database_url: str) -> dict[tuple[str, int], str]:
    """(username, claim id) -> label, as the database holds them (read by a fresh engine)."""
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY})
    with app.app_context():
        rows = get_session().execute(
            select(User.username, Annotation.claim_id, Annotation.label).join(Annotation.user)
        )
        stored = {(username, claim_id): label for username, claim_id, label in rows}
        release_session()
        get_engine().dispose()
    return stored
