"""EventBridge rules in the sandbox, repaired so that an event reaches a person as on AWS.

Why: the pattern-A alert is an EventBridge rule on ECS task events, delivered to SNS through an input
transformer. moto's events engine (moto/events/models.py) matches and delivers, with gaps, each
repaired here and shown by a test with the repair removed (tests/test_eventbridge.py):
- `eventbridge_arrays`: a pattern on a field inside an array of objects (`containers.exitCode`)
  never sees the field: moto flattens objects but not arrays, so `exists: false` matches every
  event and `anything-but` none (EventBridge user guide, "Arrays in Amazon EventBridge event
  patterns": a value in an array matches when any element does).
- `eventbridge_targets`: SNS targets raise NotImplementedError; every rule receives events whether
  ENABLED or not, scheduled rules (no pattern) included; the input transformer escapes nothing but
  needs its result to be JSON, keeps a `<variable>` whose path is not in the event and cannot write
  a string variable into a JSON template (EventBridge user guide, "Amazon EventBridge input
  transformation"). Delivery to a topic also needs the topic's policy to let events.amazonaws.com
  publish for this rule (sandbox.notifications).
"""

from __future__ import annotations

import copy
import json
import re
import threading
from datetime import UTC, datetime
from typing import Any

from sfnecs.sandbox.notifications import publish_as_service
from sfnecs.sandbox.patching import ORIGINALS, Repair, replacing

__all__ = ["DELIVERIES", "REPAIRS", "fill_template", "flatten_event", "transformed_input"]

#: what the repaired rules delivered (or failed to): {rule, target, ok, message}; a test's view of
#: EventBridge's Invocations / FailedInvocations metrics
DELIVERIES: list[dict[str, Any]] = []
_LOCK = threading.Lock()
_VARIABLE = re.compile(r"<([A-Za-z0-9_.\-]+)>")


# ---- matching: arrays of objects ------------------------------------------------------------------
def flatten_event(node: Any, prefix: str = "", result: dict[str, Any] | None = None) -> dict[str, Any]:
    """{dotted path: value} of an event; a path through an array of objects collects the values of every
    element into a list (as moto flattens a leaf array: a list of values, any of which may match)."""
    result = {} if result is None else result
    if not isinstance(node, dict):
        return result
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value:
            flatten_event(value, path, result)
        elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
            for item in value:
                for sub_path, sub_value in (flatten_event(item, path) if isinstance(item, dict) else {}).items():
                    found = result.setdefault(sub_path, [])
                    found.extend(sub_value if isinstance(sub_value, list) else [sub_value])
        else:
            result[path] = value
    return result


def _pattern_cls() -> Any:
    from moto.events.models import EventPattern

    return EventPattern


# ---- delivery: targets, transformer ----------------------------------------------------------------
def _rule_cls() -> Any:
    from moto.events.models import Rule

    return Rule


def _iso(value: Any) -> Any:
    """An event's `time` as EventBridge writes it (ISO 8601, seconds, Z); moto keeps epoch seconds."""
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def _as_delivered(event: dict[str, Any]) -> dict[str, Any]:
    """The event as a target receives it: ISO time, none of moto's internal fields."""
    out = {k: v for k, v in event.items() if k != "ingestion-time"}
    out["time"] = _iso(out.get("time"))
    return out


def _raw(value: Any) -> str:
    # "EventBridge doesn't escape values extracted by Input Path" ("Common issues with transforming input")
    return value if isinstance(value, str) else json.dumps(value)


def fill_template(template: str, values: dict[str, Any], declared: set[str]) -> str:
    """The input template with each `<variable>` replaced: inside a string literal by the value as it is,
    elsewhere by the value as JSON (a string gains its quotes). A declared variable whose path is not
    in the event is left out ("that variable isn't created and won't appear in the output": our reading
    is that its placeholder becomes empty); an undeclared `<...>` stays as written."""
    out: list[str] = []
    in_string, i = False, 0
    while i < len(template):
        c = template[i]
        if in_string and c == "\\":
            out.append(template[i : i + 2])
            i += 2
            continue
        m = _VARIABLE.match(template, i)
        if m and (m[1] in values or m[1] in declared):
            if m[1] in values:
                out.append(_raw(values[m[1]]) if in_string else json.dumps(values[m[1]]))
            i = m.end()
            continue
        if c == '"':
            in_string = not in_string
        out.append(c)
        i += 1
    return "".join(out)


def transformed_input(target: dict[str, Any], event: dict[str, Any], rule_arn: str, rule_name: str) -> str:
    """What a target receives: its constant Input, the value at its InputPath, its InputTransformer's
    output, or the whole event (EventBridge API reference, Target)."""
    from jsonpath_ng.ext import parse

    delivered = _as_delivered(event)
    if "Input" in target:
        return str(target["Input"])
    if "InputPath" in target:
        found = parse(target["InputPath"]).find(delivered)
        return json.dumps(found[0].value if found else None)
    transformer = target.get("InputTransformer")
    if not transformer:
        return json.dumps(delivered)
    paths = transformer.get("InputPathsMap") or {}
    values: dict[str, Any] = {}
    for name, path in paths.items():
        found = parse(path).find(delivered)
        if found:
            values[name] = found[0].value
    values.update(
        {
            "aws.events.rule-arn": rule_arn,
            "aws.events.rule-name": rule_name,
            "aws.events.event.ingestion-time": _iso(event.get("ingestion-time")),
            "aws.events.event.json": delivered,
            "aws.events.event": {k: v for k, v in delivered.items() if k != "detail"},
        }
    )
    return fill_template(transformer["InputTemplate"], values, set(paths))


def _record(rule: Any, target: dict[str, Any], ok: bool, message: str) -> None:
    with _LOCK:
        DELIVERIES.append({"rule": rule.arn, "target": target.get("Arn"), "ok": ok, "message": message})


def _send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
    # EventBridge user guide, "Rules": a disabled rule matches nothing; a scheduled rule runs on its
    # schedule and has no event pattern to match events with
    if self.state != "ENABLED" or (self.scheduled_expression and not self.event_pattern.get_pattern()):
        return
    if not self.event_pattern.matches_event(original_event):
        return
    for target in self.targets:
        if target["Arn"].split(":")[2] == "sns":
            text = transformed_input(target, original_event, self.arn, self.name)
            ok = publish_as_service(target["Arn"], text, "events.amazonaws.com", self.arn) is not None
            _record(self, target, ok, text)
            continue
        clone = copy.copy(self)
        clone.targets = [target]
        clone.event_pattern = _pattern_cls().load(None)  # matched above
        try:
            ORIGINALS[(_rule_cls(), "send_to_targets")](clone, original_event, transform_input)
            _record(self, target, True, "")
        except Exception as exc:  # noqa: BLE001 - a target moto cannot reach is a failed invocation, as on AWS
            _record(self, target, False, f"{type(exc).__name__}: {exc}")


REPAIRS: dict[str, Repair] = {
    r.name: r
    for r in (
        Repair(
            "eventbridge_arrays",
            "a pattern on a field inside an array of objects (detail.containers.exitCode) never sees "
            "the field: exists:false matches every event",
            *replacing(_pattern_cls, _flatten_dict=staticmethod(flatten_event)),
        ),
        Repair(
            "eventbridge_targets",
            "SNS targets raise NotImplementedError; disabled and scheduled rules receive every event; "
            "input transformer values are neither inserted raw nor quoted, missing ones stay as <name>",
            *replacing(_rule_cls, send_to_targets=_send_to_targets),
        ),
    )
}
