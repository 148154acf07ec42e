"""The benchmark table (Markdown, so it can be pasted into docs/benchmarks.md)."""

from __future__ import annotations

import os
from collections.abc import Callable

from annotator.bench.cpu import CpuShare
from annotator.bench.measures import TEAM_PAGES, Timed
from annotator.bench.run import Result

Render = Callable[[dict[str, object]], str]


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def table(
    results: list[Result],
    venv_mib: float | None = None,
    interpreter: str | None = None,
    processor: str | None = None,
) -> str:
    """The figures as a Markdown table (plus the venv's size, the interpreter and the
    processor, when given, and the growth from the smallest to the largest corpus)."""
    lines = [
        _row(["measure", *[f"{r.database} N={r.documents}" for r in results]]),
        _row(["---"] * (len(results) + 1)),
    ]
    for label, render in ROWS:
        lines.append(_row([label, *[render(r.figures) for r in results]]))
    for measure in ("m5", "m6"):
        if measure == "m6":
            lines.append(_row([M6_LABELS, *[_study_labels(r.figures) for r in results]]))
        for page in TEAM_PAGES:
            label = f"{measure.upper()} {page} p50 / max ms"
            lines.append(_row([label, *[_team_page(r.figures, measure, page) for r in results]]))
    lines.append(_row(["EXPLAIN: full scans in Next", *[str(len(r.full_scans)) for r in results]]))
    if venv_mib is not None:
        lines += ["", f"installed venv size: {venv_mib:.0f} MiB"]
    if interpreter is not None:
        lines += ["", f"interpreter: {interpreter}"]
    if processor is not None:
        lines += ["", f"processor: {processor}"]
    ratios = _ratios(results)
    if ratios:
        lines += ["", *ratios]
    return "\n".join(lines)


def _timed(key: str, fmt: str) -> Render:
    def render(figures: dict[str, object]) -> str:
        value = figures.get(key)
        if not isinstance(value, Timed):
            return "-"
        return fmt.format(t=value)

    return render


def _team_page(figures: dict[str, object], measure: str, page: str) -> str:
    pages = figures.get(measure)
    timed = pages.get(page) if isinstance(pages, dict) else None
    if not isinstance(timed, Timed):
        return "-"
    if not timed.latencies:
        return f"{timed.errors} failed" if timed.errors else "-"
    failed = f", {timed.errors} failed" if timed.errors else ""
    return f"{timed.p50:.1f} / {max(timed.latencies) * 1000:.1f}{failed}"


def _seconds(key: str) -> Render:
    def render(figures: dict[str, object]) -> str:
        value = figures.get(key)
        return f"{value:.2f} s" if isinstance(value, float) else "-"

    return render


def _cpu_share(key: str) -> Render:
    def render(figures: dict[str, object]) -> str:
        share = figures.get(key)
        if not isinstance(share, CpuShare):
            return "-"
        database = "-" if share.database_ms is None else f"{share.database_ms:.2f}"
        cores = os.cpu_count() or 1
        return (
            f"{share.workers_ms:.2f} / {database} / {share.client_ms:.2f} "
            f"(at most {share.ceiling(cores):.0f}/s on {cores} cores)"
        )

    return render


def _machine_speed(figures: dict[str, object]) -> str:
    """The reference loop's time before and after the run (``machine.reference_loop_ms``) and
    the share of the machine's CPU time the host took during it."""
    before, after = figures.get("reference_loop_before"), figures.get("reference_loop_after")
    if not isinstance(before, float) or not isinstance(after, float):
        return "-"
    stolen = figures.get("stolen")
    share = f"{stolen:.1%}" if isinstance(stolen, float) else "unknown"
    return f"{before:.0f} / {after:.0f} ({share})"


M6_LABELS = "M6 labels of the finished study, imported by the CLI: labels, labels/s (s, RSS)"
_study_labels = _timed(
    "m6_labels", "{t.items:,}, {t.rate:,.0f} ({t.seconds:.1f} s, {t.rss_mib:.0f} MiB)"
)

