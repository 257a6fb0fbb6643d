"""The runbooks in runbooks/: their parameters, refusals before any kernel or AWS call, and every one
executed through the runner in the sandbox — as the demo chain, through the CLI against one running
background sandbox (with output to S3), and under plain papermill."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from sfnecs.ops import chain, runbook
from sfnecs.ops.parameters import RULES

ROOT = Path(__file__).resolve().parent.parent
RUNBOOKS = ["audit", "deploy", "diagnose", "export", "prove", "run_now", "teardown"]
BIN = Path(sys.executable).parent


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An SFNECS_HOME of the test's own: no sandbox is running there unless the test starts one."""
    path = tmp_path / "home"
    monkeypatch.setenv("SFNECS_HOME", str(path))
    yield path
    from sfnecs.sandbox import process

    if process.read_state():  # a failed test must not leave a sandbox behind
        process.stop()


def test_every_runbook_is_listed():
    assert runbook.list_runbooks() == RUNBOOKS


@pytest.mark.parametrize("name", RUNBOOKS)
def test_parameters_are_read_checked_and_common(name):
    nb = nbformat.read(ROOT / "runbooks" / f"{name}.ipynb", as_version=4)
    index = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    declared = [p.name for p in runbook.describe(name)]
    # papermill skips a line it cannot read (e.g. one with '=' in its help): every assignment must be read
    assert declared == re.findall(r"^(\w+)\s*=", nb.cells[index].source, re.M)
    assert declared[:3] == ["stack", "target", "region"]
    defaults = {p.name: p.default for p in runbook.describe(name)}
    assert defaults["target"] == "sandbox" and all(p.help for p in runbook.describe(name))
    assert set(declared) <= set(RULES)
    runbook.validate(name, {})  # the defaults pass their own rules
    # the first code cell after `parameters` checks every parameter, by name
    check = next(c for c in nb.cells[index + 1 :] if c.cell_type == "code")
    call = next(
        n
        for n in ast.walk(ast.parse(check.source))
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "check_parameters"
    )
    assert call.args[0].value == name and [k.arg for k in call.keywords] == declared


