"""A small BEIR-layout dataset made here: animals, what they eat and where they live."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ANIMALS = [
    "otter",
    "heron",
    "badger",
    "lynx",
    "walrus",
    "gecko",
    "falcon",
    "beaver",
    "moose",
    "toucan",
    "bison",
    "newt",
]
FOODS = [
    "clams",
    "frogs",
    "worms",
    "hares",
    "mussels",
    "crickets",
    "pigeons",
    "bark",
    "willow",
    "figs",
    "grass",
    "snails",
]
PLACES = ["rivers", "marshes", "woodland", "forests", "ice floes", "deserts", "cliffs", "ponds", "tundra", "jungle"]


def write_beir(root: Path) -> Path:
    corpus, queries, train, dev = [], [], [], []
    for i, animal in enumerate(ANIMALS):
        food, place = FOODS[i], PLACES[i % len(PLACES)]
        corpus += [
            {"_id": f"{animal}-diet", "title": f"The {animal}", "text": f"The {animal} mostly eats {food}."},
            {"_id": f"{animal}-home", "title": f"The {animal}", "text": f"The {animal} lives in {place}."},
            {"_id": f"{animal}-size", "title": f"The {animal}", "text": f"An adult {animal} is measured by size."},
        ]
        queries += [
            {"_id": f"q-{animal}-diet", "text": f"what does the {animal} eat"},
            {"_id": f"q-{animal}-home", "text": f"where does the {animal} live"},
        ]
        split = dev if i % 4 == 3 else train
        split += [f"q-{animal}-diet\t{animal}-diet\t1", f"q-{animal}-home\t{animal}-home\t1"]
    (root / "qrels").mkdir(parents=True)
    (root / "corpus.jsonl").write_text("".join(json.dumps(row) + "\n" for row in corpus))
    (root / "queries.jsonl").write_text("".join(json.dumps(row) + "\n" for row in queries))
    for name, rows in (("train", train), ("dev", dev)):
        (root / "qrels" / f"{name}.tsv").write_text("query-id\tcorpus-id\tscore\n" + "\n".join(rows) + "\n")
    return root


@pytest.fixture(scope="session")
def animals(tmp_path_factory) -> Path:
    return write_beir(tmp_path_factory.mktemp("animals"))
