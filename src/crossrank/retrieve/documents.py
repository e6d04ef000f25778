"""Documents as crossrank stores them, and candidates as retrievers return them."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, NamedTuple

from crossrank.errors import InvalidInputError

# fields every store keeps in typed columns; anything else a document carries is kept under `extra`
KNOWN_FIELDS = ("id", "content", "title", "created_at", "updated_at", "source", "confidence", "entities", "key")


@dataclass(frozen=True)
class Document:
    """A stored document: id, text, optional title and metadata.

    `created_at`/`updated_at` are timezone-aware datetimes; `confidence` is in [0, 1]; `entities` are
    names the document mentions; `key` groups versions of the same fact; `extra` holds free fields.
    """

    id: str
    content: str
    title: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    source: str | None = None
    confidence: float | None = None
    entities: tuple[str, ...] = ()
    key: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """What retrieval and the cross-encoder read: the title and content joined."""
        return f"{self.title}. {self.content}" if self.title else self.content

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (datetimes as ISO 8601 strings, free fields inlined)."""
        out: dict[str, Any] = {"id": self.id, "content": self.content}
        if self.title:
            out["title"] = self.title
        for name in ("created_at", "updated_at"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value.isoformat()
        for name in ("source", "confidence", "key"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.entities:
            out["entities"] = list(self.entities)
        out.update(self.extra)
        return out


@dataclass(frozen=True)
class Retrieved:
    """One candidate from a retriever: the document, its score (higher is better) and 1-based rank.

    `scores` holds each underlying retriever's score for hybrid results (e.g. {"vector": .., "keyword": ..}).
    """

    document: Document
    score: float
    rank: int
    scores: Mapping[str, float] = field(default_factory=dict)


class Ranked(NamedTuple):
    """A search result before its document is read: the id, the store's row id, and the score."""

    doc_id: str
    row_id: int
    score: float


def to_document(raw: object, where: str = "document") -> Document:
    """Validate a user's document (a mapping, or a Document) and normalise it; errors name `where`."""
    if isinstance(raw, Document):
        return raw
    if not isinstance(raw, Mapping):
        raise InvalidInputError(f"{where} must be an object with 'id' and 'content', got {type(raw).__name__}")
    doc_id = raw.get("id", raw.get("_id"))
    if isinstance(doc_id, int) and not isinstance(doc_id, bool):
        doc_id = str(doc_id)
    if not isinstance(doc_id, str) or not doc_id.strip():
        raise InvalidInputError(f"{where} has no 'id' (a non-empty string)")
    content = raw.get("content", raw.get("text"))
    if not isinstance(content, str) or not content.strip():
        raise InvalidInputError(
            f"{where} (id {doc_id!r}) has no text: give 'content' (or 'text') as a non-empty string"
        )
    title = raw.get("title") or ""
    if not isinstance(title, str):
        raise InvalidInputError(f"{where} (id {doc_id!r}): 'title' must be a string")
    extra = {k: v for k, v in raw.items() if k not in KNOWN_FIELDS and k not in ("_id", "text", "metadata")}
    metadata = raw.get("metadata")
    if isinstance(metadata, Mapping):  # BEIR-style nested metadata: known fields lifted, the rest kept
        raw = {**metadata, **raw}
        extra.update({k: v for k, v in metadata.items() if k not in KNOWN_FIELDS})
    return Document(
        id=doc_id,
        content=content,
        title=title,
        created_at=parse_time(raw.get("created_at"), f"{where} (id {doc_id!r}) created_at"),
        updated_at=parse_time(raw.get("updated_at"), f"{where} (id {doc_id!r}) updated_at"),
        source=_optional_str(raw.get("source"), f"{where} (id {doc_id!r}) source"),
        confidence=_confidence(raw.get("confidence"), f"{where} (id {doc_id!r})"),
        entities=_entities(raw.get("entities"), f"{where} (id {doc_id!r})"),
        key=_optional_str(raw.get("key"), f"{where} (id {doc_id!r}) key"),
        extra=extra,
    )


def to_documents(raws: Sequence[object]) -> list[Document]:
    """Validate a batch: every document well formed and no id twice (a batch is one atomic write)."""
    if isinstance(raws, (str, bytes, Mapping)) or not isinstance(raws, Sequence):
        raise InvalidInputError(f"documents must be a list of objects, got {type(raws).__name__}")
    documents = [to_document(raw, f"document {index}") for index, raw in enumerate(raws)]
    seen: dict[str, int] = {}
    for index, document in enumerate(documents):
        if document.id in seen:
            raise InvalidInputError(
                f"duplicate id {document.id!r} in one batch (documents {seen[document.id]} and {index}); "
                "ids must be unique within a write"
            )
        seen[document.id] = index
    return documents


def parse_time(value: object, where: str) -> datetime | None:
    """ISO 8601 text, a datetime, or Unix seconds -> an aware UTC datetime (naive values are taken as UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(float(value), tz=timezone.utc)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise InvalidInputError(f"{where}: {value!r} is not an ISO 8601 date-time") from exc
    else:
        raise InvalidInputError(f"{where}: expected an ISO 8601 string, got {type(value).__name__}")
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _optional_str(value: object, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"{where} must be a string")
    return value


def _confidence(value: object, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInputError(f"{where}: confidence must be a number in [0, 1]")
    if not 0.0 <= float(value) <= 1.0:
        raise InvalidInputError(f"{where}: confidence {value} is outside [0, 1]")
    return float(value)


def _entities(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise InvalidInputError(f"{where}: entities must be a list of strings")
    return tuple(value)
