"""parameters.py: every runbook parameter's rule, and the rules tying parameters together."""

from __future__ import annotations

import pytest

from sfnecs.exceptions import ValidationError
from sfnecs.ops.parameters import RULES, check_parameters


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("stack", "Bad_Name", "stack='Bad_Name' is not valid: "),  # spec.py's rule says what is allowed
        ("stack", "p", "stack='p' is not valid: "),
        ("target", "mars", "target='mars' is not valid: use sandbox or aws"),
        ("region", "moon-1", "region='moon-1' is not valid: an AWS region code"),
        ("architecture", "arm", "architecture='arm' is not valid: use X86_64 or ARM64"),
        ("sample_image", "x86", "sample_image='x86' is not valid: use  or amd64 or arm64"),
        ("schedule", "every day", "schedule='every day' is not valid"),
        ("timezone", "Mars/Base", "timezone='Mars/Base' is not valid: an IANA time zone name"),
        ("command", "echo hi", "command='echo hi' is not valid: a list of strings"),
        ("subnets", ["subnet-1"], "subnets='subnet-1' is not valid: a subnet id"),
        ("dry_run", "yes", "dry_run='yes' is not valid: True or False"),
        ("timeout", 0, "timeout=0 is not valid: a number of seconds greater than 0"),
        ("timeout", True, "timeout=True is not valid"),
        ("log_lines", -1, "log_lines=-1 is not valid: a whole number from 0 to 10000"),
        ("run_arn", "run-1", "run_arn='run-1' is not valid: a Step Functions execution ARN or an ECS task ARN"),
        ("name", "a b", "name='a b' is not valid: 1-64 letters"),
        ("hours", 3000, "hours=3000 is not valid: a number of hours greater than 0 and at most 2160"),
        ("limit", 0, "limit=0 is not valid: a whole number from 1 to 1000"),
    ],
)
def test_a_bad_value_names_the_parameter_the_value_and_what_is_allowed(name, value, message):
    with pytest.raises(ValidationError) as caught:
        check_parameters("any", **{name: value})
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_good_values_pass_and_lists_come_back_as_lists():
    out = check_parameters(
        "deploy",
        stack="nightly",
        target="aws",
        region="ap-northeast-1",
        command=("sh", "-c", "x"),
        schedule="rate(5 minutes)",
        subnets=["subnet-0a1b2c3d"],
        sample_image="",
        timeout=5,
        run_arn="arn:aws:states:us-east-1:123456789012:execution:nightly:run-1",
        name="",
        confirm=True,
    )
    assert out["command"] == ["sh", "-c", "x"] and out["timeout"] == 5


def test_an_unknown_parameter_is_refused():
    with pytest.raises(ValidationError, match="colour='red' is not valid: a parameter with a rule"):
        check_parameters("deploy", colour="red")


def test_teardown_on_aws_needs_confirm_unless_a_dry_run():
    with pytest.raises(
        ValidationError,
        match=r"confirm=False is not valid: True to delete resources on target=aws "
        r"\(nothing was called",
    ):
        check_parameters("teardown", stack="s1", target="aws", confirm=False, dry_run=False)
    check_parameters("teardown", stack="s1", target="aws", confirm=True, dry_run=False)
    check_parameters("teardown", stack="s1", target="aws", confirm=False, dry_run=True)
    check_parameters("teardown", stack="s1", target="sandbox", confirm=False, dry_run=False)


def test_deploy_on_aws_needs_confirm_unless_a_dry_run():
    with pytest.raises(
        ValidationError,
        match=r"confirm=False is not valid: True to create or change resources on "
        r"target=aws \(nothing was called",
    ):
        check_parameters("deploy", stack="s1", target="aws", sample_image="", confirm=False, dry_run=False)
    check_parameters("deploy", stack="s1", target="aws", sample_image="", confirm=True, dry_run=False)
    check_parameters("deploy", stack="s1", target="aws", sample_image="", confirm=False, dry_run=True)
    check_parameters("deploy", stack="s1", target="sandbox", confirm=False, dry_run=False)


def test_fargate_spot_is_accepted_for_both_architectures():
    # ECS API reference, CapacityProviderStrategyItem: Spot runs Linux X86_64 (1.3.0+) and ARM64 (1.4.0+) tasks
    for architecture in ("X86_64", "ARM64"):
        assert check_parameters("deploy", stack="nightly", architecture=architecture, capacity_provider="FARGATE_SPOT")
    with pytest.raises(ValidationError, match="capacity_provider='SPOT' is not valid"):
        check_parameters("deploy", stack="nightly", capacity_provider="SPOT")


def test_sample_images_are_for_the_sandbox_only():
    with pytest.raises(ValidationError, match="sample_image='amd64' is not valid: '' on target=aws"):
        check_parameters("deploy", target="aws", sample_image="amd64")
    check_parameters("deploy", target="aws", sample_image="", confirm=True)


#: parameters whose None means "the kit picks" (assign_public_ip: on in the default VPC, off elsewhere)
NONE_PICKS = {"assign_public_ip"}


def test_every_rule_refuses_none():
    for name, rule in RULES.items():
        if name in NONE_PICKS:
            assert rule(name, None) is None
            continue
        with pytest.raises(ValidationError):
            rule(name, None)


ACCOUNT_ARN = "arn:aws:{service}:us-east-1:123456789012:{rest}"


@pytest.mark.parametrize(
    "rest, diagnosable, runnable",
    [
        ("execution:nightly.v2:run-1", True, True),  # a '.' is allowed in a state machine name
        ("task/jobs/5e2b1c0d9a8f4e7b9c1d2e3f4a5b6c7d", True, True),  # the long task ARN format
        ("task/5e2b1c0d-9a8f-4e7b-9c1d-2e3f4a5b6c7d", True, False),  # the old format: no cluster to ask
        ("task/jobs/not-a-task-id", False, False),
        ("execution:nightly:with space", False, False),
    ],
)
def test_one_arn_rule_for_the_runbook_parameter_diagnose_and_runs(rest, diagnosable, runnable):
    """What the diagnose runbook accepts is what sfnecs.diagnose reads; runs needs the cluster too."""
    from sfnecs import diagnose, runs

    service = "states" if rest.startswith("execution") else "ecs"
    arn = ACCOUNT_ARN.format(service=service, rest=rest)
    pattern = diagnose._EXECUTION_ARN if service == "states" else diagnose._TASK_ARN  # what diagnose() reads
    assert bool(pattern.fullmatch(arn)) is diagnosable
    if diagnosable:
        assert check_parameters("diagnose", run_arn=arn)["run_arn"] == arn
    else:
        with pytest.raises(ValidationError, match="run_arn="):
            check_parameters("diagnose", run_arn=arn)
    if runnable:
        runs._check_arn("run", arn, ("execution", "task"))
    else:  # refused before any call: no target is needed to find out
        with pytest.raises(ValidationError, match="run="):
            runs.wait(None, arn, progress=False)
