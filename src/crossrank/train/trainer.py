"""Fine-tune a cross-encoder: sampled groups of one positive and hard negatives, a ranking loss, validation
nDCG@10 after each epoch, early stopping, and checkpoints that a crash or Ctrl-C does not lose.

The run folder holds `checkpoint.pt` (everything needed to resume exactly: weights, optimizer, schedule,
random states, sampling order), `best/` (the best model by validation, transformers layout) and
`history.json`. Resuming replays the same batches, so an interrupted run ends with the same weights as an
uninterrupted one.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import random
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from crossrank.errors import InvalidInputError
from crossrank.progress import new_progress
from crossrank.rerank.batching import pad_pairs
from crossrank.rerank.encoding import PairEncoder
from crossrank.train.data import TrainingSet
from crossrank.train.losses import LOSSES, group_loss
from crossrank.train.mining import MinedQuery

CHECKPOINT = "checkpoint.pt"


@dataclass
class TrainConfig:
    """What `crossrank train` does; every field is a command-line option."""

    base: str = "default"
    loss: str = "listwise"
    teacher: str | None = None
    epochs: int = 3
    max_steps: int | None = None
    queries_per_step: int = 16
    group_size: int = 8
    learning_rate: float = 5e-5
    head_learning_rate_factor: float = 10.0
    warmup_fraction: float = 0.05
    weight_decay: float = 0.01
    max_length: int = 256
    max_query_tokens: int = 64
    patience: int = 2
    ema: float = 0.0  # decay of an exponential moving average of the weights, validated and saved; 0: off
    eval_every: int | None = None  # steps; None: once per epoch
    checkpoint_every: int = 100
    device: str = "auto"
    precision: str = "auto"
    seed: int = 13

    def check(self) -> None:
        if self.loss not in LOSSES:
            raise InvalidInputError(f"--loss must be one of {', '.join(LOSSES)}, not {self.loss!r}")
        if self.loss == "margin-mse" and not self.teacher:
            raise InvalidInputError("--loss margin-mse needs --teacher (a cross-encoder to distil from)")
        if self.group_size < 2:
            raise InvalidInputError("--group-size must be at least 2 (a positive and a negative)")
        if not 0.0 <= self.ema < 1.0:
            raise InvalidInputError(f"--ema must be in [0, 1), not {self.ema}")


@dataclass
class Validation:
    """Held-out queries with their first-stage candidates; nDCG@10 of a model's order over them.

    Each query belongs to a source (the training folder or file it was held out from). nDCG@10 is the mean over
    sources of each source's mean, so a source with many queries does not outvote the others.
    """

    queries: list[str]
    query_ids: list[str]
    candidates: list[list[int]]
    qrels: dict[str, dict[str, int]]
    doc_ids: list[str]
    texts: list[str]
    first_stage: list[list[float]]
    sources: list[str] = field(default_factory=list)  # per query; empty: one source

    @classmethod
    def build(
        cls, held_out: TrainingSet, ranked: Sequence[Sequence[tuple[int, float]]], sources: Sequence[str] = ()
    ) -> Validation:
        return cls(
            [q.text for q in held_out.queries],
            [q.query_id for q in held_out.queries],
            [[doc for doc, _ in hits] for hits in ranked],
            held_out.qrels(),
            held_out.doc_ids,
            held_out.texts,
            [[score for _, score in hits] for hits in ranked],
            list(sources),
        )

    @classmethod
    def combine(cls, by_stage: dict[str, Validation]) -> Validation:
        """One validation over several first stages' candidates of the same queries: each (source, stage) is a
        group of its own (`scifact/bm25`), so nDCG@10 is the mean over sources and stages. One stage: unchanged."""
        if len(by_stage) == 1:
            return next(iter(by_stage.values()))
        first = next(iter(by_stage.values()))
        rows = [(stage, v, i) for stage, v in by_stage.items() for i in range(len(v.query_ids))]
        return cls(
            [v.queries[i] for _, v, i in rows],
            [v.query_ids[i] for _, v, i in rows],
            [v.candidates[i] for _, v, i in rows],
            first.qrels,
            first.doc_ids,
            first.texts,
            [v.first_stage[i] for _, v, i in rows],
            [f"{v.sources[i]}/{stage}" if v.sources else stage for stage, v, i in rows],
        )

    def ndcg(self, scores: Sequence[Any]) -> float:
        """nDCG@10 of the candidates ordered by `scores` (one score sequence per query), averaged over sources."""
        return float(np.mean(list(self.ndcg_by_source(scores).values())))

    def ndcg_by_source(self, scores: Sequence[Any]) -> dict[str, float]:
        """Each source's mean nDCG@10 of the candidates ordered by `scores`."""
        from crossrank.eval.metrics import evaluate_run

        sources = self.sources or [""] * len(self.query_ids)
        out = {}
        for source in dict.fromkeys(sources):
            rows = [i for i, s in enumerate(sources) if s == source]
            run = {
                self.query_ids[i]: {self.doc_ids[d]: float(s) for d, s in zip(self.candidates[i], scores[i])}
                for i in rows
            }
            out[source] = evaluate_run({self.query_ids[i]: self.qrels[self.query_ids[i]] for i in rows}, run)["ndcg@10"]
        return out

    def digest(self) -> str:
        """Digest of the held-out queries and their candidates: a resumed run must validate on the same."""
        import hashlib

        return hashlib.sha256(repr((self.query_ids, self.candidates, self.sources)).encode()).hexdigest()

    def first_stage_order(self) -> list[list[float]]:
        """Scores that keep each candidate list in its first-stage order."""
        return [[-float(rank) for rank in range(len(docs))] for docs in self.candidates]

    def first_stage_ndcg(self) -> float:
        return self.ndcg(self.first_stage_order())

    def fusion_sweep(self, model_scores: Sequence[Any]) -> tuple[float, dict[float, dict[str, float]]]:
        """The model weight of the fused score with the best nDCG@10 among weights that lower no source below its
        first-stage nDCG@10 (a default should not buy one domain's gain with another's loss; w = 0 always
        qualifies), and per weight on a 0.05 grid, the mean nDCG@10 and the smallest gain of any source."""
        from crossrank.rerank.fusion import fuse_scores, fusion_weight_grid

        table: dict[float, dict[str, float]] = {}
        baseline: dict[str, float] = {}
        for weight in fusion_weight_grid():
            fused = [fuse_scores(m, f, weight) for m, f in zip(model_scores, self.first_stage)]
            by_source = self.ndcg_by_source(fused)
            baseline = baseline or by_source  # weight 0: the first-stage scores alone, ties broken as fusion does
            worst = min(value - baseline[source] for source, value in by_source.items())
            table[weight] = {"ndcg@10": float(np.mean(list(by_source.values()))), "worst_gain": worst}
        allowed = [w for w, row in table.items() if row["worst_gain"] >= 0.0]
        return max(allowed, key=lambda w: table[w]["ndcg@10"]), table  # max keeps the first (smallest) of ties


