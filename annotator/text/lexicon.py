# ruff: noqa: RUF001  (typographic quotes and dashes are what this module parses)
"""Cue words for quotation and editorial language, found in one scan per paragraph.

Every cue word of every kind goes into one prefix-factored regex; a paragraph (with quotations
blanked out) is scanned once and each hit is then confirmed by a small anchored pattern where a
word is ambiguous ("called" names things unless someone calls; "In" only opens "In other
words"). Claims then pick the hits inside their span.

Kinds: SPEECH (verb of saying), SOURCE ("according to", "citing"), NOUN (statement, remarks,
complaints...: speech nouns), FIRST_PERSON (I, me, my), OPENER (sentence-initial "Clearly,",
"Of course,", imperatives such as "Imagine"), HEDGE ("seemed to", "appeared to be",
"suggest ... never"), STRONG and MILD (evaluative words scored by :mod:`annotator.text.voice`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

SPEECH, SOURCE, NOUN, FIRST_PERSON = "speech", "source", "noun", "first_person"
OPENER, HEDGE, STRONG, MILD = "opener", "hedge", "strong", "mild"


class Hit(NamedTuple):
    """A confirmed cue: its kind, span in the scanned text and the words that matched."""

    kind: str
    start: int
    end: int
    words: str


def words(text: str) -> list[str]:
    """The whitespace-separated words of a word-list literal."""
    return text.split()


# Commitments (pledged, promised, vowed) and mental states (believe, hope) are not speech.
_SPEECH = words(
    """said says saying told tells stated admitted admits admitting accused accuses accusing
    warned warns added adds noted declared declares announced announces insisted insists
    insisting argued argues arguing asserted asserts explained explains stressed stresses
    emphasized emphasised emphasizes emphasises underlined underscored urged urges urging
    denied denies denying acknowledged acknowledges confirmed confirms wrote tweeted replied
    responded commented remarked suggested predicted recalled complained complains conceded
    cautioned alleged alleges boasted lamented criticized criticised condemned blamed asked
    asks answered testified reiterated clarified described describes quipped claimed claiming"""
)
_SOURCE = words("according citing quoting")
_NOUN = words(
    """statement statements remark remarks comment comments words complaint complaints claim
    allegation allegations accusation accusations warnings criticism call message messages
    post posts address speech interview tweet tweets appeal appeals plea pleas rhetoric quote
    quotes slogan slogans chant chants denial denials insistence assurance assurances promise
    promises threat threats demand demands vow vows"""
)
# Words that are speech only in some contexts; their confirmation decides (see _CONFIRM).
_CONDITIONAL = words(
    "say claims notes states warning called calls calling referred refers referring pointed "
    "went quoted"
)
_FIRST_PERSON = ["I", "me", "my", "My", "mine", "myself", "Me", "Myself"]
_OPENERS = words(
    """Clearly Obviously Of Surely Needless Frankly Sadly Alas Ironically Predictably Tellingly
    Thankfully Unsurprisingly Not Make In Put To Let Imagine Consider Remember Note Think Don
    Keep Mind Worse Even Again"""
)
# The same adverbs as a comma-delimited aside: "is, of course, Kremlin shorthand".
_ASIDES = words("course frankly sadly ironically predictably tellingly needless sure")
_HEDGES = words(
    """seem seems seemed seemingly appear appears appeared apparently suggest suggests arguably
    presumably undoubtedly doubt bound intended faith example clear obvious evident ironic
    telling hard argue wonder worth remains clearly obviously evidently surely problem truth
    fact point question irony reality lesson time excuse"""
)
_STRONG = words(
    """notoriety notorious notoriously absurd absurdity absurdly ridiculous ridiculously
    outrageous outrageously shameful shamefully shameless shamelessly disgrace disgraceful
    hypocrisy hypocritical hypocrite hypocrites farce sham nonsense laughable laughably
    pathetic despicable grotesque idiotic stupid stupidity foolish foolishly insane insanity
    crazy delusional deluded cynical cynically brazen brazenly blatant blatantly egregious
    egregiously appalling appallingly atrocious abysmal pitiful ludicrous preposterous
    disingenuous mendacious sinister nefarious vile wicked thuggish cowardly craven
    spineless pompous arrogant arrogance charade debacle fiasco scandalous deplorable
    inexcusable unconscionable obscene deranged unhinged hysteria hysterical fearmongering
    demagogue demagogues demagoguery mouthpiece stooge stooges lackey lackeys parasitic
    predatory woke leftist leftists fascist fascists fascism dishonest dishonesty lied liar
    liars Left"""
)
_MILD = words(
    """theatrical incendiary inflammatory harsh false bizarre shocking reckless recklessly
    disastrous catastrophic ruinous draconian tyrannical tyranny cruel ugly naive naïve silly
    dumb lame desperate desperately remarkable remarkably extraordinary extraordinarily
    incredible incredibly utterly truly deeply simply merely very extremely really actually
    indeed certainly perhaps probably fortunately unfortunately terrible terribly awful
    horrible horrific amazing great good bad worse worst best wonderful excellent poor poorly
    wrong unfair pointless useless hopeless inevitable inevitably must should ought need
    needs we us our ourselves propaganda puppet puppets so-called"""
)
_CASE_SENSITIVE = frozenset([*_FIRST_PERSON, *_OPENERS, *_ASIDES, "Left"])


def _kinds() -> dict[str, str]:
    table: dict[str, str] = {}
    for kind, entries in (
        (STRONG, _STRONG), (MILD, _MILD), (HEDGE, _HEDGES), (NOUN, _NOUN), (SOURCE, _SOURCE),
        (SPEECH, _SPEECH), (SPEECH, _CONDITIONAL), (FIRST_PERSON, _FIRST_PERSON),
        (OPENER, _OPENERS), (OPENER, _ASIDES),
    ):  # fmt: skip
        for word in entries:
            table[word] = kind
            if word not in _CASE_SENSITIVE:
                table.setdefault(word[0].upper() + word[1:], kind)
    return table


_KIND = _kinds()
_BASE = {
    affixed: word
    for word in _KIND
    for affixed in (word, "(" + word, "—" + word, *(word + end for end in ",.:;?!)—"))
}
_BASE.update({f"I{mark}{suffix}": "I" for mark in "'’" for suffix in ("m", "ve", "d", "ll")})
_TOKENS = frozenset(_BASE)

_SPEECH_CONTEXT = {
    "say": re.compile(r"say\s+(?:that|it|the|they|he|she|we|there|a|an|this|so)\b", re.I),
    "claims": re.compile(r"claims\s+(?:that|to)\b", re.I),
    "notes": re.compile(r"notes\s+that\b", re.I),
    "states": re.compile(r"states\s+that\b", re.I),
    "warning": re.compile(r"warning\s+(?:that|of|against)\b", re.I),
    "pointed": re.compile(r"pointed\s+out\b", re.I),
    "went": re.compile(r"went\s+on\s+to\s+say\b", re.I),
    "quoted": re.compile(r"quoted\s+as\b", re.I),
}
_CALL_FOR = re.compile(r"(?:called|calls|calling)\s+(?:on|upon|for)\b", re.I)
_CALL_OBJECT = re.compile(
    r"(?:called|calls)\s+(?:it|them|him|her|this|that|these|the|a|an|his|their|its)\b", re.I
)
_CALLER = re.compile(
    r"(?:\b(?:who|which|he|she|they|it|we|and|also|publicly|repeatedly)|[A-Z][\w’'-]*)\s+\Z"
)
_REFERRED = re.compile(r"refer(?:red|s|ring)\s+to\b", re.I)
_PASSIVE = re.compile(r"\b(?:is|was|are|were|be|been|being|often|commonly|widely|also)\s+\Z", re.I)
_SAID_AS_ADJECTIVE = re.compile(r"\b(?:the|so-)\s*\Z", re.I)
_NO_ROMAN_I = re.compile(r"\b(?:War|Phase|Part|Chapter|Class|Type|Title|Article|Section)\s+\Z")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;…][\"'”’)\]]*\s)[\s\"'“‘(\[]*\Z")
_ASIDE = re.compile(
    r"(?<=,\s)(?:of\s+course|frankly|sadly|ironically|predictably|tellingly|needless\s+to\s+say|"
    r"to\s+be\s+sure)(?=,)"
)
_ASIDE_START = {"course": "of ", "sure": "to be "}
_OPENER = re.compile(
    r"(?:Clearly|Obviously|Of course|Surely|Needless to say|Frankly|Sadly|Alas|Ironically|"
    r"Predictably|Tellingly|Thankfully|Unsurprisingly|Not surprisingly|Make no mistake|"
    r"In other words|In fact,|Put simply|To be sure|Let(?:'s|’s| us)|Imagine|Consider|Remember|"
    r"Note that|Think about|Don['’]t forget|Keep in mind|Mind you|Worse(?: still)?,|"
    r"Even worse|Again,)"
)
_HEDGE = re.compile(
    r"""(?:seem(?:s|ed|ingly)?(?:\s+to\s+be|\s+to|\s+like|\s+as\s+if)?\b
    |appear(?:s|ed)?\s+(?:to\s+(?:be|have)|designed|intended|aimed|calculated|poised|likely
      |unlikely)\b|apparently\b|clearly\b|obviously\b|evidently\b|surely\b
    |(?<=it\sis\s)worth\s+(?:noting|remembering|recalling|asking|pointing\s+out)\b
    |(?<=it\s)remains\s+to\s+be\s+seen\b
    |suggests?\s+(?:that\s+)?[\w\s,'’]{0,60}?\b(?:never|not|no|only)\b
    |(?<=never\s)intended\b|(?<=is\s)bound\s+to\b|arguably\b|presumably\b|undoubtedly\b
    |(?<=no\s)doubt\b|(?<=it\sis\s)(?:clear|obvious|evident|ironic|telling)\b
    |(?<=it\sis\s)hard\s+to\s+(?:see|believe|imagine)\b|(?<=another\s)example\s+of\b
    |(?:(?<=clear\s)|(?<=textbook\s)|(?<=classic\s)|(?<=telling\s))example\b|(?<=bad\s)faith\b
    |(?:(?<=one\scan\s)|(?<=one\scould\s)|(?<=one\smight\s))(?:argue|say|wonder)\b
    |(?:(?<=the\s)|(?<=the\sreal\s)|(?<=the\sbig\s))(?:problem|truth|fact|point|question|irony
      |reality|lesson)\s+is\b
    |(?<=it\sis\s)(?:high\s+)?time\s+(?:to|for)\b|(?<=there\sis\sno\s)excuse\b)""",
    re.IGNORECASE | re.VERBOSE,
)


def scan(masked: str) -> list[Hit]:
    """Confirmed cue hits in ``masked`` (a text whose quotations are blanked out), in order."""
    hits: list[Hit] = []
    for start, word in _candidates(masked):
        kind = _KIND[word]
        confirm = _CONFIRM.get(kind) or _CONFIRM_WORD.get(word)
        if confirm is None:
            hits.append(Hit(kind, start, start + len(word), word))
            continue
        hit = confirm(masked, start, word)
        if hit is not None:
            hits.append(hit)
    return hits


def _candidates(masked: str) -> list[tuple[int, str]]:
    """(offset, word) of every whole-word occurrence of a cue word, sorted by offset.

    ``str.split`` plus a set intersection (the lexicon also holds each word with trailing
    punctuation, "said," "said.") is several times faster than running a regex of all cue words
    over every position; only the few words found are then located with ``str.find``.
    """
    found = _TOKENS.intersection(masked.split())
    if not found:
        return []
    positions: list[tuple[int, str]] = []
    for word in {_BASE[token] for token in found}:
        start = masked.find(word)
        while start >= 0:
            end = start + len(word)
            if (start == 0 or _is_boundary(masked[start - 1])) and (
                end == len(masked) or _is_boundary(masked[end])
            ):
                positions.append((start, word))
            start = masked.find(word, end)
    positions.sort()
    return positions


def _is_boundary(char: str) -> bool:
    """Whether a character next to a word separates it from other words."""
    return not (char.isalnum() or char in "-_")


def _confirm_speech(masked: str, start: int, word: str) -> Hit | None:
    lower = word.lower()
    end = start + len(word)
    if lower in ("called", "calls", "calling"):
        return _confirm_call(masked, start, word)
    if lower.startswith("refer"):
        verb = _REFERRED.match(masked, start)
        if verb is None or _PASSIVE.search(masked, max(0, start - 12), start):
            return None
        return Hit(SPEECH, start, verb.end(), verb.group())
    context = _SPEECH_CONTEXT.get(lower)
    if context is not None:
        phrase = context.match(masked, start)
        if phrase is None:
            return Hit(NOUN, start, end, word) if lower in ("claims", "warning") else None
        return Hit(SPEECH, start, phrase.end(), " ".join(phrase.group().split()))
    if lower == "said" and _SAID_AS_ADJECTIVE.search(masked, max(0, start - 5), start):
        return None
    return Hit(SPEECH, start, end, word)


def _confirm_call(masked: str, start: int, word: str) -> Hit | None:
    """ "called on/for" is speech; "called it X" only with a caller before it."""
    phrase = _CALL_FOR.match(masked, start)
    if phrase is not None:
        return Hit(SPEECH, start, phrase.end(), " ".join(phrase.group().split()))
    if _CALL_OBJECT.match(masked, start):
        if _CALLER.search(masked, max(0, start - 40), start):
            return Hit(SPEECH, start, start + len(word), word)
        return None
    return Hit(NOUN, start, start + len(word), word) if word.lower() == "calls" else None


def _confirm_first_person(masked: str, start: int, word: str) -> Hit | None:
    if word == "I" and _NO_ROMAN_I.search(masked, max(0, start - 10), start):
        return None
    return Hit(FIRST_PERSON, start, start + len(word), word)


def _confirm_opener(masked: str, start: int, word: str) -> Hit | None:
    if word.islower():
        return _confirm_aside(masked, start, word)
    if not _SENTENCE_START.search(masked, max(0, start - 8), start):
        return None
    opener = _OPENER.match(masked, start)
    return Hit(OPENER, start, opener.end(), opener.group()) if opener else None


def _confirm_aside(masked: str, start: int, word: str) -> Hit | None:
    """A sentence adverb set off by commas: ", of course," / ", frankly," (the writer's aside)."""
    begin = start - len(_ASIDE_START.get(word, ""))
    aside = _ASIDE.match(masked, begin) if begin >= 0 else None
    return Hit(OPENER, begin, aside.end(), aside.group()) if aside else None


def _confirm_hedge(masked: str, start: int, word: str) -> Hit | None:
    hedge = _HEDGE.match(masked, start)
    if hedge is None:
        return None
    return Hit(HEDGE, start, hedge.end(), " ".join(hedge.group().split()[:4]))


def _confirm_need(masked: str, start: int, word: str) -> Hit | None:
    end = start + len(word)
    return Hit(MILD, start, end, word) if masked.startswith(" to ", end) else None


def _confirm_source(masked: str, start: int, word: str) -> Hit | None:
    end = start + len(word)
    if word.lower() == "according" and not masked.startswith(" to ", end):
        return None
    return Hit(SOURCE, start, end, word)


def _confirm_the_left(masked: str, start: int, word: str) -> Hit | None:
    if not masked.endswith("the ", 0, start):
        return None
    return Hit(STRONG, start, start + len(word), word)


_CONFIRM: dict[str, Callable[[str, int, str], Hit | None]] = {
    SPEECH: _confirm_speech,
    FIRST_PERSON: _confirm_first_person,
    OPENER: _confirm_opener,
    HEDGE: _confirm_hedge,
    SOURCE: _confirm_source,
}
_CONFIRM_WORD: dict[str, Callable[[str, int, str], Hit | None]] = {
    "Left": _confirm_the_left,
    "need": _confirm_need,
    "needs": _confirm_need,
    "Need": _confirm_need,
    "Needs": _confirm_need,
}
