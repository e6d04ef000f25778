"""LlamaIndex: a node postprocessor backed by a crossrank Reranker.

    from crossrank.integrations.llamaindex import CrossrankRerank
    query_engine = index.as_query_engine(node_postprocessors=[CrossrankRerank(reranker="default", top_n=3)])

Nodes come back best first as new NodeWithScore objects holding the same node, with the score in `score`
and in the node's metadata under `score_key` (on a copy of the node; the caller's nodes are not modified).
"""

from __future__ import annotations

from typing import Any

from llama_index.core.bridge.pydantic import ConfigDict, Field, field_validator
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle

from crossrank.errors import InvalidInputError
from crossrank.rerank.reranker import Reranker


class CrossrankRerank(BaseNodePostprocessor):
    """Rerank retrieved nodes with a crossrank cross-encoder and keep the best `top_n`."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    reranker: Any = Field(
        default="default", validate_default=True, description="A Reranker or a model spec crossrank can load."
    )
    top_n: int | None = Field(default=3)
    score_key: str = Field(default="relevance_score")

    @field_validator("reranker", mode="before")
    @classmethod
    def _load(cls, value: Any) -> Any:
        return value if hasattr(value, "rerank") else Reranker(None if value == "default" else value)

    @classmethod
    def class_name(cls) -> str:
        return "CrossrankRerank"

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        if query_bundle is None:
            raise InvalidInputError("CrossrankRerank needs the query (a QueryBundle)")
        if not nodes:
            return []
        texts = [n.node.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]
        results = self.reranker.rerank(query_bundle.query_str, texts, top_k=self.top_n)
        out = []
        for result in results:
            node = nodes[result.index].node.model_copy()
            node.metadata = {**node.metadata, self.score_key: result.score}
            out.append(NodeWithScore(node=node, score=result.score))
        return out
