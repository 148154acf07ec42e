"""The bench v1 measurements M1-M4, each against a running server or through the CLI."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from annotator.bench.cpu import CpuMeter, CpuShare
from annotator.bench.http import Browser, percentile
from annotator.bench.servers import Server, peak_rss_mb, reset_peak_rss, run_measured, tool

LABELS = ("reported", "quoted", "editorial")
PHASE_LIMIT_S = 900.0


@dataclass
class Timed:
    """A throughput figure: items done in seconds, optionally with peak RSS and latencies."""

    items: int = 0
    seconds: float = 0.0
    rss_mib: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    extra: int = 0

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0

    @property
    def extra_rate(self) -> float:
        return self.extra / self.seconds if self.seconds else 0.0

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 0.50) * 1000

    @property
    def p95(self) -> float:
        return percentile(self.latencies, 0.95) * 1000

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 0.99) * 1000


def import_cli(corpus: Path, project: str, env: dict[str, str]) -> Timed:
    """M1 via ``annotator import``: the whole process, interpreter start included."""
    seconds, rss, out = run_measured(
        [tool("annotator"), "import", str(corpus), "--project", project], env
    )
    passages = passages_stored(out)
    if passages is None:
        raise RuntimeError(f"unexpected import output: {out!r}")
    return Timed(passages, seconds, rss)


def passages_stored(summary: str) -> int | None:
    """The passages an import's summary (``ImportReport.summary``) says it stored."""
    match = re.search(r"([\d,]+) passages? stored", summary)
    return int(match.group(1).replace(",", "")) if match else None


def import_labels_cli(labels: Path, project: str, env: dict[str, str]) -> Timed:
    """M6's labels via ``annotator import-labels`` (its reviewers created): the whole process,
    as M1."""
    args = [tool("annotator"), "import-labels", str(labels), "--project", project]
    seconds, rss, out = run_measured([*args, "--create-reviewers"], env)
    match = re.search(r"([\d,]+) labels? added", out)
    if match is None:
        raise RuntimeError(f"unexpected label import output: {out!r}")
    return Timed(int(match.group(1).replace(",", "")), seconds, rss)


def import_upload(server: Server, admin: tuple[str, str], corpus: Path, project: str) -> Timed:
    """M1 via the admin upload form (multipart POST with the form's CSRF token)."""
    browser = Browser(server.url)
    browser.log_in(*admin)
    data = corpus.read_bytes()
    start = time.perf_counter()
    reply = browser.upload("/admin/import", corpus.name, data, {"project": project})
    seconds = time.perf_counter() - start
    browser.close()
    passages = passages_stored(reply.text)
    if reply.status != 200 or passages is None:
        raise RuntimeError(f"upload failed: HTTP {reply.status}")
    return Timed(passages, seconds)


