"""Import formats: HTML, Word, CSV with metadata, ZIP (with its limits and damage), encodings
and line ends."""

from __future__ import annotations

import io
import zipfile

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from annotator.models import Document, Passage, Role
from annotator.services import readers
from annotator.services.importing import import_files
from annotator.services.records import ImportFileError
from tests.helpers import FIXTURES, STRIKE_DOCX_PARAGRAPHS, count, refusal_of, word_document

CSV_DOCS = (
    "id,title,text,url,site,published,topic,language\r\n"
    'n-1,Port reopens (Reuters),"The port reopened on Monday, officials said.\r\n\r\n'
    'Traffic was light.",https://example.org/n-1,Example,2024-05-01,shipping,en\r\n'
    'n-2,,"Rail strike called off\r\n\r\nUnions agreed to a deal.",,,,rail,\r\n'
)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_html_article_keeps_text_and_blockquote_excerpts(session):
    report = import_files(
        session, [("kremlin.html", (FIXTURES / "kremlin.html").read_bytes())], "default"
    )
    assert report.imported == ["kremlin"], report.failed
    document = session.scalar(select(Document))
    assert document.title == "Kremlin denies talks with Kyiv (Tass)"
    assert document.site == "Daily Digest"
    texts = [p.text for p in document.passages]
    assert not any(
        "Home" in t or "mugs" in t or "cheap pills" in t or "Copyright" in t for t in texts
    )
    quoted = [p for p in document.passages if p.text.startswith("Peskov said")]
    assert len(quoted) == 1
    assert quoted[0].role == "excerpt"
    assert quoted[0].outlet.name == "Kyiv Independent"
    assert document.passages[0].outlet.name == "Tass"


LINKED_LEAD_IN_PAGE = """<html><head><title>Port strike spreads</title></head><body><article>
<h1>Port strike spreads</h1>
<p>The strike reached a second port on Monday, and nobody in charge seems to have a plan.</p>
<p>As <a href="https://www.npr.org/2024/05/01/strike">reported <b>here</b></a>:</p>
<blockquote><p>Dock workers walked out at noon, <a href="/union">the union</a> said.</p>
</blockquote>
<p>I think <a href="https://example.net/poll">most readers</a> would agree this ends badly.</p>
<p>From <a href="/earlier">our earlier piece</a>:</p>
<blockquote><p>The talks collapsed after an hour, officials said.</p></blockquote>
</article></body></html>"""


def test_html_lead_in_keeps_its_links_and_a_link_to_an_outlet_names_it(session):
    report = import_files(session, [("strike.html", LINKED_LEAD_IN_PAGE.encode())], "default")
    assert report.imported == ["strike"], report.failed
    passages = session.scalar(select(Document)).passages
    assert [(p.text, p.role, p.outlet.name if p.outlet else None) for p in passages[1:]] == [
        (
            "The strike reached a second port on Monday, and nobody in charge seems to have "
            "a plan.",
            "author",
            None,
        ),
        ("As [reported here](https://www.npr.org/2024/05/01/strike):", "author", "NPR"),
        ("Dock workers walked out at noon, the union said.", "excerpt", "NPR"),
        ("I think most readers would agree this ends badly.", "author", None),
        # A relative link (the page's own site, the file having no address) stays words.
        ("From our earlier piece:", "author", None),
        ("The talks collapsed after an hour, officials said.", "excerpt", "NPR"),
    ]
    assert passages[2].cue == "[reported here](https://www.npr.org/2024/05/01/strike)"


def test_html_without_article_is_refused():
    with pytest.raises(ImportFileError, match=r"page\.html: no article text"):
        readers.read_records("page.html", b"<html><body><nav>Home</nav></body></html>")


# A stray "<a?>" after unclosed links: trafilatura copied the name "a?" into its XML and then
# failed to read that XML back.
BROKEN_TAG_PAGE = (
    "<html><body><a><a><div>B<a?>K</div><article><h1>Port reopens</h1>"
    "<p>Ships docked on Monday after a week of strikes, the harbour master said.</p>"
    "<p>Traffic was light, and officials expected a full recovery within days.</p>"
    "</article></body></html>"
)


def test_a_page_with_a_tag_name_xml_cannot_hold_is_read():
    (record,) = readers.read_records("port.html", BROKEN_TAG_PAGE.encode())
    assert record.title == "Port reopens"
    assert record.text.split("\n\n")[:2] == [
        "Ships docked on Monday after a week of strikes, the harbour master said.",
        "Traffic was light, and officials expected a full recovery within days.",
    ]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2000), st.sampled_from(list("<>/=\"'?!&;# :-"))), max_size=6)
)
def test_a_page_with_broken_markup_is_read_or_refused_never_with_another_error(insertions):
    page = (FIXTURES / "kremlin.html").read_text(encoding="utf-8")
    for position, character in insertions:
        page = page[:position] + character + page[position:]
    refusal = refusal_of("kremlin.html", page.encode())
    assert refusal is None or refusal.startswith("kremlin.html: ")


