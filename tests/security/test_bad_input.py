"""The bad-input corpus (tests/fixtures/bad/): each file gets a clear error naming the file
(and line), nothing of it is imported, and a real server answers normally afterwards. A single
20 MB line and an oversized upload are generated here rather than committed."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from annotator.db import get_session
from annotator.models import Document, Passage, Role
from annotator.services import accounts
from annotator.services.importing import import_files
from tests.conftest import PASSWORD
from tests.helpers import counts
from tests.security.hostile import hostile_jsonl

BAD = Path(__file__).resolve().parents[1] / "fixtures" / "bad"
# What each file's error must say (a regular expression).
EXPECTED = {
    "empty.txt": r"the file is empty",
    "empty.jsonl": r"holds no records",
    "empty.csv": r"the file is empty",
    "blank.md": r"the file is empty",
    "damaged_utf8.txt": r"not valid UTF-8",
    "binary.txt": r"binary file",
    "broken_middle.jsonl": r"line 2: invalid JSON",
    "nul_escape.jsonl": r"line 2: .*(NUL|U\+0000)",
    "lone_surrogate.jsonl": r"line 1: .*U\+D800",
    "deep_json.jsonl": r"line 2: invalid JSON \(nested too deeply\)",
    "missing_columns.csv": r"lacks the column\(s\) id, text",
    "ragged.csv": r"line 3: more fields than the header",
    "nested.html": r"no article text found",
    "role_as_list.jsonl": r'line 1: passage 0: "role" must be author or excerpt',
    "final_label_as_object.jsonl": r'line 1: passage 0, claim 0: "final_label" must be a label',
    "truncated.zip": r"not a valid ZIP archive",
    "corrupt_member.zip": r"corrupt_member\.zip/a\.txt: cannot be unpacked",
    "old_word.doc": r"a Word 97-2003 document .*save it as a Word document \(\.docx\)",
    "not_word.docx": r"not a Word document this can read",
}
TWENTY_MB = 20 * 1024 * 1024


def test_the_corpus_and_the_table_agree():
    assert {p.name for p in BAD.iterdir() if p.name != "README.md"} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_file_is_refused_whole_with_a_clear_error(session, name):
    before = counts(session)
    report = import_files(session, [(name, (BAD / name).read_bytes())], "bad")
    assert report.imported == []
    assert len(report.failed) == 1
    assert report.failed[0].startswith(name), "the error names the file"
    assert re.search(EXPECTED[name], report.failed[0]), report.failed[0]
    assert counts(session) == before


def test_a_single_20_mb_line_is_refused(session, tmp_path):
    article = tmp_path / "one_line.txt"
    article.write_bytes(b"Headline " + b"word " * (TWENTY_MB // 5))
    record = tmp_path / "one_line.jsonl"
    record.write_bytes(b'{"id": "big", "title": "t", "text": "' + b"x" * TWENTY_MB + b'"}\n')
    before = counts(session)
    files = [(p.name, p.read_bytes()) for p in (article, record)]
    report = import_files(session, files, "bad")
    assert len(report.failed) == 2
    assert all(
        "too long" in failure and "limit is 1,000,000" in failure for failure in report.failed
    )
    assert counts(session) == before


def test_cli_reports_every_bad_file_and_exits_non_zero(runner, session):
    result = runner.invoke(args=["import", *(str(BAD / name) for name in sorted(EXPECTED))])
    assert result.exit_code == 1
    for name in EXPECTED:
        assert f"error: {name}" in result.output
    assert session.scalar(select(Document.id).limit(1)) is None


# Through a real server: the upload form, an oversized upload, and the server still answers.


class Admin:
    """An admin's browser session against the live server (requests, real CSRF tokens)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        login = self.http.get(f"{url}/login", timeout=30).text
        data = {"username": "adam", "password": PASSWORD, "csrf_token": _token(login)}
        assert self.http.post(f"{url}/login", data=data, timeout=30).status_code == 200

    def upload(self, name: str, data: bytes) -> requests.Response:
        token = _token(self.http.get(f"{self.url}/admin/import", timeout=30).text)
        return self.http.post(
            f"{self.url}/admin/import",
            data={"csrf_token": token, "project": "bad"},
            files={"file": (name, data)},
            timeout=60,
        )


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]


@pytest.mark.slow
def test_live_server_refuses_the_corpus_and_oversized_uploads_and_stays_up(live_server):
    with live_server.app.app_context():
        accounts.create_user(get_session(), "adam", PASSWORD, Role.ADMIN)
    admin = Admin(live_server.url)
    for name in sorted(EXPECTED):
        response = admin.upload(name, (BAD / name).read_bytes())
        assert response.status_code == 400, name
        assert re.search(EXPECTED[name], html.unescape(response.text)), name
    big_line = admin.upload("one_line.txt", b"Headline " + b"x" * TWENTY_MB)
    assert big_line.status_code == 400
    assert "too long" in big_line.text
    live_server.app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    too_large = admin.upload("big.jsonl", hostile_jsonl() * 400)
    assert too_large.status_code == 413
    assert "The upload is too large: the limit is 1 MB" in too_large.text
    assert admin.upload("hostile.jsonl", hostile_jsonl()).status_code == 200, "still importing"
    assert requests.get(f"{live_server.url}/login", timeout=30).status_code == 200
    with live_server.app.app_context():
        ids = get_session().scalars(select(Document.external_id)).all()
    assert ids == ["hostile-1"], "nothing from the bad files was stored"


def test_json_nested_too_deeply_is_a_bad_request(client, make_user, login, session):
    """Python's JSON parser gives up on deep nesting with RecursionError: a 400, not a 500."""
    import_files(session, [("a.jsonl", (BAD.parent / "import" / "two.jsonl").read_bytes())], "p")
    make_user("rita", Role.ADMIN)
    login("rita")
    passage_id = session.scalar(select(Passage.id).where(Passage.claim_count > 0))
    body = "[" * 100_000 + "]" * 100_000
    response = client.post(f"/passages/{passage_id}", data=body, content_type="application/json")
    assert response.status_code == 400
    api = client.put(
        f"/api/v1/passages/{passage_id}/tags", data=body, content_type="application/json"
    )
    assert api.status_code == 400


# Ids in addresses: 0, one past PostgreSQL's 32-bit integers, and more digits than ``int`` reads.
IDS_NO_ROW_CAN_HAVE = ["0", "2147483648", "9" * 5000]
ID_IN_RULE = re.compile(r"<int:\w+>")


def test_an_id_no_row_can_have_is_refused_at_every_address(app, client, make_user, login):
    login(make_user("ada", Role.ADMIN))
    rules = [rule for rule in app.url_map.iter_rules() if ID_IN_RULE.search(rule.rule)]
    assert len(rules) > 20
    wrong = []
    for rule, bad_id in ((rule, bad_id) for rule in rules for bad_id in IDS_NO_ROW_CAN_HAVE):
        url = ID_IN_RULE.sub(bad_id, rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            status = client.open(url, method=method).status_code
            if status not in (404, 405):  # 405: the address's rule for GET matched first
                wrong.append(f"{method} {url[:60]}: HTTP {status}")
    assert not wrong, wrong
