"""`prove`: walk every path of a stack's state machine with Step Functions TestState, and report.

Why TestState: it judges one state the way Step Functions runs it (the API reference, "TestState"),
with the service call mocked, so every path -- retries, catches, timeouts, the guard -- is shown in
seconds and at no task cost, on the sandbox or on AWS, against the definition and role actually
deployed. The suite (what each path must do) comes from the StackSpec (`sfnecs.proofs.cases`).
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from sfnecs.exceptions import StackError, ValidationError
from sfnecs.i18n import N_, localize, tr
from sfnecs.model.spec import StackSpec
from sfnecs.model.target import Target
from sfnecs.proofs.cases import ProofPath, Step, context, proof_paths

#: what TestState reports: DEBUG adds the data flow and errorDetails (retry/catch index)
INSPECTION_LEVEL = "DEBUG"
#: a step's columns in `ProofReport.to_frame` (N_: the frame keeps these names, the display translates them)
STEP_COLUMNS = [
    N_("path"),
    N_("proves"),
    N_("state"),
    N_("retries"),
    N_("mocked"),
    N_("expected"),
    N_("got"),
    N_("ok"),
    N_("why"),
]
#: `got` of a step after a path's first disagreement (TestState was not called)
NOT_RUN = N_("not run")


@dataclass(frozen=True)
class StepResult:
    """One TestState call of a path: what was expected, what TestState said, and whether they agree."""

    path: str
    proves: str
    state: str
    expected: str
    status: str
    next_state: str | None
    error: str | None
    cause: str | None
    ok: bool
    why: str = ""  # what disagreed, in words ("" when ok)
    retry_count: int = 0
    mocked: bool = False
    error_details: dict[str, int] = field(default_factory=dict)

    @property
    def got(self) -> str:
        text = self.status + (f" -> {self.next_state}" if self.next_state else "")
        return text + (f" ({self.error})" if self.error else "")


@dataclass(frozen=True)
class ProofReport:
    """The suite's outcome on one target: every step, and whether every path did what the spec says."""

    stack: str
    target: str
    query_language: str
    role_arn: str | None
    steps: tuple[StepResult, ...]
    not_run: tuple[tuple[str, str, str], ...]  # (path, state, expected) of steps after a path's first disagreement
    seconds: float

    @property
    def passed(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps) and not self.not_run

    @property
    def paths(self) -> dict[str, bool]:
        """Each path and whether it passed."""
        verdict: dict[str, bool] = {}
        for step in self.steps:
            verdict[step.path] = verdict.get(step.path, True) and step.ok
        return verdict

    @property
    def failures(self) -> tuple[StepResult, ...]:
        return tuple(step for step in self.steps if not step.ok)

    @property
    def statuses(self) -> set[str]:
        """The TestState statuses the suite met."""
        return {step.status for step in self.steps}

    def summary(self) -> str:
        """One line: how many paths and steps passed, and the time taken."""
        paths = self.paths
        return tr(
            "{stack} ({language}, {target}): {proven}/{paths} paths proven, {ok}/{steps} TestState steps as "
            "expected, {seconds:.1f} s, no task run",
            stack=self.stack,
            language=self.query_language,
            target=self.target,
            proven=sum(paths.values()),
            paths=len(paths),
            ok=sum(s.ok for s in self.steps),
            steps=len(self.steps) + len(self.not_run),
            seconds=self.seconds,
        )

    def to_frame(self) -> Any:
        """A table: one row per step (path, what it proves, state, expected, got, ok)."""
        import pandas as pd

        rows = [
            {
                "path": s.path,
                "proves": s.proves,
                "state": s.state,
                "retries": s.retry_count,
                "mocked": s.mocked,
                "expected": s.expected,
                "got": s.got,
                "ok": s.ok,
                "why": s.why,
            }
            for s in self.steps
        ]
        rows += [
            {
                "path": p,
                "state": st,
                "expected": expected,
                "got": NOT_RUN,
                "ok": False,
                "why": tr("an earlier step of this path disagreed"),
            }
            for p, st, expected in self.not_run
        ]
        return pd.DataFrame(rows, columns=STEP_COLUMNS)

    def by_path(self) -> Any:
        """A table: one row per path (what it proves, how many TestState steps, whether it is proven)."""
        frame = self.to_frame()
        return frame.groupby("path", sort=False).agg(
            **{
                N_("proves"): ("proves", "first"),
                N_("steps"): ("state", "size"),
                N_("proven"): ("ok", "all"),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data, with `ok` and a one-line `error` (a runbook's result)."""
        failed = [path for path, ok in self.paths.items() if not ok]
        first = self.failures[0] if failed else None
        error = (
            tr("not proven: {paths} ({path}: {why})", paths=", ".join(failed), path=first.path, why=first.why)
            if first
            else None
        )
        return asdict(self) | {"passed": self.passed, "ok": self.passed, "error": error, "summary": self.summary()}

    def _repr_html_(self) -> str:
        return f"<p><b>{html.escape(self.summary())}</b></p>" + localize(self.to_frame()).to_html(index=False)


def _disagreement(step: Step, answer: dict[str, Any]) -> str:
    """Why TestState's answer is not what the step expects ("" when it is)."""
    got_status, got_next = answer.get("status"), answer.get("nextState")
    if got_status != step.expect_status:
        return tr("status {got}, expected {expected}", got=got_status, expected=step.expect_status)
    if step.expect_status in ("SUCCEEDED", "CAUGHT_ERROR") and got_next != step.expect_next:
        return tr("next state {got}, expected {expected}", got=got_next, expected=step.expect_next)
    if step.expect_error is not None and answer.get("error") != step.expect_error:
        return tr("error {got}, expected {expected}", got=answer.get("error"), expected=step.expect_error)
    if step.expect_output:
        output = json.loads(answer.get("output") or "null")
        wrong = {k: v for k, v in step.expect_output.items() if not isinstance(output, dict) or output.get(k) != v}
        if wrong:
            return tr("output lacks {fields}", fields=wrong)
    return ""


def _call(sfn: Any, definition: str, step: Step, state_input: Any, spec: StackSpec, role: str | None) -> dict:
    request: dict[str, Any] = {
        "definition": definition,
        "stateName": step.state,
        "input": json.dumps(state_input),
        "inspectionLevel": INSPECTION_LEVEL,
    }
    if role:
        request["roleArn"] = role
    if step.mock is not None:
        # a mocked result is checked against the service's API model (the step says how strictly)
        request["mock"] = step.mock
        request["context"] = json.dumps(context(spec))
    if step.retry_count:
        request["stateConfiguration"] = {"retrierRetryCount": step.retry_count}
    try:
        answer = sfn.test_state(**request)
    except Exception as exc:  # noqa: BLE001 - a refused request is the step's outcome, reported as such
        error = getattr(exc, "response", {}).get("Error", {})
        return {
            "status": "REFUSED",
            "error": error.get("Code") or type(exc).__name__,
            "cause": error.get("Message") or str(exc),
        }
    answer.pop("ResponseMetadata", None)
    return answer


def _walk(sfn: Any, definition: str, path: ProofPath, spec: StackSpec, role: str | None) -> tuple[list, list]:
    """Test each step of `path` in turn; stop at the first disagreement (the rest would prove nothing)."""
    results: list[StepResult] = []
    state_input, previous_input = path.input, path.input
    for index, step in enumerate(path.steps):
        given = step.input if step.input is not None else state_input
        answer = _call(sfn, definition, step, given, spec, role)
        why = _disagreement(step, answer)
        results.append(
            StepResult(
                path.name,
                path.proves,
                step.state,
                step.expected,
                answer.get("status", "?"),
                answer.get("nextState"),
                answer.get("error"),
                answer.get("cause"),
                not why,
                why,
                step.retry_count,
                step.mock is not None,
                dict(answer.get("inspectionData", {}).get("errorDetails") or {}),
            )
        )
        if why:
            return results, [(path.name, later.state, later.expected) for later in path.steps[index + 1 :]]
        previous_input = given
        # a RETRIABLE state is tried again with the same input; otherwise the output flows on
        state_input = previous_input if answer["status"] == "RETRIABLE" else json.loads(answer.get("output") or "null")
    return results, []


def deployed_definition(target: Target, spec: StackSpec) -> tuple[str, str]:
    """(definition, roleArn) of the stack's state machine as deployed on `target`."""
    sfn = target.client("stepfunctions")
    try:
        found = sfn.describe_state_machine(stateMachineArn=spec.state_machine_arn)
    except sfn.exceptions.StateMachineDoesNotExist:
        raise StackError(
            tr(
                "stack {stack} has no state machine {machine} on target {target} in {region}: deploy it first "
                "(sfnecs apply --stack {name} --confirm), or pass definition=",
                stack=repr(spec.name),
                machine=spec.state_machine,
                target=target.name,
                region=target.region,
                name=spec.name,
            )
        ) from None
    return found["definition"], found["roleArn"]


def prove(
    target: Target,
    spec: StackSpec,
    *,
    definition: str | dict[str, Any] | None = None,
    role_arn: str | None = None,
    paths: Iterable[str] | None = None,
) -> ProofReport:
    """Prove every path of `spec`'s state machine with TestState on `target`; no task runs.

    `definition` None: the deployed one, tested with its own role (StackError if not deployed); else
    that definition (a dict or ASL text), with `role_arn` if given. `paths`: only these (names as in
    `sfnecs.proofs.cases.proof_paths`). The deployed definition's query language is the one proven.
    On AWS the caller needs `states:TestState`, and `iam:PassRole` on the role (API reference, "TestState").
    """
    if not isinstance(spec, StackSpec):
        raise ValidationError("spec", spec, N_("a sfnecs.model.StackSpec"))
    role: str | None
    if definition is None:
        text, role = deployed_definition(target, spec)
    elif isinstance(definition, (str, dict)):
        text, role = definition if isinstance(definition, str) else json.dumps(definition), role_arn
    else:
        raise ValidationError(
            "definition", type(definition).__name__, N_("None (the deployed one), ASL text or a dict")
        )
    try:
        language = json.loads(text).get("QueryLanguage", "JSONPath")
    except (ValueError, AttributeError):
        language = spec.query_language  # TestState will refuse the definition: each step says so
    if language in ("JSONata", "JSONPath") and language != spec.query_language:
        spec = spec.replace(query_language=language)  # the same behaviour, written in the other language
    suite = proof_paths(spec)
    wanted = {p.name for p in suite} if paths is None else set(paths)
    if unknown := wanted - {p.name for p in suite}:
        raise ValidationError(
            "paths", sorted(unknown), tr("names of this stack's paths: {names}", names=[p.name for p in suite])
        )
    sfn = target.client("stepfunctions")
    started = time.perf_counter()
    steps: list[StepResult] = []
    not_run: list[tuple[str, str, str]] = []
    for path in suite:
        if path.name in wanted:
            done, skipped = _walk(sfn, text, path, spec, role)
            steps += done
            not_run += skipped
    return ProofReport(
        spec.name, target.name, spec.query_language, role, tuple(steps), tuple(not_run), time.perf_counter() - started
    )
