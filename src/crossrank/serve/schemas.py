"""Request and response bodies: Cohere's rerank schema (v1 and v2), TEI's, and crossrank's search."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class TextDocument(BaseModel):
    text: str


class CohereRerankRequest(BaseModel):
    """Cohere `POST /v2/rerank` (and v1): documents as strings or {text}; `model` is accepted and echoed."""

    model_config = ConfigDict(extra="ignore")
    model: str | None = None
    query: str = Field(min_length=1)
    documents: list[str | TextDocument] = Field(min_length=1)
    top_n: int | None = Field(default=None, ge=1)
    return_documents: bool = False
    max_tokens_per_doc: int | None = Field(default=None, ge=1, le=32_768)
    max_chunks_per_doc: int | None = Field(default=None, ge=1)


class CohereResult(BaseModel):
    index: int
    relevance_score: float
    document: TextDocument | None = None
    chunk: tuple[int, int] | None = None  # crossrank's addition: the best window, when documents were chunked


class CohereRerankResponse(BaseModel):
    id: str
    results: list[CohereResult]
    meta: dict[str, Any]


class TeiRerankRequest(BaseModel):
    """TEI `POST /rerank`."""

    model_config = ConfigDict(extra="ignore")
    query: str = Field(min_length=1)
    texts: list[str] = Field(min_length=1)
    raw_scores: bool = False
    return_text: bool = False
    truncate: bool = False
    truncation_direction: Literal["Right", "Left", "right", "left"] = "Right"


class TeiRank(BaseModel):
    index: int
    score: float
    text: str | None = None


class SearchRequest(BaseModel):
    """crossrank `POST /v1/search`: the retrieve -> rerank -> score pipeline over the server's store."""

    query: str = Field(min_length=1)
    top_k: int = Field(default=5, ge=1, le=1000)
    candidates_k: int = Field(default=30, ge=1, le=1000)
    budget_ms: float | None = Field(default=None, gt=0)
    filter: dict[str, Any] | None = None
