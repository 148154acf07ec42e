"""Claim boundaries: sentences, minus cue words, datelines, credits and cut teasers."""

import pytest

from annotator.text.outlets import default_registry
from annotator.text.pipeline import analyse_document

REGISTRY = default_registry()


def claims_of(paragraph: str, before: str = "") -> list[str]:
    passages = analyse_document("A headline", f"{before}\n{paragraph}".strip(), REGISTRY)
    last = passages[-1]
    return [last.text[c.start : c.end] for c in last.claims]


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        ("Talks ended. Nothing was agreed.", ["Talks ended.", "Nothing was agreed."]),
        (
            "The U.S. envoy met Gen. Smith on Jan. 5. He left.",
            [
                "The U.S. envoy met Gen. Smith on Jan. 5.",
                "He left.",
            ],
        ),
        (
            '"Our army will advance. Everything will change," Medvedev said. Kyiv said nothing.',
            [
                '"Our army will advance. Everything will change," Medvedev said.',
                "Kyiv said nothing.",
            ],
        ),
        ("It was bad faith. From The Kyiv Independent:", ["It was bad faith."]),
        ("Talks ended. From Reuters, June 3:", ["Talks ended."]),
        (
            'The Kyiv Independent reports on the talks under the headline "No deal":',
            ['The Kyiv Independent reports on the talks under the headline "No deal":'],
        ),
        (
            "Reuters reports: Novaya Gazeta was fined. It will appeal.",
            [
                "Novaya Gazeta was fined.",
                "It will appeal.",
            ],
        ),
        ("MOSCOW (Reuters) - The court fined the paper.", ["The court fined the paper."]),
        ("MOSCOW, May 28. /TASS/. The court fined the paper.", ["The court fined the paper."]),
        ("The court fined it. (Reuters, based on reporting by Ann Lee)", ["The court fined it."]),
        ("Cranes stood idle. (Reporting by Ann Lee; Editing by Bo Li)", ["Cranes stood idle."]),
        ("Ports closed. Queues grew along the coast road and...  READ MORE", ["Ports closed."]),
        ("Ports closed. Queues grew. […]", ["Ports closed.", "Queues grew."]),
        ("— ... —", []),
    ],
)
def test_claim_boundaries(paragraph: str, expected: list[str]) -> None:
    assert claims_of(paragraph) == expected


def test_headline_is_one_claim_without_its_outlet_suffix() -> None:
    headline = analyse_document("Talks stall. Kyiv waits (Reuters)", "", REGISTRY)[0]
    assert [headline.text[c.start : c.end] for c in headline.claims] == ["Talks stall. Kyiv waits"]


def test_bare_credit_line_has_no_claim() -> None:
    passages = analyse_document("A headline", "Copied text.\nInterfax reports.", REGISTRY)
    assert passages[-1].claims == ()


def test_claims_are_sorted_stripped_and_inside_the_passage() -> None:
    passages = analyse_document(
        None, "Title\n  Spaced   out.   Second  sentence here.  \nThird one.", REGISTRY
    )
    for passage in passages:
        previous_end = 0
        for claim in passage.claims:
            text = passage.text[claim.start : claim.end]
            assert text == text.strip()
            assert text
            assert claim.start >= previous_end
            previous_end = claim.end


def test_from_in_mid_paragraph_is_not_an_inline_lead_in() -> None:
    paragraph = "Talks ended on Monday. From Reuters: the vote failed."
    assert claims_of(paragraph)[0] == "Talks ended on Monday."
