import pytest

from crossrank import BackendUnavailableError
from crossrank.hardware import has_bf16_matmul
from crossrank.rerank.backends import choose_backend, choose_device, choose_precision


def test_auto_precision_per_backend_and_device():
    assert choose_precision("auto", "onnx", "cuda") == "fp32"
    assert choose_precision("auto", "torch", "cuda") == "fp16"
    assert choose_precision("auto", "openvino", "cpu") == ("bf16" if has_bf16_matmul() else "fp32")
    assert choose_precision("int8", "onnx", "cpu") == "int8"


def test_auto_backend_uses_torch_on_cuda():
    assert choose_backend("auto", "cuda") == "torch"
    assert choose_backend("auto", "cpu") in ("openvino", "onnx")


@pytest.mark.parametrize(("call", "args"), [(choose_backend, ("tensorrt", "cpu")), (choose_device, ("tpu",))])
def test_unknown_names_are_rejected(call, args):
    with pytest.raises(BackendUnavailableError):
        call(*args)


def test_unsupported_precision_is_a_clear_error():
    from crossrank import Reranker

    with pytest.raises(BackendUnavailableError, match="onnx backend supports"):
        Reranker(backend="onnx", device="cpu", precision="fp16")
