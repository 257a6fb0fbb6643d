"""Bad input at the door: property tests over every parameter check and public constructor.

Each rule is restated here from the AWS documentation it cites (an *oracle* written independently of
the library's regexes), then hypothesis throws valid values, near misses and junk (other scripts'
letters and digits, whitespace, boundary lengths) at the library: a valid value is accepted, an
invalid one raises one ValidationError naming the parameter, and nothing else ever escapes. Functions
that talk to AWS are held to "before any AWS call" with the sandbox's call log. Seeded
(derandomize=True) and modest in size, so a failure reproduces and the file runs in seconds.
"""

from __future__ import annotations

import string
import zoneinfo
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfnecs import diagnose, images, runs
from sfnecs.checks import check_timezone
from sfnecs.deploy import stack
from sfnecs.deploy.target import connect
from sfnecs.exceptions import SfnecsError, ValidationError
from sfnecs.images import sample
from sfnecs.model import StackSpec
from sfnecs.schedule import parse_expression

PROPS = settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
SANDBOX_PROPS = settings(
    derandomize=True,
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

LOWER, UPPER, DIGITS = string.ascii_lowercase, string.ascii_uppercase, string.digits
HEX = "0123456789abcdef"
#: characters that look allowed but are not: other scripts' letters and digits (Python's \w and \d
#: match them), full-width forms, invisible and white space, and ASCII punctuation
TRICKY = "éßЖ٣²０Ａ\u200b \t\n" + string.punctuation
POOL = LOWER + UPPER + DIGITS + TRICKY


def junk(max_size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=st.sampled_from(POOL), max_size=max_size)


def outcome(build: Callable[[], Any]) -> str | None:
    """None when `build()` accepts, else the parameter its ValidationError names; any other error fails."""
    try:
        build()
    except ValidationError as exc:
        assert exc.parameter and str(exc).startswith(f"{exc.parameter}=") and "is not valid" in str(exc)
        return exc.parameter
    return None


# ---- the oracles: AWS naming rules, restated ---------------------------------------------------------------
def chars(value: str, allowed: str, low: int, high: int) -> bool:
    return low <= len(value) <= high and all(c in allowed for c in value)


def stack_name_ok(v: str) -> bool:
    # ours: 2-32, and a valid ECR repository name too (the stack's repository is named after it)
    return chars(v, LOWER + DIGITS + "-", 2, 32) and v[0] in LOWER and not v.endswith("-") and "--" not in v


def repository_ok(v: str) -> bool:
    # ECR CreateRepository: 2-256, lowercase path components separated by '/', each alphanumeric
    # runs joined by single '.', '_' or '-'
    if not 2 <= len(v) <= 256:
        return False
    for part in v.split("/"):
        if not part or not chars(part, LOWER + DIGITS + "._-", 1, 256) or part[0] in "._-" or part[-1] in "._-":
            return False
        if any(a in "._-" and b in "._-" for a, b in zip(part, part[1:], strict=False)):
            return False
    return True


def region_ok(v: str) -> bool:
    parts = v.split("-")
    if len(parts) not in (3, 4) or not chars(parts[0], LOWER, 2, 2) or not chars(parts[-1], DIGITS, 1, 1):
        return False
    if len(parts) == 4 and not (parts[1] == "gov" or (parts[1].startswith("iso") and chars(parts[1], LOWER, 3, 99))):
        return False
    return chars(parts[-2], LOWER, 1, 99)


def prefixed_hex(prefix: str) -> Callable[[str], bool]:
    return lambda v: v.startswith(prefix) and len(v) - len(prefix) in (8, 17) and chars(v[len(prefix) :], HEX, 8, 17)


ECS = LOWER + UPPER + DIGITS + "_-"
#: StackSpec field -> (oracle, whether "" means "derive it from the stack name", longest value worth trying)
NAME_FIELDS: dict[str, tuple[Callable[[str], bool], bool, int]] = {
    "cluster": (lambda v: chars(v, ECS, 1, 255), True, 260),
    "family": (lambda v: chars(v, ECS, 1, 255), True, 260),
    "container_name": (lambda v: chars(v, ECS, 1, 255), False, 260),
    "task_role": (lambda v: chars(v, ECS + "+=,.@", 1, 64), True, 70),
    "execution_role": (lambda v: chars(v, ECS + "+=,.@", 1, 64), True, 70),
    "sfn_role": (lambda v: chars(v, ECS + "+=,.@", 1, 64), True, 70),
    "scheduler_role": (lambda v: chars(v, ECS + "+=,.@", 1, 64), True, 70),
    "state_machine": (lambda v: chars(v, ECS, 1, 80), True, 85),
    "topic": (lambda v: chars(v, ECS, 1, 256), True, 260),
    "schedule_name": (lambda v: chars(v, ECS + ".", 1, 64), True, 70),
    "dlq": (lambda v: chars(v, ECS, 1, 80), True, 85),
    "log_group": (lambda v: chars(v, ECS + "./#", 1, 512), True, 520),
    "repository": (repository_ok, True, 40),
}


def near(valid_alphabet: str, max_size: int) -> st.SearchStrategy[str]:
    """Mostly valid-looking strings, sometimes with one tricky character, around the length limit."""
    base = st.text(alphabet=st.sampled_from(valid_alphabet), min_size=0, max_size=max_size)
    return st.one_of(
        base,
        st.builds(lambda s, i, c: s[:i] + c + s[i:], base, st.integers(0, max_size), st.sampled_from(TRICKY)),
        junk(12),
    )


# ---- StackSpec ------------------------------------------------------------------------------------------
@PROPS
@given(name=st.one_of(near(LOWER + DIGITS + "-", 34), st.none(), st.integers()))
def test_stack_name(name):
    expected = None if isinstance(name, str) and stack_name_ok(name) else "name"
    assert outcome(lambda: StackSpec(name)) == expected


@PROPS
@given(field=st.sampled_from(sorted(NAME_FIELDS)), data=st.data())
def test_every_name_field_follows_its_services_rule(field, data):
    oracle, defaulted, longest = NAME_FIELDS[field]
    alphabet = LOWER + DIGITS + "._-/" if field == "repository" else ECS + "+=,.@/#"
    value = data.draw(st.one_of(near(alphabet, longest), st.sampled_from(["", "x" * longest])), label="value")
    valid = (value == "" and defaulted) or (value != "" and oracle(value))
    assert outcome(lambda: StackSpec("names", **{field: value})) == (None if valid else field)


@PROPS
@given(
    region=st.one_of(
        near(LOWER + DIGITS + "-", 22),
        st.sampled_from(
            [
                "us-east-1",
                "ap-northeast-1",
                "us-gov-west-1",
                "us-isob-east-1",
                "eu-central-2",
                "cn-north-1",
                "us-east-10",
                "US-EAST-1",
                "useast1",
            ]
        ),
    ),
    account=st.one_of(near(DIGITS, 13), st.sampled_from(["123456789012", "١٢٣٤٥٦٧٨٩٠١٢"])),
)
def test_region_and_account(region, account):
    # a stack lives in the aws, aws-cn or aws-us-gov partition: an isolated (ISO) region is a valid region
    # name that StackSpec refuses (its partition is not on the IAM ARN page the kit follows)
    isolated = region_ok(region) and len(region.split("-")) == 4 and region.split("-")[1].startswith("iso")
    expected = (
        "region" if not region_ok(region) or isolated else ("account" if not chars(account, DIGITS, 12, 12) else None)
    )
    assert outcome(lambda: StackSpec("where", region=region, account=account)) == expected
    # connect() checks the region the same way, before any session is made ("": the default region)
    assert outcome(lambda: connect("sandbox", region=region, endpoint_url="http://127.0.0.1:9")) == (
        None if region_ok(region) or region == "" else "region"
    )


@PROPS
@given(
    subnets=st.one_of(
        st.lists(near("subnet-" + HEX, 26), max_size=18),
        st.lists(st.sampled_from(["subnet-0a1b2c3d", "subnet-0123456789abcdef0"]), max_size=18),
    ),
    groups=st.lists(st.one_of(near("sg-" + HEX, 21), st.just("sg-0a1b2c3d")), max_size=7),
)
def test_subnets_and_security_groups(subnets, groups):
    subnet_ok, group_ok = prefixed_hex("subnet-"), prefixed_hex("sg-")
    if not 1 <= len(subnets) <= 16 or not all(map(subnet_ok, subnets)):
        expected = "subnets"
    elif len(groups) > 5 or not all(map(group_ok, groups)):
        expected = "security_groups"
    else:
        expected = None
    assert outcome(lambda: StackSpec("net", subnets=subnets, security_groups=groups)) == expected


def fargate_ok(cpu: Any, memory: Any) -> bool:
    """ECS developer guide, "Task CPU and memory" (Linux), as ranges rather than the library's table."""
    if type(cpu) is not int or type(memory) is not int:
        return False
    steps = {
        256: [512, 1024, 2048],
        512: range(1024, 4097, 1024),
        1024: range(2048, 8193, 1024),
        2048: range(4096, 16385, 1024),
        4096: range(8192, 30721, 1024),
        8192: range(16384, 61441, 4096),
        16384: range(32768, 122881, 8192),
    }
    return cpu in steps and memory in steps[cpu]


SIZES = [256, 512, 1024, 2048, 4096, 8192, 16384]


@PROPS
@given(
    cpu=st.one_of(st.sampled_from(SIZES), st.integers(0, 20_000), st.sampled_from([256.0, True, "256"])),
    memory=st.one_of(
        st.sampled_from([512, 1024, 2048, 3072, 4096, 8192, 16384, 30720, 32768, 61440, 122880]),
        st.integers(0, 130_000).map(lambda m: m - m % 512),
        st.sampled_from([512.0, "512"]),
    ),
)
def test_fargate_cpu_and_memory_pairs(cpu, memory):
    got = outcome(lambda: StackSpec("size", cpu=cpu, memory=memory))
    assert (got is None) == fargate_ok(cpu, memory)
    assert got in (None, "cpu", "memory")
    if got == "cpu":
        assert not (type(cpu) is int and cpu in SIZES)


@PROPS
@given(
    arch=st.one_of(st.sampled_from(["X86_64", "ARM64", "x86_64", "arm64", "AMD64", "ARM64 ", ""]), junk(8)),
    oci=st.one_of(st.sampled_from(["amd64", "arm64", "x86_64", "ARM64"]), junk(6)),
)
def test_architectures(arch, oci):
    valid = arch in ("X86_64", "ARM64")
    assert outcome(lambda: StackSpec("arch", cpu_architecture=arch)) == (None if valid else "cpu_architecture")
    assert outcome(lambda: diagnose.diagnose_task({}, cpu_architecture=arch)) == (None if valid else "cpu_architecture")
    assert outcome(lambda: sample.check_arch(oci)) == (None if oci in ("amd64", "arm64") else "architecture")


@PROPS
@given(
    tz=st.one_of(
        st.sampled_from(sorted(zoneinfo.available_timezones())),
        junk(20),
        st.sampled_from(["a" * 300, "../UTC", "/etc/localtime", "UTC ", "Asia/Tokio", ""]),
    )
)
def test_time_zones(tz):
    got = outcome(lambda: check_timezone("timezone", tz))
    assert got == (None if tz in zoneinfo.available_timezones() else "timezone") or (
        got is None and _loadable(tz)
    )  # a key the machine's tz database has beyond available_timezones()
    assert outcome(lambda: StackSpec("tz", timezone=tz)) == got


def _loadable(tz: str) -> bool:
    try:
        zoneinfo.ZoneInfo(tz)
    except Exception:  # noqa: BLE001 - the oracle only asks whether it loads
        return False
    return True


@PROPS
@given(
    tags=st.dictionaries(
        st.one_of(near(LOWER + UPPER + DIGITS + " _.:/=+@-", 130), st.just("aws:owner")),
        near(LOWER + DIGITS + " _.:/=+@-", 258),
        max_size=4,
    )
)
def test_tags(tags):
    allowed = set(LOWER + UPPER + DIGITS + " _.:/=+@-")

    def text_ok(v: str, low: int, high: int) -> bool:
        return low <= len(v) <= high and all(c in allowed or c.isalnum() or c.isspace() for c in v)

    valid = all(text_ok(k, 1, 128) and not k.lower().startswith("aws:") and text_ok(v, 0, 256) for k, v in tags.items())
    assert outcome(lambda: StackSpec("tags", tags=tags)) == (None if valid else "tags")


# ---- schedule expressions ---------------------------------------------------------------------------------
def _cron_field(low: int, high: int, step: bool = True) -> st.SearchStrategy[str]:
    n = st.integers(low, high)
    forms = [
        st.just("*"),
        n.map(str),
        st.tuples(n, n).map(lambda p: f"{min(p)}-{max(p)}"),
        st.lists(n, min_size=2, max_size=3, unique=True).map(lambda xs: ",".join(map(str, sorted(xs)))),
    ]
    if step:  # day-of-week takes no '/' (EventBridge "Cron expressions reference": wildcards , - * ? L #)
        forms.append(st.tuples(n, st.integers(1, high - low + 1)).map(lambda p: f"{p[0]}/{p[1]}"))
    return st.one_of(*forms)


VALID_CRON = st.builds(
    lambda mi, h, dom, mo, dow, y, which: f"cron({mi} {h} {dom if which else '?'} {mo} {'?' if which else dow} {y})",
    _cron_field(0, 59),
    _cron_field(0, 23),
    _cron_field(1, 31),
    _cron_field(1, 12),
    _cron_field(1, 7, step=False),
    _cron_field(1970, 2199),
    st.booleans(),
)
VALID_RATE = st.integers(1, 10_000).flatmap(
    lambda n: st.sampled_from(["minute", "hour", "day"]).map(lambda u: f"rate({n} {u}{'s' if n > 1 else ''})")
)
VALID_AT = st.datetimes(datetime(1970, 1, 1), datetime(2199, 12, 31)).map(lambda t: f"at({t:%Y-%m-%dT%H:%M:%S})")


@PROPS
@given(expression=st.one_of(VALID_CRON, VALID_RATE, VALID_AT))
def test_valid_schedule_expressions_are_accepted(expression):
    assert parse_expression(expression, parameter="schedule_expression").expression == expression
    assert outcome(lambda: StackSpec("sched", schedule_expression=expression)) is None


@PROPS
@given(
    expression=st.one_of(
        # near misses: a value outside its field, both or neither day field '?', a wrong unit or count
        st.builds(lambda mi: f"cron({mi} 0 ? * MON *)", st.integers(60, 999)),
        st.builds(lambda h: f"cron(0 {h} * * ? *)", st.integers(24, 99)),
        st.builds(lambda d: f"cron(0 0 {d} * ? *)", st.sampled_from([0, 32, 99])),
        st.builds(lambda y: f"cron(0 0 * * ? {y})", st.sampled_from([1969, 2200, 3000])),
        st.sampled_from(
            [
                "cron(0 0 * * * *)",
                "cron(0 0 ? * ? *)",
                "cron(0 0 * * ?)",
                "rate(1 minutes)",
                "rate(5 minute)",
                "rate(0 minutes)",
                "rate(-1 hours)",
                "rate(5 weeks)",
                "rate(٥ minutes)",
                "rate(² minutes)",
                "at(2026-02-30T00:00:00)",
                "at(٢٠٢٦-01-01T00:00:00)",
                "at(2026-01-01)",
                "cron(٠ 0 * * ? *)",
                "cron(0\u20030 * * ? *)",
                "rate(5\tminutes)",
            ]
        ),
    )
)
def test_invalid_schedule_expressions_name_the_parameter(expression):
    assert outcome(lambda: parse_expression(expression, parameter="schedule_expression")) == "schedule_expression"


@PROPS
@given(
    expression=st.one_of(
        junk(30),
        st.builds(lambda s: f"cron({s})", junk(30)),
        st.builds(lambda s: f"rate({s})", junk(15)),
        st.builds(lambda s: f"at({s})", junk(20)),
        st.none(),
        st.integers(),
    )
)
def test_any_text_is_accepted_or_refused_never_crashes(expression):
    got = outcome(lambda: parse_expression(expression, parameter="schedule_expression"))
    assert got in (None, "schedule_expression")
    if got is None:  # what is accepted is plain ASCII, as AWS requires
        assert expression.isascii()


# ---- other public constructors ---------------------------------------------------------------------------
@PROPS
@given(
    initial=st.one_of(st.floats(-1, 4000), st.just(float("nan")), st.just(True)),
    factor=st.floats(0, 12),
    cap=st.floats(-1, 4000),
)
def test_backoff(initial, factor, cap):
    got = outcome(lambda: runs.Backoff(initial, factor, cap))
    ok = (
        not isinstance(initial, bool)
        and 0 < initial <= 3600
        and 1 <= factor <= 10
        and 0 < cap <= 3600
        and cap >= initial
    )
    assert (got is None) == ok and got in (None, "initial", "factor", "cap")


@PROPS
@given(
    kind=st.one_of(
        st.sampled_from(["runtask_failure", "throttle", "exit_code", "hang", "pull_error", "oom"]), junk(10)
    ),
    count=st.one_of(st.integers(-2, 10_002), st.just(True)),
    exit_code=st.integers(-1, 300),
    reason=st.sampled_from(["RESOURCE:MEMORY", "RESOURCE:CPU", "MISSING", "resource:memory", ""]),
)
def test_sandbox_fault(kind, count, exit_code, reason):
    from sfnecs.sandbox.faults import FAULT_KINDS, RUNTASK_FAILURE_REASONS, Fault

    got = outcome(lambda: Fault(kind, count=count, exit_code=exit_code, reason=reason))
    if kind not in FAULT_KINDS:
        assert got == "kind"
    elif isinstance(count, bool) or not 1 <= count <= 10_000:
        assert got == "count"
    elif kind == "runtask_failure" and reason not in RUNTASK_FAILURE_REASONS:
        assert got == "reason"
    elif kind == "exit_code" and not 0 <= exit_code <= 255:
        assert got == "exit_code"
    else:
        assert got is None


@PROPS
@given(text=st.one_of(st.sampled_from(["linux/amd64", "linux/arm64", "linux/arm/v7", "windows/amd64"]), junk(20)))
def test_image_platform_strings(text):
    got = outcome(lambda: images.Platform.parse(text))
    parts = text.split("/")
    assert got in (None, "platform")
    if got is None:
        assert len(parts) in (2, 3) and all(parts)


# ---- runbook parameters -----------------------------------------------------------------------------------
@PROPS
@given(
    stack_name=near(LOWER + DIGITS + "-", 34),
    region=near(LOWER + DIGITS + "-", 16),
    subnets=st.lists(st.one_of(near("subnet-" + HEX, 26), st.just("subnet-0a1b2c3d")), max_size=3),
    timeout=st.one_of(st.floats(-1, 100_000), st.integers(-1, 100_000), st.just(True)),
    architecture=st.sampled_from(["X86_64", "ARM64", "arm64", ""]),
)
def test_runbook_parameters(stack_name, region, subnets, timeout, architecture):
    parameters = pytest.importorskip("sfnecs.ops.parameters")
    values = {
        "stack": stack_name,
        "region": region,
        "subnets": subnets,
        "timeout": timeout,
        "architecture": architecture,
    }
    if not stack_name_ok(stack_name):
        expected = "stack"
    elif not region_ok(region):
        expected = "region"
    elif not all(map(prefixed_hex("subnet-"), subnets)):
        expected = "subnets"
    elif isinstance(timeout, bool) or not 0 < timeout <= 86_400:
        expected = "timeout"
    elif architecture not in ("X86_64", "ARM64"):
        expected = "architecture"
    else:
        expected = None
    assert outcome(lambda: parameters.check_parameters("deploy", **values)) == expected


# ---- before any AWS call ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def spec_b(target):
    return StackSpec("door", region=target.region, account=target.account)


def _calls(sandbox) -> int:
    return sandbox.control("GET", "calls", {})["total"]


BAD_ARN = st.one_of(
    junk(40),
    st.builds(lambda s: f"arn:aws:states:us-east-1:123456789012:execution:{s}", junk(12)),
    st.builds(lambda s: f"arn:aws:ecs:us-east-1:123456789012:task/{s}", junk(12)),
)


@pytest.mark.sandbox
@SANDBOX_PROPS
@given(
    arn=BAD_ARN,
    timeout=st.one_of(st.floats(-10, 0), st.just(True), st.just(4e7)),
    lines=st.one_of(st.integers(-5, -1), st.integers(10_001, 10**6), st.just(False)),
)
def test_run_functions_refuse_bad_arguments_before_any_call(target, sandbox, spec_b, arn, timeout, lines):
    execution_arn = "arn:aws:states:us-east-1:123456789012:execution:door:x"
    cases = [
        (lambda: runs.wait(target, execution_arn, timeout=timeout, progress=False), "timeout"),
        (lambda: runs.wait(target, execution_arn, log_lines=lines, progress=False), "log_lines"),
        (lambda: runs.logs(target, "arn:aws:ecs:us-east-1:123456789012:task/door/" + "0" * 32, limit=lines), "limit"),
        (lambda: runs.start(target, spec_b, name=f"with space {arn}"), "name"),
        (lambda: runs.run_direct(target, spec_b, client_token="t" * 65), "client_token"),
        (lambda: runs.run_direct(target, spec_b, backoff=0.5), "backoff"),  # checked before RunTask
        (lambda: runs.executions(target, spec_b, limit=lines), "limit"),
        (lambda: stack.apply(target, spec_b, email=arn if "@" not in arn else "a b@c"), "email"),
        (lambda: diagnose.diagnose(target, execution_arn, log_lines=lines), "log_lines"),
        (lambda: sample.push_sample_image(target, "door", "sparc"), "architecture"),
        (lambda: images.ecr_platforms(target.client("ecr"), "Door Repo"), "repository"),
    ]
    if not runs._EXECUTION_ARN.fullmatch(arn) and not runs._long_task_arn(arn):
        cases += [
            (lambda: runs.wait(target, arn, progress=False), "run"),
            (lambda: runs.history(target, arn), "execution"),
        ]
    for call, parameter in cases:
        sandbox.control("DELETE", "calls", {})
        assert outcome(call) == parameter
        assert _calls(sandbox) == 0, f"{parameter}: the sandbox saw {sandbox.control('GET', 'calls', {})}"


@pytest.mark.sandbox
def test_a_spec_for_another_account_or_region_changes_nothing(target, sandbox):
    sandbox.control("DELETE", "calls", {})
    for other in (
        StackSpec("door", region="eu-west-1", account=target.account),
        StackSpec("door", region=target.region, account="210987654321"),
    ):
        for call in (stack.plan, stack.apply, stack.teardown, stack.verify, runs.executions):
            assert outcome(lambda call=call, other=other: call(target, other)) == "spec.region/account"
    assert _calls(sandbox) == 0


@pytest.mark.sandbox
@SANDBOX_PROPS
@given(
    machine=st.text(alphabet=ECS, min_size=1, max_size=12),
    name=st.text(alphabet=ECS + ".", min_size=1, max_size=12),
    cluster=st.text(alphabet=ECS, min_size=1, max_size=12),
    task_id=st.text(alphabet=HEX, min_size=32, max_size=32),
)
def test_diagnosing_a_run_that_does_not_exist_says_so(target, machine, name, cluster, task_id):
    from sfnecs.exceptions import RunError

    with pytest.raises(RunError, match="does not exist"):
        diagnose.diagnose(target, f"arn:aws:states:us-east-1:123456789012:execution:{machine}:{name}")
    for task in (
        f"arn:aws:ecs:us-east-1:123456789012:task/{cluster}/{task_id}",
        f"arn:aws:ecs:us-east-1:123456789012:task/{task_id}",
    ):
        assert diagnose.diagnose(target, task).category == "task_not_found"


# ---- malformed data never becomes a traceback ---------------------------------------------------------------
_CAUSE = (
    '{"TaskArn":"arn:aws:ecs:us-east-1:123456789012:task/c/0123456789abcdef0123456789abcdef",'
    '"StopCode":"EssentialContainerExited","StoppedReason":"Essential container in task exited",'
    '"Containers":[{"Name":"job","ExitCode":137,"Reason":"OutOfMemoryError: Container killed due to memory '
    'usage"}],"LastStatus":"STOPPED"}'
)


@PROPS
@given(cut=st.integers(0, len(_CAUSE)), error=st.sampled_from(["States.TaskFailed", "", "sfnecs.States.TaskFailed"]))
def test_a_truncated_sync_cause_is_diagnosed_or_unknown(cut, error):
    found = diagnose.diagnose_task(error=error, cause=_CAUSE[:cut])
    assert isinstance(found, diagnose.Diagnosis) and found.category
    if cut == len(_CAUSE):
        assert found.category == "out_of_memory"


@pytest.fixture(scope="module")
def good_images(tmp_path_factory):
    base = tmp_path_factory.mktemp("images")
    return {
        fmt: images.build_fixture_image(base / f"img-{fmt}", "arm64", fmt=fmt).read_bytes()
        for fmt in ("oci-tar", "docker-save")
    }


@settings(
    derandomize=True,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(fmt=st.sampled_from(["oci-tar", "docker-save"]), data=st.data())
def test_truncated_or_corrupted_tarballs_are_cannot_tell_never_a_crash(good_images, tmp_path, fmt, data):
    raw = good_images[fmt]
    cut = data.draw(st.integers(0, len(raw)), label="cut")
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(raw) - 1), st.integers(1, 255)), max_size=3), label="flips")
    damaged = bytearray(raw[:cut])
    for at, xor in flips:
        if at < len(damaged):
            damaged[at] ^= xor
    path = tmp_path / f"damaged-{fmt}.tar"
    path.write_bytes(bytes(damaged))
    found = images.local_platforms(path)
    assert isinstance(found, images.ImagePlatforms)
    if bytes(damaged) == raw:
        assert [str(p) for p in found.platforms] == ["linux/arm64"]
    elif not found.platforms:
        assert found.cannot_tell


