from crossrank.models import default_model_path
from crossrank.rerank.encoding import PairEncoder


def _encoder(max_length: int = 32, max_query_tokens: int = 8) -> PairEncoder:
    return PairEncoder.from_file(default_model_path(), max_length, max_query_tokens)


def test_pair_layout_is_cls_query_sep_document_sep():
    encoder = _encoder()
    (pair,) = encoder.encode("token time", ["the token is old"])
    tokens = [encoder.tokenizer.id_to_token(i) for i in pair.input_ids]
    assert tokens == ["[CLS]", "token", "time", "[SEP]", "the", "token", "is", "old", "[SEP]"]
    assert pair.token_type_ids == [0, 0, 0, 0, 1, 1, 1, 1, 1]
    assert not pair.doc_truncated


def test_only_the_document_is_truncated_and_flagged():
    encoder = _encoder(max_length=16, max_query_tokens=8)
    query = "a short query"
    long_doc = " ".join(["word"] * 50)
    short, long = encoder.encode(query, ["word word", long_doc])
    assert not short.doc_truncated and long.doc_truncated
    assert len(long) == 16
    query_ids = encoder.tokenizer.encode(query, add_special_tokens=False).ids
    assert long.input_ids[1 : 1 + len(query_ids)] == query_ids


def test_query_has_its_own_cap():
    encoder = _encoder(max_length=64, max_query_tokens=4)
    (pair,) = encoder.encode("one two three four five six seven", ["doc"])
    assert pair.token_type_ids.count(0) == 4 + 2  # capped query plus [CLS] and [SEP]
    assert not pair.doc_truncated


def test_encode_pairs_matches_encode_for_one_query():
    encoder = _encoder()
    docs = ["first document text", "second one", ""]
    assert encoder.encode_pairs(["same query"] * 3, docs) == encoder.encode("same query", docs)


def _post_processed(encoder: PairEncoder, query: str, docs: list[str]) -> list[tuple[list[int], list[int]]]:
    """The reference: the tokenizer's own post_process on every pair."""
    tokenizer = encoder.tokenizer
    q = tokenizer.encode(query, add_special_tokens=False)
    q.truncate(encoder.max_query_tokens)
    out = []
    for doc in docs:
        d = tokenizer.encode(doc, add_special_tokens=False)
        d.truncate(encoder.max_length - encoder._specials - len(q.ids))
        pair = tokenizer.post_process(q, d, add_special_tokens=True)
        out.append((pair.ids, pair.type_ids))
    return out


def _roberta_style_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    vocab = {t: i for i, t in enumerate(["<pad>", "<s>", "</s>", "<unk>", "a", "b", "c", "query", "doc"])}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 1))
    return tokenizer


def test_fast_pair_join_equals_the_tokenizers_post_process():
    docs = ["the token is old", "x", " ".join(["word"] * 50), "another document about tokens"]
    bert = _encoder(max_length=24, max_query_tokens=6)
    got = [(p.input_ids, p.token_type_ids) for p in bert.encode("when do tokens expire soon", docs)]
    assert got == _post_processed(bert, "when do tokens expire soon", docs)

    roberta = PairEncoder(_roberta_style_tokenizer(), max_length=12, max_query_tokens=3)
    docs = ["doc a b", "c c c c c c c c c c c c", "a"]
    got = [(p.input_ids, p.token_type_ids) for p in roberta.encode("query a b c", docs)]
    assert got == _post_processed(roberta, "query a b c", docs)
    assert got[0][0][:2] == [1, 7] and got[0][0].count(2) == 3  # <s> query </s></s> doc </s>
