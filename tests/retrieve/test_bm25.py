import pytest

pytest.importorskip("bm25s")

from crossrank.retrieve.bm25 import BM25Index


def test_bm25_finds_the_document_sharing_rare_terms(example_docs):
    index = BM25Index([d["content"] for d in example_docs])
    indices, scores = index.search(["sourdough starter yeast"], top_k=3)
    assert example_docs[int(indices[0][0])]["id"] == "sourdough"
    assert list(scores[0]) == sorted(scores[0], reverse=True)


@pytest.mark.parametrize(("chosen", "expected"), [(None, "false"), ("true", "true")])
def test_bm25_keeps_jax_from_taking_the_gpu_memory_up_front_unless_the_user_chose(chosen, expected):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "XLA_PYTHON_CLIENT_PREALLOCATE"}
    if chosen is not None:
        env["XLA_PYTHON_CLIENT_PREALLOCATE"] = chosen
    code = (
        "import os; from crossrank.retrieve.bm25 import BM25Index; BM25Index(['a cat', 'a dog']); "
        "print(os.environ['XLA_PYTHON_CLIENT_PREALLOCATE'])"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == expected
