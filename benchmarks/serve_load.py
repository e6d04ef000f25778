"""Load test of `crossrank serve` on loopback: N concurrent clients for a fixed time, batching on against off.

Each client sends Cohere v2 requests (a query and `--docs` passages of the example corpus) back to back.
Reports requests, errors, pairs/s and latency p50/p99 for each server, and the batching speed-up, measured in
the same run on this machine (server and clients share its cores). The clients use aiohttp: an httpx client
spent so much of the shared CPU that it, not the server, set the pace (aiohttp comes with the test extra's
LlamaIndex; otherwise pip install aiohttp).

    python benchmarks/serve_load.py --clients 64 --seconds 60 --out bench-results/serve-load.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
QUERIES = [
    "how do JWT tokens expire",
    "keep a sourdough starter alive",
    "why do threads not speed up python",
    "how does a cross-encoder rank documents",
    "reclaim space from deleted rows in postgres",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(port: int, batching: bool) -> subprocess.Popen[bytes]:
    flag = "--batching" if batching else "--no-batching"
    command = [sys.executable, "-m", "crossrank.cli.main", "serve", "--port", str(port), flag]
    server = subprocess.Popen(command, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("server did not start")


async def load(url: str, clients: int, seconds: float, documents: list[str]) -> dict[str, float]:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds

    async def client(number: int, session: aiohttp.ClientSession) -> None:
        nonlocal errors
        turn = 0
        while time.monotonic() < stop:
            body = {"model": "default", "query": QUERIES[(number + turn) % len(QUERIES)], "documents": documents}
            started = time.perf_counter()
            try:
                async with session.post(f"{url}/v2/rerank", json=body) as answer:
                    await answer.read()
                    ok = answer.status == 200
            except aiohttp.ClientError:
                ok = False
            if ok:
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                errors += 1
            turn += 1

    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients), timeout=timeout) as session:
        started = time.monotonic()
        await asyncio.gather(*(client(n, session) for n in range(clients)))
        elapsed = time.monotonic() - started
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": elapsed,
        "pairs_per_s": len(latencies) * len(documents) / elapsed,
        "p50_ms": float(np.percentile(latencies, 50)) if latencies else 0.0,
        "p99_ms": float(np.percentile(latencies, 99)) if latencies else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--docs", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path("bench-results/serve-load.json"))
    args = parser.parse_args()
    corpus = [json.loads(line)["content"] for line in (REPO / "examples" / "docs.jsonl").read_text().splitlines()]
    documents = corpus[: args.docs]
    result: dict[str, object] = {"clients": args.clients, "seconds": args.seconds, "docs_per_request": args.docs}
    for batching in (True, False):
        port = free_port()
        server = start_server(port, batching)
        try:
            result["batching" if batching else "no_batching"] = asyncio.run(
                load(f"http://127.0.0.1:{port}", args.clients, args.seconds, documents)
            )
        finally:
            server.terminate()
            server.wait(timeout=60)
        print(json.dumps(result, indent=2), flush=True)
    on, off = result["batching"], result["no_batching"]
    result["speedup"] = on["pairs_per_s"] / off["pairs_per_s"]  # type: ignore[index]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
