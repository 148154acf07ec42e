"""The new-versions benchmark runs every step on a fresh database of the suite's kind and
counts what each stored as new versions."""

from __future__ import annotations

import json
import os

import pytest

from annotator.bench import versions

CITING = [
    {
        "id": f"doc-{number}",
        "title": f"Talks stall again ({number})",
        "text": "The talks stalled on Monday.\n\n"
        "The Kyiv Independent reports:\n\n"
        "Negotiators left the room after an hour. A spokesman said the next round was off.\n\n"
        "I doubt the talks will resume soon.",
    }
    for number in (1, 2)
]
UNCITING = {"id": "doc-3", "title": "A quiet week", "text": "Nothing happened this week."}


def test_the_versions_bench_stores_new_versions_only_where_something_changed(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(doc) + "\n" for doc in [*CITING, UNCITING]))
    kind = "postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"
    measured = versions.measure(corpus, kind, tmp_path, os.environ.get("TEST_DATABASE_URL", ""))
    steps = measured["steps"]
    assert list(steps) == list(versions.STEPS)
    # Only the documents citing an outlet lose it when the outlets are cleared (twice); every
    # text changes in the fourth step.
    assert [steps[step]["new_versions"] for step in versions.STEPS] == [0, 0, 2, 3, 2]
    *commands, background = versions.STEPS
    assert all(steps[step]["seconds"] > 0 and steps[step]["rss_mib"] > 0 for step in commands)
    assert steps[background]["seconds"] > 0
    before, after = steps[background]["launcher_rss_mib"]
    assert min(before, after) > 0
    assert measured["labels"] > 0
    assert sorted(tmp_path.iterdir()) == [corpus], "the label file and changed corpus go"


@pytest.mark.parametrize(
    ("summary", "stored"),
    [
        ("0 documents analysed again with a new result, 1,000 unchanged", 0),
        ("1 document analysed again with a new result, 0 unchanged", 1),
        (
            "0 imported, 1,200 updated to a new version, 3 analysed again with a new result, "
            "0 skipped as duplicates, 0 failed; 9 passages stored",
            1203,
        ),
    ],
)
def test_new_versions_are_read_from_either_summary(summary, stored):
    assert versions.new_versions(summary) == stored
