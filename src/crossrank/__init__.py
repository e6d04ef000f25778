"""crossrank: retrieve-then-rerank search with cross-encoders, fast on the hardware you have."""

from __future__ import annotations

from crossrank.errors import BackendUnavailableError, CrossrankError, InvalidInputError, ModelNotFoundError
from crossrank.rerank.reranker import Reranker
from crossrank.rerank.results import RerankResult

__version__ = "0.1.0"

__all__ = [
    "BackendUnavailableError",
    "CrossrankError",
    "InvalidInputError",
    "ModelNotFoundError",
    "RerankResult",
    "Reranker",
    "__version__",
]
