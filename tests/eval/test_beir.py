import json

import pytest

from crossrank import InvalidInputError
from crossrank.eval.beir import load_beir


def _write(folder, corpus, queries, qrels):
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(row) for row in corpus) + "\n")
    (folder / "queries.jsonl").write_text("\n".join(json.dumps(row) for row in queries) + "\n")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + qrels)


def test_loads_corpus_queries_and_qrels(tmp_path):
    _write(
        tmp_path,
        [{"_id": "d1", "title": "Title", "text": "Body."}, {"_id": "d2", "title": "", "text": "Only body."}],
        [{"_id": "q1", "text": "a question"}, {"_id": "q2", "text": "unjudged"}],
        "q1\td1\t1\n",
    )
    dataset = load_beir(tmp_path, "test")
    assert dataset.corpus["d1"].content == "Title. Body."
    assert dataset.corpus["d2"].content == "Only body."
    assert dataset.qrels == {"q1": {"d1": 1}}
    assert dataset.judged_query_ids == ["q1"]


def test_invalid_json_names_the_line(tmp_path):
    _write(tmp_path, [{"_id": "d1", "text": "x"}], [{"_id": "q1", "text": "y"}], "")
    (tmp_path / "corpus.jsonl").write_text('{"_id": "d1", "text": "x"}\n{broken\n')
    with pytest.raises(InvalidInputError, match="line 2"):
        load_beir(tmp_path, "test")


def test_missing_split_is_a_clear_error(tmp_path):
    _write(tmp_path, [{"_id": "d1", "text": "x"}], [{"_id": "q1", "text": "y"}], "")
    with pytest.raises(InvalidInputError, match=r"qrels/dev\.tsv"):
        load_beir(tmp_path, "dev")


def test_an_entry_without_id_is_named(tmp_path):
    _write(tmp_path, [{"_id": "d1", "text": "ok"}, {"title": "no id"}], [{"_id": "q1", "text": "q"}], "q1\td1\t1\n")
    with pytest.raises(InvalidInputError, match=r"corpus.jsonl: entry 2 is not an object with _id"):
        load_beir(tmp_path, "test")
