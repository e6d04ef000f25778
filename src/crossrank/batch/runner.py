"""Batch reranking of (query_id, query, doc_id, text) rows into a folder of Parquet parts, resumable.

The output folder holds `_manifest.json` (what is being scored, and how it was cut), one
`part-NNNNNN.parquet` per input chunk (row, query_id, doc_id, score), written to a temporary name and
renamed, so a part is either whole or absent, and `_SUCCESS` once every chunk is in. A run killed at any
point and started again scores only the chunks whose part is missing: every pair ends up in the output
exactly once. Memory holds one chunk at a time (per worker with Ray), whatever the input's size.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crossrank.batch.chunks import Chunk, check_rows, input_format, iter_parquet_chunks, plan_chunks, read_chunk
from crossrank.errors import CrossrankError, InvalidInputError
from crossrank.progress import new_progress

MANIFEST = "_manifest.json"  # leading underscore: Parquet readers skip it
SUCCESS = "_SUCCESS"
DEFAULT_CHUNK_ROWS = 10_000


@dataclass
class BatchReport:
    """What a run did: rows and chunks in all, how many this run scored, and its pairs/s."""

    rows: int
    chunks: int
    chunks_scored: int
    chunks_resumed: int
    seconds: float
    pairs_per_s: float
    output: str


def part_path(output: Path, chunk: Chunk) -> Path:
    return output / f"part-{chunk.index:06d}.parquet"


def write_part(output: Path, chunk: Chunk, columns: dict[str, list[Any]], scores: np.ndarray) -> None:
    """Write one chunk's scores atomically (temporary file, then rename)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "row": pa.array(np.arange(chunk.first_row, chunk.first_row + chunk.rows), pa.int64()),
            "query_id": pa.array(columns["query_id"], pa.string()),
            "doc_id": pa.array(columns["doc_id"], pa.string()),
            "score": pa.array(np.asarray(scores, dtype=np.float32)),
        }
    )
    target = part_path(output, chunk)
    temporary = target.with_suffix(f".{os.getpid()}.tmp")
    pq.write_table(table, temporary)
    os.replace(temporary, target)


def score_chunk(reranker: Any, columns: dict[str, list[Any]]) -> np.ndarray:
    """Relevance probabilities of a chunk's pairs, in row order."""
    return reranker.predict(list(zip(columns["query"], columns["text"])))


def rerank_batch(
    input_path: str | Path,
    output: str | Path,
    *,
    model: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    use_ray: bool = False,
    workers: int | None = None,
    show_progress: bool = True,
    log: Callable[[str], None] = print,
) -> BatchReport:
    """Score every row of `input_path` (Parquet or JSONL) into `output`; resumes what an earlier run left."""
    source, target = Path(input_path), Path(output)
    if chunk_rows < 1:
        raise InvalidInputError("chunk_rows must be at least 1")
    chunks = plan_chunks(source, chunk_rows)
    if not chunks:
        raise InvalidInputError(f"{source} holds no rows")
    _check_output(target, source, chunk_rows, model, chunks)
    pending = [c for c in chunks if not part_path(target, c).is_file()]
    check_rows(source, pending, chunk_rows)  # a bad row stops the run before any scoring or writing
    _open_output(target, source, chunk_rows, model, chunks)
    resumed = len(chunks) - len(pending)
    if resumed:
        log(f"resuming: {resumed} of {len(chunks)} chunks already scored")
    total_rows, pending_rows = sum(c.rows for c in chunks), sum(c.rows for c in pending)
    started = time.perf_counter()
    with new_progress(show_progress) as progress:
        task = progress.add_task("rerank", total=total_rows, completed=total_rows - pending_rows)

        def advance(rows: int) -> None:
            progress.update(task, advance=rows)

        if use_ray:
            from crossrank.batch.ray_runner import run_on_ray

            run_on_ray(source, target, pending, chunk_rows, model, workers, advance)
        else:
            _run_locally(source, target, pending, chunk_rows, model, advance)
    seconds = time.perf_counter() - started
    missing = [c.index for c in chunks if not part_path(target, c).is_file()]
    if missing:  # never claim success for an incomplete output
        raise CrossrankError(f"{len(missing)} chunk(s) were not written (first: {missing[0]}); run again to finish")
    (target / SUCCESS).write_text(json.dumps({"rows": total_rows, "chunks": len(chunks)}) + "\n")
    rate = pending_rows / max(seconds, 1e-9)
    return BatchReport(total_rows, len(chunks), len(pending), resumed, seconds, rate, str(target))


def _run_locally(
    source: Path, target: Path, pending: list[Chunk], chunk_rows: int, model: str | None, advance: Callable[[int], None]
) -> None:
    if not pending:
        return
    from crossrank.rerank.reranker import Reranker

    reranker = Reranker(model)
    for chunk, columns in _pending_rows(source, pending, chunk_rows):
        write_part(target, chunk, columns, score_chunk(reranker, columns))
        advance(chunk.rows)


def _pending_rows(source: Path, pending: list[Chunk], chunk_rows: int) -> Iterator[tuple[Chunk, dict[str, list[Any]]]]:
    if input_format(source) == "parquet":
        yield from iter_parquet_chunks(source, pending, chunk_rows)
    else:
        for chunk in pending:
            yield chunk, read_chunk(source, chunk, chunk_rows)


def _identity(source: Path, chunk_rows: int, model: str | None, chunks: list[Chunk]) -> dict[str, Any]:
    return {
        "input": str(source.resolve()),
        "input_bytes": source.stat().st_size,
        "chunk_rows": chunk_rows,
        "model": model or "default",
        "chunks": len(chunks),
        "rows": sum(c.rows for c in chunks),
    }


def _check_output(target: Path, source: Path, chunk_rows: int, model: str | None, chunks: list[Chunk]) -> None:
    """Refuse an output folder that holds something other than this run."""
    identity = _identity(source, chunk_rows, model, chunks)
    manifest = target / MANIFEST
    if manifest.is_file():
        held = json.loads(manifest.read_text())
        changed = sorted(k for k in identity if held.get(k) != identity[k])
        if changed:
            raise InvalidInputError(f"{target} holds a run with other {', '.join(changed)}; choose a new --output")
    elif target.exists() and any(target.iterdir()):
        raise InvalidInputError(f"{target} exists and is not a crossrank batch output; choose a new --output")


def _open_output(target: Path, source: Path, chunk_rows: int, model: str | None, chunks: list[Chunk]) -> None:
    """Create the output folder and its manifest; clear half-written parts a killed run left."""
    target.mkdir(parents=True, exist_ok=True)
    for leftover in target.glob("*.tmp"):
        leftover.unlink()
    manifest = target / MANIFEST
    if not manifest.is_file():
        manifest.write_text(json.dumps(_identity(source, chunk_rows, model, chunks), indent=2) + "\n")
