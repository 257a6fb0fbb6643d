"""Which sandbox this process is serving: moto's backends are process-global, so there is one.

Why a registry: moto calls the ECS/ECR handlers and the Step Functions timers with its own objects,
never with the sandbox; they find it here. The server registers itself at start (it imports this
module, never the reverse), so the handlers see only the parts they use (`RunningSandbox`).
"""

from __future__ import annotations

from typing import Protocol

from sfnecs.exceptions import SandboxError
from sfnecs.sandbox.clock import VirtualClock
from sfnecs.sandbox.fargate import FargateEmulator
from sfnecs.sandbox.faults import FaultPlan
from sfnecs.sandbox.registry import BlobStore


class RunningSandbox(Protocol):
    """The parts of a running sandbox that moto's handlers and the repairs read (server.Sandbox has them)."""

    clock: VirtualClock
    faults: FaultPlan
    blobs: BlobStore
    fargate: FargateEmulator

    @property
    def endpoint(self) -> str: ...


_current: RunningSandbox | None = None


def current() -> RunningSandbox:
    """The sandbox serving this process; SandboxError when none runs."""
    if _current is None:
        raise SandboxError("no sandbox is running in this process")
    return _current


def get() -> RunningSandbox | None:
    """The sandbox serving this process, or None."""
    return _current


def set_current(sandbox: RunningSandbox | None) -> None:
    """Register (or, with None, forget) the sandbox serving this process."""
    global _current
    _current = sandbox
