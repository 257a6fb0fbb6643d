"""Linting a definition before any AWS call: statelint for the ASL structure, jsonata-python for expressions.

Why: a definition CreateStateMachine would reject, or one that strands an execution, is cheaper
to catch offline.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from sfnecs.i18n import tr
from sfnecs.statemachine.analysis import walk_states


def validate(definition: Mapping[str, Any] | str) -> list[str]:
    """Problems found in a definition; an empty list means it lints clean.

    Why: a definition that CreateStateMachine would reject, or that strands an execution in a
    state with no way on, is cheaper to catch before any AWS call.

    Two maintained checkers, one finding per line:
    * statelint (PyPI `statelint`, a Python port of awslabs/statelint that knows JSONata): the ASL
      structure: required and allowed fields per state type and query language (no `ResultPath`
      or `Parameters` in JSONata states, no `Output` or `Variable` in JSONPath ones), every
      Next/Default/StartAt naming a state, every state reachable, a terminal state present, paths
      and intrinsic functions well formed, value types (e.g. BackoffRate a float).
    * jsonata-python: every `{% ... %}` expression of a JSONata state parses.

    Not checked, for either language: what expressions evaluate to (JSONata functions such as
    `$parse` exist only at run time; intrinsic arguments are checked for form only), service
    parameter names, and AWS quotas. AWS's ValidateStateMachineDefinition API is authoritative but
    needs an account; executing the definition (the sandbox) is the real test.
    """
    from statelint.linter import Linter

    if isinstance(definition, str):
        try:
            definition = json.loads(definition)
        except ValueError as e:
            return [tr("definition is not JSON: {error}", error=e)]
    if not isinstance(definition, Mapping):
        return [tr("definition is {kind}, not a JSON object", kind=type(definition).__name__)]
    problems = list(Linter.validate(dict(definition)))
    problems += _jsonata_syntax(definition)
    return problems


def _jsonata_syntax(definition: Mapping[str, Any]) -> list[str]:
    from jsonata import Jsonata

    default = definition.get("QueryLanguage", "JSONPath")
    problems = []
    for path, state in walk_states(definition):
        if state.get("QueryLanguage", default) != "JSONata":
            continue
        for where, text in _strings(state, path):
            if text.startswith("{%") and text.endswith("%}"):
                try:
                    Jsonata(text[2:-2].strip())
                except Exception as e:  # noqa: BLE001 - jsonata-python raises its own JException
                    problems.append(tr("{where} is not a valid JSONata expression: {error}", where=where, error=e))
    return problems


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]")
