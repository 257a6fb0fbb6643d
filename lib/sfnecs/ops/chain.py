"""A chain of runbooks run one after another against one sandbox, and its report (`make demo`).

Why a module: `make demo`, the tests and bench/runbooks.py run the same chain (deploy -> run_now ->
diagnose -> deploy (the fix) -> run_now -> audit -> teardown); each step is an ordinary
`sfnecs.ops.runbook.run`, so the executed notebooks are the same audit log an operator would get.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sfnecs.ops.runbook as runbook
from sfnecs.deploy.target import stop_background_sandbox
from sfnecs.exceptions import ValidationError
from sfnecs.ops.kernels import KernelPool, preload_of
from sfnecs.ops.runbook import RunbookResult

__all__ = ["ChainReport", "Step", "StepOutcome", "demo_steps", "run_chain", "shared_sandbox", "write_index"]

#: the demo job's schedule: nightly, created DISABLED. The sandbox's clock runs fast (a minute of the
#: chain is most of an hour), so an enabled schedule could fire mid-chain and make the overlap guard
#: skip a manual run; a rate() one would even fire at creation.
DEMO_SCHEDULE = {"schedule": "cron(0 3 * * ? *)", "schedule_enabled": False}
#: kernels booting ahead of a chain's runbooks: a kernel's boot and imports (about 2 s on a loaded
#: machine) outlast a short runbook such as diagnose, so the one after it boots two steps early
KERNELS_AHEAD = 2


@dataclass(frozen=True)
class Step:
    """One runbook execution of a chain, and whether it is meant to succeed."""

    runbook: str
    parameters: dict[str, Any]
    expect_ok: bool = True
    note: str = ""


@dataclass
class StepOutcome:
    """What one step did: the runner's result and its wall time."""

    step: Step
    result: RunbookResult
    seconds: float

    @property
    def as_expected(self) -> bool:
        return self.result.ok == self.step.expect_ok

    @property
    def summary(self) -> str:
        """One line saying what the runbook found (from its result JSON)."""
        data = self.result.result
        if not data or not self.result.ok:  # the runbook's own one line, else the runner's
            return str(data.get("error") or self.result.error or "no result saved")
        return SUMMARIES.get(self.step.runbook, _generic)(data)


