"""The embedded sandbox: a local AWS (moto's server, repaired) with a Fargate emulator, a virtual
clock, a schedule firer and fault injection. `Sandbox()` runs it in this process; `sfnecs sandbox
start` runs it in the background (see `sfnecs.sandbox.process`)."""

from sfnecs.sandbox.server import Sandbox

__all__ = ["Sandbox"]
