"""The fault matrix: every fault the kit claims to survive, injected in the sandbox, for each pattern.

Why: "it loses nothing, leaves nothing behind and explains every failure" is a claim; this module
turns it into a table. For each fault (RunTask `failures`, throttling, pull errors, exec format
error, exit codes, OOM, a Fargate Spot interruption, a hang past the timeout, duplicate and delayed
deliveries, an interrupted apply, a sandbox restart) and each variant (pattern A; pattern B with and
without the overlap guard) it deploys a fresh stack, fires its schedule on the sandbox clock, and
records from the AWS APIs what happened: how many tasks ran, whether the launch was retried,
whether the failure was noticed (a failed execution, a dead letter, or pattern A's task-failure rule
firing), notified (a message on the alert topic, read through an SQS subscription), diagnosed as the right category by
`sfnecs.diagnose`, whether a duplicate or overlapping task ran, and what was left after teardown.

The rows and their promises are in `fault_cases`, running one cell in `fault_cells`; this module
runs the whole matrix and summarizes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import asdict

import pandas as pd

from sfnecs.evidence.fault_cases import A_DUPLICATES as A_DUPLICATES
from sfnecs.evidence.fault_cases import (
    FAULTS,
    VARIANTS,
    VERDICTS,
    Cell,
    FaultCase,
    MatrixSettings,
    MatrixSummary,
    Promise,
    _check_cell,
    promise,
)
from sfnecs.evidence.fault_cases import NO_GUARD as NO_GUARD
from sfnecs.evidence.fault_cases import NO_TIMEOUT as NO_TIMEOUT
from sfnecs.evidence.fault_cases import SILENT_LAUNCH as SILENT_LAUNCH
from sfnecs.evidence.fault_cells import (
    _apply_cell,
    _context,
    _restart_cell,
    _schedule_cell,
    _teardown,
    _verdict,
    restart_in_process,
)
from sfnecs.exceptions import ValidationError
from sfnecs.model.target import Target

#: the matrix's own API first, then the rows' names it re-exports (sfnecs.evidence.fault_cases)
__all__ = ["restart_in_process", "run_matrix", "summarize", "table"]
__all__ += ["FAULTS", "VARIANTS", "VERDICTS", "Cell", "FaultCase", "MatrixSettings", "MatrixSummary", "Promise"]
__all__ += ["promise"]


def run_matrix(
    target: Target,
    faults: Iterable[str] | None = None,
    variants: Iterable[str] | None = None,
    *,
    cells: Iterable[tuple[str, str]] | None = None,
    settings: MatrixSettings | None = None,
    restart: Callable[[], None] | None = None,
    progress: Callable[[Cell], None] | None = None,
) -> pd.DataFrame:
    """Inject every fault into every variant on a sandbox target; one row per cell, as a DataFrame.

    `cells` picks (fault, variant) pairs instead of the full product of `faults` x `variants`.
    `restart` restarts the sandbox (e.g. `restart_in_process(sandbox)`); without it the restart
    row is left out. Each cell deploys its own stack and tears it down. Columns: fault, variant,
    label, tasks, retried, noticed, notified, diagnosis, duplicate, overlap, left, verdict,
    expected, mismatch, detail, seconds.
    """
    if not getattr(target, "is_sandbox", False):
        raise ValidationError("target", getattr(target, "name", target), "a sandbox target: the matrix injects faults")
    settings = settings or MatrixSettings()
    if not isinstance(settings, MatrixSettings):
        raise ValidationError("settings", settings, "a MatrixSettings")
    chosen = _cells(faults, variants, cells, restart is not None)
    out = []
    for n, (key, variant) in enumerate(chosen):
        case = FAULTS[key]
        name = f"{settings.prefix}{n:02d}-{variant.lower().replace('+', 'g').replace('-', 'n')}"
        ctx = _context(target, name, case, variant, settings)
        cell = Cell(key, variant, case.label)
        t0 = time.perf_counter()
        target.control("DELETE", "faults")
        crashed = ""
        try:
            if case.procedure == "apply":
                _apply_cell(ctx, case, cell)
            elif case.procedure == "restart":
                _restart_cell(ctx, case, cell, restart)  # type: ignore[arg-type]
            else:
                _schedule_cell(ctx, case, cell)
        except Exception as exc:  # noqa: BLE001 - an error the kit did not turn into a clear one is a finding
            crashed = f"{type(exc).__name__}: {exc}"[:300]
        finally:
            target.control("DELETE", "faults")
            cell.left = _teardown(ctx)
        _verdict(cell, case.promise(variant, settings))
        if crashed:
            cell.verdict, cell.detail = "lost", crashed
            cell.mismatch = "; ".join(filter(None, ["raised " + crashed.split(":")[0], cell.mismatch]))
        cell.seconds = round(time.perf_counter() - t0, 2)
        out.append(cell)
        if progress:
            progress(cell)
    frame = pd.DataFrame([c.to_dict() for c in out], columns=list(Cell.__dataclass_fields__))
    frame.attrs["settings"] = asdict(settings)
    return frame


def _cells(
    faults: Iterable[str] | None,
    variants: Iterable[str] | None,
    cells: Iterable[tuple[str, str]] | None,
    can_restart: bool,
) -> list[tuple[str, str]]:
    if cells is not None:
        chosen = [tuple(c) for c in cells]
    else:
        fs = list(FAULTS if faults is None else faults)
        vs = list(VARIANTS if variants is None else variants)
        chosen = [
            (f, v) for f in fs for v in vs if can_restart or FAULTS.get(f, FAULTS["delay"]).procedure != "restart"
        ]
    for key, variant in chosen:
        _check_cell(key, variant)
        if FAULTS[key].procedure == "restart" and not can_restart:
            raise ValidationError("restart", None, "a callable that restarts the sandbox, for the sandbox_restart row")
    return chosen  # type: ignore[return-value]


def summarize(frame: pd.DataFrame) -> MatrixSummary:
    """Count a matrix's verdicts."""
    counts = frame["verdict"].value_counts()
    return MatrixSummary(
        len(frame), int(counts.get("handled", 0)), int(counts.get("limitation", 0)), int(counts.get("lost", 0))
    )


def table(frame: pd.DataFrame) -> pd.DataFrame:
    """The matrix as a compact table for reports: one row per cell, yes/no columns, verdict last."""

    def yn(value: bool) -> str:
        return "yes" if value else "no"

    rows = []
    for r in frame.itertuples():
        rows.append(
            {
                "fault": r.label,
                "variant": r.variant,
                "tasks": r.tasks,
                "retried": yn(r.retried),
                "noticed": yn(r.noticed),
                "notified": yn(r.notified),
                "diagnosis": r.diagnosis or "-",
                "duplicate/overlap": yn(r.duplicate or r.overlap),
                "left": ", ".join(r.left) or "nothing",
                "verdict": r.verdict,
            }
        )
    return pd.DataFrame(rows)
