"""Runbook parameters: what each one may hold, checked before a kernel starts and again in the notebook.

Why a registry keyed by parameter name: `stack`, `target`, `region`, `dry_run`... mean the same in
every runbook, so one rule serves all of them; rules that tie two parameters together (teardown on
AWS needs `confirm=True`) are kept per runbook. The runner (`sfnecs.ops.runbook.validate`) calls
`check_parameters` with the notebook's defaults merged with what was given, so a bad value stops
with exit 2 before any kernel starts; the notebook's first cell after `parameters` calls it too, so
plain `papermill` runs are refused the same way, before any AWS call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from sfnecs.checks import check_bool, check_choice, check_int, check_name, check_positive, check_timezone
from sfnecs.deploy.job_settings import JOB_SETTINGS, with_job
from sfnecs.exceptions import ValidationError
from sfnecs.i18n import LANGUAGES
from sfnecs.model.arns import EXECUTION_ARN_RE, TASK_ARN_RE
from sfnecs.model.fargate import CAPACITY_PROVIDERS, CPU_ARCHITECTURES, PLATFORM_VERSIONS
from sfnecs.model.job import LOG_RETENTION_DAYS
from sfnecs.model.platforms import ECS_PLATFORMS
from sfnecs.model.spec import StackSpec
from sfnecs.schedule import parse_expression

__all__ = ["RULES", "REQUIREMENTS", "check_parameters"]

Rule = Callable[[str, Any], Any]


def _seconds(high: float) -> Rule:
    return lambda name, value: check_positive(name, value, high, "seconds")


def _hours(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 24 * 90:
        raise ValidationError(
            name,
            value,
            "a number of hours greater than 0 and at most 2160 (90 days: Step "
            "Functions keeps a Standard execution's history that long)",
        )
    return value


def _stack(name: str, value: Any) -> str:
    check_name(name, value, "stack")
    try:  # every resource name derives from the stack's: each must pass its own service's rule
        StackSpec(value)
    except ValidationError as exc:
        raise ValidationError(name, value, f"a name from which valid resource names derive ({exc})") from None
    return value


def _ints(low: int, high: int) -> Rule:
    return lambda name, value: check_int(name, value, low, high)


def _name(rule: str) -> Rule:
    return lambda name, value: check_name(name, value, rule)


def _choice(*allowed: Any) -> Rule:
    return lambda name, value: check_choice(name, value, allowed)


def _strings(rule: str | None) -> Rule:
    def check(name: str, value: Any) -> list[str]:
        if isinstance(value, str) or not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ValidationError(name, value, "a list of strings, e.g. ['a', 'b'] (or [] for the default)")
        if rule:
            for item in value:
                check_name(name, item, rule)
        return list(value)

    return check


def _schedule(name: str, value: Any) -> str:
    parse_expression(value, parameter=name)
    return value


def _image(name: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) > 1024 or any(c.isspace() for c in value):
        raise ValidationError(
            name,
            value,
            "an image URI such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/job:v1 "
            "(or '' for the stack's own ECR repository, tag latest)",
        )
    return value


def _run_arn(name: str, value: Any) -> str:
    if value == "":
        return value
    if isinstance(value, str) and (EXECUTION_ARN_RE.fullmatch(value) or TASK_ARN_RE.fullmatch(value)):
        return value  # what sfnecs.diagnose reads
    raise ValidationError(
        name, value, "a Step Functions execution ARN or an ECS task ARN, or '' for the stack's latest failed run"
    )


def _run_name(name: str, value: Any) -> str:
    # StartExecution `name` rules, and RunTask clientToken's 64 characters (the shorter of the two)
    if value == "" or (isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", value)):
        return value
    raise ValidationError(name, value, "1-64 letters, digits and ._- (or '' for manual-<UTC time>)")


#: parameter name -> rule; every runbook parameter must have one (tests/test_runbooks.py checks)
RULES: dict[str, Rule] = {
    "stack": _stack,
    "target": _choice("sandbox", "aws"),
    "region": _name("region"),
    "pattern": _choice("A", "B"),
    "architecture": _choice(*CPU_ARCHITECTURES),
    "capacity_provider": _choice("", *CAPACITY_PROVIDERS),
    "image": _image,
    "sample_image": _choice("", *(platform.architecture for platform in ECS_PLATFORMS.values())),
    "command": _strings(None),
    "schedule": _schedule,
    "timezone": check_timezone,
    "schedule_enabled": check_bool,
    "subnets": _strings("subnet"),
    "security_groups": _strings("security_group"),
    "assign_public_ip": lambda name, value: None if value is None else check_bool(name, value),  # None: the kit picks
    "dry_run": check_bool,
    "delete_logs": check_bool,
    "delete_images": check_bool,
    "strict": check_bool,
    "confirm": check_bool,
    "name": _run_name,
    "timeout": _seconds(86_400),
    "log_lines": _ints(0, 10_000),
    "run_arn": _run_arn,
    "inspect_image": check_bool,
    "hours": _hours,
    "limit": _ints(1, 1000),
    # job settings (each StackSpec field of that name; `_job_fits_spec` checks them together)
    "cpu": _ints(256, 16_384),
    "memory": _ints(512, 122_880),
    "environment": _strings(None),  # NAME=VALUE
    "secrets": _strings(None),  # NAME=<Secrets Manager secret ARN or SSM parameter ARN>
    "task_policy_arns": _strings(None),
    "task_timeout_seconds": _ints(1, 31_536_000),
    "retry_job_failures": _ints(0, 10),
    "guard": check_bool,
    "platform_version": _choice(*dict.fromkeys(v for vs in PLATFORM_VERSIONS.values() for v in vs)),
    "log_retention_days": _choice(*LOG_RETENTION_DAYS),
    # who is told about failures (StackSpec checks the address and the topic's region with the rest)
    "notify_email": lambda name, value: _text(name, value, "an e-mail address such as ops@example.com, or ''"),
    "notify_topic_arn": lambda name, value: _text(name, value, "an SNS topic ARN of the stack's region, or ''"),
    "job": lambda name, value: _job(name, value),
    # the export runbook (sfnecs.export)
    "format": _choice("terraform", "cloudformation"),
    "out": lambda name, value: _text(name, value, "a folder to write, or '' for export/<stack>-<format>"),
    "force": check_bool,
    # the language of what the runbook prints and saves for people (sfnecs.i18n); AWS names stay as AWS writes them
    "lang": _choice(*LANGUAGES),
}


def _text(name: str, value: Any, allowed: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(name, value, allowed)
    return value


def _job(name: str, value: Any) -> dict[str, Any]:
    """The deploy runbook's `job`: job settings by name, each checked by its own rule above."""
    if not isinstance(value, dict):
        raise ValidationError(
            name, value, "a dict of job settings by name, e.g. {'cpu': 1024, 'memory': 2048} (or {} for the defaults)"
        )
    for key, item in value.items():
        if key not in JOB_SETTINGS:
            raise ValidationError(name, key, "job setting names: " + ", ".join(JOB_SETTINGS))
        RULES[key](key, item)
    return dict(value)


