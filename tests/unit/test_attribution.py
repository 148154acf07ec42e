"""Passage attribution: role, cited outlet and cue, on short made-up articles."""

from pathlib import Path

import pytest

from annotator.text.outlets import default_registry
from annotator.text.pipeline import PassageDraft, analyse_document

REGISTRY = default_registry()
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "articles"
SAMPLE = Path(__file__).resolve().parents[2] / "annotator" / "sample_article.md"

Expected = list[tuple[str, str | None, str | None]]


def attribution(text: str, title: str | None = None) -> Expected:
    return [(p.role, p.outlet, p.cue) for p in analyse_document(title, text, REGISTRY)]


@pytest.mark.parametrize(
    ("headline", "outlet", "cue"),
    [
        ("Ceasefire talks stall (Reuters)", "Reuters", "(Reuters)"),
        ("Medvedev: Russia wants dominance, not negotiations (Tass) |", "Tass", "(Tass)"),
        ("Ceasefire talks stall | AP", "AP", "| AP"),
        ("Ceasefire talks stall — TASS", "Tass", "— TASS"),
        ("Ceasefire talks stall (via Reuters)", "Reuters", "(via Reuters)"),
        ("Reuters staff cut by a third", None, None),
        ("Ceasefire talks stall", None, None),
    ],
)
def test_headline_suffix(headline: str, outlet: str | None, cue: str | None) -> None:
    assert attribution(headline)[0] == ("author", outlet, cue)


@pytest.mark.parametrize(
    ("lead_in", "outlet", "cue"),
    [
        (
            "The talks went nowhere. The Kyiv Independent reports on the fallout:",
            "Kyiv Independent",
            "The Kyiv Independent reports",
        ),
        (
            "Nothing moved, according to a report at NPR from Kyiv:",
            "NPR",
            "according to a report at NPR",
        ),
        ("From The Guardian:", "The Guardian", "From The Guardian:"),
        ("From Reuters, June 3:", "Reuters", "From Reuters, June 3:"),
        ("Dana Whitcombe writes for Politico:", "Politico", "Dana Whitcombe writes for Politico"),
        ("NPR's Joanna Kakissis reports from Kyiv:", "NPR", "NPR's Joanna Kakissis reports"),
        ("The details were first reported by Meduza:", "Meduza", "first reported by Meduza"),
        ("Here is how Al Jazeera covered it:", "Al Jazeera", "Al Jazeera"),
    ],
)
def test_lead_in_opens_an_excerpt(lead_in: str, outlet: str, cue: str) -> None:
    passages = attribution(f"A headline\n{lead_in}\nCopied news text.\nMore copied text.")
    assert passages[1:] == [
        ("author", outlet, cue),
        ("excerpt", outlet, None),
        ("excerpt", outlet, None),
    ]


@pytest.mark.parametrize(
    ("paragraph", "outlet", "cue"),
    [
        ("Reuters reports: Novaya Gazeta was fined again.", "Reuters", "Reuters reports:"),
        ("From Meduza: the editor was detained.", "Meduza", "From Meduza:"),
        ("MOSCOW (Reuters) - The court fined the paper.", "Reuters", "(Reuters)"),
        ("KYIV, Ukraine (AP) — Sirens sounded overnight.", "AP", "(AP)"),
        ("MOSCOW, May 28. /TASS/. The court fined the paper.", "Tass", "/TASS/"),
    ],
)
def test_inline_lead_in_and_dateline_make_an_excerpt(paragraph: str, outlet: str, cue: str) -> None:
    assert attribution(f"A headline\n{paragraph}")[1] == ("excerpt", outlet, cue)


@pytest.mark.parametrize(
    ("ending", "role"),
    [
        ("I think this changes everything.", "author"),
        ("Who could have seen that coming?", "author"),
        ("Clearly, the talks are over.", "author"),
        ("Imagine the reaction in Brussels.", "author"),
        ("Update, 6 p.m.: The vote failed.", "author"),
        ('"I will not resign," the minister said.', "excerpt"),
        ("The talks appeared to be over by noon.", "excerpt"),
    ],
)
def test_excerpt_runs_until_the_author_speaks(ending: str, role: str) -> None:
    passages = attribution(f"A headline\nFrom Reuters:\nThe talks ended.\n{ending}\nAfter.")
    assert passages[3][0] == role
    assert passages[3][1] == ("Reuters" if role == "excerpt" else None)
    assert passages[4][0] == role


def test_lead_in_without_outlet_continues_the_last_outlet_cited() -> None:
    text = (
        "A headline\nFrom The Kyiv Independent:\nCopied.\n"
        "This seemed to be a threat, and it appeared to be deliberate:\nMore copied text."
    )
    assert attribution(text)[3:] == [("author", None, None), ("excerpt", "Kyiv Independent", None)]


def test_outlets_named_inside_an_excerpt_are_not_its_source() -> None:
    text = "A headline\nFrom Reuters:\nThe fine was first reported by Meduza, Interfax said."
    assert attribution(text)[2] == ("excerpt", "Reuters", None)


def test_unattributed_copy_has_no_outlet() -> None:
    assert attribution("A headline\nThe court fined the paper on Monday.")[1] == (
        "author",
        None,
        None,
    )