ROWS: list[tuple[str, Render]] = [
    ("passages in project", lambda f: str(f.get("passages", "-"))),
    ("M1 CLI import: passages/s (s, peak RSS)",
     _timed("m1_cli", "{t.rate:,.0f} ({t.seconds:.1f} s, {t.rss_mib:.0f} MiB)")),
    ("M1 upload import: passages/s (s)", _timed("m1_upload", "{t.rate:,.0f} ({t.seconds:.1f} s)")),
    ("M2 saves/s (claim tags/s)", _timed("m2", "{t.rate:.0f} ({t.extra_rate:.0f})")),
    ("M2 save p50 / p95 / p99 ms",
     _timed("m2", "{t.p50:.1f} / {t.p95:.1f} / {t.p99:.1f}")),
    ("M2 errors", _timed("m2", "{t.errors}")),
    ("M2 CPU ms per save: workers / database / client", _cpu_share("m2_cpu")),
    ("M3 web export: rows, s, rows/s, worker peak RSS",
     _timed("m3_web", "{t.items:,}, {t.seconds:.2f} s, {t.rate:,.0f}, {t.rss_mib:.0f} MiB")),
    ("M3 web export failure", lambda f: str(f.get("m3_web_error", "-"))),
    ("M3 CLI export: rows, s, rows/s, peak RSS",
     _timed("m3_cli", "{t.items:,}, {t.seconds:.2f} s, {t.rate:,.0f}, {t.rss_mib:.0f} MiB")),
    ("M4 Next p50 / p95 ms", _timed("m4_next", "{t.p50:.1f} / {t.p95:.1f}")),
    ("(M4 passage page p50 / p95 ms)", _timed("m4_page", "{t.p50:.1f} / {t.p95:.1f}")),
    ("startup: annotator serve -> 200 on /login", _seconds("startup_serve")),
    ("startup: gunicorn -> 200 on /login", _seconds("startup_gunicorn")),
    ("machine load (1-min average) before / after",
     lambda f: f"{f.get('load_before', 0):.1f} / {f.get('load_after', 0):.1f}"),
    ("machine speed: reference loop ms before / after (CPU time stolen)", _machine_speed),
]  # fmt: skip


def _ratios(results: list[Result]) -> list[str]:
    """N=10,000 figures over N=1,000 ones, per database, for M3 and M4."""
    lines = []
    by_key = {(r.database, r.documents): r for r in results}
    for (database, documents), large in sorted(by_key.items()):
        small = by_key.get((database, 1000))
        if small is None or documents == 1000:
            continue
        parts = []
        for key, what in (("m3_web", "rate"), ("m3_cli", "rate"), ("m4_next", "p95")):
            a, b = small.figures.get(key), large.figures.get(key)
            if isinstance(a, Timed) and isinstance(b, Timed) and getattr(a, what):
                parts.append(f"{key} {what} x{getattr(b, what) / getattr(a, what):.2f}")
        parts += _team_page_ratios(small.figures, large.figures, "m5")
        parts += _team_page_ratios(small.figures, large.figures, "m6")
        lines.append(f"{database} N={documents} / N=1000: " + ", ".join(parts))
    return lines


def _team_page_ratios(
    small: dict[str, object], large: dict[str, object], measure: str
) -> list[str]:
    """M5's or M6's p50 at the larger size over the smaller, per page."""
    a, b = small.get(measure), large.get(measure)
    if not isinstance(a, dict) or not isinstance(b, dict):
        return []
    parts = []
    for page in TEAM_PAGES:
        first, second = a.get(page), b.get(page)
        if not (isinstance(first, Timed) and isinstance(second, Timed)):
            continue
        if first.latencies and second.latencies:
            parts.append(f"{measure} {page} p50 x{second.p50 / first.p50:.2f}")
    return parts
