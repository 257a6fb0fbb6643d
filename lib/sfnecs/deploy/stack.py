"""Plan, apply and tear down every resource of a stack, idempotently and owning only what it tagged.

Why this shape: each resource type is one small `Resource` in a registry (sfnecs.deploy.resources),
so a plan is "desired documents (pure, from the StackSpec) diffed with what AWS says", and apply is
that same loop with the changes made; all three answer with a `ChangeSet`. This module is also the
deploy API's front door: it re-exports the request builders, verify and default_network.
"""

from __future__ import annotations

from sfnecs.checks import check_bool
from sfnecs.deploy.changes import ACTIONS, Change, ChangeSet, Current, Desired
from sfnecs.deploy.network import default_network
from sfnecs.deploy.requests import schedule_request, state_machine_request, task_definition_request
from sfnecs.deploy.resources import NEXT_REVISION, RESOURCES, Resource
from sfnecs.deploy.verify import Check, Verification, check_spec, verify
from sfnecs.exceptions import StackError
from sfnecs.i18n import N_, tr
from sfnecs.model.spec import StackSpec, log_stream_prefix, schedule_group
from sfnecs.model.target import Target
from sfnecs.runtask import network_configuration, run_task_placement

__all__ = [
    "ACTIONS",
    "Change",
    "ChangeSet",
    "Check",
    "Desired",
    "NEXT_REVISION",
    "RESOURCES",
    "Verification",
    "apply",
    "check_spec",
    "default_network",
    "desired_resources",
    "log_stream_prefix",
    "network_configuration",
    "plan",
    "run_task_placement",
    "schedule_group",
    "schedule_request",
    "state_machine_request",
    "task_definition_request",
    "teardown",
    "verify",
]


def desired_resources(
    spec: StackSpec, *, task_definition_arn: str | None = None, email: str | None = None
) -> list[Desired]:
    """Every resource the spec wants, in creation order (pure: no AWS call).

    `task_definition_arn`: the revision the state machine or schedule should run (default: a
    placeholder for the revision apply will register).
    """
    refs = {"task_definition": task_definition_arn or f"{spec.family}:{NEXT_REVISION}"}
    return [d for resource in RESOURCES for d in resource.desired(spec, refs, email)]


def _decide(resource: Resource, spec: StackSpec, want: Desired, have: Current | None) -> Change:
    def change(action: str, reason: str, diff: str = "") -> Change:
        return Change(want.name, resource.type, action, reason, diff, kind=resource.key, desired=want, current=have)

    if have is None:
        return change("create", N_("does not exist"))
    tag = f"{spec.stack_tag[0]}={spec.name}"
    if not have.owned:
        if resource.shared:
            return change("no-op", tr("exists without tag {tag}: used as is, never changed or deleted", tag=tag))
        return change(
            "conflict",
            tr("exists without tag {tag}: it is not this stack's; rename it in the spec, or delete it", tag=tag),
        )
    diff = resource.compare(want, have)
    if diff:
        why = (
            tr("new revision: {count} value(s) differ", count=len(diff))
            if resource.key == "task_definition"
            else tr("changed: {count} value(s) differ", count=len(diff))
        )
        return change("update", why, "\n".join(diff))
    return change("no-op", N_("up to date"))


def _converge(
    target: Target,
    spec: StackSpec,
    email: str | None,
    execute: bool,
    reads: dict[tuple[str, str], Current | None] | None = None,
) -> list[Change]:
    """Diff (and with `execute`, make) every change. `reads`: what AWS said per (resource key, name);
    a name found there is not read again, so apply executes from the reads of its own dry pass."""
    reads = {} if reads is None else reads

    def read(resource: Resource, name: str) -> Current | None:
        if (resource.key, name) not in reads:
            reads[(resource.key, name)] = resource.read(target, spec, name)
        return reads[(resource.key, name)]

    refs: dict[str, str] = {}
    changes: list[Change] = []
    leftovers: list[tuple[Resource, Current]] = []
    for resource in RESOURCES:
        wanted = resource.desired(spec, refs, email)
        for want in wanted:
            have = read(resource, want.name)
            change = _decide(resource, spec, want, have)
            changes.append(change)
            arn = None
            if execute and change.action in ("create", "update"):
                try:
                    arn = (
                        resource.create(target, spec, want)
                        if change.action == "create"
                        else resource.update(target, spec, want, have)  # type: ignore[arg-type]  # an update has a current
                    )
                except Exception as exc:
                    raise _partial(spec, changes, change, exc) from exc
                change.done = True
            resource.published(want, have, change.action, arn, refs)
        for name in [] if resource.retained else sorted(set(resource.names(spec)) - {w.name for w in wanted}):
            have = read(resource, name)
            if have is not None and have.owned:
                leftovers.append((resource, have))
    # resources the spec no longer wants (e.g. the state machine after a switch to pattern A) go
    # last, once nothing that stays refers to them
    for resource, have in reversed(leftovers):
        change = Change(
            have.name,
            resource.type,
            "delete",
            N_("no longer in the spec; tagged for this stack"),
            kind=resource.key,
            current=have,
        )
        changes.append(change)
        if execute:
            try:
                resource.delete(target, spec, have)
            except Exception as exc:
                raise _partial(spec, changes, change, exc) from exc
            change.done = True
    return changes


