"""Latency of every crossrank backend against sentence-transformers CrossEncoder.predict, in one run.

Workload: a 12-word query and 20 or 100 passages of 80-120 words (~135 tokens per pair), tokenization
included, median (p50) and p95 over repeated calls. Models: the MiniLM-L6 cross-encoder shape
(random init from all-MiniLM-L6-v2's config: speed does not depend on weight values) and the
shipped default model. Prints a table and writes JSON.

    python benchmarks/latency.py --out bench-results/latency.json
    python benchmarks/latency.py --device cuda --out bench-results/latency-cuda.json   # torch on the GPU
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from crossrank import Reranker, __version__
from crossrank.hardware import available_cores, cpu_flags, is_installed
from crossrank.models import default_model_path
from crossrank.models.bases import base_model_path
from crossrank.rerank.backends.torch import load_torch_model
from crossrank.rerank.model_source import resolve_model

REPO = Path(__file__).resolve().parents[1]
QUERY = "how long does a signed access token stay valid before the server rejects it"
VARIANTS = [
    ("onnx", "fp32"),
    ("onnx", "int8"),
    ("openvino", "fp32"),
    ("openvino", "bf16"),
    ("openvino", "int8"),
    ("torch", "fp32"),
    ("torch", "bf16"),
]
CUDA_VARIANTS = [("torch", "fp32"), ("torch", "fp16"), ("torch", "bf16")]


def passages(count: int, seed: int = 0) -> list[str]:
    """Passages of 80-120 words stitched from the example corpus' sentences (real English text)."""
    sentences = []
    for line in (REPO / "examples" / "docs.jsonl").read_text().splitlines():
        sentences += [s.strip() + "." for s in json.loads(line)["content"].split(".") if s.strip()]
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        target, words = int(rng.integers(80, 121)), []
        while len(words) < target:
            words += sentences[int(rng.integers(len(sentences)))].split()
        out.append(" ".join(words[:target]))
    return out


def timed(call: Callable[[], object], runs: int, warmup: int = 3) -> dict[str, float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append(1000 * (time.perf_counter() - started))
    return {"p50_ms": statistics.median(samples), "p95_ms": float(np.percentile(samples, 95))}


def minilm_shape_model(folder: Path) -> Path:
    """A one-logit cross-encoder with all-MiniLM-L6-v2's architecture and tokenizer, random weights."""
    from transformers import AutoConfig, AutoModelForSequenceClassification

    base = base_model_path("all-MiniLM-L6-v2")
    config = AutoConfig.from_pretrained(str(base), num_labels=1)
    AutoModelForSequenceClassification.from_config(config).save_pretrained(folder)
    shutil.copy(base / "tokenizer.json", folder / "tokenizer.json")
    return folder


def default_model_with_torch_weights(folder: Path) -> Path:
    """The shipped model written with torch weights, so sentence-transformers can load the same network."""
    files = resolve_model(None)
    load_torch_model(files).save_pretrained(folder)
    for name in ("tokenizer.json", "crossrank.json"):
        shutil.copy(default_model_path() / name, folder / name)
    return folder


def bench_model(
    name: str, folder: Path, sizes: list[int], console: Console, device: str = "cpu"
) -> list[dict[str, object]]:
    from sentence_transformers import CrossEncoder

    rows: list[dict[str, object]] = []
    docs = {n: passages(n, seed=n) for n in sizes}
    max_length = Reranker(str(folder), backend="onnx", device="cpu").max_length
    reference = CrossEncoder(str(folder), device=device, max_length=max_length)
    reference_times = {
        n: timed(
            lambda n=n: reference.predict([(QUERY, d) for d in docs[n]], batch_size=32), runs=20 if n <= 20 else 10
        )
        for n in sizes
    }
    for n in sizes:
        rows.append(
            {
                "model": name,
                "variant": "sentence-transformers fp32",
                "candidates": n,
                **reference_times[n],
                "speedup": 1.0,
            }
        )
    for backend, precision in CUDA_VARIANTS if device == "cuda" else VARIANTS:
        if backend == "openvino" and not is_installed("openvino"):
            continue
        reranker = Reranker(str(folder), backend=backend, device=device, precision=precision)
        for n in sizes:
            result = timed(lambda n=n, reranker=reranker: reranker.rerank(QUERY, docs[n]), runs=20 if n <= 20 else 10)
            speedup = reference_times[n]["p50_ms"] / result["p50_ms"]
            rows.append(
                {
                    "model": name,
                    "variant": f"crossrank {backend} {precision}",
                    "candidates": n,
                    **result,
                    "speedup": speedup,
                }
            )
        console.log(f"{name}: {backend} {precision} done")
    return rows


def import_and_first_score() -> float:
    """Seconds for a fresh process to import crossrank and score one pair with the default model (median of 3)."""
    code = (
        "import time; t = time.perf_counter(); from crossrank import Reranker; "
        "Reranker().score('q', 'a document'); print(time.perf_counter() - t)"
    )
    runs = [float(subprocess.check_output([sys.executable, "-c", code], text=True)) for _ in range(3)]
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench-results/latency.json"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--skip-minilm", action="store_true")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="cuda: torch variants on the GPU")
    args = parser.parse_args()
    console = Console()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        default = default_model_with_torch_weights(Path(tmp) / "default")
        rows += bench_model("default", default, args.sizes, console, args.device)
        if not args.skip_minilm:
            minilm = minilm_shape_model(Path(tmp) / "minilm")
            rows += bench_model("MiniLM-L6 shape", minilm, args.sizes, console, args.device)
    startup = import_and_first_score()
    table = Table(title="p50 / p95 ms per call; speedup = sentence-transformers p50 / p50")
    for column in ("model", "variant", "candidates", "p50 ms", "p95 ms", "speedup"):
        table.add_column(column, justify="right" if column != "variant" else "left")
    for row in rows:
        table.add_row(
            str(row["model"]),
            str(row["variant"]),
            str(row["candidates"]),
            f"{row['p50_ms']:.1f}",
            f"{row['p95_ms']:.1f}",
            f"{row['speedup']:.2f}x",
        )
    console.print(table)
    console.print(f"import crossrank + first score (default model, fresh process): {startup:.2f} s")
    machine = {
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
        "cores": available_cores(),
        "amx": "amx_bf16" in cpu_flags(),
        "gpu": _gpu_name() if args.device == "cuda" else None,
        "crossrank": __version__,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine, "rows": rows, "import_and_first_score_s": startup}, indent=2))
    console.print(f"wrote {args.out}")


def _gpu_name() -> str:
    import torch

    return str(torch.cuda.get_device_name(0))


if __name__ == "__main__":
    main()
