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
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sfnecs.deploy.target import ensure_background_sandbox
from sfnecs.exceptions import ValidationError
from sfnecs.ops.parameters import RULES, check_parameters

RUNBOOK_DIR = Path(__file__).resolve().parents[3] / "runbooks"
RESULT_ENV = "SFNECS_RESULT_PATH"
DEFAULT_CELL_TIMEOUT = 600
#: virtual seconds per real second of a sandbox the runner starts: a job's ~10 emulated seconds
#: (provisioning, pull, a 5 s job) then take a fifth of a real second
SANDBOX_SPEED = 50.0
_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "str": (str,),
    "bool": (bool,),
    "list": (list, tuple),
    "dict": (dict,),
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
        if self.default is None and isinstance(value, str):  # no type to read from a None default: YAML says
            return _parse_cli_value(value)  # (the runbook's own rule in sfnecs.ops.parameters checks it)
        if value is None or kinds is None:
            return value
        if isinstance(value, str) and self.type != "str":
            value = _parse_cli_value(value)
        if isinstance(value, bool) and self.type in ("int", "float"):
            raise ValidationError(self.name, value, f"a {self.type}")
        if not isinstance(value, kinds):
            raise ValidationError(self.name, value, f"a {self.type} (default {self.default!r})")
        return list(value) if self.type == "list" and isinstance(value, (list, tuple)) else value


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
    sandbox: str | None = None  # the sandbox endpoint used (target=sandbox)
    sandbox_started: bool = False  # the runner started it (it keeps running for the next runbooks)

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
        params.append(
            Parameter(p["name"], {"tuple": "list", "nonetype": "any"}.get(kind.lower(), kind), default, p["help"])
        )
    return params


def _literal(text: str) -> Any:
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def validate(name: str, parameters: dict[str, Any], directory: Path | None = None) -> dict[str, Any]:
    """Check names, types and values before any kernel starts; returns the coerced parameters.

    Values are checked with the rules the notebook's own first cell applies (sfnecs.ops.parameters),
    on the notebook's defaults merged with what was given.
    """
    declared = {p.name: p for p in describe(name, directory)}
    out = {}
    for key, value in parameters.items():
        if key not in declared:
            raise ValidationError(key, value, f"not a parameter of runbook {name}: use " + ", ".join(declared))
        out[key] = declared[key].check(value)
    merged = {**{k: p.default for k, p in declared.items()}, **out}
    check_parameters(name, **{k: v for k, v in merged.items() if k in RULES})
    return out


def ensure_sandbox(speed: float = SANDBOX_SPEED) -> tuple[str, bool]:
    """(endpoint, started) of the sandbox that sandbox-target runbooks use: the running one (`sfnecs
    sandbox start`, or AWS_ENDPOINT_URL when it answers as one), else a new background sandbox that
    the next runbooks of a chain share.
    """
    return ensure_background_sandbox(speed)


def run(
    name: str,
    parameters: dict[str, Any] | None = None,
    *,
    output_dir: str | Path = "runs",
    directory: Path | None = None,
    cell_timeout: int = DEFAULT_CELL_TIMEOUT,
    kernel_name: str | None = None,
    log_output: bool = False,
    sandbox_speed: float = SANDBOX_SPEED,
    kernels: Any = None,
) -> RunbookResult:
    """Execute a runbook with papermill; writes `<output_dir>/<UTC time>-<name>.ipynb` and `.result.json`.

    `output_dir` may be local or any URL papermill's I/O handlers know (e.g. `s3://bucket/runs`).
    A runbook whose `target` is sandbox runs against `ensure_sandbox()`'s sandbox. `kernels`: a
    `sfnecs.ops.kernels.KernelPool` (chains pass one, so the next kernel boots while this one runs).
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    params = validate(name, parameters or {}, directory)
    path = runbook_path(name, directory)
    sandbox: tuple[str | None, bool] = (None, False)
    defaults = {p.name: p.default for p in describe(name, directory)}
    if "target" in defaults and params.get("target", defaults["target"]) == "sandbox":
        sandbox = ensure_sandbox(sandbox_speed)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    base = f"{str(output_dir).rstrip('/')}/{stamp}-{name}"
    notebook, result_path = f"{base}.ipynb", f"{base}.result.json"
    if "://" not in str(output_dir):
        Path(output_dir).mkdir(parents=True, exist_ok=True)
    kernel_name = kernel_name or _kernel_of(path)
    warm = kernels.take(kernel_name) if kernels is not None else None
    # where the kernel's save_result() writes: fixed when a kernel starts, so a pooled kernel has its own
    mailbox = warm.result_path if warm else _temp_file(f"sfnecs-{name}-")
    engine: dict[str, Any] = {"engine_name": warm_engine(), "km": warm.km} if warm else {}
    # the kernel is done once the last cell is: end it at once (nbclient's graceful default waits ~1 s)
    engine["shutdown_kernel"] = "immediate"
    started = datetime.now(UTC).isoformat()
    previous = os.environ.get(RESULT_ENV)
    os.environ[RESULT_ENV] = str(mailbox)  # a kernel started now inherits it
    error = None
    try:
        papermill.execute_notebook(
            str(path),
            notebook,
            parameters=params,
            kernel_name=kernel_name,
            progress_bar=False,
            log_output=log_output,
            request_save_on_cell_execute=True,
            execution_timeout=cell_timeout,
            cwd=str(Path.cwd()),
            **engine,
        )
    except PapermillExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue}".splitlines()[0]
    finally:
        if previous is None:
            os.environ.pop(RESULT_ENV, None)
        else:
            os.environ[RESULT_ENV] = previous
    result: dict[str, Any] = {}
    if mailbox.exists() and mailbox.stat().st_size:
        result = json.loads(mailbox.read_text())
    mailbox.unlink(missing_ok=True)
    outcome = RunbookResult(
        name,
        error is None and result.get("ok", True) is not False,
        notebook,
        result_path,
        params,
        result,
        error or result.get("error"),
        started,
        datetime.now(UTC).isoformat(),
        *sandbox,
    )
    _write(result_path, outcome)
    return outcome


def _temp_file(prefix: str) -> Path:
    handle, name = tempfile.mkstemp(prefix=prefix, suffix=".json")
    os.close(handle)
    return Path(name)


def warm_engine() -> str:
    """The papermill engine that runs a notebook on a kernel started ahead (registers it on first use)."""
    from sfnecs.ops.kernels import ENGINE  # lazy: papermill, jupyter (~1 s) in `sfnecs --help` and each runbook kernel

    return ENGINE


def _kernel_of(path: Path) -> str:
    """The kernel the notebook names (metadata.kernelspec.name), as papermill would pick it."""
    import nbformat

    return nbformat.read(path, as_version=4).metadata.get("kernelspec", {}).get("name") or "python3"


def _write(result_path: str, outcome: RunbookResult) -> None:
    text = json.dumps(outcome.to_dict(), indent=2, default=str)
    if "://" in result_path:
        from papermill.iorw import papermill_io

        papermill_io.write(text, result_path)
    else:
        Path(result_path).write_text(text)


def save_result(result: dict[str, Any]) -> dict[str, Any]:
    """Called by a runbook's last cell: hand its result to the runner (no-op under plain papermill)."""
    path = os.environ.get(RESULT_ENV)
    if path:
        Path(path).write_text(json.dumps(result, indent=2, default=str))
    return result
