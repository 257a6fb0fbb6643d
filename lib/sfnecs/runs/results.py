"""What a run is and how it ended: `Run` (a started execution or task) and `RunResult`, side by side.

Why one module: starting, waiting and reading all hand these two types around, and notebooks
compare results (`summary`), so their fields are the vocabulary of the runs package.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any, Literal, TypedDict

from sfnecs.exceptions import ValidationError
from sfnecs.i18n import N_, tr
from sfnecs.model.spec import StackSpec, log_stream_prefix


@dataclass(frozen=True)
class Run:
    """A started run: a Step Functions execution (pattern B) or an ECS task (pattern A)."""

    arn: str
    kind: Literal["execution", "task"]
    name: str
    stack: str = ""
    intended: datetime | None = None
    deduplicated: bool = False  # the start matched an existing run with the same name/token
    log_group: str = ""
    log_stream_prefix: str = ""
    container_name: str = ""


@dataclass
class RunResult:
    """How one run ended: status, the job's exit, why it stopped, its logs and timings.

    `started`/`stopped`/`total_seconds` are the execution's (pattern B) or the task's (direct
    runs); `queue_seconds`/`run_seconds` always come from the ECS task. In the sandbox the task's
    times are on the virtual clock while execution timestamps are real, so there a task can
    "run" longer than its execution took.
    """

    status: str  # SUCCEEDED FAILED TIMED_OUT ABORTED (executions) or SUCCEEDED FAILED (direct runs)
    exit_code: int | None = None
    stop_code: str | None = None
    stopped_reason: str | None = None
    task_arn: str | None = None
    execution_arn: str | None = None
    started: datetime | None = None
    stopped: datetime | None = None
    queue_seconds: float | None = None  # task created -> container started (provisioning and pull)
    run_seconds: float | None = None  # container started -> task stopped
    total_seconds: float | None = None  # the whole run (execution, or task created -> stopped)
    log_tail: list[str] = field(default_factory=list)
    error: str | None = None
    cause: str | None = None
    failures: list[dict[str, Any]] = field(default_factory=list)  # RunTask `failures` (no task started)
    skipped: bool = False  # the overlap guard ended the execution before any task (reason in `cause`)
    api_calls: int = 0  # AWS calls made to wait for and read this result

    @property
    def ok(self) -> bool:
        return self.status == "SUCCEEDED"

    @property
    def durations(self) -> dict[str, float | None]:
        return {"queue": self.queue_seconds, "run": self.run_seconds, "total": self.total_seconds}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (for runbook results)."""
        out = asdict(self)
        for key in ("started", "stopped"):
            out[key] = out[key].isoformat() if out[key] else None
        out["ok"] = self.ok
        return out

    def to_frame(self) -> Any:
        """One row (concatenate several results to compare runs)."""
        import pandas as pd

        row = {f.name: getattr(self, f.name) for f in fields(self)}
        row["log_tail"] = "\n".join(self.log_tail)
        return pd.DataFrame([row])

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.ok else "#cf222e"
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(tr(k))}</th><td><pre style='margin:0'>"
            f"{html.escape(_short(v))}</pre></td></tr>"
            for k, v in asdict(self).items()
            if v not in (None, [], "") and k != "log_tail"
        )
        tail = html.escape("\n".join(self.log_tail)) or html.escape(tr("(no log lines)"))
        lines = tr("last {count} log lines", count=len(self.log_tail))
        return (
            f"<p><b style='color:{colour}'>{html.escape(self.status)}</b></p><table>{rows}</table>"
            f"<details open><summary>{html.escape(lines)}</summary><pre>{tail}</pre></details>"
        )


#: every RunResult field as a person reads it (the field names stay the frame's columns; these
#: marks put them in the catalog, so tables and the HTML above show them in the chosen language)
FIELD_LABELS = (
    N_("status"),
    N_("exit_code"),
    N_("stop_code"),
    N_("stopped_reason"),
    N_("task_arn"),
    N_("execution_arn"),
    N_("started"),
    N_("stopped"),
    N_("queue_seconds"),
    N_("run_seconds"),
    N_("total_seconds"),
    N_("log_tail"),
    N_("error"),
    N_("cause"),
    N_("failures"),
    N_("skipped"),
    N_("api_calls"),
)


#: what says whether a run worked and why; ARNs and times differ on every run, so they are left out
SUMMARY_COLUMNS = ("status", "exit_code", "stop_code", "stopped_reason", "error", "skipped", "log_tail")


def summary(results: Any, columns: Any = SUMMARY_COLUMNS) -> Any:
    """Runs side by side as a DataFrame, one row per label: whether each worked and why.

    Why: comparing a failed run with its fixed rerun is the question after a failure; `results` maps
    a label to a RunResult (a bare RunResult gets the label "run"). The log tail is joined with " | ".
    """
    import pandas as pd

    if isinstance(results, RunResult):
        results = {"run": results}
    if not isinstance(results, dict) or not all(isinstance(r, RunResult) for r in results.values()):
        raise ValidationError("results", type(results).__name__, N_("a RunResult or a dict of label -> RunResult"))
    names = {f.name for f in fields(RunResult)}
    if isinstance(columns, str) or not all(c in names for c in columns):
        raise ValidationError(
            "columns", columns, tr("RunResult field names, e.g. {names}", names=", ".join(SUMMARY_COLUMNS))
        )
    rows = [
        {c: " | ".join(r.log_tail) if c == "log_tail" else getattr(r, c) for c in columns} for r in results.values()
    ]
    # object columns: an exit code stays 0 (not 0.0) and a missing value shows as None (not NaN)
    return pd.DataFrame(rows, index=pd.Index(list(results), name=N_("run")), columns=list(columns), dtype=object)


def _short(value: Any, limit: int = 400) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + " ..."


class _LogLocation(TypedDict):
    log_group: str
    log_stream_prefix: str
    container_name: str


def _log_location(spec: StackSpec) -> _LogLocation:
    """Where the stack's runs log: the Run fields that let a wait read the tail without DescribeTasks."""
    return {
        "log_group": spec.log_group,
        "log_stream_prefix": log_stream_prefix(spec),
        "container_name": spec.container_name,
    }
