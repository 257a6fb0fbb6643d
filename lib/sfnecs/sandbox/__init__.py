"""The embedded sandbox: a local AWS (moto's server, repaired) with a Fargate emulator, a virtual
clock, a schedule firer and fault injection. `Sandbox()` runs it in this process; `sfnecs sandbox
start` runs it in the background (see `sfnecs.sandbox.process`).

Modules. The server composes the parts and passes itself in (or registers in `runtime`); no part
imports the server back, only `serve` and `process`, which start it.
  core     server (`Sandbox`), serve and process (a sandbox in the background), control (the
           /_sfnecs/ HTTP API and the call log), runtime (which sandbox serves this process),
           clock (virtual time), faults (what to inject)
  services fargate and ecs_api (ECS tasks), registry (ECR blobs and image platforms), repairs (moto's
           Step Functions interpreter and ECS model, repaired), scheduler (EventBridge Scheduler
           deliveries), iam (SimulateCustomPolicy), task_events (ECS task state change events),
           eventbridge (rules delivering them, repaired), notifications (SNS confirmation and topic
           policies), alarms (metrics and CloudWatch alarm evaluation)
  IAM on   permissions (what each call a service makes for you needs), enforcement (the switch, the
  AWS's    verdicts, AWS's denial texts), state_machine_role (Step Functions' integrations and its
  behalf   create/update checks), agent_role (the Fargate agent's pulls and log writes)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sfnecs.sandbox.server import Sandbox

__all__ = ["Sandbox"]


def __getattr__(name: str) -> Any:
    """`sfnecs.sandbox.Sandbox`, loaded on first use: importing a light part of the package (the fault
    kinds for the CLI's argument parser) does not load moto."""
    if name == "Sandbox":
        from sfnecs.sandbox.server import Sandbox  # lazy: see the docstring (PEP 562)

        return Sandbox
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