@dataclass
class TrainState:
    """Progress that a checkpoint carries besides the tensors."""

    step: int = 0
    best: float = -math.inf
    evals_without_gain: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    order: list[int] = field(default_factory=list)
    stopped_early: bool = False


class Trainer:
    """One training run in `out`; `run()` trains (or resumes) and returns the final state."""

    def __init__(
        self,
        config: TrainConfig,
        data: TrainingSet,
        mined: list[MinedQuery],
        validation: Validation,
        out: Path,
        *,
        show_progress: bool = True,
        log: Callable[[str], None] = print,
        on_step: Callable[[int], None] | None = None,
    ):
        import torch

        config.check()
        self.config, self.data, self.validation, self.out = config, data, validation, Path(out)
        self.queries = [q for q in mined if q.negatives and q.positives]
        if not self.queries:
            raise InvalidInputError("no training query has both a positive and a mined negative")
        self.show_progress, self.log, self.on_step = show_progress, log, on_step
        self.device, self.dtype = choose_training_precision(config.device, config.precision)
        self._torch = torch
        seed_everything(config.seed)  # before the model: a new head's initial weights come from the seed
        self.files, self.model = load_trainable(config.base)
        self.model.to(self.device)
        self.ema = _moving_average(self.model, config.ema)
        self.scored = self.ema.module if self.ema is not None else self.model  # what validation scores and saves
        self.encoder = PairEncoder.from_file(self.files.tokenizer_file, config.max_length, config.max_query_tokens)
        self.teacher = _teacher(config.teacher)
        self.steps_per_epoch = math.ceil(len(self.queries) / config.queries_per_step)
        self.total_steps = config.max_steps or self.steps_per_epoch * config.epochs
        head_rate = config.learning_rate * config.head_learning_rate_factor
        self.optimizer = adamw(self.model, config.learning_rate, head_rate, config.weight_decay)
        self.scheduler = linear_schedule(self.optimizer, config.warmup_fraction, self.total_steps)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.dtype == torch.float16)
        self.rng = random.Random(config.seed)
        self.state = TrainState()

    # ---- the loop -------------------------------------------------------------------------------------
    def run(self, resume: bool = False) -> TrainState:
        check_run_folder(self.out, resume)
        checkpoint = self.out / CHECKPOINT
        self.out.mkdir(parents=True, exist_ok=True)
        if checkpoint.is_file():
            self._load_checkpoint(checkpoint)
            self.log(f"resumed at step {self.state.step} of {self.total_steps}")
        else:
            self._evaluate(label="start")
        try:
            self._train()
        except KeyboardInterrupt:
            self._save_checkpoint()
            self.log(f"interrupted at step {self.state.step}; checkpoint saved, --resume continues")
            raise
        self._save_checkpoint()
        return self.state

    def _train(self) -> None:
        config, state = self.config, self.state
        with new_progress(self.show_progress) as progress, _deferred_interrupt() as interrupted:
            task = progress.add_task("train", total=self.total_steps, completed=state.step)
            while state.step < self.total_steps and not state.stopped_early:
                loss = self._step()
                state.step += 1  # only once the step is complete, so a checkpoint never holds half a step
                progress.update(task, advance=1, description=f"train loss {loss:.3f}")
                if self.on_step is not None:
                    self.on_step(state.step)
                if self._evaluation_due():
                    self._evaluate(label=f"epoch {state.step / self.steps_per_epoch:.2f}", loss=loss)
                    self._save_checkpoint()
                elif state.step % config.checkpoint_every == 0:
                    self._save_checkpoint()
                if interrupted.is_set():  # Ctrl-C arrived during the step: it was finished first
                    raise KeyboardInterrupt

    def _evaluation_due(self) -> bool:
        step, every = self.state.step, self.config.eval_every or self.steps_per_epoch
        return step % every == 0 or step == self.total_steps

    def _step(self) -> float:
        torch = self._torch
        self.model.train()
        chosen = [self.queries[i] for i in self._next_queries()]
        groups = [self._group(query) for query in chosen]
        flat_queries = [q.text for q, group in zip(chosen, groups) for _ in group]
        flat_docs = [self.data.texts[d] for group in groups for d in group]
        with self._autocast():
            logits = pair_logits(self.model, self.encoder, flat_queries, flat_docs, self.device)
        scores = logits.float().view(len(chosen), self.config.group_size)
        teacher = None
        if self.teacher is not None:
            pairs = list(zip(flat_queries, flat_docs))
            teacher = torch.from_numpy(self.teacher.predict(pairs, raw=True)).to(self.device).view_as(scores)
        loss = group_loss(self.config.loss, scores, teacher)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        if self.ema is not None:
            self.ema.update_parameters(self.model)
        return float(loss.item())

    def _next_queries(self) -> list[int]:
        """The next queries of a shuffled pass over all of them; a new pass starts when one runs out."""
        wanted = self.config.queries_per_step
        while len(self.state.order) < wanted:
            fresh = list(range(len(self.queries)))
            self.rng.shuffle(fresh)
            self.state.order.extend(fresh)
        chosen, self.state.order = self.state.order[:wanted], self.state.order[wanted:]
        return chosen

    def _group(self, query: MinedQuery) -> list[int]:
        """A positive, then group_size-1 negatives (drawn with replacement only when too few were mined)."""
        size = self.config.group_size - 1
        pool = query.negatives
        negatives = self.rng.sample(pool, size) if len(pool) >= size else [self.rng.choice(pool) for _ in range(size)]
        return [self.rng.choice(query.positives), *negatives]

    def _autocast(self) -> Any:
        torch = self._torch
        device_type = "cuda" if self.device.startswith("cuda") else "cpu"
        return torch.autocast(device_type, dtype=self.dtype, enabled=self.dtype != torch.float32)

    def load_weights(self, folder: Path) -> None:
        """Replace the model's weights with those saved in `folder` (for example the best checkpoint)."""
        _, saved = load_trainable(str(folder))
        self.model.load_state_dict(saved.state_dict())
        if self.scored is not self.model:
            self.scored.load_state_dict(saved.state_dict())

    # ---- validation -----------------------------------------------------------------------------------
    def score_validation(self, validation: Validation | None = None, batch: int = 256) -> list[np.ndarray]:
        """The model's logits for every candidate of `validation` (default: the run's validation set)."""
        torch = self._torch
        validation = validation or self.validation
        self.scored.eval()
        out = []
        with torch.inference_mode(), self._autocast():
            for query, docs in zip(validation.queries, validation.candidates):
                texts = [validation.texts[d] for d in docs]
                parts = [
                    pair_logits(
                        self.scored,
                        self.encoder,
                        [query] * len(texts[i : i + batch]),
                        texts[i : i + batch],
                        self.device,
                    )
                    for i in range(0, len(texts), batch)
                ]
                out.append(torch.cat(parts).float().cpu().numpy() if parts else np.zeros(0, dtype=np.float32))
        return out

    def _evaluate(self, label: str, loss: float | None = None) -> None:
        state = self.state
        by_source = self.validation.ndcg_by_source(self.score_validation())
        score = float(np.mean(list(by_source.values())))
        record = {"step": state.step, "val_ndcg@10": score}
        if len(by_source) > 1:
            record.update({f"val_ndcg@10/{source}": value for source, value in by_source.items()})
        if loss is not None:
            record["loss"] = loss
        state.history.append(record)
        if score > state.best:
            state.best, state.evals_without_gain = score, 0
            save_model(self.scored, self.encoder, self.files, self.out / "best", self.config)
        elif state.step > 0:
            state.evals_without_gain += 1
            state.stopped_early = state.evals_without_gain >= self.config.patience
        parts = ", ".join(f"{source} {value:.4f}" for source, value in by_source.items()) if len(by_source) > 1 else ""
        detail = f" ({parts})" if parts else ""
        self.log(f"{label} (step {state.step}): validation nDCG@10 {score:.4f}{detail} (best {state.best:.4f})")
        (self.out / "history.json").write_text(json.dumps(state.history, indent=2) + "\n")

    # ---- checkpoints ----------------------------------------------------------------------------------
    def _save_checkpoint(self) -> None:
        torch = self._torch
        payload = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "state": asdict(self.state),
            "config": asdict(self.config),
            "data": self._data_digest,
            "validation": self.validation.digest(),
            "rng": self.rng.getstate(),
            "numpy_rng": np.random.get_state(),
            "torch_rng": torch.get_rng_state(),
        }
        temporary = self.out / (CHECKPOINT + ".tmp")
        torch.save(payload, temporary)
        os.replace(temporary, self.out / CHECKPOINT)  # atomic: a crash leaves the old checkpoint or the new one

    @functools.cached_property
    def _data_digest(self) -> str:
        """Digest of the training queries as sampled (texts, positives, negatives): resuming needs the same."""
        import hashlib

        digest = hashlib.sha256()
        for query in self.queries:
            digest.update(repr((query.text, query.positives, query.negatives)).encode())
            digest.update(repr([self.data.texts[i] for i in query.positives[:1]]).encode())
        return digest.hexdigest()

    def _load_checkpoint(self, path: Path) -> None:
        torch = self._torch
        payload = torch.load(path, map_location=self.device, weights_only=False)
        if payload["config"] != asdict(self.config):
            changed = sorted(k for k, v in payload["config"].items() if asdict(self.config).get(k) != v)
            raise InvalidInputError(f"--resume with other settings than the run in {self.out}: {', '.join(changed)}")
        if payload.get("data", self._data_digest) != self._data_digest:
            raise InvalidInputError(
                f"--resume with other training data than the run in {self.out} "
                "(other sources, mining options or --pseudo-queries)"
            )
        if payload.get("validation", self.validation.digest()) != self.validation.digest():
            raise InvalidInputError(
                f"--resume with other validation candidates than the run in {self.out} "
                "(other --validation-* options or first stage): its best checkpoint was chosen on those"
            )
        self.model.load_state_dict(payload["model"])
        self.optimizer.load_state_dict(payload["optimizer"])
        self.scheduler.load_state_dict(payload["scheduler"])
        self.scaler.load_state_dict(payload["scaler"])
        if self.ema is not None:
            self.ema.load_state_dict(payload["ema"])
        self.state = TrainState(**payload["state"])
        self.rng.setstate(payload["rng"])
        np.random.set_state(payload["numpy_rng"])
        torch.set_rng_state(payload["torch_rng"])


