"""crossrank: retrieve-then-rerank search with cross-encoders, fast on the hardware you have."""

from __future__ import annotations

from crossrank.errors import BackendUnavailableError, CrossrankError, InvalidInputError, ModelNotFoundError
from crossrank.pipeline import Pipeline, SearchHit, SearchResponse
from crossrank.rerank.reranker import Reranker
from crossrank.rerank.results import RerankResult
from crossrank.retrieve.documents import Document, Retrieved
from crossrank.retrieve.embedder import Embedder
from crossrank.retrieve.retrievers import HybridRetriever, Retriever, store_retriever
from crossrank.retrieve.store import LanceStore

__version__ = "0.1.0"

__all__ = [
    "BackendUnavailableError",
    "CrossrankError",
    "Document",
    "Embedder",
    "HybridRetriever",
    "InvalidInputError",
    "LanceStore",
    "ModelNotFoundError",
    "Pipeline",
    "RerankResult",
    "Reranker",
    "Retrieved",
    "Retriever",
    "SearchHit",
    "SearchResponse",
    "__version__",
    "store_retriever",
]