def test_trailing_attribution_names_the_source() -> None:
    text = "A headline\nThe court fined the paper on Monday, Ukrainska Pravda reports."
    assert attribution(text)[1] == ("author", "Ukrainska Pravda", "Ukrainska Pravda reports")


def test_credit_line_credits_the_paragraphs_before_it() -> None:
    text = (
        "A headline\nMy take first?\nThe court fined the paper.\nIt will appeal.\nInterfax reports."
    )
    assert attribution(text)[1:] == [
        ("author", None, None),
        ("excerpt", "Interfax", None),
        ("excerpt", "Interfax", None),
        ("author", "Interfax", "Interfax reports"),
    ]


def test_byline_credit_opens_and_parenthetical_credit_closes_an_excerpt() -> None:
    text = (
        "A headline\nPort strike spreads, by Ann Lee | AP\nDockers walked out.\n"
        "Cranes stood idle. (Reuters, based on reporting by Ann Lee)\nBack to me."
    )
    assert attribution(text)[1:] == [
        ("author", "AP", "| AP"),
        ("excerpt", "AP", None),
        ("excerpt", "Reuters", "(Reuters, based on reporting by Ann Lee)"),
        ("author", None, None),
    ]


def test_markdown_blockquotes_are_excerpts() -> None:
    text = "# A headline\n\nThe Guardian has the story:\n\n> Copied text.\n\nMy own words."
    assert attribution(text)[1:] == [
        ("author", "The Guardian", "The Guardian has the story"),
        ("excerpt", "The Guardian", None),
        ("author", None, None),
    ]


@pytest.mark.parametrize(
    ("lead_in", "outlet", "cue"),
    [
        (
            "As [reported here](https://www.npr.org/2024/05/01/strike):",
            "NPR",
            "[reported here](https://www.npr.org/2024/05/01/strike)",
        ),
        (
            "From [this piece](https://kyivindependent.com/port-strike/):",
            "Kyiv Independent",
            "From [this piece](https://kyivindependent.com/port-strike/):",
        ),
        (
            "The ministry's account, according to [a report](https://tass.com/world/1):",
            "Tass",
            "according to [a report](https://tass.com/world/1)",
        ),
        (
            "More at https://apnews.com/article/port-strike:",
            "AP",
            "More at https://apnews.com/article/port-strike",
        ),
    ],
)
def test_a_link_to_an_outlet_is_a_lead_in_cue(lead_in: str, outlet: str, cue: str) -> None:
    text = f"# A headline\n\n{lead_in}\n\n> Copied news text.\n\nMy own words."
    assert attribution(text)[1:] == [
        ("author", outlet, cue),
        ("excerpt", outlet, None),
        ("author", None, None),
    ]


def test_headline_suffix_may_be_an_address() -> None:
    assert attribution("Port strike spreads (via reuters.com)")[0] == (
        "author",
        "Reuters",
        "(via reuters.com)",
    )


def test_links_to_other_sites_name_no_outlet() -> None:
    text = "# A headline\n\nAs [reported here](https://example.net/strike):\n\n> Copied text."
    assert attribution(text)[1:] == [("author", None, None), ("excerpt", None, None)]


def test_title_from_import_is_passage_zero() -> None:
    passages = analyse_document("Talks stall (Reuters)", "Body one.\n\nBody two.", REGISTRY)
    assert [p.text for p in passages] == ["Talks stall (Reuters)", "Body one.", "Body two."]
    assert passages[0].outlet == "Reuters"


def test_document_without_text_has_no_passages() -> None:
    assert analyse_document(None, "![]() |\n\nNo comments:", REGISTRY) == []


def _roles(passages: list[PassageDraft]) -> list[tuple[str, str | None]]:
    return [(p.role, p.outlet) for p in passages]


def test_fixture_election_dispute() -> None:
    text = (FIXTURES / "election_dispute.md").read_text(encoding="utf-8")
    assert _roles(analyse_document(None, text, REGISTRY)) == [
        ("author", "AP"),
        ("author", "AP"),
        ("excerpt", "AP"),
        ("excerpt", "AP"),
        ("author", "Politico"),
        ("excerpt", "Politico"),
        ("excerpt", "Politico"),
        ("author", None),
        ("author", None),
    ]


def test_fixture_wire_digest() -> None:
    text = (FIXTURES / "wire_digest.txt").read_text(encoding="utf-8")
    assert _roles(analyse_document(None, text, REGISTRY)) == [
        ("author", None),
        ("author", None),
        ("excerpt", "Tass"),
        ("excerpt", "Tass"),
        ("excerpt", "Reuters"),
        ("excerpt", "Reuters"),
        ("excerpt", "Interfax"),
        ("excerpt", "Interfax"),
        ("author", "Interfax"),
        ("author", "Ukrainska Pravda"),
        ("author", "AP"),
        ("excerpt", "AP"),
        ("author", None),
    ]


def test_sample_article_cites_several_outlets() -> None:
    passages = analyse_document(None, SAMPLE.read_text(encoding="utf-8"), REGISTRY)
    assert 15 <= len(passages) <= 25
    assert passages[0].cue == "(Reuters)"
    outlets = {p.outlet for p in passages if p.outlet}
    assert {"Reuters", "Bloomberg", "The Guardian", "AP", "Politico"} <= outlets
    assert {p.role for p in passages} == {"author", "excerpt"}
    assert {c.label for p in passages for c in p.claims} == {"reported", "quoted", "editorial"}
