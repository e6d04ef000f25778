"""A light entity extractor (no model, no LLM): names, acronyms, identifiers and years in a text.

Used on queries, and on documents that carry no `entities` metadata when asked. It finds capitalised
word runs ("New York", "PostgreSQL"), acronyms ("JWT"), identifiers with digits or inner capitals
("v2", "bge-m3", "OAuth"), and years ("2024"). Entities are compared case-folded.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*[A-Za-z0-9]|[A-Za-z0-9]")
_YEAR = re.compile(r"^(19|20)\d{2}$")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "the",
        "this",
        "that",
        "to",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "current",
        "currently",
        "latest",
        "now",
        "today",
        "new",
        "old",
        "previous",
        "former",
    ]
)


def extract_entities(text: str) -> list[str]:
    """Case-folded entities in order of first appearance, without duplicates."""
    tokens = _TOKEN.findall(text)
    found: list[str] = []
    run: list[str] = []
    for position, token in enumerate(tokens):
        if _is_named(token, position, tokens):
            run.append(token)
            continue
        _flush(run, found)
        if _is_identifier(token):
            _add(token, found)
    _flush(run, found)
    return found


def _is_named(token: str, position: int, tokens: list[str]) -> bool:
    """A capitalised token that is not a stopword ("What", "How" are; names rarely are)."""
    return token[0].isupper() and token.casefold() not in _STOP


def _is_identifier(token: str) -> bool:
    lowered = token.casefold()
    if lowered in _STOP:
        return False
    return bool(_YEAR.match(token)) or (any(c.isdigit() for c in token) and any(c.isalpha() for c in token))


def _has_inner_capital(token: str) -> bool:
    return any(c.isupper() for c in token[1:])


def _flush(run: list[str], found: list[str]) -> None:
    if run:
        _add(" ".join(run), found)
        for token in run if len(run) > 1 else ():
            _add(token, found)  # "Acme Cloud" also matches documents that say "Acme"
        run.clear()


def _add(entity: str, found: list[str]) -> None:
    key = entity.casefold()
    if key not in found:
        found.append(key)
