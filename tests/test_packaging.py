"""The wheel carries the root-level templates and static files, and the migrations."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_contains_templates_static_and_migrations(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
        check=True,
    )
    wheel = next(tmp_path.glob("annotator-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "annotator/templates/passages/show.html" in names
    assert "annotator/static/js/annotate.js" in names
    assert "annotator/static/css/app.css" in names
    assert "annotator/static/img/favicon.svg" in names
    assert any(n.startswith("annotator/migrations/versions/") for n in names)
    assert "annotator/migrations/env.py" in names
    assert "annotator/sample_article.md" in names


def test_no_packaged_copy_shadows_the_root_folders():
    assert not (REPO / "annotator" / "templates").exists()
    assert not (REPO / "annotator" / "static").exists()
