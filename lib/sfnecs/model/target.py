"""`Target`: the interface every function that calls AWS takes — where its calls go.

Why a Protocol in the model: the AWS I/O layers (deploy, runs, diagnose, images) type their
`target` argument without depending on how one is made; `sfnecs.deploy.target.connect()` makes the
real one (a `Connection`, to the sandbox or to an AWS account), and tests may pass their own.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

TargetName = Literal["sandbox", "aws"]


class Target(Protocol):
    """Where AWS calls go: boto3 clients for one account and region, and (sandbox only) its control API."""

    name: TargetName
    region: str
    account: str
    endpoint_url: str | None

    @property
    def is_sandbox(self) -> bool: ...

    def client(self, service: str) -> Any:
        """A boto3 client for `service` on this target."""
        ...

    def control(self, method: str, route: str, payload: dict[str, Any] | None = None) -> Any:
        """Call the sandbox control API (faults, clock, calls); only a sandbox target has one."""
        ...