def _confirm_on_aws(what: str) -> Callable[[Mapping[str, Any]], None]:
    """On a real account, changing anything needs confirm=True (a dry run needs nothing)."""

    def requirement(values: Mapping[str, Any]) -> None:
        if values.get("target") == "aws" and values.get("confirm") is not True and values.get("dry_run") is not True:
            raise ValidationError(
                "confirm",
                values.get("confirm"),
                f"True to {what} on target=aws (nothing was "
                "called; see what would change with -p dry_run true, then pass -p confirm true)",
            )

    return requirement


def _provider_runs_architecture(values: Mapping[str, Any]) -> None:
    """The capacity provider must run the architecture: StackSpec's own rules (Spot: Linux only, and a platform
    version each architecture supports).

    Why StackSpec decides: the deploy runbook builds one from these values, so the runbook refuses
    exactly what StackSpec would, before any kernel starts, in the runbook's parameter names.
    """
    provider, architecture = values.get("capacity_provider"), values.get("architecture", "X86_64")
    if not provider:
        return
    try:
        StackSpec("provider-check", cpu_architecture=architecture, capacity_provider_strategy=provider)
    except ValidationError as exc:
        raise ValidationError(
            "capacity_provider", provider, f"'' or FARGATE with architecture={architecture} ({exc.allowed})"
        ) from None


def _network_fits_spec(values: Mapping[str, Any]) -> None:
    """subnets, security_groups and assign_public_ip pass StackSpec's own rules (at most 16 subnets and 5
    groups); the runbook's names are StackSpec's, so its message names the parameter as given."""
    given = {key: value for key in ("subnets", "security_groups") if (value := values.get(key))}
    if given:  # empty lists mean the default VPC's: known only when the runbook connects
        StackSpec("network-check", **given, assign_public_ip=values.get("assign_public_ip") or False)


def _job_fits_spec(values: Mapping[str, Any]) -> None:
    """The job settings pass StackSpec's own rules together (a Fargate size, secrets in the region's partition,
    Windows sizes): the deploy runbook applies them through sfnecs.deploy.job_settings, so it refuses the same."""
    given = {**{key: values[key] for key in JOB_SETTINGS if key in values}, **values.get("job", {})}
    if given:
        base = StackSpec(
            "job-check", region=values.get("region", "us-east-1"), cpu_architecture=values.get("architecture", "X86_64")
        )
        with_job(base, given)


def _samples_only_in_sandbox(values: Mapping[str, Any]) -> None:
    # sample images hold no layers: real Fargate cannot run them (sfnecs.images.sample)
    if values.get("target") == "aws" and values.get("sample_image"):
        raise ValidationError(
            "sample_image",
            values["sample_image"],
            "'' on target=aws: sample images are not "
            "runnable on real Fargate; push your own image and pass image=<its URI>",
        )


#: runbook -> rules that tie several of its parameters together
REQUIREMENTS: dict[str, list[Callable[[Mapping[str, Any]], None]]] = {
    "teardown": [_confirm_on_aws("delete resources")],
    # export changes nothing in AWS: the spec's own rules only
    "export": [_provider_runs_architecture, _network_fits_spec, _job_fits_spec],
    "deploy": [
        _samples_only_in_sandbox,
        _provider_runs_architecture,
        _network_fits_spec,
        _job_fits_spec,
        _confirm_on_aws("create or change resources"),
    ],
}


def check_parameters(runbook: str, **values: Any) -> dict[str, Any]:
    """Check a runbook's parameter values; raise ValidationError naming the first bad one.

    Returns the values (lists for list parameters). Unknown names are refused: a rule must say what
    a parameter may hold before any runbook can take it.
    """
    out = {}
    for name, value in values.items():
        if name not in RULES:
            raise ValidationError(
                name,
                value,
                f"a parameter with a rule in sfnecs.ops.parameters.RULES (runbook "
                f"{runbook}); known: {', '.join(sorted(RULES))}",
            )
        out[name] = RULES[name](name, value)
    for requirement in REQUIREMENTS.get(runbook, []):
        requirement(out)
    return out