def test_csv_keeps_extra_columns_as_metadata_and_handles_crlf(session):
    report = import_files(session, [("news.csv", CSV_DOCS.encode())], "default")
    assert report.imported == ["n-1", "n-2"], report.failed
    first = session.scalar(select(Document).where(Document.external_id == "n-1"))
    assert first.meta == {"topic": "shipping", "language": "en"}
    assert (first.url, first.site, first.published) == (
        "https://example.org/n-1",
        "Example",
        "2024-05-01",
    )
    assert [p.text for p in first.passages] == [
        "Port reopens (Reuters)",
        "The port reopened on Monday, officials said.",
        "Traffic was light.",
    ]
    second = session.scalar(select(Document).where(Document.external_id == "n-2"))
    assert second.title == "Rail strike called off"
    assert second.meta == {"topic": "rail"}
    assert not any("\r" in p.text for p in session.scalars(select(Passage)))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("title,text\nA,b\n", "news.csv, line 1: the header lacks the column(s) id"),
        ("id,text\nx,\n", 'news.csv, line 2: fields "id" and "text" must not be empty'),
        ("id,text\nx,body,extra\n", "news.csv, line 2: more fields than the header"),
        ('id,text\nx,"ok"\ny,"unclosed\n', "news.csv, line 3"),
        ("id,text\nx,one\nx,two\n", 'news.csv, line 3: id "x" appears twice'),
    ],
)
def test_bad_csv_names_the_line_and_imports_nothing(session, content, message):
    report = import_files(session, [("news.csv", content.encode())], "default")
    assert report.imported == []
    assert message in report.failed[0]
    assert count(session, Document) == 0


def test_semicolon_csv_from_a_spreadsheet(session):
    data = "id;title;text\nx;Budget passes;The council approved the budget.\n".encode("cp1252")
    report = import_files(session, [("sheet.csv", data)], "default")
    assert report.imported == ["x"], report.failed


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            "Caf\u00e9 reopens\n\nThe caf\u00e9 on the square reopened.".encode("cp1252"),
            "Café reopens",
        ),
        (b"\xef\xbb\xbfBOM headline\r\n\r\nBody text here.", "BOM headline"),
        ("UTF-16 headline\r\n\r\nBody.".encode("utf-16"), "UTF-16 headline"),
        (
            "Ελληνικά νέα σήμερα\n\nΗ κυβέρνηση ανακοίνωσε νέα μέτρα.".encode("iso-8859-7"),  # noqa: RUF001
            "Ελληνικά νέα σήμερα",
        ),
    ],
)
def test_encodings_and_byte_order_marks(session, data, expected):
    report = import_files(session, [("article.txt", data)], "default")
    assert report.imported == ["article"], report.failed
    assert session.scalar(select(Document.title)) == expected


def test_zip_of_mixed_files(session):
    archive = _zip(
        {
            "batch/harbour.txt": (FIXTURES / "harbour.txt").read_bytes(),
            "batch/two.jsonl": (FIXTURES / "two.jsonl").read_bytes(),
            "batch/news.csv": CSV_DOCS.encode(),
            "batch/page.html": (FIXTURES / "kremlin.html").read_bytes(),
            "batch/strike.docx": word_document(*STRIKE_DOCX_PARAGRAPHS),
            "__MACOSX/._harbour.txt": b"\x00\x01",
            "batch/readme.pdf": b"%PDF",
        }
    )
    report = import_files(session, [("batch.zip", archive)], "default")
    expected = ["harbour", "a-1", "a-2", "n-1", "n-2", "page", "strike"]
    assert sorted(report.imported) == sorted(expected), report.failed
    assert count(session, Document) == 7


def test_zip_with_a_bad_member_imports_nothing_and_names_it(session):
    archive = _zip({"ok.txt": b"Fine headline\n\nFine body.", "bad.jsonl": b'{"id": 1'})
    report = import_files(session, [("batch.zip", archive)], "default")
    assert "batch.zip/bad.jsonl, line 1: invalid JSON" in report.failed[0]
    assert count(session, Document) == 0


def test_zip_bomb_is_refused(monkeypatch):
    monkeypatch.setattr(readers, "ZIP_MAX_TOTAL_BYTES", 10_000)
    archive = _zip({"huge.txt": b"a" * 50_000})
    with pytest.raises(ImportFileError, match=r"bomb\.zip: the archive unpacks to more than"):
        readers.read_records("bomb.zip", archive)


