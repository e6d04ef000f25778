"""OpenVINO backend on CPU: fp32, bf16 (AMX / AVX-512 BF16), or int8 (NNCF post-training) with bf16 elsewhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from crossrank.errors import BackendUnavailableError
from crossrank.rerank.batching import MicroBatch
from crossrank.rerank.export import ensure_onnx
from crossrank.rerank.model_source import ModelFiles

PRECISIONS = ("fp32", "bf16", "int8")
_CALIBRATION_TEXTS = (
    ("how do tokens expire", "A JSON Web Token carries an exp claim; servers reject it after that time."),
    ("what causes rain", "Water vapour condenses into droplets that grow until they fall as precipitation."),
    ("python list sort", "The sort method orders a list in place; sorted returns a new list."),
    ("effects of caffeine", "Caffeine blocks adenosine receptors, which raises alertness for several hours."),
)


class OpenVinoBackend:
    """A compiled OpenVINO model; each call gets its own infer request, so threads may share it."""

    name = "openvino"

    def __init__(self, files: ModelFiles, device: str = "cpu", precision: str = "bf16", threads: int | None = None):
        try:
            import openvino as ov
        except ImportError as exc:
            raise BackendUnavailableError("the openvino backend needs: pip install 'crossrank[openvino]'") from exc
        if device != "cpu":
            raise BackendUnavailableError("crossrank runs OpenVINO on the CPU only")
        if precision not in PRECISIONS:
            raise BackendUnavailableError(f"openvino backend supports {PRECISIONS}, not {precision!r}")
        core = ov.Core()
        model = core.read_model(str(self._source(files)))
        if precision == "int8":
            model = _int8_model(core, files, model)
        config: dict[str, Any] = {
            "INFERENCE_PRECISION_HINT": "f32" if precision == "fp32" else "bf16",
            "PERFORMANCE_HINT": "LATENCY",
        }
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        self._compiled = core.compile_model(model, "CPU", config)
        self._inputs = [port.any_name for port in self._compiled.inputs]
        self.device, self.precision = device, precision

    @staticmethod
    def _source(files: ModelFiles) -> Path:
        return files.openvino_file() or ensure_onnx(files)

    def logits(self, batch: MicroBatch) -> np.ndarray:
        feeds = {
            "input_ids": batch.input_ids,
            "attention_mask": batch.attention_mask,
            "token_type_ids": batch.token_type_ids,
        }
        request = self._compiled.create_infer_request()
        result = request.infer({name: feeds[name] for name in self._inputs})
        return np.asarray(result[self._compiled.output(0)], dtype=np.float32)


def _int8_model(core: Any, files: ModelFiles, model: Any) -> Any:
    """Quantise with NNCF once (a few calibration pairs), cache the IR beside the model's exports."""
    import openvino as ov

    cached = files.export_dir() / "openvino_int8.xml"
    if cached.is_file():
        return core.read_model(str(cached))
    try:
        import nncf
    except ImportError as exc:
        raise BackendUnavailableError("openvino int8 needs NNCF: pip install 'crossrank[openvino]'") from exc
    from crossrank.rerank.batching import length_sorted_batches
    from crossrank.rerank.encoding import PairEncoder

    encoder = PairEncoder.from_file(files.tokenizer_file, max_length=files.max_length)
    names = [port.any_name for port in model.inputs]
    samples = []
    for query, doc in _CALIBRATION_TEXTS:
        for batch in length_sorted_batches(encoder.encode(query, [doc, doc[: len(doc) // 2]])):
            feeds = {
                "input_ids": batch.input_ids,
                "attention_mask": batch.attention_mask,
                "token_type_ids": batch.token_type_ids,
            }
            samples.append({name: feeds[name] for name in names})
    quantized = nncf.quantize(
        model, nncf.Dataset(samples), model_type=nncf.ModelType.TRANSFORMER, subset_size=len(samples)
    )
    cached.parent.mkdir(parents=True, exist_ok=True)
    ov.save_model(quantized, str(cached))
    return quantized
