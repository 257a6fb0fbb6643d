"""Shared fixtures: one embedded sandbox per test session, reached through plain boto3."""

from __future__ import annotations

import os
import tempfile

import pytest

# No test may reach real AWS: credentials and endpoints come only from the sandbox.
for _var in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_var, None)
# No MPLBACKEND: kernels then show figures inline (ipykernel's default), this process uses Agg.
os.environ.pop("MPLBACKEND", None)
# Kernels started by nbval and papermill inherit this: they never find a user's running sandbox.
os.environ["SFNECS_HOME"] = tempfile.mkdtemp(prefix="sfnecs-test-home-")

SANDBOX_SPEED = 50.0  # virtual seconds per real second: a 5 s emulated job takes 0.1 s


@pytest.hookimpl(trylast=True)  # after pytest's tmp_path plugin has set up basetemp
def pytest_configure(config: pytest.Config) -> None:
    """Every temporary file of the session goes under pytest's basetemp: tempfile in this process, and
    TMPDIR for kernels and subprocesses (runbook result mailboxes, warm-kernel folders, SFNECS_HOME).

    Why: tests/test_zz_credential_scan.py scans what the suite produced for credentials, and looks there.
    """
    session_tmp = config._tmp_path_factory.getbasetemp() / "session-tmp"
    session_tmp.mkdir(exist_ok=True)
    os.environ["TMPDIR"] = str(session_tmp)
    tempfile.tempdir = str(session_tmp)
    os.environ["SFNECS_HOME"] = tempfile.mkdtemp(prefix="sfnecs-test-home-")


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """The session's in-process sandbox (clock at SANDBOX_SPEED)."""
    from sfnecs.sandbox import Sandbox

    sb = Sandbox(speed=SANDBOX_SPEED, export=False).start()
    yield sb
    sb.stop()


@pytest.fixture(scope="session")
def target(sandbox):
    """A `Target` bound to the session sandbox."""
    from sfnecs.deploy.target import connect

    return connect("sandbox", endpoint_url=sandbox.endpoint)
