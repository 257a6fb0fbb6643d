"""The failure categories: a registry of matchers in priority order, and `diagnose_task` that runs it.

Why a registry, not an if/elif chain: each matcher owns one category and reads the gathered Facts; the first
that recognises its signs is the diagnosis and the others are listed as `also`, so adding a
category is adding a matcher, not another branch. Texts matched are the ones AWS documents
("Amazon ECS stopped task error messages", "API failure reasons") and ones widely reported by
users (marked *community*).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sfnecs.checks import check_choice
from sfnecs.diagnose.access import ACCESS_MATCHERS
from sfnecs.diagnose.architecture import architecture_mismatch, platform_missing
from sfnecs.diagnose.envelopes import _failure_text
from sfnecs.diagnose.evidence import ESSENTIAL_EXITED, Facts, _exit, _gather, _hits_evidence, _name, _task_evidence
from sfnecs.diagnose.result import Diagnosis
from sfnecs.exceptions import ValidationError
from sfnecs.i18n import N_, tr
from sfnecs.images import ImagePlatforms
from sfnecs.model.fargate import CPU_ARCHITECTURES, FARGATE_CPU_MEMORY

#: Exit status meanings (POSIX shells; 128+n = killed by signal n), translated where shown.
EXIT_MEANINGS: dict[int, str] = {
    1: N_("a general error reported by the program"),
    2: N_("a usage error (bad arguments or shell syntax)"),
    126: N_("the command was found but could not be executed (permissions or format)"),
    127: N_("the command was not found (entrypoint/command or PATH wrong)"),
    134: N_("killed by SIGABRT (the program aborted)"),
    137: N_("killed by SIGKILL (out of memory, or not stopping within stopTimeout after SIGTERM)"),
    139: N_("killed by SIGSEGV (segmentation fault)"),
    143: N_("killed by SIGTERM (the task was being stopped)"),
}

#: a matcher reads the Facts and returns its category's Diagnosis, or None when its signs are absent
Matcher = Callable[[Facts], Diagnosis | None]


def diagnose_task(
    task: Any = None,
    *,
    logs: Any = None,
    image: ImagePlatforms | None = None,
    failures: Any = None,
    error: str | None = None,
    cause: Any = None,
    cpu_architecture: str | None = None,
    main_container: str | None = None,
) -> Diagnosis:
    """Diagnose one run from whatever is at hand; never raises on malformed `task`/`cause` input.

    Why: one entry point for every shape a failure arrives in. `task` may be a DescribeTasks task
    (camelCase), the `.sync` output or Cause (PascalCase), a DescribeTasks/RunTask response, an
    EventBridge task-state-change event, a Step Functions failure ({error, cause}), or a JSON
    string of any of these. `cpu_architecture` is the task definition's runtimePlatform value.
    """
    if cpu_architecture is not None:
        check_choice("cpu_architecture", cpu_architecture, CPU_ARCHITECTURES)
    if image is not None and not isinstance(image, ImagePlatforms):
        raise ValidationError("image", image, "an ImagePlatforms from sfnecs.images (or None)")
    if main_container is not None and not isinstance(main_container, str):
        raise ValidationError("main_container", main_container, "a container name (str) or None")
    facts = _gather(task, logs, image, failures, error, cause, cpu_architecture, main_container)
    hits = [d for _, fn in MATCHERS if (d := fn(facts)) is not None]
    if not hits:
        return _unknown(facts)
    first = hits[0]
    also = tuple(dict.fromkeys(h.category for h in hits[1:] if h.category != first.category))
    return replace(first, also=also)


def _unknown(facts: Facts) -> Diagnosis:
    seen = [(src, text[:300]) for src, text in facts.texts()[:8]]
    seen += [(f"containers[{_name(c)}].exitCode", str(_exit(c))) for c in facts.containers if _exit(c) is not None]
    why = "; ".join(facts.problems) or tr("no recognised failure sign")
    return Diagnosis(
        "unknown",
        "low",
        tr("Cannot tell why: {why}.", why=why),
        tuple(seen),
        tr(
            "Read the stopped task's stoppedReason, each container's reason and exitCode, and the awslogs "
            "stream (AWS: 'Amazon ECS stopped task error messages'); pass them, the RunTask failures and the "
            "image's platforms (sfnecs.images) to diagnose_task."
        ),
    )


# ---- matchers, in priority order --------------------------------------------------------------
def _run_task_rejected(facts: Facts) -> Diagnosis | None:
    """RunTask itself failed (an API error, not a `failures` entry): permissions or parameters.

    Step Functions names these errors after the service exception, e.g. `ECS.AccessDeniedException`
    or `ECS.InvalidParameterException` (*community*: observed, the exact names are not listed by AWS).
    """
    if not re.match(r"(ECS|Ecs|AmazonECS)\.\w+", facts.error) or facts.error == "AmazonECS.Unknown":
        return None
    text = f"{facts.error} {facts.cause}"
    evidence = [("stepFunctions.error", facts.error)] + (
        [("stepFunctions.cause", facts.cause[:500])] if facts.cause else []
    )
    if re.search(r"AccessDenied|not authorized|iam:PassRole", text, re.I):
        return Diagnosis(
            "run_task_rejected",
            "high",
            tr("RunTask was refused: the Step Functions (or Scheduler) role lacks a permission."),
            tuple(evidence),
            tr(
                "Grant the caller's role ecs:RunTask on the task definition (task-definition/<family>:*) and "
                "iam:PassRole on BOTH the task execution role and the task role, with the condition "
                "iam:PassedToService = ecs-tasks.amazonaws.com (sfnecs.iam renders this policy)."
            ),
        )
    if re.search(r"Throttl|Rate exceeded|AmazonECSException", text, re.I):
        return Diagnosis(
            "capacity",
            "medium",
            tr("RunTask was throttled or could not place the task (ECS.AmazonECSException)."),
            tuple(evidence),
            tr(
                "Retry it: in the Task state, Retry {retry}. Do not retry States.TaskFailed blindly: "
                "it reruns failed jobs.",
                retry='[{"ErrorEquals": ["ECS.AmazonECSException"], "IntervalSeconds": 10, "BackoffRate": 2, '
                '"MaxAttempts": 5}]',
            ),
        )
    return Diagnosis(
        "run_task_rejected",
        "high",
        tr("RunTask rejected its parameters ({error}).", error=facts.error),
        tuple(evidence),
        tr(
            "Read the cause: usually a task definition or cluster that does not exist in this region, a missing "
            "networkConfiguration for awsvpc (Fargate), or a container override naming no container."
        ),
    )


_CAPACITY_FIXES: list[tuple[str, str, str]] = [
    (
        r"RESOURCE:(MEMORY|CPU|GPU|PORTS|ENI)",
        N_("no container instance has the {resource} the task asks for"),
        N_("Add capacity to the cluster (EC2 launch type), or lower the task's cpu/memory, or run it on Fargate."),
    ),
    (
        r"Capacity is unavailable at this time",
        N_("Fargate had no capacity for this size in these subnets' zones"),
        N_(
            "Retry later (Step Functions: Retry on AmazonECS.Unknown with backoff), and give the task subnets in more "
            "Availability Zones."
        ),
    ),
    (
        r"\bAGENT\b",
        N_("the container instance's ECS agent is disconnected"),
        N_("Restart or replace the container instance; check the agent can reach ECS."),
    ),
    (
        r"\bATTRIBUTE\b",
        N_("no container instance has an attribute the task definition requires"),
        N_("Use an instance type/AMI with that attribute, or remove the requirement (placement constraint)."),
    ),
    (
        r"limit on the number of tasks",
        N_("the account's concurrent task quota is reached"),
        N_("Request a higher Fargate quota (Service Quotas) or run fewer tasks at once."),
    ),
    (
        r"\bMISSING\b",
        N_("the cluster or container instance was not found"),
        N_("Check the cluster name and region in the schedule or state machine."),
    ),
]


def _capacity(facts: Facts) -> Diagnosis | None:
    """RunTask answered 200 with `failures` (AWS "API failure reasons"); under `.sync` that is AmazonECS.Unknown."""
    hits = [(f"runTask.failures[{i}]", _failure_text(f)) for i, f in enumerate(facts.failures)]
    hits += [(src, text) for src, text, _ in facts.find(r"TaskFailedToStart: \w+|Capacity is unavailable")]
    unknown = facts.error == "AmazonECS.Unknown"
    if not hits and not unknown:
        return None
    evidence = list(hits) + ([("stepFunctions.error", facts.error)] if unknown else [])
    joined = " ".join(text for _, text in hits) + " " + facts.cause
    for pattern, what, fix in _CAPACITY_FIXES:
        m = re.search(pattern, joined, re.I)
        if m:
            what = tr(what, resource=m.group(1).lower() if m.groups() else "")
            summary = tr("The task never started: {what}.", what=what)
            return Diagnosis("capacity", "high" if hits else "medium", summary, tuple(evidence), tr(fix))
    return Diagnosis(
        "capacity",
        "high" if hits else "medium",
        tr("The task never started: RunTask returned failures (Step Functions reports them as AmazonECS.Unknown).")
        if unknown
        else tr("The task never started: RunTask returned failures."),
        tuple(evidence),
        tr("Read the failure reason; AWS lists them under 'API failure reasons'."),
    )


_PULL_KINDS: list[tuple[str, str, str]] = [
    (
        r"i/o timeout|context deadline exceeded|dial tcp|TLS handshake timeout|no such host|connection (refused|reset)",
        N_("Fargate could not reach the registry (network path)"),
        N_(
            "Give the task a route to the registry: a public subnet with assignPublicIp=ENABLED, a NAT gateway, or VPC "
            "endpoints for ecr.api, ecr.dkr and the S3 gateway endpoint (ECR layers are served from S3)."
        ),
    ),
    (
        r"pull access denied",
        N_("the registry refused the pull or the repository does not exist (Docker Hub answers both the same way)"),
        N_(
            "If the image is in ECR, use its full name (<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>): a bare "
            "name is looked up on Docker Hub. For a private Docker Hub image set repositoryCredentials."
        ),
    ),
    (
        r"\b40[13]\b|Forbidden|Unauthorized|AccessDenied|not authorized|no basic auth|insufficient_scope|"
        r"check that the role has the permissions",
        N_("the task execution role may not pull from this repository"),
        N_(
            "Attach AmazonECSTaskExecutionRolePolicy (ecr:GetAuthorizationToken, ecr:BatchGetImage, "
            "ecr:GetDownloadUrlForLayer) to the task execution role; for another account's repository add a "
            "repository policy allowing it."
        ),
    ),
    (
        r"not found|manifest unknown|does not exist|ImageNotFound",
        N_("the image (repository or tag) does not exist"),
        N_(
            "Check the repository and tag exist in this account and region "
            "(aws ecr describe-images --repository-name <repo> --image-ids imageTag=<tag>) and that the push finished "
            "before the schedule fired."
        ),
    ),
]


def _by_kind(
    facts: Facts,
    category: str,
    trigger: str,
    kinds: list[tuple[str, str, str]],
    headline: str,
    fallback_fix: str,
    skip: str | None = None,
    network_note: bool = False,
) -> Diagnosis | None:
    """The shared shape of text-driven matchers: a trigger text, then a table of (pattern, what, fix)."""
    hits = [h for h in facts.find(trigger) if not (skip and skip in h[1])]
    if not hits:
        return None
    text = " ".join(t for _, t, _ in hits)
    evidence = tuple(_hits_evidence(hits))
    for pattern, what, fix in kinds:
        if re.search(pattern, text, re.I):
            fix = tr(fix)
            if network_note and re.search(r"i/o timeout|deadline exceeded|dial tcp|RequestCanceled", text, re.I):
                fix += "\n" + tr(
                    "The error also shows a timeout: the subnet has no route to the service — add a NAT "
                    "gateway, a public IP, or VPC endpoints (secretsmanager, ssm, logs, ecr.api, ecr.dkr, s3)."
                )
            return Diagnosis(
                category, "high", tr("{headline}: {what}.", headline=tr(headline), what=tr(what)), evidence, fix
            )
    return Diagnosis(category, "medium", tr("{headline}.", headline=tr(headline)), evidence, tr(fallback_fix))


def _pull_error(facts: Facts) -> Diagnosis | None:
    """CannotPullContainerError other than a missing platform (AWS re:Post "ecs-fargate-pull-container-error")."""
    return _by_kind(
        facts,
        "pull_error",
        r"CannotPullContainerError|pull image manifest|failed to resolve ref",
        _PULL_KINDS,
        N_("The image could not be pulled"),
        N_(
            "Read the CannotPullContainerError text; AWS re:Post 'ecs-fargate-pull-container-error' lists the "
            "causes (network path, permissions, missing image)."
        ),
        skip="descriptor matching platform",
    )


def _no_network_path(facts: Facts) -> Diagnosis | None:
    """The registry auth call timed out: the subnet has no route to ECR (AWS re:Post knowledge center,
    "ecs-unable-to-pull-secrets": `ResourceInitializationError: unable to pull secrets or registry auth:
    ... dial tcp ...:443: i/o timeout`; the text between varies by agent version)."""
    hits = [
        h
        for h in facts.find(r"ResourceInitializationError")
        if re.search(r"ecr registry auth|api\.ecr\.|GetAuthorizationToken", h[1], re.I)
        and re.search(r"i/o timeout|dial tcp|context deadline exceeded", h[1], re.I)
    ]
    if not hits:
        return None
    return Diagnosis(
        "no_network_path",
        "high",
        tr(
            "The task never started: its subnet has no network path to ECR, so the "
            "registry credentials could not be fetched (the call timed out)."
        ),
        tuple(_hits_evidence(hits)),
        tr(
            "Give the subnet a path to ECR, one of:\n"
            "- a public subnet (route 0.0.0.0/0 to an internet gateway, as in the default VPC) with the task's public "
            "IP on: assignPublicIp ENABLED (StackSpec assign_public_ip=True, CLI --assign-public-ip);\n"
            "- a private subnet whose route 0.0.0.0/0 goes to a NAT gateway;\n"
            "- VPC endpoints: interface endpoints com.amazonaws.<region>.ecr.api, ecr.dkr and logs (plus "
            "secretsmanager / ssm when the task has secrets) and the S3 gateway endpoint on the subnet's route "
            "table.\n"
            "`sfnecs verify` checks this for each subnet (check 'image pull path')."
        ),
    )


_INIT_KINDS: list[tuple[str, str, str]] = [
    (
        r"logger|log group|log stream|CloudWatch",
        N_("the awslogs log group is missing or cannot be written"),
        N_(
            "Create the log group (Terraform aws_cloudwatch_log_group) or set the option "
            'awslogs-create-group = "true" and grant the execution role logs:CreateLogGroup; it also needs '
            "logs:CreateLogStream and logs:PutLogEvents."
        ),
    ),
    (
        r"secrets? from (ssm|asm)|retrieve secret|fetch secret|GetSecretValue|GetParameters|secretsmanager|kms",
        N_("the task's secrets could not be fetched"),
        N_(
            "Grant the task execution role secretsmanager:GetSecretValue / ssm:GetParameters (and kms:Decrypt for a "
            "customer key) on exactly those ARNs, and check the ARNs exist in this region."
        ),
    ),
    (
        r"registry auth|GetAuthorizationToken|\becr\b",
        N_("registry credentials could not be fetched"),
        N_("Grant the task execution role AmazonECSTaskExecutionRolePolicy and give the subnet a path to ECR."),
    ),
    (
        r"\bENI\b|network interface|subnet|IP address",
        N_("the task's network interface could not be set up"),
        N_(
            "Check the subnets have free IP addresses and the account's ENI quota; the security groups must exist "
            "in the subnets' VPC."
        ),
    ),
]


def _resource_initialization(facts: Facts) -> Diagnosis | None:
    """ResourceInitializationError: Fargate could not prepare secrets, logging, registry auth or networking."""
    return _by_kind(
        facts,
        "resource_initialization",
        r"ResourceInitializationError",
        _INIT_KINDS,
        N_("The task failed to start"),
        N_(
            "Read the error text: it names the resource (secrets, logs, registry "
            "auth, network interface) Fargate could not prepare."
        ),
        network_note=True,
    )


_START_KINDS: list[tuple[str, str, str]] = [
    (
        r"no such file or directory|executable file not found|not found in \$PATH",
        N_("its entrypoint or command does not exist in the image"),
        N_(
            "Fix the task definition's entryPoint/command (or the image's ENTRYPOINT/CMD) to a path that exists in the "
            "image; check with sfnecs.images.local_platforms(...).binary."
        ),
    ),
]


def _container_start(facts: Facts) -> Diagnosis | None:
    """The runtime could not create or start the container (AWS "CannotStartContainerError" page)."""
    return _by_kind(
        facts,
        "container_start",
        r"Cannot(Start|Create|Inspect)ContainerError|ContainerRuntime(Timeout)?"
        r"Error",
        _START_KINDS,
        N_("The container could not be created or started"),
        N_(
            "Read the error text; AWS documents these under "
            "'Troubleshooting Amazon ECS CannotStartContainerError errors'."
        ),
    )


def _out_of_memory(facts: Facts) -> Diagnosis | None:
    """OutOfMemoryError: Container killed due to memory usage (AWS "OutOfMemoryError" page), exit 137."""
    oom = [
        (f"containers[{_name(c)}].reason", c.get("reason", ""))
        for c in facts.containers
        if isinstance(c.get("reason"), str) and c["reason"].startswith("OutOfMemoryError")
    ]
    main = facts.main
    sigkill = _exit(main) == 137 and facts.stop_code != "UserInitiated"
    if not oom and not sigkill:
        return None
    logs = [
        (src, text)
        for src, text, _ in facts.find(r"^Killed$|MemoryError|OutOfMemory|Cannot allocate memory")
        if src.startswith("logs")
    ]
    confidence = "high" if oom else ("medium" if logs else "low")
    evidence = oom + _task_evidence(facts) + logs
    return Diagnosis(
        "out_of_memory",
        confidence,
        tr("The container was killed for using more memory than it was given.")
        if oom or logs
        else tr(
            "The container was killed with SIGKILL (exit 137): usually memory, or a job that ignored SIGTERM "
            "for longer than stopTimeout."
        ),
        tuple(evidence),
        _memory_fix(facts),
    )


def _memory_fix(facts: Facts) -> str:
    cpu, memory = _as_int(facts.task.get("cpu")), _as_int(facts.task.get("memory"))
    base = tr(
        "Give the task more memory (task-level memory, and the container's memory limit if set), or make the "
        "job use less."
    )
    if cpu in FARGATE_CPU_MEMORY and memory:
        bigger = [m for m in FARGATE_CPU_MEMORY[cpu] if m > memory]
        if bigger:
            allowed = ", ".join(map(str, FARGATE_CPU_MEMORY[cpu]))
            return (
                base
                + "\n"
                + tr(
                    "On Fargate with cpu = {cpu}, memory {memory} -> {bigger} (allowed: {allowed}); "
                    "in Terraform: memory = {bigger}",
                    cpu=cpu,
                    memory=memory,
                    bigger=bigger[0],
                    allowed=allowed,
                )
            )
        up = next((c for c in FARGATE_CPU_MEMORY if c > cpu), None)
        if up:
            return (
                base
                + "\n"
                + tr(
                    "memory {memory} is the most cpu = {cpu} allows: raise cpu to {up} (memory {low}-{high}).",
                    memory=memory,
                    cpu=cpu,
                    up=up,
                    low=FARGATE_CPU_MEMORY[up][0],
                    high=FARGATE_CPU_MEMORY[up][-1],
                )
            )
    return base


def _as_int(value: Any) -> int | None:
    try:
        return int(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _timeout(facts: Facts) -> Diagnosis | None:
    """The Task state's TimeoutSeconds/HeartbeatSeconds expired (Step Functions errors States.Timeout...)."""
    if facts.error not in ("States.Timeout", "States.HeartbeatTimeout"):
        return None
    status = [("task.lastStatus", facts.text("lastStatus"))] if facts.text("lastStatus") else []
    return Diagnosis(
        "timeout",
        "high",
        tr("The Step Functions Task state timed out ({error}) before the task stopped.", error=facts.error),
        tuple([("stepFunctions.error", facts.error)] + status + _task_evidence(facts)),
        tr(
            "Raise the Task state's TimeoutSeconds above the job's longest run, or make the job faster. Step "
            "Functions tries to stop the ECS task it started (that is why .sync needs ecs:StopTask); check the task "
            "is gone."
        ),
    )


