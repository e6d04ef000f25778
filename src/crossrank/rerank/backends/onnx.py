"""ONNX Runtime backend: fp32, or dynamic int8 (int8 weights, activations quantised at run time)."""

from __future__ import annotations

import numpy as np

from crossrank.errors import BackendUnavailableError
from crossrank.rerank.batching import MicroBatch
from crossrank.rerank.export import ensure_onnx
from crossrank.rerank.model_source import ModelFiles

PRECISIONS = ("fp32", "int8")


class OnnxBackend:
    """An onnxruntime InferenceSession over the model's ONNX file."""

    name = "onnx"

    def __init__(self, files: ModelFiles, device: str = "cpu", precision: str = "fp32", threads: int | None = None):
        import onnxruntime as ort

        if precision not in PRECISIONS:
            raise BackendUnavailableError(f"onnx backend supports {PRECISIONS}, not {precision!r}")
        providers = ["CPUExecutionProvider"]
        if device == "cuda":
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise BackendUnavailableError("onnx on cuda needs the onnxruntime-gpu package")
            providers.insert(0, "CUDAExecutionProvider")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            options.intra_op_num_threads = threads
        path = ensure_onnx(files, int8=precision == "int8")
        self._session = ort.InferenceSession(str(path), options, providers=providers)
        self._inputs = [i.name for i in self._session.get_inputs()]
        self._output = self._session.get_outputs()[0].name
        self.device, self.precision, self.path = device, precision, path

    def logits(self, batch: MicroBatch) -> np.ndarray:
        (output,) = self._session.run([self._output], batch.feeds(self._inputs))
        return np.asarray(output, dtype=np.float32)
