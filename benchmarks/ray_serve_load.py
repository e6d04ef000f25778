"""Ray Serve against `crossrank serve` under the same load, on one machine. Run it inside a private network
namespace, as Ray binds beyond loopback:

    unshare -n sh -c 'ip link set lo up && exec python benchmarks/ray_serve_load.py --seconds 30'

Clients: benchmarks/serve_load.py's aiohttp load (4 passages per request). Ray Serve runs 2 replicas, each with
cores/2 inference threads, behind the Gateway; `crossrank serve` runs one process with all cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from serve_load import free_port, load, start_server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("bench-results/ray-serve-load.json"))
    args = parser.parse_args()
    corpus = [json.loads(line)["content"] for line in (REPO / "examples" / "docs.jsonl").read_text().splitlines()]
    documents = corpus[:4]
    cores = os.cpu_count() or 1
    result: dict[str, object] = {"clients": args.clients, "seconds": args.seconds, "cores": cores}

    port = free_port()
    server = start_server(port, batching=True)
    try:
        result["crossrank_serve"] = asyncio.run(load(f"http://127.0.0.1:{port}", args.clients, args.seconds, documents))
    finally:
        server.terminate()
        server.wait(timeout=60)

    import ray
    from ray import serve

    from crossrank.serve.ray_serve import build_application

    ray.init(include_dashboard=False, log_to_driver=False)
    port = free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    threads = max(1, cores // args.replicas)
    serve.run(build_application(None, replicas=args.replicas, threads_per_replica=threads), route_prefix="/")
    try:
        result["ray_serve"] = asyncio.run(load(f"http://127.0.0.1:{port}", args.clients, args.seconds, documents))
    finally:
        serve.shutdown()
        ray.shutdown()
    result["ray_over_plain"] = result["ray_serve"]["pairs_per_s"] / result["crossrank_serve"]["pairs_per_s"]  # type: ignore[index]
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
