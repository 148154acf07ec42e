# ruff: noqa: RUF001  (typographic quotes are test data)
"""Properties of the pipeline over arbitrary text: it never raises and its invariants hold."""

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotator.services.readers import read_records
from annotator.services.records import ImportFileError, check_storable
from annotator.text.outlets import default_registry
from annotator.text.pipeline import PassageDraft, analyse_document
from annotator.text.quotes import quote_spans
from annotator.text.segment import is_furniture, normalise, sentence_spans, split_title
from annotator.text.suggest import LABELS

REGISTRY = default_registry()
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Newsy fragments make hypothesis reach the interesting branches (cues, quotes, datelines).
FRAGMENTS = [
    "Reuters reports:",
    "From The Kyiv Independent:",
    "(Tass)",
    "/TASS/.",
    "MOSCOW (AP) -",
    '"',
    "“",
    "”",
    "'",
    "’",
    " said",
    " told",
    "according to a report at NPR",
    "U.S.",
    "Mr.",
    "?",
    ":",
    ". ",
    "\n",
    "\n\n",
    "> ",
    "# ",
    "![]() |",
    "No comments:",
    "I think",
    "seemed to",
    " | AP",
    "(Reuters, based on reporting by A)",
    "Interfax reports.",
    " READ MORE",
    "…",
    # Outlets cited by address: bare, with scheme and path, as a link, in e-mail or a longer host.
    "npr.org",
    "https://www.tass.com/a_(b)",
    "[here](",
    ")",
    "@",
    ".example",
    # Untrusted-text shapes: markup, entities, bidi overrides, zero-width and rare line breaks.
    "<script>alert(1)</script>",
    "&lt;b&gt;&amp;",
    "\u202e",
    "\u200b",
    "\u2066",
    "\u00a0",
    "\u2028",
    "\r\n",
    "\x0b",
    "\x1c",
    "\x85",
]
NEWSY = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=40).map(
    "".join
)
ANY_TEXT = st.one_of(st.text(), NEWSY)
# No markup markers (# > |) and no BOM: then no character may get lost.
PLAIN_CHARACTERS = st.characters(exclude_characters="#>|\ufeff", exclude_categories=["Cs"])
PLAIN_FRAGMENTS = [f for f in FRAGMENTS if not set(f) & set("#>|")]
PLAIN = st.text(alphabet=PLAIN_CHARACTERS) | st.lists(
    st.sampled_from(PLAIN_FRAGMENTS) | st.text(alphabet=PLAIN_CHARACTERS, max_size=10)
).map("".join)


def check_invariants(passages: list[PassageDraft]) -> None:
    names = set(REGISTRY.names)
    for index, passage in enumerate(passages):
        assert passage.index == index
        assert passage.text
        assert passage.text == passage.text.strip()
        assert passage.role in ("author", "excerpt")
        assert passage.outlet is None or passage.outlet in names
        if passage.cue is not None:
            assert passage.cue_start is not None
            assert passage.cue_end is not None
            assert passage.text[passage.cue_start : passage.cue_end] == passage.cue
        else:
            assert passage.cue_start is None
            assert passage.cue_end is None
        previous_end = 0
        for claim in passage.claims:
            text = passage.text[claim.start : claim.end]
            assert 0 <= claim.start < claim.end <= len(passage.text)
            assert claim.start >= previous_end
            assert text == text.strip()
            assert claim.label in LABELS
            assert claim.reason
            previous_end = claim.end
    if passages:
        assert passages[0].role == "author"


@SETTINGS
@given(ANY_TEXT)
def test_analyse_document_without_title(text: str) -> None:
    check_invariants(analyse_document(None, text, REGISTRY))


@SETTINGS
@given(ANY_TEXT, ANY_TEXT)
def test_analyse_document_with_title(title: str, text: str) -> None:
    passages = analyse_document(title, text, REGISTRY)
    check_invariants(passages)
    if split_title(" ".join(title.split()))[0]:
        assert nonspace(passages[0].text) in nonspace(title)


def nonspace(text: str) -> str:
    return "".join(text.split())


@SETTINGS
@given(PLAIN)
def test_no_text_is_lost(text: str) -> None:
    kept = [line for line in normalise(text).split("\n") if not is_furniture(line)]
    passages = analyse_document(None, text, REGISTRY)
    assert "".join(nonspace(p.text) for p in passages) == nonspace("".join(kept))


@SETTINGS
@given(ANY_TEXT)
def test_sentences_rejoin_to_the_text(text: str) -> None:
    spans = sentence_spans(text, quote_spans(text))
    assert "".join(nonspace(text[a:b]) for a, b in spans) == nonspace(text)
    assert all(a < b and text[a:b] == text[a:b].strip() for a, b in spans)
    assert all(x[1] <= y[0] for x, y in itertools.pairwise(spans))


@SETTINGS
@given(ANY_TEXT)
def test_quote_spans_are_sorted_and_disjoint(text: str) -> None:
    spans = quote_spans(text)
    assert all(0 <= a < b <= len(text) for a, b in spans)
    assert all(x[1] <= y[0] for x, y in itertools.pairwise(spans))


@SETTINGS
@given(ANY_TEXT)
def test_outlet_mentions_are_disjoint_aliases(text: str) -> None:
    mentions = REGISTRY.find_all(text)
    assert all(x.end <= y.start for x, y in itertools.pairwise(mentions))
    for mention in mentions:
        assert REGISTRY.canonical(text[mention.start : mention.end]) == mention.outlet


@SETTINGS
@given(PLAIN.filter(lambda title: "\n" not in normalise(title)), PLAIN)
def test_no_text_is_lost_with_a_title(title: str, body: str) -> None:
    """The JSONL path: the title is the headline passage, the body the rest, nothing lost."""
    passages = analyse_document(title, body, REGISTRY)
    headline = " ".join(title.split())
    if not headline or is_furniture(headline):
        return  # no usable title: the body's first line is the headline (tested above)
    kept = [line for line in normalise(body).split("\n") if not is_furniture(line)]
    assert nonspace(passages[0].text) == nonspace(headline)
    assert "".join(nonspace(p.text) for p in passages[1:]) == nonspace("".join(kept))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["a.txt", "a.md", "a.jsonl", "a.csv", "a.html", "a"]),
    st.one_of(st.binary(max_size=300), ANY_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass"))),
)
def test_any_file_is_imported_or_refused_with_an_import_error(name: str, data: bytes) -> None:
    """Whatever bytes arrive, reading them either yields storable records whose text the
    pipeline takes, or raises ImportFileError (a clear message), never anything else."""
    try:
        records = read_records(name, data)
        check_storable(records)
    except ImportFileError as exc:
        assert str(exc).startswith(name)  # noqa: PT017 (any input may fail; the message counts)
        return
    for record in records:
        check_invariants(analyse_document(record.title, record.text, REGISTRY))
