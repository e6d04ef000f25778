"""Check what callers pass to rerank() and pull out the text to score, with messages that say what is wrong."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from crossrank.errors import InvalidInputError

Candidate = str | Mapping[str, Any]


def check_query(query: object) -> str:
    """A query must be a non-blank string."""
    if not isinstance(query, str):
        raise InvalidInputError(f"query must be a string, got {type(query).__name__}")
    if not query.strip():
        raise InvalidInputError("query is empty: give the text to rank the candidates against")
    return query


def check_document(index: int, document: object) -> str:
    """The document of a (query, document) pair must be a string."""
    if not isinstance(document, str):
        raise InvalidInputError(f"the document of pair {index} is {type(document).__name__}, not a string")
    return document


def candidate_texts(candidates: object, text_key: str) -> list[str]:
    """The text of each candidate: the string itself, or `candidate[text_key]` for a mapping."""
    if candidates is None:
        raise InvalidInputError("candidates is None: pass a list of strings or of dicts with a text field")
    if isinstance(candidates, (str, bytes, Mapping)) or not isinstance(candidates, Sequence):
        raise InvalidInputError(f"candidates must be a list of strings or dicts, got {type(candidates).__name__}")
    return [_text_of(index, item, text_key) for index, item in enumerate(candidates)]


def _text_of(index: int, item: object, text_key: str) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, Mapping):
        if text_key not in item:
            keys = ", ".join(map(repr, list(item)[:5]))
            raise InvalidInputError(
                f"candidate {index} has no {text_key!r} field (its keys: {keys}); "
                "set text_key= to the field holding the text"
            )
        value = item[text_key]
        if not isinstance(value, str):
            raise InvalidInputError(f"candidate {index} field {text_key!r} is {type(value).__name__}, not a string")
        return value
    raise InvalidInputError(
        f"candidate {index} is {type(item).__name__}: expected a string or a dict with a {text_key!r} field"
    )


def first_stage_values(
    candidates: Sequence[Candidate], scores: Sequence[float] | None, key: str | None
) -> list[float] | None:
    """First-stage scores given as a list, or read from each candidate's `key` field; None if neither."""
    if scores is not None and key is not None:
        raise InvalidInputError("pass first_stage_scores or first_stage_key, not both")
    if key is not None:
        values: list[Any] = []
        for index, item in enumerate(candidates):
            if not isinstance(item, Mapping) or key not in item:
                raise InvalidInputError(f"candidate {index} has no first-stage score field {key!r}")
            values.append(item[key])
    elif scores is not None:
        values = list(scores)
        if len(values) != len(candidates):
            raise InvalidInputError(f"first_stage_scores has {len(values)} values for {len(candidates)} candidates")
    else:
        return None
    return [_finite(index, value) for index, value in enumerate(values)]


def _finite(index: int, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        raise InvalidInputError(f"first-stage score of candidate {index} is {value!r}, not a finite number")
    return float(value)
