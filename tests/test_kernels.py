"""kernels.py: a pooled kernel runs one notebook only, with its imports done and its own result file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.test_runbook import write_runbook

from sfnecs.ops import runbook
from sfnecs.ops.kernels import KernelPool


@pytest.fixture
def books(tmp_path) -> Path:
    write_runbook(
        tmp_path / "books" / "probe.ipynb",
        'label = "a"  # which run',
        "import os, sys\n"
        "seen = {'pid': os.getpid(), 'leak': globals().get('leak'),\n"
        "        'preloaded': 'sfnecs.deploy.stack' in sys.modules, 'history': len(In),\n"
        "        'names': sorted({'boto3', 'pandas', 'sfnecs', 'matplotlib'} & set(globals()))}\n"
        "leak = label\n"
        "from sfnecs.ops.runbook import save_result\n"
        "save_result({'ok': True, **seen})",
        kernel=("sfnecs", "Python (sfnecs)"),
    )
    return tmp_path / "books"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_each_notebook_gets_a_fresh_preloaded_kernel_that_ends_with_it(books, tmp_path):
    with KernelPool(runs=2) as pool:
        first = runbook.run("probe", {"label": "a"}, output_dir=tmp_path / "runs", directory=books, kernels=pool)
        assert pool.started == 2  # the second kernel booted while the first notebook ran
        second = runbook.run("probe", {"label": "b"}, output_dir=tmp_path / "runs", directory=books, kernels=pool)
        assert pool.started == 2  # nothing started for a third runbook that will not come
    a, b = first.result, second.result
    assert first.ok and second.ok and a["pid"] != b["pid"]
    assert a["leak"] is None and b["leak"] is None  # no state crosses from one runbook to the next
    assert a["preloaded"] and b["preloaded"]  # the pool's imports ran before the notebook,
    assert a["names"] == b["names"] == []  # and bound no name in its namespace
    # In: '' and the cells run so far (parameters, papermill's injected parameters, this one); none for the preload
    assert a["history"] == b["history"] == 4
    assert not _alive(a["pid"]) and not _alive(b["pid"])


def test_a_pool_hands_out_only_its_own_kernel_and_cleans_up_on_close(books, tmp_path):
    pool = KernelPool(runs=None, preload="")  # no preload: take() need not wait for a kernel to boot
    assert pool.take("python3") is None and pool.started == 0
    warm = pool.take("sfnecs")
    assert warm is not None and pool.started == 2  # handed out one, keeps the next booting
    waiting = pool._next
    pool.close()
    assert not waiting.km.has_kernel and not waiting.result_path.exists()
    from jupyter_core.utils import run_sync

    run_sync(warm.km.shutdown_kernel)(now=True)


def test_imports_of_a_runbook_and_the_preload_code():
    from sfnecs.ops.kernels import imports_of, preload_code

    modules = imports_of(runbook.runbook_path("run_now"))
    # the parameter check sets the language first; %matplotlib inline imports pyplot
    assert modules[:3] == ("sfnecs.i18n", "sfnecs.ops.parameters", "matplotlib.pyplot")
    assert {"sfnecs.ops.steps", "sfnecs.runs", "sfnecs.deploy.target", "sfnecs.ops.runbook"} <= set(modules)
    assert preload_code(("a.b", "c")) == "__import__('a.b')\n__import__('c')"


def test_the_preload_adds_what_library_functions_import_when_first_called():
    from sfnecs.ops.kernels import RUNNER_ONLY, library_imports, preload_of

    preload = preload_of(runbook.runbook_path("run_now"))
    lazy = library_imports(("sfnecs.runs",))
    assert "pandas" in lazy  # runs.history builds its table with pandas inside the function
    assert not set(lazy) & {"sfnecs.runs", *RUNNER_ONLY}  # neither what was given nor the runner's own
    assert set(lazy) <= set(preload) and preload[:3] == ("sfnecs.i18n", "sfnecs.ops.parameters", "matplotlib.pyplot")
    assert library_imports(("json", "pandas")) == ()  # only sfnecs modules are read
