"""Importing articles from a list of web addresses.

Each address is fetched with a time limit and a size limit, read as HTML (article extraction),
plain text or a Word document, and imported on its own: one failing address does not stop the
others, and each gets a one-line result. An address that serves an RSS or Atom feed stands for
its entries: each entry's page is fetched and imported in the same way, with the feed's title
as its site (where the page names none) and the entry's date as its publication date.

Only http and https are fetched. Addresses that resolve to loopback, private, link-local or
otherwise reserved networks are refused unless allowed (``FETCH_ALLOW_PRIVATE_ADDRESSES``),
also after a redirect, so the import form cannot be used to reach the server's own network.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import ipaddress
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from http.client import HTTPMessage
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from annotator.services.docx_reader import read_docx
from annotator.services.html_reader import read_html
from annotator.services.importing import (
    ImportOptions,
    ImportReport,
    import_records,
    prepare_project,
)
from annotator.services.readers import decode
from annotator.services.records import DocumentRecord, ImportFileError, is_whole_number
from annotator.wording import counted

MAX_URLS = 500
MAX_ID_LENGTH = 255
CHUNK = 64 * 1024
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset({"text/plain", "text/markdown"})
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Feeds are often served as plain XML; such a body is a feed if feedparser reads it as one.
FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
    }
)
USER_AGENT = "annotator-import/1 (+article import for annotation)"


@dataclass(frozen=True)
class FetchSettings:
    timeout: float = 15.0  # seconds for the whole download
    max_bytes: int = 5 * 1024 * 1024
    allow_private: bool = False


def settings_from(config: Mapping[str, Any]) -> FetchSettings:
    """Limits from the app's ``FETCH_*`` settings (``ANNOTATOR_FETCH_*`` in the environment)."""
    return FetchSettings(
        timeout=float(config.get("FETCH_TIMEOUT", 15)),
        max_bytes=int(config.get("FETCH_MAX_BYTES", 5 * 1024 * 1024)),
        allow_private=_flag(config.get("FETCH_ALLOW_PRIVATE_ADDRESSES", False)),
    )


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


class FetchError(ValueError):
    """Why one address could not be imported."""


def parse_url_list(text: str) -> list[str]:
    """Addresses, one per line; blank lines and ``#`` comments are skipped, order kept,
    repeats dropped."""
    urls = [line.strip() for line in text.splitlines()]
    urls = list(dict.fromkeys(u for u in urls if u and not u.startswith("#")))
    if len(urls) > MAX_URLS:
        raise FetchError(f"at most {MAX_URLS} addresses per import, not {len(urls)}")
    return urls


def import_urls(
    session: Session,
    urls: list[str],
    project_name: str,
    settings: FetchSettings,
    on_progress: Callable[[int, int], None] | None = None,
    *,
    reanalyse: bool = False,
) -> tuple[ImportReport, list[str]]:
    """Fetch and import each address (a feed's entries for a feed); returns the report and
    one result line per address. At most ``MAX_URLS`` pages are fetched, feed entries
    included. ``on_progress(done, total)`` after each page: the addresses and the feeds'
    entries dealt with, and how many there are as far as known (a feed adds its entries).
    ``reanalyse``: as ``ImportOptions.reanalyse``, for pages imported before."""
    project = prepare_project(session, project_name)
    report = ImportReport()
    results: list[str] = []
    run = _Run(settings, ImportOptions(reanalyse=reanalyse), report, _Budget(MAX_URLS))
    progress = _Progress(len(urls), on_progress)
    for url in urls:
        results.extend(_import_address(session, project, url, run, progress))
    return report, results


@dataclass(frozen=True)
class _Run:
    """What every address of one import shares."""

    settings: FetchSettings
    options: ImportOptions
    report: ImportReport
    budget: _Budget


@dataclass
class _Progress:
    """Pages dealt with out of those known, told to ``report`` after each."""

    total: int
    report: Callable[[int, int], None] | None
    done: int = 0

    def found(self, pages: int) -> None:
        self.total += pages

    def step(self) -> None:
        self.done += 1
        if self.report:
            self.report(self.done, self.total)


@dataclass
class _Budget:
    """Pages still to fetch in this import."""

    left: int

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True


@dataclass(frozen=True)
class Page:
    """A downloaded response: its body and what its headers say of it."""

    data: bytes
    content_type: str
    charset: str | None


def _import_address(
    session: Session, project: Any, url: str, run: _Run, progress: _Progress
) -> Iterator[str]:
    if not run.budget.take():
        progress.step()
        yield f"{url}: not fetched: at most {MAX_URLS} pages per import"
        return
    try:
        page = fetch_page(url, run.settings)
        feed = read_feed(url, page) if page.content_type in FEED_TYPES else None
    except FetchError as exc:
        run.report.failed.append(f"{url}: {exc}")
        progress.step()
        yield f"{url}: failed: {exc}"
        return
    if feed is None:
        result = _import_record(session, project, url, run, partial(record_from_page, url, page))
        progress.step()
        yield result
        return
    progress.found(len(feed.entries))
    progress.step()
    pages = counted(len(feed.entries), "linked page")
    yield f"{url}: a feed with {pages} ({feed.title or 'untitled'})"
    for entry in feed.entries:
        if not run.budget.take():
            progress.step()
            yield f"{entry.link}: not fetched: at most {MAX_URLS} pages per import"
            continue
        read = partial(_entry_record, entry, feed, run.settings)
        result = _import_record(session, project, entry.link, run, read)
        progress.step()
        yield result