def annotate(
    server: Server,
    reviewers: list[tuple[str, str]],
    project_id: int,
    saves: int,
    database_pids: Callable[[], Iterable[int]] | None = None,
) -> tuple[Timed, CpuShare]:
    """M2: the reviewers work concurrently as the page does: one "Next" and its page, then
    JSON "Save & next" (every claim labelled) again and again, each reply holding the next
    passage's page content, until ``saves`` passages are saved in all. Latency is the save
    request's (which includes reserving and rendering the next passage); throughput is saves
    over the wall time of the whole phase. The CPU share is per save: the workers', the
    database's processes' (``database_pids``, found at the start and again at the end) and this
    client's."""
    quota = [saves // len(reviewers) + (i < saves % len(reviewers)) for i in range(len(reviewers))]
    browsers = [Browser(server.url) for _ in reviewers]
    for browser, (name, password) in zip(browsers, reviewers, strict=True):
        browser.log_in(name, password)
    start_gate = threading.Barrier(len(reviewers) + 1)
    deadline = time.perf_counter() + PHASE_LIMIT_S

    def work(index: int) -> Timed:
        result = Timed()
        browser = browsers[index]
        start_gate.wait()
        passage_id, html = open_next(browser, project_id)
        for step in range(quota[index] * 3):  # bounded; errors may cost retries
            if result.items >= quota[index] or time.perf_counter() > deadline:
                break
            if passage_id is None:
                result.errors += 1
                break
            label = LABELS[(step + index) % 3]
            reply, claims = browser.save_all(passage_id, html, label, then="next")
            result.latencies.append(reply.seconds)
            if reply.status == 200:
                result.items += 1
                result.extra += claims
                passage_id, html = browser.next_after_save(reply)
            else:
                result.errors += 1
                passage_id, html = open_next(browser, project_id)
        browser.close()
        return result

    meter = CpuMeter(server.worker_pids(), database_pids)
    with ThreadPoolExecutor(len(reviewers)) as pool:
        futures = [pool.submit(work, i) for i in range(len(reviewers))]
        meter.start()
        start_gate.wait()
        start = time.perf_counter()
        parts = [f.result() for f in futures]
        seconds = time.perf_counter() - start
    total = Timed(seconds=seconds)
    for part in parts:
        total.items += part.items
        total.extra += part.extra
        total.errors += part.errors
        total.latencies += part.latencies
    total.errors += max(saves - total.items - total.errors, 0)
    return total, meter.share(total.items)


def open_next(browser: Browser, project_id: int) -> tuple[int | None, str]:
    """ "Next" and the page it leads to: (passage id, page HTML), or (None, "")."""
    _, passage_id = browser.next_passage(project_id)
    if passage_id is None:
        return None, ""
    page = browser.get(f"/passages/{passage_id}")
    return (passage_id, page.text) if page.status == 200 else (None, "")


def next_requests(
    server: Server, reviewer: tuple[str, str], project_id: int, count: int
) -> tuple[Timed, Timed]:
    """M4: ``count`` sequential "Next" requests (the page's "Next" link and key) by one
    reviewer; each served passage is then opened and saved, untimed for "Next". Returns the "Next"
    latencies and, for reference, those of the passage page that follows."""
    browser = Browser(server.url)
    browser.log_in(*reviewer)
    nexts, pages = Timed(), Timed()
    deadline = time.perf_counter() + PHASE_LIMIT_S
    for step in range(count):
        if time.perf_counter() > deadline:
            break
        reply, passage_id = browser.next_passage(project_id)
        nexts.latencies.append(reply.seconds)
        if passage_id is None:
            nexts.errors += 1
            continue
        page = browser.get(f"/passages/{passage_id}")
        pages.latencies.append(page.seconds)
        saved, _ = browser.save_all(passage_id, page.text, LABELS[step % 3])
        nexts.items += 1
        if page.status != 200 or saved.status != 200:
            pages.errors += 1
    browser.close()
    return nexts, pages


# M5: the pages a team opens to follow a study, by name and address ({p}: the project id).
TEAM_PAGES = {
    "dashboard": "/projects/{p}/dashboard",
    "outlet report": "/projects/{p}/reports/outlets",
    "claims behind the outlet report": "/projects/{p}/reports/outlets/claims",
    "loaded terms report": "/projects/{p}/reports/terms",
    "agreement": "/projects/{p}/agreement",
    "reviewer report": "/projects/{p}/reports/reviewers",
    "adjudication queue": "/projects/{p}/adjudicate",
}


def team_pages(
    server: Server, admin: tuple[str, str], project_id: int, repeats: int
) -> dict[str, Timed]:
    """M5: each team page ``repeats`` times in a row as the admin, after one untimed visit
    (which may be the first in its worker). The figures grow with the study's size only where
    a page reads every passage; the work done is the same at every size (M2 and M4)."""
    browser = Browser(server.url)
    browser.log_in(*admin)
    timings = {}
    for name, address in TEAM_PAGES.items():
        path = address.format(p=project_id)
        timed = Timed()
        for visit in range(repeats + 1):
            reply = browser.get(path)
            if reply.status != 200:
                timed.errors += 1
            elif visit:
                timed.latencies.append(reply.seconds)
                timed.items += 1
        timings[name] = timed
    browser.close()
    return timings


def export_web(server: Server, admin: tuple[str, str], project: str) -> Timed:
    """M3 through the download link; RSS is the peak of the busiest gunicorn worker during
    the download (each worker's peak mark is reset just before)."""
    browser = Browser(server.url)
    browser.log_in(*admin)
    pids = server.worker_pids()
    for pid in pids:
        reset_peak_rss(pid)
    status, lines, seconds = browser.stream(
        f"/export/annotations.csv?all_claims=1&project={project}"
    )
    if status != 200:
        raise RuntimeError(f"export download failed: HTTP {status}")
    rss = max(peak_rss_mb(pid) for pid in pids)
    return Timed(lines - 1, seconds, rss)


def export_cli(out: Path, project: str, env: dict[str, str]) -> Timed:
    """M3 through ``annotator export``: the whole process, peak RSS from the kernel."""
    args = [tool("annotator"), "export", str(out), "--all-claims", "--project", project]
    seconds, rss, _ = run_measured(args, env)
    lines, tail = 0, b""
    with out.open("rb") as handle:
        for _ in range(1 << 24):  # bounded: 16 TiB at 1 MiB a read
            chunk = handle.read(1 << 20)
            if not chunk:
                break
            lines += (tail + chunk[:1]).count(b"\r\n") + chunk.count(b"\r\n")
            tail = chunk[-1:]
    out.unlink()
    return Timed(lines - 1, seconds, rss)
