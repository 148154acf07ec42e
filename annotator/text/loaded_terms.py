"""Loaded terms: words a project watches for in the text ("so-called", "regime", "terrorist*").

A loaded term in a reported or quoted sentence does not make it editorial (the guidelines say
why), so the terms never change a suggestion. They are highlighted for reviewers, and the
terms report counts them per outlet: which outlets' material carries which words.

A term is one or more words, matched whole and in any case; any run of spaces in the text
matches the space between two words, and a straight apostrophe matches a curly one. A term
ending in ``*`` also matches longer words ("terrorist*": terrorists, terrorism).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from annotator.text.trie import alternation

MAX_TERMS = 300
MAX_TERM_CHARS = 80
STEM = "*"

DEFAULT_LOADED_TERMS = """\
so-called
regime
junta
puppet*
terrorist*
neo-Nazi*
Nazi*
Russophob*
special military operation
genocide
brutal*
barbari*
heroic*
martyr*
thug*
propaganda
aggressor*
"""


class TermListError(ValueError):
    """A term list that cannot be used; the message names the line."""


@dataclass(frozen=True)
class TermHit:
    start: int
    end: int
    term: str  # as the list writes it


def parse_terms(text: str) -> tuple[str, ...]:
    """The terms of a list written one per line: blank lines and lines starting with ``#``
    are skipped, spaces are tidied, and a term given twice (any case) counts once."""
    terms: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        term = " ".join(line.split())
        if not term or term.startswith("#"):
            continue
        _check_term(term, number)
        terms.setdefault(term.casefold(), term)
    if len(terms) > MAX_TERMS:
        raise TermListError(f"The list holds {len(terms)} terms; at most {MAX_TERMS} are kept.")
    return tuple(terms.values())


def _check_term(term: str, number: int) -> None:
    if len(term) > MAX_TERM_CHARS:
        raise TermListError(f"Line {number}: a term has at most {MAX_TERM_CHARS} characters.")
    if STEM in term[:-1]:
        raise TermListError(f"Line {number}: {STEM} may only end a term ({term!r}).")
    if not any(character.isalnum() for character in term):
        raise TermListError(f"Line {number}: a term needs a letter or a digit ({term!r}).")


def _written(term: str) -> str:
    """How the pattern looks for a term: lower case, curly apostrophes straightened."""
    return term.removesuffix(STEM).lower().replace("\u2019", "'")


@dataclass(frozen=True)
class TermMatcher:
    terms: tuple[str, ...]
    pattern: re.Pattern[str]
    by_core: dict[str, tuple[str, bool]]  # written core -> (term, is a stem)

    def find(self, text: str) -> list[TermHit]:
        """Every whole-word occurrence of a term in ``text``, in order, not overlapping."""
        if not self.terms:
            return []
        lowered = _lowered(text)
        hits = []
        for found in self.pattern.finditer(lowered):
            core, tail = found.group(1), found.group(2)
            term, stem = self.by_core[" ".join(core.split())]
            if tail and not stem:
                continue  # "regimes" is not "regime"; the list says "regime*" for both
            hits.append(TermHit(found.start(), found.end(), term))
        return hits


def _lowered(text: str) -> str:
    """The text in lower case with straight apostrophes, at the same offsets. The few
    characters whose lower case is longer ("İ") keep their case, so offsets stay true."""
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    return lowered.replace("\u2019", "'")


@lru_cache(maxsize=64)
def matcher(terms: tuple[str, ...]) -> TermMatcher:
    """The compiled matcher of a term list (one per list, kept)."""
    by_core = {_written(term): (term, term.endswith(STEM)) for term in terms}
    # The trie factors the terms' common starts; a space in a term matches any run of spaces.
    words = alternation(by_core).replace(r"\ ", r"\s+")
    pattern = re.compile(r"(?<!\w)(" + words + r")(\w*)")
    return TermMatcher(terms, pattern, by_core)


def find_terms(text: str, terms: tuple[str, ...]) -> list[TermHit]:
    return matcher(terms).find(text)


@lru_cache(maxsize=64)
def watched_terms(term_list: str) -> tuple[str, ...]:
    """The terms of a project's stored list (checked when it was saved; a list that no longer
    reads, changed behind the tool's back, watches nothing rather than breaking pages)."""
    try:
        return parse_terms(term_list)
    except TermListError:
        return ()
