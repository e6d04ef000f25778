"""`crossrank train`: fine-tune a cross-encoder on a BEIR folder or a JSONL of (query, positive[, negatives])."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from crossrank.cli.output import fail, stderr, stdout
from crossrank.errors import CrossrankError


def train(
    data: Annotated[
        list[Path], typer.Argument(help="BEIR folders (corpus, queries, qrels/) or JSONL files of pairs; several mix.")
    ],
    out: Annotated[Path, typer.Option(help="Run folder: checkpoint, best/ and the exported model/.")],
    base: Annotated[
        str, typer.Option(help="Model to start from: default, splade-tiny, all-MiniLM-L6-v2, a folder or a hub id.")
    ] = "default",
    split: Annotated[str, typer.Option(help="BEIR: the qrels split to train on.")] = "train",
    validation_split: Annotated[
        str, typer.Option(help="BEIR: validate on this split when it exists, else hold out --validation-fraction.")
    ] = "dev",
    validation_fraction: Annotated[float, typer.Option(min=0.01, max=0.5)] = 0.1,
    validation_queries: Annotated[
        int, typer.Option(min=1, help="Validate on at most N queries per source (a seeded random sample).")
    ] = 200,
    loss: Annotated[
        str, typer.Option(help="listwise (softmax CE), bce (pointwise) or margin-mse (needs --teacher).")
    ] = "listwise",
    teacher: Annotated[str | None, typer.Option(help="Cross-encoder to distil from (margin-mse).")] = None,
    retriever: Annotated[
        str,
        typer.Option(
            help="Mines negatives and validation candidates: bm25, dense, hybrid, or union (negatives from "
            "BM25's and dense's own top N each; validation on hybrid by default).",
        ),
    ] = "hybrid",
    validation_retriever: Annotated[
        str | None,
        typer.Option(
            help="Validate (pick the checkpoint) on this first stage's top 100: bm25, dense or hybrid, the one your "
            "application reranks, or several comma-separated (the mean). Default: --retriever's (hybrid for union).",
        ),
    ] = None,
    skip_top: Annotated[int, typer.Option(min=0, help="Ignore the first N retrieved (likely unjudged positives).")] = 0,
    depth: Annotated[int, typer.Option(min=1, help="Mine negatives from the top N.")] = 50,
    max_similarity_ratio: Annotated[
        float, typer.Option(help="Skip candidates more similar to the query than this x the best positive.")
    ] = 0.95,
    pseudo_queries: Annotated[
        int,
        typer.Option(min=0, help="Per BEIR folder, add N title -> body queries made from its corpus (no labels)."),
    ] = 0,
    epochs: Annotated[int, typer.Option(min=1)] = 3,
    max_steps: Annotated[int | None, typer.Option(min=1, help="Stop after N steps (overrides --epochs).")] = None,
    queries_per_step: Annotated[int, typer.Option(min=1)] = 16,
    group_size: Annotated[int, typer.Option(min=2, help="1 positive + N-1 negatives per query.")] = 8,
    lr: Annotated[float, typer.Option(help="Learning rate of the encoder (the head gets 10x).")] = 5e-5,
    max_length: Annotated[int, typer.Option(min=16)] = 256,
    patience: Annotated[int, typer.Option(min=1, help="Stop after N validations without a gain.")] = 2,
    ema: Annotated[
        float,
        typer.Option(min=0.0, max=0.9999, help="Validate and keep a moving average of the weights (decay, e.g. 0.99)."),
    ] = 0.0,
    eval_every: Annotated[int | None, typer.Option(min=1, help="Validate every N steps (default: each epoch).")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    precision: Annotated[
        str, typer.Option(help="auto (bf16 where the hardware has it), fp32, bf16, fp16 (CUDA).")
    ] = "auto",
    seed: Annotated[int, typer.Option()] = 13,
    split_seed: Annotated[
        int | None,
        typer.Option(help="Seed of the validation split (default: --seed); fix it to compare training seeds."),
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run saved in --out.")] = False,
    no_export: Annotated[bool, typer.Option("--no-export", help="Skip the ONNX export and its checks.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
) -> None:
    """Fine-tune a cross-encoder with mined hard negatives; writes OUT/model, which `--model OUT/model` loads."""
    from crossrank.hardware import is_installed

    missing = [name for name in ("torch", "transformers", "bm25s", "pytrec_eval") if not is_installed(name)]
    if missing:
        raise fail(f"training needs the train extra ({', '.join(missing)} missing): pip install 'crossrank[train]'")
    try:
        from crossrank.train.fit import MiningConfig, fit
        from crossrank.train.mining import RETRIEVERS
        from crossrank.train.trainer import TrainConfig
    except ImportError as exc:
        raise fail(f"training needs the train extra: pip install 'crossrank[train]' ({exc.name} is missing)") from None
    if retriever not in RETRIEVERS:
        raise fail(f"--retriever must be one of {', '.join(RETRIEVERS)}, not {retriever!r}")
    config = TrainConfig(
        base=base,
        loss=loss,
        teacher=teacher,
        epochs=epochs,
        max_steps=max_steps,
        queries_per_step=queries_per_step,
        group_size=group_size,
        learning_rate=lr,
        max_length=max_length,
        patience=patience,
        ema=ema,
        eval_every=eval_every,
        device=device,
        precision=precision,
        seed=seed,
    )
    mining = MiningConfig(
        retriever,
        skip_top,
        depth,
        max_similarity_ratio,
        validation_split,
        validation_fraction,
        validation_queries,
        pseudo_queries=pseudo_queries,
        split_seed=split_seed,
        validation_retriever=validation_retriever,
    )
    try:
        report = fit(
            data,
            out,
            config,
            mining,
            split=split,
            resume=resume,
            export=not no_export,
            show_progress=not quiet,
            log=lambda line: stderr.print(line, highlight=False),
        )
    except CrossrankError as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        raise typer.Exit(code=130) from None
    stdout.print_json(json.dumps(asdict(report)))
    stderr.print(f"model: {out / 'model'}  (crossrank rerank QUERY --docs FILE --model {out / 'model'})")
