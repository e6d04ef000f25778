"""The embedded document store: LanceDB at a path, with vector search, built-in BM25 and filters.

Writes are LanceDB commits: a batch is either wholly visible or not at all, so a process killed
mid-ingest loses at most the batch it was writing. Upserts by id are idempotent.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from crossrank.errors import BackendUnavailableError, InvalidInputError
from crossrank.retrieve.documents import Document, Ranked, Retrieved
from crossrank.retrieve.embedder import Embedder
from crossrank.retrieve.filters import Filter, parse_filter, to_sql
from crossrank.retrieve.ingest import EmbeddingStore, id_list
from crossrank.score.memory import AccessLog, VersionIndex

os.environ.setdefault("LANCE_LOG", "error")  # LanceDB's Rust side warns on stderr by default

TABLE = "documents"
ANN_THRESHOLD = 50_000  # below this many rows exact search is fast enough (~30 ms at 50k x 384 here)
_COLUMNS = ["id", "content", "title", "created_at", "updated_at", "source", "confidence", "entities", "key", "extra"]


def _lancedb() -> Any:
    try:
        import lancedb
    except ImportError as exc:
        raise BackendUnavailableError("the embedded store needs LanceDB: pip install 'crossrank[retrieve]'") from exc
    return lancedb


class LanceStore(EmbeddingStore):
    """Documents, their vectors and a BM25 index in one LanceDB table at `path`.

    >>> store = LanceStore("./kb")                       # doctest: +SKIP
    >>> store.add([{"id": "a1", "content": "JWT access tokens expire after 15 minutes."}])  # doctest: +SKIP
    1
    """

    def __init__(self, path: str | Path, embedder: Embedder | None = None, *, ann_threshold: int = ANN_THRESHOLD):
        self.path = Path(path).expanduser()
        if self.path.exists() and not self.path.is_dir():
            raise InvalidInputError(f"store path {self.path} is a file, not a folder")
        self._db = _lancedb().connect(str(self.path))
        self._embedder = embedder
        self.ann_threshold = ann_threshold
        self._lock = threading.Lock()  # one writer per process; LanceDB itself orders commits across processes
        self._table: Any = self._db.open_table(TABLE) if TABLE in self._table_names() else None
        self._writes = 0  # bumped by every write, so derived indexes know when to rebuild
        self._versions: tuple[int, VersionIndex] | None = None
        self._accesses: AccessLog | None = None

    # -- properties ---------------------------------------------------------------------------

    def count(self) -> int:
        """Number of stored documents."""
        return 0 if self._table is None else int(self._table.count_rows())

    def __repr__(self) -> str:
        return f"LanceStore(path={str(self.path)!r}, documents={self.count()})"

    # -- writes -------------------------------------------------------------------------------

    def delete(self, ids: Iterable[str]) -> int:
        """Delete documents by id; returns how many existed."""
        wanted = id_list(ids, "delete")
        if self._table is None or not wanted:
            return 0
        where = to_sql(parse_filter({"id": wanted}))
        with self._lock:
            before = self.count()
            self._table.delete(where)
            self._writes += 1
            return before - self.count()

    def _write(self, documents: list[Document], vectors: np.ndarray) -> None:
        data = self._arrow(documents, vectors)
        if self._table is None:
            self._table = self._db.create_table(TABLE, data)
            self._table.create_scalar_index("id", index_type="BTREE")
            return
        (self._table.merge_insert("id").when_matched_update_all().when_not_matched_insert_all().execute(data))

    def _arrow(self, documents: list[Document], vectors: np.ndarray) -> Any:
        import pyarrow as pa

        dimension = vectors.shape[1]
        timestamp = pa.timestamp("us", tz="UTC")
        schema = pa.schema(
            [
                ("id", pa.string()),
                ("content", pa.string()),
                ("title", pa.string()),
                ("text", pa.string()),  # title + content: what BM25 indexes
                ("created_at", timestamp),
                ("updated_at", timestamp),
                ("source", pa.string()),
                ("confidence", pa.float64()),
                ("entities", pa.list_(pa.string())),
                ("key", pa.string()),
                ("extra", pa.string()),  # free fields as JSON
                ("vector", pa.list_(pa.float32(), dimension)),
            ]
        )
        flat = vectors.astype(np.float32, copy=False).reshape(-1)
        columns = {
            "id": [d.id for d in documents],
            "content": [d.content for d in documents],
            "title": [d.title for d in documents],
            "text": [d.text for d in documents],
            "created_at": [d.created_at for d in documents],
            "updated_at": [d.updated_at for d in documents],
            "source": [d.source for d in documents],
            "confidence": [d.confidence for d in documents],
            "entities": [list(d.entities) for d in documents],
            "key": [d.key for d in documents],
            "extra": [json.dumps(dict(d.extra), default=str) if d.extra else None for d in documents],
        }
        arrays = [pa.array(columns[f.name], type=f.type) for f in schema if f.name != "vector"]
        arrays.append(pa.FixedSizeListArray.from_arrays(pa.array(flat, type=pa.float32()), dimension))
        return pa.Table.from_arrays(arrays, schema=schema)

    # -- index maintenance --------------------------------------------------------------------

    def _writing(self) -> threading.Lock:
        return self._lock

    def _after_add(self) -> None:
        self._writes += 1
        self._maintain_indexes()

    def _maintain_indexes(self) -> None:
        """BM25 index always; an HNSW vector index above `ann_threshold` rows; fold new rows in and compact."""
        names = {index.name for index in self._table.list_indices()}
        if "text_idx" not in names:
            self._table.create_fts_index(
                "text", use_tantivy=False, stem=True, remove_stop_words=True, language="English", replace=True
            )
            names.add("text_idx")
        if "vector_idx" not in names and self.count() >= self.ann_threshold:
            self._table.create_index(metric="dot", index_type="IVF_HNSW_SQ", vector_column_name="vector")
            return
        if self._unindexed_share(names) > 0.1:
            self._table.optimize()

    def optimize(self) -> None:
        """Fold all new rows into the indexes and compact small fragments now."""
        if self._table is not None:
            with self._lock:
                self._table.optimize()

    def _unindexed_share(self, names: set[str]) -> float:
        total = max(self.count(), 1)
        worst = 0
        for name in names:
            stats = self._table.index_stats(name)
            if stats is not None:
                worst = max(worst, int(stats.num_unindexed_rows))
        return worst / total

    # -- reads --------------------------------------------------------------------------------

    def get(self, ids: Sequence[str]) -> list[Document]:
        """The stored documents with these ids, in the given order (missing ids are skipped)."""
        wanted = id_list(ids, "get")
        if self._table is None or not wanted:
            return []
        query = self._table.search().where(to_sql(parse_filter({"id": wanted}))).select(["id"]).with_row_id(True)
        table = query.limit(len(wanted)).to_arrow()
        row_of = dict(zip(table["id"].to_pylist(), table["_rowid"].to_pylist()))
        found = self.fetch([Ranked(i, row_of[i], 0.0) for i in wanted if i in row_of])
        return found

    def vector_ranking(self, vector: np.ndarray, depth: int, filter: Filter | None = None) -> list[Ranked]:
        """Ids of the `depth` nearest documents by cosine similarity (vectors are unit length), best first."""
        if self._table is None or depth <= 0:
            return []
        query = self._table.search(np.asarray(vector, dtype=np.float32), vector_column_name="vector")
        query = query.distance_type("dot").select(["id", "_distance"]).with_row_id(True).limit(depth)
        table = self._filtered(query, filter).to_arrow()
        scores = [1.0 - float(d) for d in table["_distance"].to_pylist()]
        return [Ranked(*row) for row in zip(table["id"].to_pylist(), table["_rowid"].to_pylist(), scores)]

    def keyword_ranking(self, text: str, depth: int, filter: Filter | None = None) -> list[Ranked]:
        """Ids of the `depth` best documents by BM25 over title + content (stemmed, no stopwords), best first."""
        if self._table is None or depth <= 0:
            return []
        query = self._table.search(text, query_type="fts", fts_columns="text").select(["id", "_score"])
        table = self._filtered(query.with_row_id(True).limit(depth), filter).to_arrow()
        rows = zip(table["id"].to_pylist(), table["_rowid"].to_pylist(), table["_score"].to_pylist())
        return [Ranked(doc_id, row_id, float(score)) for doc_id, row_id, score in rows]

    def fetch(self, ranked: Sequence[Ranked]) -> list[Document]:
        """The full documents of ranked ids, in that order (read by row id: a few ms for 30 at 100k rows)."""
        if self._table is None or not ranked:
            return []
        table = self._table.take_row_ids([r.row_id for r in ranked]).select(_COLUMNS).to_arrow()
        by_id = {row["id"]: _document(row) for row in table.to_pylist()}
        return [by_id[r.doc_id] for r in ranked if r.doc_id in by_id]

    def vector_search(self, vector: np.ndarray, top_k: int, filter: Filter | None = None) -> list[Retrieved]:
        """Nearest documents by cosine similarity, best first."""
        return self._retrieved(self.vector_ranking(vector, top_k, filter))

    def keyword_search(self, text: str, top_k: int, filter: Filter | None = None) -> list[Retrieved]:
        """BM25 over title + content (LanceDB's inverted index: stemmed, stopwords removed), best first."""
        return self._retrieved(self.keyword_ranking(text, top_k, filter))

    def _retrieved(self, ranked: list[Ranked]) -> list[Retrieved]:
        documents = self.fetch(ranked)
        return [Retrieved(doc, r.score, rank) for rank, (doc, r) in enumerate(zip(documents, ranked), 1)]

    @staticmethod
    def _filtered(query: Any, filter: Filter | None) -> Any:
        where = to_sql(parse_filter(filter))
        return query.where(where, prefilter=True) if where else query

    # -- what stage 3 reads -------------------------------------------------------------------

    @property
    def accesses(self) -> AccessLog:
        """The durable access log of this store (created on first use)."""
        with self._lock:
            if self._accesses is None:
                self._accesses = AccessLog(self._db)
            return self._accesses

    def flush_accesses(self) -> None:
        """Write recorded accesses to disk now (a no-op when nothing was recorded)."""
        if self._accesses is not None:
            self._accesses.flush()

    def version_index(self) -> VersionIndex:
        """Versions per key and entity fan-out, rebuilt after writes (one scan of three columns)."""
        cached = self._versions
        if cached is not None and cached[0] == self._writes:
            return cached[1]
        index = VersionIndex()
        if self._table is not None:
            scan = self._table.search().select(["key", "created_at", "entities"]).limit(max(self.count(), 1))
            columns = scan.to_arrow().to_pydict()
            created = [None if t is None else _aware(t).timestamp() for t in columns["created_at"]]  # type: ignore[union-attr]
            index = VersionIndex.build(columns["key"], created, columns["entities"])
        self._versions = (self._writes, index)
        return index

    def _table_names(self) -> list[str]:
        listed = self._db.list_tables()
        return list(getattr(listed, "tables", listed))


def _document(row: dict[str, Any]) -> Document:
    extra = json.loads(row["extra"]) if row.get("extra") else {}
    return Document(
        id=row["id"],
        content=row["content"],
        title=row.get("title") or "",
        created_at=_aware(row.get("created_at")),
        updated_at=_aware(row.get("updated_at")),
        source=row.get("source"),
        confidence=None if row.get("confidence") is None else float(row["confidence"]),
        entities=tuple(row.get("entities") or ()),
        key=row.get("key"),
        extra=extra,
    )


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    from datetime import timezone

    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
