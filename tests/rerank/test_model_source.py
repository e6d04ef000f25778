import pytest

from crossrank import ModelNotFoundError, Reranker
from crossrank.models import default_model_path
from crossrank.rerank.model_source import resolve_model


def test_default_model_resolves_to_the_packaged_folder():
    files = resolve_model(None)
    assert files.root == default_model_path()
    assert files.onnx_file() is not None
    assert files.num_labels == 1


def test_hub_id_offline_and_not_cached_says_how_to_use_a_local_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ModelNotFoundError, match="pass its folder"):
        Reranker("cross-encoder/ms-marco-MiniLM-L-6-v2", backend="onnx", device="cpu")


def test_folder_without_config_is_rejected(tmp_path):
    with pytest.raises(ModelNotFoundError, match=r"config\.json is missing"):
        resolve_model(tmp_path)


@pytest.mark.parametrize("spec", ["./no-such-folder", "not/a/hub/id", "plainname"])
def test_names_that_are_neither_folders_nor_hub_ids(spec):
    with pytest.raises(ModelNotFoundError, match="neither a model folder nor a Hugging Face id"):
        resolve_model(spec)
