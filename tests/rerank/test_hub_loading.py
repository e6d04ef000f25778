"""Loading a model by Hugging Face id, against a local server that speaks the hub's HTTP API.

The client runs in a fresh process so huggingface_hub reads HF_ENDPOINT and the cache location.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crossrank.models import default_model_path
from tests.rerank.fake_hub import FakeHub, serve

SCORE = (
    "import json, sys\n"
    "from crossrank import Reranker\n"
    "rr = Reranker(sys.argv[1], backend=sys.argv[2], device='cpu', precision='fp32')\n"
    "score = rr.score('jwt expiry', 'the exp claim sets expiry', raw=True)\n"
    "print(json.dumps({'root': str(rr.files.root), 'score': score}))\n"
)


def _score(model: str, backend: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCORE, model, backend], capture_output=True, text=True, timeout=300, env=env
    )


@pytest.fixture()
def hub(tmp_path: Path) -> FakeHub:
    """Two repositories: one with its own onnx/ folder, one with only config, tokenizer and torch weights."""
    default = default_model_path()
    onnx_repo = tmp_path / "repos" / "acme" / "tiny-onnx"
    (onnx_repo / "onnx").mkdir(parents=True)
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(default / name, onnx_repo / name)
    shutil.copy(default / "model.onnx", onnx_repo / "onnx" / "model.onnx")
    return FakeHub(tmp_path / "repos")


def _env(tmp_path: Path, endpoint: str, offline: bool = False) -> dict[str, str]:
    return {
        "HF_ENDPOINT": endpoint,
        "HF_HUB_CACHE": str(tmp_path / "cache"),
        "HF_HUB_OFFLINE": "1" if offline else "0",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_XET": "1",
        "PATH": "/usr/bin:/bin",
    }


def test_hub_id_downloads_the_repos_onnx_file_then_works_offline(hub: FakeHub, tmp_path: Path):
    expected = _score(str(default_model_path()), "onnx", _env(tmp_path, "http://127.0.0.1:9", offline=True))
    with serve(hub) as endpoint:
        online = _score("acme/tiny-onnx", "onnx", _env(tmp_path, endpoint))
    assert online.returncode == 0, online.stderr
    result = json.loads(online.stdout)
    assert str(tmp_path / "cache") in result["root"]
    assert result["score"] == pytest.approx(json.loads(expected.stdout)["score"], abs=1e-6)
    downloaded = {r.split("/resolve/")[1].split("/", 1)[1] for r in hub.requests if "/resolve/" in r}
    assert downloaded == {"config.json", "tokenizer.json", "onnx/model.onnx"}
    # the server is gone: the cached snapshot serves the same model
    offline = _score("acme/tiny-onnx", "onnx", _env(tmp_path, "http://127.0.0.1:9", offline=True))
    assert offline.returncode == 0, offline.stderr
    assert json.loads(offline.stdout)["score"] == pytest.approx(result["score"], abs=1e-6)


def test_unknown_repository_is_a_clear_error(hub: FakeHub, tmp_path: Path):
    with serve(hub) as endpoint:
        missing = _score("acme/does-not-exist", "onnx", _env(tmp_path, endpoint))
    assert missing.returncode != 0
    assert "could not load 'acme/does-not-exist'" in missing.stderr


def test_repo_without_onnx_gets_its_torch_weights_exported(hub: FakeHub, tmp_path: Path):
    pytest.importorskip("torch")
    from crossrank.rerank.backends.torch import load_torch_model
    from crossrank.rerank.model_source import resolve_model

    weights_repo = hub.root / "acme" / "tiny-torch"
    load_torch_model(resolve_model(None)).save_pretrained(weights_repo)
    shutil.copy(default_model_path() / "tokenizer.json", weights_repo / "tokenizer.json")
    expected = _score(str(default_model_path()), "onnx", _env(tmp_path, "http://127.0.0.1:9", offline=True))
    with serve(hub) as endpoint:
        online = _score("acme/tiny-torch", "onnx", _env(tmp_path, endpoint))
    assert online.returncode == 0, online.stderr
    result = json.loads(online.stdout)
    assert list((Path(result["root"]) / "crossrank-exports").glob("*/model.onnx"))  # exported once, cached
    assert result["score"] == pytest.approx(json.loads(expected.stdout)["score"], abs=1e-5)
