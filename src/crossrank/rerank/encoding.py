"""Turn (query, document) pairs into model inputs with the model's own tokenizer.

Only the document is truncated to fit `max_length`; the query has its own cap. Each encoded pair
remembers whether its document was cut, so results can say so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tokenizers import Encoding, Tokenizer

DEFAULT_QUERY_TOKENS = 64


@dataclass(frozen=True)
class EncodedPair:
    """Token ids of one pair, ready for the model."""

    input_ids: list[int]
    token_type_ids: list[int]
    doc_truncated: bool

    def __len__(self) -> int:
        return len(self.input_ids)


class PairEncoder:
    """Encode query/document pairs: `[CLS] query [SEP] document [SEP]` for BERT, the model's pair template otherwise."""

    def __init__(self, tokenizer: Tokenizer, max_length: int = 512, max_query_tokens: int = DEFAULT_QUERY_TOKENS):
        self.tokenizer = tokenizer
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.max_length = max_length
        self.max_query_tokens = max_query_tokens
        self._specials = tokenizer.num_special_tokens_to_add(is_pair=True)
        self.pad_id = self._pad_id(tokenizer)
        if max_length - self._specials - max_query_tokens < 1:
            raise ValueError(f"max_length={max_length} leaves no room for the document")

    @classmethod
    def from_file(
        cls, path: str | Path, max_length: int = 512, max_query_tokens: int = DEFAULT_QUERY_TOKENS
    ) -> PairEncoder:
        """Load `tokenizer.json` from a model folder or file."""
        path = Path(path)
        tokenizer_file = path / "tokenizer.json" if path.is_dir() else path
        return cls(Tokenizer.from_file(str(tokenizer_file)), max_length, max_query_tokens)

    @staticmethod
    def _pad_id(tokenizer: Tokenizer) -> int:
        for token in ("[PAD]", "<pad>"):
            token_id = tokenizer.token_to_id(token)
            if token_id is not None:
                return int(token_id)
        return 0

    def encode(self, query: str, documents: Sequence[str]) -> list[EncodedPair]:
        """Encode one query against many documents (the query is tokenized once)."""
        query_encoding = self.tokenizer.encode(query, add_special_tokens=False)
        query_encoding.truncate(self.max_query_tokens)
        doc_encodings = self.tokenizer.encode_batch(list(documents), add_special_tokens=False)
        return [self._join(query_encoding, doc) for doc in doc_encodings]

    def encode_pairs(self, queries: Sequence[str], documents: Sequence[str]) -> list[EncodedPair]:
        """Encode pairs with a query each (queries may repeat)."""
        query_encodings = self.tokenizer.encode_batch(list(queries), add_special_tokens=False)
        for encoding in query_encodings:
            encoding.truncate(self.max_query_tokens)
        doc_encodings = self.tokenizer.encode_batch(list(documents), add_special_tokens=False)
        return [self._join(q, d) for q, d in zip(query_encodings, doc_encodings)]

    def _join(self, query: Encoding, document: Encoding) -> EncodedPair:
        budget = self.max_length - self._specials - len(query.ids)
        truncated = len(document.ids) > budget
        if truncated:
            document = _copy(document)
            document.truncate(budget)
        pair = self.tokenizer.post_process(query, document, add_special_tokens=True)
        return EncodedPair(list(pair.ids), list(pair.type_ids), truncated)


def _copy(encoding: Encoding) -> Encoding:
    """Encodings are mutable and shared by encode(); truncate a copy, never the caller's."""
    return Encoding.merge([encoding], growing_offsets=False)
