"""The README's Python examples run as written (each in an empty working folder)."""

import re

import pytest

from tests.conftest import REPO

EXAMPLES = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)
RUNNABLE = [code for code in EXAMPLES if "print(" in code]


def _run(code: str, capsys) -> list[str]:
    exec(compile(code, "README.md", "exec"), {})
    return capsys.readouterr().out.split()


def test_there_are_examples():
    assert len(RUNNABLE) >= 2


def test_reranker_example(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    printed = _run(RUNNABLE[0], capsys)
    assert printed[0] == "a"  # the JWT document outranks the tomato one
    assert 0.0 <= float(printed[1]) <= 1.0


def test_pipeline_example(tmp_path, monkeypatch, capsys):
    pytest.importorskip("lancedb")
    monkeypatch.chdir(tmp_path)
    printed = _run(RUNNABLE[1], capsys)
    assert printed[:2] == ["1", "a1"]  # rank 1 is the JWT document
    assert (tmp_path / "kb").is_dir()


def test_framework_example(tmp_path, monkeypatch, capsys):
    pytest.importorskip("langchain_core")
    pytest.importorskip("llama_index.core")
    monkeypatch.chdir(tmp_path)
    printed = _run(RUNNABLE[2], capsys)
    assert printed[0] == "jwt"
    assert float(printed[1]) == pytest.approx(float(printed[2]))  # the same model scores it the same in both
