"""What stage 3 remembers about documents: when each was used (durably), versions by key, entity fan-out.

Accesses go to an append-only LanceDB table beside the documents, written by one background thread in
batches: appends never overwrite, so concurrent searchers cannot lose each other's updates. Histories are
also kept in memory, so scoring 30 candidates reads no disk.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("crossrank.access_log")

ACCESS_TABLE = "accesses"
KINDS = ("created", "returned", "useful", "not_useful")
COUNTED = frozenset({"returned", "useful"})  # kinds that strengthen a document's base level
FLUSH_INTERVAL_S = 0.5


class AccessLog:
    """Durable access history of documents, with an in-memory copy for scoring."""

    def __init__(self, db: Any, table: str = ACCESS_TABLE):
        self._db = db
        self._table_name = table
        self._table: Any = db.open_table(table) if table in _table_names(db) else None
        self._history: dict[str, list[float]] = defaultdict(list)
        self._pending: list[tuple[str, float, str]] = []
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._closed = False
        self._load()
        self._writer = threading.Thread(target=self._write_loop, name="crossrank-access-log", daemon=True)
        self._writer.start()
        atexit.register(self.close)

    def record(self, doc_ids: Iterable[str], kind: str = "returned", at: float | None = None) -> None:
        """Note that these documents were used now (or at `at`, Unix seconds); durable within ~0.5 s."""
        if kind not in KINDS:
            raise ValueError(f"access kind must be one of {KINDS}, not {kind!r}")
        moment = time.time() if at is None else float(at)
        with self._lock:
            for doc_id in doc_ids:
                self._pending.append((doc_id, moment, kind))
                if kind in COUNTED:
                    self._history[doc_id].append(moment)
            self._wake.notify()

    def history(self, doc_id: str) -> list[float]:
        """Times (Unix seconds) this document was returned or marked useful."""
        with self._lock:
            return list(self._history.get(doc_id, ()))

    def histories(self, doc_ids: Sequence[str]) -> dict[str, list[float]]:
        with self._lock:
            return {d: list(self._history.get(d, ())) for d in doc_ids}

    def flush(self) -> None:
        """Write everything recorded so far to disk now; a failed write is kept for the next flush, not dropped."""
        with self._lock:
            batch, self._pending = self._pending, []
        try:
            self._append(batch)
        except Exception:
            with self._lock:
                self._pending[:0] = batch
            log.warning("could not write %d access records yet; will retry", len(batch), exc_info=True)
            raise

    def close(self) -> None:
        """Flush and stop the writer (idempotent; also runs at interpreter exit)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._wake.notify()
        self._writer.join(timeout=10)
        self.flush()

    def stored_count(self) -> int:
        """How many access records are on disk."""
        return 0 if self._table is None else int(self._table.count_rows())

    def _write_loop(self) -> None:
        while True:
            with self._lock:
                self._wake.wait_for(lambda: self._closed or bool(self._pending), timeout=FLUSH_INTERVAL_S)
                if self._closed:
                    return
            time.sleep(FLUSH_INTERVAL_S)  # gather a batch: one commit per interval, not per search
            with contextlib.suppress(Exception):  # kept in pending and logged by flush; retried next round
                self.flush()

    def _append(self, batch: list[tuple[str, float, str]]) -> None:
        if not batch:
            return
        import pyarrow as pa

        data = pa.table(
            {
                "doc_id": pa.array([b[0] for b in batch], pa.string()),
                "at": pa.array([b[1] for b in batch], pa.float64()),
                "kind": pa.array([b[2] for b in batch], pa.string()),
            }
        )
        with _WRITE_LOCK:
            if self._table is None and self._table_name in _table_names(self._db):
                self._table = self._db.open_table(self._table_name)  # another process created it meanwhile
            if self._table is None:
                self._table = self._db.create_table(self._table_name, data)
            else:
                self._table.add(data)

    def _load(self) -> None:
        if self._table is None:
            return
        rows = self._table.to_arrow().to_pydict()
        for doc_id, at, kind in zip(rows["doc_id"], rows["at"], rows["kind"]):
            if kind in COUNTED:
                self._history[doc_id].append(float(at))


_WRITE_LOCK = threading.Lock()


@dataclass
class VersionIndex:
    """Per `key`, the creation times of its versions (sorted); per entity, how many documents mention it."""

    versions: dict[str, list[float]] = field(default_factory=dict)
    fan: dict[str, int] = field(default_factory=dict)
    documents: int = 0

    @classmethod
    def build(
        cls, keys: Sequence[str | None], created: Sequence[float | None], entities: Sequence[Sequence[str]]
    ) -> VersionIndex:
        """From the store's key, created_at (Unix seconds) and entities columns."""
        versions: dict[str, list[float]] = defaultdict(list)
        fan: dict[str, int] = defaultdict(int)
        for key, moment in zip(keys, created):
            if key is not None and moment is not None:
                versions[key].append(moment)
        for names in entities:
            for name in {n.casefold() for n in names or ()}:
                fan[name] += 1
        return cls({k: sorted(v) for k, v in versions.items()}, dict(fan), len(keys))

    def newest(self, key: str | None) -> float | None:
        times = self.versions.get(key) if key is not None else None
        return times[-1] if times else None

    def valid_at(self, key: str | None, moment: float) -> float | None:
        """Creation time of the version of `key` that was current at `moment` (the latest created by then)."""
        times = self.versions.get(key) if key is not None else None
        if not times:
            return None
        current = [t for t in times if t <= moment]
        return current[-1] if current else times[0]


def _table_names(db: Any) -> list[str]:
    listed = db.list_tables()
    return list(getattr(listed, "tables", listed))
