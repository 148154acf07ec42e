"""News outlets: a default list and a registry that finds their names in text.

Matching is case-sensitive on purpose ("AP" the agency, not "ap"; "Tass" and "TASS" are both
listed as aliases), with an all-caps variant of every multi-letter alias (datelines write
"(REUTERS)") and a lower-case "the" variant of aliases starting with "The". An outlet's web
domain ("npr.org") is found too, and a mention of it covers the whole address or Markdown link
around it (``[this report](https://www.npr.org/2024/...)``), so a lead-in whose only cue is a
link still names its outlet. An alias that is a domain ("bbc.co.uk") is one more domain of its
outlet. All aliases and domains go into one compiled alternation, longest
first, so a text is scanned once however many outlets exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from annotator.text.trie import alternation

DEFAULT_OUTLETS: list[tuple[str, list[str], str | None]] = [
    ("Tass", ["TASS", "/TASS/", "TASS news agency", "tass.ru"], "tass.com"),
    ("Kyiv Independent", ["The Kyiv Independent"], "kyivindependent.com"),
    ("NPR", ["National Public Radio"], "npr.org"),
    ("Reuters", ["Thomson Reuters"], "reuters.com"),
    ("AP", ["Associated Press", "The Associated Press", "ap.org"], "apnews.com"),
    ("AFP", ["Agence France-Presse", "Agence France Presse"], "afp.com"),
    ("BBC", ["BBC News", "The BBC", "bbc.co.uk"], "bbc.com"),
    ("CNN", [], "cnn.com"),
    ("The New York Times", ["New York Times", "NYT", "NYTimes"], "nytimes.com"),
    ("The Washington Post", ["Washington Post", "WaPo"], "washingtonpost.com"),
    ("The Guardian", ["guardian.co.uk"], "theguardian.com"),
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
    ("Deutsche Welle", ["DW", "dw.de"], "dw.com"),
    ("Le Monde", [], "lemonde.fr"),
    ("Der Spiegel", ["Spiegel"], "spiegel.de"),
    ("RT", ["Russia Today"], "rt.com"),
    ("Sputnik", ["Sputnik News", "sputniknews.com"], "sputnikglobe.com"),
    ("Xinhua", ["Xinhua News Agency", "xinhuanet.com"], "news.cn"),
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
    """Finds outlet names and web addresses in text and maps any alias to its canonical name."""

    def __init__(self, outlets: Iterable[tuple[str, Iterable[str], str | None]]) -> None:
        """``outlets``: (canonical name, aliases, web domain or None); the canonical name is
        itself an alias."""
        self._canonical: dict[str, str] = {}
        self._folded: dict[str, str] = {}
        self._by_domain: dict[str, str] = {}
        for name, aliases, domain in outlets:
            for alias in (name, *aliases):
                alias = alias.strip()
                if not alias:
                    continue
                self._folded.setdefault(_fold(alias), name)
                if DOMAIN.fullmatch(alias):
                    # Found as an address, not by the names' scan: names that start in lower
                    # case would make that scan stop at nearly every word.
                    self._by_domain.setdefault(alias.removeprefix("www."), name)
                    continue
                for variant in _variants(alias):
                    self._canonical.setdefault(variant, name)
            domain = (domain or "").strip().lower().removeprefix("www.")
            if domain:
                self._by_domain.setdefault(domain, name)
        self._pattern = _compile_alternation(self._canonical)
        self._domain_ends = _compile_domain_ends(self._by_domain)

    @property
    def names(self) -> list[str]:
        """Canonical outlet names, sorted."""
        return sorted(set(self._canonical.values()))

    def canonical(self, name: str | None) -> str | None:
        """The canonical name for an alias or name (case-insensitive), or for a web address on
        an outlet's domain (bare, with scheme and path, or a Markdown link to it); None if
        unknown. Every mention :meth:`find_all` returns names its outlet here."""
        if not name:
            return None
        name = name.strip()
        return (
            self._canonical.get(name)
            or self._folded.get(_fold(name))
            or self._outlet_of_whole_address(name)
        )

    def find_all(self, text: str) -> list[OutletMention]:
        """Non-overlapping whole-word outlet mentions in ``text``, leftmost-longest first.

        A domain's mention spans the address or Markdown link it is part of; names inside that
        link give way to it. A domain in an e-mail address or inside a longer host name
        ("npr.org.example.net") is not a mention.
        """
        names = self._names(text)
        addresses = self._addresses(text)
        if not addresses:
            return names
        outside = [m for m in names if not any(_overlap(m, a) for a in addresses)]
        return sorted([*outside, *addresses], key=lambda mention: mention.start)

    def _names(self, text: str) -> list[OutletMention]:
        if self._pattern is None:
            return []
        canonical = self._canonical
        return [
            OutletMention(canonical[m.group()], m.start(), m.end())
            for m in self._pattern.finditer(text)
        ]

    def _addresses(self, text: str) -> list[OutletMention]:
        """Mentions of the registered domains. They are found from the end of their host
        (".org"), which the regex engine can look for quickly: a scan for every domain from
        its first letter would try nearly every lower-case letter of the text."""
        ends = self._domain_ends
        first = ends.search(text) if ends is not None else None
        if ends is None or first is None:  # most paragraphs: a search is cheaper than finditer
            return []
        found: list[OutletMention] = []
        for match in ends.finditer(text, first.start()):
            if found and match.start() < found[-1].end:
                continue
            start = match.start()
            while start and (text[start - 1].isalnum() or text[start - 1] in ".-"):
                start -= 1
            outlet = self._outlet_of_host(text[start : match.end()].lower())
            span = _address_span(text, start, match.end()) if outlet else None
            if outlet and span:
                found.append(OutletMention(outlet, *span))
        return found

    def _outlet_of_whole_address(self, text: str) -> str | None:
        found = self._addresses(text)
        if len(found) == 1 and (found[0].start, found[0].end) == (0, len(text)):
            return found[0].outlet
        return None

    def _outlet_of_host(self, host: str) -> str | None:
        """The outlet whose domain is the host or one of its parents ("edition.cnn.com")."""
        labels = host.split(".")
        for first in range(len(labels) - 1):
            outlet = self._by_domain.get(".".join(labels[first:]))
            if outlet is not None:
                return outlet
        return None


def _overlap(a: OutletMention, b: OutletMention) -> bool:
    return a.start < b.end and b.start < a.end


def _compile_domain_ends(domains: Iterable[str]) -> re.Pattern[str] | None:
    """A regex for the last label of any of the domains, with its dot: ``\\.(?:com|org)``."""
    endings = {domain.rsplit(".", 1)[-1] for domain in domains}
    if not endings:
        return None
    return re.compile(rf"\.(?:{alternation(endings)})(?![\w\-])")


# A bare domain name in lower case ("example.com"): an outlet's homepage, or an alias that is one.
DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_SCHEME_BEFORE = re.compile(r"https?://\Z", re.IGNORECASE)
_PATH_AFTER = re.compile(r"(?::\d{1,5})?[/?#][^\s<>\"\[\]]*")
_LINK_LABEL_BEFORE = re.compile(r"\[[^\[\]\n]{1,300}\]\(<?\Z")
_TRAILING_PUNCTUATION = ".,;:!?'\u2019\u201d"
# Before a host, these put it inside something else: an e-mail address, a longer word
# ("my_npr.org") or another address's path or query.
_INSIDE_ANOTHER_ADDRESS = "@_/=?&#%+~"


def _address_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The web address (or Markdown link to it) around the host at ``start:end``: with its
    scheme and path. None when the host is part of an e-mail address, of a longer host or of
    another address (in its path or query: ``https://example.com/?u=npr.org``)."""
    if text[end : end + 1] == "." and text[end + 1 : end + 2].isalnum():
        return None
    scheme = _SCHEME_BEFORE.search(text, max(0, start - 8), start)
    if scheme is not None:
        start = scheme.start()
    if start and text[start - 1] in _INSIDE_ANOTHER_ADDRESS:
        return None
    path = _PATH_AFTER.match(text, end)
    if path is not None:
        end = _without_trailing_punctuation(text, end, path.end())
    label = _LINK_LABEL_BEFORE.search(text, max(0, start - 304), start)
    if label is not None:
        closing = end + (text[end : end + 1] == ">")
        if text[closing : closing + 1] == ")":
            return label.start(), closing + 1
    return start, end


def _without_trailing_punctuation(text: str, start: int, end: int) -> int:
    """Where an address ends once the sentence's punctuation after it is left out; a closing
    parenthesis stays only when the path opened one ("…/Kyiv_(city)")."""
    while end > start:
        last = text[end - 1]
        if last in _TRAILING_PUNCTUATION or (
            last == ")" and text.count("(", start, end) < text.count(")", start, end)
        ):
            end -= 1
            continue
        break
    return end


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
    return OutletRegistry(DEFAULT_OUTLETS)
