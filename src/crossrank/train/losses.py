"""Ranking losses over groups of scores: row 0 of each group is the positive, the rest are negatives."""

from __future__ import annotations

from typing import Any

LOSSES = ("listwise", "bce", "margin-mse")


def listwise_loss(scores: Any) -> Any:
    """Softmax cross-entropy of the positive against its negatives (InfoNCE over one query's group)."""
    import torch

    targets = torch.zeros(scores.shape[0], dtype=torch.long, device=scores.device)
    return torch.nn.functional.cross_entropy(scores, targets)


def pointwise_bce_loss(scores: Any) -> Any:
    """Binary cross-entropy per pair: the positive labelled 1, each negative 0."""
    import torch

    labels = torch.zeros_like(scores)
    labels[:, 0] = 1.0
    return torch.nn.functional.binary_cross_entropy_with_logits(scores, labels)


def margin_mse_loss(scores: Any, teacher: Any) -> Any:
    """MarginMSE (Hofstaetter et al.): the student's positive-minus-negative margins match the teacher's."""
    import torch

    student_margin = scores[:, :1] - scores[:, 1:]
    teacher_margin = teacher[:, :1] - teacher[:, 1:]
    return torch.nn.functional.mse_loss(student_margin, teacher_margin)


def group_loss(name: str, scores: Any, teacher: Any | None = None) -> Any:
    """The named loss of a (queries, group) score matrix."""
    if name == "listwise":
        return listwise_loss(scores)
    if name == "bce":
        return pointwise_bce_loss(scores)
    if name == "margin-mse":
        if teacher is None:
            raise ValueError("margin-mse needs a teacher's scores")
        return margin_mse_loss(scores, teacher)
    raise ValueError(f"loss must be one of {LOSSES}, not {name!r}")
