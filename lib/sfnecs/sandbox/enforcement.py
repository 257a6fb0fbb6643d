"""IAM enforced on AWS's behalf: may the acting role make this call, may the service assume it, and AWS's words.

Why: moto never denies, so a role missing `iam:PassRole` or `ecr:BatchGetImage` worked in the sandbox and
failed in an account. Here every call a service makes for the user (Step Functions' integrations, the
Scheduler's target invocation, the Fargate agent's pulls, log writes and secret reads) is evaluated
against the acting role's policies as the sandbox's IAM holds them (inline and attached managed
policies) with the one evaluator, `sfnecs.model.policy_evaluation`; what each call needs comes from
`sfnecs.sandbox.permissions`.

The switch: on by default. Off with `SFNECS_SANDBOX_IAM=off` in the environment of the process that
starts the sandbox, `Sandbox(enforce_iam=False)`, or at run time `POST /_sfnecs/iam {"enforce": false}`.
"""

from __future__ import annotations

import json
import os
import uuid
from collections import deque
from collections.abc import Iterable
from typing import Any

from sfnecs.exceptions import ValidationError
from sfnecs.model.policy_evaluation import as_list, simulate_custom_policy
from sfnecs.sandbox.permissions import Need, call_for

__all__ = [
    "DENIALS",
    "ENV_VAR",
    "assumed_role",
    "default_enforced",
    "denied_message",
    "enforced",
    "set_enforced",
    "first_denied",
    "guard",
    "role_policies",
    "trusted",
]

ENV_VAR = "SFNECS_SANDBOX_IAM"
_ON, _OFF = ("on", "enforce", "1", "true", "yes", ""), ("off", "0", "false", "no")


def default_enforced() -> bool:
    """The switch's value from the environment (on unless SFNECS_SANDBOX_IAM=off)."""
    value = os.environ.get(ENV_VAR, "on").strip().lower()
    if value in _ON:
        return True
    if value in _OFF:
        return False
    raise ValidationError(ENV_VAR, value, "on or off (IAM enforced on AWS's behalf in the sandbox, or not)")


#: the switch of the sandbox serving this process (moto's backends are process-global, so there is one);
#: None: the environment's default
_switch: dict[str, bool | None] = {"on": None}


def set_enforced(on: bool | None) -> None:
    """Turn enforcement on or off for this process (None: back to the environment's default)."""
    _switch["on"] = on


def enforced() -> bool:
    """Whether IAM is enforced on AWS's behalf now (the sandbox's switch, else the environment's default)."""
    on = _switch["on"]
    return default_enforced() if on is None else on


def role_policies(role_arn: str) -> list[str]:
    """The role's inline policies and the default versions of its attached managed policies, as JSON text."""
    from moto.iam.models import iam_backends  # the sandbox's own IAM: imported when a call is checked

    role = _role(role_arn, iam_backends)
    if role is None:
        return []  # a deleted role allows nothing
    docs = [d if isinstance(d, str) else json.dumps(d) for d in role.policies.values()]
    for policy in role.managed_policies.values():
        docs += [
            v.document if isinstance(v.document, str) else json.dumps(v.document)
            for v in policy.versions
            if v.is_default
        ]
    return docs


def _role(role_arn: str, iam_backends: Any) -> Any:
    parts = role_arn.split(":")
    if len(parts) != 6:
        return None
    try:
        return iam_backends[parts[4]][parts[1]].get_role_by_arn(role_arn)
    except Exception:  # noqa: BLE001 - moto's NotFoundException
        return None


def _context(need: Need) -> list[dict[str, Any]]:
    return [{"ContextKeyName": k, "ContextKeyValues": [v], "ContextKeyType": "string"} for k, v in need.context.items()]


def _decision(documents: list[str], need: Need) -> bool:
    if not documents:
        return False
    try:
        results = simulate_custom_policy(
            documents, [need.action], [] if need.resource == "*" else [need.resource], _context(need)
        )
    except ValidationError:
        return False  # a policy the evaluator cannot judge (see its docstring) is not taken to allow
    return bool(results) and results[0]["EvalDecision"] == "allowed"