def check_run_folder(out: Path, resume: bool) -> None:
    """Refuse to start a new run in a folder that holds one (its checkpoint would be overwritten)."""
    if (Path(out) / CHECKPOINT).is_file() and not resume:
        raise InvalidInputError(f"{out} already holds a run; pass --resume to continue it or pick a new --out")


@contextlib.contextmanager
def _deferred_interrupt() -> Iterator[threading.Event]:
    """While training, Ctrl-C (SIGINT) sets an event instead of raising mid-step; the loop stops between steps.

    Off the main thread (where signal handlers cannot be set) Ctrl-C behaves as usual.
    """
    interrupted = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield interrupted
        return
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.set())
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)


def pair_logits(
    model: Any, encoder: PairEncoder, queries: Sequence[str], docs: Sequence[str], device: str = "cpu"
) -> Any:
    """The model's relevance logit for each (query, doc) pair, as a tensor on `device`."""
    import torch

    pairs = encoder.encode_pairs(queries, docs)
    batch = pad_pairs(list(range(len(pairs))), pairs, encoder.pad_id)
    inputs = {
        "input_ids": torch.from_numpy(batch.input_ids).to(device),
        "attention_mask": torch.from_numpy(batch.attention_mask).to(device),
    }
    if getattr(model.config, "type_vocab_size", 0) > 1:
        inputs["token_type_ids"] = torch.from_numpy(batch.token_type_ids).to(device)
    return model(**inputs).logits[:, -1]


