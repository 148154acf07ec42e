"""SQLite's memory statistics are off in processes that import the package before sqlite3
(its commands and server workers); otherwise nothing is changed."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _run(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.mark.parametrize(
    ("imports", "expected"),
    [
        ("import annotator, sqlite3", "False"),
        ("from annotator.cli import cli", "False"),
        ("import sqlite3, annotator", "True"),
    ],
)
def test_memory_statistics_are_off_when_the_package_comes_first(imports, expected):
    code = f"{imports}\nfrom annotator.sqlite_setup import memory_statistics_on\n"
    assert _run(code + "print(memory_statistics_on())") == expected


def test_turning_them_off_after_sqlite3_started_changes_nothing():
    code = (
        "import sqlite3\n"
        "from annotator.sqlite_setup import memory_statistics_on, turn_off_memory_statistics\n"
        "print(turn_off_memory_statistics(), memory_statistics_on())"
    )
    assert _run(code) == "False True"
