"""Title -> body pseudo-queries: made from a corpus alone, with fair negatives, and trained on by `fit`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from crossrank.train import MiningConfig, TrainConfig, fit
from crossrank.train.pseudo import title_queries

TOPICS = {
    "glacier": "ice sheets retreat as summers warm and meltwater carves channels beneath the moving ice",
    "volcano": "magma rises through the crust and erupts as lava ash and gas from a vent",
    "coral": "reef building polyps host algae and bleach when ocean water grows too warm",
    "desert": "dunes shift with the wind and rain falls so rarely that few plants survive",
    "tundra": "permafrost stays frozen below a thin summer layer where mosses and lichens grow",
    "estuary": "river water meets the tide and the brackish mix feeds fish birds and oysters",
}


def _body(topic: str) -> str:
    """A body of 30+ words about one topic."""
    return f"{TOPICS[topic]}. Field studies of the {topic} describe how {TOPICS[topic]} over many years."


def _write_corpus(root: Path) -> Path:
    rows = [{"_id": topic, "title": f"How the {topic} changes", "text": _body(topic)} for topic in TOPICS]
    rows += [
        {"_id": "glacier-copy", "title": "Glacier retreat, second printing", "text": _body("glacier")},
        {"_id": "short", "title": "A short note", "text": "Too short to query."},
        {"_id": "untitled", "title": "", "text": _body("coral")},
    ]
    root.mkdir(parents=True, exist_ok=True)
    (root / "corpus.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return root


def _animals_with_titled_documents(animals: Path, tmp_path: Path) -> Path:
    """The animals data set plus the titled topic documents, which are long enough to make pseudo-queries."""
    folder = Path(shutil.copytree(animals, tmp_path / "animals-plus"))
    with (folder / "corpus.jsonl").open("a") as corpus:
        for topic in TOPICS:
            corpus.write(json.dumps({"_id": topic, "title": f"How the {topic} changes", "text": _body(topic)}) + "\n")
    return folder


def test_titles_query_their_bodies_against_other_bodies_without_reading_queries_or_judgements(tmp_path):
    folder = _write_corpus(tmp_path / "corpus-only")  # no queries.jsonl, no qrels/
    pseudo = title_queries(folder, count=100, seed=3)
    assert sorted(pseudo.doc_ids) == sorted(f"body:{t}" for t in [*TOPICS, "glacier-copy"])  # titled, long enough
    assert len(pseudo.queries) == len(TOPICS) + 1
    for query in pseudo.queries:
        (positive,) = query.relevant
        doc_id = pseudo.doc_ids[positive].removeprefix("body:")
        assert query.text in {f"How the {doc_id} changes", "Glacier retreat, second printing"}
        assert pseudo.texts[positive] == _body(doc_id.removesuffix("-copy"))  # the body alone, no title
        assert positive not in query.given_negatives and query.given_negatives
    glacier = next(q for q in pseudo.queries if q.query_id == "title:glacier")
    copy = pseudo.doc_ids.index("body:glacier-copy")
    assert copy not in glacier.given_negatives  # the same text under another id is a false negative: skipped


def test_pseudo_queries_are_seeded_and_capped(tmp_path):
    folder = _write_corpus(tmp_path / "corpus-only")
    first, again, other = (title_queries(folder, count=3, seed=s) for s in (5, 5, 6))
    assert [q.query_id for q in first.queries] == [q.query_id for q in again.queries]
    assert len(first.queries) == 3
    assert {q.query_id for q in first.queries} != {q.query_id for q in other.queries}


def test_fit_adds_pseudo_queries_from_each_beir_source(animals, tmp_path):
    pytest.importorskip("torch")
    folder = _animals_with_titled_documents(animals, tmp_path)
    config = TrainConfig(max_steps=2, queries_per_step=4, group_size=4, eval_every=2, precision="fp32")
    mining = MiningConfig(retriever="bm25", pseudo_queries=4)
    quiet = {"show_progress": False, "log": lambda _: None}
    report = fit(folder, tmp_path / "run", config, mining, export=False, **quiet)
    assert report.pseudo_queries == 4
    assert report.training_queries == 18 + 4 and report.validation_queries == 6  # validation: real queries only


def test_resuming_with_other_pseudo_queries_is_refused(animals, tmp_path):
    pytest.importorskip("torch")
    from crossrank.errors import InvalidInputError

    folder = _animals_with_titled_documents(animals, tmp_path)
    config = TrainConfig(max_steps=2, queries_per_step=4, group_size=4, eval_every=2, precision="fp32")
    quiet = {"show_progress": False, "log": lambda _: None}
    fit(folder, tmp_path / "run", config, MiningConfig(retriever="bm25", pseudo_queries=2), export=False, **quiet)
    with pytest.raises(InvalidInputError, match="other training data"):
        mining = MiningConfig(retriever="bm25", pseudo_queries=4)
        fit(folder, tmp_path / "run", config, mining, resume=True, export=False, **quiet)
