"""Training input for `crossrank train`: a BEIR-layout folder, or a JSONL file of (query, positive[, negatives]).

Both become one `TrainingSet`: a corpus of texts and queries that point into it by index, so mining,
validation and the training loop never care which format the user gave.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from crossrank.errors import InvalidInputError
from crossrank.jsonlines import parse_object

VALIDATION_CAP = 200  # held-out queries scored at each validation: enough to rank checkpoints, quick on a CPU


@dataclass
class JudgedQuery:
    """A query, the corpus indices judged relevant (with grades) and any negatives the user supplied."""

    query_id: str
    text: str
    relevant: dict[int, int]  # corpus index -> grade (> 0)
    judged: set[int] = field(default_factory=set)  # every index judged at any grade: never a negative
    given_negatives: list[int] = field(default_factory=list)


@dataclass
class TrainingSet:
    """Texts and the queries over them; `doc_ids` names each text (BEIR ids, or `doc-N` for JSONL)."""

    texts: list[str]
    doc_ids: list[str]
    queries: list[JudgedQuery]

    def split(self, fraction: float, seed: int, cap: int = VALIDATION_CAP) -> tuple[TrainingSet, TrainingSet]:
        """(train, validation): a seeded random `fraction` of the queries (at most `cap`, at least 1) held out."""
        order = list(range(len(self.queries)))
        random.Random(seed).shuffle(order)
        size = min(cap, max(1, round(len(order) * fraction)))
        if size >= len(order):
            raise InvalidInputError(f"{len(order)} queries are too few to hold {size} out for validation")
        held = set(order[:size])
        train = [q for i, q in enumerate(self.queries) if i not in held]
        validation = [q for i, q in enumerate(self.queries) if i in held]
        return TrainingSet(self.texts, self.doc_ids, train), TrainingSet(self.texts, self.doc_ids, validation)

    def sample(self, size: int, seed: int) -> TrainingSet:
        """At most `size` of the queries, a seeded random choice kept in file order (files are often sorted by
        source or type, so the first N would not represent the rest)."""
        if len(self.queries) <= size:
            return self
        chosen = sorted(random.Random(seed).sample(range(len(self.queries)), size))
        return TrainingSet(self.texts, self.doc_ids, [self.queries[i] for i in chosen])

    @staticmethod
    def merge(named: Sequence[tuple[str, TrainingSet]]) -> TrainingSet:
        """One set from several (name, set) pairs: texts concatenated, ids prefixed with `name/`."""
        if len(named) == 1:
            return named[0][1]
        texts: list[str] = []
        doc_ids: list[str] = []
        queries: list[JudgedQuery] = []
        for name, part in named:
            offset = len(texts)
            texts += part.texts
            doc_ids += [f"{name}/{d}" for d in part.doc_ids]
            queries += [
                JudgedQuery(
                    f"{name}/{q.query_id}",
                    q.text,
                    {i + offset: g for i, g in q.relevant.items()},
                    {i + offset for i in q.judged},
                    [i + offset for i in q.given_negatives],
                )
                for q in part.queries
            ]
        return TrainingSet(texts, doc_ids, queries)

    def qrels(self) -> dict[str, dict[str, int]]:
        """The judgements in pytrec_eval's form."""
        return {q.query_id: {self.doc_ids[i]: g for i, g in q.relevant.items()} for q in self.queries}


def load_training_set(path: str | Path, split: str = "train") -> TrainingSet:
    """Read a BEIR folder (corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv) or a JSONL file of training pairs."""
    source = Path(path)
    if source.is_dir():
        return _from_beir(source, split)
    if source.is_file():
        return _from_jsonl(source)
    raise InvalidInputError(f"{source}: no such file or folder")


def has_split(path: str | Path, split: str) -> bool:
    """Whether a BEIR folder has judgements for `split`."""
    return (Path(path) / "qrels" / f"{split}.tsv").is_file()


def _from_beir(folder: Path, split: str) -> TrainingSet:
    from crossrank.eval.beir import load_beir

    if not has_split(folder, split):
        raise InvalidInputError(f"{folder} has no qrels/{split}.tsv")
    dataset = load_beir(folder, split)
    doc_ids = list(dataset.corpus)
    index = {doc_id: i for i, doc_id in enumerate(doc_ids)}
    queries = []
    for query_id in dataset.judged_query_ids:
        grades = {index[d]: g for d, g in dataset.qrels[query_id].items() if d in index}
        relevant = {i: g for i, g in grades.items() if g > 0}
        if relevant:
            queries.append(JudgedQuery(query_id, dataset.queries[query_id], relevant, set(grades)))
    if not queries:
        raise InvalidInputError(f"{folder}: no query in qrels/{split}.tsv has a relevant document in the corpus")
    return TrainingSet([dataset.corpus[d].content for d in doc_ids], doc_ids, queries)


def _from_jsonl(file: Path) -> TrainingSet:
    """Rows like {"query": "...", "positive": "..." or [...], "negatives": [...]}; texts are shared by value."""
    texts: list[str] = []
    index: dict[str, int] = {}

    def text_index(text: str) -> int:
        if text not in index:
            index[text] = len(texts)
            texts.append(text)
        return index[text]

    queries = []
    with file.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            row = _parse_row(line, file, line_number)
            positives = [text_index(t) for t in _texts(row, "positive", file, line_number, required=True)]
            negatives = [text_index(t) for t in _texts(row, "negatives", file, line_number, required=False)]
            query_id = str(row.get("query_id", f"q{line_number}"))
            relevant = dict.fromkeys(positives, 1)
            queries.append(JudgedQuery(query_id, str(row["query"]), relevant, set(positives), negatives))
    if not queries:
        raise InvalidInputError(f"{file} holds no training rows")
    return TrainingSet(texts, [f"doc-{i}" for i in range(len(texts))], queries)


def _parse_row(line: str, file: Path, line_number: int) -> dict[str, object]:
    row = parse_object(line, f"{file}:{line_number}")
    if not isinstance(row.get("query"), str) or not row["query"].strip():
        raise InvalidInputError(f"{file}:{line_number}: 'query' must be a non-empty string")
    return row


def _texts(row: dict[str, object], key: str, file: Path, line_number: int, required: bool) -> list[str]:
    value = row.get(key, [])
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise InvalidInputError(f"{file}:{line_number}: '{key}' must be a non-empty string or a list of them")
    if required and not values:
        raise InvalidInputError(f"{file}:{line_number}: '{key}' is missing")
    return list(values)