def load_trainable(base: str) -> tuple[Any, Any]:
    """(model files, a trainable transformers classifier) for a base: the shipped default, a folder, a hub id,
    or an offline base by name ("splade-tiny", "all-MiniLM-L6-v2"). A base without a classifier gets a new
    one-logit head."""
    from transformers import AutoModelForSequenceClassification

    from crossrank.models.bases import _BASES, base_model_path
    from crossrank.rerank.backends.torch import load_torch_model
    from crossrank.rerank.model_source import resolve_model

    files = resolve_model(base_model_path(base) if base in _BASES else base, backend="torch")
    if files.torch_weights() is None:
        return files, load_torch_model(files)
    architectures = files.config.get("architectures") or []
    labels = {} if any(a.endswith("ForSequenceClassification") for a in architectures) else {"num_labels": 1}
    return files, AutoModelForSequenceClassification.from_pretrained(str(files.root), **labels)


def choose_training_precision(device: str, precision: str) -> tuple[str, Any]:
    """(device, autocast dtype): bf16 on CPUs with bf16 matrix units and on CUDA cards that have it, else fp16
    on CUDA, else fp32."""
    import torch

    from crossrank.hardware import has_bf16_matmul

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InvalidInputError("--device cuda, but torch sees no CUDA device")
    if precision == "auto":
        if device.startswith("cuda"):
            precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        else:
            precision = "bf16" if has_bf16_matmul() else "fp32"
    dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
    if precision not in dtypes or (precision == "fp16" and device == "cpu"):
        raise InvalidInputError(f"--precision {precision!r} is not available on {device} (fp32, bf16; fp16 on CUDA)")
    return device, dtypes[precision]


