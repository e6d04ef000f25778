"""Load a dataset in BEIR layout: corpus.jsonl, queries.jsonl and qrels/<split>.tsv."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from crossrank.errors import InvalidInputError

Qrels = dict[str, dict[str, int]]


@dataclass(frozen=True)
class BeirDocument:
    """One corpus entry."""

    doc_id: str
    title: str
    text: str
    metadata: dict[str, object] = field(default_factory=dict)  # BEIR's optional per-document metadata

    @property
    def content(self) -> str:
        """Title and text joined, the form every stage of crossrank reads."""
        return f"{self.title}. {self.text}" if self.title else self.text


@dataclass(frozen=True)
class BeirDataset:
    """A corpus, its queries and the relevance judgements of one split."""

    name: str
    corpus: dict[str, BeirDocument]
    queries: dict[str, str]
    qrels: Qrels

    @property
    def judged_query_ids(self) -> list[str]:
        """Queries that have at least one judgement in this split, in file order."""
        return [qid for qid in self.queries if qid in self.qrels]


def _read_jsonl(path: Path) -> list[dict[str, object]]:
    if not path.is_file():
        raise InvalidInputError(f"{path} not found: a BEIR folder needs corpus.jsonl and queries.jsonl")
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InvalidInputError(f"{path}: invalid JSON on line {number}: {exc.msg}") from exc
    return rows


def _checked_rows(path: Path, required: tuple[str, ...]) -> list[dict[str, object]]:
    """Rows of a BEIR JSONL file that are objects with an `_id` and the `required` fields; errors name the entry."""
    rows = _read_jsonl(path)
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or "_id" not in row or any(key not in row for key in required):
            fields = ", ".join(("_id", *required))
            raise InvalidInputError(f"{path}: entry {number} is not an object with {fields}")
    return rows


def load_qrels(path: Path) -> Qrels:
    """Read a qrels TSV (header `query-id corpus-id score`) into {query: {doc: grade}}."""
    if not path.is_file():
        raise InvalidInputError(f"{path} not found: expected qrels/<split>.tsv")
    qrels: Qrels = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        next(reader, None)
        for row in reader:
            if len(row) < 3:
                continue
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    return qrels


def read_corpus(folder: str | Path) -> dict[str, BeirDocument]:
    """A BEIR folder's corpus.jsonl alone, by document id."""
    corpus = {}
    for row in _checked_rows(Path(folder) / "corpus.jsonl", ()):
        doc_id = str(row["_id"])
        metadata = row.get("metadata")
        corpus[doc_id] = BeirDocument(
            doc_id,
            str(row.get("title") or ""),
            str(row.get("text") or ""),
            dict(metadata) if isinstance(metadata, dict) else {},
        )
    return corpus


def load_beir(folder: str | Path, split: str = "test") -> BeirDataset:
    """Load a BEIR-layout folder for one split of its qrels."""
    root = Path(folder)
    corpus = read_corpus(root)
    queries = {str(row["_id"]): str(row["text"]) for row in _checked_rows(root / "queries.jsonl", ("text",))}
    qrels = load_qrels(root / "qrels" / f"{split}.tsv")
    return BeirDataset(root.name, corpus, queries, qrels)
