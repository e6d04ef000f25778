"""A PostgreSQL + pgvector document store: the same interface as `LanceStore`, in your own database.

One table holds documents, their embeddings (an HNSW index, cosine) and a generated `tsvector` (a GIN
index) for keyword search. Filters become SQL with bound parameters. Needs psycopg 3 and a server with
the pgvector extension available (`CREATE EXTENSION vector` is run if it is not yet installed).

>>> store = PgVectorStore("postgresql://user@localhost/kb")      # doctest: +SKIP
>>> store.add([{"id": "a1", "content": "JWT access tokens expire after 15 minutes."}])  # doctest: +SKIP
1
>>> retriever = store_retriever(store, "hybrid")                  # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from crossrank.errors import BackendUnavailableError, InvalidInputError
from crossrank.retrieve.documents import Document, Retrieved
from crossrank.retrieve.embedder import Embedder
from crossrank.retrieve.filters import Condition, Filter, parse_filter
from crossrank.retrieve.ingest import EmbeddingStore, id_list

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

DEFAULT_TABLE = "crossrank_documents"
MAX_EF_SEARCH = 1000  # pgvector's upper bound for hnsw.ef_search
_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,47}")  # short enough for the derived index names
_COLUMNS = ("id", "content", "title", "created_at", "updated_at", "source", "confidence", "entities", "key", "extra")
_CASTS = {  # the SQL type of each filterable column: bound values are cast to it
    "id": "text",
    "source": "text",
    "key": "text",
    "title": "text",
    "confidence": "real",
    "created_at": "timestamptz",
    "updated_at": "timestamptz",
}
_OPERATORS = frozenset({"=", "!=", ">", ">=", "<", "<="})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS {table} (
    id text PRIMARY KEY,
    content text NOT NULL,
    title text NOT NULL DEFAULT '',
    text text NOT NULL,
    created_at timestamptz,
    updated_at timestamptz,
    source text,
    confidence real,
    entities text[] NOT NULL DEFAULT '{{}}',
    key text,
    extra jsonb,
    embedding vector({dimension}) NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED
)
"""
_TEXT_INDEX = "CREATE INDEX IF NOT EXISTS {index} ON {table} USING gin (tsv)"
_VECTOR_INDEX = "CREATE INDEX IF NOT EXISTS {index} ON {table} USING hnsw (embedding vector_cosine_ops)"
_UPSERT = """
INSERT INTO {table} (id, content, title, text, created_at, updated_at, source, confidence, entities, key, extra,
                     embedding)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::text[], %s, %s, %s::vector)
ON CONFLICT (id) DO UPDATE SET
    content = EXCLUDED.content, title = EXCLUDED.title, text = EXCLUDED.text, created_at = EXCLUDED.created_at,
    updated_at = EXCLUDED.updated_at, source = EXCLUDED.source, confidence = EXCLUDED.confidence,
    entities = EXCLUDED.entities, key = EXCLUDED.key, extra = EXCLUDED.extra, embedding = EXCLUDED.embedding
"""


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise BackendUnavailableError(
            "the PostgreSQL store needs psycopg 3: pip install 'crossrank[pgvector]'"
        ) from exc
    return psycopg


