"""One JSON Lines row, parsed with an error that says where it is."""

from __future__ import annotations

import json
from typing import Any

from crossrank.errors import InvalidInputError


def parse_object(line: str | bytes, where: str) -> dict[str, Any]:
    """The JSON object on `line`; `where` (like "data.jsonl:12") starts the error message."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{where}: not valid JSON ({exc.msg})") from None
    if not isinstance(row, dict):
        raise InvalidInputError(f"{where}: expected a JSON object")
    return row
