"""Long documents: cut into windows of `max_tokens_per_doc` tokens, score each, keep the best (as Cohere does)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from tokenizers import Tokenizer

from crossrank.errors import InvalidInputError


def chunk_spans(tokenizer: Tokenizer, text: str, max_tokens: int) -> list[tuple[int, int]]:
    """Character spans of consecutive windows of at most `max_tokens` tokens covering `text` (at least one)."""
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise InvalidInputError(f"max_tokens_per_doc must be a positive integer, got {max_tokens!r}")
    offsets = tokenizer.encode(text, add_special_tokens=False).offsets
    if len(offsets) <= max_tokens:
        return [(0, len(text))]
    spans = []
    for start in range(0, len(offsets), max_tokens):
        window = offsets[start : start + max_tokens]
        end = offsets[start + max_tokens][0] if start + max_tokens < len(offsets) else len(text)
        spans.append((window[0][0] if start else 0, end))
    return spans


def split_documents(
    tokenizer: Tokenizer, texts: Sequence[str], max_tokens: int
) -> tuple[list[str], list[int], list[tuple[int, int]]]:
    """Every chunk's text, the document it came from, and its span in that document."""
    chunks, owners, spans = [], [], []
    for index, text in enumerate(texts):
        for start, end in chunk_spans(tokenizer, text, max_tokens):
            chunks.append(text[start:end])
            owners.append(index)
            spans.append((start, end))
    return chunks, owners, spans


def best_chunks(
    logits: np.ndarray, owners: Sequence[int], spans: Sequence[tuple[int, int]], documents: int
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Per document, the highest chunk logit and that chunk's span."""
    best = np.full(documents, -np.inf, dtype=np.float32)
    best_span: list[tuple[int, int]] = [(0, 0)] * documents
    for logit, owner, span in zip(logits, owners, spans):
        if logit > best[owner]:
            best[owner], best_span[owner] = logit, span
    return best, best_span
