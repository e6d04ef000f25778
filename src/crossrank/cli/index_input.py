"""Read the documents `crossrank index` stores: JSONL, checked line by line before anything is written."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from crossrank.errors import InvalidInputError
from crossrank.retrieve.documents import Document, to_document


def read_store_documents(source: str) -> list[Document]:
    """Every document in a JSONL file (or "-"), validated; errors name the file and line.

    A line without an id gets one from its content (a hash), so indexing the same file twice is idempotent.
    """
    name = "standard input" if source == "-" else source
    documents: list[Document] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(_lines(source), start=1):
        if not line.strip():
            continue
        raw = _parse(line, name, number)
        if isinstance(raw, dict) and "id" not in raw and "_id" not in raw and isinstance(raw.get("content"), str):
            raw["id"] = hashlib.sha1(raw["content"].encode()).hexdigest()[:16]
        document = to_document(raw, f"{name} line {number}")
        if document.id in first_line:
            raise InvalidInputError(
                f"{name} line {number}: duplicate id {document.id!r} (first on line {first_line[document.id]})"
            )
        first_line[document.id] = number
        documents.append(document)
    if not documents:
        raise InvalidInputError(f"no documents in {name}")
    return documents


def _lines(source: str) -> list[str]:
    if source == "-":
        return sys.stdin.read().splitlines()
    path = Path(source)
    if not path.is_file():
        raise InvalidInputError(f"documents file not found: {source}")
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{source} is not UTF-8 text (byte {exc.start})") from exc


def _parse(line: str, name: str, number: int) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"{name} line {number}: invalid JSON ({exc.msg}); each line must be one JSON object"
        ) from exc
