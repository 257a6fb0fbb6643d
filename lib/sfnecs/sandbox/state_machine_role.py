"""Step Functions acting with the state machine's role: its integrations' calls and its create/update checks.

Why: moto's interpreter calls ECS, SNS and Step Functions itself with any credentials, and moto's
CreateStateMachine never looks at the role. In AWS the role's policies decide both:
- every call an integration makes (RunTask with PassRole, DescribeTasks, StopTask, sns:Publish,
  states:ListExecutions for the guard) is the role's; a denial fails the Task state with the service's
  error name (`ECS.AccessDeniedException`, `SNS.AuthorizationErrorException`, ...) and a cause in the
  services' `(Service: ...; Status Code: ...; Error Code: ...)` shape (AWS documents the `<Service>.<Error>`
  form of integration errors, not these names: community-observed). The integrations' clients are made
  by one factory, `boto_client_for`; the repair wraps each in `enforcement.guard` with the role.
- CreateStateMachine and UpdateStateMachine refuse a role that Step Functions cannot assume, that may
  not manage the `.sync` integration's managed rule, or (logging on) may not deliver logs. The texts are
  AWS's as users report them (*community*; AWS does not document them):
  "Neither the global service principal states.amazonaws.com, nor the regional one is authorized to assume
  the provided role.", "'<role ARN>' is not authorized to create managed-rule." and "The state machine IAM
  Role is not authorized to access the Log Destination". AWS does not document whether executions check the
  managed rule again; the sandbox checks it where users see it fail, at create and update.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from sfnecs.sandbox import enforcement
from sfnecs.sandbox.patching import ORIGINALS, patch, unpatch
from sfnecs.sandbox.permissions import state_machine_needs

__all__ = ["SERVICE_PRINCIPAL", "install", "uninstall"]

SERVICE_PRINCIPAL = "states.amazonaws.com"
_FACTORY = "moto.stepfunctions.parser.asl.utils.boto_client"
_SERVICE = "moto.stepfunctions.parser.asl.component.state.exec.state_task.service."
#: the modules holding their own reference to the factory (`from ... import boto_client_for`)
_FACTORY_USERS = tuple(
    _SERVICE + name
    for name in (
        "state_task_service_ecs",
        "state_task_service_sns",
        "state_task_service_aws_sdk",
        "state_task_service_sfn",
        "state_task_service_sqs",
        "state_task_service_events",
        "state_task_service_batch",
        "state_task_service_glue",
        "state_task_service_dynamodb",
    )
)


def _original_factory() -> Any:
    module = importlib.import_module(_FACTORY)
    return ORIGINALS.get((module, "boto_client_for"), module.boto_client_for)


def _boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    """moto's factory, with each call the client makes checked against the state's role first."""
    client = _original_factory()(region=region, service=service, state_credentials=state_credentials)
    role = getattr(state_credentials, "role_arn", None)
    # the session name Step Functions gives its role session is not documented: a random one stands in
    return enforcement.guard(client, role) if role else client


def _refusal(message: str) -> Exception:
    """Step Functions' AccessDeniedException, which moto's response layer renders as the JSON error."""
    from moto.core.exceptions import AWSError

    return AWSError(message, "AccessDeniedException", 400)


def _check(role_arn: str | None, definition: Any, logging: Any, state_machine_arn: str, region: str) -> None:
    """Raise Step Functions' AccessDeniedException when the role cannot serve this state machine."""
    if not role_arn or not enforcement.enforced():
        return
    account = role_arn.split(":")[4]
    context = {"aws:SourceArn": state_machine_arn, "aws:SourceAccount": account}
    if not enforcement.trusted(role_arn, SERVICE_PRINCIPAL, context):
        raise _refusal(
            f"Neither the global service principal {SERVICE_PRINCIPAL}, nor the regional one is authorized to "
            "assume the provided role."
        )
    try:
        parsed = json.loads(definition) if isinstance(definition, str) else definition or {}
    except ValueError:
        return  # moto's own validation reports the definition
    rules, logs = state_machine_needs(parsed, logging, account, region)
    if enforcement.first_denied(role_arn, rules) is not None:
        raise _refusal(f"'{role_arn}' is not authorized to create managed-rule.")
    if enforcement.first_denied(role_arn, logs) is not None:
        raise _refusal("The state machine IAM Role is not authorized to access the Log Destination")


def _backend_cls() -> Any:
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    return StepFunctionsParserBackend


def _create_state_machine(self: Any, name: str, definition: str, roleArn: str, *args: Any, **kwargs: Any) -> Any:
    partition = roleArn.split(":")[1] if roleArn.count(":") >= 5 else "aws"
    arn = f"arn:{partition}:states:{self.region_name}:{self.account_id}:stateMachine:{name}"
    _check(roleArn, definition, kwargs.get("loggingConfiguration"), arn, self.region_name)
    return ORIGINALS[(_backend_cls(), "create_state_machine")](self, name, definition, roleArn, *args, **kwargs)


def _update_state_machine(
    self: Any,
    arn: str,
    definition: Any = None,
    role_arn: str | None = None,
    logging_configuration: Any = None,
    *args: Any,
    **kwargs: Any,
) -> Any:
    try:
        current = self.describe_state_machine(arn)
    except Exception:  # noqa: BLE001 - moto's StateMachineDoesNotExist: the original call reports it
        current = None
    if current is not None and (definition or role_arn or logging_configuration):
        _check(
            role_arn or current.roleArn,
            definition or current.definition,
            logging_configuration or current.loggingConfiguration,
            arn,
            self.region_name,
        )
    return ORIGINALS[(_backend_cls(), "update_state_machine")](
        self, arn, definition, role_arn, logging_configuration, *args, **kwargs
    )


def install() -> None:
    """Wrap the integrations' client factory and the create/update checks into moto (reversible)."""
    users = [importlib.import_module(name) for name in _FACTORY_USERS]  # before the patch: they copy it
    factory = importlib.import_module(_FACTORY)
    original = factory.__dict__["boto_client_for"]
    patch(factory, "boto_client_for", _boto_client_for)
    for user in users:
        if user.__dict__.get("boto_client_for") is original:
            patch(user, "boto_client_for", _boto_client_for)
    patch(_backend_cls(), "create_state_machine", _create_state_machine)
    patch(_backend_cls(), "update_state_machine", _update_state_machine)


def uninstall() -> None:
    for name in _FACTORY_USERS:
        unpatch(importlib.import_module(name), "boto_client_for")
    unpatch(importlib.import_module(_FACTORY), "boto_client_for")
    unpatch(_backend_cls(), "create_state_machine")
    unpatch(_backend_cls(), "update_state_machine")
