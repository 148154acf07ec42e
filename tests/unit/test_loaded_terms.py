"""Loaded terms: how a list is read and where its terms are found."""

from __future__ import annotations

import re

import pytest

from annotator.text.loaded_terms import (
    DEFAULT_LOADED_TERMS,
    MAX_TERMS,
    TermListError,
    find_terms,
    parse_terms,
)


def found(text: str, *terms: str) -> list[tuple[str, str]]:
    return [(hit.term, text[hit.start : hit.end]) for hit in find_terms(text, terms)]


def test_a_list_is_read_one_term_a_line_tidied_and_without_repeats():
    text = "# watched words\n  so-called \n\nRegime\nregime\nspecial   military operation\r\n"
    assert parse_terms(text) == ("so-called", "Regime", "special military operation")
    assert parse_terms("") == ()
    assert len(parse_terms(DEFAULT_LOADED_TERMS)) == 17


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("regime\n*\n", "Line 2: a term needs a letter or a digit"),
        ("ter*rorist", "Line 1: * may only end a term"),
        ("x" * 81, "Line 1: a term has at most 80 characters"),
        ("\n".join(f"term{n}" for n in range(MAX_TERMS + 1)), "at most 300 are kept"),
    ],
)
def test_a_list_that_cannot_be_used_is_refused_naming_the_line(text, message):
    with pytest.raises(TermListError, match=re.escape(message)):
        parse_terms(text)


def test_terms_match_whole_words_in_any_case():
    text = "The Regime said the regimes and a regimental band met. REGIME."
    assert found(text, "regime") == [("regime", "Regime"), ("regime", "REGIME")]


def test_a_star_matches_longer_words_too():
    text = "Terrorists, terrorism and a terror attack; counterterrorism."
    assert found(text, "terror*") == [
        ("terror*", "Terrorists"),
        ("terror*", "terrorism"),
        ("terror*", "terror"),
    ]


def test_words_of_a_term_match_across_any_run_of_spaces():
    text = "its Special  Military\nOperation and a special operation"
    assert found(text, "special military operation") == [
        ("special military operation", "Special  Military\nOperation")
    ]


def test_the_longest_term_wins_where_two_start_together():
    text = "a so-called referendum, so called"
    assert found(text, "so", "so-called") == [("so-called", "so-called"), ("so", "so")]


CURLY = "\u2019"


def test_apostrophes_straight_or_curly_match_each_other():
    curly = f"aggressor{CURLY}s"
    assert found(f"the {curly} war", "aggressor's") == [("aggressor's", curly)]
    assert found("the aggressor's war", curly) == [(curly, "aggressor's")]


def test_offsets_stay_true_where_lower_case_changes_length():
    text = "İstanbul junta"  # "İ".lower() is two characters
    assert found(text, "junta") == [("junta", "junta")]


def test_no_terms_find_nothing():
    assert find_terms("any regime", ()) == []
