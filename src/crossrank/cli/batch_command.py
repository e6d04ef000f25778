"""`crossrank rerank-batch`: score a Parquet or JSONL file of (query_id, query, doc_id, text) rows."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from crossrank.cli.output import fail, stderr, stdout
from crossrank.errors import CrossrankError


def rerank_batch(
    input_path: Annotated[
        Path, typer.Argument(metavar="INPUT", help="Parquet or JSONL: query_id, query, doc_id, text.")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder of Parquet parts (row, query_id, doc_id, score).")
    ],
    model: Annotated[
        str | None, typer.Option(help="Reranker folder, hub id, or provider:model (default: shipped).")
    ] = None,
    chunk_rows: Annotated[
        int, typer.Option(min=1, help="Rows per chunk: the unit of work and of resumption.")
    ] = 10_000,
    ray: Annotated[
        bool, typer.Option("--ray", help="Score on Ray Data (a local cluster unless RAY_ADDRESS is set).")
    ] = False,
    workers: Annotated[int | None, typer.Option(min=1, help="Ray: model copies (default: one per core).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Rerank every row of INPUT into --output; run it again after a crash and it finishes what is missing."""
    from crossrank.batch.runner import rerank_batch as run
    from crossrank.hardware import is_installed

    if not is_installed("pyarrow"):
        raise fail("rerank-batch reads and writes Parquet with pyarrow: pip install 'crossrank[batch]'")
    try:
        report = run(
            input_path,
            output,
            model=model,
            chunk_rows=chunk_rows,
            use_ray=ray,
            workers=workers,
            show_progress=not quiet,
            log=lambda line: stderr.print(line, highlight=False),
        )
    except CrossrankError as exc:
        raise fail(str(exc)) from None
    stdout.print_json(json.dumps(asdict(report)))
