"""Property-based requests generated from the server's own OpenAPI (schemathesis): no 5xx, and 4xx bodies say why."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

schemathesis = pytest.importorskip("schemathesis")


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_no_server_errors_and_named_client_errors(url, mode):
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/v2/rerank", "/v1/rerank", "/rerank", "/v1/search", "/health"}
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode)))
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case) -> None:
            response = case.call(timeout=60)
            where = f"{case.method} {case.path} -> {response.status_code}: {response.text[:300]}"
            assert response.status_code < 500, where
            if 400 <= response.status_code < 500:
                message = response.json().get("message")
                assert isinstance(message, str) and message.strip(), where

        try:
            check()
        except Unsatisfiable:  # nothing to make invalid (GET /health takes no input)
            assert mode == "negative" and operation.method.upper() == "GET"
