"""Training queries made from corpus text alone (inverse cloze): a document's title is the query, its body the
positive, and the bodies that BM25 ranks highest for that title are the negatives.

No query or judgement is read, so this adapts a model to a corpus that has none. Positives and negatives are
both bodies (title removed): if the positive alone lacked a title the model could learn "no title, relevant".
"""

from __future__ import annotations

import random
from pathlib import Path

from crossrank.train.data import JudgedQuery, TrainingSet
from crossrank.train.mining import MinedQuery

MIN_BODY_WORDS = 30  # shorter bodies say too little for their title to be a fair query
NEGATIVES = 20


def title_queries(
    folder: str | Path,
    count: int,
    seed: int,
    *,
    negatives: int = NEGATIVES,
    max_similarity_ratio: float = 0.95,
    min_body_words: int = MIN_BODY_WORDS,
) -> TrainingSet:
    """Up to `count` (title -> body) queries from a BEIR folder's corpus, chosen at random with `seed`.

    The set's texts are the bodies of every titled document; each query's negatives are BM25's top bodies for
    its title, minus its own body and bodies scoring above `max_similarity_ratio` x its own (near-duplicates
    such as a second version of the same abstract, which would be false negatives).
    """
    from crossrank.eval.beir import read_corpus
    from crossrank.retrieve.bm25 import BM25Index

    corpus = read_corpus(Path(folder))
    docs = [d for d in corpus.values() if d.title.strip() and len(d.text.split()) >= min_body_words]
    if not docs or count <= 0:
        return TrainingSet([], [], [])
    bodies = [d.text for d in docs]
    chosen = random.Random(seed).sample(range(len(docs)), min(count, len(docs)))
    bm25 = BM25Index(bodies)
    top, scores = bm25.search([docs[i].title for i in chosen], negatives + 10)
    queries = []
    for index, ranked, ranked_scores in zip(chosen, top, scores):
        ceiling = max_similarity_ratio * float(bm25.scores(docs[index].title, [index])[0])
        picked = [int(j) for j, s in zip(ranked, ranked_scores) if int(j) != index and s <= ceiling][:negatives]
        if picked:  # none when the title is only stopwords
            doc_id = docs[index].doc_id
            queries.append(JudgedQuery(f"title:{doc_id}", docs[index].title, {index: 1}, {index}, picked))
    return TrainingSet(bodies, [f"body:{d.doc_id}" for d in docs], queries)


def append_pseudo_queries(
    data: TrainingSet, mined: list[MinedQuery], pseudo: TrainingSet
) -> tuple[TrainingSet, list[MinedQuery]]:
    """`data` with `pseudo`'s texts appended, and `mined` with its queries (their negatives already chosen).

    Appending keeps `data`'s indices, so queries mined earlier stay valid; pseudo texts were never in the
    first-stage index, so no real query was given a body as a negative.
    """
    offset = len(data.texts)
    extra = [
        MinedQuery(q.text, [i + offset for i in q.relevant], [i + offset for i in q.given_negatives])
        for q in pseudo.queries
    ]
    merged = TrainingSet(data.texts + pseudo.texts, data.doc_ids + pseudo.doc_ids, data.queries)
    return merged, mined + extra
