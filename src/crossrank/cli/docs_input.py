"""Read the documents the CLI reranks: JSONL objects with a text field, or one document per line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from crossrank.errors import InvalidInputError
from crossrank.jsonlines import parse_object


def read_documents(source: str, text_key: str) -> list[Any]:
    """Documents from a file path or "-" (stdin). JSONL when the first non-blank line starts with "{"."""
    if source == "-":
        text = sys.stdin.read()
    else:
        path = Path(source)
        if not path.is_file():
            raise InvalidInputError(f"documents file not found: {source}")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInputError(f"{source} is not UTF-8 text (byte {exc.start})") from exc
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise InvalidInputError(f"no documents in {'standard input' if source == '-' else source}")
    if first.lstrip().startswith("{"):
        return _parse_jsonl(lines, text_key)
    return [line for line in lines if line.strip()]


def _parse_jsonl(lines: list[str], text_key: str) -> list[dict[str, Any]]:
    documents = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        item = parse_object(line, f"line {number}")
        if not isinstance(item.get(text_key), str):
            raise InvalidInputError(f"line {number} has no string field {text_key!r} (use --text-key)")
        documents.append(item)
    return documents
