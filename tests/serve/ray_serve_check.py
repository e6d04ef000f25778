"""Run inside a private network namespace by test_ray_serve.py: Ray Serve with 2 replicas against
`crossrank serve`, identical scores, and one replica killed under load. Prints one JSON line."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import threading
import time

import httpx
import ray
import uvicorn
from ray import serve

from crossrank.rerank.reranker import Reranker
from crossrank.serve.app import create_app
from crossrank.serve.ray_serve import build_application

QUERY = "how do JWT tokens expire"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def plain_server(port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(create_app(Reranker()), host="127.0.0.1", port=port, log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server


async def load(url: str, body: dict, seconds: float, clients: int, kill_at: float) -> dict:
    statuses: list[int] = []
    stop = time.monotonic() + seconds
    killed: list[str] = []

    async def client(session: httpx.AsyncClient) -> None:
        while time.monotonic() < stop:
            try:
                answer = await session.post(f"{url}/v2/rerank", json=body)
                statuses.append(answer.status_code)
            except httpx.HTTPError:
                statuses.append(0)

    async def killer() -> None:
        await asyncio.sleep(kill_at)
        names = [a for a in ray.util.list_named_actors(all_namespaces=True) if "RerankerReplica" in a["name"]]
        victim = sorted(names, key=lambda a: a["name"])[0]
        ray.kill(ray.get_actor(victim["name"], namespace=victim["namespace"]), no_restart=True)
        killed.append(victim["name"])

    async with httpx.AsyncClient(timeout=60) as session:
        await asyncio.gather(killer(), *(client(session) for _ in range(clients)))
    return {"requests": len(statuses), "failed": sum(s != 200 for s in statuses), "killed": killed}


def main() -> None:
    with open(sys.argv[1]) as handle:
        documents = [json.loads(line)["content"] for line in handle]
    body = {"model": "default", "query": QUERY, "documents": documents}
    ray.init(include_dashboard=False, log_to_driver=False, num_cpus=4)
    port = free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    serve.run(build_application(None, replicas=2), name="crossrank", route_prefix="/")
    ray_url, plain_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{free_port()}"
    plain = plain_server(int(plain_url.rsplit(":", 1)[1]))
    on_ray = httpx.post(f"{ray_url}/v2/rerank", json=body, timeout=60).json()["results"]
    alone = httpx.post(f"{plain_url}/v2/rerank", json=body, timeout=60).json()["results"]
    tei = httpx.post(f"{ray_url}/rerank", json={"query": QUERY, "texts": documents[:3]}, timeout=60)
    health = httpx.get(f"{ray_url}/health", timeout=10).json()
    under_load = asyncio.run(load(ray_url, body, seconds=12, clients=8, kill_at=4))
    after = httpx.post(f"{ray_url}/v2/rerank", json=body, timeout=60)
    replicas = [a for a in ray.util.list_named_actors(all_namespaces=True) if "RerankerReplica" in a["name"]]
    plain.should_exit = True
    serve.shutdown()
    ray.shutdown()
    print(
        json.dumps(
            {
                "ray": [(r["index"], r["relevance_score"]) for r in on_ray],
                "plain": [(r["index"], r["relevance_score"]) for r in alone],
                "tei_status": tei.status_code,
                "health": health,
                "load": under_load,
                "after_status": after.status_code,
                "replicas_after": len(replicas),
            }
        )
    )


if __name__ == "__main__":
    main()