def test_zip_with_too_many_members_is_refused(monkeypatch):
    monkeypatch.setattr(readers, "ZIP_MAX_MEMBERS", 3)
    archive = _zip({f"{n}.txt": b"Headline\n\nBody." for n in range(5)})
    with pytest.raises(ImportFileError, match="holds 5 files; at most 3"):
        readers.read_records("many.zip", archive)


def test_zip_whose_headers_lie_about_sizes_is_refused(monkeypatch):
    monkeypatch.setattr(readers, "ZIP_MAX_TOTAL_BYTES", 10_000)
    archive = bytearray(_zip({"liar.txt": b"b" * 40_000}))
    # Patch the declared uncompressed size (central directory) down to 10 bytes.
    central = archive.rfind(b"PK\x01\x02")
    archive[central + 24 : central + 28] = (10).to_bytes(4, "little")
    with pytest.raises(ImportFileError):
        readers.read_records("liar.zip", bytes(archive))


def test_not_a_zip(session):
    report = import_files(session, [("x.zip", b"PK\x03\x04 broken")], "default")
    assert "x.zip: not a valid ZIP archive" in report.failed[0]


def test_unsupported_type(session):
    report = import_files(session, [("notes.odt", b"xx")], "default")
    assert "notes.odt: unsupported file type .odt" in report.failed[0]


def test_a_damaged_archive_fails_alone_and_stores_nothing_of_itself(session):
    archive = _zip({"a.txt": b"Harbour reopens\n\n" + b"Ships docked on Monday. " * 40})
    truncated = archive[: len(archive) // 2]
    report = import_files(
        session,
        [("cut.zip", truncated), ("harbour.txt", (FIXTURES / "harbour.txt").read_bytes())],
        "default",
    )
    assert report.imported == ["harbour"]
    assert report.failed == ["cut.zip: not a valid ZIP archive (File is not a zip file)"]
    assert count(session, Document) == 1


def test_word_document_keeps_its_excerpts_and_the_writers_words(session):
    report = import_files(
        session, [("strike.docx", word_document(*STRIKE_DOCX_PARAGRAPHS))], "default"
    )
    assert report.imported == ["strike"], report.failed
    document = session.scalar(select(Document))
    assert document.title == "Port strike ends after talks"
    passages = [(p.text, p.role, p.outlet.name if p.outlet else None) for p in document.passages]
    assert passages == [
        ("Port strike ends after talks", "author", None),
        ("The strike is over, and not a day too soon.", "author", None),
        ("The Kyiv Independent reports:", "author", "Kyiv Independent"),
        ("Dock workers returned to work on Monday, the union said.", "excerpt", "Kyiv Independent"),
        ("Shipping lines expect traffic to recover within a week.", "excerpt", "Kyiv Independent"),
        ("I doubt the deal will hold.", "author", None),
    ]
    suggestions = [claim.suggested_label for claim in document.passages[-1].claims]
    assert suggestions == ["editorial"]


def test_browser_upload_of_html_and_csv_lists_the_result(client, make_user, login, session):
    make_user("boss", Role.ADMIN)
    login("boss")
    data = {
        "file": [
            (io.BytesIO((FIXTURES / "kremlin.html").read_bytes()), "kremlin.html"),
            (io.BytesIO(CSV_DOCS.encode()), "news.csv"),
            (io.BytesIO(word_document(*STRIKE_DOCX_PARAGRAPHS)), "strike.docx"),
            (io.BytesIO(b"id,text\nx,\n"), "bad.csv"),
        ]
    }
    response = client.post("/admin/import", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "4 imported" in page
    assert "1 failed" in page
    assert "bad.csv, line 2" in page
    assert 'src="/static/js/import.js"' in page
    assert count(session, Document) == 4


def test_the_file_picker_offers_every_type_the_import_reads(client, make_user, login):
    make_user("boss", Role.ADMIN)
    login("boss")
    page = client.get("/admin/import").get_data(as_text=True)
    accepted = lxml.html.fromstring(page).get_element_by_id("file").get("accept").split(",")
    assert sorted(accepted) == sorted(readers.SUPPORTED)
    assert ".docx" in accepted


def test_cli_imports_csv_and_zip(runner, session, tmp_path):
    csv_path = tmp_path / "news.csv"
    csv_path.write_text(CSV_DOCS, encoding="utf-8", newline="")
    zip_path = tmp_path / "more.zip"
    zip_path.write_bytes(_zip({"harbour.txt": (FIXTURES / "harbour.txt").read_bytes()}))
    docx_path = tmp_path / "strike.docx"
    docx_path.write_bytes(word_document(*STRIKE_DOCX_PARAGRAPHS))
    result = runner.invoke(args=["import", str(csv_path), str(zip_path), str(docx_path)])
    assert result.exit_code == 0, result.output
    assert "4 imported" in result.output


def test_cli_needs_files_or_urls(runner):
    result = runner.invoke(args=["import"])
    assert result.exit_code == 2
    assert "--urls" in result.output
