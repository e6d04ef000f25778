"""The README's Python example runs as written."""

import re

from tests.conftest import REPO


def test_readme_python_example_runs(capsys):
    text = (REPO / "README.md").read_text()
    example = re.search(r"```python\n(.*?)```", text, re.S)
    assert example is not None
    exec(compile(example.group(1), "README.md", "exec"), {})
    printed = capsys.readouterr().out.split()
    assert printed[0] == "a"  # the JWT document outranks the tomato one
    assert 0.0 <= float(printed[1]) <= 1.0