@pytest.mark.parametrize(
    "args, message",
    [
        (["deploy", "-p", "stack", "Bad_Name"], "stack='Bad_Name' is not valid: "),
        (["run_now", "-p", "target", "mars"], "target='mars' is not valid: use sandbox or aws"),
        (["deploy", "-p", "schedule", "rate(0 minutes)"], "schedule='rate(0 minutes)' is not valid"),
        (["audit", "-p", "limit", "lots"], "limit='lots' is not valid: a int"),
        (["teardown", "-p", "target", "aws"], "confirm=False is not valid: True to delete resources on target=aws"),
    ],
)
def test_bad_parameters_exit_2_before_a_kernel_or_an_aws_call(args, message, home, tmp_path, monkeypatch, capsys):
    from sfnecs import cli

    def forbidden(*a, **k):
        raise AssertionError("called after a bad parameter")

    monkeypatch.setattr("papermill.execute_notebook", forbidden)
    monkeypatch.setattr("boto3.Session.__init__", forbidden)
    monkeypatch.setattr(runbook, "ensure_sandbox", forbidden)
    code = cli.main(["runbook", "run", *args, "--output", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"sfnecs: error: {message}") and err.count("\n") == 1
    assert not (tmp_path / "runs").exists() and not home.exists()  # nothing written, no sandbox started


def test_teardown_on_aws_without_confirm_stops_in_the_notebook_under_plain_papermill(tmp_path):
    """The runner is bypassed: the notebook's own check stops it before the cell that connects."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    out = tmp_path / "teardown.ipynb"
    with pytest.raises(PapermillExecutionError) as caught:
        papermill.execute_notebook(
            str(ROOT / "runbooks" / "teardown.ipynb"), str(out), parameters={"target": "aws"}, progress_bar=False
        )
    assert caught.value.ename == "ValidationError" and caught.value.evalue.startswith("confirm=False is not valid")
    cells = [c for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code"]
    connect = next(i for i, c in enumerate(cells) if "connect(target, region)" in c.source)
    assert all(c.execution_count is None for c in cells[connect:])  # connect(), hence any AWS call, never ran


@pytest.mark.sandbox
def test_demo_chain_end_to_end(home, tmp_path):
    """deploy (arm64 image, X86_64 task) -> run_now fails -> diagnose -> deploy ARM64 -> run_now -> audit
    -> teardown."""
    report = chain.run_chain(chain.demo_steps("chain"), tmp_path / "runs")
    index = chain.write_index(report)
    assert report.sandbox_started and not (home / "sandbox.json").exists()  # started for the chain, then stopped
    assert report.ok, report.table()
    deploy, failed, diagnosis, fix, rerun, audit, teardown = [o.result for o in report.outcomes]

    # 14 resources run the job; the topic policy and 4 alarms tell someone when it fails
    assert deploy.result["plan"] == {"create": 19} and not deploy.result["verified"]
    assert "exec format error" in deploy.result["failed_checks"][0]  # verify predicted it
    assert not failed.ok and failed.result["status"] == "FAILED" and failed.result["exit_code"] == 1
    assert failed.error == (
        f"RunbookError: job of stack chain FAILED: exit code 1; Essential container in task "
        f"exited; last log line: {failed.result['log_tail'][-1]}"
    )
    assert failed.result["log_tail"][-1].endswith("exec format error") and "\n" not in failed.error
    assert diagnosis.result["category"] == "architecture_mismatch" and diagnosis.result["confidence"] == "high"
    assert diagnosis.result["run_arn"] == failed.result["execution_arn"] and "ARM64" in diagnosis.result["fix"]
    assert fix.result["plan"].get("update") == 2 and fix.result["verified"]  # task definition + state machine
    assert {
        "check": "entrypoint binary runs on runtimePlatform",
        "resource": fix.result["image"],
        "status": "pass",
    } in fix.result["checks"]  # inspect_image=True: the arm64 binary itself was read
    assert rerun.ok and rerun.result["exit_code"] == 0 and rerun.result["log_tail"][-1] == "done"
    assert audit.result["counts"] == {"total": 2, "SUCCEEDED": 1, "FAILED": 1}
    assert audit.result["success_rate"] == 0.5 and audit.result["failures_by_category"] == {"architecture_mismatch": 1}
    assert audit.result["duplicates"] == {} and audit.result["overlaps"] == []
    assert len(teardown.result["deleted"]) == 19 and teardown.result["kept"] == []

    for outcome in report.outcomes:  # the audit log: executed notebook, result JSON, HTML
        executed = nbformat.read(outcome.result.notebook, as_version=4)
        assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
        assert json.loads(Path(outcome.result.result_path).read_text())["ok"] == outcome.result.ok
        assert (index.parent / Path(outcome.result.notebook).with_suffix(".html").name).exists()
        last = [c for c in executed.cells if c.cell_type == "code"][-1]
        shown = [o["data"]["text/markdown"] for o in last.outputs if "text/markdown" in o.get("data", {})]
        if outcome.step.runbook != "teardown":  # deploy, run_now (the failed one too), diagnose, audit
            assert shown and "**In the AWS console:**" in shown[0] and "(https://us-east-1.console.aws" in shown[0]
    page = index.read_text()
    assert page.count("<tr><td>") == 7 and "failed (as meant)" in page and "architecture_mismatch" in page
    assert len(report.table().splitlines()) == 8


@pytest.fixture(scope="module")
def background(tmp_path_factory):
    """One background sandbox (as `sfnecs sandbox start` leaves), found by every CLI run below."""
    from sfnecs.sandbox import process

    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SFNECS_HOME", str(home))
        record = process.start(speed=50)
        try:
            yield home, record["endpoint"]
        finally:
            process.stop()


@pytest.mark.sandbox
def test_cli_runbooks_share_the_running_sandbox_and_write_to_s3(background, tmp_path):
    """deploy (dry run, then for real with output to s3://) -> run_now fails, exit 1 -> teardown."""
    import boto3

    from sfnecs.sandbox.server import SANDBOX_CREDENTIALS

    home, endpoint = background
    # papermill's S3 handler is plain boto3: AWS_ENDPOINT_URL sends it to the sandbox's S3
    env = {
        **os.environ,
        "SFNECS_HOME": str(home),
        "AWS_ENDPOINT_URL": endpoint,
        **SANDBOX_CREDENTIALS,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    s3 = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", **{k.lower(): v for k, v in SANDBOX_CREDENTIALS.items()}
    )
    s3.create_bucket(Bucket="runbooks")

    def sfnecs(*args: str, output: str = str(tmp_path / "runs")) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "sfnecs"), "runbook", "run", *args, "--output", output],
            env=env,
            text=True,
            capture_output=True,
            cwd=tmp_path,
            timeout=300,
        )

    quiet = ("-p", "schedule_enabled", "false")  # a 50x clock could reach the nightly cron mid-test
    planned = sfnecs("deploy", "-p", "stack", "cli", *quiet, "-p", "dry_run", "true")
    assert planned.returncode == 0, planned.stderr
    result = json.loads(Path(planned.stdout.split("result:")[1].strip()).read_text())
    assert result["result"]["dry_run"] and result["result"]["plan"] == {"create": 19} and result["sandbox"] == endpoint
    assert not result["sandbox_started"] and "started a background sandbox" not in planned.stdout

    deployed = sfnecs("deploy", "-p", "stack", "cli", *quiet, "-p", "sample_image", "arm64", output="s3://runbooks/cli")
    assert deployed.returncode == 0, deployed.stderr
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="runbooks", Prefix="cli/")["Contents"])
    assert [k.rsplit("-", 1)[1] for k in keys] == ["deploy.ipynb", "deploy.result.json"]
    saved = json.loads(s3.get_object(Bucket="runbooks", Key=keys[1])["Body"].read())
    assert saved["ok"] and saved["result"]["applied"] == {"create": 19}
    assert nbformat.reads(s3.get_object(Bucket="runbooks", Key=keys[0])["Body"].read().decode(), as_version=4).cells

    failed = sfnecs("run_now", "-p", "stack", "cli")
    errors = [line for line in failed.stderr.splitlines() if line.startswith("sfnecs:")]
    assert failed.returncode == 1 and len(errors) == 1
    assert errors[0].startswith(
        "sfnecs: error: runbook run_now failed: RunbookError: job of stack cli FAILED: exit code 1;"
    ) and errors[0].endswith("exec format error")

    removed = sfnecs("teardown", "-p", "stack", "cli")
    assert removed.returncode == 0, removed.stderr
    result = json.loads(Path(removed.stdout.split("result:")[1].strip()).read_text())["result"]
    # the two log groups and the repository are kept (the logs of the failed run, the image), with how to remove them
    assert len(result["deleted"]) == 16 and len(result["kept"]) == 3, result["kept"]
    assert all("kept:" in k and "remove with delete_" in k for k in result["kept"])
    removed = sfnecs("teardown", "-p", "stack", "cli", "-p", "delete_logs", "true", "-p", "delete_images", "true")
    assert removed.returncode == 0, removed.stderr
    assert len(json.loads(Path(removed.stdout.split("result:")[1].strip()).read_text())["result"]["deleted"]) == 3


