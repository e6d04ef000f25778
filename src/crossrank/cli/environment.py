"""What `crossrank info` reports about this installation and machine."""

from __future__ import annotations

import importlib.metadata

from crossrank.hardware import available_cores, has_bf16_matmul, has_int8_matmul
from crossrank.models import default_model_path
from crossrank.rerank.backends import choose_backend, choose_device, choose_precision

_BACKEND_PACKAGES = {"onnx": "onnxruntime", "openvino": "openvino", "torch": "torch"}


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def describe_environment() -> dict[str, str]:
    """Ordered facts, each as display text."""
    device = choose_device("auto")
    backend = choose_backend("auto", device)
    model_dir = default_model_path()
    size = sum(f.stat().st_size for f in model_dir.iterdir() if f.is_file()) if model_dir.is_dir() else 0
    facts = {f"backend {name}": _version(pkg) for name, pkg in _BACKEND_PACKAGES.items()}
    facts.update(
        {
            "device (auto)": device,
            "backend (auto)": f"{backend} {choose_precision('auto', backend, device)}",
            "cpu bf16 / int8 matmul": f"{_yes(has_bf16_matmul())} / {_yes(has_int8_matmul())}",
            "threads": str(available_cores()),
            "default model": f"{model_dir} ({size / 1e6:.1f} MB)",
        }
    )
    return facts
