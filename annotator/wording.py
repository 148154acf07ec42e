"""Small helpers for the sentences the tool writes to its users."""

from __future__ import annotations


def counted(number: int, noun: str) -> str:
    """ "1 label", "2 labels", "1,200 labels" (nouns that take an s)."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
