"""`crossrank train` end to end: load data, hold out validation, mine hard negatives, train, export, check.

from crossrank.train import TrainConfig, fit
report = fit("my-beir-folder", "runs/mine", TrainConfig(base="default", epochs=2))
Reranker("runs/mine/model")
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from crossrank.errors import CrossrankError, InvalidInputError
from crossrank.train.data import VALIDATION_CAP, TrainingSet, has_split, load_training_set
from crossrank.train.mining import STAGES, MinedQuery, SourceFirstStages, stages_of
from crossrank.train.pseudo import append_pseudo_queries, title_queries
from crossrank.train.trainer import TrainConfig, Trainer, Validation, check_run_folder

PARITY_TOLERANCE = 1e-3  # max |logit| difference between the ONNX export and torch, both fp32
PARITY_PAIRS = 256


class ExportParityError(CrossrankError):
    """The exported model does not reproduce the trained model's scores."""


@dataclass
class MiningConfig:
    """How hard negatives and validation candidates are found."""

    retriever: str = "hybrid"
    skip_top: int = 0
    depth: int = 50
    max_similarity_ratio: float = 0.95
    validation_split: str | None = "dev"  # a BEIR split to validate on; else a fraction of the training queries
    validation_fraction: float = 0.1
    validation_queries: int = VALIDATION_CAP  # per source, at most
    validation_depth: int = 100
    pseudo_queries: int = 0  # per BEIR source: title -> body queries made from its corpus (see train.pseudo)
    split_seed: int | None = None  # the validation split's seed; None: the training seed
    validation_retriever: str | None = None  # whose top N validation ranks, comma-separated for several (the mean);
    # None: the retriever's own (hybrid for union)

    def validation_stages(self) -> list[str]:
        """The first stages whose candidates validation ranks; refuses one the mining index does not hold."""
        wanted = self.validation_retriever or ("hybrid" if self.retriever == "union" else self.retriever)
        stages = list(dict.fromkeys(stage.strip() for stage in wanted.split(",")))
        for stage in stages:
            if stage not in STAGES:
                raise InvalidInputError(f"--validation-retriever takes {', '.join(STAGES)}, not {stage!r}")
            if stage not in stages_of(self.retriever):
                raise InvalidInputError(
                    f"--validation-retriever {stage} needs --retriever {stage}, hybrid or union, not {self.retriever}"
                )
        return stages


@dataclass
class FitReport:
    """What a run did, written to `report.json` in the run folder."""

    training_queries: int
    validation_queries: int
    first_stage_ndcg: float
    best_ndcg: float
    steps: int
    stopped_early: bool
    minutes: float
    pseudo_queries: int = 0
    fusion: dict[str, Any] = field(default_factory=dict)
    calibration: dict[str, Any] = field(default_factory=dict)
    export: dict[str, Any] = field(default_factory=dict)


