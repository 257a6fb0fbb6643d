"""Reading a built definition: every state (nested ones included) and the IAM actions its Task states call.

Why here: `sfnecs.iam` grants exactly what `states_used` reads from the ASL, and the lint walks the
same states, so the integration table and the walk are written once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from sfnecs import runtask
from sfnecs.exceptions import ValidationError
from sfnecs.i18n import N_, tr

#: Optimized integrations -> the IAM actions the state machine's role needs for them (Step Functions
#: developer guide, "IAM policies for Amazon ECS/AWS Fargate" and "... Amazon SNS"). `.sync` on ECS
#: also stops the task on timeout, polls it, and manages the rule through which ECS reports the
#: task's end; every RunTask passes the task's roles (iam:PassRole, for both task and execution role).
INTEGRATION_ACTIONS: dict[str, tuple[str, ...]] = {
    # the ECS ones come from sfnecs.runtask, which renders the statements that grant them
    **runtask.INTEGRATION_ACTIONS,
    "sns:publish": ("sns:Publish",),
}
#: AWS SDK integrations name the SDK's service; where its IAM prefix differs, the prefix is here.
SDK_IAM_PREFIXES: dict[str, str] = {"sfn": "states"}

_INTEGRATION_ARN = re.compile(
    r"arn:aws[a-z-]*:states:::(?P<service>aws-sdk:[a-z0-9]+:[A-Za-z0-9]+|[a-z0-9]+:"
    r"[A-Za-z0-9]+)(?P<pattern>\.sync(?::2)?|\.waitForTaskToken)?"
)


def states_used(definition: Mapping[str, Any]) -> set[str]:
    """The IAM actions (`service:Action`) the definition's Task states need, nested states included.

    Why: the state machine's role must grant exactly these (plus the log-delivery actions when
    execution logging is on, which no state calls); a test compares the two.
    """
    actions: set[str] = set()
    for path, state in walk_states(definition):
        if state.get("Type") != "Task":
            continue
        resource = state.get("Resource")
        match = _INTEGRATION_ARN.fullmatch(resource) if isinstance(resource, str) else None
        if match is None:
            raise ValidationError(
                f"{path}.Resource",
                resource,
                N_(
                    "a Step Functions service integration ARN "
                    "(arn:aws:states:::service:action[.sync|.waitForTaskToken])"
                ),
            )
        service, pattern = match["service"], match["pattern"] or ""
        if service.startswith("aws-sdk:"):
            _, sdk, api = service.split(":")
            # AWS SDK integrations call the API action of the same name (PascalCase in IAM)
            actions.add(f"{SDK_IAM_PREFIXES.get(sdk, sdk)}:{api[:1].upper()}{api[1:]}")
            continue
        key = service + pattern
        if key not in INTEGRATION_ACTIONS:
            raise ValidationError(
                f"{path}.Resource",
                resource,
                tr(
                    "an integration sfnecs knows the IAM needs of: {known}, or aws-sdk:<service>:<action>",
                    known=", ".join(INTEGRATION_ACTIONS),
                ),
            )
        actions.update(INTEGRATION_ACTIONS[key])
    return actions


def walk_states(definition: Mapping[str, Any], path: str = "States") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every state with its path, descending into Parallel branches and Map item processors.

    Why: the IAM needs and the JSONata lint must see nested states too, not just the top level.
    """
    states = definition.get("States") if isinstance(definition, Mapping) else None
    if not isinstance(states, Mapping):
        return
    for name, state in states.items():
        if not isinstance(state, Mapping):
            continue
        here = f"{path}.{name}"
        yield here, state
        for i, branch in enumerate(state.get("Branches") or ()):
            yield from walk_states(branch, f"{here}.Branches[{i}].States")
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), Mapping):
                yield from walk_states(state[key], f"{here}.{key}.States")
