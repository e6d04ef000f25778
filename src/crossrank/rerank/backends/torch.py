"""PyTorch backend (transformers): fp32 or bf16 on CPU, fp32/fp16/bf16 on CUDA. The reference for parity tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from crossrank.errors import BackendUnavailableError
from crossrank.rerank.batching import MicroBatch
from crossrank.rerank.model_source import ModelFiles

PRECISIONS = {"cpu": ("fp32", "bf16"), "cuda": ("fp32", "fp16", "bf16")}


class TorchBackend:
    """A transformers model in eval mode: sequence classification, or the bare encoder for embeddings."""

    name = "torch"

    def __init__(self, files: ModelFiles, device: str = "cpu", precision: str = "fp32", threads: int | None = None):
        try:
            import torch
        except ImportError as exc:
            raise BackendUnavailableError("the torch backend needs: pip install 'crossrank[torch]'") from exc
        if precision not in PRECISIONS.get(device, ()):
            raise BackendUnavailableError(f"torch on {device} supports {PRECISIONS.get(device)}, not {precision!r}")
        if device == "cuda" and not torch.cuda.is_available():
            raise BackendUnavailableError("torch cannot see a CUDA device here")
        if threads:
            torch.set_num_threads(threads)
        dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
        self._torch = torch
        self._model = load_torch_model(files).to(device=device, dtype=dtype).eval()
        self._uses_token_types = files.uses_token_types
        self.device, self.precision = device, precision

    def logits(self, batch: MicroBatch) -> np.ndarray:
        torch = self._torch
        inputs = {
            "input_ids": torch.from_numpy(batch.input_ids).to(self.device),
            "attention_mask": torch.from_numpy(batch.attention_mask).to(self.device),
        }
        if self._uses_token_types:
            inputs["token_type_ids"] = torch.from_numpy(batch.token_type_ids).to(self.device)
        with torch.inference_mode():
            output = self._model(**inputs)[0]  # logits, or token vectors for an embedding model
        return output.float().cpu().numpy()


def load_torch_model(files: ModelFiles) -> Any:
    """The fp32 transformers model: from its torch weights, or rebuilt from the parameters in its ONNX file.

    The shipped default model carries only ONNX weights (to stay small); its export keeps every
    parameter under its transformers name, so torch can load exactly the same numbers.
    """
    from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification

    model_class = AutoModel if files.head == "embedding" else AutoModelForSequenceClassification
    if files.torch_weights() is not None:
        return model_class.from_pretrained(str(files.root), attn_implementation="eager")
    onnx_file = files.onnx_file()
    if onnx_file is None:
        raise BackendUnavailableError(f"{files.name} has neither torch weights nor an fp32 ONNX file")
    config = AutoConfig.from_pretrained(str(files.root))
    config._attn_implementation = "eager"
    model = model_class.from_config(config)
    _load_onnx_parameters(model, onnx_file)
    return model


def _load_onnx_parameters(model: Any, onnx_file: Any) -> None:
    import onnx
    import torch
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_file)).graph
    found = {init.name.removeprefix("model."): numpy_helper.to_array(init) for init in graph.initializer}
    state = model.state_dict()
    missing = [name for name in state if name not in found and not name.endswith("position_ids")]
    if missing:
        raise BackendUnavailableError(f"{onnx_file} lacks parameters {missing[:3]}: cannot rebuild the torch model")
    model.load_state_dict({name: torch.from_numpy(found[name].copy()) for name in state if name in found}, strict=False)
