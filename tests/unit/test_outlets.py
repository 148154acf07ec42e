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
        (None, None),
    ],
)
def test_canonical(name: str | None, canonical: str | None) -> None:
    assert REGISTRY.canonical(name) == canonical


def test_custom_registry_uses_given_aliases() -> None:
    registry = OutletRegistry([("Daily Planet", ["The Planet"]), ("Empty", [])])
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