def _partial(spec: StackSpec, changes: list[Change], failed: Change, exc: Exception) -> StackError:
    done = [f"{c.action} {c.type} {c.resource}" for c in changes if c.done]
    err = StackError(
        tr(
            "stack {stack}: {action} of {type} {resource} failed: {error}. Done before it: {done}. Fix the cause "
            "and apply again, or teardown.",
            stack=repr(spec.name),
            action=failed.action,
            type=failed.type,
            resource=failed.resource,
            error=exc,
            done=", ".join(done) or tr("nothing"),
        )
    )
    err.changes = ChangeSet(spec.name, changes)  # type: ignore[attr-defined]
    return err


def plan(target: Target, spec: StackSpec, *, email: str | None = None) -> ChangeSet:
    """What apply would do, as a dry-run ChangeSet: per resource its type, action (create, update,
    no-op, delete, conflict), reason and diff; `.to_frame()` gives them as a DataFrame.

    Reads only. `email`: an address to subscribe to the alert topic besides the spec's `notify_email`.
    """
    spec = check_spec(target, spec, email)
    return ChangeSet(spec.name, _converge(target, spec, email, execute=False), dry_run=True)


def apply(target: Target, spec: StackSpec, *, email: str | None = None) -> ChangeSet:
    """Create or update every resource so AWS matches the spec, and return what was done.

    Idempotent: a second apply changes nothing. Refuses, before any change, when a resource of
    the same name exists without this stack's tag. On a failure midway it raises StackError
    (with `.changes`: what was done); apply again or teardown, both work from there.
    """
    spec = check_spec(target, spec, email)
    reads: dict[tuple[str, str], Current | None] = {}  # read once: the dry pass's reads serve the changes
    dry = _converge(target, spec, email, execute=False, reads=reads)
    conflicts = [c for c in dry if c.action == "conflict"]
    if conflicts:
        raise StackError(
            tr(
                "stack {stack}: nothing changed, because {conflicts}",
                stack=repr(spec.name),
                conflicts="; ".join(f"{c.type} {c.resource} {c.reason}" for c in conflicts),
            )
        )
    return ChangeSet(spec.name, _converge(target, spec, email, execute=True, reads=reads))


#: what teardown keeps unless asked, why, and how to remove it by hand: an operator investigating a
#: failed run should not lose its logs, nor the image it ran, to a clean-up
KEPT_UNLESS_ASKED = {
    "log_group": ("delete_logs", N_("the logs of past runs"), "aws logs delete-log-group --log-group-name {name}"),
    "repository": ("delete_images", N_("the images"), "aws ecr delete-repository --force --repository-name {name}"),
}


def teardown(
    target: Target, spec: StackSpec, *, dry_run: bool = False, delete_logs: bool = False, delete_images: bool = False
) -> ChangeSet:
    """Delete every resource of the stack that carries its tag, in reverse dependency order; keep its log
    groups and its ECR repository (with the images) unless `delete_logs` / `delete_images`.

    Untagged resources with the same names are left alone; running it again (or after a failed
    apply) deletes what is left and nothing else. A kept resource is a no-op whose reason says how to
    remove it (`ChangeSet.kept`).
    """
    asked = {
        "delete_logs": check_bool("delete_logs", delete_logs),
        "delete_images": check_bool("delete_images", delete_images),
    }
    spec = check_spec(target, spec)
    changes = []
    for resource in reversed(RESOURCES):
        for name in resource.names(spec):
            have = resource.read_all(target, spec, name)
            if have is None:
                continue
            keep = KEPT_UNLESS_ASKED.get(resource.key)
            if have.owned and keep and not asked[keep[0]]:
                flag, what, command = keep
                changes.append(
                    Change(
                        name,
                        resource.type,
                        "no-op",
                        tr(
                            "kept: {what}; remove with {flag}=True or `{command}`",
                            what=tr(what),
                            flag=flag,
                            command=command.format(name=name),
                        ),
                        kind=resource.key,
                        current=have,
                        kept=True,
                    )
                )
                continue
            if not have.owned:
                changes.append(
                    Change(
                        name,
                        resource.type,
                        "no-op",
                        tr("not tagged {tag}: kept", tag=spec.stack_tag[0] + "=" + spec.name),
                        kind=resource.key,
                        current=have,
                    )
                )
                continue
            change = Change(
                name, resource.type, "delete", resource.delete_reason(have), kind=resource.key, current=have
            )
            changes.append(change)
            if not dry_run:
                try:
                    resource.delete(target, spec, have)
                except Exception as exc:
                    raise _partial(spec, changes, change, exc) from exc
                change.done = True
    return ChangeSet(spec.name, changes, dry_run=dry_run)