def fit(
    data: str | Path | Sequence[str | Path],
    out: str | Path,
    config: TrainConfig | None = None,
    mining: MiningConfig | None = None,
    *,
    split: str = "train",
    resume: bool = False,
    export: bool = True,
    show_progress: bool = True,
    log: Callable[[str], None] = print,
    on_step: Callable[[int], None] | None = None,
) -> FitReport:
    """Fine-tune `config.base` on `data` (BEIR folders or JSONL files of pairs, one or several; several are
    trained on together, each validated on its own held-out queries); the model lands in `out/model`."""
    config, mining = config or TrainConfig(), mining or MiningConfig()
    config.check()
    validation_stages = mining.validation_stages()
    started = time.monotonic()
    out = Path(out)
    sources = [Path(data)] if isinstance(data, (str, Path)) else [Path(d) for d in data]
    check_run_folder(out, resume)  # before minutes of mining, and before anything in `out` is written
    parts = held_out_split(sources, split, mining, config.seed if mining.split_seed is None else mining.split_seed)
    train_set = TrainingSet.merge([(name, train) for name, (train, _) in parts])
    held_out = TrainingSet.merge([(name, held) for name, (_, held) in parts])
    held_from = [name for name, (_, held) in parts for _ in held.queries]  # each validation query's source
    log(f"{len(train_set.queries)} training queries, {len(held_out.queries)} validation queries")
    out.mkdir(parents=True, exist_ok=True)
    held_ids = {name: [q.query_id for q in held.queries] for name, (_, held) in parts}
    (out / "validation_queries.json").write_text(json.dumps(held_ids, indent=1) + "\n")
    first_stage = SourceFirstStages([train for _, (train, _) in parts], mining.retriever, show_progress)
    mined = first_stage.mine(
        [train.queries for _, (train, _) in parts],
        skip_top=mining.skip_top,
        depth=mining.depth,
        max_similarity_ratio=mining.max_similarity_ratio,
    )
    train_set, mined, pseudo_count = _add_pseudo_queries(sources, train_set, mined, mining, config.seed, log)
    held_texts = [[q.text for q in held.queries] for _, (_, held) in parts]

    def validation_on(stage: str) -> Validation:
        """The held-out queries with `stage`'s top `mining.validation_depth` from their own corpus as candidates."""
        ranked = first_stage.search(held_texts, mining.validation_depth, stage)
        return Validation.build(held_out, ranked, held_from)

    by_stage = {stage: validation_on(stage) for stage in validation_stages}
    validation = Validation.combine(by_stage)
    trainer = Trainer(config, train_set, mined, validation, out, show_progress=show_progress, log=log, on_step=on_step)
    state = trainer.run(resume=resume)
    report = FitReport(
        len(trainer.queries),
        len(held_out.queries),
        validation.first_stage_ndcg(),
        state.best,
        state.step,
        state.stopped_early,
        (time.monotonic() - started) / 60,
        pseudo_count,
    )
    if export:
        trainer.load_weights(out / "best")  # the best checkpoint, once, for the fusion choice and the parity check
        stages = {s: by_stage[s] if s in by_stage else validation_on(s) for s in first_stage.stages}
        scores = {stage: trainer.score_validation(candidates) for stage, candidates in stages.items()}
        report.fusion = choose_fusion_weights(out / "best", stages, scores)
        in_validation_order = [row for stage in by_stage for row in scores[stage]]
        report.calibration = fit_calibration(out / "best", validation, in_validation_order)
        report.export = export_model(out / "best", out / "model", validation, trainer)
    (out / "report.json").write_text(json.dumps(asdict(report), indent=2) + "\n")
    return report


def held_out_split(
    sources: list[Path], split: str, mining: MiningConfig, seed: int
) -> list[tuple[str, tuple[TrainingSet, TrainingSet]]]:
    """Per source, its name and its (training, validation) sets, split as `fit` splits them."""
    return [(_name(source, sources), _split(source, split, mining, seed)) for source in sources]


def _name(source: Path, sources: list[Path]) -> str:
    """A source's prefix for its ids when several are merged: its folder or file name (made unique)."""
    names = [s.stem for s in sources]
    return source.stem if names.count(source.stem) == 1 else f"{source.stem}{sources.index(source)}"


def _add_pseudo_queries(
    sources: list[Path],
    data: TrainingSet,
    mined: list[MinedQuery],
    mining: MiningConfig,
    seed: int,
    log: Callable[[str], None],
) -> tuple[TrainingSet, list[MinedQuery], int]:
    """`mining.pseudo_queries` title -> body queries from each BEIR source's corpus, added to the training data."""
    added = 0
    for source in sources if mining.pseudo_queries else []:
        if not source.is_dir():
            log(f"{source}: pseudo-queries need a BEIR corpus with titles; none made from this file")
            continue
        pseudo = title_queries(source, mining.pseudo_queries, seed, max_similarity_ratio=mining.max_similarity_ratio)
        log(f"{source.name}: {len(pseudo.queries)} title -> body pseudo-queries")
        data, mined = append_pseudo_queries(data, mined, pseudo)
        added += len(pseudo.queries)
    return data, mined, added


def _split(data: str | Path, split: str, mining: MiningConfig, seed: int) -> tuple[TrainingSet, TrainingSet]:
    train_set = load_training_set(data, split)
    wanted = mining.validation_split
    if wanted and Path(data).is_dir() and wanted != split and has_split(data, wanted):
        held_out = load_training_set(data, wanted).sample(mining.validation_queries, seed)
        return train_set, TrainingSet(train_set.texts, train_set.doc_ids, held_out.queries)
    return train_set.split(mining.validation_fraction, seed, mining.validation_queries)


