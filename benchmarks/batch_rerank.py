"""Batch reranking at scale: `crossrank rerank-batch` on N pairs against the in-process reranker, peak memory,
and a run killed at 50% then restarted (every pair scored exactly once).

Input: SciFact test queries, each against 20 passages (the first 64 words of SciFact abstracts), written as
Parquet in row groups of 100k. The reference is `Reranker.predict` on the first 20,000 pairs in the same run.

    python benchmarks/batch_rerank.py --pairs 1000000 --out bench-results/batch-rerank.json [--ray-pairs 200000]

With --ray-pairs, run it inside a private network namespace (Ray binds beyond loopback):
    unshare -n sh -c 'ip link set lo up && exec python benchmarks/batch_rerank.py --ray-pairs 200000'
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from crossrank import Reranker
from crossrank.eval.beir import load_beir

PER_QUERY = 20
WORDS = 64


def write_input(data: Path, pairs: int, target: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    dataset = load_beir(data / "scifact", "test")
    passages = [" ".join(d.content.split()[:WORDS]) for d in dataset.corpus.values()]
    queries = list(dataset.queries.items())
    writer = None
    for start in range(0, pairs, 100_000):
        rows = range(start, min(pairs, start + 100_000))
        query_of = [queries[(i // PER_QUERY) % len(queries)] for i in rows]
        table = pa.table(
            {
                "query_id": [f"{q[0]}-{i // PER_QUERY}" for q, i in zip(query_of, rows)],
                "query": [q[1] for q in query_of],
                "doc_id": [f"p{i}" for i in rows],
                "text": [passages[(i * 7919) % len(passages)] for i in rows],
            }
        )
        writer = writer or pq.ParquetWriter(target, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


def in_process_rate(source: Path, count: int = 20_000) -> float:
    import pyarrow.parquet as pq

    table = pq.ParquetFile(source).read_row_group(0).slice(0, count).to_pydict()
    pairs = list(zip(table["query"], table["text"]))
    reranker = Reranker()
    reranker.predict(pairs[:256])
    started = time.perf_counter()
    for i in range(0, len(pairs), 10_000):
        reranker.predict(pairs[i : i + 10_000])
    return len(pairs) / (time.perf_counter() - started)


def run_batch(source: Path, out: Path, extra: list[str], kill_at_fraction: float | None = None) -> dict:
    """Run the CLI; poll its peak RSS (VmHWM); optionally SIGKILL it once that fraction of parts exists."""
    command = [sys.executable, "-m", "crossrank.cli.main", "rerank-batch", str(source), "-o", str(out), "--quiet"]
    started = time.perf_counter()
    child = subprocess.Popen(command + extra, stdout=subprocess.PIPE, text=True)
    peak_kb, total = 0, None
    while child.poll() is None:
        peak_kb = max(peak_kb, _peak_rss_kb(child.pid))
        if kill_at_fraction is not None:
            manifest = out / "_manifest.json"
            total = total or (json.loads(manifest.read_text())["chunks"] if manifest.is_file() else None)
            if total and len(list(out.glob("part-*.parquet"))) >= total * kill_at_fraction:
                child.send_signal(signal.SIGKILL)
                child.wait()
                return {"killed_after_s": time.perf_counter() - started, "parts": len(list(out.glob("part-*.parquet")))}
        time.sleep(0.2)
    report = json.loads(child.stdout.read() if child.stdout else "{}")
    return {**report, "wall_s": time.perf_counter() - started, "peak_rss_mb": peak_kb / 1024}


def _peak_rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def exactly_once(out: Path, pairs: int) -> bool:
    import pyarrow.dataset as ds

    rows = np.sort(ds.dataset(out, format="parquet").to_table(columns=["row"])["row"].to_numpy())
    return bool(rows.size == pairs and np.array_equal(rows, np.arange(pairs)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--ray-pairs", type=int, default=0, help="also time --ray on this many pairs (0: skip)")
    parser.add_argument("--out", type=Path, default=Path("bench-results/batch-rerank.json"))
    args = parser.parse_args()
    result: dict[str, object] = {"pairs": args.pairs, "cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        source = root / "pairs.parquet"
        write_input(args.data, args.pairs, source)
        result["in_process_pairs_per_s"] = in_process_rate(source)
        clean = run_batch(source, root / "clean", [])
        result["clean"] = clean
        result["ratio_to_in_process"] = clean["pairs_per_s"] / result["in_process_pairs_per_s"]  # type: ignore[operator]
        result["clean_exactly_once"] = exactly_once(root / "clean", args.pairs)
        print(json.dumps(result, indent=2), flush=True)
        killed = run_batch(source, root / "killed", [], kill_at_fraction=0.5)
        resumed = run_batch(source, root / "killed", [])
        result["killed"] = {"at": killed, "resumed": resumed, "exactly_once": exactly_once(root / "killed", args.pairs)}
        if args.ray_pairs:
            small = root / "small.parquet"
            write_input(args.data, args.ray_pairs, small)
            local = run_batch(small, root / "small-local", [])
            on_ray = run_batch(small, root / "small-ray", ["--ray"])
            result["ray"] = {"pairs": args.ray_pairs, "local": local, "ray": on_ray}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
