"""Produce the fast-backend files of a model once and cache them: ONNX, ONNX int8, OpenVINO int8.

Exporting from torch weights needs the torch extra; quantising an ONNX file needs only onnxruntime.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crossrank.errors import BackendUnavailableError
from crossrank.rerank.model_source import ModelFiles

ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def ensure_onnx(files: ModelFiles, int8: bool = False) -> Path:
    """Path of the model's ONNX file (int8 if asked), exporting or quantising it on first use."""
    existing = files.onnx_file(int8=int8)
    if existing is not None:
        return existing
    if int8:
        target = files.export_dir() / "model_int8.onnx"
        if not target.is_file():
            quantize_onnx_int8(ensure_onnx(files), target)
        return target
    target = files.export_dir() / "model.onnx"
    if not target.is_file():
        export_onnx(files, target)
    return target


def export_onnx(files: ModelFiles, target: Path) -> None:
    """Export the torch weights to ONNX (opset 17, dynamic batch and sequence, eager attention).

    A classification head gives `logits`; an embedding model gives its token vectors (`last_hidden_state`).
    """
    try:
        import torch
        from transformers import AutoModel, AutoModelForSequenceClassification
    except ImportError as exc:
        raise BackendUnavailableError(
            f"{files.name} ships no ONNX file; exporting one needs: pip install 'crossrank[torch]'"
        ) from exc
    model_class = AutoModel if files.head == "embedding" else AutoModelForSequenceClassification
    model = model_class.from_pretrained(str(files.root), attn_implementation="eager", dtype=torch.float32).eval()
    output = "last_hidden_state" if files.head == "embedding" else "logits"
    inputs = ONNX_INPUTS if files.uses_token_types else ONNX_INPUTS[:2]
    example = tuple(torch.ones((2, 8), dtype=torch.long) for _ in inputs)
    axes = {name: {0: "batch", 1: "sequence"} for name in inputs}
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with torch.inference_mode():
        torch.onnx.export(
            _KeywordInputs(model, inputs) if files.head == "embedding" else model,
            example,
            str(partial),
            input_names=list(inputs),
            output_names=[output],
            dynamic_axes={**axes, output: {0: "batch", 1: "sequence"} if files.head == "embedding" else {0: "batch"}},
            opset_version=17,
            do_constant_folding=False,  # keeps parameter names, so torch can rebuild the model from this file
            dynamo=False,
        )
    partial.replace(target)


def _KeywordInputs(model: Any, names: tuple[str, ...]) -> Any:
    """Wrap a bare encoder so the tracer's positional inputs reach it by name (its forward's order differs).

    Parameters are traced as `model.<name>`; `load_torch_model` strips that prefix when rebuilding.
    """
    import torch

    class KeywordInputs(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors: Any) -> Any:
            return self.model(**dict(zip(names, tensors)))[0]

    return KeywordInputs()


def fold_constants(source: Path, target: Path) -> Path:
    """Write `source` with constant subgraphs folded (ONNX Runtime's basic level: standard ONNX ops only).

    The export keeps weights behind Transpose nodes (so their names survive for torch); quantisers look for
    a constant weight feeding each MatMul and skip those, so they must see the folded graph.
    """
    import onnxruntime as ort

    target.parent.mkdir(parents=True, exist_ok=True)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(target)
    ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
    return target


def quantize_onnx_int8(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation of the MatMul weights (activations quantised at run time), per ONNX Runtime.

    Per-channel scales: per-tensor ones moved all-MiniLM-L6-v2's embeddings to cosine 0.93 of fp32.
    Embedding tables stay fp32: they are a lookup, so int8 there saves only memory.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    folded = fold_constants(source, target.with_name(target.stem + ".folded.onnx"))
    partial = target.with_name(target.stem + ".partial.onnx")
    try:
        quantize_dynamic(
            str(folded), str(partial), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"], per_channel=True
        )
        partial.replace(target)
    finally:
        folded.unlink(missing_ok=True)
