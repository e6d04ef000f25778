"""A real uvicorn server on 127.0.0.1 in a thread, for each app under test."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

KEY = "s3cret-key"


@contextlib.contextmanager
def running(app) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def url(reranker):
    from crossrank.serve.app import create_app

    with running(create_app(reranker, max_body_bytes=1024 * 1024)) as address:
        yield address


@pytest.fixture(scope="module")
def locked_url(reranker):
    from crossrank.serve.app import create_app

    with running(create_app(reranker, api_key=KEY)) as address:
        yield address