class PgVectorStore(EmbeddingStore):
    """Documents in a PostgreSQL table with pgvector embeddings and full-text search.

    `dsn` is a libpq connection string or URI; `table` a plain identifier (created if missing, with its
    indexes). One connection is shared under a lock, so the store is safe to use from worker threads;
    a call that finds the connection broken raises psycopg's OperationalError and the next call reconnects.
    """

    def __init__(self, dsn: str, embedder: Embedder | None = None, *, table: str = DEFAULT_TABLE):
        if not isinstance(table, str) or not _TABLE_NAME.fullmatch(table):
            raise InvalidInputError(
                f"table must be a plain SQL identifier (letters, digits, _; at most 48 characters), got {table!r}"
            )
        self._psycopg = _psycopg()
        self.dsn = dsn
        self.table = table
        self._embedder = embedder
        self.write_batch = 512
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[Any] | None = None
        self.dimension = self._ensure_schema()
        self._iterative_scan = self._pgvector_version() >= (0, 8)

    # -- connection -----------------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """The shared connection, held under the lock; dropped (and reopened next time) if it broke."""
        with self._lock:
            if self._conn is None or self._conn.closed:
                self._conn = self._psycopg.connect(self.dsn, autocommit=True)
            conn = self._conn
            try:
                yield conn
            except self._psycopg.OperationalError:
                conn.close()
                self._conn = None
                raise

    def close(self) -> None:
        """Close the connection (the store reconnects if used again)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> PgVectorStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _sql(self, template: str, **parts: sql.Composable) -> sql.Composed:
        """`template` with the table's identifier (and any other `parts`) filled in."""
        from psycopg import sql

        return sql.SQL(template).format(table=sql.Identifier(self.table), **parts)

    # -- schema ---------------------------------------------------------------------------------

    def _ensure_schema(self) -> int:
        """Create the extension, table and indexes if missing; return the embedding dimension."""
        from psycopg import sql

        with self._connection() as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            stored = self._stored_dimension(conn)
            if stored is not None:
                self._check_dimension(stored)
                return stored
            dimension = int(self.embedder.dimension)
            with conn.transaction():
                conn.execute(self._sql(_SCHEMA, dimension=sql.Literal(dimension)))
                conn.execute(self._sql(_TEXT_INDEX, index=sql.Identifier(f"{self.table}_tsv_idx")))
                conn.execute(self._sql(_VECTOR_INDEX, index=sql.Identifier(f"{self.table}_embedding_idx")))
            return dimension

    def _stored_dimension(self, conn: psycopg.Connection[Any]) -> int | None:
        """The dimension of an existing table's `embedding` column, or None when there is no table."""
        row = conn.execute(
            "SELECT atttypmod FROM pg_attribute "
            "WHERE attrelid = to_regclass(quote_ident(%s)) AND attname = 'embedding'",
            (self.table,),
        ).fetchone()
        return None if row is None else int(row[0])

    def _check_dimension(self, stored: int) -> None:
        if self._embedder is not None and int(self._embedder.dimension) != stored:
            raise InvalidInputError(
                f"table {self.table!r} holds {stored}-dimensional embeddings but the embedder makes "
                f"{self._embedder.dimension}-dimensional ones: use the same embedder or another table"
            )

    def _pgvector_version(self) -> tuple[int, ...]:
        with self._connection() as conn:
            row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
        return tuple(int(part) for part in re.findall(r"\d+", row[0] if row else "0"))

    # -- properties -----------------------------------------------------------------------------

    def count(self) -> int:
        """Number of stored documents."""
        with self._connection() as conn:
            row = conn.execute(self._sql("SELECT count(*) FROM {table}")).fetchone()
        return int(row[0]) if row else 0

    def __repr__(self) -> str:
        return f"PgVectorStore(table={self.table!r}, dimension={self.dimension})"

    # -- writes ---------------------------------------------------------------------------------

    def _write(self, documents: list[Document], vectors: np.ndarray) -> None:
        if vectors.shape[1] != self.dimension:
            raise InvalidInputError(
                f"the embedder makes {vectors.shape[1]}-dimensional vectors but {self.table!r} holds {self.dimension}"
            )
        rows = [_row(document, vector) for document, vector in zip(documents, vectors)]
        with self._connection() as conn, conn.transaction(), conn.cursor() as cursor:
            cursor.executemany(self._sql(_UPSERT), rows)

    def delete(self, ids: Iterable[str]) -> int:
        """Delete documents by id; returns how many existed."""
        wanted = id_list(ids, "delete")
        if not wanted:
            return 0
        with self._connection() as conn:
            cursor = conn.execute(self._sql("DELETE FROM {table} WHERE id = ANY(%s::text[])"), (wanted,))
            return max(cursor.rowcount, 0)

    # -- reads ----------------------------------------------------------------------------------

    def get(self, ids: Sequence[str]) -> list[Document]:
        """The stored documents with these ids, in the given order (missing ids are skipped)."""
        wanted = id_list(ids, "get")
        if not wanted:
            return []
        query = self._sql("SELECT {columns} FROM {table} WHERE id = ANY(%s::text[])", columns=_column_list())
        with self._connection() as conn:
            rows = conn.execute(query, (wanted,)).fetchall()
        found = {row[0]: _document(row) for row in rows}
        return [found[i] for i in wanted if i in found]

    def vector_search(self, vector: np.ndarray, top_k: int, filter: Filter | None = None) -> list[Retrieved]:
        """Nearest documents by cosine similarity (score = 1 - cosine distance), best first.

        The HNSW index is approximate: `hnsw.ef_search` is raised to at least `top_k` per query. With a
        selective filter on pgvector < 0.8 the index may yield fewer than `top_k` matches; from 0.8 on,
        iterative index scans (strict order) are switched on to keep looking.
        """
        if top_k <= 0:
            return []
        literal = _vector_literal(self._check_vector(vector))
        where, params = _where(parse_filter(filter))
        query = self._sql(
            "SELECT {columns}, 1 - (embedding <=> %s::vector) AS score FROM {table} {where} "
            "ORDER BY embedding <=> %s::vector LIMIT %s",
            columns=_column_list(),
            where=where,
        )
        with self._connection() as conn, conn.transaction():
            self._tune_index_scan(conn, top_k, bool(params))
            rows = conn.execute(query, (literal, *params, literal, top_k)).fetchall()
        return [Retrieved(_document(row), float(row[-1]), rank) for rank, row in enumerate(rows, 1)]

    def keyword_search(self, text: str, top_k: int, filter: Filter | None = None) -> list[Retrieved]:
        """PostgreSQL full-text search over title + content, best first. This is not BM25.

        The query is parsed by `websearch_to_tsquery('english', ...)` (quotes, `or`, `-term` work; words
        are stemmed, stopwords dropped) and matches are ranked by `ts_rank_cd` (cover density, divided by
        1 + log(document length)). A query of stopwords only matches nothing.
        """
        if top_k <= 0 or not isinstance(text, str) or not text.strip():
            return []
        where, params = _where(parse_filter(filter), extra="tsv @@ q")
        query = self._sql(
            "SELECT {columns}, ts_rank_cd(tsv, q, 1) AS score FROM {table}, websearch_to_tsquery('english', %s) q "
            "{where} ORDER BY score DESC, id LIMIT %s",
            columns=_column_list(),
            where=where,
        )
        with self._connection() as conn:
            rows = conn.execute(query, (text, *params, top_k)).fetchall()
        return [Retrieved(_document(row), float(row[-1]), rank) for rank, row in enumerate(rows, 1)]

    def _check_vector(self, vector: np.ndarray) -> np.ndarray:
        array = np.asarray(vector, dtype=np.float32).reshape(-1)
        if array.shape[0] != self.dimension or not np.isfinite(array).all():
            raise InvalidInputError(
                f"query vector must be {self.dimension} finite numbers, got shape {np.shape(vector)}"
            )
        return array

    def _tune_index_scan(self, conn: psycopg.Connection[Any], top_k: int, filtered: bool) -> None:
        """Let the HNSW scan return at least `top_k` rows (more under a filter), for this transaction only."""
        ef_search = min(MAX_EF_SEARCH, max(40, top_k * (4 if filtered else 1)))
        conn.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(ef_search),))
        if self._iterative_scan:
            conn.execute("SELECT set_config('hnsw.iterative_scan', 'strict_order', true)")


