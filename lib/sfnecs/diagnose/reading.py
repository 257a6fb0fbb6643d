"""Reading a failed run from AWS (or the sandbox) and diagnosing it: `diagnose(source, ref)`.

Why: the evidence lives in four services — Step Functions (the error and the `.sync` Cause), ECS
(the stopped task and its task definition), CloudWatch Logs (the job's output) and ECR (the
image's platforms) — and an operator has only an execution or task ARN at hand.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from sfnecs.checks import check_int
from sfnecs.diagnose.categories import diagnose_task
from sfnecs.diagnose.envelopes import _failure_text, execution_outcome
from sfnecs.diagnose.evidence import Facts, _gather, _name
from sfnecs.diagnose.result import Diagnosis
from sfnecs.exceptions import RunError, ValidationError
from sfnecs.images import ImagePlatforms, ecr_platforms
from sfnecs.model.arns import ECR_IMAGE_RE, EXECUTION_ARN_RE, TASK_ARN_RE, awslogs_stream

_EXECUTION_ARN, _TASK_ARN = EXECUTION_ARN_RE, TASK_ARN_RE


def diagnose(
    source: Any,
    ref: Any,
    *,
    cluster: str | None = None,
    image: ImagePlatforms | None = None,
    inspect_image: bool = False,
    cpu_architecture: str | None = None,
    main_container: str | None = None,
    log_lines: int = 100,
) -> Diagnosis:
    """Read a run from AWS (or the sandbox) and diagnose it with `diagnose_task`.

    Why: the evidence lives in four services. `source` is a sfnecs Target, a boto3 Session, or a
    dict of clients by service name; `ref` is a Step Functions execution ARN, an ECS task ARN, or
    the task/failure data itself. The task definition gives the runtimePlatform and the awslogs
    stream (`<prefix>/<container>/<task id>`, ECS "Using the awslogs log driver"); `inspect_image`
    also reads the ECR image's platforms, and its entrypoint's ELF header after an exec format error.
    """
    check_int("log_lines", log_lines, 1, 10_000)
    client = _clients(source)
    error: str | None = None
    cause: Any = None
    data: Any = ref
    if isinstance(ref, str) and _EXECUTION_ARN.fullmatch(ref):
        try:
            error, cause, data = execution_outcome(client("stepfunctions"), ref)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ExecutionDoesNotExist":
                raise
            raise RunError(
                f"execution {ref} does not exist in this account and region: check the ARN (Step "
                "Functions keeps a Standard execution's history for 90 days after it ends)"
            ) from None
    if isinstance(data, str) and (m := _TASK_ARN.fullmatch(data)):
        arn, where = data, cluster or m["cluster"] or "default"
        try:
            data = client("ecs").describe_tasks(cluster=where, tasks=[arn])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ClusterNotFoundException":
                raise
            return _task_gone(arn, [{"arn": arn, "reason": "MISSING", "detail": f"no cluster {where}"}], error)
        data.pop("ResponseMetadata", None)
        if not data.get("tasks"):
            return _task_gone(arn, data.get("failures") or [], error)
    facts = _gather(data, None, None, None, error, cause, None, None)
    logs: list[str] = []
    td_arn = facts.text("taskDefinitionArn")
    if td_arn:
        try:
            definition = client("ecs").describe_task_definition(taskDefinition=td_arn)["taskDefinition"]
        except ClientError:
            definition = {}  # deleted, or not ours to read: diagnose without it
        if cpu_architecture is None:
            cpu_architecture = (definition.get("runtimePlatform") or {}).get("cpuArchitecture") or "X86_64"
        essential = [c.get("name") for c in definition.get("containerDefinitions") or [] if c.get("essential", True)]
        if main_container is None and len(essential) == 1:
            main_container = essential[0]  # the only essential container is the job
        logs = _read_awslogs(client("logs"), definition, facts, main_container, log_lines)
    if image is None and inspect_image and (m := ECR_IMAGE_RE.match(facts.image_name)):
        # The layers are downloaded only when the kernel refused the entrypoint: then the binary,
        # not the label, tells which CPU the image needs (labels can lie).
        refused = any("exec format error" in text.lower() for text in logs + [t for _, t in facts.texts()])
        image = ecr_platforms(
            client("ecr"),
            m["repo"],
            m["digest"] or m["tag"] or "latest",
            registry_id=m["account"],
            inspect_binary=refused,
        )
    return diagnose_task(
        data,
        logs=logs,
        image=image,
        error=error,
        cause=cause,
        cpu_architecture=cpu_architecture,
        main_container=main_container,
    )


def _task_gone(arn: str, failures: list[Any], error: str | None) -> Diagnosis:
    """DescribeTasks no longer knows the task (reason MISSING): stopped tasks are kept about an hour."""
    evidence = [("describeTasks.failures", _failure_text(f)) for f in failures if isinstance(f, dict)]
    evidence += [("stepFunctions.error", error)] if error else []
    return Diagnosis(
        "task_not_found",
        "low",
        f"ECS no longer describes task {arn}: stopped tasks stay visible for at least an "
        "hour after they stop, then expire (ECS 'Checking stopped tasks for errors').",
        tuple(evidence or [("describeTasks", "no task and no failure returned")]),
        "Diagnose sooner, or keep the evidence: with Step Functions the .sync Cause holds the stopped task (pass "
        "the execution ARN instead); for direct RunTask schedules archive 'ECS Task State Change' events from "
        "EventBridge to CloudWatch Logs.",
    )


def _clients(source: Any) -> Callable[[str], Any]:
    if isinstance(source, Mapping):

        def pick(service: str) -> Any:
            if service not in source:
                raise ValidationError("source", sorted(source), f"a dict of clients including '{service}'")
            return source[service]

        return pick
    if callable(getattr(source, "client", None)):
        return source.client
    raise ValidationError("source", source, "a sfnecs Target, a boto3 Session, or a dict of boto3 clients by service")


def _read_awslogs(
    logs: Any, definition: Mapping[str, Any], facts: Facts, main_container: str | None, limit: int
) -> list[str]:
    containers = definition.get("containerDefinitions") or []
    chosen = next(
        (c for c in containers if c.get("name") == (main_container or _name(facts.main or {}))),
        containers[0] if containers else None,
    )
    options = (chosen or {}).get("logConfiguration") or {}
    opts = options.get("options") or {}
    m = _TASK_ARN.fullmatch(facts.text("taskArn"))
    if chosen is None or options.get("logDriver") != "awslogs" or not opts.get("awslogs-group") or not m:
        return []
    stream = awslogs_stream(opts.get("awslogs-stream-prefix"), chosen["name"], m["id"])
    try:
        events = logs.get_log_events(
            logGroupName=opts["awslogs-group"], logStreamName=stream, limit=limit, startFromHead=False
        )["events"]
    except ClientError:
        return []  # no stream: the container never started, or logged nothing
    return [e.get("message", "") for e in events]
