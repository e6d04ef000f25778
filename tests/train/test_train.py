"""`crossrank train`: real fine-tuning of the shipped model on a small dataset made in conftest."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from crossrank.errors import InvalidInputError
from crossrank.rerank.reranker import Reranker
from crossrank.train import MiningConfig, TrainConfig, fit
from crossrank.train.data import load_training_set
from crossrank.train.fit import held_out_split
from crossrank.train.mining import FirstStage, mine_hard_negatives
from crossrank.train.trainer import Validation

pytest.importorskip("torch")

QUIET = {"show_progress": False, "log": lambda _: None}


def _config(**changes) -> TrainConfig:
    settings = {"max_steps": 6, "queries_per_step": 4, "group_size": 4, "eval_every": 3, "precision": "fp32"}
    return TrainConfig(**{**settings, **changes})


def _final_weights(folder, part="model"):
    import torch

    return torch.load(folder / "checkpoint.pt", weights_only=False)[part]


def test_fit_trains_validates_and_exports_a_model_the_reranker_loads(animals, tmp_path):
    report = fit(animals, tmp_path / "run", _config(), MiningConfig(retriever="bm25"), **QUIET)
    assert report.training_queries == 18 and report.validation_queries == 6  # dev split used for validation
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert [h["step"] for h in history] == [0, 3, 6]
    assert report.best_ndcg == max(h["val_ndcg@10"] for h in history)
    assert report.export["onnx_vs_torch_max_abs_logit"] < 1e-3
    assert report.export["onnx-fp32"]["val_ndcg@10"] > 0
    weight, table = report.fusion["weights"]["bm25"], report.fusion["by_weight"]["bm25"]
    assert table[str(weight)]["ndcg@10"] == max(row["ndcg@10"] for row in table.values())  # one source: the best
    settings = json.loads((tmp_path / "run" / "model" / "crossrank.json").read_text())
    assert settings["fusion_weights"] == {"bm25": weight}
    assert settings["calibration"]["slope"] == report.calibration["slope"]
    assert report.calibration["ece_after"] <= report.calibration["ece_before"] + 1e-9
    reranker = Reranker(tmp_path / "run" / "model")
    best = reranker.rerank("what does the otter eat", ["The otter lives in rivers.", "The otter mostly eats clams."])
    assert best[0].index == 1


@pytest.mark.parametrize("ema", [0.0, 0.9])
def test_an_interrupted_run_resumes_to_the_same_weights(animals, tmp_path, ema):
    mining = MiningConfig(retriever="bm25")
    fit(animals, tmp_path / "straight", _config(eval_every=2, patience=10, ema=ema), mining, export=False, **QUIET)

    def interrupt(step: int) -> None:
        if step == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(
            animals,
            tmp_path / "cut",
            _config(eval_every=2, patience=10, ema=ema),
            mining,
            export=False,
            on_step=interrupt,
            **QUIET,
        )
    before = {f.name: f.read_bytes() for f in (tmp_path / "cut").iterdir() if f.is_file()}
    with pytest.raises(InvalidInputError, match="--resume"):
        other_split = MiningConfig(retriever="bm25", validation_split=None, validation_fraction=0.3, split_seed=99)
        fit(animals, tmp_path / "cut", _config(eval_every=2, patience=10, ema=ema), other_split, export=False, **QUIET)
    assert {f.name: f.read_bytes() for f in (tmp_path / "cut").iterdir() if f.is_file()} == before  # nothing written
    with pytest.raises(InvalidInputError, match="group_size"):
        config = _config(eval_every=2, patience=10, group_size=3, ema=ema)
        fit(animals, tmp_path / "cut", config, mining, resume=True, **QUIET)
    config = _config(eval_every=2, patience=10, ema=ema)
    report = fit(animals, tmp_path / "cut", config, mining, resume=True, export=False, **QUIET)
    assert report.steps == 6
    for part in ("model", "ema") if ema else ("model",):
        straight, resumed = _final_weights(tmp_path / "straight", part), _final_weights(tmp_path / "cut", part)
        assert straight.keys() == resumed.keys()
        assert all((straight[k] == resumed[k]).all() for k in straight)
    if ema:  # the average, not the last step's weights, is what validation scored and best/ keeps
        averaged, last = _final_weights(tmp_path / "cut", "ema"), _final_weights(tmp_path / "cut", "model")
        assert any(not (averaged[f"module.{k}"] == v).all() for k, v in last.items())


def test_listwise_training_improves_validation_from_a_fresh_head(animals, tmp_path):
    config = _config(base="all-MiniLM-L6-v2", max_steps=30, eval_every=10, learning_rate=1e-4, patience=5)
    report = fit(animals, tmp_path / "fresh", config, MiningConfig(retriever="bm25"), export=False, **QUIET)
    history = json.loads((tmp_path / "fresh" / "history.json").read_text())
    assert history[-1]["val_ndcg@10"] > history[0]["val_ndcg@10"] + 0.1  # a random head ranks poorly at step 0
    assert report.best_ndcg >= history[-1]["val_ndcg@10"]


def test_mining_skips_judged_documents_and_near_duplicates_of_the_positive(animals):
    data = load_training_set(animals, "train")
    stage = FirstStage(data.texts, "bm25", show_progress=False)
    mined = mine_hard_negatives(stage, data.queries, depth=10, max_similarity_ratio=1e9)
    for query, result in zip(data.queries, mined):
        assert not set(result.negatives) & query.judged
        assert result.positives == list(query.relevant)
    strict = mine_hard_negatives(stage, data.queries, depth=10, max_similarity_ratio=0.5)
    for query, result in zip(data.queries, strict):
        ceiling = 0.5 * stage.similarity(query.text, result.positives).max()
        assert all(stage.similarity(query.text, [n])[0] <= ceiling for n in result.negatives)
    assert sum(map(len, (m.negatives for m in strict))) < sum(map(len, (m.negatives for m in mined)))
    skipped = mine_hard_negatives(stage, data.queries, depth=10, skip_top=5, max_similarity_ratio=1e9)
    assert all(len(s.negatives) <= len(m.negatives) for s, m in zip(skipped, mined))


def test_hybrid_first_stage_fuses_bm25_and_dense(animals):
    data = load_training_set(animals, "train")
    stage = FirstStage(data.texts, "hybrid", show_progress=False)
    (hits,) = stage.search(["where does the heron live"], 5)
    assert data.doc_ids[hits[0][0]] == "heron-home"
    scores = [score for _, score in hits]
    assert scores == sorted(scores, reverse=True) and scores[0] <= 2 / 61  # RRF (k=60) over two lists
    assert -1.0 <= stage.similarity("where does the heron live", [hits[0][0]])[0] <= 1.0  # the filter: cosine


def test_jsonl_pairs_with_given_negatives(tmp_path):
    rows = [
        {"query": "what does the otter eat", "positive": "The otter eats clams.", "negatives": ["Otters swim."]},
        {"query": "where do herons nest", "positive": ["Herons nest in trees."]},
        {"query": "how big is a moose", "positive": "A moose stands two metres tall.", "negatives": ["Moose eat."]},
    ]
    file = tmp_path / "pairs.jsonl"
    file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    data = load_training_set(file)
    assert len(data.queries) == 3 and data.queries[0].given_negatives == [data.texts.index("Otters swim.")]
    file.write_text('{"query": "q", "positive": "p"}\n{"query": "q2"}\n')
    with pytest.raises(InvalidInputError, match=r"pairs\.jsonl:2: .positive. is missing"):
        load_training_set(file)
    file.write_text("not json\n")
    with pytest.raises(InvalidInputError, match=r"pairs\.jsonl:1: not valid JSON"):
        load_training_set(file)


def test_margin_mse_needs_a_teacher_and_losses_agree_with_their_definitions():
    import torch

    from crossrank.train.losses import group_loss

    with pytest.raises(InvalidInputError, match="teacher"):
        TrainConfig(loss="margin-mse").check()
    scores = torch.tensor([[3.0, 1.0, 0.0]])
    assert group_loss("margin-mse", scores, scores + 5).item() == pytest.approx(0.0)  # same margins
    expected = -torch.log_softmax(scores, dim=1)[0, 0]
    assert group_loss("listwise", scores).item() == pytest.approx(expected.item())
    bce = torch.nn.functional.binary_cross_entropy_with_logits(scores, torch.tensor([[1.0, 0.0, 0.0]]))
    assert group_loss("bce", scores).item() == pytest.approx(bce.item())


def test_cli_reports_bad_input_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "crossrank.cli.main", "train", str(tmp_path / "missing"), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: {tmp_path / 'missing'}: no such file or folder"]


def test_several_sources_train_together_each_validated_on_its_own(animals, tmp_path):
    rows = [
        {"query": f"what colour is the {animal}", "positive": f"The {animal} is {colour}."}
        for animal, colour in [("otter", "brown"), ("heron", "grey"), ("toucan", "black"), ("newt", "orange")] * 3
    ]
    pairs = tmp_path / "colours.jsonl"
    pairs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = _config(max_steps=2, eval_every=2)
    report = fit([animals, pairs], tmp_path / "mixed", config, MiningConfig(retriever="bm25"), export=False, **QUIET)
    assert report.training_queries == 18 + 11 and report.validation_queries == 6 + 1
    last = json.loads((tmp_path / "mixed" / "history.json").read_text())[-1]
    by_source = [value for key, value in last.items() if key.startswith("val_ndcg@10/")]
    assert len(by_source) == 2 and last["val_ndcg@10"] == pytest.approx(sum(by_source) / 2)  # 6 do not outvote 1


def test_each_sources_negatives_and_candidates_come_from_its_own_corpus(animals, tmp_path):
    from crossrank.train.mining import SourceFirstStages

    rows = [{"query": f"what does the {a} eat", "positive": f"The {a} eats {f}."} for a, f in [("otter", "fish")] * 3]
    pairs = tmp_path / "otters.jsonl"
    pairs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    parts = [load_training_set(animals, "train"), load_training_set(pairs)]
    stages = SourceFirstStages(parts, "bm25", show_progress=False)
    offset = len(parts[0].texts)
    mined = stages.mine([p.queries for p in parts], depth=10, max_similarity_ratio=1e9)
    assert len(mined) == len(parts[0].queries) + len(parts[1].queries)
    own = [range(offset)] * len(parts[0].queries) + [range(offset, offset + len(parts[1].texts))] * 3
    assert all(set(m.positives + m.negatives) <= set(r) for m, r in zip(mined, own))
    assert any(m.negatives for m in mined[: len(parts[0].queries)])
    query = "what does the otter eat"
    animal_hits, otter_hits = stages.search([[query], [query]], 5, "bm25")
    assert all(doc < offset for doc, _ in animal_hits) and all(doc >= offset for doc, _ in otter_hits)


def _two_source_validation() -> Validation:
    """Source a: the first stage ranks the relevant document last and the model ranks it first. Source b: the first
    stage ranks it first and the model puts another above it. Any weight that helps a (w > 1/2) hurts b (w > 1/3)."""
    return Validation(
        queries=["qa", "qb"],
        query_ids=["a/q", "b/q"],
        candidates=[[0, 1, 2], [3, 4, 5]],
        qrels={"a/q": {"d2": 1}, "b/q": {"d3": 1}},
        doc_ids=[f"d{i}" for i in range(6)],
        texts=[""] * 6,
        first_stage=[[3.0, 2.0, 1.0], [3.0, 2.0, 1.0]],
        sources=["a", "b"],
    )


def test_the_fusion_weight_never_buys_one_sources_gain_with_anothers_loss():
    from crossrank.rerank.fusion import fuse_scores

    validation = _two_source_validation()
    model = [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    fused = [fuse_scores(m, f, 0.8) for m, f in zip(model, validation.first_stage)]
    assert validation.ndcg(fused) > validation.first_stage_ndcg()  # the best mean would take w = 0.8 ...
    weight, table = validation.fusion_sweep(model)
    assert weight == 0.0  # ... at b's expense, so the sweep keeps the first stage
    assert all(row["worst_gain"] < 0 for w, row in table.items() if w > 0.5)
    helpful = [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]  # the model agrees with b's first stage: fusing costs nothing
    weight, table = validation.fusion_sweep(helpful)
    assert 0.45 < weight <= 0.55 and table[weight]["worst_gain"] == 0.0  # the smallest weight that lifts a
    assert table[weight]["ndcg@10"] > table[0.0]["ndcg@10"]


def test_union_mines_each_retrievers_own_top_and_a_hybrid_index_serves_every_stage(animals):
    data = load_training_set(animals, "train")
    query = ["where does the heron live"]
    union = FirstStage(data.texts, "union", show_progress=False)
    (bm25,), (dense,), (both,) = (union.search(query, 4, stage) for stage in ("bm25", "dense", "union"))
    expected = [d for d, _ in bm25] + [d for d, _ in dense if d not in {b for b, _ in bm25}]
    assert [d for d, _ in both] == expected and len(set(expected)) == len(expected)
    assert union.stages == ["bm25", "dense", "hybrid"] and MiningConfig("union").validation_stages() == ["hybrid"]
    assert union.search(query, 4, "hybrid") == FirstStage(data.texts, "hybrid", show_progress=False).search(query, 4)
    with pytest.raises(ValueError, match="cannot search by dense"):
        FirstStage(data.texts, "bm25", show_progress=False).search(query, 4, "dense")


def test_ctrl_c_finishes_the_step_saves_a_checkpoint_and_resume_completes(animals, tmp_path):
    import signal
    import time

    import torch

    out = tmp_path / "run"
    command = [sys.executable, "-m", "crossrank.cli.main", "train", str(animals), "--out", str(out)]
    command += ["--base", "default", "--max-steps", "150", "--queries-per-step", "4", "--group-size", "4"]
    command += ["--retriever", "bm25", "--precision", "fp32", "--patience", "1000", "--eval-every", "1000"]
    command += ["--no-export", "--quiet"]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "history.json").is_file() and time.monotonic() < deadline:  # the start evaluation is done
        time.sleep(0.1)
    time.sleep(1.0)
    child.send_signal(signal.SIGINT)
    assert child.wait(timeout=60) == 130
    assert "checkpoint saved" in (child.stderr.read() if child.stderr else "")
    step = torch.load(out / "checkpoint.pt", weights_only=False)["state"]["step"]
    assert 0 < step < 150
    finished = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert json.loads(finished.stdout)["steps"] == 150


def test_a_capped_validation_split_is_a_seeded_sample_not_the_first_queries(animals):
    from crossrank.train.fit import held_out_split

    dev = [q.query_id for q in load_training_set(animals, "dev").queries]
    picks = [
        [q.query_id for q in held.queries]
        for seed in (1, 1, 2, 3, 4)
        for _, (_, held) in held_out_split([animals], "train", MiningConfig(validation_queries=3), seed)
    ]
    assert picks[0] == picks[1] and len(picks[0]) == 3  # the same seed, the same queries
    assert all(p == sorted(p, key=dev.index) for p in picks)  # kept in file order
    assert any(p != dev[:3] for p in picks)  # not always the head of the file
    assert len({tuple(p) for p in picks}) > 1


def test_a_fixed_split_seed_keeps_the_validation_queries_while_the_training_seed_varies(animals, tmp_path):
    mining = MiningConfig(retriever="bm25", validation_split=None, validation_fraction=0.3, split_seed=5)
    held = []
    for seed in (1, 2):
        fit(animals, tmp_path / f"seed{seed}", _config(seed=seed, max_steps=2), mining, export=False, **QUIET)
        held.append(json.loads((tmp_path / f"seed{seed}" / "validation_queries.json").read_text()))
    ((name, ids),) = held[0].items()  # one source, named after its folder
    assert held[0] == held[1] and len(ids) >= 3 and name == animals.name
    by_fraction = MiningConfig(validation_split=None, validation_fraction=0.3)
    others = [
        [q.query_id for q in h.queries]
        for seed in range(6)
        for _, (_, h) in held_out_split([animals], "train", by_fraction, seed)
    ]
    assert any(other != ids for other in others)  # the split does depend on its seed


def _held_out_candidates(folder, mining: MiningConfig) -> tuple[str, dict[str, Validation]]:
    """The source's name, and its held-out queries (split as `fit` splits them) with BM25's and hybrid's top 100."""
    ((name, (train, held)),) = held_out_split([folder], "train", mining, TrainConfig().seed)
    texts, sources = [q.text for q in held.queries], [name] * len(held.queries)
    index = FirstStage(train.texts, "hybrid", show_progress=False)
    ranked = {stage: index.search(texts, 100, stage) for stage in ("bm25", "hybrid")}
    return name, {stage: Validation.build(held, hits, sources) for stage, hits in ranked.items()}


