"""Local fakes of the hosted rerank APIs, over real HTTP on loopback, following each provider's documented contract.

Relevance is word overlap: p = overlap / (overlap + 1). Faults are queued per server and consumed one per
request: ("status", code, headers), ("malformed",), ("slow", seconds), ("drop",).
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

KEY = "test-key-123"
PATHS = {
    "cohere": "/v2/rerank",
    "cohere-v1": "/v1/rerank",
    "jina": "/v1/rerank",
    "voyage": "/v1/rerank",
    "tei": "/rerank",
}
ERROR_KEY = {"cohere": "message", "cohere-v1": "message", "jina": "detail", "voyage": "detail", "tei": "error"}
LIMITS = {"cohere": 10_000, "cohere-v1": 10_000, "jina": 2048, "voyage": 1000, "tei": 32}


def relevance(query: str, document: str) -> float:
    words = set(re.findall(r"\w+", query.lower()))
    overlap = len(words & set(re.findall(r"\w+", document.lower())))
    return overlap / (overlap + 1)


class FakeProvider:
    """One provider's API on 127.0.0.1, in a thread."""

    def __init__(self, kind: str, key: str | None = KEY):
        self.kind, self.key = kind, key
        self.faults: deque[tuple[Any, ...]] = deque()
        self.requests: list[dict[str, Any]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "raw": raw})
                fault = fake.faults.popleft() if fake.faults else None
                if fault and fault[0] == "drop":
                    self.connection.close()
                    return
                if fault and fault[0] == "slow":
                    time.sleep(fault[1])
                if fault and fault[0] == "status":
                    self._send(
                        fault[1], {ERROR_KEY[fake.kind]: f"injected {fault[1]}"}, fault[2] if len(fault) > 2 else {}
                    )
                    return
                if fault and fault[0] == "malformed":
                    self._raw(200, b'{"results": [')
                    return
                status, body = fake.answer(self.path, self.headers.get("Authorization"), raw)
                self._send(status, body)

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                self._raw(status, json.dumps(body).encode(), headers)

            def _raw(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

        return Handler

    def answer(self, path: str, authorization: str | None, raw: bytes) -> tuple[int, Any]:
        error = ERROR_KEY[self.kind]
        if path != PATHS[self.kind]:
            return 404, {error: f"no route {path}"}
        if self.key is not None and authorization != f"Bearer {self.key}":
            return 401, {error: "invalid api token" if self.kind.startswith("cohere") else "Unauthorized"}
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            return 400, {error: "invalid JSON body"}
        documents = body.get("texts" if self.kind == "tei" else "documents")
        if not isinstance(body.get("query"), str) or not isinstance(documents, list):
            return (422 if self.kind == "tei" else 400), {error: "query and documents are required"}
        if len(documents) > LIMITS[self.kind]:
            message = f"batch size {len(documents)} > maximum allowed batch size {LIMITS[self.kind]}"
            return (413 if self.kind == "tei" else 400), {error: message}
        if self.kind != "tei" and not body.get("model"):
            return 400, {error: "model is required"}
        scored = sorted(
            ((i, relevance(body["query"], d if isinstance(d, str) else d["text"])) for i, d in enumerate(documents)),
            key=lambda item: -item[1],
        )
        return 200, self._shape(body, scored)

    def _shape(self, body: dict[str, Any], scored: list[tuple[int, float]]) -> Any:
        if self.kind == "tei":
            raw = bool(body.get("raw_scores"))
            return [{"index": i, "score": _logit(p) if raw else p} for i, p in scored]
        limit = body.get("top_k" if self.kind == "voyage" else "top_n") or len(scored)
        results = [{"index": i, "relevance_score": p} for i, p in scored[:limit]]
        if self.kind == "voyage":
            return {"object": "list", "data": results, "model": body["model"], "usage": {"total_tokens": 10}}
        if self.kind == "jina":
            return {"model": body["model"], "usage": {"total_tokens": 10}, "results": results}
        version = "2" if self.kind == "cohere" else "1"
        return {
            "id": str(uuid.uuid4()),
            "results": results,
            "meta": {"api_version": {"version": version}, "billed_units": {"search_units": 1}},
        }


def _logit(p: float) -> float:
    p = min(max(p, 1e-7), 1 - 1e-7)
    return math.log(p / (1 - p))
