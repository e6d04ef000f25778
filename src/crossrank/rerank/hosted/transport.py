"""HTTP to a hosted reranker: timeouts, retries with exponential backoff and jitter, Retry-After, typed errors."""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from dataclasses import dataclass
from typing import Any

from crossrank.errors import (
    AuthenticationError,
    BackendUnavailableError,
    ProviderError,
    ProviderRequestError,
    ProviderUnavailableError,
    RateLimitError,
)

log = logging.getLogger("crossrank.hosted")
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 30.0


@dataclass(frozen=True)
class RetryPolicy:
    """Up to `retries` more tries; waits base * 2^attempt (capped) plus jitter, or what Retry-After asks."""

    retries: int = 3
    base_s: float = 0.5
    cap_s: float = 8.0

    def wait(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER_S)
        backoff = min(self.cap_s, self.base_s * 2**attempt)
        return backoff / 2 + random.uniform(0, backoff / 2)  # "equal jitter": never 0, never in lockstep


class HostedClient:
    """One httpx client per reranker (connection reuse); `post` returns the parsed JSON body or raises."""

    def __init__(
        self, base_url: str, api_key: str | None, *, timeout_s: float, connect_timeout_s: float, policy: RetryPolicy
    ):
        try:
            import httpx
        except ImportError as exc:  # pragma: no cover - httpx is a core dependency
            raise BackendUnavailableError("hosted rerankers need httpx: pip install httpx") from exc
        self._httpx = httpx
        headers = {"Accept": "application/json", "User-Agent": "crossrank"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        timeout = httpx.Timeout(timeout_s, connect=connect_timeout_s)
        self._client = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)
        self.policy = policy

    def __repr__(self) -> str:  # never shows the key
        return f"HostedClient(base_url={str(self._client.base_url)!r})"

    def close(self) -> None:
        self._client.close()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        last: ProviderError | None = None
        for attempt in range(self.policy.retries + 1):
            if attempt:
                wait = self.policy.wait(attempt - 1, getattr(last, "retry_after", None))
                log.info("retrying %s in %.2f s after: %s", path, wait, last)
                time.sleep(wait)
            try:
                return self._once(path, body)
            except (RateLimitError, ProviderUnavailableError) as error:
                last = error
        assert last is not None
        raise last

    def _once(self, path: str, body: dict[str, Any]) -> Any:
        httpx = self._httpx
        try:
            response = self._client.post(path, json=body)
        except httpx.TimeoutException as exc:
            raise ProviderUnavailableError(f"{self._where(path)} timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailableError(f"could not reach {self._where(path)}: {exc}") from exc
        if response.status_code >= 400:
            raise self._error(path, response)
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ProviderUnavailableError(
                f"{self._where(path)} answered {response.status_code} with invalid JSON"
            ) from exc

    def _error(self, path: str, response: Any) -> ProviderError:
        status, detail = response.status_code, _detail(response)
        where = self._where(path)
        if status in (401, 403):
            return AuthenticationError(f"{where} refused the API key ({status}): {detail}", status)
        if status == 429:
            error: ProviderError = RateLimitError(f"{where} is rate limiting (429): {detail}", status)
        elif status in RETRY_STATUSES:
            error = ProviderUnavailableError(f"{where} failed ({status}): {detail}", status)
        else:
            return ProviderRequestError(f"{where} rejected the request ({status}): {detail}", status)
        error.retry_after = _retry_after(response.headers.get("Retry-After"))  # type: ignore[attr-defined]
        return error

    def _where(self, path: str) -> str:
        return f"{self._client.base_url.host}{path}"


def _detail(response: Any) -> str:
    """The provider's own message: Cohere {message}, Jina/Voyage {detail}, TEI {error}; else the text."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or "(empty body)"
    if isinstance(body, dict):
        for key in ("message", "detail", "error"):
            if key in body:
                return str(body[key])[:300]
    return str(body)[:200]


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds or as an HTTP date."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        moment = email.utils.parsedate_to_datetime(value) if value else None
        return max(moment.timestamp() - time.time(), 0.0) if moment else None
