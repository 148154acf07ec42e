"""Cutting a passage's text around its outlet cue, or the words searched for, for display."""

from __future__ import annotations

import pytest

from annotator.views.highlight import Piece, cited_address, cue_pieces, found_pieces


def test_the_cue_is_cut_out_of_the_text():
    text = "Meanwhile, according to a report at NPR: talks resumed."
    start = text.index("according")
    end = text.index(":")
    assert cue_pieces(text, start, end) == [
        Piece("Meanwhile, ", False),
        Piece("according to a report at NPR", True),
        Piece(": talks resumed.", False),
    ]


def test_a_cue_at_either_end_leaves_no_empty_piece():
    assert cue_pieces("Headline (Tass)", 9, 15) == [
        Piece("Headline ", False),
        Piece("(Tass)", True),
    ]
    assert cue_pieces("From Reuters: x", 0, 12) == [
        Piece("From Reuters", True),
        Piece(": x", False),
    ]


@pytest.mark.parametrize(
    ("start", "end"), [(None, None), (3, None), (5, 5), (4, 2), (-1, 3), (0, 99)]
)
def test_no_cue_or_one_outside_the_text_leaves_the_text_whole(start, end):
    assert cue_pieces("plain text", start, end) == [Piece("plain text", False)]


def test_found_pieces_mark_every_occurrence_in_any_case_and_take_the_words_literally():
    pieces = found_pieces("Tass said; TASS denied. Tassel.", "tass")
    assert [(p.text, p.marked) for p in pieces] == [
        ("Tass", True),
        (" said; ", False),
        ("TASS", True),
        (" denied. ", False),
        ("Tass", True),
        ("el.", False),
    ]
    assert [p.text for p in found_pieces("a.b axb", "a.b") if p.marked] == ["a.b"]
    assert found_pieces("nothing here", "tass") == [Piece("nothing here", False)]
    assert found_pieces("text", "") == [Piece("text", False)]


@pytest.mark.parametrize(
    ("cue", "address"),
    [
        (
            "As [reported here](https://www.npr.org/2024/05/01/strike)",
            "https://www.npr.org/2024/05/01/strike",
        ),
        ("[x](<https://tass.com/world/1>)", "https://tass.com/world/1"),
        ("More at HTTP://apnews.com/article/x.", "HTTP://apnews.com/article/x"),
        ("via reuters.com", None),
        ("(Reuters)", None),
        ("[x](javascript:alert(1))", None),
        (None, None),
    ],
)
def test_cited_address_is_the_web_address_in_a_cue(cue, address):
    assert cited_address(cue) == address
