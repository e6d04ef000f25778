"""PgVectorStore against a real PostgreSQL with pgvector, started in a temporary folder by `pgserver`."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

pgserver = pytest.importorskip("pgserver")

from crossrank.errors import InvalidInputError  # noqa: E402
from crossrank.pipeline import Pipeline  # noqa: E402
from crossrank.retrieve.documents import to_document  # noqa: E402
from crossrank.retrieve.embedder import Embedder  # noqa: E402
from crossrank.retrieve.pgvector import PgVectorStore  # noqa: E402
from crossrank.retrieve.retrievers import store_retriever  # noqa: E402


def _doc(doc_id: str, content: str, source: str, confidence: float, created: str, **more: object) -> dict:
    return {"id": doc_id, "content": content, "source": source, "confidence": confidence, "created_at": created, **more}


DOCS = [
    _doc(
        "jwt",
        "JWT access tokens expire after 15 minutes; refresh tokens stay valid for 30 days.",
        "auth-docs",
        0.95,
        "2024-01-10T09:00:00Z",
        title="Token lifetimes",
        entities=["JWT"],
    ),
    _doc(
        "sourdough",
        "Feed a sourdough starter equal weights of flour and water every day to keep the yeast alive.",
        "blog",
        0.6,
        "2023-05-01T12:00:00Z",
    ),
    _doc(
        "gil",
        "The global interpreter lock stops Python threads running bytecode in parallel, so CPU-bound code "
        "does not get faster with threads.",
        "python-docs",
        0.9,
        "2024-03-02T08:30:00+02:00",
    ),
    _doc(
        "vacuum",
        "VACUUM FULL rewrites a PostgreSQL table to reclaim the disk space left by deleted rows.",
        "postgres-docs",
        0.85,
        "2024-06-15T00:00:00Z",
        key="pg-maintenance",
    ),
    _doc(
        "crossenc",
        "A cross-encoder reads the query and a document together and outputs one relevance score.",
        "ml-notes",
        0.8,
        "2024-02-20T00:00:00Z",
    ),
    _doc(
        "tomatoes",
        "Tomato plants need six to eight hours of direct sunlight and deep watering twice a week.",
        "blog",
        0.5,
        "2022-07-07T00:00:00Z",
    ),
    _doc(
        "liveness",
        "A Kubernetes liveness probe restarts a container that stops answering health checks.",
        "k8s-docs",
        0.9,
        "2024-08-01T00:00:00Z",
    ),
    _doc(
        "espresso",
        "Pull an espresso shot in 25 to 30 seconds from 18 grams of finely ground coffee.",
        "blog",
        0.7,
        "2023-11-11T00:00:00Z",
    ),
    _doc(
        "marathon",
        "Marathon runners taper their training mileage in the final three weeks before race day.",
        "blog",
        0.4,
        "2021-04-04T00:00:00Z",
    ),
    _doc(
        "codename",
        "Zyxwvut is the internal codename of the billing migration project.",
        "wiki",
        0.3,
        "2024-09-09T00:00:00Z",
        title="Project codenames",
        entities=["billing", "Zyxwvut"],
        key="codename",
        extra_field="payments",
    ),
]
ONE_WORD_EACH = (
    "tokens OR sourdough OR interpreter OR vacuum OR relevance OR tomato OR kubernetes OR espresso OR "
    "marathon OR zyxwvut"
)  # a keyword query every document matches
_tables = itertools.count()


@pytest.fixture(scope="module")
def dsn(tmp_path_factory: pytest.TempPathFactory):
    server = pgserver.get_server(tmp_path_factory.mktemp("pg") / "data", cleanup_mode="stop")
    yield server.get_uri()
    server.cleanup()


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="module")
def store(dsn: str, embedder: Embedder):
    """The ten documents in one table, shared by the read-only tests."""
    with PgVectorStore(dsn, embedder, table="shared_docs") as loaded:
        assert loaded.add(DOCS) == len(DOCS)
        yield loaded


@pytest.fixture
def fresh(dsn: str, embedder: Embedder):
    """An empty store in a table of its own, for tests that write."""
    with PgVectorStore(dsn, embedder, table=f"fresh_{next(_tables)}") as empty:
        yield empty


def _ids(results) -> list[str]:
    return [r.document.id for r in results]


# -- writes ---------------------------------------------------------------------------------------


def test_get_round_trips_every_field_in_the_given_order(store: PgVectorStore):
    got = store.get(["codename", "missing", "gil", "jwt"])
    assert [d.id for d in got] == ["codename", "gil", "jwt"]
    expected = {d["id"]: to_document(d) for d in DOCS}
    assert got == [expected["codename"], expected["gil"], expected["jwt"]]
    assert got[0].extra == {"extra_field": "payments"} and got[0].entities == ("billing", "Zyxwvut")
    assert got[1].created_at == datetime(2024, 3, 2, 6, 30, tzinfo=timezone.utc)
    assert got[1].created_at is not None and got[1].created_at.utcoffset() == timedelta(0)
    assert store.get([]) == []


def test_upsert_is_idempotent_and_updates_content(fresh: PgVectorStore):
    assert fresh.add(DOCS, batch_size=3) == len(DOCS)
    assert fresh.add(DOCS, batch_size=4) == len(DOCS)
    assert fresh.count() == len(DOCS) == len(fresh)
    fresh.add([{"id": "jwt", "content": "Session cookies are rotated by the quokka gateway every hour."}])
    assert fresh.count() == len(DOCS)
    (updated,) = fresh.get(["jwt"])
    assert updated.content.startswith("Session cookies") and updated.title == "" and updated.source is None
    assert _ids(fresh.keyword_search("quokka", 5)) == ["jwt"]
    assert fresh.keyword_search("refresh tokens", 5) == []  # the old text is gone from the index too
    query = fresh.embedder.embed_query("session cookie rotation at the gateway")
    assert _ids(fresh.vector_search(query, 1)) == ["jwt"]


def test_delete_returns_how_many_existed(fresh: PgVectorStore):
    fresh.add(DOCS)
    assert fresh.delete(["jwt", "gil", "no-such-id"]) == 2
    assert fresh.delete(["jwt"]) == 0
    assert fresh.delete([]) == 0
    assert fresh.count() == len(DOCS) - 2
    assert fresh.get(["jwt", "gil", "vacuum"])[0].id == "vacuum"
    with pytest.raises(InvalidInputError):
        fresh.delete("jwt")


@pytest.mark.parametrize(
    "batch",
    [
        [{"id": "new", "content": "a new document"}, {"id": "dup", "content": "one"}, {"id": "dup", "content": "two"}],
        [{"id": "new", "content": "a new document"}, {"id": "blank", "content": "   "}],
        [{"id": "new", "content": "a new document"}, {"id": "bad", "content": "x", "confidence": 1.5}],
    ],
    ids=["duplicate-id", "empty-content", "bad-confidence"],
)
def test_an_invalid_batch_writes_nothing(fresh: PgVectorStore, batch: list[dict]):
    fresh.add(DOCS[:3])
    with pytest.raises(InvalidInputError):
        fresh.add(batch)
    assert fresh.count() == 3
    assert fresh.get(["new"]) == []


def test_reopening_checks_the_table_and_keeps_the_data(dsn: str, store: PgVectorStore, embedder: Embedder):
    with PgVectorStore(dsn, embedder, table=store.table) as again:
        assert again.count() == len(DOCS) and again.dimension == embedder.dimension == 384

    class OtherDimension:
        dimension = 8

    with pytest.raises(InvalidInputError, match="384-dimensional"):
        PgVectorStore(dsn, OtherDimension(), table=store.table)  # type: ignore[arg-type]


def test_the_store_reconnects_after_its_connection_is_killed(dsn: str, fresh: PgVectorStore):
    import psycopg

    fresh.add(DOCS[:2])
    assert fresh.count() == 2
    with psycopg.connect(dsn, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE %s",
            (f"%{fresh.table}%",),  # only the backend that served this store's last query
        ).fetchall()
    assert killed == [(True,)]
    with pytest.raises(psycopg.OperationalError):
        fresh.count()  # the call that finds the connection dead fails ...
    assert fresh.count() == 2  # ... and the next one reconnects


@pytest.mark.parametrize("table", ["docs; DROP TABLE x", "1docs", "my-docs", "", "a" * 49])
def test_table_names_must_be_plain_identifiers(dsn: str, embedder: Embedder, table: str):
    with pytest.raises(InvalidInputError, match="identifier"):
        PgVectorStore(dsn, embedder, table=table)


# -- search ---------------------------------------------------------------------------------------


def test_vector_search_ranks_the_semantic_match_first(store: PgVectorStore):
    query = store.embedder.embed_query("how long is a login token valid before it runs out")
    results = store.vector_search(query, 5)
    assert results[0].document.id == "jwt"
    assert [r.rank for r in results] == [1, 2, 3, 4, 5]
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True) and scores[0] <= 1.0 + 1e-6
    cosine = float(np.dot(query, store.embedder.embed([results[0].document.text])[0]))
    assert scores[0] == pytest.approx(cosine, abs=1e-4)  # score is 1 - cosine distance
    with pytest.raises(InvalidInputError):
        store.vector_search(query[:10], 5)


def test_keyword_search_finds_exact_and_stemmed_terms(store: PgVectorStore):
    assert _ids(store.keyword_search("zyxwvut", 5)) == ["codename"]
    assert _ids(store.keyword_search("reclaiming disk space", 5))[0] == "vacuum"
    assert set(_ids(store.keyword_search("watered", 5))) == {"sourdough", "tomatoes"}  # stems to "water"
    assert store.keyword_search("the of and", 5) == []  # stopwords only
    assert _ids(store.keyword_search('"liveness probe" -espresso', 5)) == ["liveness"]  # web search syntax


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({"source": "blog"}, {"sourdough", "tomatoes", "espresso", "marathon"}),
        ({"source": ["wiki", "k8s-docs"]}, {"codename", "liveness"}),
        ({"source": {"in": ["wiki"]}, "key": "codename"}, {"codename"}),
        ({"created_at": {"gte": "2024-01-01", "lt": "2024-07-01T00:00:00Z"}}, {"jwt", "gil", "vacuum", "crossenc"}),
        ({"confidence": {"gte": 0.9}}, {"jwt", "gil", "liveness"}),  # 0.9 itself is included
        ({"confidence": {"lt": 0.5}, "source": {"ne": "wiki"}}, {"marathon"}),
        ({"source": "x' OR '1'='1"}, set()),  # values are bound, never spliced into the SQL
    ],
)
def test_filters_restrict_both_searches(store: PgVectorStore, filter: dict, expected: set[str]):
    query = store.embedder.embed_query("anything at all")
    assert set(_ids(store.vector_search(query, 20, filter))) == expected
    assert set(_ids(store.keyword_search(ONE_WORD_EACH, 20, filter))) == expected


def test_a_bad_filter_is_refused(store: PgVectorStore):
    with pytest.raises(InvalidInputError, match="cannot filter"):
        store.keyword_search("tokens", 5, {"embedding": "x"})
    with pytest.raises(InvalidInputError):
        store.vector_search(store.embedder.embed_query("tokens"), 5, {"confidence": "high"})


# -- retrievers and the pipeline ------------------------------------------------------------------


async def test_hybrid_retriever_end_to_end(store: PgVectorStore):
    retriever = store_retriever(store, "hybrid")
    hits = await retriever.query("zyxwvut billing codename", 3)
    assert hits[0].document.id == "codename"
    assert set(hits[0].scores) == {"dense", "bm25"}
    filtered = await retriever.query("coffee and bread", 10, {"source": "blog"})
    assert {h.document.id for h in filtered} <= {"sourdough", "tomatoes", "espresso", "marathon"}
    assert filtered[0].document.id in {"espresso", "sourdough"}


async def test_concurrent_queries_share_the_store_safely(store: PgVectorStore):
    retriever = store_retriever(store, "hybrid")
    queries = ["JWT expiry", "sourdough yeast", "python threads", "vacuum deleted rows"] * 3
    answers = await asyncio.gather(*(retriever.query(q, 1) for q in queries))
    assert [a[0].document.id for a in answers] == ["jwt", "sourdough", "gil", "vacuum"] * 3


async def test_pipeline_reranks_over_the_postgres_store(store: PgVectorStore, reranker):
    pipe = Pipeline(store_retriever(store, "hybrid"), reranker)
    response = await pipe.search("how do I keep my sourdough starter alive", final_k=3, candidates_k=10)
    assert not response.degraded
    assert response.reranked == response.candidates == len(DOCS)
    top = response.hits[0]
    assert top.id == "sourdough" and top.rerank_score is not None and top.rerank_rank == 1
