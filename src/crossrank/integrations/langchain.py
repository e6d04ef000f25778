"""LangChain: a document compressor backed by a crossrank Reranker.

    from crossrank.integrations.langchain import CrossrankRerank
    compressor = CrossrankRerank(reranker="default", top_n=3)   # or Reranker(...), "cohere:rerank-v3.5",
    docs = compressor.compress_documents(docs, "my query")      # "crossrank:http://host:8000"

Documents come back best first as copies: the same page_content and id, metadata with the score added
under `score_key`. The caller's documents are not modified.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import Callbacks
from langchain_core.documents import BaseDocumentCompressor, Document
from pydantic import ConfigDict, Field, field_validator

from crossrank.rerank.reranker import Reranker


class CrossrankRerank(BaseDocumentCompressor):
    """Rerank LangChain documents with a crossrank cross-encoder and keep the best `top_n`."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    reranker: Any = Field(default="default", validate_default=True)
    top_n: int | None = 3
    score_key: str = "relevance_score"

    @field_validator("reranker", mode="before")
    @classmethod
    def _load(cls, value: Any) -> Any:
        """A model spec (folder, hub id, "provider:model", "default") becomes a loaded Reranker."""
        return value if hasattr(value, "rerank") else Reranker(None if value == "default" else value)

    def compress_documents(
        self, documents: Sequence[Document], query: str, callbacks: Callbacks | None = None
    ) -> Sequence[Document]:
        if not documents:
            return []
        texts = [document.page_content for document in documents]
        results = self.reranker.rerank(query, texts, top_k=self.top_n)
        return [_with_score(documents[r.index], r.score, self.score_key) for r in results]


def _with_score(document: Document, score: float, key: str) -> Document:
    return document.model_copy(update={"metadata": {**document.metadata, key: score}}, deep=False)
