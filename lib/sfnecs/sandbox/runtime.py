"""Which sandbox this process is serving: moto's backends are process-global, so there is one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sfnecs.exceptions import SandboxError

if TYPE_CHECKING:
    from sfnecs.sandbox.server import Sandbox

_current: "Sandbox | None" = None


def current() -> "Sandbox":
    if _current is None:
        raise SandboxError("no sandbox is running in this process")
    return _current


def get() -> "Sandbox | None":
    return _current


def set_current(sandbox: "Sandbox | None") -> None:
    global _current
    _current = sandbox
