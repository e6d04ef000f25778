"""Metadata filters in one portable form, rendered by each store into its own query language.

A filter is a mapping of field to condition: a value (equality), a list (any of), or a mapping of
operators {"eq", "ne", "gt", "gte", "lt", "lte", "in"} to values. Datetimes may be ISO 8601 strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crossrank.errors import InvalidInputError
from crossrank.retrieve.documents import parse_time

FILTERABLE = {
    "id": str,
    "source": str,
    "key": str,
    "title": str,
    "confidence": float,
    "created_at": datetime,
    "updated_at": datetime,
}
OPERATORS = {"eq": "=", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "in": "IN"}

Filter = Mapping[str, Any]


@dataclass(frozen=True)
class Condition:
    """One checked comparison: field, SQL operator, and a value (a tuple for IN)."""

    field: str
    operator: str
    value: Any


def parse_filter(raw: Filter | None) -> list[Condition]:
    """Check a filter and return its conditions (all must hold); errors name the field."""
    if raw is None:
        return []
    if not isinstance(raw, Mapping):
        raise InvalidInputError(f"filter must be a mapping of field to condition, got {type(raw).__name__}")
    conditions = []
    for name, condition in raw.items():
        if name not in FILTERABLE:
            raise InvalidInputError(f"cannot filter on {name!r}; filterable fields: {', '.join(FILTERABLE)}")
        if isinstance(condition, Mapping):
            for op, value in condition.items():
                if op not in OPERATORS:
                    raise InvalidInputError(f"filter on {name!r}: unknown operator {op!r}; use {', '.join(OPERATORS)}")
                conditions.append(_condition(name, OPERATORS[op], value))
        else:
            conditions.append(_condition(name, "IN" if _is_list(condition) else "=", condition))
    return conditions


def _is_list(value: object) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _condition(name: str, operator: str, value: object) -> Condition:
    if operator == "IN":
        if not isinstance(value, Sequence) or isinstance(value, (str, bytes)) or not value:
            raise InvalidInputError(f"filter on {name!r}: 'in' needs a non-empty list")
        return Condition(name, operator, tuple(_typed(name, v) for v in value))
    return Condition(name, operator, _typed(name, value))


def _typed(name: str, value: object) -> Any:
    kind = FILTERABLE[name]
    if kind is datetime:
        return parse_time(value, f"filter on {name!r}")
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidInputError(f"filter on {name!r}: expected a number, got {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise InvalidInputError(f"filter on {name!r}: expected a string, got {value!r}")
    return value


def to_sql(conditions: list[Condition]) -> str | None:
    """A SQL WHERE clause with values inlined as escaped literals (for LanceDB, which takes a string)."""
    if not conditions:
        return None
    return " AND ".join(f"{c.field} {c.operator} {_literal(c.value)}" for c in conditions)


def _literal(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_literal(v) for v in value) + ")"
    if isinstance(value, datetime):
        return f"CAST('{value.strftime('%Y-%m-%dT%H:%M:%S.%f')}' AS TIMESTAMP)"
    if isinstance(value, float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"
