"""The outlet registry: whole-word, case-sensitive, longest-first matching and canonical names."""

import itertools

import pytest

from annotator.text.outlets import (
    DEFAULT_OUTLETS,
    OutletMention,
    OutletRegistry,
    default_registry,
)

REGISTRY = default_registry()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Medvedev: no talks (Tass)", [("Tass", "Tass")]),
        ("MOSCOW, May 28. /TASS/. Russia said", [("Tass", "/TASS/")]),
        ("TASS reported", [("Tass", "TASS")]),
        ("The Kyiv Independent reports", [("Kyiv Independent", "The Kyiv Independent")]),
        ("seen by the Kyiv Independent.", [("Kyiv Independent", "the Kyiv Independent")]),
        ("a report at NPR from Moscow", [("NPR", "NPR")]),
        ("National Public Radio said", [("NPR", "National Public Radio")]),
        ("KYIV (AP) — The Associated Press", [("AP", "AP"), ("AP", "The Associated Press")]),
        ("told the Associated Press", [("AP", "the Associated Press")]),
        ("LONDON (REUTERS) -", [("Reuters", "REUTERS")]),
        (
            "Interfax-Ukraine and Interfax differ",
            [
                ("Interfax-Ukraine", "Interfax-Ukraine"),
                ("Interfax", "Interfax"),
            ],
        ),
        ("the CAP rule, a tap, ap, APs", []),
        ("AP-style reporting", []),
        ("Reutersville has no outlet", []),
        ("", []),
    ],
)
def test_find_all(text: str, expected: list[tuple[str, str]]) -> None:
    found = REGISTRY.find_all(text)
    assert [(m.outlet, text[m.start : m.end]) for m in found] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("via kyivindependent.com", [("Kyiv Independent", "kyivindependent.com")]),
        (
            "See https://www.npr.org/2024/05/01/strike.html.",
            [("NPR", "https://www.npr.org/2024/05/01/strike.html")],
        ),
        ("(edition.cnn.com/2024/x)", [("CNN", "edition.cnn.com/2024/x")]),
        (
            "http://tass.com:80/world?id=1#top, then",
            [("Tass", "http://tass.com:80/world?id=1#top")],
        ),
        (
            "As [reported here](https://www.npr.org/2024/05/01/strike):",
            [("NPR", "[reported here](https://www.npr.org/2024/05/01/strike)")],
        ),
        ("[x](<https://tass.com/world/1>)!", [("Tass", "[x](<https://tass.com/world/1>)")]),
        # A name inside the link gives way to the link around it.
        ("From [NPR](https://npr.org/a).", [("NPR", "[NPR](https://npr.org/a)")]),
        # The link's target names the outlet, whatever the label says.
        ("[Reuters said](https://apnews.com/x)", [("AP", "[Reuters said](https://apnews.com/x)")]),
        ("a path with (brackets): npr.org/Kyiv_(city))", [("NPR", "npr.org/Kyiv_(city)")]),
        ("Reuters, then reuters.com", [("Reuters", "Reuters"), ("Reuters", "reuters.com")]),
        (
            "https://news.cnn.com/x and aa.com.tr",
            [("CNN", "https://news.cnn.com/x"), ("Anadolu Agency", "aa.com.tr")],
        ),
        ("see https://www.bbc.co.uk/news/x", [("BBC", "https://www.bbc.co.uk/news/x")]),
        ("write to press@npr.org", []),
        ("npr.org.example.net is another host", []),
        ("notnpr.org and my-npr.org", []),
        # Inside another site's address: that site is cited, not the outlet.
        ("https://example.com/?u=npr.org", []),
        ("https://example.com/share/npr.org/x and tass.com", [("Tass", "tass.com")]),
        ("[x](https://t.example/r?to=https://www.npr.org/a)", []),
        ("my_npr.org", []),
        ("npr.organisation", []),
        ("microsoft.com is not ft.com's", [("Financial Times", "ft.com")]),
    ],
)
def test_find_all_web_addresses(text: str, expected: list[tuple[str, str]]) -> None:
    found = REGISTRY.find_all(text)
    assert [(m.outlet, text[m.start : m.end]) for m in found] == expected


def test_registry_domain_ignores_case_and_www() -> None:
    registry = OutletRegistry([("Daily Planet", [], " WWW.DailyPlanet.example ")])
    found = registry.find_all("Read https://dailyplanet.example/mayor now")
    assert [(m.outlet, m.start, m.end) for m in found] == [("Daily Planet", 5, 38)]
    assert registry.canonical("dailyplanet.example") == "Daily Planet"


def test_an_alias_that_is_a_domain_is_one_more_domain_of_its_outlet() -> None:
    registry = OutletRegistry([("Daily Planet", ["The Planet", "planet.co.uk"], "planet.example")])
    text = "The Planet: [one](https://planet.example/a), [two](http://news.planet.co.uk/b)"
    found = registry.find_all(text)
    assert [text[m.start : m.end] for m in found] == [
        "The Planet",
        "[one](https://planet.example/a)",
        "[two](http://news.planet.co.uk/b)",
    ]
    assert registry.canonical("planet.co.uk") == "Daily Planet"


def test_mentions_do_not_overlap_and_are_sorted() -> None:
    text = "The Kyiv Independent, Kyiv Independent and Kyiv Post"
    found = REGISTRY.find_all(text)
    assert found == sorted(found, key=lambda m: m.start)
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))
    assert found[0] == OutletMention("Kyiv Independent", 0, 20)


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("Tass", "Tass"),
        ("TASS", "Tass"),
        ("tass", "Tass"),
        ("The Kyiv Independent", "Kyiv Independent"),
        ("kyiv independent", "Kyiv Independent"),
        ("Associated Press", "AP"),
        ("Nobody", None),
        # Every mention find_all returns, addresses included, names its outlet here.
        ("npr.org", "NPR"),
        ("FOXNEWS.com", "Fox News"),
        ("https://edition.cnn.com/2024/x", "CNN"),
        ("[reported here](https://www.npr.org/a)", "NPR"),
        ("npr.org and tass.com", None),
        ("see npr.org", None),
        ("editor@npr.org", None),
        ("npr.org.example.net", None),
        (None, None),
    ],
)
def test_canonical(name: str | None, canonical: str | None) -> None:
    assert REGISTRY.canonical(name) == canonical


def test_custom_registry_uses_given_aliases() -> None:
    registry = OutletRegistry([("Daily Planet", ["The Planet"], None), ("Empty", [], None)])
    assert [m.outlet for m in registry.find_all("The Planet and the Daily Planet")] == [
        "Daily Planet",
        "Daily Planet",
    ]
    assert OutletRegistry([]).find_all("Reuters") == []


def test_default_outlets_have_unique_names_and_aliases() -> None:
    """The database keeps outlet names and aliases unique, so the defaults must be too."""
    names = [name for name, _, _ in DEFAULT_OUTLETS]
    aliases = [alias for _, alias_list, _ in DEFAULT_OUTLETS for alias in alias_list]
    assert len(DEFAULT_OUTLETS) >= 40
    assert len(set(names)) == len(names)
    assert len(set(aliases)) == len(aliases)
    assert not set(names) & set(aliases)
    assert {"Tass", "Kyiv Independent", "NPR", "Reuters", "AP", "AFP"} <= set(names)
