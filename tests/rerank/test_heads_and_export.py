"""Two-label heads score like one-logit heads, and torch weights export to ONNX on first use."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from crossrank import Reranker
from crossrank.models import default_model_path
from crossrank.rerank.backends.torch import load_torch_model
from crossrank.rerank.model_source import resolve_model

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

PAIRS = [
    ("how do JWT tokens expire", "A JSON Web Token carries an exp claim with its expiry time."),
    ("how do JWT tokens expire", "Tomato plants need six hours of sunlight a day."),
    ("feeding a sourdough starter", "Feed the starter flour and water every day to keep the yeast alive."),
]


@pytest.fixture(scope="module")
def two_label_model(tmp_path_factory) -> Path:
    """The default model rewritten with a two-label head: softmax(...)[1] == sigmoid(original logit)."""
    single = load_torch_model(resolve_model(None))
    config = single.config
    config.num_labels = 2
    config.id2label, config.label2id = {0: "irrelevant", 1: "relevant"}, {"irrelevant": 0, "relevant": 1}
    double = transformers.AutoModelForSequenceClassification.from_config(config)
    state = single.state_dict()
    state["classifier.weight"] = torch.cat([torch.zeros_like(state["classifier.weight"]), state["classifier.weight"]])
    state["classifier.bias"] = torch.cat([torch.zeros_like(state["classifier.bias"]), state["classifier.bias"]])
    double.load_state_dict(state)
    folder = tmp_path_factory.mktemp("two-label")
    double.save_pretrained(folder)
    shutil.copy(default_model_path() / "tokenizer.json", folder / "tokenizer.json")
    return folder


def test_two_label_head_gives_the_same_probabilities(two_label_model: Path):
    # log-odds compared: the shipped model's probabilities carry its calibration, the rebuilt copy has none
    expected = Reranker(backend="torch", device="cpu", precision="fp32").predict(PAIRS, raw=True)
    two_label = Reranker(str(two_label_model), backend="torch", device="cpu", precision="fp32")
    np.testing.assert_allclose(two_label.predict(PAIRS, raw=True), expected, atol=1e-5)
    np.testing.assert_allclose(two_label.predict(PAIRS), 1 / (1 + np.exp(-expected)), atol=1e-5)


def test_torch_weights_are_exported_to_onnx_once_and_cached(two_label_model: Path):
    reference = Reranker(str(two_label_model), backend="torch", device="cpu", precision="fp32").predict(PAIRS)
    exported = Reranker(str(two_label_model), backend="onnx", device="cpu", precision="fp32")
    cache = resolve_model(str(two_label_model)).export_dir()
    assert cache.parent == two_label_model / "crossrank-exports"
    assert exported._backend.path == cache / "model.onnx"  # type: ignore[attr-defined]
    np.testing.assert_allclose(exported.predict(PAIRS), reference, atol=1e-4)
    int8 = Reranker(str(two_label_model), backend="onnx", device="cpu", precision="int8")
    assert (cache / "model_int8.onnx").is_file()
    assert np.argmax(int8.predict(PAIRS)[:2]) == 0


def test_new_weights_in_the_same_folder_are_exported_again_not_served_from_the_old_cache(tmp_path: Path):
    folder = Path(
        shutil.copytree(default_model_path(), tmp_path / "model", ignore=shutil.ignore_patterns("crossrank-*"))
    )
    before = Reranker(str(folder), backend="onnx", precision="int8").predict(PAIRS, raw=True)
    _negate_the_head(folder / "model.onnx")  # "retrained" weights written over the old file, as a new run does
    after = Reranker(str(folder), backend="onnx", precision="int8").predict(PAIRS, raw=True)
    fp32 = Reranker(str(folder), backend="onnx", precision="fp32").predict(PAIRS, raw=True)
    assert np.corrcoef(after, fp32)[0, 1] > 0.99 and np.corrcoef(after, before)[0, 1] < -0.99


def _negate_the_head(onnx_file: Path) -> None:
    """Flip the sign of the classifier's weights and bias in an ONNX file, so every logit changes sign."""
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    model = onnx.load(str(onnx_file))
    for index, tensor in enumerate(model.graph.initializer):
        if tensor.name.startswith("classifier."):
            flipped = numpy_helper.from_array(-numpy_helper.to_array(tensor), tensor.name)
            model.graph.initializer[index].CopyFrom(flipped)
    onnx.save(model, str(onnx_file))


def test_int8_export_really_quantises_the_weights():
    """The export keeps weights behind Transpose nodes; int8 must still find and quantise them."""
    onnx = pytest.importorskip("onnx")
    from crossrank.rerank.export import ensure_onnx

    graph = onnx.load(str(ensure_onnx(resolve_model(None), int8=True))).graph
    operators = {node.op_type for node in graph.node}
    assert "MatMulInteger" in operators or "DynamicQuantizeMatMul" in operators
    assert any(init.data_type == onnx.TensorProto.INT8 for init in graph.initializer)


def test_openvino_int8_compresses_every_matmul_weight():
    ov = pytest.importorskip("openvino")
    Reranker(backend="openvino", device="cpu", precision="int8")  # builds and caches the compressed model
    cached = resolve_model(None).export_dir() / "openvino_int8.xml"
    model = ov.Core().read_model(str(cached))
    int8_constants = [
        op
        for op in model.get_ops()
        if op.get_type_name() == "Constant" and op.get_output_element_type(0).get_type_name() in ("u8", "i8")
    ]
    # the default model has 2 layers x 6 projections (query, key, value, output, two feed-forward): each one's
    # weights and zero points are int8 after compression (before the folding fix only 5 tensors were)
    assert len(int8_constants) >= 2 * 12