_EXTERNAL_STOPS = ("UserInitiated", "SpotInterruption", "TerminationNotice", "ServiceSchedulerInitiated")


def _stopped(facts: Facts) -> Diagnosis | None:
    """Stopped from outside: StopTask (user or Step Functions), Spot interruption, service scheduler."""
    code = facts.stop_code
    if code not in _EXTERNAL_STOPS:
        return None
    evidence = tuple(
        _task_evidence(facts) + ([("task.startedBy", facts.text("startedBy"))] if facts.text("startedBy") else [])
    )
    if code == "UserInitiated":
        by_sfn = "step functions" in facts.text("startedBy").lower()
        # AWS does not document the stoppedReason Step Functions gives when it stops a task.
        who = (
            tr("Step Functions stopped it: the execution was stopped, or its Task state timed out")
            if by_sfn
            else tr("StopTask was called ({reason})", reason=facts.stopped_reason or tr("no reason given"))
        )
        return Diagnosis(
            "stopped",
            "medium" if by_sfn else "high",
            tr("The task was stopped before it finished: {who}.", who=who),
            evidence,
            tr(
                "Find who stopped it (CloudTrail StopTask events); for Step Functions look at the "
                "execution's history for a timeout or a StopExecution."
            ),
        )
    return Diagnosis(
        "stopped",
        "high",
        tr(
            "The task was stopped by the platform ({code}): {reason}.",
            code=code,
            reason=facts.stopped_reason.rstrip("."),
        ),
        evidence,
        tr(
            "Fargate Spot tasks can be reclaimed with a two-minute warning: use FARGATE for jobs "
            "that must finish, or make the job resumable and retry it."
        ),
    )