@pytest.mark.sandbox
def test_plain_papermill_deploy_starts_its_own_sandbox(home, tmp_path):
    """`papermill runbooks/deploy.ipynb out.ipynb -p stack demo`: no runner, no sandbox running."""
    out = tmp_path / "out.ipynb"
    done = subprocess.run(
        [str(BIN / "papermill"), str(ROOT / "runbooks" / "deploy.ipynb"), str(out), "-p", "stack", "demo"],
        text=True,
        capture_output=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    last = [c for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code"][-1]
    links, shown = (o["data"] for o in last.outputs)  # the console links (Markdown), then the result
    assert "'ok': True" in shown["text/plain"] and "'applied': {'create': 19}" in shown["text/plain"]
    assert "'verified': True" in shown["text/plain"]
    page = "https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/statemachines/view/"
    assert f"- state machine: [{page}" in links["text/markdown"]  # one click from the notebook
    assert not home.exists()  # the kernel's sandbox lived and died with the kernel


@pytest.mark.sandbox
def test_diagnose_runbook_with_lang_ja_diagnoses_exec_format_error_in_japanese(home, tmp_path):
    """deploy (arm64 image, X86_64 task) -> run_now fails -> diagnose lang=ja -> teardown: the diagnosis reads
    in Japanese; the category (a key) and AWS names stay as AWS writes them."""
    common = {"stack": "jadiag", "target": "sandbox"}
    steps = [
        chain.Step("deploy", {**common, **chain.DEMO_SCHEDULE, "sample_image": "arm64"}),
        chain.Step("run_now", common, expect_ok=False),
        chain.Step("diagnose", {**common, "lang": "ja"}),
        chain.Step("teardown", {**common, "delete_logs": True, "delete_images": True}),
    ]
    report = chain.run_chain(steps, tmp_path / "runs")
    assert report.ok, report.table()
    found = report.outcomes[2].result
    assert found.result["category"] == "architecture_mismatch" and found.result["confidence"] == "high"
    assert found.result["summary"].startswith("この X86_64 のタスクで、カーネルがコンテナの")
    assert "(exec format error)" in found.result["summary"]
    assert "イメージの CPU (arm64) でタスクを実行する" in found.result["fix"] and '"ARM64"' in found.result["fix"]
    executed = nbformat.read(found.notebook, as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert "アーキテクチャの不一致 (確信度: 高): この X86_64 のタスクで" in printed
    shown = "".join(
        o.get("data", {}).get("text/html", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "<th>証拠</th>" in shown and "X86_64 (指定値)" in shown  # the evidence's kit words, in Japanese too
