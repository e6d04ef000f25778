"""Turn (query, document) pairs into model inputs with the model's own tokenizer.

Only the document is truncated to fit `max_length`; the query has its own cap. Each encoded pair
remembers whether its document was cut, so results can say so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

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
        self._template: _PairTemplate | Literal[False] | None = None  # learnt from the first pair; False: post_process
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
        unique = list(dict.fromkeys(queries))  # a batch often holds a few queries many times
        encoded = self.tokenizer.encode_batch(unique, add_special_tokens=False)
        for encoding in encoded:
            encoding.truncate(self.max_query_tokens)
        by_text = dict(zip(unique, encoded))
        doc_encodings = self.tokenizer.encode_batch(list(documents), add_special_tokens=False)
        return [self._join(by_text[q], d) for q, d in zip(queries, doc_encodings)]

    def _join(self, query: Encoding, document: Encoding) -> EncodedPair:
        budget = self.max_length - self._specials - len(query.ids)
        truncated = len(document.ids) > budget
        if truncated:
            document = _copy(document)
            document.truncate(budget)
        if self._template is None:
            self._template = _PairTemplate.learn(self.tokenizer, query, document) or False
        if self._template:
            ids, type_ids = self._template.join(query.ids, document.ids)
            return EncodedPair(ids, type_ids, truncated)
        pair = self.tokenizer.post_process(query, document, add_special_tokens=True)
        return EncodedPair(list(pair.ids), list(pair.type_ids), truncated)


@dataclass(frozen=True)
class _PairTemplate:
    """The tokenizer's pair template as plain lists: `prefix query middle document suffix`.

    Joining lists is several times faster than `Tokenizer.post_process` per pair, which showed in the server's
    profile. Learnt from a real post-processed pair; tokenizers whose template has another shape keep post_process.
    """

    prefix: tuple[list[int], list[int]]
    middle: tuple[list[int], list[int]]
    suffix: tuple[list[int], list[int]]
    query_type: int
    document_type: int

    @classmethod
    def learn(cls, tokenizer: Tokenizer, query: Encoding, document: Encoding) -> _PairTemplate | None:
        if not query.ids or not document.ids:
            return None
        pair = tokenizer.post_process(query, document, add_special_tokens=True)
        content = [i for i, special in enumerate(pair.special_tokens_mask) if not special]
        if len(content) != len(query.ids) + len(document.ids):
            return None
        query_at, document_at = content[: len(query.ids)], content[len(query.ids) :]
        if query_at[-1] - query_at[0] + 1 != len(query_at) or document_at[-1] - document_at[0] + 1 != len(document_at):
            return None
        ids, types = pair.ids, pair.type_ids
        q0, q1, d0, d1 = query_at[0], query_at[-1] + 1, document_at[0], document_at[-1] + 1
        if not q1 <= d0:
            return None
        template = cls((ids[:q0], types[:q0]), (ids[q1:d0], types[q1:d0]), (ids[d1:], types[d1:]), types[q0], types[d0])
        joined = template.join(query.ids, document.ids)
        return template if joined == (list(ids), list(types)) else None

    def join(self, query: list[int], document: list[int]) -> tuple[list[int], list[int]]:
        ids = self.prefix[0] + query + self.middle[0] + document + self.suffix[0]
        types = (
            self.prefix[1]
            + [self.query_type] * len(query)
            + self.middle[1]
            + [self.document_type] * len(document)
            + self.suffix[1]
        )
        return ids, types


def _copy(encoding: Encoding) -> Encoding:
    """Encodings are mutable and shared by encode(); truncate a copy, never the caller's."""
    return Encoding.merge([encoding], growing_offsets=False)