# -- SQL pieces ---------------------------------------------------------------------------------


def _column_list() -> sql.Composed:
    from psycopg import sql

    return sql.SQL(", ").join(sql.Identifier(c) for c in _COLUMNS)


def _where(conditions: list[Condition], extra: str | None = None) -> tuple[sql.Composable, list[Any]]:
    """A WHERE clause (or nothing) for the filter conditions, with their values as bound parameters."""
    from psycopg import sql

    clauses: list[sql.Composable] = [sql.SQL(extra)] if extra else []  # type: ignore[arg-type]
    params: list[Any] = []
    for condition in conditions:
        clause, value = _condition_sql(condition)
        clauses.append(clause)
        params.append(value)
    if not clauses:
        return sql.SQL(""), params
    return sql.SQL("WHERE ") + sql.SQL(" AND ").join(clauses), params


def _condition_sql(condition: Condition) -> tuple[sql.Composable, Any]:
    """One condition as `column op %s::type` (IN as `column = ANY(%s::type[])`) and its bound value."""
    from psycopg import sql

    column = sql.Identifier(condition.field)
    cast = sql.SQL(_CASTS[condition.field])
    if condition.operator == "IN":
        return sql.SQL("{} = ANY(%s::{}[])").format(column, cast), list(condition.value)
    if condition.operator not in _OPERATORS:
        raise InvalidInputError(f"unsupported filter operator {condition.operator!r}")
    template = sql.SQL("{} " + condition.operator + " %s::{}")  # the operator is one of _OPERATORS
    return template.format(column, cast), condition.value


# -- rows ---------------------------------------------------------------------------------------


def _vector_literal(vector: np.ndarray) -> str:
    """pgvector's text form, e.g. '[0.1,0.2]' (9 significant digits keep float32 exact)."""
    return "[" + ",".join(f"{x:.9g}" for x in vector.tolist()) + "]"


def _row(document: Document, vector: np.ndarray) -> tuple[Any, ...]:
    from psycopg.types.json import Jsonb

    extra = Jsonb(dict(document.extra), dumps=partial(json.dumps, default=str)) if document.extra else None
    return (
        document.id,
        document.content,
        document.title,
        document.text,
        document.created_at,
        document.updated_at,
        document.source,
        document.confidence,
        list(document.entities),
        document.key,
        extra,
        _vector_literal(np.asarray(vector, dtype=np.float32)),
    )


def _document(row: Sequence[Any]) -> Document:
    """A Document from a row whose first columns are `_COLUMNS`, in order."""
    doc_id, content, title, created_at, updated_at, source, confidence, entities, key, extra = row[: len(_COLUMNS)]
    return Document(
        id=doc_id,
        content=content,
        title=title or "",
        created_at=_utc(created_at),
        updated_at=_utc(updated_at),
        source=source,
        confidence=None if confidence is None else float(confidence),
        entities=tuple(entities or ()),
        key=key,
        extra=extra or {},
    )


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(timezone.utc)
