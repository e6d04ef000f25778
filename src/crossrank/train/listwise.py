"""Fine-tune a cross-encoder with a listwise loss: one positive against hard negatives, softmax cross-entropy."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crossrank.rerank.encoding import PairEncoder
from crossrank.train.mining import TrainingQuery
from crossrank.train.trainer import adamw, linear_schedule, pair_logits, seed_everything


@dataclass
class ListwiseConfig:
    """Hyper-parameters of a listwise fine-tuning run."""

    steps: int = 3000
    queries_per_step: int = 16
    group_size: int = 8  # 1 positive + (group_size - 1) negatives
    learning_rate: float = 3e-4
    head_learning_rate: float = 3e-3
    warmup_fraction: float = 0.05
    weight_decay: float = 0.01
    max_length: int = 256
    max_query_tokens: int = 64
    bf16: bool = True
    seed: int = 13
    eval_every: int = 500


def sample_group(query: TrainingQuery, size: int, rng: random.Random) -> list[str]:
    """One positive then size-1 negatives (with replacement only when too few were mined)."""
    positive = rng.choice(query.positives)
    pool = query.negatives
    if len(pool) >= size - 1:
        negatives = rng.sample(pool, size - 1)
    else:
        negatives = [rng.choice(pool) for _ in range(size - 1)] if pool else []
    return [positive, *negatives]


def model_logits(model: Any, encoder: PairEncoder, queries: Sequence[str], docs: Sequence[str]) -> Any:
    """Forward pass of a transformers classifier on (query, doc) pairs; returns a (n,) logit tensor."""
    return pair_logits(model, encoder, queries, docs)


def train_listwise(
    base: str | Path,
    queries: list[TrainingQuery],
    config: ListwiseConfig,
    validate: Callable[[Any, PairEncoder], float] | None = None,
    log: Callable[[str], None] = print,
) -> tuple[Any, PairEncoder, list[dict[str, float]]]:
    """Train from `base` (a folder with a BERT-style encoder); returns the best model by validation."""
    import copy

    import torch
    from tqdm.auto import tqdm
    from transformers import AutoModelForSequenceClassification

    seed_everything(config.seed)
    rng = random.Random(config.seed)
    encoder = PairEncoder.from_file(base, config.max_length, config.max_query_tokens)
    model = AutoModelForSequenceClassification.from_pretrained(str(base), num_labels=1)
    optimizer = adamw(model, config.learning_rate, config.head_learning_rate, config.weight_decay)
    scheduler = linear_schedule(optimizer, config.warmup_fraction, config.steps)
    usable = [q for q in queries if q.negatives]
    history: list[dict[str, float]] = []
    best_score, best_state = -math.inf, None
    running = 0.0
    progress = tqdm(range(1, config.steps + 1), desc="train", unit="step")
    for step in progress:
        model.train()
        chosen = [rng.choice(usable) for _ in range(config.queries_per_step)]
        texts = [sample_group(q, config.group_size, rng) for q in chosen]
        flat_queries = [q.text for q, group in zip(chosen, texts) for _ in group]
        flat_docs = [doc for group in texts for doc in group]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.bf16):
            logits = model_logits(model, encoder, flat_queries, flat_docs)
        scores = logits.float().view(config.queries_per_step, config.group_size)
        loss = torch.nn.functional.cross_entropy(scores, torch.zeros(len(chosen), dtype=torch.long))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
        progress.set_postfix(loss=f"{running:.3f}")
        if validate is not None and (step % config.eval_every == 0 or step == config.steps):
            model.eval()
            score = validate(model, encoder)
            history.append({"step": step, "loss": running, "val_ndcg@10": score})
            log(f"step {step}: loss {running:.4f} val nDCG@10 {score:.4f}")
            if score > best_score:
                best_score, best_state = score, copy.deepcopy(model.state_dict())
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return model, encoder, history
