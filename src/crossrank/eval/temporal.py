"""A temporal-validity benchmark, generated: facts that change over time, and queries for their current value.

Each fact (a subject and an attribute, e.g. the request limit of the "Velmark API") has 2-5 versions, each a
sentence with its own date, source and confidence; only the newest is valid now. Around them: near-duplicate
distractors (the same subject and a related attribute), unrelated documents, and access histories that make
some documents popular, old versions included. Most queries ask for the current value; some ask about a
past year, whose answer is the version valid then. All text is written by this project; names are invented.

    python -m crossrank.eval.temporal generate --docs 10000 --seed 0 --out runs/temporal
    python -m crossrank.eval.temporal run runs/temporal --split test

The folder is BEIR-layout (corpus.jsonl with metadata, queries.jsonl, qrels/dev.tsv and qrels/test.tsv) plus
accesses.jsonl ({"doc_id", "at"}), so `crossrank eval` and `crossrank tune` read it too.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)  # the benchmark's "today": scoring runs with this clock

_PREFIXES = [
    "Vel",
    "Nor",
    "Kar",
    "Lum",
    "Tre",
    "Ost",
    "Bri",
    "Cal",
    "Dun",
    "Fen",
    "Hal",
    "Ivo",
    "Jor",
    "Kel",
    "Mar",
    "Nes",
    "Orr",
    "Pel",
    "Quin",
    "Ros",
    "Sal",
    "Tav",
    "Ulm",
    "Ver",
    "Wyn",
    "Zor",
]
_SUFFIXES = [
    "mark",
    "wind",
    "ora",
    "ix",
    "ton",
    "vale",
    "gate",
    "field",
    "crest",
    "brook",
    "haven",
    "stone",
    "ridge",
    "port",
    "well",
    "moor",
]
_FIRST = [
    "Amira",
    "Bruno",
    "Chen",
    "Dalia",
    "Emil",
    "Farah",
    "Goran",
    "Hana",
    "Ilse",
    "Jonas",
    "Keiko",
    "Lars",
    "Mina",
    "Nadia",
    "Omar",
    "Priya",
    "Rafael",
    "Sofia",
    "Tomas",
    "Yara",
]
_LAST = [
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Tanaka",
    "Novak",
    "Haddad",
    "Ferreira",
    "Kowalski",
    "Sato",
    "Brennan",
    "Alvarez",
    "Petrov",
    "Nakamura",
    "Osei",
]
_CITIES = [
    "Lisbon",
    "Tallinn",
    "Porto",
    "Gdansk",
    "Lyon",
    "Utrecht",
    "Graz",
    "Bergen",
    "Turku",
    "Malmo",
    "Ghent",
    "Bilbao",
    "Leipzig",
    "Aarhus",
    "Brno",
]
_SOURCES = ["release notes", "press office", "status page", "wiki", "support forum", "annual report"]


@dataclass(frozen=True)
class Attribute:
    """One kind of changing fact: how a version reads, how the question reads, and how values are drawn."""

    name: str
    statement: str  # {s} subject, {v} value
    question: str
    past_question: str  # {y} year
    distractor: str  # a related, different fact about the same subject
    value: Callable[[random.Random], str]


ATTRIBUTES = [
    Attribute(
        "rate limit",
        "The {s} API allows {v} requests per minute for each key.",
        "How many requests per minute does the {s} API allow?",
        "How many requests per minute did the {s} API allow in {y}?",
        "The {s} sandbox API allows {v} requests per minute for testing.",
        lambda r: str(r.choice(range(50, 5001, 50))),
    ),
    Attribute(
        "chief executive",
        "{v} is the chief executive of {s}.",
        "Who is the chief executive of {s}?",
        "Who was the chief executive of {s} in {y}?",
        "{v} chairs the advisory board of {s}.",
        lambda r: f"{r.choice(_FIRST)} {r.choice(_LAST)}",
    ),
    Attribute(
        "headquarters",
        "{s} has its headquarters in {v}.",
        "Where does {s} have its headquarters?",
        "Where did {s} have its headquarters in {y}?",
        "{s} opened a small sales office in {v}.",
        lambda r: r.choice(_CITIES),
    ),
    Attribute(
        "price",
        "A monthly subscription to {s} costs {v} euros.",
        "How much does a monthly subscription to {s} cost?",
        "How much did a monthly subscription to {s} cost in {y}?",
        "A yearly student plan for {s} costs {v} euros in total.",
        lambda r: str(r.randint(4, 99)),
    ),
    Attribute(
        "log retention",
        "{s} keeps audit logs for {v} days before deleting them.",
        "How long does {s} keep audit logs?",
        "How long did {s} keep audit logs in {y}?",
        "{s} keeps debug traces for {v} hours before deleting them.",
        lambda r: str(r.choice([7, 14, 30, 60, 90, 180, 365])),
    ),
    Attribute(
        "stable release",
        "The latest stable release of {s} is version {v}.",
        "What is the latest stable release of {s}?",
        "What was the latest stable release of {s} in {y}?",
        "The {s} preview channel currently ships build {v}.",
        lambda r: f"{r.randint(1, 9)}.{r.randint(0, 20)}",
    ),
    Attribute(
        "support hours",
        "The {s} support desk answers calls from {v} on weekdays.",
        "When does the {s} support desk answer calls?",
        "When did the {s} support desk answer calls in {y}?",
        "The {s} billing team replies to email from {v} on weekdays.",
        lambda r: f"{r.randint(6, 10)}:00 to {r.randint(16, 22)}:00",
    ),
]

UNRELATED = [
    "Sourdough starters need regular feedings of flour and water to stay active.",
    "Tomato plants want at least six hours of direct sunlight a day.",
    "A marathon training plan usually builds weekly mileage over about sixteen weeks.",
    "Cast iron pans should be dried right after washing so they do not rust.",
    "The Pythagorean theorem relates the three sides of a right triangle.",
    "Bees communicate the direction of food sources with a waggle dance.",
    "Reading aloud to children helps them learn new words.",
    "A B-tree index keeps keys sorted so that range lookups stay fast.",
    "Glaciers move slowly downhill under their own weight.",
    "Composting kitchen scraps returns nutrients to garden soil.",
    "Cyclists lower their air resistance by riding in a tight group.",
    "Fermented foods such as kimchi rely on lactic acid bacteria.",
    "Passwords should be stored with a slow, salted hash such as Argon2id.",
    "Lighthouses once used clockwork to rotate their lenses at night.",
    "A sextant measures the angle between a star and the horizon.",
    "Rainwater barrels can supply a small garden through a dry summer.",
]


def generate(folder: Path, documents: int = 10_000, seed: int = 0, queries: int = 600) -> dict[str, int]:
    """Write the benchmark to `folder`; returns counts. Same seed and size, same files."""
    rng = random.Random(seed)
    corpus: list[dict[str, object]] = []
    query_rows: list[dict[str, str]] = []
    qrels: list[tuple[str, str]] = []
    subjects = _subjects(rng)
    facts = 0
    while len(corpus) < documents * 0.8 and facts < len(subjects) * len(ATTRIBUTES):
        subject = subjects[facts % len(subjects)]
        attribute = ATTRIBUTES[(facts // len(subjects) + facts) % len(ATTRIBUTES)]
        versions = _fact(rng, facts, subject, attribute)
        corpus += versions
        corpus.append(_distractor(rng, facts, subject, attribute))
        query_rows, qrels = _queries(rng, facts, subject, attribute, versions, query_rows, qrels)
        facts += 1
    while len(corpus) < documents:
        corpus.append(_unrelated(rng, len(corpus)))
    corpus = corpus[:documents]
    kept = {str(d["_id"]) for d in corpus}
    judged = [(q, d) for q, d in qrels if d in kept]
    chosen = rng.sample(range(len(judged)), min(queries, len(judged)))
    _write(folder, corpus, query_rows, [judged[i] for i in sorted(chosen)], _accesses(rng, corpus))
    return {"documents": len(corpus), "facts": facts, "queries": len(chosen)}


def _subjects(rng: random.Random) -> list[str]:
    kinds = ["API", "Cloud", "Bank", "Airlines", "Labs", "Energy", "Health", "Foods", "Media", "Robotics"]
    names = [f"{p}{s}" for p in _PREFIXES for s in _SUFFIXES]
    rng.shuffle(names)
    return [f"{name} {rng.choice(kinds)}" if i % 2 else name for i, name in enumerate(names)]


def _fact(rng: random.Random, number: int, subject: str, attribute: Attribute) -> list[dict[str, object]]:
    count = rng.randint(2, 5)
    start = NOW - timedelta(days=rng.randint(900, 1500))
    moments = sorted(start + timedelta(days=rng.randint(0, 880)) for _ in range(count))
    values: list[str] = []
    while len(values) < count:
        value = attribute.value(rng)
        if value not in values:
            values.append(value)
    key = f"fact-{number}"
    return [
        {
            "_id": f"{key}-v{i + 1}",
            "title": "",
            "text": attribute.statement.format(s=subject, v=value),
            "metadata": {
                "key": key,
                "created_at": moment.isoformat(),
                "source": rng.choice(_SOURCES),
                "confidence": round(rng.uniform(0.6, 0.95), 2),
                "entities": [subject.split()[0], subject] if " " in subject else [subject],
            },
        }
        for i, (moment, value) in enumerate(zip(moments, values))
    ]


def _distractor(rng: random.Random, number: int, subject: str, attribute: Attribute) -> dict[str, object]:
    moment = NOW - timedelta(days=rng.randint(1, 400))
    return {
        "_id": f"fact-{number}-near",
        "title": "",
        "text": attribute.distractor.format(s=subject, v=attribute.value(rng)),
        "metadata": {
            "created_at": moment.isoformat(),
            "source": rng.choice(_SOURCES),
            "confidence": round(rng.uniform(0.6, 0.95), 2),
            "entities": [subject],
        },
    }


def _unrelated(rng: random.Random, number: int) -> dict[str, object]:
    first, second = rng.sample(UNRELATED, 2)
    return {
        "_id": f"other-{number}",
        "title": "",
        "text": f"{first} {second}",
        "metadata": {"created_at": (NOW - timedelta(days=rng.randint(1, 1500))).isoformat()},
    }


def _queries(
    rng: random.Random,
    number: int,
    subject: str,
    attribute: Attribute,
    versions: list[dict[str, object]],
    rows: list[dict[str, str]],
    qrels: list[tuple[str, str]],
) -> tuple[list[dict[str, str]], list[tuple[str, str]]]:
    query_id = f"q{number}"
    if rng.random() < 0.15 and len(versions) > 1:  # about the past: the version valid in a year before the newest
        target = versions[rng.randrange(len(versions) - 1)]
        year = datetime.fromisoformat(str(target["metadata"]["created_at"])).year  # type: ignore[index]
        valid = [v for v in versions if datetime.fromisoformat(str(v["metadata"]["created_at"])).year <= year]  # type: ignore[index]
        rows.append({"_id": query_id, "text": attribute.past_question.format(s=subject, y=year)})
        qrels.append((query_id, str(valid[-1]["_id"])))
    else:
        rows.append({"_id": query_id, "text": attribute.question.format(s=subject)})
        qrels.append((query_id, str(versions[-1]["_id"])))
    return rows, qrels


def _accesses(rng: random.Random, corpus: list[dict[str, object]]) -> list[dict[str, object]]:
    """Popularity: a fifth of the documents (old versions as likely as new) are used often in the last 90 days."""
    out: list[dict[str, object]] = []
    for document in rng.sample(corpus, len(corpus) // 5):
        for _ in range(int(rng.paretovariate(1.2)) * 3):
            out.append({"doc_id": document["_id"], "at": (NOW - timedelta(hours=rng.uniform(1, 2160))).timestamp()})
    return out


def _write(
    folder: Path,
    corpus: list[dict[str, object]],
    queries: list[dict[str, str]],
    qrels: list[tuple[str, str]],
    accesses: list[dict[str, object]],
) -> None:
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    judged = {q for q, _ in qrels}
    _jsonl(folder / "corpus.jsonl", corpus)
    _jsonl(folder / "queries.jsonl", [q for q in queries if q["_id"] in judged])
    _jsonl(folder / "accesses.jsonl", accesses)
    for split, part in (("dev", qrels[0::2]), ("test", qrels[1::2])):
        lines = ["query-id\tcorpus-id\tscore"] + [f"{q}\t{d}\t1" for q, d in part]
        (folder / "qrels" / f"{split}.tsv").write_text("\n".join(lines) + "\n")


def _jsonl(path: Path, rows: list[dict[str, object]] | list[dict[str, str]]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def import_accesses(folder: Path, store: object) -> int:
    """Load accesses.jsonl into the store's access log once (skipped when the log already has entries)."""
    from crossrank.retrieve.store import LanceStore

    assert isinstance(store, LanceStore)
    log = store.accesses
    if log.stored_count() > 0:
        return 0
    path = folder / "accesses.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []
    for row in rows:
        log.record([str(row["doc_id"])], "returned", at=float(row["at"]))
    log.flush()
    return len(rows)


