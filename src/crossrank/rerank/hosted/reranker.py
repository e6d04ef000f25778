"""`Reranker("cohere:rerank-v3.5")` and friends: a hosted API with the local Reranker's interface."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from crossrank.errors import AuthenticationError, InvalidInputError, ProviderUnavailableError
from crossrank.rerank.hosted.providers import Provider, parse_spec
from crossrank.rerank.hosted.transport import HostedClient, RetryPolicy
from crossrank.rerank.reranker import Reranker
from crossrank.rerank.scores import logit

_LOCAL_ONLY = (
    "backend",
    "device",
    "precision",
    "max_length",
    "max_query_tokens",
    "token_budget",
    "threads",
    "revision",
)


class HostedReranker(Reranker):
    """A hosted reranker: same `score`/`predict`/`rank`/`rerank`/`arerank` as a local model.

    Specs: `cohere:<model>` (v2 API; `api_version="v1"` for v1), `jina:<model>`, `voyage:<model>`,
    `tei:<url>` (Hugging Face Text Embeddings Inference), `crossrank:<url>` (a `crossrank serve`).
    The API key comes from `api_key=` or the provider's usual variable (COHERE_API_KEY, JINA_API_KEY,
    VOYAGE_API_KEY; optional TEI_API_KEY, CROSSRANK_API_KEY) and is never logged or shown.
    Probabilities are the provider's relevance scores (TEI: the sigmoid of its raw score); `raw=True`
    gives their log odds. Lists longer than the provider's per-request cap are split and merged in order.
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        api_version: str = "v2",
        timeout_s: float = 30.0,
        connect_timeout_s: float = 5.0,
        max_retries: int = 3,
        max_tokens_per_doc: int | None = None,
        truncation: bool = True,
        **local_options: Any,
    ):
        given = [name for name in local_options if name in _LOCAL_ONLY and local_options[name] not in (None, "auto")]
        unknown = [name for name in local_options if name not in _LOCAL_ONLY]
        if given or unknown:
            raise InvalidInputError(f"{model!r} is a hosted reranker: {', '.join(given + unknown)} do not apply")
        parsed = parse_spec(model)
        assert parsed is not None
        provider, target = parsed
        if provider.name == "cohere" and api_version == "v1":
            provider, target = parse_spec(f"cohere-v1:{target}") or parsed
        self.provider = provider
        self.model = "default" if provider.name in ("tei", "crossrank") else target
        self.spec = str(model)
        self.options = {"max_tokens_per_doc": max_tokens_per_doc, "truncation": truncation}
        url = base_url or (target if provider.name in ("tei", "crossrank") else provider.base_url)
        self.client = HostedClient(
            url.rstrip("/"),
            _api_key(provider, api_key),
            timeout_s=timeout_s,
            connect_timeout_s=connect_timeout_s,
            policy=RetryPolicy(retries=max_retries),
        )
        self.backend_name, self.device, self.precision = provider.name, "remote", "remote"
        self.max_length = max_tokens_per_doc or 0

    @property
    def model_name(self) -> str:
        return self.spec

    @property
    def fusion_weight(self) -> float:
        """Hosted cross-encoders are strong: used alone (1.0) unless a fusion weight is passed."""
        return 1.0

    def fusion_weight_for(self, first_stage: str | None) -> float:
        return 1.0

    def __repr__(self) -> str:
        return f"HostedReranker({self.spec!r}, provider={self.provider.name!r})"

    def close(self) -> None:
        self.client.close()

    # -- scoring --------------------------------------------------------------------------------

    def _score_texts(self, query: str, texts: list[str]) -> tuple[np.ndarray, list[bool]]:
        scores = np.empty(len(texts), dtype=np.float64)
        for start in range(0, len(texts), self.provider.max_documents):
            chunk = texts[start : start + self.provider.max_documents]
            for index, score in self._call(query, chunk):
                scores[start + index] = score
        logits = scores if self.provider.scores_are_logits else logit(scores)
        return logits.astype(np.float32), [False] * len(texts)  # providers do not say whether they truncated

    def _score_pairs(self, queries: list[str], documents: list[str]) -> np.ndarray:
        out = np.empty(len(queries), dtype=np.float32)
        groups: dict[str, list[int]] = {}
        for position, query in enumerate(queries):
            groups.setdefault(query, []).append(position)
        for query, positions in groups.items():
            logits, _ = self._score_texts(query, [documents[p] for p in positions])
            out[positions] = logits
        return out

    def _call(self, query: str, documents: Sequence[str]) -> list[tuple[int, float]]:
        body = self.provider.build(self.model, query, list(documents), self.options)
        answer = self.client.post(self.provider.path, body)
        try:
            results = self.provider.parse(answer)
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderUnavailableError(f"{self.provider.name} answered in an unexpected shape: {exc}") from exc
        indices = sorted(index for index, _ in results)
        if indices != list(range(len(documents))):
            raise ProviderUnavailableError(
                f"{self.provider.name} scored {len(results)} of {len(documents)} documents (indices {indices[:5]}...)"
            )
        return results


def _api_key(provider: Provider, given: str | None) -> str | None:
    if given:
        return given
    for variable in provider.key_variables:
        if os.environ.get(variable):
            return os.environ[variable]
    if provider.key_required:
        raise AuthenticationError(f"no API key for {provider.name}: pass api_key= or set {provider.key_variables[0]}")
    return None
