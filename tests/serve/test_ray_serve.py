"""`crossrank serve --ray`'s application on Ray Serve, run in a private network namespace (see
tests/private_network.py): same scores as `crossrank serve`, and a replica killed under load costs no request."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.private_network import run_isolated

pytest.importorskip("ray.serve")

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parents[1] / "examples" / "docs.jsonl"


@pytest.fixture(scope="module")
def outcome() -> dict:
    script = str(HERE / "ray_serve_check.py")
    code = (
        f"import runpy, sys; sys.argv = ['check', {str(EXAMPLES)!r}]; runpy.run_path({script!r}, run_name='__main__')"
    )
    return run_isolated(code, timeout=300)


def test_two_replicas_give_the_same_scores_as_crossrank_serve(outcome):
    assert outcome["ray"] == outcome["plain"]  # same order, identical scores
    assert outcome["tei_status"] == 200
    assert outcome["health"]["status"] == "ok" and outcome["health"]["backend"] == "ray-serve"


def test_a_replica_killed_under_load_fails_no_request(outcome):
    load = outcome["load"]
    assert len(load["killed"]) == 1 and load["requests"] > 20
    assert load["failed"] == 0
    assert outcome["after_status"] == 200
    assert outcome["replicas_after"] == 2  # Serve replaced the killed replica


CLI_CHECK = """
import json, os, signal, subprocess, sys, time
import httpx
port = 8311
server = subprocess.Popen([sys.executable, "-m", "crossrank.cli.main", "serve", "--ray", "--replicas", "1",
                           "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
health, deadline = None, time.monotonic() + 120
while time.monotonic() < deadline and health is None:
    try:
        health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json()
    except Exception:
        time.sleep(0.5)
body = {"query": "how do JWT tokens expire", "documents": ["A JWT has an exp claim.", "Bread needs yeast."]}
answer = httpx.post(f"http://127.0.0.1:{port}/v2/rerank", json=body, timeout=60)
server.send_signal(signal.SIGTERM)
code = server.wait(timeout=60)
print(json.dumps({"health": health, "status": answer.status_code, "top": answer.json()["results"][0]["index"],
                  "exit": code}))
"""


def test_the_cli_serves_on_ray_and_stops_on_sigterm():
    outcome = run_isolated(CLI_CHECK, timeout=240)
    assert outcome["health"]["status"] == "ok"
    assert outcome["status"] == 200 and outcome["top"] == 0
    assert outcome["exit"] == 0