def run(folder: Path, split: str = "test", weights_file: Path | None = None, cache: Path | None = None) -> list[object]:
    """Stage 1, + rerank, + rerank + scoring on the benchmark (hybrid stage 1, 30 candidates), scored as of NOW."""
    from crossrank.eval.beir import load_beir
    from crossrank.eval.harness import cached_store, default_cache, evaluate_dataset
    from crossrank.rerank.reranker import Reranker
    from crossrank.retrieve.embedder import Embedder
    from crossrank.score.scorer import CognitiveScorer
    from crossrank.score.weights import ScoringWeights

    dataset = load_beir(folder, split)
    store = cached_store(dataset, cache or default_cache(), Embedder())
    import_accesses(folder, store)
    weights = ScoringWeights.load(weights_file) if weights_file else ScoringWeights()
    scorer = CognitiveScorer(store, weights, clock=NOW.timestamp)
    return list(evaluate_dataset(dataset, store, Reranker(), modes=["hybrid"], candidates_k=30, scorer=scorer))


def main() -> None:
    parser = argparse.ArgumentParser(description="The temporal-validity benchmark: generate it, or run it.")
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("generate")
    make.add_argument("--docs", type=int, default=10_000)
    make.add_argument("--queries", type=int, default=600)
    make.add_argument("--seed", type=int, default=0)
    make.add_argument("--out", type=Path, required=True)
    evaluate = commands.add_parser("run")
    evaluate.add_argument("folder", type=Path)
    evaluate.add_argument("--split", default="test")
    evaluate.add_argument("--weights", type=Path)
    evaluate.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.command == "generate":
        print(json.dumps(generate(args.out, args.docs, args.seed, args.queries)))
        return
    rows = run(args.folder, args.split, args.weights)
    out = [r.to_dict() for r in rows]  # type: ignore[attr-defined]
    for r in out:
        print(f"{r['system']:<28} P@1 {r['p@1']:.3f}  nDCG@10 {r['ndcg@10']:.3f}  p50 {r['p50_ms']:.1f} ms")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
