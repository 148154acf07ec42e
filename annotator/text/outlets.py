"""News outlets: a default list and a registry that finds their names in text.

Matching is case-sensitive on purpose ("AP" the agency, not "ap"; "Tass" and "TASS" are both
listed as aliases), with an all-caps variant of every multi-letter alias (datelines write
"(REUTERS)") and a lower-case "the" variant of aliases starting with "The". All aliases go into
one compiled alternation, longest first, so a text is scanned once however many outlets exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from annotator.text.trie import alternation

DEFAULT_OUTLETS: list[tuple[str, list[str], str | None]] = [
    ("Tass", ["TASS", "/TASS/", "TASS news agency"], "tass.com"),
    ("Kyiv Independent", ["The Kyiv Independent"], "kyivindependent.com"),
    ("NPR", ["National Public Radio"], "npr.org"),
    ("Reuters", ["Thomson Reuters"], "reuters.com"),
    ("AP", ["Associated Press", "The Associated Press"], "apnews.com"),
    ("AFP", ["Agence France-Presse", "Agence France Presse"], "afp.com"),
    ("BBC", ["BBC News", "The BBC"], "bbc.com"),
    ("CNN", [], "cnn.com"),
    ("The New York Times", ["New York Times", "NYT", "NYTimes"], "nytimes.com"),
    ("The Washington Post", ["Washington Post", "WaPo"], "washingtonpost.com"),
    ("The Guardian", [], "theguardian.com"),
    ("Al Jazeera", ["Al-Jazeera", "Aljazeera"], "aljazeera.com"),
    ("RIA Novosti", ["RIA", "RIA-Novosti"], "ria.ru"),
    ("Interfax", [], "interfax.ru"),
    ("Interfax-Ukraine", ["Interfax Ukraine"], "interfax.com.ua"),
    ("Ukrainska Pravda", ["Ukrainian Pravda", "Ukrayinska Pravda"], "pravda.com.ua"),
    ("Meduza", [], "meduza.io"),
    ("Novaya Gazeta", [], "novayagazeta.ru"),
    ("Politico", ["Politico Europe"], "politico.com"),
    ("Bloomberg", ["Bloomberg News"], "bloomberg.com"),
    ("Financial Times", ["The Financial Times"], "ft.com"),
    ("Wall Street Journal", ["The Wall Street Journal", "WSJ"], "wsj.com"),
    ("Axios", [], "axios.com"),
    ("Fox News", [], "foxnews.com"),
    ("NBC News", ["NBC"], "nbcnews.com"),
    ("CBS News", ["CBS"], "cbsnews.com"),
    ("ABC News", [], "abcnews.go.com"),
    ("Deutsche Welle", ["DW"], "dw.com"),
    ("Le Monde", [], "lemonde.fr"),
    ("Der Spiegel", ["Spiegel"], "spiegel.de"),
    ("RT", ["Russia Today"], "rt.com"),
    ("Sputnik", ["Sputnik News"], "sputnikglobe.com"),
    ("Xinhua", ["Xinhua News Agency"], "news.cn"),
    ("Kyiv Post", ["The Kyiv Post"], "kyivpost.com"),
    ("The Economist", [], "economist.com"),
    ("Newsweek", [], "newsweek.com"),
    ("The Hill", [], "thehill.com"),
    ("Ukrinform", [], "ukrinform.net"),
    ("Euronews", [], "euronews.com"),
    ("Radio Free Europe/Radio Liberty", ["RFE/RL", "Radio Liberty"], "rferl.org"),
    ("Voice of America", ["VOA"], "voanews.com"),
    ("Anadolu Agency", ["Anadolu"], "aa.com.tr"),
    ("Kommersant", [], "kommersant.ru"),
    ("Sky News", [], "news.sky.com"),
    ("USA Today", [], "usatoday.com"),
    ("Los Angeles Times", ["The Los Angeles Times", "LA Times"], "latimes.com"),
]


@dataclass(frozen=True)
class OutletMention:
    """An outlet name found in text: canonical outlet name and the span of the alias used."""

    outlet: str
    start: int
    end: int


def _variants(alias: str) -> Iterable[str]:
    """The alias plus its all-caps and lower-case-"the" spellings."""
    yield alias
    if sum(ch.isalpha() for ch in alias) > 2:
        yield alias.upper()
    if alias.startswith("The "):
        yield "the " + alias[4:]


class OutletRegistry:
    """Finds outlet names in text and maps any alias to its canonical outlet name."""

    def __init__(self, outlets: Iterable[tuple[str, Iterable[str]]]) -> None:
        """``outlets``: (canonical name, aliases); the canonical name is itself an alias."""
        self._canonical: dict[str, str] = {}
        self._folded: dict[str, str] = {}
        for name, aliases in outlets:
            for alias in (name, *aliases):
                alias = alias.strip()
                if not alias:
                    continue
                self._folded.setdefault(_fold(alias), name)
                for variant in _variants(alias):
                    self._canonical.setdefault(variant, name)
        self._pattern = _compile_alternation(self._canonical)

    @property
    def names(self) -> list[str]:
        """Canonical outlet names, sorted."""
        return sorted(set(self._canonical.values()))

    def canonical(self, name: str | None) -> str | None:
        """The canonical name for an alias or name (case-insensitive), or None if unknown."""
        if not name:
            return None
        return self._canonical.get(name.strip()) or self._folded.get(_fold(name))

    def find_all(self, text: str) -> list[OutletMention]:
        """Non-overlapping whole-word outlet mentions in ``text``, leftmost-longest first."""
        if self._pattern is None:
            return []
        canonical = self._canonical
        return [
            OutletMention(canonical[m.group()], m.start(), m.end())
            for m in self._pattern.finditer(text)
        ]


def _fold(name: str) -> str:
    """Case- and article-insensitive key: "The Kyiv Independent" -> "kyiv independent"."""
    folded = " ".join(name.casefold().split())
    return folded[4:] if folded.startswith("the ") else folded


# Checked after the first character, so that the pattern starts with plain literals and ``re``
# can skip ahead to positions holding a possible first character.
_GUARD = r"(?<![\w\-].)"


def _compile_alternation(aliases: Iterable[str]) -> re.Pattern[str] | None:
    """One regex matching any alias as a whole word, preferring the longest alias."""
    unique = set(aliases)
    if not unique:
        return None
    # \w-boundaries only where the alias itself starts/ends with a word character, so that
    # "/TASS/" still matches in "May 28. /TASS/." while "AP" never matches inside "CAP".
    return re.compile(rf"{alternation(unique, after_first=_GUARD)}(?![\w\-]*\w)")


def default_registry() -> OutletRegistry:
    """A registry of :data:`DEFAULT_OUTLETS` (for tests and tools without a database)."""
    return OutletRegistry((name, aliases) for name, aliases, _ in DEFAULT_OUTLETS)
