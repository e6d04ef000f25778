"""The `crossrank` command: rerank, index, search, eval and info."""

from __future__ import annotations

import json
import sys
import warnings
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from crossrank.cli.batch_command import rerank_batch
from crossrank.cli.eval_command import evaluate, tune
from crossrank.cli.output import fail as _fail
from crossrank.cli.output import stdout as _out
from crossrank.cli.serve_command import serve
from crossrank.cli.store_commands import index, search
from crossrank.cli.train_command import train
from crossrank.errors import CrossrankError

# `import openvino` forks a process to send its usage telemetry (opt out: `opt_in_out --opt_out`); with
# LanceDB loaded that fork prints a warning about LanceDB in forked children. The CLI never uses LanceDB
# in a child process, so the warning is only noise here.
warnings.filterwarnings("ignore", message="lancedb fork support is experimental")

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Retrieve-then-rerank search with cross-encoders.")
app.command()(index)
app.command()(search)
app.command("eval")(evaluate)
app.command()(tune)
app.command()(serve)
app.command()(train)
app.command("rerank-batch")(rerank_batch)


@app.command()
def rerank(
    query: Annotated[str, typer.Argument(help="The query to rank documents against.")],
    docs: Annotated[
        str,
        typer.Option(
            "--docs", "-d", help="JSONL file (one object per line) or text file (one document per line); - for stdin."
        ),
    ],
    top_k: Annotated[int | None, typer.Option("--top-k", "-k", min=1, help="Keep only the best K.")] = None,
    model: Annotated[
        str | None, typer.Option(help="Model folder or Hugging Face id (default: the shipped model).")
    ] = None,
    backend: Annotated[str, typer.Option(help="auto, onnx, openvino or torch.")] = "auto",
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    precision: Annotated[str, typer.Option(help="auto, fp32, bf16, fp16 or int8.")] = "auto",
    text_key: Annotated[str, typer.Option(help="JSONL field holding the document text.")] = "content",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines instead of a table.")] = False,
) -> None:
    """Rerank documents by relevance to QUERY with a cross-encoder."""
    from crossrank.cli.docs_input import read_documents
    from crossrank.rerank.reranker import Reranker

    try:
        documents = read_documents(docs, text_key)
        reranker = Reranker(model, backend=backend, device=device, precision=precision)
        results = reranker.rerank(query, documents, top_k=top_k, text_key=text_key)
    except CrossrankError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        for result in results:
            sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False, default=str) + "\n")
        return
    _out.print(_results_table(query, results))


def _results_table(query: str, results: list[Any]) -> Table:
    table = Table(title=escape(query), title_justify="left")
    table.add_column("rank", justify="right", no_wrap=True, min_width=4)
    table.add_column("score", justify="right", no_wrap=True, min_width=6)
    table.add_column("id", no_wrap=True, max_width=24, overflow="ellipsis")
    table.add_column("document", overflow="ellipsis", no_wrap=True, max_width=max(20, _out.width - 45))
    for rank, result in enumerate(results, start=1):
        snippet = escape(" ".join(result.text.split()))
        marker = " [dim](truncated)[/]" if result.truncated else ""
        table.add_row(str(rank), f"{result.score:.4f}", escape(str(result.id)), snippet + marker)
    return table


@app.command()
def info() -> None:
    """Version, installed backends, device, threads and the default model."""
    from crossrank import __version__
    from crossrank.cli.environment import describe_environment

    table = Table(show_header=False, title=f"crossrank {__version__}", title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value")
    for key, value in describe_environment().items():
        table.add_row(key, value)
    _out.print(table)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
