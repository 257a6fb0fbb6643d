"""TestState's `mock.fieldValidationMode`: a mocked result checked against its API's model.

Step Functions API reference, "MockInput": STRICT (the default) -- "All required fields must be
present, and all present fields must conform to the API's schema"; PRESENT -- "All present fields
must conform to the API's schema"; NONE -- "No validation is performed". The schemas are botocore's
service models, the same ones the SDKs are generated from.

Not documented by AWS, so chosen here and said so: which model a `.sync` result is checked against
(an `ecs:runTask.sync` result is the stopped task as DescribeTasks returns it, so ECS's `Task`
shape); that a field the schema does not have does not conform; that keys are matched with their
first letter in either case (Step Functions returns service fields capitalised, e.g. `TaskArn` for
ECS's `taskArn`). A resource the sandbox has no model for (Lambda, HTTP, Activity, a callback's
token result) is not validated.
"""

from __future__ import annotations

import functools
from typing import Any

import botocore.session

MODES = ("STRICT", "PRESENT", "NONE")

#: Step Functions' aws-sdk service names that differ from botocore's
_SDK_SERVICES = {"sfn": "stepfunctions"}
#: optimized integrations: (service, action) -> botocore (service, operation, shape or None for its output)
_OPTIMIZED = {
    ("ecs", "runTask"): ("ecs", "RunTask", None),
    ("ecs", "runTask.sync"): ("ecs", "DescribeTasks", "Task"),
    ("sns", "publish"): ("sns", "Publish", None),
    ("sqs", "sendMessage"): ("sqs", "SendMessage", None),
}


@functools.cache
def _model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def result_shape(resource: str) -> Any:
    """The botocore shape a mocked result of `resource` (a Task state's Resource ARN) must fit, or None."""
    parts = resource.split(":", 5)  # arn:partition:states:::integration
    if len(parts) < 6 or parts[2] != "states" or parts[3] or parts[4]:
        return None
    integration = parts[5]
    if integration.startswith("aws-sdk:"):
        _, service, action = (integration.split(":") + ["", ""])[:3]
        if action.endswith((".sync", ".waitForTaskToken")) or not action:
            return None
        try:
            model = _model(_SDK_SERVICES.get(service, service))
            return model.operation_model(action[:1].upper() + action[1:]).output_shape
        except Exception:  # noqa: BLE001 - no model for this service or action: not validated
            return None
    service, _, action = integration.partition(":")
    known = _OPTIMIZED.get((service, action))
    if known is None:
        return None
    model = _model(known[0])
    return model.shape_for(known[2]) if known[2] else model.operation_model(known[1]).output_shape


def _key(members: dict[str, Any], key: str) -> str | None:
    for name in (key, key[:1].lower() + key[1:], key[:1].upper() + key[1:]):
        if name in members:
            return name
    return None


_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "blob": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "timestamp": (int, float, str),
    "list": (list,),
    "map": (dict,),
    "structure": (dict,),
}


def problems(value: Any, shape: Any, mode: str, path: str = "result") -> list[str]:
    """What in `value` does not fit `shape` under `mode` (empty: it fits)."""
    if mode == "NONE" or shape is None:
        return []
    allowed = _TYPES.get(shape.type_name, (object,))
    if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
        return [f"{path}: expected {shape.type_name} ({shape.name}), got {type(value).__name__}"]
    found: list[str] = []
    data: Any = value  # a dict or list from here on, as the type check above ensured
    if shape.type_name == "structure":
        members = shape.members
        for key, item in data.items():
            name = _key(members, key)
            if name is None:
                found.append(f"{path}.{key}: not a field of {shape.name}")
            else:
                found += problems(item, members[name], mode, f"{path}.{key}")
        if mode == "STRICT":
            given = {k[:1].lower() + k[1:] for k in data}
            missing = [m for m in shape.required_members if m[:1].lower() + m[1:] not in given]
            found += [f"{path}.{m[:1].upper() + m[1:]}: required by {shape.name}, missing" for m in missing]
    elif shape.type_name == "list":
        for index, item in enumerate(data):
            found += problems(item, shape.member, mode, f"{path}[{index}]")
    elif shape.type_name == "map":
        for key, item in data.items():
            found += problems(item, shape.value, mode, f"{path}.{key}")
    elif shape.type_name == "string" and shape.enum and value not in shape.enum:
        found.append(f"{path}: {value!r} is not one of {shape.name}'s values")
    return found