def _import_record(
    session: Session, project: Any, url: str, run: _Run, read: Callable[[], DocumentRecord]
) -> str:
    single = ImportReport()
    try:
        record = read()
        import_records(session, project, [record], single, run.options)
    except (FetchError, ImportFileError) as exc:
        session.rollback()
        run.report.failed.append(f"{url}: {exc}")
        return f"{url}: failed: {exc}"
    run.report.merge(single)
    if single.imported:
        return f"{url}: imported as {record.external_id} ({single.passages} passages)"
    if single.changed:
        return f"{url}: updated to the new version"
    if single.reanalysed:
        return f"{url}: analysed again, stored as a new version"
    return f"{url}: skipped as a duplicate"


@dataclass(frozen=True)
class FeedEntry:
    link: str
    published: str | None


@dataclass(frozen=True)
class Feed:
    title: str | None
    entries: list[FeedEntry]


def read_feed(url: str, page: Page) -> Feed:
    """The entries of an RSS or Atom feed, in the feed's order, or FetchError. Entries
    without a link are left out; links are resolved against the feed's address."""
    import feedparser  # type: ignore[import-untyped]  # here: only feed imports need it

    # A stream, not bytes: feedparser tries to open bytes as a file name first.
    parsed = feedparser.parse(
        io.BytesIO(page.data),
        response_headers={"content-location": url, "content-type": page.content_type},
    )
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception") or "no RSS or Atom elements"
        raise FetchError(f"not a feed this can read ({reason})")
    entries = [
        FeedEntry(entry.link, entry.get("published") or entry.get("updated") or None)
        for entry in parsed.entries
        if entry.get("link")
    ]
    if not entries:
        raise FetchError("the feed holds no entries with a link")
    return Feed(parsed.feed.get("title") or None, entries)


def _entry_record(entry: FeedEntry, feed: Feed, settings: FetchSettings) -> DocumentRecord:
    """An entry's page, dated by the feed (a page's own date is extracted, the feed's is
    given), with the feed's title as its site where the page names none."""
    record = fetch_record(entry.link, settings)
    return dataclasses.replace(
        record,
        site=record.site or feed.title,
        published=entry.published or record.published,
    )


def url_id(url: str) -> str:
    """The document id of a fetched page: its address, or a hash of a very long one."""
    if len(url) <= MAX_ID_LENGTH:
        return url
    return "url-" + hashlib.sha256(url.encode("utf-8")).hexdigest()


def fetch_record(url: str, settings: FetchSettings) -> DocumentRecord:
    """The article at the address, or FetchError saying why not."""
    return record_from_page(url, fetch_page(url, settings))


def fetch_page(url: str, settings: FetchSettings) -> Page:
    check_address(url, settings.allow_private)
    return Page(*_download(url, settings))


def record_from_page(url: str, page: Page) -> DocumentRecord:
    if page.content_type == DOCX_TYPE:
        return dataclasses.replace(read_docx(url, page.data, url_id(url)), url=url)
    text = _text(url, page.data, page.charset)
    if page.content_type in HTML_TYPES:
        return read_html(url, text, url_id(url), url=url)
    if page.content_type in TEXT_TYPES:
        if not text.strip():
            raise FetchError("the page is empty")
        return DocumentRecord(external_id=url_id(url), title=None, text=text, url=url, where=url)
    raise FetchError(
        f"unsupported content type {page.content_type or '(none)'}; "
        "need HTML, text, a Word document or a feed"
    )


def check_address(url: str, allow_private: bool) -> None:
    """Refuse other schemes and, unless allowed, hosts on non-public networks."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise FetchError("not a valid address") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("only http:// and https:// addresses can be fetched")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"the host {parts.hostname} cannot be resolved") from exc
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            raise FetchError(f"the host {parts.hostname} is on a private or local network")


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Re-check every redirect target like the first address."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: HTTPMessage, newurl: str
    ) -> Any:
        check_address(newurl, self.allow_private)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _download(url: str, settings: FetchSettings) -> tuple[bytes, str, str | None]:
    opener = urllib.request.build_opener(_CheckedRedirects(settings.allow_private))
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})  # noqa: S310
    deadline = time.monotonic() + settings.timeout
    try:
        with opener.open(request, timeout=settings.timeout) as response:
            length = response.headers.get("Content-Length")
            if length and is_whole_number(length) and int(length) > settings.max_bytes:
                raise FetchError(_too_large(settings))
            data = _read_limited(response, settings, deadline)
            content_type = response.headers.get_content_type()
            charset = response.headers.get_content_charset()
    except urllib.error.HTTPError as exc:
        raise FetchError(f"the server answered HTTP {exc.code}") from exc
    except urllib.error.URLError as exc:
        raise FetchError(f"cannot connect ({exc.reason})") from exc
    except TimeoutError as exc:
        raise FetchError(f"no answer within {settings.timeout:g} seconds") from exc
    except OSError as exc:
        raise FetchError(f"the download failed ({exc})") from exc
    return data, content_type, charset


def _read_limited(response: Any, settings: FetchSettings, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise FetchError(f"the download took longer than {settings.timeout:g} seconds")
        chunk = response.read(CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > settings.max_bytes:
            raise FetchError(_too_large(settings))
        chunks.append(chunk)


def _too_large(settings: FetchSettings) -> str:
    return f"the page is larger than {settings.max_bytes // 1024} KiB"


def _text(url: str, data: bytes, charset: str | None) -> str:
    if charset:
        try:
            text = data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            return decode(url, data)
        if "\x00" in text:
            raise FetchError("this looks like a binary file, not text")
        return text.replace("\r\n", "\n").replace("\r", "\n")
    return decode(url, data)
