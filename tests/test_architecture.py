"""The architecture rules of docs/architecture.md, checked on the import graph.

import-linter's contracts (pyproject.toml) keep the layers pointing one way and the sandbox apart;
grimp's graph (the one import-linter builds: every import, function-local and TYPE_CHECKING ones
included) shows there is no cycle between modules.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(lib: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(lib)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", str(ROOT / "pyproject.toml")], cwd=lib,
                          env=env, capture_output=True, text=True, timeout=120)


def test_import_contracts_are_kept():
    done = _lint_imports(ROOT / "lib")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize("module, back_import, contract", [
    ("model/spec.py", "from sfnecs.deploy import stack", "Layers"),
    ("statemachine/__init__.py", "import sfnecs.runs", "Layers"),
    ("sandbox/clock.py", "from sfnecs import iam", "The sandbox imports only"),
    ("runs/__init__.py", "from sfnecs.sandbox import process", "Only target selection"),
])
def test_a_back_import_breaks_a_contract(tmp_path, module, back_import, contract):
    lib = tmp_path / "lib"
    shutil.copytree(ROOT / "lib" / "sfnecs", lib / "sfnecs", ignore=shutil.ignore_patterns("__pycache__"))
    path = lib / "sfnecs" / module
    path.write_text(path.read_text() + f"\n\ndef _back() -> None:\n    {back_import}  # noqa\n")
    done = _lint_imports(lib)
    assert done.returncode == 1, done.stdout
    broken = [line for line in done.stdout.splitlines() if " BROKEN" in line]
    assert any(line.startswith(contract) for line in broken), done.stdout


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(module)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="a.y", imported="a.z")
    assert _cycles(graph) == [["a.x", "a.y"]]
