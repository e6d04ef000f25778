"""The serving engine without HTTP: N concurrent callers for a fixed time, batching on against off, same run.

python benchmarks/serve_engine.py --callers 64 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

from crossrank import Reranker
from crossrank.serve.engine import BatchingEngine

REPO = Path(__file__).resolve().parents[1]


async def run(
    reranker: Reranker, batching: bool, callers: int, seconds: float, documents: list[str]
) -> dict[str, float]:
    engine = BatchingEngine(reranker, batching=batching)
    await engine.start()
    done = 0
    stop = time.monotonic() + seconds

    async def caller(number: int) -> None:
        nonlocal done
        while time.monotonic() < stop:
            await engine.score(f"query number {number}", documents)
            done += 1

    started = time.monotonic()
    await asyncio.gather(*(caller(n) for n in range(callers)))
    elapsed = time.monotonic() - started
    await engine.stop()
    return {
        "pairs_per_s": done * len(documents) / elapsed,
        "pairs_per_call": engine.stats.pairs / max(engine.stats.batches, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--callers", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--docs", type=int, default=4)
    args = parser.parse_args()
    documents = [json.loads(line)["content"] for line in (REPO / "examples" / "docs.jsonl").read_text().splitlines()]
    reranker = Reranker()
    result = {
        mode: asyncio.run(run(reranker, mode == "batching", args.callers, args.seconds, documents[: args.docs]))
        for mode in ("batching", "no_batching")
    }
    result["speedup"] = {"pairs_per_s": result["batching"]["pairs_per_s"] / result["no_batching"]["pairs_per_s"]}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
