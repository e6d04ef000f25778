"""Run a Python snippet inside a private network namespace (`unshare -n`, loopback only).

Ray binds addresses beyond loopback even when told not to (Serve replicas listen on [::]); in a fresh
network namespace the only interface is `lo`, so nothing a Ray test starts can be reached from, or
reach, anything off this machine. Needs root (or user namespaces) and `ip`; tests skip without them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest


def run_isolated(code: str, timeout: float = 300) -> dict:
    """Run `code` with this interpreter in a new network namespace; it must print one JSON line last."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("unshare and ip are needed to isolate Ray's network")
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot create a network namespace here: {probe.stderr.decode().strip()}")
    command = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" -c "$1"', sys.executable, code]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env={"RAY_USAGE_STATS_ENABLED": "0", **_env()}
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert result.returncode == 0 and lines, f"isolated run failed ({result.returncode}):\n{result.stderr[-4000:]}"
    return json.loads(lines[-1])


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("RAY_ADDRESS")}
