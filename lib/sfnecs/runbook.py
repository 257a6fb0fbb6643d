"""Runbooks: parameterized notebooks in `runbooks/`, listed, validated and executed with papermill.

Why notebooks as runbooks: the executed notebook is the audit log (what ran, with which
parameters, what it printed), and `<run>.result.json` beside it is the machine-readable outcome.
Parameters are validated here, before a kernel starts, and again inside the notebook (its first
cell after `parameters`), so plain `papermill runbooks/X.ipynb out.ipynb -p ...` is safe too.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sfnecs.exceptions import RunbookError, ValidationError

RUNBOOK_DIR = Path(__file__).resolve().parents[2] / "runbooks"
RESULT_ENV = "SFNECS_RESULT_PATH"
DEFAULT_CELL_TIMEOUT = 600
_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,), "float": (int, float), "str": (str,), "bool": (bool,), "list": (list, tuple), "dict": (dict,),
}


@dataclass(frozen=True)
class Parameter:
    """One runbook parameter, as declared in the notebook's `parameters` cell."""

    name: str
    type: str
    default: Any
    help: str

    def check(self, value: Any) -> Any:
        """Return `value` coerced to this parameter's type, or raise ValidationError."""
        kinds = _TYPES.get(self.type)
        if value is None or kinds is None:
            return value
        if isinstance(value, str) and self.type != "str":
            value = _parse_cli_value(value)
        if isinstance(value, bool) and self.type in ("int", "float"):
            raise ValidationError(self.name, value, f"a {self.type}")
        if not isinstance(value, kinds):
            raise ValidationError(self.name, value, f"a {self.type} (default {self.default!r})")
        return list(value) if self.type == "list" else value


def _parse_cli_value(text: str) -> Any:
    """`-p key value` values arrive as text: read them as YAML scalars/lists (papermill does too)."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


@dataclass
class RunbookResult:
    """What one runbook execution produced."""

    name: str
    ok: bool
    notebook: str
    result_path: str
    parameters: dict[str, Any]
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    started: str = ""
    finished: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def runbook_path(name: str, directory: Path | None = None) -> Path:
    directory = directory or RUNBOOK_DIR
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name or ""):
        raise ValidationError("name", name, "a runbook name such as deploy or run_now (see `sfnecs runbook list`)")
    path = directory / f"{name}.ipynb"
    if not path.exists():
        raise ValidationError("name", name, "one of " + ", ".join(list_runbooks(directory)))
    return path


def list_runbooks(directory: Path | None = None) -> list[str]:
    return sorted(p.stem for p in (directory or RUNBOOK_DIR).glob("*.ipynb"))


def describe(name: str, directory: Path | None = None) -> list[Parameter]:
    """The runbook's parameters, read with papermill's inspection (types from the defaults)."""
    import papermill

    info = papermill.inspect_notebook(str(runbook_path(name, directory)))
    params = []
    for p in info.values():
        default = _literal(p["default"])
        # papermill infers a type only from an annotation (`count: int = 2`); else use the default's
        declared = p["inferred_type_name"]
        kind = declared.split("[")[0].lower() if declared != "None" else type(default).__name__
        params.append(Parameter(p["name"], {"tuple": "list", "nonetype": "any"}.get(kind.lower(), kind),
                                default, p["help"]))
    return params


def _literal(text: str) -> Any:
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def validate(name: str, parameters: dict[str, Any], directory: Path | None = None) -> dict[str, Any]:
    """Check names and types before any kernel starts; returns the coerced parameters."""
    declared = {p.name: p for p in describe(name, directory)}
    out = {}
    for key, value in parameters.items():
        if key not in declared:
            raise ValidationError(key, value, f"not a parameter of runbook {name}: use " + ", ".join(declared))
        out[key] = declared[key].check(value)
    return out


def run(name: str, parameters: dict[str, Any] | None = None, *, output_dir: str | Path = "runs",
        directory: Path | None = None, cell_timeout: int = DEFAULT_CELL_TIMEOUT, kernel_name: str | None = None,
        log_output: bool = False) -> RunbookResult:
    """Execute a runbook with papermill; writes `<output_dir>/<UTC time>-<name>.ipynb` and `.result.json`.

    `output_dir` may be local or any URL papermill's I/O handlers know (e.g. `s3://bucket/runs`).
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    params = validate(name, parameters or {}, directory)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    base = f"{str(output_dir).rstrip('/')}/{stamp}-{name}"
    notebook, result_path = f"{base}.ipynb", f"{base}.result.json"
    local_result = result_path if "://" not in result_path else str(Path(os.getenv("TMPDIR", "/tmp")) / Path(result_path).name)
    if "://" not in str(output_dir):
        Path(output_dir).mkdir(parents=True, exist_ok=True)
    started = datetime.now(timezone.utc).isoformat()
    previous = os.environ.get(RESULT_ENV)
    os.environ[RESULT_ENV] = local_result  # the kernel inherits it: save_result() writes there
    error = None
    try:
        papermill.execute_notebook(str(runbook_path(name, directory)), notebook, parameters=params,
                                   kernel_name=kernel_name, progress_bar=False, log_output=log_output,
                                   request_save_on_cell_execute=True, execution_timeout=cell_timeout,
                                   cwd=str(Path.cwd()))
    except PapermillExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue}".splitlines()[0]
    finally:
        if previous is None:
            os.environ.pop(RESULT_ENV, None)
        else:
            os.environ[RESULT_ENV] = previous
    result: dict[str, Any] = {}
    if Path(local_result).exists():
        result = json.loads(Path(local_result).read_text())
    outcome = RunbookResult(name, error is None and result.get("ok", True) is not False, notebook, result_path,
                            params, result, error or result.get("error"), started,
                            datetime.now(timezone.utc).isoformat())
    _write(result_path, local_result, outcome)
    return outcome


def _write(result_path: str, local_path: str, outcome: RunbookResult) -> None:
    text = json.dumps(outcome.to_dict(), indent=2, default=str)
    Path(local_path).write_text(text)
    if "://" in result_path:
        from papermill.iorw import papermill_io

        papermill_io.write(text, result_path)
        Path(local_path).unlink(missing_ok=True)


def save_result(result: dict[str, Any]) -> dict[str, Any]:
    """Called by a runbook's last cell: hand its result to the runner (no-op under plain papermill)."""
    path = os.environ.get(RESULT_ENV)
    if path:
        Path(path).write_text(json.dumps(result, indent=2, default=str))
    return result