def export_model(best: Path, target: Path, validation: Validation, trainer: Trainer) -> dict[str, Any]:
    """Export the best checkpoint to ONNX beside its tokenizer, check it against torch (fp32, first 256 validation
    pairs; `trainer.model` holds the best weights), and measure each fast backend's nDCG@10 on the validation
    candidates, on the CPU where those backends run (also when training used a GPU)."""
    import shutil

    from crossrank.rerank.export import export_onnx
    from crossrank.rerank.model_source import resolve_model
    from crossrank.rerank.reranker import Reranker
    from crossrank.train.trainer import pair_logits

    target.mkdir(parents=True, exist_ok=True)
    export_onnx(resolve_model(best), target / "model.onnx")
    for name in ("config.json", "tokenizer.json", "crossrank.json"):
        shutil.copy(best / name, target / name)
    pairs = [(q, validation.texts[d]) for q, docs in zip(validation.queries, validation.candidates) for d in docs]
    probe = pairs[:PARITY_PAIRS]
    with trainer._torch.inference_mode():  # no autocast: the reference is fp32
        queries, docs = [q for q, _ in probe], [d for _, d in probe]
        torch_fp32 = pair_logits(trainer.model.eval(), trainer.encoder, queries, docs, trainer.device).float().cpu()
    results: dict[str, Any] = {}
    for backend, precision in (("onnx", "fp32"), ("onnx", "int8"), ("openvino", "bf16"), ("openvino", "int8")):
        try:
            reranker = Reranker(target, backend=backend, device="cpu", precision=precision)
        except CrossrankError as exc:
            results[f"{backend}-{precision}"] = {"skipped": str(exc)}
            continue
        scores = reranker.predict(pairs, raw=True)
        if (backend, precision) == ("onnx", "fp32"):
            gap = float(np.max(np.abs(scores[: len(probe)] - torch_fp32.numpy()))) if probe else 0.0
            results["onnx_vs_torch_max_abs_logit"] = gap
            if gap > PARITY_TOLERANCE:
                raise ExportParityError(f"the ONNX export differs from torch by {gap:.2e} > {PARITY_TOLERANCE:g}")
        results[f"{backend}-{precision}"] = {"val_ndcg@10": validation.ndcg(_per_query(scores, validation))}
    return results


def choose_fusion_weights(
    best: Path, stages: dict[str, Validation], scores: dict[str, list[np.ndarray]]
) -> dict[str, Any]:
    """Per first stage (bm25, dense, hybrid: those the run's retriever covers), the model weight w in
    `w * minmax(model) + (1 - w) * minmax(first stage)` chosen on that stage's validation candidates and the best
    model's `scores` of them (see `Validation.fusion_sweep`), written into the best model's crossrank.json as
    `fusion_weights`, which the pipeline and `rerank(first_stage_scores=...)` use."""
    chosen: dict[str, float] = {}
    tables: dict[str, dict[str, dict[str, float]]] = {}
    for stage, validation in stages.items():
        weight, table = validation.fusion_sweep(scores[stage])
        chosen[stage], tables[stage] = weight, {str(w): v for w, v in table.items()}
    default = chosen.get("hybrid", next(iter(chosen.values())))
    _update_settings(best, {"fusion_weight": default, "fusion_weights": chosen, "fusion_chosen_on": "validation"})
    return {"weights": chosen, "by_weight": tables}


def fit_calibration(best: Path, validation: Validation, scores: list[np.ndarray]) -> dict[str, Any]:
    """Platt scaling of the best model's logits (`scores`) on the validation candidates (relevant: judged > 0),
    written into its crossrank.json so `Reranker.predict` returns calibrated probabilities; expected calibration
    error before and after."""
    from crossrank.eval.calibration import expected_calibration_error, fit_platt
    from crossrank.rerank.scores import Calibration, sigmoid

    logits = np.concatenate(scores).astype(np.float64)
    labels = np.array(
        [
            validation.qrels[query_id].get(validation.doc_ids[doc], 0) > 0
            for query_id, docs in zip(validation.query_ids, validation.candidates)
            for doc in docs
        ]
    )
    slope, bias = fit_platt(logits, labels)
    after = Calibration(slope, bias).probability(logits)
    entry = {"method": "platt", "slope": round(slope, 4), "bias": round(bias, 4), "fitted_on": "validation"}
    _update_settings(best, {"calibration": entry})
    return {
        **entry,
        "ece_before": expected_calibration_error(sigmoid(logits), labels),
        "ece_after": expected_calibration_error(after, labels),
        "pairs": int(labels.size),
    }


def _update_settings(model_dir: Path, values: dict[str, Any]) -> None:
    settings_file = model_dir / "crossrank.json"
    settings = json.loads(settings_file.read_text())
    settings.update(values)
    settings_file.write_text(json.dumps(settings, indent=2) + "\n")


def _per_query(scores: np.ndarray, validation: Validation) -> list[np.ndarray]:
    """Flat scores cut back into one array per validation query."""
    return np.split(scores, np.cumsum([len(docs) for docs in validation.candidates])[:-1])
