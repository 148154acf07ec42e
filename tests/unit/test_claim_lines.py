"""Reading a curator's claim lines back into spans of the passage's text."""

from __future__ import annotations

import pytest

from annotator.services.claim_editing import (
    MAX_CLAIMS,
    ClaimEditError,
    ClaimEditPlan,
    spans_from_lines,
)

TEXT = (
    "Union leaders walked out of the talks after the port authority refused to raise its "
    'wage offer, Reuters said. "We will not go back," said Maria Olsen.'
)


def texts(lines: str, text: str = TEXT) -> list[str]:
    return [text[start:end] for start, end in spans_from_lines(text, lines)]


def test_a_line_per_claim_gives_each_claims_span():
    first = "Union leaders walked out of the talks"
    second = "after the port authority refused to raise its wage offer, Reuters said."
    assert texts(f"{first}\n{second}") == [first, second]


def test_one_line_for_two_sentences_joins_them_with_what_lies_between():
    assert texts('Reuters said. "We will not go back,"') == ['Reuters said. "We will not go back,"']


def test_spaces_and_line_ends_in_the_text_match_any_spacing_in_the_line():
    text = "The strike   entered\nits second week. Talks stalled."
    assert texts("The strike entered  its second week.\nTalks stalled.", text) == [
        "The strike   entered\nits second week.",
        "Talks stalled.",
    ]


def test_blank_lines_and_surrounding_spaces_are_ignored():
    assert texts("\n   said Maria Olsen.  \n\n") == ["said Maria Olsen."]


def test_words_left_out_of_every_line_belong_to_no_claim():
    spans = spans_from_lines(TEXT, "Union leaders walked out\nsaid Maria Olsen.")
    assert spans[0] == (0, len("Union leaders walked out"))
    assert spans[1][1] == len(TEXT)


def test_a_repeated_phrase_is_found_after_the_claim_before_it():
    text = "Talks stalled. Then talks resumed. Talks stalled."
    assert spans_from_lines(text, "Talks stalled.\nTalks stalled.") == [(0, 14), (35, 49)]


@pytest.mark.parametrize(
    ("lines", "line_number"),
    [
        ("Union leaders walked out of the negotiations", 1),  # a changed word
        ("Union leaders walked out\nthe talks\nUnion leaders", 3),  # out of order
        ("nion leaders walked out", 1),  # starts inside a word
        ("Union leaders walked ou", 1),  # ends inside a word
    ],
)
def test_a_line_that_is_not_the_passages_text_is_refused_by_its_number(lines, line_number):
    with pytest.raises(ClaimEditError, match=f"Line {line_number} "):
        spans_from_lines(TEXT, lines)


def test_at_least_one_claim_and_at_most_the_limit():
    with pytest.raises(ClaimEditError, match="at least one claim"):
        spans_from_lines(TEXT, " \n \n")
    words = TEXT.split()
    text = " ".join(["word"] * (MAX_CLAIMS + 1))
    with pytest.raises(ClaimEditError, match=f"at most {MAX_CLAIMS} claims"):
        spans_from_lines(text, "\n".join(["word"] * (MAX_CLAIMS + 1)))
    assert len(spans_from_lines(TEXT, "\n".join(words))) == len(words)


def test_the_plan_says_what_goes_and_asks_only_when_work_is_lost():
    keeps = ClaimEditPlan(kept=1, removed=1, added=2, labels_lost=0, reviewers=(), settled_lost=0)
    assert keeps.changes_anything
    assert not keeps.needs_confirmation
    assert keeps.summary() == "edit keeps 1 claim, removes 1 and adds 2"
    loses = ClaimEditPlan(
        kept=0, removed=2, added=1, labels_lost=3, reviewers=("ann", "bob"), settled_lost=1
    )
    assert loses.needs_confirmation
    assert loses.summary() == (
        "edit keeps 0 claims, removes 2 and adds 1; it deletes 3 labels (by ann, bob) "
        "and 1 settled label"
    )
    unchanged = ClaimEditPlan(
        kept=2, removed=0, added=0, labels_lost=0, reviewers=(), settled_lost=0
    )
    assert not unchanged.changes_anything