def _saved_validation_digest(run) -> str:
    import torch

    return torch.load(run / "checkpoint.pt", weights_only=False)["validation"]


def test_validation_ranks_the_chosen_first_stages_candidates_and_resume_keeps_them(animals, tmp_path):
    mining = MiningConfig(retriever="hybrid", validation_retriever="bm25")
    report = fit(animals, tmp_path / "run", _config(max_steps=2, eval_every=1), mining, export=False, **QUIET)
    _, expected = _held_out_candidates(animals, mining)
    assert expected["bm25"].digest() != expected["hybrid"].digest()  # the two stages rank the held-out set apart
    assert _saved_validation_digest(tmp_path / "run") == expected["bm25"].digest()
    assert report.first_stage_ndcg == pytest.approx(expected["bm25"].first_stage_ndcg())
    with pytest.raises(InvalidInputError, match="validation candidates"):
        fit(animals, tmp_path / "run", _config(max_steps=2, eval_every=1), MiningConfig("hybrid"), resume=True, **QUIET)


def test_validation_on_several_first_stages_is_the_mean_of_each_source_and_stage(animals, tmp_path):
    mining = MiningConfig(retriever="union", validation_retriever="bm25,hybrid")
    report = fit(animals, tmp_path / "run", _config(max_steps=2, eval_every=1), mining, export=False, **QUIET)
    name, each = _held_out_candidates(animals, mining)
    assert _saved_validation_digest(tmp_path / "run") == Validation.combine(each).digest()
    assert report.first_stage_ndcg == pytest.approx(np.mean([v.first_stage_ndcg() for v in each.values()]))
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert {f"val_ndcg@10/{name}/bm25", f"val_ndcg@10/{name}/hybrid"} <= set(history[-1])


@pytest.mark.parametrize(
    ("retriever", "stage", "message"),
    [("bm25", "dense", "needs --retriever dense, hybrid or union"), ("union", "bm25,rrf", "takes bm25, dense, hybrid")],
)
def test_a_validation_retriever_the_index_cannot_serve_is_refused_before_anything_is_written(
    animals, tmp_path, retriever, stage, message
):
    mining = MiningConfig(retriever=retriever, validation_retriever=stage)
    with pytest.raises(InvalidInputError, match=message):
        fit(animals, tmp_path / "run", _config(), mining, **QUIET)
    assert not (tmp_path / "run").exists()
