"""What the figures were measured on, beyond the machine itself: the interpreter.

How CPython was built changes the figures. On one machine, pyenv's default build (no
profile-guided optimisation, the interpreter in a shared ``libpython``) ran 17% more
instructions per "Save and next" on PostgreSQL than Debian's ``/usr/bin/python3``
(docs/benchmarks.md, round 10), so the table names the interpreter it ran on."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

MAPS = Path("/proc/self/maps")


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
