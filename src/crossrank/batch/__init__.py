"""Batch reranking of many (query, document) rows: streaming, resumable, locally or on Ray Data."""

from crossrank.batch.runner import BatchReport, rerank_batch

__all__ = ["BatchReport", "rerank_batch"]
