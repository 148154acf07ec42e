"""Real servers on free loopback ports (gunicorn and ``annotator serve``), databases made and
dropped for the run, and memory figures read from /proc."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from annotator.db import make_engine, normalise_url

STARTUP_LIMIT_S = 60.0
POLL_S = 0.01


def add_database_options(parser: argparse.ArgumentParser) -> None:
    """``--databases`` and ``--pg-server``, which every benchmark takes."""
    parser.add_argument(
        "--databases", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"]
    )
    parser.add_argument(
        "--pg-server",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server; a fresh database is created there and dropped",
    )


def tool(name: str) -> str:
    """A console script of this interpreter's environment (``annotator``, ``gunicorn``)."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} is not installed in this environment")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    kind: str
    process: subprocess.Popen[bytes]
    url: str
    startup_s: float

    def worker_pids(self) -> list[int]:
        """gunicorn: the worker processes; ``annotator serve``: the process itself."""
        children = _children(self.process.pid)
        return children or [self.process.pid]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_server(kind: str, env: dict[str, str], workers: int = 2, threads: int = 1) -> Server:
    """Start gunicorn (``workers`` workers of ``threads`` threads each; one thread is
    gunicorn's sync worker) or ``annotator serve`` and wait for the first 200 on /login;
    ``startup_s`` is the time from spawning the process to that answer."""
    port = free_port()
    if kind == "gunicorn":
        args = [tool("gunicorn"), "--workers", str(workers), "--threads", str(threads),
                "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
                "annotator.wsgi:app"]  # fmt: skip
    else:
        args = [tool("annotator"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    start = time.perf_counter()
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)  # noqa: S603 (our tools)
    url = f"http://127.0.0.1:{port}"
    deadline = start + STARTUP_LIMIT_S
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{kind} exited with code {process.returncode} while starting")
        if _answers(url + "/login"):
            return Server(kind, process, url, time.perf_counter() - start)
        time.sleep(POLL_S)
    process.kill()
    raise RuntimeError(f"{kind} did not answer within {STARTUP_LIMIT_S:.0f} s")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback only)
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _children(pid: int) -> list[int]:
    try:
        listing = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in listing.split()]


def reset_peak_rss(pid: int) -> None:
    """Reset the kernel's peak-RSS mark (VmHWM) so a later reading covers only what follows."""
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a live process, in MiB."""
    return _status_mb(pid, "VmHWM:")


def rss_mb(pid: int) -> float:
    """Resident memory (VmRSS) of a live process now, in MiB."""
    return _status_mb(pid, "VmRSS:")


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return 0.0


def run_measured(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run a command to completion; returns (seconds, peak RSS in MiB from the kernel's
    rusage of that process, stdout)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(args, env=env, stdout=out, stderr=err)  # noqa: S603 (our tools)
        _pid, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            message = err.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"{' '.join(args[:3])} failed: {message}")
        return elapsed, usage.ru_maxrss / 1024, out.read().decode(errors="replace")


class Database:
    """A fresh database for one benchmark: a SQLite file, or a new PostgreSQL database on the
    given server (dropped by ``drop``)."""

    def __init__(self, kind: str, workdir: Path, pg_server: str) -> None:
        self.kind = kind
        self.name = f"annotator_bench_{uuid.uuid4().hex[:10]}"
        if kind == "sqlite":
            self.path = workdir / f"{self.name}.db"
            self.url = f"sqlite:///{self.path}"
            return
        self.admin_url = make_url(normalise_url(pg_server)).render_as_string(hide_password=False)
        admin = make_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        admin.dispose()
        url = make_url(self.admin_url).set(database=self.name)
        self.url = url.render_as_string(hide_password=False)

    def backend_pids(self) -> list[int]:
        """The PostgreSQL server's processes connected to this database (but the one asking).
        A SQLite database has none: it runs in the processes that use it."""
        engine = make_engine(self.url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    text(
                        "SELECT pid FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
                return [int(pid) for (pid,) in rows]
        finally:
            engine.dispose()

    def drop(self) -> None:
        if self.kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            return
        admin = make_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        admin.dispose()


def directory_mb(path: Path) -> float:
    """Bytes of the regular files under ``path`` (not following links), in MB."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total / 1e6
