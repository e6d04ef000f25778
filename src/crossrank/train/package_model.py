"""Turn a trained torch cross-encoder into the shipped form: ONNX fp32, tokenizer, config, settings.

The int8 file is not shipped: `precision="int8"` quantises on first use (about a second) and caches it.

python -m crossrank.train.package_model runs/default src/crossrank/models/default
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from crossrank.rerank.export import export_onnx
from crossrank.rerank.model_source import resolve_model


def package(run_dir: Path, target: Path, max_length: int, max_query_tokens: int) -> None:
    """Write the shipped model folder from a training run (its torch/ folder and report.json)."""
    report = json.loads((run_dir / "report.json").read_text())
    files = resolve_model(run_dir / "torch")
    target.mkdir(parents=True, exist_ok=True)
    export_onnx(files, target / "model.onnx")
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(files.root / name, target / name)
    settings = {
        "max_length": max_length,
        "max_query_tokens": max_query_tokens,
        "fusion_weight": report["fusion_weight"],
        "fusion": "w * minmax(model logit) + (1 - w) * minmax(first-stage score), per candidate list",
        "base": report["base"],
    }
    (target / "crossrank.json").write_text(json.dumps(settings, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("target", type=Path)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--max-query-tokens", type=int, default=64)
    args = parser.parse_args()
    package(args.run_dir, args.target, args.max_length, args.max_query_tokens)


if __name__ == "__main__":
    main()