def _sidecar_exit(facts: Facts) -> Diagnosis | None:
    """A non-main essential container exited first and took the job down with it."""
    main = facts.main
    if main is None or len(facts.containers) < 2 or _exit(main) not in (None, 143, 137):
        return None
    if facts.stop_code not in ("", "EssentialContainerExited") and ESSENTIAL_EXITED not in facts.stopped_reason:
        return None
    culprits = [c for c in facts.containers if c is not main and _exit(c) is not None and _exit(c) != 143]
    if not culprits:
        return None
    c = culprits[0]
    assumed = (
        "" if facts.main_container else tr(" (assuming '{main}', the first container, is the job)", main=_name(main))
    )
    return Diagnosis(
        "sidecar_exit",
        "high" if facts.main_container else "medium",
        tr(
            "Essential container '{sidecar}' exited first (exit {code}) and stopped the task while the job "
            "'{main}' was still running{assumed}.",
            sidecar=_name(c),
            code=_exit(c),
            main=_name(main),
            assumed=assumed,
        ),
        tuple(
            _task_evidence(facts)
            + [
                (f"containers[{_name(x)}].reason", x["reason"])
                for x in facts.containers
                if isinstance(x.get("reason"), str)
            ]
        ),
        tr(
            "If '{sidecar}' is a helper, mark it non-essential ({setting} in its container definition); "
            "if the job needs it, fix why it exits and order start-up with dependsOn.",
            sidecar=_name(c),
            setting='"essential": false',
        ),
    )


