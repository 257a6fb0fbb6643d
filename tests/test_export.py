"""sfnecs.export: the stack as Terraform and CloudFormation, checked against goldens, parsed and checked
structurally, formatted, linted (cfn-lint) and scanned (checkov), and refused on bad input.

Regenerate the goldens after a deliberate change, then review the diff:
    SFNECS_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_export.py -k golden
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml
from hcl2.utils import SerializationOptions

from sfnecs.cli import main
from sfnecs.exceptions import ValidationError
from sfnecs.export import FORMATS, export_stack, render, stack_model
from sfnecs.export.skips import SKIPS
from sfnecs.model import StackSpec

GOLDEN = Path(__file__).parent / "golden" / "export"
ROOT = Path(__file__).resolve().parent.parent
TERRAFORM = shutil.which("terraform")
#: checkov lives in its own venv (its bc-python-hcl2 installs a module `hcl2` over python-hcl2's): make builds it
CHECKOV = next((p for p in (ROOT / ".venv-checkov" / "bin" / "checkov", Path(sys.executable).parent / "checkov")
                if p.exists()), None)  # fmt: skip
#: python-hcl2's plain reading: strings without their quotes, no comments
HCL = SerializationOptions(with_comments=False, strip_string_quotes=True)

#: the variants that matter: patterns, query languages, ARM64, Spot, notifications on and off
VARIANTS: dict[str, dict[str, Any]] = {
    "b_jsonata": {},
    "b_jsonpath": {"query_language": "JSONPath"},
    "a": {"pattern": "A"},
    "b_arm64": {"cpu_architecture": "ARM64"},
    "b_spot": {"capacity_provider_strategy": "FARGATE_SPOT"},
    "a_spot_arm64": {"pattern": "A", "capacity_provider_strategy": "FARGATE_SPOT", "cpu_architecture": "ARM64"},
    "b_quiet": {"notify_failure": False, "notify_success": False, "execution_logging": False},
    "a_quiet": {"pattern": "A", "notify_failure": False},
}
#: Terraform resource types that take no tags in the AWS provider (everything else must carry them)
UNTAGGABLE = {
    "aws_iam_role_policy",
    "aws_iam_role_policy_attachment",
    "aws_sns_topic_subscription",
    "aws_sns_topic_policy",
    "aws_cloudwatch_event_target",
    "aws_scheduler_schedule",  # the Scheduler tags only schedule groups (API reference, TagResource)
    "aws_ecs_cluster_capacity_providers",
}
ACCOUNT = re.compile(r"(?<![\d])\d{12}(?![\d])")
REGION = re.compile(r"\b(?:us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov)-(?:north|south|east|west|central|northeast|"
                    r"southeast|northwest|southwest)-\d\b")  # fmt: skip


def golden_spec(**changes: Any) -> StackSpec:
    """The spec every golden is rendered from: two subnets, a security group, a nightly Tokyo schedule."""
    return StackSpec(
        "nightly",
        subnets=("subnet-0a1b2c3d", "subnet-4e5f6a7b"),
        security_groups=("sg-0a1b2c3d",),
        schedule_expression="cron(0 3 * * ? *)",
        timezone="Asia/Tokyo",
        tags=(("team", "data"),),
        **changes,
    )


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """Every variant in both formats, written once: <root>/<format>/<variant>/<files>."""
    root = tmp_path_factory.mktemp("export")
    for name, changes in VARIANTS.items():
        for fmt in FORMATS:
            export_stack(golden_spec(**changes), fmt, root / fmt / name)
    return root


# ---- goldens ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_export_matches_golden_files(variant: str, fmt: str) -> None:
    files = render(golden_spec(**VARIANTS[variant]), fmt)
    folder = GOLDEN / variant / fmt
    if os.environ.get("SFNECS_UPDATE_GOLDEN") == "1":  # regenerate after a deliberate change, then review the diff
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for name, text in files.items():
            (folder / name).write_text(text)
    assert sorted(files) == sorted(p.name for p in folder.iterdir())
    for name, text in files.items():
        assert text == (folder / name).read_text(), f"{variant}/{fmt}/{name} differs: rerun with SFNECS_UPDATE_GOLDEN=1"


def test_rendering_is_byte_stable() -> None:
    for fmt in FORMATS:
        assert render(golden_spec(), fmt) == render(golden_spec(), fmt)


# ---- Terraform, parsed ------------------------------------------------------------------------------
def _tf(folder: Path) -> dict[str, list[dict[str, Any]]]:
    merged: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(folder.glob("*.tf")):
        for key, blocks in hcl2.loads(path.read_text(), serialization_options=HCL).items():
            merged.setdefault(key, []).extend(blocks)
    return merged


def _resources(parsed: dict[str, list[dict[str, Any]]]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (t, n, body) for block in parsed.get("resource", []) for t, named in block.items() for n, body in named.items()
    ]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_terraform_structure(exported: Path, variant: str) -> None:
    folder = exported / "terraform" / variant
    parsed = _tf(folder)
    resources = _resources(parsed)
    assert resources and all(t.startswith("aws_") for t, _, _ in resources)
    for tf_type, name, body in resources:
        if tf_type in UNTAGGABLE:
            assert "tags" not in body, f"{tf_type}.{name}"
        else:
            assert body.get("tags") == "${local.tags}", f"{tf_type}.{name} lacks the stack tag"
    (local,) = parsed["locals"]
    assert local["tags"] == {"sfnecs:stack": "nightly", "team": "data"}
    assert {next(iter(d)) for d in parsed["data"]} == {"aws_caller_identity", "aws_partition", "aws_region"}
    assert local["region"] == "${data.aws_region.current.region}"  # provider v6's attribute
    for block in parsed["variable"]:
        ((vname, body),) = block.items()
        assert body["type"] in ("string", "${list(string)}") and body["description"].strip(), vname
    assert {next(iter(b)) for b in parsed["variable"]} >= {"subnets", "security_groups", "image"}
    outputs = {next(iter(b)) for b in parsed["output"]}
    assert {"task_definition_arn", "schedule_arn", "cluster_arn"} <= outputs
    for path in folder.iterdir():
        text = path.read_text()
        assert not ACCOUNT.search(text) or path.name == "terraform.tfvars", f"{path.name} writes an account id"
        assert not REGION.search(text), f"{path.name} writes a region"


def test_terraform_documents_go_through_jsonencode_and_platform_is_a_block(exported: Path) -> None:
    main_tf = (exported / "terraform" / "b_arm64" / "main.tf").read_text()
    assert "container_definitions = jsonencode([" in main_tf and "definition = jsonencode({" in main_tf
    assert (
        'runtime_platform {\n    operating_system_family = "LINUX"\n    cpu_architecture        = "ARM64"\n' in main_tf
    )
    iam_tf = (exported / "terraform" / "b_arm64" / "iam.tf").read_text()
    # the task role has no inline policy by default (the job's own access is its owner's to grant)
    assert iam_tf.count('resource "aws_iam_role" ') == 4 and iam_tf.count('resource "aws_iam_role_policy" ') == 3
    spot = (exported / "terraform" / "a_spot_arm64" / "main.tf").read_text()
    assert 'resource "aws_ecs_cluster_capacity_providers" "job"' in spot and "capacity_provider_strategy {" in spot
    assert "group_name                   = aws_scheduler_schedule_group.job.name" in spot


def test_managed_policies_and_an_existing_cluster() -> None:
    spec = golden_spec(task_policy_arns=("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",))
    files = render(spec, "terraform", existing_cluster=True)
    assert 'resource "aws_iam_role_policy_attachment" "task"' in files["iam.tf"]
    assert 'data "aws_ecs_cluster" "job"' in files["main.tf"] and 'resource "aws_ecs_cluster"' not in files["main.tf"]
    assert "data.aws_ecs_cluster.job.arn" in files["main.tf"]
    template = yaml.safe_load(render(spec, "cloudformation", existing_cluster=True)["template.yaml"])
    assert "JobCluster" not in template["Resources"]
    assert template["Resources"]["TaskRole"]["Properties"]["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonS3ReadOnlyAccess"}  # any partition's copy
    ]


@pytest.mark.skipif(TERRAFORM is None, reason="no terraform binary on PATH")
def test_terraform_fmt_check(exported: Path) -> None:
    done = subprocess.run(
        [TERRAFORM, "fmt", "-check", "-recursive", "-diff", str(exported / "terraform")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:]


@pytest.mark.skipif(TERRAFORM is None, reason="no terraform binary on PATH")
def test_terraform_validate(exported: Path, tmp_path: Path) -> None:
    """`terraform validate` needs the AWS provider: skipped, with the reason, where `init` cannot get it."""
    folder = tmp_path / "b"
    shutil.copytree(exported / "terraform" / "b_jsonata", folder)
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    init = subprocess.run(
        [TERRAFORM, "init", "-backend=false", "-input=false", "-no-color"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    if init.returncode != 0:
        last = next((line for line in init.stderr.splitlines() if "Error" in line), init.stderr[-200:]).strip()
        pytest.skip(f"terraform init could not install the AWS provider (no registry access here): {last}")
    done = subprocess.run([TERRAFORM, "validate", "-no-color"], cwd=folder, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout + done.stderr


# ---- CloudFormation -------------------------------------------------------------------------------
def test_cfn_lint_reports_nothing(exported: Path) -> None:
    from cfnlint.api import lint_all

    for template in sorted((exported / "cloudformation").glob("*/template.yaml")):
        # errors and warnings (cfn-lint's command line reports these by default; I* rules are informational)
        matches = [m for m in lint_all(template.read_text()) if m.rule.id[0] in "EW"]
        assert not matches, f"{template.parent.name}: " + "; ".join(str(m) for m in matches)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_cloudformation_structure(exported: Path, variant: str) -> None:
    folder = exported / "cloudformation" / variant
    text = (folder / "template.yaml").read_text()
    assert not ACCOUNT.search(text) and not REGION.search(text)
    template = yaml.safe_load(text)
    tags = [{"Key": "sfnecs:stack", "Value": "nightly"}, {"Key": "team", "Value": "data"}]
    untaggable = {"AWS::SNS::Subscription", "AWS::SNS::TopicPolicy", "AWS::Scheduler::Schedule"}
    for lid, resource in template["Resources"].items():
        if resource["Type"] not in untaggable:
            assert resource["Properties"]["Tags"] == tags, lid
    assert set(template["Parameters"]) >= {"Subnets", "SecurityGroups", "Image"}
    assert all(p["Description"] for p in template["Parameters"].values())
    assert {"TaskDefinitionArn", "ScheduleArn"} <= set(template["Outputs"])
    assert "AWS::Partition" in text and "AWS::AccountId" in text and "AWS::Region" in text
    values = json.loads((folder / "parameters.json").read_text())
    assert {v["ParameterKey"]: v["ParameterValue"] for v in values}["Subnets"] == "subnet-0a1b2c3d,subnet-4e5f6a7b"


# ---- checkov, once over every variant of each format ---------------------------------------------
@pytest.mark.parametrize(("fmt", "framework"), [("terraform", "terraform"), ("cloudformation", "cloudformation")])
@pytest.mark.skipif(CHECKOV is None, reason="checkov is not installed (make test builds .venv-checkov)")
def test_checkov_finds_no_failed_check(exported: Path, fmt: str, framework: str) -> None:
    done = subprocess.run(
        [str(CHECKOV), "-d", str(exported / fmt), "--framework", framework, "--quiet", "--compact",
         "-o", "json"],
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    reports = json.loads(done.stdout)
    for report in reports if isinstance(reports, list) else [reports]:
        summary = report["summary"]
        failed = [f"{c['check_id']} {c['resource']}" for c in report["results"]["failed_checks"]]
        assert summary["resource_count"] > 0 and summary["parsing_errors"] == 0
        assert not failed, failed
        assert summary["skipped"] > 0  # the inline skips were read (their reasons: the test below)


def test_every_skip_names_a_reason_and_a_known_kind() -> None:
    from sfnecs.export.cloudformation import CFN_TYPES

    for kind, skips in SKIPS.items():
        assert kind in CFN_TYPES
        assert all(s.check.startswith("CKV_") and len(s.reason) > 40 for s in skips)


# ---- the model: tokens, references, inputs -----------------------------------------------------------
def test_model_follows_apply_creation_order_and_names() -> None:
    from sfnecs.deploy.stack import desired_resources

    spec = golden_spec()
    model = stack_model(spec)
    assert [(r.kind, r.aws_name) for r in model.resources] == [(d.kind, d.name) for d in desired_resources(spec)]
    assert len({r.key for r in model.resources}) == len(model.resources)


# ---- bad input: one line, exit 2, nothing written ---------------------------------------------------
def test_bad_input_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"format='hcl' is not valid: one of terraform, cloudformation"):
        export_stack(golden_spec(), "hcl", tmp_path / "x")
    with pytest.raises(ValidationError, match=r"notify_email='nobody' is not valid"):
        export_stack(golden_spec(), "terraform", tmp_path / "x", email="nobody")
    with pytest.raises(ValidationError, match=r"out=3 is not valid: a folder path"):
        export_stack(golden_spec(), "terraform", 3)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"force='yes' is not valid: True or False"):
        export_stack(golden_spec(), "terraform", tmp_path / "x", force="yes")  # type: ignore[arg-type]
    assert not (tmp_path / "x").exists()
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.md").write_text("mine")
    with pytest.raises(ValidationError, match=r"out=.* an empty folder or one holding only a previous terraform"):
        export_stack(golden_spec(), "terraform", busy)
    assert [p.name for p in busy.iterdir()] == ["notes.md"]
    written = export_stack(golden_spec(), "terraform", busy, force=True)
    assert (busy / "notes.md").read_text() == "mine" and (busy / "main.tf").exists()
    assert written.files == ("versions.tf", "main.tf", "iam.tf", "variables.tf", "outputs.tf", "terraform.tfvars")


def test_a_previous_export_is_overwritten(tmp_path: Path) -> None:
    export_stack(golden_spec(), "cloudformation", tmp_path)
    again = export_stack(golden_spec(pattern="A"), "cloudformation", tmp_path)
    assert again.files == ("template.yaml", "parameters.json")
    assert "pattern A" in (tmp_path / "template.yaml").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "yaml"], "sfnecs: error: format='yaml' is not valid: terraform or cloudformation"),
        (["--format", "terraform", "--stack", "Bad_Name"], "sfnecs: error: name='Bad_Name' is not valid"),
        (["--format", "terraform", "--email", "x"], "sfnecs: error: email='x' is not valid"),
        (["--format", "terraform", "--out", "BUSY"], "sfnecs: error: out="),
    ],
)
@pytest.mark.sandbox
def test_cli_bad_input_exits_2_with_one_line(target, tmp_path: Path, capsys, args: list[str], message: str) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("x")
    argv = ["export", "--stack", "demo", "--subnet", "subnet-0a1b2c3d", "--out", str(tmp_path / "new"), *args]
    argv = [str(busy) if a == "BUSY" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1, err
    assert not (tmp_path / "new").exists() and [p.name for p in busy.iterdir()] == ["keep.txt"]


@pytest.mark.sandbox
def test_cli_writes_both_formats(target, tmp_path: Path, capsys) -> None:
    for fmt, first in (("terraform", "versions.tf"), ("cloudformation", "template.yaml")):
        code = main(["export", "--stack", "demo", "--format", fmt, "--out", str(tmp_path / fmt), "--schedule",
                     "cron(0 3 * * ? *)", "--cpu-architecture", "ARM64"])  # fmt: skip
        out = capsys.readouterr().out
        assert code == 0 and out.splitlines()[0] == str(tmp_path / fmt / first)
        assert "next, in " in out
    assert 'cpu_architecture        = "ARM64"' in (tmp_path / "terraform" / "main.tf").read_text()
    assert "CpuArchitecture: ARM64" in (tmp_path / "cloudformation" / "template.yaml").read_text()


# ---- the export runbook ----------------------------------------------------------------------------------
@pytest.mark.sandbox
@pytest.mark.slow
def test_export_runbook_writes_the_files_the_cli_writes(tmp_path: Path, monkeypatch) -> None:
    """The runbook (deploy's parameters, and format, out, force) through the runner and its own sandbox."""
    from sfnecs.ops import runbook
    from sfnecs.sandbox import process

    monkeypatch.setenv("SFNECS_HOME", str(tmp_path / "home"))
    try:
        _run_export_runbook(runbook, tmp_path)
    finally:
        if process.read_state():  # the runner started a background sandbox for target=sandbox
            process.stop()


def _run_export_runbook(runbook: Any, tmp_path: Path) -> None:
    out = tmp_path / "cfn"
    subnets = ["subnet-0a1b2c3d"]
    done = runbook.run(
        "export",
        {"stack": "rb", "format": "cloudformation", "out": str(out), "subnets": subnets, "pattern": "A"},
        output_dir=tmp_path / "runs",
    )
    assert done.ok, done.error
    result = json.loads(Path(done.result_path).read_text())["result"]
    assert result["files"] == ["template.yaml", "parameters.json"] and Path(result["out"]) == out.resolve()
    spec = StackSpec("rb", pattern="A", subnets=tuple(subnets),
                     schedule_expression="cron(0 3 * * ? *)",
                     command=("sh", "-c", "echo nightly report started; sleep 5; echo done"))  # fmt: skip
    assert (out / "template.yaml").read_text() == render(spec, "cloudformation")["template.yaml"]


def test_diff_shows_what_a_spec_change_changes_in_the_code() -> None:
    from sfnecs.export import diff

    spec = golden_spec()
    change = diff(spec, spec.replace(cpu_architecture="ARM64"))
    assert change.splitlines()[:2] == ["--- a/main.tf", "+++ b/main.tf"]
    assert [line for line in change.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")] == [
        '-    cpu_architecture        = "X86_64"',
        '+    cpu_architecture        = "ARM64"',
    ]
    assert diff(spec, spec) == ""


def test_one_resource_as_terraform() -> None:
    from sfnecs.export.terraform import render_resource

    text = render_resource(stack_model(golden_spec()), "role.sfn")
    assert text.startswith('resource "aws_iam_role" "sfn" {') and 'resource "aws_iam_role_policy" "sfn" {' in text
    assert text in render(golden_spec(), "terraform")["iam.tf"]
    with pytest.raises(ValidationError, match=r"key='role.nobody' is not valid: one of log_group.job"):
        render_resource(stack_model(golden_spec()), "role.nobody")


def test_an_image_of_the_stack_repository_with_its_own_tag_goes_to_the_values() -> None:
    spec = golden_spec(image="123456789012.dkr.ecr.us-east-1.amazonaws.com/nightly:v2")
    files = render(spec, "terraform")
    assert 'image           = "123456789012.dkr.ecr.us-east-1.amazonaws.com/nightly:v2"' in files["terraform.tfvars"]
    assert 'resource "aws_ecr_repository" "job"' in files["main.tf"]  # still the stack's repository


def test_a_users_own_values_stay_as_written() -> None:
    """Only ARNs and the values AWS defines as the account or region are looked up; the job's environment is
    the job's (a variable that names the region keeps naming that region wherever the stack goes)."""
    spec = golden_spec(environment=(("HOME_REGION", "us-east-1"), ("OWNER", "123456789012")))
    main_tf = render(spec, "terraform")["main.tf"]
    assert '{\n          name  = "HOME_REGION"\n          value = "us-east-1"\n        },' in main_tf
    assert "awslogs-region        = local.region" in main_tf
