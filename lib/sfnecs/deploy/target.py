"""Choosing where AWS calls go — the embedded sandbox or a real account — in one place.

Why one place: the library never branches on "sandbox or not"; it asks `connect()` for a
`Connection` (a `sfnecs.model.target.Target`) and uses its boto3 clients. The sandbox differs only in
endpoint and credentials. The sandbox modules are imported only when a sandbox is asked for, so
target=aws never loads moto.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sfnecs.checks import check_name
from sfnecs.exceptions import TargetError, ValidationError
from sfnecs.i18n import tr
from sfnecs.model.target import Target, TargetName

if TYPE_CHECKING:
    import boto3

TARGETS = ("sandbox", "aws")

__all__ = [
    "TARGETS",
    "Connection",
    "Target",
    "TargetName",
    "connect",
    "ensure_background_sandbox",
    "stop_background_sandbox",
]


@dataclass
class Connection:
    """A `Target` made of a boto3 session bound to one endpoint (sandbox) or the normal AWS endpoints."""

    name: TargetName
    region: str
    account: str
    session: boto3.Session
    endpoint_url: str | None = None
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_sandbox(self) -> bool:
        return self.name == "sandbox"

    def client(self, service: str) -> Any:
        """A cached boto3 client for `service` on this target.

        A sandbox client does not inject host prefixes: botocore sends TestState and
        StartSyncExecution to `sync-<host>`, a name a local endpoint cannot resolve.
        """
        if service not in self._clients:
            config = None
            if self.endpoint_url:
                from botocore.config import Config  # botocore comes with boto3 (already imported here)

                config = Config(inject_host_prefix=False)
            self._clients[service] = self.session.client(service, endpoint_url=self.endpoint_url, config=config)
        return self._clients[service]

    def control(self, method: str, route: str, payload: dict[str, Any] | None = None) -> Any:
        """Call the sandbox control API (faults, clock, calls); only a sandbox target has one."""
        if not self.is_sandbox or not self.endpoint_url:
            raise TargetError(tr("the control API exists only on the sandbox target"))
        from sfnecs.sandbox.process import control_request  # lazy: target=aws never loads moto

        return control_request(self.endpoint_url, method, route, payload)


def connect(
    target: str = "sandbox", region: str | None = None, *, profile: str | None = None, endpoint_url: str | None = None
) -> Connection:
    """Return a Target for `target` ("sandbox" or "aws").

    sandbox: the endpoint given, else a sandbox started by `sfnecs sandbox start`, else
    AWS_ENDPOINT_URL when it answers as a sandbox, else a new in-process sandbox (kept for the
    life of this process). aws: the normal credential chain; a region is required.
    """
    if target not in TARGETS:
        raise ValidationError("target", target, tr("use sandbox or aws"))
    if target == "aws":
        return _connect_aws(region, profile)
    from sfnecs.sandbox.process import find_endpoint  # lazy: target=aws never loads moto
    from sfnecs.sandbox.server import (  # lazy: target=aws never loads moto
        DEFAULT_REGION,
        SANDBOX_ACCOUNT,
        SANDBOX_CREDENTIALS,
    )

    region = check_name("region", region or DEFAULT_REGION, "region")
    endpoint = endpoint_url or find_endpoint()
    if endpoint is None:
        endpoint = _in_process_sandbox().endpoint
    session = _session(
        aws_access_key_id=SANDBOX_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=SANDBOX_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=SANDBOX_CREDENTIALS["AWS_SESSION_TOKEN"],
        region_name=region,
    )
    return Connection("sandbox", region, SANDBOX_ACCOUNT, session, endpoint)


#: botocore model additions shipped with the kit (TestState's mock, stateName, context and
#: stateConfiguration are newer than some botocore releases the kit allows); see the file's _comment
BOTOCORE_MODELS = Path(__file__).resolve().parent / "botocore_models"


def _session(**kwargs: Any) -> boto3.Session:
    """A boto3 session whose botocore also reads the kit's model additions (BOTOCORE_MODELS)."""
    import boto3  # boto3 takes ~0.25 s to import: not paid by `sfnecs --help` or `sfnecs sandbox ...`
    import botocore.session

    core = botocore.session.get_session()
    core.get_component("data_loader").search_paths.append(str(BOTOCORE_MODELS))
    return boto3.Session(botocore_session=core, **kwargs)


def _connect_aws(region: str | None, profile: str | None) -> Connection:
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise TargetError(tr("target=aws needs a region: pass region=... or set AWS_REGION"))
    check_name("region", region, "region")
    if os.environ.get("AWS_ENDPOINT_URL"):
        raise TargetError(
            tr(
                "target=aws but AWS_ENDPOINT_URL={endpoint} is set (a sandbox?): unset it to use real AWS",
                endpoint=os.environ["AWS_ENDPOINT_URL"],
            )
        )
    session = _session(profile_name=profile, region_name=region)
    if session.get_credentials() is None:
        raise TargetError(
            tr(
                "target=aws found no AWS credentials: configure a profile, environment variables or an "
                "instance role (aws configure)"
            )
        )
    try:
        account = session.client("sts").get_caller_identity()["Account"]
    except Exception as exc:  # noqa: BLE001 - any failure here means the target is unusable
        raise TargetError(
            tr("target=aws: cannot reach AWS STS in {region}: {error}", region=region, error=exc)
        ) from None
    return Connection("aws", region, account, session, None)


_IN_PROCESS: Any = None


def _in_process_sandbox() -> Any:
    """Start (once) a sandbox inside this process, for notebooks and tests with none running."""
    global _IN_PROCESS
    from sfnecs.sandbox import runtime  # lazy: target=aws never loads moto
    from sfnecs.sandbox.server import Sandbox  # lazy: target=aws never loads moto

    if runtime.get() is not None:
        return runtime.get()
    if _IN_PROCESS is None or not _IN_PROCESS.running:
        _IN_PROCESS = Sandbox(export=False).start()
    return _IN_PROCESS


def ensure_background_sandbox(speed: float) -> tuple[str, bool]:
    """(endpoint, started) of a sandbox in its own process: the running one (`sfnecs sandbox start`, or
    AWS_ENDPOINT_URL when it answers as one), else a new one started in the background.

    Why a background process: it outlives this one, so the next runbook of a chain (deploy -> run_now
    -> diagnose -> audit -> teardown) finds the same state; `sfnecs sandbox stop` ends it.
    """
    from sfnecs.sandbox import process  # lazy: target=aws never loads moto

    endpoint = process.find_endpoint()
    if endpoint is not None:
        return endpoint, False
    return process.start(speed=speed)["endpoint"], True


def stop_background_sandbox() -> None:
    """Stop the background sandbox that `ensure_background_sandbox` started."""
    from sfnecs.sandbox import process  # lazy: target=aws never loads moto

    process.stop()
