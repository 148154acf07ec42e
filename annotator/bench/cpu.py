"""CPU time per item of a phase, by who spent it: the server's workers, the database's own
processes and the benchmark's client. On one machine the three share the cores, so their sum
bounds the throughput: at most ``cores * 1000 / total_ms`` items a second."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds_of_stat(stat: str) -> float:
    """User plus system time from the text of ``/proc/<pid>/stat``. The command name (field
    2, in parentheses) may hold spaces, so fields are counted after its closing one."""
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime: fields 14, 15


def process_cpu_seconds(pid: int) -> float | None:
    """The process's CPU time so far, or None when it is gone."""
    try:
        return cpu_seconds_of_stat(Path(f"/proc/{pid}/stat").read_text())
    except (OSError, IndexError, ValueError):
        return None


@dataclass(frozen=True)
class CpuShare:
    """Milliseconds of CPU per item."""

    workers_ms: float
    database_ms: float | None  # None: the database runs inside the workers (SQLite)
    client_ms: float

    @property
    def total_ms(self) -> float:
        return self.workers_ms + (self.database_ms or 0.0) + self.client_ms

    def ceiling(self, cores: int) -> float:
        """Items a second that the cores could give at this cost, were nothing else running."""
        return cores * 1000 / self.total_ms if self.total_ms else 0.0


@dataclass
class CpuMeter:
    """Reads the CPU time of the workers, of the database's processes (found again at the end,
    so that backends started during the phase count) and of this process, around a phase."""

    worker_pids: list[int]
    database_pids: Callable[[], Iterable[int]] | None = None
    _workers: dict[int, float] = field(default_factory=dict)
    _database: dict[int, float] = field(default_factory=dict)
    _client: float = 0.0

    def start(self) -> None:
        self._workers = _cpu_of(self.worker_pids)
        self._database = _cpu_of(self.database_pids()) if self.database_pids else {}
        self._client = time.process_time()

    def share(self, items: int) -> CpuShare:
        """CPU per item since ``start``."""
        client = time.process_time() - self._client
        workers = _spent(self._workers, _cpu_of(self.worker_pids))
        database = (
            _spent(self._database, _cpu_of(self.database_pids())) if self.database_pids else None
        )
        per_item = 1000 / items if items else 0.0
        return CpuShare(
            workers * per_item,
            None if database is None else database * per_item,
            client * per_item,
        )


def _cpu_of(pids: Iterable[int]) -> dict[int, float]:
    found = {pid: process_cpu_seconds(pid) for pid in pids}
    return {pid: seconds for pid, seconds in found.items() if seconds is not None}


def _spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU spent between two readings; a process first seen in the second counts whole."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
