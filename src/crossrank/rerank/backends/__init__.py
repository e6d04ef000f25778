"""Inference backends and the rule `auto` uses to choose one for this machine."""

from __future__ import annotations

from crossrank.errors import BackendUnavailableError
from crossrank.hardware import cuda_available, has_bf16_matmul, is_installed
from crossrank.rerank.backends.base import Backend
from crossrank.rerank.model_source import ModelFiles

BACKENDS = ("onnx", "openvino", "torch")
DEVICES = ("cpu", "cuda")


def choose_device(device: str) -> str:
    """`auto` means CUDA where torch sees a GPU, else the CPU."""
    if device == "auto":
        return "cuda" if cuda_available() else "cpu"
    if device not in DEVICES:
        raise BackendUnavailableError(f"device must be auto, cpu or cuda, not {device!r}")
    return device


def choose_backend(backend: str, device: str) -> str:
    """`auto`: torch on CUDA; on CPU OpenVINO where installed (fastest measured here), else ONNX Runtime."""
    if backend != "auto":
        if backend not in BACKENDS:
            raise BackendUnavailableError(f"backend must be auto, {', '.join(BACKENDS)}; not {backend!r}")
        return backend
    if device == "cuda":
        return "torch"
    return "openvino" if is_installed("openvino") else "onnx"


def choose_precision(precision: str, backend: str, device: str) -> str:
    """`auto`: fp32 for ONNX Runtime; fp16 for torch on CUDA; bf16 where the CPU multiplies it natively; else fp32."""
    if precision != "auto":
        return precision
    if backend == "onnx":
        return "fp32"
    if device == "cuda":
        return "fp16"
    if backend in ("openvino", "torch") and has_bf16_matmul():
        return "bf16"
    return "fp32"


def choose_runtime(backend: str, device: str, precision: str) -> tuple[str, str, str]:
    """Resolve `auto` in (backend, device, precision) for this machine; returns (device, backend, precision)."""
    chosen_device = choose_device(device)
    chosen_backend = choose_backend(backend, chosen_device)
    return chosen_device, chosen_backend, choose_precision(precision, chosen_backend, chosen_device)


def create_backend(files: ModelFiles, backend: str, device: str, precision: str, threads: int | None) -> Backend:
    """Instantiate the backend class for a resolved (backend, device, precision)."""
    if backend == "onnx":
        from crossrank.rerank.backends.onnx import OnnxBackend

        return OnnxBackend(files, device, precision, threads)
    if backend == "openvino":
        from crossrank.rerank.backends.openvino import OpenVinoBackend

        return OpenVinoBackend(files, device, precision, threads)
    from crossrank.rerank.backends.torch import TorchBackend

    return TorchBackend(files, device, precision, threads)
