"""The runbook runner: listing, parameter inspection and validation, execution, results."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from sfnecs.exceptions import ValidationError
from sfnecs.ops import runbook


def write_runbook(path: Path, parameters: str, body: str, kernel: tuple[str, str] = ("python3", "Python 3")) -> Path:
    """A runbook at `path`: a cell tagged parameters, then `body`, for `kernel` (name, display name)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": kernel[0], "display_name": kernel[1], "language": "python"}
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nbformat.write(nb, path)
    return path


@pytest.fixture
def books(tmp_path) -> Path:
    write_runbook(
        tmp_path / "books" / "sample.ipynb",
        'stack = "demo"  # the stack name\ncount = 2  # how many\nfail = False  # fail?',
        "from sfnecs.ops.runbook import save_result\n"
        "if fail:\n    raise RuntimeError(f'job {stack} failed')\n"
        "save_result({'ok': True, 'stack': stack, 'total': count * 10})",
    )
    return tmp_path / "books"


def test_list_and_describe(books):
    assert runbook.list_runbooks(books) == ["sample"]
    params = {p.name: p for p in runbook.describe("sample", books)}
    assert params["count"].type == "int" and params["count"].default == 2 and params["count"].help == "how many"
    assert params["fail"].type == "bool"


def test_unknown_parameter_and_wrong_type_fail_before_a_kernel_starts(books):
    with pytest.raises(ValidationError, match="colour='red' is not valid: not a parameter of runbook sample"):
        runbook.validate("sample", {"colour": "red"}, books)
    with pytest.raises(ValidationError, match="count='many' is not valid: a int"):
        runbook.validate("sample", {"count": "many"}, books)
    assert runbook.validate("sample", {"count": "5"}, books) == {"count": 5}  # CLI text -> int
    with pytest.raises(ValidationError, match="name='nope' is not valid: one of sample"):
        runbook.run("nope", {}, directory=books)


def test_run_writes_notebook_and_result(books, tmp_path):
    out = runbook.run("sample", {"count": 4}, output_dir=tmp_path / "runs", directory=books, kernel_name="python3")
    assert out.ok and out.result == {"ok": True, "stack": "demo", "total": 40}
    executed = nbformat.read(out.notebook, as_version=4)
    assert any("count = 4" in c.source for c in executed.cells)  # papermill's injected parameters
    saved = json.loads(Path(out.result_path).read_text())
    assert saved["ok"] and saved["parameters"] == {"count": 4}


def test_failing_cell_gives_one_line_error(books, tmp_path):
    out = runbook.run("sample", {"fail": True}, output_dir=tmp_path / "runs", directory=books, kernel_name="python3")
    assert not out.ok and out.error == "RuntimeError: job demo failed"
    assert json.loads(Path(out.result_path).read_text())["error"] == "RuntimeError: job demo failed"


def test_cli_exit_codes(books, tmp_path):
    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "sfnecs.cli", "runbook", *args, "--dir", str(books)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=300,
        )

    listed = cli("list")
    assert listed.returncode == 0 and listed.stdout.split() == ["sample"]
    shown = cli("show", "sample")
    assert "count" in shown.stdout and "int" in shown.stdout and "how many" in shown.stdout
    bad = cli("run", "sample", "-p", "count", "lots")
    assert bad.returncode == 2 and bad.stderr.strip() == "sfnecs: error: count='lots' is not valid: a int (default 2)"
    assert not (tmp_path / "runs").exists()  # refused before anything ran
    ok = cli("run", "sample", "-p", "count", "3", "--kernel", "python3")
    assert ok.returncode == 0, ok.stderr
    failed = cli("run", "sample", "-p", "fail", "true", "--kernel", "python3")
    assert failed.returncode == 1 and failed.stderr.strip().endswith("RuntimeError: job demo failed")
