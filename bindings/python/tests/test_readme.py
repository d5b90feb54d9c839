"""The README's "## Python" section runs as written and prints what it shows."""

import contextlib
import io
import os
import re

from conftest import ROOT, read


def test_readme_python_section_runs_as_written():
    text = read(ROOT / "README.md")
    section = text.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(\w*)\n(.*?)```", section, re.S)
    code = next(body for lang, body in blocks if lang == "python")
    shown = next(body for lang, body in blocks if lang == "text")
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})
    finally:
        os.chdir(cwd)
    assert out.getvalue() == shown
