"""The type stubs (regain.pyi, py.typed) ship with the package and match the module."""

import subprocess
import sys
from pathlib import Path

import regain
from conftest import ROOT, read

HERE = Path(__file__).resolve().parent


def test_stubs_and_py_typed_are_installed():
    package = Path(regain.__file__).parent
    assert (package / "py.typed").exists()
    stub = package / "__init__.pyi"
    assert stub.read_text(encoding="utf-8") == read(ROOT / "bindings" / "python" / "regain.pyi")


def test_stubtest_finds_the_stubs_equal_to_the_module():
    """mypy's stubtest: every name, class, method, property and signature of the stubs is
    the module's and the other way round (PyO3 gives the signatures at run time)."""
    r = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "regain", "--concise", "--ignore-disjoint-bases",
         "--allowlist", str(HERE / "stubtest-allowlist.txt")],
        capture_output=True, text=True, cwd=HERE,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_readme_example_type_checks(tmp_path):
    text = read(ROOT / "README.md")
    section = text.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    f = tmp_path / "readme_example.py"
    f.write_text(code)
    wrong = tmp_path / "wrong.py"
    wrong.write_text("import regain\nregain.Engine(regain.Policy('')).evaluate_many([], errors='ignore')\n"
                     "x: int = regain.fmt('')\n")
    mypy = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache")]
    r = subprocess.run([*mypy, str(f)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    # The stubs are really used: wrong calls are caught.
    r = subprocess.run([*mypy, str(wrong)], capture_output=True, text=True)
    assert r.returncode == 1, r.stdout
    assert "evaluate_many" in r.stdout and "Incompatible types in assignment" in r.stdout
