"""Durability: a process killed with SIGKILL mid-ingest loses no committed document, and the store reopens."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from crossrank.retrieve.store import LanceStore

WRITER = """
import sys
from crossrank.retrieve.store import LanceStore
from crossrank.retrieve.embedder import Embedder
store = LanceStore(sys.argv[1], Embedder(backend="onnx", precision="fp32"))
for batch in range(1000):
    docs = [{"id": f"b{batch}-{i}", "content": f"batch {batch} document {i} about tokens and sourdough"}
            for i in range(50)]
    store.add(docs, batch_size=25)
    print(f"committed {batch}", flush=True)
"""


def test_sigkill_during_ingest_loses_no_committed_document(tmp_path, embedder):
    path = tmp_path / "kb"
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    committed = -1
    deadline = time.monotonic() + 120
    assert child.stdout is not None
    while committed < 3 and time.monotonic() < deadline:
        line = child.stdout.readline()
        if line.startswith("committed"):
            committed = int(line.split()[1])
    time.sleep(0.05)  # land somewhere inside the next batch
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert committed >= 3, "the writer never committed"

    store = LanceStore(path, embedder)
    expected = [f"b{batch}-{i}" for batch in range(committed + 1) for i in range(50)]
    assert len(store.get(expected)) == len(expected)
    assert store.count() >= len(expected)
    store.add([{"id": "after-crash", "content": "written after the crash"}])
    assert store.get(["after-crash"])[0].content == "written after the crash"
    assert store.keyword_search("sourdough", 3)
