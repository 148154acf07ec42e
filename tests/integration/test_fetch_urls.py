"""Importing a list of addresses, against a local HTTP server on 127.0.0.1 only."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import func, select, update
from tqdm import tqdm

from annotator import cli
from annotator.models import Document, Passage, Role
from annotator.services import fetching
from tests.helpers import FIXTURES, STRIKE_DOCX_PARAGRAPHS, count, word_document

PAGES: dict[str, tuple[int, str, bytes]] = {
    "/article.html": (200, "text/html; charset=utf-8", (FIXTURES / "kremlin.html").read_bytes()),
    "/plain.txt": (
        200,
        "text/plain; charset=iso-8859-1",
        "Café closes\n\nThe café closed.".encode("latin-1"),
    ),
    "/missing": (404, "text/html", b"not here"),
    "/image.png": (200, "image/png", b"\x89PNG...."),
    "/big.html": (200, "text/html", b"<p>" + b"x" * 300_000 + b"</p>"),
    "/strike.docx": (200, fetching.DOCX_TYPE, word_document(*STRIKE_DOCX_PARAGRAPHS)),
}


def _rss(server: str) -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Harbour Watch</title><link>{server}/</link>
<item><title>Kremlin</title><link>{server}/article.html</link>
  <pubDate>Sun, 01 Mar 2026 08:00:00 +0000</pubDate></item>
<item><title>Café</title><link>{server}/plain.txt</link>
  <pubDate>Mon, 02 Mar 2026 09:30:00 +0000</pubDate></item>
<item><title>Gone</title><link>{server}/missing</link></item>
<item><title>A note without a page</title><description>No link.</description></item>
</channel></rss>""".encode()


