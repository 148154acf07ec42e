"""Command line of the benchmark: ``python -m annotator.bench [--sizes 1000 10000] ...``."""

from __future__ import annotations

import argparse
import compileall
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

import annotator
from annotator.bench.cpu import CpuShare
from annotator.bench.machine import interpreter, processor
from annotator.bench.measures import Timed
from annotator.bench.report import table
from annotator.bench.run import Options, Result, corpus_for, run_one
from annotator.bench.servers import add_database_options, directory_mb

DEFAULT_MAKE_CORPUS = Path(__file__).resolve().parents[3] / "shared" / "bench" / "make_corpus.py"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m annotator.bench", description=__doc__)
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[1000, 10000],
        help="documents per corpus (N=1000 gives 28,000 passages)",
    )
    add_database_options(parser)
    parser.add_argument(
        "--corpus",
        type=Path,
        action="append",
        default=[],
        help="use this JSONL corpus instead of making one (one per --sizes entry)",
    )
    parser.add_argument(
        "--make-corpus",
        type=Path,
        default=DEFAULT_MAKE_CORPUS,
        help="the corpus script (default: ../shared/bench/make_corpus.py)",
    )
    parser.add_argument("--saves", type=int, default=3000, help="M2: passages saved in all")
    parser.add_argument(
        "--next", dest="next_count", type=int, default=200, help="M4: sequential Next requests"
    )
    parser.add_argument(
        "--page-visits", type=int, default=5, help="M5: timed visits of each team page"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="gunicorn threads per worker (1: gunicorn's sync worker)",
    )
    parser.add_argument(
        "--upload-sizes",
        type=int,
        nargs="*",
        default=[1000],
        help="sizes at which M1 also runs through the upload form",
    )
    parser.add_argument("--workdir", type=Path, help="keep corpora and results here")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--explain", type=Path, help="write the EXPLAIN plans of Next here")
    return parser.parse_args(argv)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.corpus and len(args.corpus) != len(args.sizes):
        sys.exit("give one --corpus per --sizes entry")
    _compile_package()
    with tempfile.TemporaryDirectory(prefix="annotator-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        results = []
        for index, documents in enumerate(args.sizes):
            options = Options(workdir, args.pg_server, args.make_corpus, args.saves,
                              args.next_count, args.threads,
                              upload=documents in args.upload_sizes,
                              page_visits=args.page_visits)  # fmt: skip
            corpus = corpus_for(documents, args.corpus[index] if args.corpus else None, options)
            for database in args.databases:
                results.append(run_one(database, documents, corpus, options))
                print(table(results[-1:]), file=sys.stderr, flush=True)  # partial results
                if args.json:
                    args.json.write_text(json.dumps([_plain(r) for r in results], indent=2))
    print(table(results, directory_mb(Path(sys.prefix)), interpreter(), processor()))
    if args.explain:
        args.explain.write_text(
            "\n".join(f"## {r.database} N={r.documents}\n{r.explain}" for r in results)
        )
    if args.json:
        args.json.write_text(json.dumps([_plain(r) for r in results], indent=2))
    return 0


def _compile_package() -> None:
    """Write the package's bytecode, as ``pip install`` does: from an editable install with
    PYTHONDONTWRITEBYTECODE set, every command and worker would compile it again on start."""
    compileall.compile_dir(Path(annotator.__file__).parent, quiet=1)


def _plain_figure(value: object) -> object:
    if isinstance(value, Timed):
        names = ("items", "seconds", "rate", "rss_mib", "errors", "extra", "p50", "p95", "p99")
        return {name: getattr(value, name) for name in names}
    if isinstance(value, CpuShare):
        return {**asdict(value), "total_ms": value.total_ms}
    if isinstance(value, dict):  # M5: figures by page
        return {name: _plain_figure(figure) for name, figure in value.items()}
    return value


def _plain(result: Result) -> dict[str, object]:
    figures = {key: _plain_figure(value) for key, value in result.figures.items()}
    return {
        "database": result.database,
        "documents": result.documents,
        "figures": figures,
        "full_scans": result.full_scans,
        "interpreter": interpreter(),
        "processor": processor(),
    }


if __name__ == "__main__":
    sys.exit(main())