#: the denials so far, newest last (GET /_sfnecs/iam): what CloudTrail would list as AccessDenied events
DENIALS: deque[dict[str, str]] = deque(maxlen=1000)


def first_denied(role_arn: str | None, needs: Iterable[Need]) -> Need | None:
    """The first need the role's policies do not allow, in order (None: all allowed, or enforcement is off).

    Each denial is recorded in DENIALS.
    """
    if not enforced():
        return None
    documents = role_policies(role_arn) if role_arn else []
    denied = next((n for n in needs if not _decision(documents, n)), None)
    if denied is not None:
        DENIALS.append({"role": role_arn or "", "action": denied.action, "resource": denied.resource})
    return denied


def trusted(role_arn: str, service: str, context: dict[str, str]) -> bool:
    """Whether the role's trust policy lets `service` assume it with this request context (always, when off).

    The statements naming the service principal are evaluated by the one evaluator, their Principal
    taken out (it only selects them) and Resource "*" put in (trust policies have none).
    """
    if not enforced():
        return True
    from moto.iam.models import iam_backends  # the sandbox's own IAM: imported when a call is checked

    role = _role(role_arn, iam_backends)
    if role is None:
        return False
    try:
        trust = json.loads(role.assume_role_policy_document)
    except (TypeError, ValueError):
        return False
    chosen = []
    for statement in as_list(trust.get("Statement", [])):
        if isinstance(statement, dict) and _names(statement.get("Principal"), service):
            rest = {k: v for k, v in statement.items() if k not in ("Principal", "Sid")}
            chosen.append({**rest, "Resource": "*"})
    document = json.dumps({"Version": "2012-10-17", "Statement": chosen})
    if bool(chosen) and _decision([document], Need("sts:AssumeRole", "*", context)):
        return True
    DENIALS.append({"role": role_arn, "action": "sts:AssumeRole", "resource": role_arn, "principal": service})
    return False


def _names(principal: Any, service: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return service in as_list(principal.get("Service", [])) or "*" in as_list(principal.get("AWS", []))


def assumed_role(role_arn: str | None, session: str) -> str:
    """The STS identity a service acts as with a role: arn:<partition>:sts::<account>:assumed-role/<name>/<session>."""
    parts = (role_arn or "").split(":")
    if len(parts) != 6:
        return "(no role)"
    return f"arn:{parts[1]}:sts::{parts[4]}:assumed-role/{parts[5].rsplit('/', 1)[-1]}/{session}"


def denied_message(role_arn: str | None, session: str, need: Need) -> str:
    """IAM's AccessDenied text for an identity policy that does not allow the call.

    IAM User Guide, "Troubleshoot access denied error messages"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
    """
    return (
        f"User: {assumed_role(role_arn, session)} is not authorized to perform: {need.action} on resource: "
        f"{need.resource} because no identity-based policy allows the {need.action} action"
    )


def guard(client: Any, role_arn: str, session: str | None = None) -> Any:
    """`client`, checking each call it makes against `role_arn` first, as the service acting with that role.

    A denied call raises the API's own AccessDenied error (`ServiceCall.denial_code`) before any request
    leaves, exactly as botocore raises the service's answer; calls the table does not list pass unchecked.
    """
    session = session or uuid.uuid4().hex
    service = client.meta.service_model.service_name
    region = client.meta.region_name
    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""

    def check(params: dict[str, Any], model: Any, **_: Any) -> None:
        call = call_for(service, model.name)
        if call is None or not enforced():
            return
        denied = first_denied(role_arn, call.needs(params, account, region))
        if denied is None:
            return
        response = {
            "Error": {"Code": call.denial_code, "Message": denied_message(role_arn, session, denied)},
            "ResponseMetadata": {"HTTPStatusCode": call.status, "RequestId": str(uuid.uuid4())},
        }
        raise client.exceptions.from_code(call.denial_code)(response, model.name)

    client.meta.events.register("before-parameter-build", check)
    return client
