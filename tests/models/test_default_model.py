"""The shipped default model: small, documented, complete, and loads with no network."""

import json

from crossrank.models import default_model_path

MAX_BYTES = 25 * 1024 * 1024


def test_shipped_model_fits_the_size_budget():
    shipped = [f for f in default_model_path().iterdir() if f.is_file()]  # exports cached at run time excluded
    total = sum(f.stat().st_size for f in shipped)
    assert total <= MAX_BYTES


def test_shipped_model_has_its_files_and_a_model_card():
    root = default_model_path()
    for name in ("config.json", "tokenizer.json", "model.onnx", "crossrank.json", "README.md"):
        assert (root / name).is_file(), name
    card = (root / "README.md").read_text()
    for topic in ("splade-tiny", "SciFact", "NFCorpus", "non-commercial", "nDCG@10", "crossrank.train.default_recipe"):
        assert topic in card
    settings = json.loads((root / "crossrank.json").read_text())
    assert 0.0 <= settings["fusion_weight"] <= 1.0
