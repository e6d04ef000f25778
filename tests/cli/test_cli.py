"""The command line as a user runs it: a real process, real files, real exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_DOCS


def crossrank(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crossrank.cli.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={"HF_HUB_OFFLINE": "1", "COLUMNS": "120", "PATH": "/usr/bin:/bin"},
    )


def test_rerank_prints_a_table_of_the_best_documents():
    result = crossrank("rerank", "how do JWT tokens expire", "--docs", str(EXAMPLE_DOCS), "--top-k", "3")
    assert result.returncode == 0, result.stderr
    assert "rank" in result.stdout and "score" in result.stdout
    assert "jwt-exp" in result.stdout


def test_rerank_json_lines_keep_fields_and_order():
    result = crossrank("rerank", "how do JWT tokens expire", "--docs", str(EXAMPLE_DOCS), "--json", "-k", "4")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 4
    assert all({"id", "content", "source", "score", "index", "truncated"} <= row.keys() for row in rows)
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)


def test_plain_text_from_stdin_is_one_document_per_line():
    docs = "Tokens expire after the exp claim time.\nBread needs flour.\n\n"
    result = crossrank("rerank", "token expiry", "--docs", "-", "--json", stdin=docs)
    assert result.returncode == 0, result.stderr
    assert {json.loads(line)["content"] for line in result.stdout.splitlines()} == {
        "Tokens expire after the exp claim time.",
        "Bread needs flour.",
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "documents file not found"),
        ("", "no documents"),
        ('{"content": "ok"}\n{"content": broken\n', "line 2: not valid JSON"),
        ('{"text": "no content field"}\n', "has no string field 'content'"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_code_2(tmp_path: Path, content, message):
    path = tmp_path / "docs.jsonl"
    if content is not None:
        path.write_text(content)
    result = crossrank("rerank", "query", "--docs", str(path))
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_unknown_model_is_a_clear_error(tmp_path: Path):
    result = crossrank("rerank", "query", "--docs", str(EXAMPLE_DOCS), "--model", str(tmp_path / "missing"))
    assert result.returncode == 2
    assert "neither a model folder nor a Hugging Face id" in result.stderr
    assert "Traceback" not in result.stderr


def test_info_reports_version_backends_and_default_model():
    result = crossrank("info")
    assert result.returncode == 0, result.stderr
    for expected in ("crossrank", "backend onnx", "default model", "threads"):
        assert expected in result.stdout


def test_markup_in_documents_is_shown_literally(tmp_path):
    docs = tmp_path / "docs.jsonl"
    docs.write_text('{"id": "[b]x[/b]", "content": "tokens [/oops] expire [bold]soon"}\n')
    result = crossrank("rerank", "when do [tokens] expire", "--docs", str(docs))
    assert result.returncode == 0, result.stderr
    assert "[/oops]" in result.stdout and "[b]x[/b]" in result.stdout
