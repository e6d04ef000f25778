"""Find a model's files: the shipped default, a local folder, or a Hugging Face id through huggingface_hub."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crossrank.errors import ModelNotFoundError
from crossrank.models import default_model_path

DEFAULT_MODEL = "default"
HEADS = ("classification", "embedding")  # a cross-encoder's score head, or a bi-encoder's token vectors
_TOKENIZER_FILES = [
    "config.json",
    "modules.json",
    "sentence_bert_config.json",
    "1_Pooling/config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "sentencepiece.bpe.model",
    "crossrank.json",
]
_ONNX_FILES = ["onnx/model.onnx", "model.onnx"]
_OPENVINO_FILES = ["openvino/openvino_model.xml", "openvino/openvino_model.bin"]
_TORCH_FILES = ["model.safetensors", "pytorch_model.bin"]
# what each backend can start from, best first; the torch weights are the last resort (exported once)
_SOURCES = {
    "onnx": [_ONNX_FILES, _TORCH_FILES],
    "openvino": [_OPENVINO_FILES, _ONNX_FILES, _TORCH_FILES],
    "torch": [_TORCH_FILES],
}
_INT8_ONNX_NAMES = ("model_int8.onnx", "onnx/model_int8.onnx")


@dataclass(frozen=True)
class ModelFiles:
    """A model folder on disk and what it holds."""

    name: str
    root: Path
    config: dict[str, Any] = field(repr=False)
    settings: dict[str, Any] = field(repr=False)  # crossrank.json: fusion weight, lengths; may be empty
    head: str = "classification"

    @property
    def tokenizer_file(self) -> Path:
        """tokenizer.json of the model, or the one converted into the export cache."""
        own = self.root / "tokenizer.json"
        return own if own.is_file() else self.export_dir() / "tokenizer.json"

    @property
    def num_labels(self) -> int:
        if "num_labels" in self.config:
            return int(self.config["num_labels"])
        return len(self.config.get("id2label", {"0": "LABEL_0"}))

    @property
    def uses_token_types(self) -> bool:
        """BERT-style models take segment ids; RoBERTa/XLM-R style ones (type_vocab_size 1) do not."""
        return int(self.config.get("type_vocab_size", 1)) > 1

    @property
    def max_length(self) -> int:
        """Longest pair the model takes: crossrank.json, else the tokenizer's limit, else the position table."""
        if "max_length" in self.settings:
            return int(self.settings["max_length"])
        sentence_config = self.root / "sentence_bert_config.json"
        if sentence_config.is_file() and "max_seq_length" in (declared := json.loads(sentence_config.read_text())):
            return int(declared["max_seq_length"])
        limits = [int(self.config.get("max_position_embeddings", 512))]
        if self.config.get("model_type") in {"roberta", "xlm-roberta", "camembert"}:
            limits[0] -= 2  # RoBERTa-style position ids start after the padding index
        tokenizer_config = self.root / "tokenizer_config.json"
        if tokenizer_config.is_file():
            declared = json.loads(tokenizer_config.read_text()).get("model_max_length")
            if isinstance(declared, int) and declared < 100_000:
                limits.append(declared)
        return min(limits)

    def onnx_file(self, int8: bool = False) -> Path | None:
        names = _INT8_ONNX_NAMES if int8 else ("model.onnx", "onnx/model.onnx")
        return next((self.root / n for n in names if (self.root / n).is_file()), None)

    def openvino_file(self) -> Path | None:
        path = self.root / "openvino" / "openvino_model.xml"
        return path if path.is_file() else None

    def torch_weights(self) -> Path | None:
        names = ("model.safetensors", "pytorch_model.bin")
        return next((self.root / n for n in names if (self.root / n).is_file()), None)

    def export_dir(self) -> Path:
        """Where exports and quantised copies of this model are cached: beside it, or the user cache; in a
        folder named after the weights they came from, so retrained or upgraded weights never reuse them."""
        import hashlib

        beside = self.root / "crossrank-exports"
        if os.access(self.root, os.W_OK):
            return beside / self.weights_fingerprint()
        digest = hashlib.sha256(str(self.root.resolve()).encode()).hexdigest()[:16]
        cache = Path(os.environ.get("CROSSRANK_CACHE", Path.home() / ".cache" / "crossrank"))
        return cache / "exports" / digest / self.weights_fingerprint()

    def weights_fingerprint(self) -> str:
        """Short digest of the weight file's name, size and modification time (cheap even for large models)."""
        import hashlib

        source = self.onnx_file() or self.torch_weights()
        if source is None:
            return "no-weights"
        stat = source.stat()
        return hashlib.sha256(f"{source.name}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]


def resolve_model(
    spec: str | Path | None,
    backend: str = "onnx",
    revision: str | None = None,
    head: str = "classification",
    default: Path | None = None,
) -> ModelFiles:
    """Turn a name into files on disk: None/"default" (`default`, else the shipped reranker), a folder, or a hub id."""
    if spec is None or str(spec) == DEFAULT_MODEL:
        return _load_folder(DEFAULT_MODEL, default or default_model_path(), head)
    path = Path(spec).expanduser()
    if path.is_dir():
        return _load_folder(str(spec), path, head)
    if path.exists() or str(spec).startswith((".", "/", "~")) or str(spec).count("/") != 1:
        raise ModelNotFoundError(f"model {str(spec)!r} is neither a model folder nor a Hugging Face id like 'org/name'")
    return _load_folder(str(spec), _download(str(spec), backend, revision), head)


def _load_folder(name: str, root: Path, head: str = "classification") -> ModelFiles:
    config_file = root / "config.json"
    if not config_file.is_file():
        raise ModelNotFoundError(f"{root} is not a model folder: config.json is missing")
    settings_file = root / "crossrank.json"
    settings = json.loads(settings_file.read_text()) if settings_file.is_file() else {}
    files = ModelFiles(name, root, json.loads(config_file.read_text()), settings, head)
    if not files.tokenizer_file.is_file():
        _write_tokenizer_json(files)
    return files


def _download(repo_id: str, backend: str, revision: str | None) -> Path:
    """Fetch the tokenizer and config, then the first kind of weights the repository has for this backend."""
    from huggingface_hub import snapshot_download

    try:
        for files in _SOURCES.get(backend, [_TORCH_FILES]):
            root = Path(snapshot_download(repo_id, revision=revision, allow_patterns=_TOKENIZER_FILES + files))
            if any((root / name).is_file() for name in files):
                return root
    except Exception as exc:  # huggingface_hub raises many types for offline/missing; all mean "not available"
        raise ModelNotFoundError(
            f"could not load {repo_id!r} from the Hugging Face hub or its local cache ({type(exc).__name__}). "
            "Without network access, download the model elsewhere and pass its folder: "
            "Reranker('/path/to/model') or --model /path/to/model"
        ) from exc
    raise ModelNotFoundError(f"{repo_id!r} has no weights crossrank can load (ONNX, OpenVINO or torch)")


def _write_tokenizer_json(files: ModelFiles) -> None:
    """Older repos ship only vocab files: convert them once with transformers (torch extra)."""
    try:
        from transformers import AutoTokenizer
    except ImportError as exc:
        raise ModelNotFoundError(
            f"{files.root} has no tokenizer.json; converting its tokenizer needs: pip install 'crossrank[torch]'"
        ) from exc
    tokenizer = AutoTokenizer.from_pretrained(str(files.root))
    files.tokenizer_file.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.backend_tokenizer.save(str(files.tokenizer_file))
