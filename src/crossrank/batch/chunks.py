"""Input of batch reranking cut into chunks that can be read alone: byte ranges of a JSONL file, slices of a
Parquet row group. A chunk is the unit of work and of resumption: its scores are written whole or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from crossrank.errors import InvalidInputError
from crossrank.jsonlines import parse_object

COLUMNS = ("query_id", "query", "doc_id", "text")


@dataclass(frozen=True)
class Chunk:
    """Rows [first_row, first_row + rows) of the input; where to find them in the file."""

    index: int
    first_row: int
    rows: int
    start_byte: int = 0  # JSONL
    end_byte: int = 0
    row_group: int = 0  # Parquet: the group, and which `rows`-sized batch of it
    batch_in_group: int = 0


def input_format(path: Path) -> str:
    """ "parquet" or "jsonl", from the file name."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return "parquet"
    if suffix in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    raise InvalidInputError(f"{path}: expected a .parquet or .jsonl file")


def plan_chunks(path: Path, chunk_rows: int) -> list[Chunk]:
    """Every chunk of the input, in order (a scan of line offsets for JSONL; metadata only for Parquet)."""
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file")
    if input_format(path) == "parquet":
        return _parquet_chunks(path, chunk_rows)
    return _jsonl_chunks(path, chunk_rows)


def _jsonl_chunks(path: Path, chunk_rows: int) -> list[Chunk]:
    chunks: list[Chunk] = []
    start = position = rows = first_row = 0
    with path.open("rb") as handle:
        for line in handle:
            position += len(line)
            if not line.strip():
                continue
            rows += 1
            if rows == chunk_rows:
                chunks.append(Chunk(len(chunks), first_row, rows, start, position))
                first_row, start, rows = first_row + rows, position, 0
    if rows:
        chunks.append(Chunk(len(chunks), first_row, rows, start, position))
    return chunks


def _parquet_chunks(path: Path, chunk_rows: int) -> list[Chunk]:
    import pyarrow.parquet as pq

    metadata = pq.ParquetFile(path).metadata
    missing = [c for c in COLUMNS if c not in metadata.schema.names]
    if missing:
        raise InvalidInputError(f"{path}: missing column(s) {', '.join(missing)} (need {', '.join(COLUMNS)})")
    chunks: list[Chunk] = []
    first_row = 0
    for group in range(metadata.num_row_groups):
        size = metadata.row_group(group).num_rows
        for batch, offset in enumerate(range(0, size, chunk_rows)):
            rows = min(chunk_rows, size - offset)
            chunks.append(Chunk(len(chunks), first_row, rows, row_group=group, batch_in_group=batch))
            first_row += rows
    return chunks


def read_chunk(path: Path, chunk: Chunk, chunk_rows: int) -> dict[str, list[Any]]:
    """The chunk's rows as columns (query_id, query, doc_id, text), checked."""
    if input_format(path) == "parquet":
        columns = _read_parquet_chunk(path, chunk, chunk_rows)
    else:
        columns = _read_jsonl_chunk(path, chunk)
    _check(columns, path, chunk)
    return columns


def iter_parquet_chunks(
    path: Path, chunks: list[Chunk], chunk_rows: int
) -> Iterator[tuple[Chunk, dict[str, list[Any]]]]:
    """Every chunk of a Parquet file in one sequential pass (each row group decoded once)."""
    import pyarrow.parquet as pq

    by_group: dict[int, list[Chunk]] = {}
    for chunk in chunks:
        by_group.setdefault(chunk.row_group, []).append(chunk)
    source = pq.ParquetFile(path)
    for group, wanted in sorted(by_group.items()):
        batches = source.iter_batches(batch_size=chunk_rows, row_groups=[group], columns=list(COLUMNS))
        wanted_by_batch = {c.batch_in_group: c for c in wanted}
        for number, batch in enumerate(batches):
            if number in wanted_by_batch:
                columns = batch.to_pydict()
                _check(columns, path, wanted_by_batch[number])
                yield wanted_by_batch[number], columns
            if number >= max(wanted_by_batch):
                break


def _read_parquet_chunk(path: Path, chunk: Chunk, chunk_rows: int) -> dict[str, list[Any]]:
    import pyarrow.parquet as pq

    batches = pq.ParquetFile(path).iter_batches(
        batch_size=chunk_rows, row_groups=[chunk.row_group], columns=list(COLUMNS)
    )
    for number, batch in enumerate(batches):
        if number == chunk.batch_in_group:
            return batch.to_pydict()
    raise InvalidInputError(f"{path} changed since the run started: chunk {chunk.index} is gone")


def _read_jsonl_chunk(path: Path, chunk: Chunk) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    with path.open("rb") as handle:
        handle.seek(chunk.start_byte)
        data = handle.read(chunk.end_byte - chunk.start_byte)
    row_number = chunk.first_row
    for line in data.splitlines():
        if not line.strip():
            continue
        row_number += 1
        row = parse_object(line, f"{path}: row {row_number}")
        for name in COLUMNS:
            columns[name].append(row.get(name))
    return columns


def _check(columns: dict[str, list[Any]], path: Path, chunk: Chunk) -> None:
    for name in ("query", "text"):
        for offset, value in enumerate(columns[name]):
            if not isinstance(value, str):
                row = chunk.first_row + offset + 1
                raise InvalidInputError(f"{path}: row {row}: '{name}' is missing or not a string")
    for name in ("query_id", "doc_id"):
        values = columns[name]
        if any(v is None for v in values):
            row = chunk.first_row + values.index(None) + 1
            raise InvalidInputError(f"{path}: row {row}: '{name}' is missing")
        columns[name] = [str(v) for v in values]


def chunk_record(chunk: Chunk) -> dict[str, int]:
    return asdict(chunk)


def check_rows(path: Path, chunks: list[Chunk], chunk_rows: int) -> None:
    """Read the given chunks once, one at a time, and raise on the first bad row: before any scoring starts."""
    if input_format(path) == "parquet":
        for _ in iter_parquet_chunks(path, chunks, chunk_rows):
            pass
        return
    for chunk in chunks:
        read_chunk(path, chunk, chunk_rows)
