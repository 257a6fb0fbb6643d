"""The architecture rules of docs/architecture.md, checked on the import graph.

import-linter's contracts (pyproject.toml) keep the layers pointing one way and the sandbox apart;
grimp's graph (the one import-linter builds: every import, function-local and TYPE_CHECKING ones
included) shows there is no cycle between modules.
"""

from __future__ import annotations

import ast
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
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=lib,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_contracts_are_kept():
    done = _lint_imports(ROOT / "lib")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    "module, back_import, contract",
    [
        ("model/spec.py", "from sfnecs.deploy import stack", "Layers"),
        ("statemachine/__init__.py", "import sfnecs.runs", "Layers"),
        ("sandbox/clock.py", "from sfnecs import iam", "The sandbox imports only"),
        ("runs/__init__.py", "from sfnecs.sandbox import process", "Only target selection"),
    ],
)
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


def test_no_import_cycle_between_modules():
    graph = grimp.build_graph("sfnecs", cache_dir=None)
    assert _cycles(graph) == []


def test_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(module)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="a.y", imported="a.z")
    assert _cycles(graph) == [["a.x", "a.y"]]


LIB = ROOT / "lib" / "sfnecs"
MAX_LINES = 700


def _modules() -> list[Path]:
    return sorted(LIB.rglob("*.py"))


def _dotted(path: Path) -> str:
    parts = path.relative_to(LIB.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_module_is_over_700_lines():
    long = {str(p.relative_to(ROOT)): n for p in _modules() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def _sfnecs_imports(path: Path) -> list[tuple[ast.stmt, str, bool]]:
    """(node, imported module, at top level) for every import of an sfnecs module in `path`."""
    tree = ast.parse(path.read_text())
    # module level: the body, and imports under a module-level `if TYPE_CHECKING:` (not function-local)
    top = {id(node) for node in tree.body}
    top |= {id(inner) for node in tree.body if isinstance(node, ast.If) for inner in node.body}
    package = _dotted(path) if path.name == "__init__.py" else _dotted(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            names = [base]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [(node, name, id(node) in top) for name in names if name.split(".")[0] == "sfnecs"]
    return found


def test_function_local_imports_of_the_library_say_why():
    """A function-local import of an sfnecs module is allowed only with a reason on its line
    (`# lazy: ...`): dodging a cycle is not one (the layers have none)."""
    unexplained = []
    for path in _modules():
        lines = path.read_text().splitlines()
        for node, name, at_top in _sfnecs_imports(path):
            if not at_top and "# lazy:" not in lines[node.lineno - 1]:
                unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert unexplained == []


def test_no_module_imports_its_own_package_index():
    """A package's __init__ is its index; its own modules import their siblings, never the index
    (that would make a cycle through the index). `cli/__main__.py` is the entry point, not a part."""
    offenders = []
    for path in _modules():
        if path.name in ("__init__.py", "__main__.py"):
            continue
        package = _dotted(path).rpartition(".")[0]
        for node, name, _ in _sfnecs_imports(path):
            imported = [name] + ([f"{name}.{a.name}" for a in node.names] if isinstance(node, ast.ImportFrom) else [])
            if name == package and not any(
                i != name
                and (LIB.parent / (i.replace(".", "/") + ".py")).exists()
                or (LIB.parent / i.replace(".", "/")).is_dir()
                for i in imported[1:]
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_ruff_lint_and_format_are_clean():
    ruff = Path(sys.executable).with_name("ruff")
    lint = subprocess.run([str(ruff), "check", "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = subprocess.run(
        [str(ruff), "format", "--check", "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy_is_clean(tmp_path):
    mypy = Path(sys.executable).with_name("mypy")
    done = subprocess.run(
        [str(mypy), "--cache-dir", str(tmp_path / "cache")], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
