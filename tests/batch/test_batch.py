"""`crossrank rerank-batch`: streaming, exactly-once output after a kill, JSONL and Parquet, and Ray Data."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from crossrank.batch import rerank_batch
from crossrank.errors import InvalidInputError
from tests.private_network import run_isolated

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "docs.jsonl"
QUERIES = ["how do JWT tokens expire", "keep a sourdough starter alive", "why do threads not speed up python"]


def _rows(count: int) -> list[dict[str, str]]:
    corpus = [json.loads(line)["content"] for line in EXAMPLES.read_text().splitlines()]
    return [
        {"query_id": f"q{i // 20}", "query": QUERIES[(i // 20) % 3], "doc_id": f"d{i}", "text": corpus[i % len(corpus)]}
        for i in range(count)
    ]


def _write_inputs(folder: Path, count: int) -> tuple[Path, Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = _rows(count)
    jsonl = folder / "pairs.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    parquet = folder / "pairs.parquet"
    pq.write_table(pa.Table.from_pylist(rows), parquet, row_group_size=max(1, count // 3))
    return jsonl, parquet


def _output(folder: Path):
    import pyarrow.dataset as ds

    return ds.dataset(folder, format="parquet").to_table().sort_by("row")


@pytest.fixture(scope="module")
def default_reranker():
    """What rerank-batch loads by default (the fastest backend here), to compare scores like for like."""
    from crossrank import Reranker

    return Reranker()


def _expected(reranker, count: int) -> np.ndarray:
    rows = _rows(count)
    return reranker.predict([(r["query"], r["text"]) for r in rows])


def test_jsonl_and_parquet_give_every_pair_once_with_the_rerankers_scores(tmp_path, default_reranker):
    jsonl, parquet = _write_inputs(tmp_path, 700)
    expected = _expected(default_reranker, 700)
    for source in (jsonl, parquet):
        report = rerank_batch(source, tmp_path / f"out-{source.suffix[1:]}", chunk_rows=128, show_progress=False)
        assert report.rows == 700 and report.chunks_scored == report.chunks
        table = _output(tmp_path / f"out-{source.suffix[1:]}")
        assert table["row"].to_pylist() == list(range(700))
        assert table["doc_id"].to_pylist() == [f"d{i}" for i in range(700)]
        np.testing.assert_allclose(table["score"].to_numpy(), expected, atol=1e-4)


def test_killed_at_half_then_restarted_scores_every_pair_exactly_once(tmp_path, default_reranker):
    jsonl, _ = _write_inputs(tmp_path, 12_000)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "crossrank.cli.main", "rerank-batch", str(jsonl), "-o", str(out)]
    command += ["--chunk-rows", "250", "--quiet"]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(list(out.glob("part-*.parquet"))) < 24 and time.monotonic() < deadline:  # half of 48 chunks
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    done = len(list(out.glob("part-*.parquet")))
    assert 24 <= done < 48, f"{done} chunks were done at the kill; the test wants it mid-run"
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["chunks_resumed"] == done and report["chunks_scored"] == 48 - done
    table = _output(out)
    assert table["row"].to_pylist() == list(range(12_000))  # each row once: none lost, none twice
    np.testing.assert_allclose(table["score"].to_numpy(), _expected(default_reranker, 12_000), atol=1e-4)
    assert not list(out.glob("*.tmp"))


def test_bad_input_and_a_mismatched_output_are_refused(tmp_path):
    jsonl, _ = _write_inputs(tmp_path, 50)
    rerank_batch(jsonl, tmp_path / "out", chunk_rows=10, show_progress=False)
    with pytest.raises(InvalidInputError, match="chunk_rows"):
        rerank_batch(jsonl, tmp_path / "out", chunk_rows=20, show_progress=False)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"query_id": "q", "query": "a", "doc_id": "d", "text": "t"}\n{"query_id": "q", "query": "a"}\n')
    result = subprocess.run(
        [sys.executable, "-m", "crossrank.cli.main", "rerank-batch", str(broken), "-o", str(tmp_path / "b")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: {broken}: row 2: 'text' is missing or not a string"]
    assert not (tmp_path / "b").exists()


def test_ray_data_finishes_a_run_begun_locally(tmp_path):
    _, parquet = _write_inputs(tmp_path, 3_000)
    out = tmp_path / "out"
    local = rerank_batch(parquet, out, chunk_rows=200, show_progress=False)
    for part in sorted(out.glob("part-*.parquet"))[::2]:  # as if a crash had lost every other chunk
        part.unlink()
    (out / "_SUCCESS").unlink()
    code = f"""
import json
from crossrank.batch import rerank_batch
report = rerank_batch({str(parquet)!r}, {str(out)!r}, chunk_rows=200, use_ray=True, workers=2, show_progress=False)
print(json.dumps(report.__dict__))
"""
    report = run_isolated(code, timeout=240)
    assert report["chunks_scored"] == (local.chunks + 1) // 2 and report["rows"] == 3_000
    assert _output(out)["row"].to_pylist() == list(range(3_000))
    assert os.path.exists(out / "_SUCCESS")
