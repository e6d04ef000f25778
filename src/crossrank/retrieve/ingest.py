"""What every document store shares: a lazily loaded embedder and checked, batched, embedded writes."""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from crossrank.errors import InvalidInputError
from crossrank.progress import new_progress
from crossrank.retrieve.documents import Document, to_documents
from crossrank.retrieve.embedder import Embedder


class EmbeddingStore(ABC):
    """A store that embeds documents itself. Subclasses write one embedded batch and count documents."""

    _embedder: Embedder | None = None
    write_batch = 1024

    @property
    def embedder(self) -> Embedder:
        """The embedder (all-MiniLM-L6-v2 unless one was given), loaded on first use."""
        if self._embedder is None:
            self._embedder = Embedder()
        return self._embedder

    def add(self, documents: Sequence[object], *, show_progress: bool = False, batch_size: int | None = None) -> int:
        """Insert or replace documents by id; returns how many were written.

        The whole list is checked first (a bad document or a duplicate id writes nothing); then it is
        embedded and written in batches of `batch_size`, each batch atomic.
        """
        size = self.write_batch if batch_size is None else batch_size
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise InvalidInputError(f"batch_size must be a positive integer, got {batch_size!r}")
        checked = to_documents(documents)
        if not checked:
            return 0
        with self._writing(), new_progress(enabled=show_progress) as progress:
            task = progress.add_task("indexing", total=len(checked))
            for start in range(0, len(checked), size):
                chunk = checked[start : start + size]
                self._write(chunk, self.embedder.embed([d.text for d in chunk]))
                progress.advance(task, len(chunk))
            self._after_add()
        return len(checked)

    @abstractmethod
    def _write(self, documents: list[Document], vectors: np.ndarray) -> None:
        """Upsert one batch of documents with their vectors, atomically."""

    @abstractmethod
    def count(self) -> int:
        """Number of stored documents."""

    @abstractmethod
    def delete(self, ids: Iterable[str]) -> int:
        """Delete documents by id; returns how many existed."""

    def __len__(self) -> int:
        return self.count()

    def _writing(self) -> contextlib.AbstractContextManager[Any]:
        """Held around a whole `add` (a store that needs one writer at a time returns its lock)."""
        return contextlib.nullcontext()

    def _after_add(self) -> None:  # noqa: B027 - a hook: most stores need no upkeep
        """Index upkeep after an `add` (nothing by default)."""


def id_list(ids: Iterable[str], method: str) -> list[str]:
    """Check the ids given to `method` (a list of strings, not one string)."""
    if isinstance(ids, (str, bytes)):
        raise InvalidInputError(f"{method}() takes a list of string ids, not a single string")
    wanted = list(ids)
    if not all(isinstance(i, str) for i in wanted):
        raise InvalidInputError(f"{method}() takes a list of string ids")
    return wanted
