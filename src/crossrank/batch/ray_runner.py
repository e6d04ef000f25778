"""Batch reranking on Ray Data: the chunks still to score become a dataset, scored by a pool of actors.

Each actor loads the model once and, per chunk, reads the chunk's rows itself from the input (a byte range of
JSONL, a slice of a Parquet row group), scores them and writes the part file atomically. The driver only
sees chunk descriptors and row counts, so its memory stays flat; resuming works as in a local run, and a
run may be resumed with or without Ray.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import numpy as np

from crossrank.batch.chunks import Chunk, read_chunk
from crossrank.batch.runner import score_chunk, write_part
from crossrank.errors import BackendUnavailableError

OBJECT_STORE_BYTES = 256 * 1024 * 1024  # descriptors and counts only; rows never pass through the store


class ChunkScorer:
    """A Ray Data actor: one Reranker, used for every chunk this actor receives."""

    def __init__(self, source: str, target: str, chunk_rows: int, model: str | None, threads: int):
        from crossrank.rerank.reranker import Reranker

        self.source, self.target, self.chunk_rows = Path(source), Path(target), chunk_rows
        self.reranker = Reranker(model, threads=threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        done = []
        for position in range(len(batch["index"])):
            chunk = Chunk(**{f.name: int(batch[f.name][position]) for f in fields(Chunk)})
            columns = read_chunk(self.source, chunk, self.chunk_rows)
            write_part(self.target, chunk, columns, score_chunk(self.reranker, columns))
            done.append(chunk.rows)
        return {"index": batch["index"], "rows": np.asarray(done, dtype=np.int64)}


def run_on_ray(
    source: Path,
    target: Path,
    pending: list[Chunk],
    chunk_rows: int,
    model: str | None,
    workers: int | None,
    advance: Callable[[int], None],
) -> None:
    """Score `pending` chunks with `workers` actors (default: one per core) on the Ray cluster in reach."""
    if not pending:
        return
    try:
        import ray
    except ImportError as exc:
        raise BackendUnavailableError("--ray needs Ray: pip install 'crossrank[ray]'") from exc
    started_here = not ray.is_initialized()
    if started_here:  # a local cluster; `ray.init(address=...)` before calling joins an existing one instead
        ray.init(include_dashboard=False, object_store_memory=OBJECT_STORE_BYTES, log_to_driver=False)
    try:
        dataset = _scored(ray, source, target, pending, chunk_rows, model, workers)
        for row in dataset.iter_rows():
            advance(int(row["rows"]))
    finally:
        if started_here:
            ray.shutdown()


def _scored(
    ray: Any, source: Path, target: Path, pending: list[Chunk], chunk_rows: int, model: str | None, workers: int | None
) -> Any:
    cores = max(1, int(ray.available_resources().get("CPU", 1)))
    workers = workers or cores
    threads = max(1, cores // workers)
    ray.data.DataContext.get_current().enable_progress_bars = False
    items = [asdict(chunk) for chunk in pending]
    return ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
        ChunkScorer,
        fn_constructor_kwargs={
            "source": str(source),
            "target": str(target),
            "chunk_rows": chunk_rows,
            "model": model,
            "threads": threads,
        },
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=min(threads, cores / workers),
    )
