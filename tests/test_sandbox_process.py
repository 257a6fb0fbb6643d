"""`sfnecs sandbox start|status|stop|reset|clock|fault` in real processes, and their bad input."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import boto3
import botocore.config
import botocore.exceptions
import pytest


def sfnecs(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sfnecs.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.fixture
def home_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["SFNECS_HOME"] = str(tmp_path)
    yield env
    sfnecs("sandbox", "stop", env=env)  # never leave one running


def test_start_status_fault_reset_stop(home_env):
    started = sfnecs("sandbox", "start", "--speed", "5", env=home_env)
    assert started.returncode == 0, started.stderr
    endpoint = started.stdout.strip().splitlines()[-1]
    assert endpoint.startswith("http://127.0.0.1:")
    # plain boto3 from this (another) process reaches it
    sns = boto3.client(
        "sns", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    sns.create_topic(Name="from-outside")
    status = json.loads(sfnecs("sandbox", "status", env=home_env).stdout)
    assert status["endpoint"] == endpoint and status["clock"]["speed"] == 5.0
    fault = sfnecs("sandbox", "fault", "runtask_failure", "--reason", "RESOURCE:CPU", "--count", "2", env=home_env)
    assert json.loads(fault.stdout)["count"] == 2
    assert len(json.loads(sfnecs("sandbox", "fault", env=home_env).stdout)["pending"]) == 1
    clock = json.loads(sfnecs("sandbox", "clock", "--pause", env=home_env).stdout)
    advanced = json.loads(sfnecs("sandbox", "clock", "--advance", "3600", env=home_env).stdout)
    assert clock["paused"] and advanced["now"] > clock["now"]
    assert sfnecs("sandbox", "reset", env=home_env).returncode == 0
    assert sns.list_topics()["Topics"] == []
    assert json.loads(sfnecs("sandbox", "fault", env=home_env).stdout)["pending"] == []
    stopped = sfnecs("sandbox", "stop", env=home_env)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    with pytest.raises(botocore.exceptions.BotoCoreError):  # nothing answers: a connection error
        boto3.client(
            "sns",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
            config=botocore.config.Config(connect_timeout=1, retries={"max_attempts": 0}),
        ).list_topics()


def test_second_start_is_refused_and_first_keeps_running(home_env):
    assert sfnecs("sandbox", "start", env=home_env).returncode == 0
    again = sfnecs("sandbox", "start", env=home_env)
    assert again.returncode == 1
    assert again.stderr.strip().startswith("sfnecs: error: a sandbox is already running at http://127.0.0.1:")
    assert len(again.stderr.strip().splitlines()) == 1
    assert sfnecs("sandbox", "status", env=home_env).returncode == 0


def test_port_in_use_is_one_clear_line(home_env):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = sfnecs("sandbox", "start", "--port", str(port), env=home_env)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"sfnecs: error: port {port} on 127.0.0.1 is in use: choose another with --port, or omit it"
    )
    assert sfnecs("sandbox", "status", env=home_env).returncode == 1  # nothing left running


def test_stop_and_status_with_none_running(home_env):
    stop = sfnecs("sandbox", "stop", env=home_env)
    assert stop.returncode == 1 and stop.stderr.strip() == "sfnecs: error: no sandbox is running (nothing to stop)"
    status = sfnecs("sandbox", "status", env=home_env)
    assert status.returncode == 1 and "no sandbox is running" in status.stderr


def test_bad_fault_is_refused_with_the_allowed_values(home_env):
    assert sfnecs("sandbox", "start", env=home_env).returncode == 0
    bad = sfnecs("sandbox", "fault", "runtask_failure", "--reason", "RESOURCE:GPU", env=home_env)
    assert bad.returncode == 1
    assert "reason='RESOURCE:GPU' is not valid: one of RESOURCE:MEMORY" in bad.stderr


def test_target_aws_without_region_or_credentials(monkeypatch, tmp_path):
    from sfnecs.deploy.target import connect
    from sfnecs.exceptions import TargetError

    for var in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(TargetError, match="target=aws needs a region"):
        connect("aws")
    with pytest.raises(TargetError, match="found no AWS credentials"):
        connect("aws", region="ap-northeast-1")