def _application_exit(facts: Facts) -> Diagnosis | None:
    """The job itself exited non-zero."""
    code = _exit(facts.main)
    if code in (None, 0):
        return None
    others = [c for c in facts.containers if c is not facts.main and _exit(c) not in (None, 143)]
    if code == 143 and (facts.stop_code in _EXTERNAL_STOPS or others):
        return None  # SIGTERM from ECS stopping the task: the job did not fail by itself
    if code in EXIT_MEANINGS:
        meaning = tr(EXIT_MEANINGS[code])
    else:
        meaning = tr("killed by signal {signal}", signal=code - 128) if code > 128 else tr("an application error")
    tail = [(f"logs[{i}]", line) for i, line in list(enumerate(facts.logs))[-5:]]
    fix = tr("Read the job's last log lines and fix the job; rerun it once fixed.")
    confidence = "high"
    if code == 1 and not facts.logs:
        confidence = "medium"
        fix += "\n" + tr(
            "No log lines were given: if the stream is empty or says 'exec format error', the image is for "
            "another CPU — check it with sfnecs.images.ecr_platforms(...)."
        )
    if code == 127:
        fix = tr("Fix the entryPoint/command: the program is not in the image or not on its PATH.")
    return Diagnosis(
        "application_exit",
        confidence,
        tr("The job '{job}' exited with code {code}: {meaning}.", job=_name(facts.main), code=code, meaning=meaning),
        tuple(_task_evidence(facts) + tail),
        fix,
    )