def _mutations(doc: Any, path: tuple = ()) -> list[tuple]:
    """Every path into a JSON document (to replace what is there)."""
    out = [path]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _mutations(v, path + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _mutations(v, path + (i,))
    return out


_BOGUS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.text(max_size=8),
    st.just("../../etc/passwd"),
    st.just("sha256:" + "0" * 64),
    st.just("sha512:zz"),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@settings(
    derandomize=True,
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_bogus_values_anywhere_in_the_manifests_are_cannot_tell_never_a_crash(tmp_path_factory, data):
    """A valid OCI layout with one JSON value replaced: index.json, a manifest or the config."""
    import json

    root = images.build_fixture_image(
        tmp_path_factory.mktemp("bogus") / "layout",
        "amd64",
        platforms=data.draw(st.sampled_from([None, ["amd64", "arm64"]])),
    )
    documents = [root / "index.json"] + [p for p in (root / "blobs" / "sha256").iterdir() if p.read_bytes()[:1] == b"{"]
    target_file = data.draw(st.sampled_from(sorted(documents)), label="document")
    doc = json.loads(target_file.read_bytes())
    path = data.draw(st.sampled_from(_mutations(doc)), label="path")
    value = data.draw(_BOGUS, label="value")
    if not path:
        doc = value
    else:
        holder = doc
        for key in path[:-1]:
            holder = holder[key]
        holder[path[-1]] = value
    target_file.write_text(json.dumps(doc))
    found = images.local_platforms(root)
    assert isinstance(found, images.ImagePlatforms)
    assert found.platforms or found.cannot_tell


def test_only_validation_errors_escape_as_sfnecs_errors():
    # the promise the properties above rely on: a refusal is a ValidationError, itself a ValueError and
    # an SfnecsError, so callers can catch the kit's refusals as one type
    assert issubclass(ValidationError, SfnecsError) and issubclass(ValidationError, ValueError)
