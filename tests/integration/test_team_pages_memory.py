"""The team's pages leave the process that served them light: the agreement figures and the
Wilson intervals need numpy and krippendorff only, not statsmodels with scipy and pandas
(about 105 MiB and 1.2 s more in a server process, which then also exports)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from annotator.db import get_session
from annotator.models import Passage, Role
from annotator.services import accounts, annotating
from annotator.services.annotating import TagSubmission
from tests.conftest import PASSWORD
from tests.helpers import import_fixture

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ["pandas", "scipy", "statsmodels"]
PAGES = [
    "/projects/{p}/agreement",
    "/projects/{p}/agreement.json",
    "/projects/{p}/reports/outlets",
    "/projects/{p}/reports/outlets.csv",
    "/projects/{p}/reports/reviewers",
    "/projects/{p}/adjudicate",
]
SERVE_THE_PAGES = """
import json, sys
from annotator import create_app
url, password, project_id, pages, heavy = sys.argv[1:4] + [json.loads(a) for a in sys.argv[4:]]
app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x" * 32, "WTF_CSRF_ENABLED": False})
client = app.test_client()
assert client.post("/login", data={"username": "curator", "password": password}).status_code == 302
statuses = [client.get(page.format(p=project_id)).status_code for page in pages]
print(json.dumps({"statuses": statuses, "loaded": [m for m in heavy if m in sys.modules]}))
"""


def _labelled_project(app) -> int:
    """A project whose claims two reviewers labelled, disagreeing on every second passage."""
    with app.app_context():
        session = get_session()
        import_fixture(session, "two.jsonl", project="study")
        accounts.create_user(session, "curator", PASSWORD, Role.ADMIN)
        ann = accounts.create_user(session, "ann", PASSWORD, Role.REVIEWER)
        bob = accounts.create_user(session, "bob", PASSWORD, Role.REVIEWER)
        passages = session.scalars(select(Passage).where(Passage.claim_count > 0)).all()
        for number, passage in enumerate(passages):
            for user, label in ((ann, "quoted"), (bob, ("quoted", "editorial")[number % 2])):
                ids = [claim.id for claim in passage.claims]
                submission = TagSubmission(dict.fromkeys(ids, label), dict.fromkeys(ids, 0))
                annotating.save_passage(session, user, passage, submission)
        session.commit()
        return int(passages[0].project_id)


def test_the_team_pages_do_not_load_scipy_or_pandas(app_on_fresh_database):
    project_id = _labelled_project(app_on_fresh_database)
    url = app_on_fresh_database.config["DATABASE_URL"]
    args = [url, PASSWORD, str(project_id), json.dumps(PAGES), json.dumps(HEAVY)]
    done = subprocess.run(
        [sys.executable, "-c", SERVE_THE_PAGES, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["statuses"] == [200] * len(PAGES)
    assert result["loaded"] == []
