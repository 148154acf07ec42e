"""What the figures were measured on: the processor, how fast it ran the interpreter during
the run, how much of it the host took away, and the interpreter.

How CPython was built changes the figures. On one machine, pyenv's default build (no
profile-guided optimisation, the interpreter in a shared ``libpython``) ran 17% more
instructions per "Save and next" on PostgreSQL than Debian's ``/usr/bin/python3``
(docs/benchmarks.md, round 10), so the table names the interpreter it ran on.

A virtual machine of the same kind is not always as fast: the same loop of Python took 0.76 s
and, minutes later, 0.98 s on one of them, with no time stolen by the host in either
(docs/benchmarks.md, round 16). The reference loop, timed before and after each run, shows
how fast the machine was while the figures were taken."""

from __future__ import annotations

import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

MAPS = Path("/proc/self/maps")
CPUINFO = Path("/proc/cpuinfo")
STAT = Path("/proc/stat")
REFERENCE_LOOP_ADDITIONS = 2_000_000
STEAL_FIELD = 8  # of /proc/stat's "cpu" line, counted from 1 after the name (proc(5))


def reference_loop_ms(repeats: int = 5) -> float:
    """The median time of a fixed loop of Python additions, in ms: how fast the machine runs
    the interpreter at the moment."""
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        total = 0
        for number in range(REFERENCE_LOOP_ADDITIONS):
            total += number
        timings.append(time.perf_counter() - start)
    return statistics.median(timings) * 1000


def processor(cpuinfo: str | None = None) -> str:
    """The processor's model name and the number of processors, from ``/proc/cpuinfo``."""
    if cpuinfo is None:
        try:
            cpuinfo = CPUINFO.read_text()
        except OSError:
            return "processor unknown"
    names = [
        line.split(":", 1)[1].strip()
        for line in cpuinfo.splitlines()
        if line.startswith("model name") and ":" in line
    ]
    if not names:
        return "processor unknown"
    return f"{names[0]}, {len(names)} processors"


@dataclass(frozen=True)
class CpuTicks:
    """The machine's CPU time so far, in clock ticks: in all, and taken by the host for other
    guests (steal)."""

    total: int
    stolen: int

    @classmethod
    def of_stat(cls, stat: str) -> CpuTicks | None:
        """From the text of ``/proc/stat``; None when it has no "cpu" line to read."""
        for line in stat.splitlines():
            fields = line.split()
            if fields and fields[0] == "cpu":
                ticks = [int(value) for value in fields[1:]]
                # guest time (fields 9 and 10) is already counted in user time
                counted = ticks[:STEAL_FIELD]
                stolen = ticks[STEAL_FIELD - 1] if len(ticks) >= STEAL_FIELD else 0
                return cls(sum(counted), stolen)
        return None

    @classmethod
    def now(cls) -> CpuTicks | None:
        try:
            return cls.of_stat(STAT.read_text())
        except (OSError, ValueError):
            return None

    def stolen_share_since(self, earlier: CpuTicks) -> float | None:
        """The share of the CPU time since ``earlier`` that the host took (0 to 1)."""
        elapsed = self.total - earlier.total
        return (self.stolen - earlier.stolen) / elapsed if elapsed > 0 else None


def interpreter() -> str:
    """This interpreter's version and path, and where its core lives."""
    try:
        maps = MAPS.read_text()
    except OSError:
        maps = None
    return (
        f"{platform.python_implementation()} {platform.python_version()} ({sys.executable}), "
        f"{libpython_placement(maps)}"
    )


def libpython_placement(maps: str | None) -> str:
    """Whether the interpreter's core is a shared ``libpython`` the executable loads or built
    into the executable, read from the process's memory map (``/proc/self/maps``)."""
    if maps is None:
        return "libpython placement unknown"
    for line in maps.splitlines():
        mapped = line.split(maxsplit=5)
        if len(mapped) == 6 and Path(mapped[5]).name.startswith("libpython"):
            return f"shared libpython ({Path(mapped[5]).name})"
    return "libpython built into the executable"