@dataclass
class ChainReport:
    """Every step of a chain, the sandbox it ran against, and the HTML index (when written)."""

    outcomes: list[StepOutcome]
    output_dir: Path
    seconds: float
    sandbox: str | None = None
    sandbox_started: bool = False
    index: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Every step ended as meant (the deliberate failure failed, everything else succeeded)."""
        return all(o.as_expected for o in self.outcomes)

    def to_frame(self) -> Any:
        import pandas as pd

        rows = [
            {
                "step": i,
                "runbook": o.step.runbook,
                "expected": "ok" if o.step.expect_ok else "fail",
                "outcome": "ok" if o.result.ok else "fail",
                "seconds": round(o.seconds, 1),
                "summary": o.summary,
            }
            for i, o in enumerate(self.outcomes, 1)
        ]
        return pd.DataFrame(rows, columns=["step", "runbook", "expected", "outcome", "seconds", "summary"])

    def table(self, width: int = 78) -> str:
        """The terminal summary: one line per step, summaries cut to `width` characters."""
        frame = self.to_frame()
        frame["summary"] = [s if len(s) <= width else s[: width - 3] + "..." for s in frame["summary"]]
        rows = [list(frame.columns)] + frame.astype(str).values.tolist()
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)).rstrip() for row in rows)


# ---- one line per runbook result (a registry: a new runbook adds its own) ----------------------------
def _generic(result: dict[str, Any]) -> str:
    return "ok" if result.get("ok", True) else str(result.get("error"))


def _deploy(result: dict[str, Any]) -> str:
    plan = ", ".join(f"{k} {v}" for k, v in sorted(result.get("plan", {}).items()))
    failed = [c.split(" (", 1)[0] for c in result.get("failed_checks") or []]
    checks = "verify: all pass" if result.get("verified") else f"verify failed: {', '.join(failed) or '?'}"
    return f"{'dry run' if result.get('dry_run') else 'applied'}: {plan}; {checks}"


def _run_now(result: dict[str, Any]) -> str:
    tail = (result.get("log_tail") or [""])[-1]
    return f"{result.get('status')}: exit code {result.get('exit_code')}; last log line: {tail}"


def _diagnose(result: dict[str, Any]) -> str:
    if not result.get("category"):
        return str(result.get("summary"))
    return f"{result['category']} ({result.get('confidence')}): {result.get('summary')}"


def _audit(result: dict[str, Any]) -> str:
    rate = result.get("success_rate")
    failures = ", ".join(f"{k} x{v}" for k, v in (result.get("failures_by_category") or {}).items()) or "none"
    return (
        f"{(result.get('counts') or {}).get('total', 0)} runs, success "
        f"{'-' if rate is None else f'{rate:.0%}'}; failures: {failures}; {len(result.get('flags') or [])} flag(s)"
    )


def _teardown(result: dict[str, Any]) -> str:
    if result.get("dry_run"):
        return f"dry run: would delete {len(result.get('would_delete', []))}"
    return f"deleted {len(result.get('deleted', []))} resource(s), kept {len(result.get('kept', []))}"


SUMMARIES: dict[str, Callable[[dict[str, Any]], str]] = {
    "deploy": _deploy,
    "run_now": _run_now,
    "diagnose": _diagnose,
    "audit": _audit,
    "teardown": _teardown,
}


# ---- running ---------------------------------------------------------------------------------------
def demo_steps(stack: str = "demo") -> list[Step]:
    """The demo chain: a mistake (an arm64 image on an X86_64 task), its diagnosis, the fix, the proof."""
    common = {"stack": stack, "target": "sandbox"}
    return [
        Step(
            "deploy",
            {**common, **DEMO_SCHEDULE, "sample_image": "arm64"},
            note="image built on an Apple Silicon laptop (arm64) for a default X86_64 task",
        ),
        Step("run_now", common, expect_ok=False, note="the deliberate failure: exec format error"),
        Step("diagnose", common, note="names the failure and the fix"),
        Step(
            "deploy",
            {**common, **DEMO_SCHEDULE, "architecture": "ARM64", "sample_image": "", "inspect_image": True},
            note="the fix: run the task on the image's CPU (ARM64); verify reads the image's binary to be sure",
        ),
        Step("run_now", common, note="the fixed rerun succeeds"),
        Step("audit", common, note="both runs: success rate, durations, failures by category"),
        Step(
            "teardown",
            {**common, "delete_logs": True, "delete_images": True},
            note="delete everything tagged for the stack, logs and images too (by default teardown keeps them)",
        ),
    ]


@contextmanager
def shared_sandbox(speed: float = runbook.SANDBOX_SPEED) -> Iterator[tuple[str, bool]]:
    """(endpoint, started): the running sandbox, or a background one that lives for the block.

    Why a background process and not one in this process: every runbook kernel is another process
    and finds the sandbox through `$SFNECS_HOME/sandbox.json`; one started here is stopped at the end.
    """
    endpoint, started = runbook.ensure_sandbox(speed)
    try:
        yield endpoint, started
    finally:
        if started:
            stop_background_sandbox()


def run_chain(
    steps: list[Step],
    output_dir: str | Path = "runs",
    *,
    speed: float = runbook.SANDBOX_SPEED,
    warm_kernels: bool = True,
    on_step: Callable[[StepOutcome], None] | None = None,
    **run_options: Any,
) -> ChainReport:
    """Run the steps in order against one sandbox; every step runs even after an unexpected outcome
    (teardown must still clean up), and the report says which ones were not as expected.

    `warm_kernels`: boot each next runbook's kernel while the current one runs (sfnecs.ops.kernels).
    """
    if not steps or not all(isinstance(s, Step) for s in steps):
        raise ValidationError("steps", steps, "a non-empty list of sfnecs.ops.chain.Step")
    for step in steps:  # every parameter checked before the first kernel starts
        runbook.validate(step.runbook, step.parameters)
    began = time.perf_counter()
    outcomes = []
    preloads = [preload_of(runbook.runbook_path(s.runbook)) for s in steps]
    with KernelPool(preloads=preloads, ahead=KERNELS_AHEAD) as pool:
        if warm_kernels:
            pool.prestart()  # the first kernels boot while the sandbox is found (or started)
        with shared_sandbox(speed) as (endpoint, started):
            for step in steps:
                t0 = time.perf_counter()
                result = runbook.run(
                    step.runbook,
                    step.parameters,
                    output_dir=output_dir,
                    kernels=pool if warm_kernels else None,
                    **run_options,
                )
                outcomes.append(StepOutcome(step, result, time.perf_counter() - t0))
                if on_step:
                    on_step(outcomes[-1])
    return ChainReport(outcomes, Path(output_dir), time.perf_counter() - began, endpoint, started)


# ---- the HTML index -----------------------------------------------------------------------------------
def write_index(report: ChainReport, title: str = "sfnecs runbook chain") -> Path:
    """Render each executed notebook to HTML (nbconvert) beside it and link them from `index.html`."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter()
    rows = []
    for i, o in enumerate(report.outcomes, 1):
        notebook = Path(o.result.notebook)
        page = notebook.with_suffix(".html")
        body, _ = exporter.from_notebook_node(nbformat.read(notebook, as_version=4))
        page.write_text(body, encoding="utf-8")
        colour = "#1a7f37" if o.as_expected else "#cf222e"
        outcome = ("ok" if o.result.ok else "failed") + ("" if o.step.expect_ok else " (as meant)")
        params = ", ".join(f"{k}={v}" for k, v in o.step.parameters.items() if k not in ("stack", "target"))
        rows.append(
            f"<tr><td>{i}</td><td><a href='{html.escape(page.name)}'>{html.escape(o.step.runbook)}</a></td>"
            f"<td><code>{html.escape(params)}</code></td><td style='color:{colour}'>{html.escape(outcome)}</td>"
            f"<td>{o.seconds:.1f} s</td><td>{html.escape(o.step.note)}</td><td>{html.escape(o.summary)}</td>"
            f"<td><a href='{html.escape(notebook.name)}'>ipynb</a> "
            f"<a href='{html.escape(Path(o.result.result_path).name)}'>json</a></td></tr>"
        )
    index = report.output_dir / "index.html"
    index.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{len(report.outcomes)} runbooks in {report.seconds:.1f} s against the "
        f"sandbox at {html.escape(str(report.sandbox))}; every step "
        f"{'ended as meant' if report.ok else '<b>did not</b> end as meant'}.</p>"
        "<table><tr><th>#</th><th>runbook (executed notebook)</th><th>parameters</th><th>outcome</th>"
        f"<th>time</th><th>why this step</th><th>result</th><th>files</th></tr>{''.join(rows)}</table></body></html>",
        encoding="utf-8",
    )
    report.index = index
    return index