def save_model(model: Any, encoder: PairEncoder, files: Any, target: Path, config: TrainConfig) -> None:
    """A transformers model folder crossrank's Reranker loads: weights, config, tokenizer.json, crossrank.json."""
    target.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(target))
    encoder.tokenizer.save(str(target / "tokenizer.json"))
    settings = {"max_length": config.max_length, "max_query_tokens": config.max_query_tokens, "base": config.base}
    (target / "crossrank.json").write_text(json.dumps(settings, indent=2) + "\n")


def _moving_average(model: Any, decay: float) -> Any:
    """An exponential moving average of `model`'s weights (torch's AveragedModel), or None when decay is 0."""
    if not decay:
        return None
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay))


def _teacher(spec: str | None) -> Any:
    if not spec:
        return None
    from crossrank.rerank.reranker import Reranker

    return Reranker(spec)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch so a run is reproducible."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def adamw(model: Any, learning_rate: float, head_learning_rate: float, weight_decay: float) -> Any:
    """AdamW with the classifier head on its own (usually higher) learning rate."""
    import torch

    head: list[Any] = []
    body: list[Any] = []
    for name, parameter in model.named_parameters():
        (head if name.startswith("classifier") else body).append(parameter)
    return torch.optim.AdamW(
        [{"params": body, "lr": learning_rate}, {"params": head, "lr": head_learning_rate}], weight_decay=weight_decay
    )


def linear_schedule(optimizer: Any, warmup_fraction: float, total_steps: int) -> Any:
    """Linear warm-up, then linear decay to zero at the last step."""
    import torch

    warmup = max(1, int(total_steps * warmup_fraction))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
