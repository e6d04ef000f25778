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
