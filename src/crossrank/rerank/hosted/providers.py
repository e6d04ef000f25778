"""Each provider's documented request and response, and its limits.

Cohere v2 `POST /v2/rerank` {model, query, documents, top_n, max_tokens_per_doc} -> {results: [{index,
relevance_score}], meta}; v1 `POST /v1/rerank` adds return_documents. Jina `POST /v1/rerank` {model, query,
documents, top_n} -> {results: [...]}. Voyage `POST /v1/rerank` {query, documents, model, top_k, truncation} ->
{data: [{index, relevance_score}]}. TEI `POST /rerank` {query, texts, raw_scores, truncate} -> [{index, score}].
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from crossrank.errors import InvalidInputError, ModelNotFoundError


@dataclass(frozen=True)
class Provider:
    """How to talk to one hosted reranker."""

    name: str
    base_url: str
    path: str
    key_variables: tuple[str, ...]  # environment variables holding the API key, first found wins
    key_required: bool
    max_documents: int  # per request; longer lists are split and merged back
    build: Callable[[str, str, list[str], Mapping[str, Any]], dict[str, Any]]
    parse: Callable[[Any], list[tuple[int, float]]]
    scores_are_logits: bool = False  # TEI with raw_scores; the others return probabilities in [0, 1]


def _cohere_v2(model: str, query: str, documents: list[str], options: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "query": query, "documents": documents}
    if options.get("max_tokens_per_doc"):
        body["max_tokens_per_doc"] = int(options["max_tokens_per_doc"])
    return body


def _cohere_v1(model: str, query: str, documents: list[str], options: Mapping[str, Any]) -> dict[str, Any]:
    return {"model": model, "query": query, "documents": documents, "return_documents": False}


def _jina(model: str, query: str, documents: list[str], options: Mapping[str, Any]) -> dict[str, Any]:
    return {"model": model, "query": query, "documents": documents, "top_n": len(documents), "return_documents": False}


def _voyage(model: str, query: str, documents: list[str], options: Mapping[str, Any]) -> dict[str, Any]:
    return {"query": query, "documents": documents, "model": model, "truncation": bool(options.get("truncation", True))}


def _tei(model: str, query: str, documents: list[str], options: Mapping[str, Any]) -> dict[str, Any]:
    return {"query": query, "texts": documents, "raw_scores": True, "truncate": bool(options.get("truncation", True))}


def _results(key: str, score: str = "relevance_score") -> Callable[[Any], list[tuple[int, float]]]:
    def parse(body: Any) -> list[tuple[int, float]]:
        items = body.get(key) if isinstance(body, dict) else body if key == "" else None
        if not isinstance(items, list):
            raise ValueError(f"expected a list under {key or 'the top level'!r}")
        return [(int(item["index"]), float(item[score])) for item in items]

    return parse


PROVIDERS: dict[str, Provider] = {
    "cohere": Provider(
        "cohere",
        "https://api.cohere.com",
        "/v2/rerank",
        ("COHERE_API_KEY", "CO_API_KEY"),
        True,
        1000,
        _cohere_v2,
        _results("results"),
    ),
    "cohere-v1": Provider(
        "cohere-v1",
        "https://api.cohere.com",
        "/v1/rerank",
        ("COHERE_API_KEY", "CO_API_KEY"),
        True,
        1000,
        _cohere_v1,
        _results("results"),
    ),
    "jina": Provider(
        "jina", "https://api.jina.ai", "/v1/rerank", ("JINA_API_KEY",), True, 1000, _jina, _results("results")
    ),
    "voyage": Provider(
        "voyage", "https://api.voyageai.com", "/v1/rerank", ("VOYAGE_API_KEY",), True, 1000, _voyage, _results("data")
    ),
    "tei": Provider(
        "tei", "", "/rerank", ("TEI_API_KEY",), False, 32, _tei, _results("", "score"), scores_are_logits=True
    ),
    "crossrank": Provider(
        "crossrank", "", "/v2/rerank", ("CROSSRANK_API_KEY",), False, 1000, _cohere_v2, _results("results")
    ),
}


def parse_spec(spec: object) -> tuple[Provider, str] | None:
    """`provider:model` (or `tei:URL`, `crossrank:URL`) -> (provider, model or URL); None for a local model."""
    if not isinstance(spec, str) or ":" not in spec or spec.startswith(("/", ".", "~")):
        return None
    name, _, target = spec.partition(":")
    if name not in PROVIDERS:
        if name in ("http", "https"):
            raise ModelNotFoundError(
                f"{spec!r} is a URL: say which API it speaks, e.g. 'tei:{spec}' or 'crossrank:{spec}'"
            )
        return None
    if not target:
        raise InvalidInputError(f"{spec!r} names no model: use '{name}:<model>'")
    if name in ("tei", "crossrank") and not target.startswith(("http://", "https://")):
        raise InvalidInputError(f"{name} needs the server's URL: '{name}:http://host:port'")
    return PROVIDERS[name], target
