"""Reading the envelopes a failure arrives in: PascalCase `.sync` documents, JSON strings, history events.

Why: Step Functions hands ECS objects over in PascalCase (the `.sync` output and Cause) while
DescribeTasks speaks camelCase, and the same task may come wrapped in a RunTask response, an
EventBridge event or a Step Functions failure; these helpers turn each into DescribeTasks' shape.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def camel_keys(value: Any, depth: int = 0) -> Any:
    """PascalCase keys (the `.sync` output and Cause) -> DescribeTasks' camelCase: TaskArn -> taskArn.

    Why a depth limit: the input may be anything a user pastes; eight levels hold every field read.
    """
    if depth > 8:
        return value
    if isinstance(value, dict):
        return {
            (k[:1].lower() + k[1:] if isinstance(k, str) else k): camel_keys(v, depth + 1) for k, v in value.items()
        }
    if isinstance(value, list):
        return [camel_keys(v, depth + 1) for v in value]
    return value


def _parse_json(value: Any) -> tuple[Any, str | None]:
    """(parsed value, None) for a JSON string, (the text, reason) when it is not JSON."""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", "replace")
    if not isinstance(value, str):
        return value, None
    try:
        return json.loads(value), None
    except (ValueError, RecursionError):
        return value, "not JSON"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _looks_like_task(d: Mapping[str, Any]) -> bool:
    return any(k in d for k in ("taskArn", "containers", "stoppedReason", "stopCode", "lastStatus"))


def _failure_text(failure: Mapping[str, Any]) -> str:
    parts = [str(failure.get(k)) for k in ("reason", "detail", "arn") if failure.get(k)]
    return ": ".join(parts) or json.dumps(failure, default=str)[:300]


def execution_outcome(sfn: Any, arn: str) -> tuple[str | None, Any, Any]:
    """(error, cause, task data or task ARN) from the newest task events of an execution's history."""
    events = sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=1000)["events"]
    failures: dict[str, tuple[Any, Any]] = {}
    succeeded = submitted = None
    for event in sorted(events, key=lambda e: e.get("id", 0), reverse=True):  # newest first, whatever the order
        kind = event.get("type", "")
        details = next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})
        if kind in ("TaskFailed", "TaskTimedOut", "ExecutionFailed", "ExecutionTimedOut"):
            # A Task state's own failure beats the execution's: a Catch -> Fail state renames the error.
            failures.setdefault(
                "task" if kind.startswith("Task") else "execution", (details.get("error"), details.get("cause"))
            )
        elif kind == "TaskSucceeded" and succeeded is None:
            output, _ = _parse_json(details.get("output"))
            succeeded = details.get("output") if isinstance(output, dict) else None
        elif kind == "TaskSubmitted" and submitted is None:  # RunTask's response: the task ARN to describe
            output, _ = _parse_json(details.get("output"))
            tasks = camel_keys(output).get("tasks") if isinstance(output, dict) else None
            if isinstance(tasks, list) and tasks and isinstance(tasks[0], dict):
                submitted = tasks[0].get("taskArn")
    error, cause = failures.get("task") or failures.get("execution") or (None, None)
    if error is None:
        return None, None, succeeded or submitted
    parsed, problem = _parse_json(cause)
    if not problem and isinstance(parsed, dict) and _looks_like_task(camel_keys(parsed)):
        return error, None, cause  # the .sync Cause is the stopped task itself
    return error, cause, submitted
