"""Durability: reviewers save concurrently against a real server process, the process is
killed with SIGKILL in the middle, restarted, and every save that had been answered 2xx is in
the database (SQLite in WAL mode, or PostgreSQL: whichever this run uses)."""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.faults.servers import ServerProcess, Work, review_until_done, seed, stored_labels

pytestmark = pytest.mark.slow

REVIEWERS = 4
KILL_AFTER = 24  # acknowledged claim saves before the kill
MORE_AFTER_RESTART = 16


def run_reviewers(url: str, project_id: int, work: Work, stop: threading.Event) -> None:
    with ThreadPoolExecutor(REVIEWERS) as pool:
        for index in range(REVIEWERS):
            pool.submit(review_until_done, url, f"faults{index}", project_id, work, stop)


def wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_every_acknowledged_save_survives_sigkill(server_database, servers, tmp_path):
    project_id = seed(server_database, documents=2, reviewers=REVIEWERS, tmp_path=tmp_path)
    server = ServerProcess(server_database, tmp_path / "server.log").start()
    servers.append(server)
    before_kill, stop = Work(), threading.Event()
    workers = threading.Thread(
        target=run_reviewers, args=(server.url, project_id, before_kill, stop)
    )
    workers.start()
    wait_for(lambda: before_kill.count() >= KILL_AFTER)
    server.kill()  # mid-flight: reviewers are between and inside requests
    workers.join(timeout=60)
    assert not workers.is_alive()
    assert before_kill.errors == []
    _check_sqlite_file(server_database)

    server.start()  # same port, same database: the sessions of the reviewers still hold
    after_restart, enough = Work(), threading.Event()
    workers = threading.Thread(
        target=run_reviewers, args=(server.url, project_id, after_restart, enough)
    )
    workers.start()
    wait_for(lambda: after_restart.count() >= MORE_AFTER_RESTART)
    enough.set()
    workers.join(timeout=60)
    assert after_restart.errors == []

    stored = stored_labels(server_database)
    for work in (before_kill, after_restart):
        lost = {key: label for key, label in work.acknowledged.items() if stored.get(key) != label}
        assert lost == {}, f"{len(lost)} acknowledged saves are missing or different"


def _check_sqlite_file(database_url: str) -> None:
    """The killed server left a WAL file behind (its commits were not checkpointed) and the
    database is intact."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return
    path = Path(url.database or "")
    assert Path(f"{path}-wal").exists(), "the commits were still in the write-ahead log"
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        connection.close()
