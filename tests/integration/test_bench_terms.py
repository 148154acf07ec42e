"""The loaded terms benchmark measures the report over every passage of its project."""

from __future__ import annotations

import json

from annotator.bench import terms as terms_bench
from annotator.services.importing import import_files
from tests.helpers import TERMS_STUDY


def test_the_terms_bench_reads_every_passage_with_the_default_list(session):
    data = "\n".join(json.dumps(document) for document in TERMS_STUDY).encode()
    import_files(session, [("terms.jsonl", data)], terms_bench.PROJECT)
    measured = terms_bench.figures(session, repeats=1)
    # special military operation, neo-Nazis, so-called and regime: all on the default list
    assert (measured["passages"], measured["passages_with_terms"]) == (10, 4)
    assert measured["scoped_s"] is not None, "the documents name a site"
    assert min(measured["find_s"], measured["kept_s"], measured["one_passage_us"]) > 0
