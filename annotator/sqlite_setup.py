"""A process-wide SQLite setting, made before the library starts. No Flask imports.

SQLite keeps statistics of its memory use by default, under a mutex that every allocation of
every connection in the process takes. Two threads writing CSV pages on their own connections
then spent most of their time waiting for each other: two pages at once took as long as one
after the other (docs/benchmarks.md, round 7). SQLite's documentation advises turning the
statistics off where nothing reads them (nothing here does). Python's sqlite3 has no switch for
it, and SQLite accepts it only before it is initialised, which importing sqlite3 does; so the
package does it when it is first imported, through the library that sqlite3 is linked with.
"""

from __future__ import annotations

import ctypes
import importlib.util
import sys

SQLITE_CONFIG_MEMSTATUS = 9  # sqlite3.h
SQLITE_OK = 0


def turn_off_memory_statistics() -> bool:
    """Whether SQLite's memory statistics are now off in this process. False, with nothing
    changed, when sqlite3 was imported already or its library cannot be reached."""
    if "_sqlite3" in sys.modules:
        return False
    library = _sqlite_library()
    if library is None:
        return False
    try:
        configure = library.sqlite3_config
    except AttributeError:  # linked in without its symbols exported
        return False
    return bool(configure(SQLITE_CONFIG_MEMSTATUS, ctypes.c_int(0)) == SQLITE_OK)


def _sqlite_library() -> ctypes.CDLL | None:
    """The SQLite that sqlite3 uses: symbols looked up through its extension module resolve to
    the library it is linked with (or its own copy). Loading the module's file does not run
    its initialisation, which the first ``import sqlite3`` still does."""
    spec = importlib.util.find_spec("_sqlite3")
    if spec is None or not spec.origin or not spec.has_location:
        return None
    try:
        return ctypes.CDLL(spec.origin)
    except OSError:
        return None


def memory_statistics_on() -> bool:
    """Whether SQLite counts its memory in this process (for the tests):
    with statistics off, ``sqlite3_memory_used`` answers 0."""
    import sqlite3

    connection = sqlite3.connect(":memory:")
    try:
        connection.execute("SELECT 1").fetchall()
        library = _sqlite_library()
        if library is None:
            raise RuntimeError("the SQLite library of sqlite3 cannot be reached")
        used = library.sqlite3_memory_used
        used.restype = ctypes.c_int64
        return bool(used() > 0)
    finally:
        connection.close()