def _success(facts: Facts) -> Diagnosis | None:
    """Exit 0: `EssentialContainerExited` alone is not a failure (a finished job stops that way too)."""
    if _exit(facts.main) != 0:
        return None
    return Diagnosis(
        "success",
        "high",
        tr("The job '{job}' finished successfully (exit code 0).", job=_name(facts.main)),
        tuple(_task_evidence(facts)),
        tr("Nothing to fix."),
    )


def _not_stopped(facts: Facts) -> Diagnosis | None:
    """The task has not stopped yet, so there is no outcome to diagnose."""
    status = facts.text("lastStatus")
    if not status or status == "STOPPED":
        return None
    return Diagnosis(
        "not_stopped",
        "high",
        tr("The task is still {status}: no outcome yet.", status=status),
        (("task.lastStatus", status), ("task.desiredStatus", facts.text("desiredStatus"))),
        tr("Wait for it to stop (sfnecs.runs), then diagnose again."),
    )


#: (category, matcher) in priority order: the first match is the diagnosis.
MATCHERS: list[tuple[str, Matcher]] = [
    *ACCESS_MATCHERS,  # a role refused a call (sfnecs.diagnose.access): the fix names the action and the role
    ("run_task_rejected", _run_task_rejected),
    ("capacity", _capacity),
    ("platform_missing", platform_missing),
    ("pull_error", _pull_error),
    ("no_network_path", _no_network_path),
    ("resource_initialization", _resource_initialization),
    ("architecture_mismatch", architecture_mismatch),
    ("container_start", _container_start),
    ("out_of_memory", _out_of_memory),
    ("timeout", _timeout),
    ("stopped", _stopped),
    ("sidecar_exit", _sidecar_exit),
    ("application_exit", _application_exit),
    ("success", _success),
    ("not_stopped", _not_stopped),
]
