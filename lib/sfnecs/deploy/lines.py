"""The lines the deploy, run_now, audit and teardown runbooks print for people, in the reader's language.

Why here and not in the runbooks: a runbook's code cells are not read for the catalog, and a sentence
built from a spec is logic (Library first); each function returns one line made with `tr`, so the
Japanese may order the values its own way. AWS names and values (ARNs, states, CPU names) stay as they are.
"""

from __future__ import annotations

from typing import Any

from sfnecs.i18n import N_, table_text, tr
from sfnecs.model.spec import StackSpec
from sfnecs.model.target import Target

__all__ = [
    "applied_line",
    "assumption_lines",
    "deploy_line",
    "flag_lines",
    "image_line",
    "outcome_line",
    "spec_line",
    "table_lines",
    "teardown_line",
    "timeline_title",
]


def deploy_line(target: Target, spec: StackSpec) -> str:
    """The stack about to be deployed: pattern, CPU, where, its subnets and whether tasks get a public IP."""
    return tr(
        "stack {stack}: pattern {pattern}, {cpu}, on {target} {region} (account {account}); subnets {subnets}, "
        "public IP {public_ip}",
        stack=spec.name,
        pattern=spec.pattern,
        cpu=spec.cpu_architecture,
        target=target.name,
        region=target.region,
        account=target.account,
        subnets=", ".join(spec.subnets),
        public_ip=spec.assign_public_ip,
    )


def spec_line(spec: StackSpec) -> str:
    """One line naming the stack, its pattern, CPU and subnets (the export runbook's)."""
    return tr(
        "stack {stack}: pattern {pattern}, {cpu}; subnets {subnets}",
        stack=spec.name,
        pattern=spec.pattern,
        cpu=spec.cpu_architecture,
        subnets=", ".join(spec.subnets),
    )


def image_line(spec: StackSpec) -> str:
    """The deployed stack about to run: pattern, CPU and the image its task runs."""
    return tr(
        "stack {stack}: pattern {pattern}, {cpu}, image {image}",
        stack=spec.name,
        pattern=spec.pattern,
        cpu=spec.cpu_architecture,
        image=spec.image_uri,
    )


def outcome_line(status: str, exit_code: object, stopped_reason: str | None) -> str:
    """How a run ended: its state (as AWS names it), the job's exit code and ECS's stopped reason (AWS's text)."""
    return tr("{status}: exit code {exit_code}, {reason}", status=status, exit_code=exit_code, reason=stopped_reason)


def timeline_title(spec: StackSpec, count: int) -> str:
    """The title of the run_now runbook's timeline of recent runs."""
    return tr("stack {stack}: the last {count} run(s)", stack=spec.name, count=count)


def applied_line(count: int | None, image: str) -> str:
    """What apply did (None: a dry run changed nothing) and the image the task runs."""
    if count is None:
        return tr("dry run: nothing changed")
    return tr("{count} resource(s) changed; image {image}", count=count, image=image)


def teardown_line(deleted: int | None) -> str:
    """What teardown did (None: a dry run deleted nothing)."""
    if deleted is None:
        return tr("dry run: nothing deleted")
    return tr("{count} resource(s) deleted", count=deleted)


def flag_lines(flags: list[str] | tuple[str, ...]) -> str:
    """The audit runbook's flags (made in the reader's language by sfnecs.runs.audit), or that there are none."""
    return "\n".join(flags) or tr("nothing to flag")


def assumption_lines(assumptions: list[str] | tuple[str, ...]) -> str:
    """A monthly cost estimate's assumptions, one line each (the deploy runbook shows them above the table)."""
    return "\n".join(tr("assumes {assumption}", assumption=a) for a in assumptions)


def table_lines(frame: Any, diffs: bool = False) -> str:
    """A plan's or teardown's table as text in the reader's language (sfnecs.i18n.table_text); with `diffs`,
    then each resource's values that differ. An empty table is a teardown that found nothing (a plan always
    lists every resource)."""
    columns = [c for c in ("resource", "type", "action", "reason") if c in frame.columns]
    text = table_text(frame[columns], empty=N_("nothing to delete"))
    if not diffs or not len(frame):
        return text
    changed = [f"{r}: {d}" for r, d in zip(frame["resource"], frame["diff"], strict=True) if d]
    return text + "\n\n" + ("\n".join(changed) or tr("no values to update"))