# Relative links, resolved against the feed's address; Atom dates as ISO 8601.
ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Port Digest</title>
<entry><title>Cafe</title><link href="/plain.txt"/><published>2026-04-05T10:00:00Z</published>
</entry></feed>"""
FEEDS = {
    "/feed.rss": ("application/rss+xml", _rss),
    "/feed.atom": ("application/atom+xml", lambda _server: ATOM),
    "/not-a-feed.xml": ("application/rss+xml", lambda _server: b"plain words, no markup"),
    "/empty.rss": ("text/xml", lambda _server: b'<rss version="2.0"><channel/></rss>'),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path in FEEDS:
            content_type, body = FEEDS[self.path]
            self._answer(200, content_type, body(f"http://127.0.0.1:{self.server.server_port}"))
            return
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/article.html")
            self.end_headers()
            return
        if self.path == "/slow":
            import time

            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            time.sleep(3)
            return
        self._answer(*PAGES.get(self.path, (404, "text/plain", b"no")))

    def _answer(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        return


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


LOCAL = fetching.FetchSettings(timeout=1.5, max_bytes=100_000, allow_private=True)


def test_each_address_gets_a_result(session, server):
    urls = [
        f"{server}{path}"
        for path in (
            "/article.html",
            "/plain.txt",
            "/missing",
            "/image.png",
            "/big.html",
            "/redirect",
        )
    ]
    report, results = fetching.import_urls(session, urls, "default", LOCAL)
    assert results[0] == f"{server}/article.html: imported as {server}/article.html (6 passages)"
    assert results[1].startswith(f"{server}/plain.txt: imported as")
    assert results[2] == f"{server}/missing: failed: the server answered HTTP 404"
    assert "unsupported content type image/png" in results[3]
    assert "larger than 97 KiB" in results[4]
    assert results[5].startswith(f"{server}/redirect: imported as {server}/redirect")
    assert len(report.imported) == 3
    assert len(report.failed) == 3
    article = session.scalar(
        select(Document).where(Document.external_id == f"{server}/article.html")
    )
    assert article.url == f"{server}/article.html"
    assert article.title == "Kremlin denies talks with Kyiv (Tass)"
    plain = session.scalar(select(Document).where(Document.external_id == f"{server}/plain.txt"))
    assert plain.title == "Café closes"


def test_a_feed_stands_for_its_entries_dated_and_sited_by_the_feed(session, server):
    report, results = fetching.import_urls(session, [f"{server}/feed.rss"], "default", LOCAL)
    assert results == [
        f"{server}/feed.rss: a feed with 3 linked pages (Harbour Watch)",
        f"{server}/article.html: imported as {server}/article.html (6 passages)",
        f"{server}/plain.txt: imported as {server}/plain.txt (2 passages)",
        f"{server}/missing: failed: the server answered HTTP 404",
    ]
    assert report.failed == [f"{server}/missing: the server answered HTTP 404"]
    documents = {
        d.external_id.removeprefix(server): (d.site, d.published, d.published_on)
        for d in session.scalars(select(Document))
    }
    assert documents == {
        "/article.html": ("Daily Digest", "Sun, 01 Mar 2026 08:00:00 +0000", date(2026, 3, 1)),
        "/plain.txt": ("Harbour Watch", "Mon, 02 Mar 2026 09:30:00 +0000", date(2026, 3, 2)),
    }


def test_an_atom_feeds_relative_links_are_resolved(session, server):
    _report, results = fetching.import_urls(session, [f"{server}/feed.atom"], "default", LOCAL)
    assert results[1] == f"{server}/plain.txt: imported as {server}/plain.txt (2 passages)"
    document = session.scalar(select(Document))
    assert (document.site, document.published_on) == ("Port Digest", date(2026, 4, 5))


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/not-a-feed.xml", "failed: not a feed this can read"),
        ("/empty.rss", "failed: the feed holds no entries with a link"),
    ],
)
def test_a_feed_that_cannot_be_read_fails_alone(session, server, path, message):
    urls = [f"{server}{path}", f"{server}/plain.txt"]
    report, results = fetching.import_urls(session, urls, "default", LOCAL)
    assert results[0].startswith(f"{server}{path}: {message}")
    assert results[1].startswith(f"{server}/plain.txt: imported as")
    assert len(report.failed) == 1
    assert count(session, Document) == 1


def test_feed_entries_count_against_the_pages_of_one_import(session, server, monkeypatch):
    monkeypatch.setattr(fetching, "MAX_URLS", 2)
    urls = [f"{server}/feed.rss", f"{server}/plain.txt"]
    _report, results = fetching.import_urls(session, urls, "default", LOCAL)
    assert results[1].startswith(f"{server}/article.html: imported as")
    assert results[2:] == [
        f"{server}/plain.txt: not fetched: at most 2 pages per import",
        f"{server}/missing: not fetched: at most 2 pages per import",
        f"{server}/plain.txt: not fetched: at most 2 pages per import",
    ]
    assert count(session, Document) == 1


def test_a_word_document_at_an_address_is_read(session, server):
    _report, results = fetching.import_urls(session, [f"{server}/strike.docx"], "default", LOCAL)
    assert results == [f"{server}/strike.docx: imported as {server}/strike.docx (6 passages)"]
    document = session.scalar(select(Document))
    assert document.title == "Port strike ends after talks"
    assert document.url == f"{server}/strike.docx"


def test_fetching_again_is_a_duplicate(session, server):
    fetching.import_urls(session, [f"{server}/article.html"], "default", LOCAL)
    _, results = fetching.import_urls(session, [f"{server}/article.html"], "default", LOCAL)
    assert results == [f"{server}/article.html: skipped as a duplicate"]


def test_slow_server_times_out(session, server):
    _report, results = fetching.import_urls(session, [f"{server}/slow"], "default", LOCAL)
    assert "failed" in results[0]
    assert "1.5 seconds" in results[0] or "timed out" in results[0]
    assert count(session, Document) == 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:9/x", "private or local network"),
        ("http://localhost/x", "private or local network"),
        ("http://[::1]/x", "private or local network"),
        ("http://10.1.2.3/x", "private or local network"),
        ("file:///etc/passwd", "only http:// and https://"),
        ("ftp://example.org/x", "only http:// and https://"),
    ],
)
def test_local_and_other_schemes_are_refused_by_default(url, message):
    with pytest.raises(fetching.FetchError, match=message):
        fetching.check_address(url, allow_private=False)


def test_redirect_to_a_local_address_is_refused(session, server):
    # With private addresses refused the test server itself is out of reach: the check
    # happens before any connection, so no request leaves for any address.
    settings = fetching.FetchSettings(timeout=1.5, max_bytes=100_000, allow_private=False)
    _report, results = fetching.import_urls(session, [f"{server}/redirect"], "default", settings)
    assert "private or local network" in results[0]


def test_progress_counts_pages_with_a_feeds_entries(session, server, monkeypatch):
    """A feed adds its entries to the pages known as soon as it is read: a list holding a
    feed of three linked pages and an address is five pages, not two."""
    monkeypatch.setattr(fetching, "MAX_URLS", 4)
    told: list[tuple[int, int]] = []
    urls = [f"{server}/feed.rss", f"{server}/plain.txt"]
    fetching.import_urls(session, urls, "default", LOCAL, lambda *pair: told.append(pair))
    assert told == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]  # the last one not fetched


def test_pages_imported_before_are_analysed_again_when_asked(session, server):
    page = [f"{server}/article.html"]
    fetching.import_urls(session, page, "default", LOCAL)
    session.execute(update(Passage).values(outlet_id=None))  # as an older analysis left it
    _, plain = fetching.import_urls(session, page, "default", LOCAL)
    assert plain == [f"{server}/article.html: skipped as a duplicate"]
    report, again = fetching.import_urls(session, page, "default", LOCAL, reanalyse=True)
    assert again == [f"{server}/article.html: analysed again, stored as a new version"]
    assert report.reanalysed == [f"{server}/article.html"]
    assert session.scalar(select(func.count(Passage.id)).where(Passage.outlet_id.is_not(None)))
    _, unchanged = fetching.import_urls(session, page, "default", LOCAL, reanalyse=True)
    assert unchanged == [f"{server}/article.html: skipped as a duplicate"]


def test_url_list_parsing():
    text = "# my list\nhttps://a.example/1\n\n  https://a.example/1 \nhttps://b.example/2\n"
    assert fetching.parse_url_list(text) == ["https://a.example/1", "https://b.example/2"]


def test_cli_urls_option(runner, app, session, server, tmp_path):
    app.config["FETCH_ALLOW_PRIVATE_ADDRESSES"] = True
    app.config["FETCH_TIMEOUT"] = 2
    listing = tmp_path / "urls.txt"
    listing.write_text(f"{server}/article.html\n{server}/missing\n", encoding="utf-8")
    result = runner.invoke(args=["import", "--urls", str(listing)])
    assert result.exit_code == 1
    assert f"{server}/article.html: imported as" in result.output
    assert f"{server}/missing: failed: the server answered HTTP 404" in result.output
    assert "1 imported" in result.output
    assert "1 failed" in result.output


def test_cli_progress_bar_counts_a_feeds_pages(runner, app, session, server, tmp_path, monkeypatch):
    app.config["FETCH_ALLOW_PRIVATE_ADDRESSES"] = True
    listing = tmp_path / "urls.txt"
    listing.write_text(f"{server}/feed.rss\n{server}/plain.txt\n", encoding="utf-8")
    bars: list[tqdm] = []

    def shown_bar(*args: Any, **kwargs: Any) -> tqdm:
        """As the command's, but shown (a test's output is no terminal) to a buffer."""
        bars.append(tqdm(*args, **{**kwargs, "disable": False, "file": io.StringIO()}))
        return bars[-1]

    monkeypatch.setattr(cli, "tqdm", shown_bar)
    result = runner.invoke(args=["import", "--urls", str(listing)])
    assert result.exit_code == 1, result.output  # the feed's missing page
    fetched = next(bar for bar in bars if bar.desc == "Fetching")
    assert (fetched.n, fetched.total, fetched.unit) == (5, 5, "page")


def test_browser_textarea(client, app, make_user, login, session, server):
    app.config["FETCH_ALLOW_PRIVATE_ADDRESSES"] = True
    make_user("boss", Role.ADMIN)
    login("boss")
    response = client.post(
        "/admin/import",
        data={"urls": f"{server}/article.html\n{server}/image.png\n{server}/feed.atom"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f"{server}/article.html: imported as" in page
    assert "unsupported content type image/png" in page
    assert f"{server}/feed.atom: a feed with 1 linked page (Port Digest)" in page
    assert f"{server}/plain.txt: imported as" in page
    assert count(session, Document) == 2


def test_browser_form_needs_files_or_addresses(client, make_user, login):
    make_user("boss", Role.ADMIN)
    login("boss")
    response = client.post(
        "/admin/import", data={"project": "x"}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert b"Choose at least one file or give at least one address." in response.data


def test_a_feed_body_is_never_taken_for_a_file_name(tmp_path):
    local = tmp_path / "feed.rss"
    local.write_bytes(_rss("http://example.org"))
    page = fetching.Page(str(local).encode(), "application/rss+xml", None)
    with pytest.raises(fetching.FetchError, match="not a feed this can read"):
        fetching.read_feed("http://example.org/feed", page)
