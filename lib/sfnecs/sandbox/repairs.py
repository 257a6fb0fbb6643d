"""Repairs to moto, each isolated, named and reversible, so an upstream fix is noticed.

Why one module: the sandbox must behave as AWS documents (docs/facts.md), and moto's vendored
Step Functions interpreter and ECS model have gaps. Each repair is a `Repair` in `REPAIRS`; tests
(tests/test_sandbox_repairs.py) show each defect with the repair removed and gone with it applied.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import time as _time
import uuid
from collections.abc import Callable
from typing import Any

import botocore.session
from botocore import xform_name

from sfnecs.sandbox import runtime
from sfnecs.sandbox.patching import ORIGINALS as _ORIGINALS
from sfnecs.sandbox.patching import Repair
from sfnecs.sandbox.patching import combine as _combine
from sfnecs.sandbox.patching import patch as _patch
from sfnecs.sandbox.patching import replacing as _replacing
from sfnecs.sandbox.patching import unpatch as _unpatch

#: how often `.sync` polls DescribeTasks in the sandbox (moto's default is 0.5 s)
SYNC_POLL_SECONDS = 0.1


_SYNC_TASKS: dict[int, tuple[Any, str, str]] = {}  # id(frame env) -> (ecs client, cluster, task) of a .sync wait


# ---- 1. request/response normalisation of service integrations -----------------------------
@functools.cache
def _operation_model(service: str, snake_action: str) -> Any:
    model = botocore.session.get_session().get_service_model(service)
    names = {xform_name(n): n for n in model.operation_names}
    name = names.get(snake_action)
    return model.operation_model(name) if name else None


def _normalise_parameters(
    self: Any, parameters: dict, boto_service_name: str | None = None, service_action_name: str | None = None
) -> None:
    """Step Functions takes PascalCase parameters; boto wants the API's own casing."""
    op = _operation_model(
        self._get_boto_service_name(boto_service_name), self._get_boto_service_action(service_action_name)
    )
    if op is not None and op.input_shape is not None:
        self._to_boto_request(parameters, op.input_shape)


def _normalise_response(
    self: Any, response: Any, boto_service_name: str | None = None, service_action_name: str | None = None
) -> None:
    """Step Functions returns service results with PascalCase keys (e.g. `.sync` output `TaskArn`)."""
    op = _operation_model(
        self._get_boto_service_name(boto_service_name), self._get_boto_service_action(service_action_name)
    )
    if op is not None and op.output_shape is not None:
        self._from_boto_response(response, op.output_shape)
    _timestamps_to_millis(response)


def _timestamps_to_millis(value: Any) -> None:
    # boto parses timestamps to datetime, which is not JSON. Step Functions' JSON carries ECS
    # timestamps as numbers; AWS does not document the unit for .sync output: we use epoch ms.
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in list(items):
        if isinstance(item, _dt.datetime):
            value[key] = int(item.timestamp() * 1000)
        else:
            _timestamps_to_millis(item)


def _service_base() -> Any:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service

    return state_task_service.StateTaskService


# ---- 2. ECS .sync semantics: failures, exit codes, errors, stop on timeout -----------------
def _ecs_module() -> Any:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_ecs

    return state_task_service_ecs


def _task_failed(env: Any, error: str, cause: str, resource: Any) -> Any:
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    name = (
        StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed)
        if error == "States.TaskFailed"
        else CustomErrorName(error)
    )
    return FailureEventException(
        FailureEvent(
            env=env,
            error_name=name,
            event_type=HistoryEventType.TaskFailed,
            # moto declares EventDetails total (every key required); an event carries one of them
            event_details=EventDetails(
                taskFailedEventDetails=TaskFailedEventDetails(  # type: ignore[typeddict-item]
                    error=error,
                    cause=cause,
                    resource=resource._get_sfn_resource(),
                    resourceType=resource._get_sfn_resource_type(),
                )
            ),
        )
    )


def task_failed(task: dict[str, Any]) -> bool:
    """Whether `.sync` fails the state for this stopped task (PascalCase DescribeTasks shape).

    AWS documents that a non-zero exit fails the state, not the exact rule; observed behaviour, community
    (fact: sync-task-failed-cause): any essential container with a non-zero or missing exit code, or a
    task that failed to start, fails it with States.TaskFailed.
    """
    if task.get("StopCode") == "TaskFailedToStart":
        return True
    return any(c.get("ExitCode") != 0 for c in task.get("Containers") or [])


def _ecs_eval_service_task(
    self: Any, env: Any, resource_runtime_part: Any, normalised_parameters: dict, state_credentials: Any
) -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
    from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

    ecs = boto_client_for(region=resource_runtime_part.region, service="ecs", state_credentials=state_credentials)
    action = self._get_boto_service_action()
    response = getattr(ecs, action)(**normalised_parameters)
    response.pop("ResponseMetadata", None)
    if action != "run_task":
        self._normalise_response(response=response)
        env.stack.append(response)
        return
    self._normalise_response(response=response, service_action_name="run_task")
    if self.resource.condition in (ResourceCondition.Sync, ResourceCondition.WaitForTaskToken) and (
        response.get("Failures") or not response.get("Tasks")
    ):
        # Step Functions developer guide, "Run Amazon ECS or Fargate tasks": a non-empty Failures
        # field under .sync / .waitForTaskToken fails the task with AmazonECS.Unknown. The cause
        # text is not documented; we pass the RunTask response.
        raise _task_failed(env, "AmazonECS.Unknown", json.dumps(response), self)
    if not response.get("Tasks"):
        env.stack.append(response)
        return
    task = response["Tasks"][0]
    described = ecs.describe_tasks(cluster=task["ClusterArn"], tasks=[task["TaskArn"]])
    described.pop("ResponseMetadata", None)
    self._normalise_response(response=described, service_action_name="describe_tasks")
    env.stack.append(described)


def _ecs_build_sync_resolver(
    self: Any, env: Any, resource_runtime_part: Any, normalised_parameters: dict, state_credentials: Any
) -> Callable[[], Any]:
    from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

    ecs = boto_client_for(service="ecs", region=resource_runtime_part.region, state_credentials=state_credentials)
    submitted = env.stack.pop()
    task_arn = submitted["Tasks"][0]["TaskArn"]
    cluster_arn = submitted["Tasks"][0]["ClusterArn"]
    # Kept beside, not on, the environment: moto deep-copies state machines with their executions.
    _SYNC_TASKS[id(env)] = (ecs, cluster_arn, task_arn)

    def resolve() -> dict | None:
        described = ecs.describe_tasks(cluster=cluster_arn, tasks=[task_arn])
        if described["tasks"][0]["lastStatus"] != "STOPPED":
            return None
        self._normalise_response(response=described, service_action_name="describe_tasks")
        task = described["Tasks"][0]
        if task_failed(task):
            raise _task_failed(env, "States.TaskFailed", json.dumps(task), self)
        return task

    return resolve


class _Abandoned(Exception):
    """Ends a .sync wait whose state already timed out or whose execution stopped."""


def _ecs_eval_sync(self: Any, env: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        result = _callback_cls()._eval_sync(self, env, *args, **kwargs)
    finally:
        started = _SYNC_TASKS.pop(id(env), None)
        if not env.is_running() and started:
            # The state timed out or the execution stopped: Step Functions stops the job it
            # started ("Run a Job (.sync)": it tries to stop the task). The reason text is ours.
            ecs, cluster_arn, task_arn = started
            try:
                ecs.stop_task(cluster=cluster_arn, task=task_arn, reason="Task stopped by AWS Step Functions")
            except Exception:  # noqa: BLE001 - best effort, as in AWS
                pass
    if not env.is_running():
        # moto would go on to record a TaskSucceeded with output null after the TaskTimedOut
        raise _Abandoned("the state timed out or its execution stopped while waiting for the task")
    return result


def _ecs_from_error(self: Any, env: Any, ex: Exception) -> Any:
    from botocore.exceptions import ClientError

    if isinstance(ex, ClientError):
        err, meta = ex.response.get("Error", {}), ex.response.get("ResponseMetadata", {})
        # Error name as observed for ECS API errors under the optimized integration, community
        # (fact: ecs-exception-retry): ECS.AmazonECSException, the service message and code in the cause.
        cause = (
            f"{err.get('Message', '')} (Service: AmazonECS; Status Code: {meta.get('HTTPStatusCode')}; "
            f"Error Code: {err.get('Code')}; Request ID: {meta.get('RequestId')}; Proxy: null)"
        )
        # An IAM denial keeps its own name, ECS.AccessDeniedException: community-observed for a missing
        # iam:PassRole under runTask.sync, while other reports show ECS.AmazonECSException with the denial
        # in the cause; AWS documents neither (fact: sfn-permission-failure-error).
        code = err.get("Code")
        name = "ECS.AccessDeniedException" if code == "AccessDeniedException" else "ECS.AmazonECSException"
        return _task_failed(env, name, cause, self).failure_event
    return _callback_cls()._from_error(self, env, ex)


def _callback_cls() -> Any:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_callback

    return state_task_service_callback.StateTaskServiceCallback


def _apply_ecs_sync() -> None:
    cls = _ecs_module().StateTaskServiceEcs
    _patch(cls, "_eval_service_task", _ecs_eval_service_task)
    _patch(cls, "_build_sync_resolver", _ecs_build_sync_resolver)
    _patch(cls, "_eval_sync", _ecs_eval_sync)
    _patch(cls, "_from_error", _ecs_from_error)
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_callback

    _patch(state_task_service_callback, "_DELAY_SECONDS_SYNC_CONDITION_CHECK", SYNC_POLL_SECONDS)


def _revert_ecs_sync() -> None:
    cls = _ecs_module().StateTaskServiceEcs
    for attr in ("_eval_service_task", "_build_sync_resolver", "_eval_sync", "_from_error"):
        _unpatch(cls, attr)
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_callback

    _unpatch(state_task_service_callback, "_DELAY_SECONDS_SYNC_CONDITION_CHECK")


# ---- 2a. RunTask parameters Step Functions passes on -------------------------------------
#: RunTask parameters moto's ECS integration drops before the call, which Step Functions passes:
#: aws-cdk's EcsRunTask puts CapacityProviderStrategy in the state's Parameters ("required to use the
#: FARGATE_SPOT capacity provider", CDK API reference, EcsFargateLaunchTargetOptions).
ECS_EXTRA_PARAMETERS = frozenset({"CapacityProviderStrategy"})


def _ecs_supported_parameters(self: Any) -> set[str] | None:
    found = _ORIGINALS[(_ecs_module().StateTaskServiceEcs, "_get_supported_parameters")](self)
    return None if found is None else found | ECS_EXTRA_PARAMETERS


# ---- 2b. a retried .sync attempt waits afresh ---------------------------------------------
def _eval_sync_afresh(
    self: Any, env: Any, sync_resolver: Any, timeout_seconds: Any, callback_endpoint: Any, heartbeat_endpoint: Any
) -> Any:
    # moto makes one task token (and callback endpoint) per state entry, not per attempt, and
    # interrupts the endpoint when an attempt ends: a Retry of a .sync Task whose job failed then
    # found the endpoint interrupted and recorded TaskTimedOut at once instead of waiting for the
    # new task. Each attempt of a Retry runs the task again (Step Functions developer guide,
    # "Handling errors in Step Functions workflows"), so each waits for its own task.
    if callback_endpoint is not None and callback_endpoint.get_outcome() is None:
        callback_endpoint._notify_event.clear()
    return _ORIGINALS[(_callback_cls(), "_eval_sync")](
        self, env, sync_resolver, timeout_seconds, callback_endpoint, heartbeat_endpoint
    )


# ---- 2c. GetExecutionHistory paging and order --------------------------------------------
def _sfn_response_cls() -> Any:
    from moto.stepfunctions.responses import StepFunctionResponse

    return StepFunctionResponse


def _get_execution_history(self: Any) -> Any:
    # API reference: reverseOrder lists events newest first; maxResults (default 100, at most
    # 1000) pages with nextToken. moto ignores all three.
    from moto.core.responses import ActionResult

    history = dict(self.stepfunction_backend.get_execution_history(self._get_param("executionArn")))
    events = list(history.get("events", []))
    if self._get_param("reverseOrder"):
        events.reverse()
    size = int(self._get_param("maxResults") or 100) or 100
    start = int(self._get_param("nextToken") or 0)
    history["events"] = events[start : start + min(size, 1000)]
    history.pop("nextToken", None)
    if start + size < len(events):
        history["nextToken"] = str(start + size)
    return ActionResult(history)


# ---- 2c'. Step Functions timers on the sandbox clock --------------------------------------
# Retry intervals and Wait states are durations of the same world as the emulated tasks and the
# schedule: on a clock running 50 times faster, a 60 s Retry interval must take 1.2 real s, as the
# 5-minute job it retries takes 6. (TimeoutSeconds stays real: moto's interpreter measures it.)
def _sandbox_sleep(seconds: float, keep_going: Callable[[], bool] | None = None) -> None:
    sandbox = runtime.get()
    if sandbox is None:  # moto used without a sandbox in this process: real time, as moto does
        _time.sleep(seconds)
    else:
        sandbox.clock.sleep(seconds, keep_going)


class _ClockTime:
    """Stands in for the `time` module in moto's retrier: its sleep runs on the sandbox clock."""

    @staticmethod
    def sleep(seconds: float) -> None:
        _sandbox_sleep(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(_time, name)


def _retrier_module() -> Any:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    return retrier_decl


def _wait_function_cls() -> Any:
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    return WaitFunction


def _wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
    # as moto's, on the sandbox clock: ends early when the execution stops running
    if wait_seconds > 0:
        _sandbox_sleep(wait_seconds, env.is_running)


# ---- 2d. JSONata evaluation ---------------------------------------------------------------
def _jsonata_module() -> Any:
    from moto.stepfunctions.parser.asl.jsonata import jsonata

    return jsonata


def _eval_jsonata(expression: str) -> Any:
    """Evaluate a JSONata expression with jsonata-python (moto's bridge needs a Java VM it lacks).

    Step Functions adds functions to JSONata (developer guide, "Transforming data with JSONata"):
    $partition, $range, $hash, $random, $uuid, $parse; the ones a scheduled job needs are here.
    """
    import hashlib
    import random as _random

    import jsonata

    module = _jsonata_module()
    try:
        expr = jsonata.Jsonata(expression)
        expr.register_lambda("parse", lambda text: json.loads(text))
        expr.register_lambda("uuid", lambda: str(uuid.uuid4()))
        expr.register_lambda("random", lambda: _random.random())
        expr.register_lambda(
            "hash",
            lambda text, algorithm="SHA-256": hashlib.new(
                algorithm.replace("-", "").lower(), str(text).encode()
            ).hexdigest(),
        )
        expr.register_lambda(
            "partition", lambda items, size: [list(items[i : i + int(size)]) for i in range(0, len(items), int(size))]
        )
        expr.register_lambda("range", lambda start, end, step=1: list(range(int(start), int(end), int(step))))
        return json.loads(json.dumps(expr.evaluate(None), default=str))
    except Exception as exc:  # noqa: BLE001 - reported to the interpreter as AWS reports query errors
        raise module.JSONataException("States.QueryEvaluationError", str(exc)) from None


# ---- 2e. JSONPath: a definite path selects one node ---------------------------------------
_JSON_PATH_MODULE = "moto.stepfunctions.parser.asl.utils.json_path"
#: the modules that call extract_json, each holding its own reference (`from ... import extract_json`)
_JSON_PATH_USERS = (
    "moto.stepfunctions.parser.asl.component.common.string.string_expression",
    "moto.stepfunctions.parser.asl.component.intrinsic.argument.argument",
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.boolean_equals",
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.numeric",
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.string_operators",
    "moto.stepfunctions.parser.asl.component.state.choice.comparison.operator.implementations.timestamp_operators",
    "moto.stepfunctions.parser.asl.eval.states",
)


@functools.lru_cache(maxsize=512)
def _parse_json_path(path: str) -> Any:
    from jsonpath_ng.ext import parse

    return parse(path)


def _definite(node: Any) -> bool:
    """Whether a parsed JsonPath names one node: fields by name and single indexes only.

    Wildcards, slices, filters, unions and `..` make a path indefinite: its result is a list.
    """
    from jsonpath_ng import jsonpath as jp

    if isinstance(node, (jp.Root, jp.This)):
        return True
    if isinstance(node, jp.Child):
        return _definite(node.left) and _definite(node.right)
    if type(node) is jp.Fields:
        return len(node.fields) == 1 and node.fields[0] != "*"
    if type(node) is jp.Index:
        return len(node.indices) == 1
    return False


def _extract_json(path: str, data: Any) -> Any:
    # Step Functions developer guide, "Using JSONPath paths": a reference path "can identify only a
    # single node" ($.car.cdr => true) while a filter gives a list ($.jar[?(@.a >= 5)] => [...]).
    # moto wraps any match below an index in a list ("$.Containers[0].ExitCode" -> [0]), so that a
    # filter or wildcard matching once still gives a list; a definite path gives the node itself.
    original = _ORIGINALS[(_json_path_module(), "extract_json")]
    try:
        parsed = _parse_json_path(path)
    except Exception:  # noqa: BLE001 - moto reports the bad path its own way
        return original(path, data)
    if _definite(parsed):
        matches = parsed.find(data)
        if len(matches) == 1:
            return matches[0].value
    return original(path, data)


def _json_path_module() -> Any:
    import importlib

    return importlib.import_module(_JSON_PATH_MODULE)


def _apply_json_path() -> None:
    import importlib

    module = _json_path_module()
    original = module.__dict__["extract_json"]
    if original is _extract_json:
        return
    users = [importlib.import_module(name) for name in _JSON_PATH_USERS]  # before the patch: they copy it
    _patch(module, "extract_json", _extract_json)
    for user in users:
        if user.__dict__.get("extract_json") is original:
            _patch(user, "extract_json", _extract_json)


def _revert_json_path() -> None:
    import importlib

    for name in _JSON_PATH_USERS:
        _unpatch(importlib.import_module(name), "extract_json")
    _unpatch(_json_path_module(), "extract_json")


# ---- 2f. a stopped execution stays ABORTED ------------------------------------------------
def _environment_cls() -> Any:
    from moto.stepfunctions.parser.asl.eval.environment import Environment

    return Environment


def _set_error(self: Any, error: Any) -> None:
    # StopExecution ends the execution ABORTED (API reference, StopExecution); the state that was
    # waiting then fails as it unwinds (a .sync wait ends with _Abandoned), and moto's set_error
    # replaced the ABORTED (or TIMED_OUT) end with FAILED.
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped, ProgramTimedOut

    if not isinstance(self.program_state(), (ProgramStopped, ProgramTimedOut)):
        _ORIGINALS[(_environment_cls(), "set_error")](self, error)


# ---- 3. StartExecution without a name ------------------------------------------------------
def _parser_backend() -> Any:
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    return StepFunctionsParserBackend


def _start_execution(
    self: Any, state_machine_arn: str, name: str | None = None, execution_input: Any = None, trace_header: Any = None
) -> Any:
    # StartExecution API reference: "If you don't provide a name for the execution, Step Functions
    # automatically generates a universally unique identifier (UUID) as the execution name."
    return _ORIGINALS[(_parser_backend(), "start_execution")](
        self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header
    )


# ---- 4. a second execution of the same state machine --------------------------------------
def _state_machine_cls() -> Any:
    from moto.stepfunctions.models import StateMachine

    return StateMachine


def _state_machine_deepcopy(self: Any, memo: dict[int, Any]) -> Any:
    # StartExecution deep-copies the state machine, executions included; a finished execution
    # that used a callback/.sync integration holds locks, so every later start failed with
    # "cannot pickle '_thread.RLock' object". The clone needs no executions.
    import copy

    clone = object.__new__(type(self))
    memo[id(self)] = clone
    for key, value in vars(self).items():
        setattr(clone, key, [] if key == "executions" else copy.deepcopy(value, memo))
    return clone


# ---- 5. task-level cpu/memory without container-level memory ------------------------------
def _ecs_backend_cls() -> Any:
    from moto.ecs.models import EC2ContainerServiceBackend

    return EC2ContainerServiceBackend


def _resource_requirements(task_definition: Any) -> dict[str, Any]:
    # ECS developer guide: with task-level memory (required on Fargate), container-level memory
    # is optional; moto adds None and raises. Count the task-level figures instead.
    original = _ORIGINALS[(_ecs_backend_cls(), "_calculate_task_resource_requirements")].__func__
    patched = []
    for c in task_definition.container_definitions:
        d = dict(c)
        if not any(k in d for k in ("memory", "Memory", "memoryReservation", "MemoryReservation")):
            d["memory"] = 0
        patched.append(d)
    shadow = type("TaskDefinitionView", (), {"container_definitions": patched})()
    req = original(shadow)
    req["MEMORY"] = max(req["MEMORY"], int(task_definition.memory or 0))
    req["CPU"] = max(req["CPU"], int(task_definition.cpu or 0))
    return req


def _vpc_backend_cls() -> Any:
    from moto.ec2.models.vpcs import VPCBackend

    return VPCBackend


def _create_default_vpc(self: Any) -> Any:
    """The default VPC, completed as AWS creates it (VPC user guide, "Default VPCs": an internet gateway
    attached, and the main route table sends 0.0.0.0/0 to it), so its public subnets have a pull path."""
    vpc = _ORIGINALS[(_vpc_backend_cls(), "create_default_vpc")](self)
    gateway = self.create_internet_gateway()
    self.attach_internet_gateway(gateway.id, vpc.id)
    main = next(t for t in self.route_tables.values() if t.vpc_id == vpc.id and t.main_association_id)
    self.create_route(main.id, "0.0.0.0/0", gateway_id=gateway.id)
    return vpc


REPAIRS: dict[str, Repair] = {
    r.name: r
    for r in (
        Repair(
            "normalise",
            "ASL _normalise_parameters/_normalise_response are stubs: PascalCase keys reach "
            "boto and results keep the API's casing",
            *_replacing(
                _service_base, _normalise_parameters=_normalise_parameters, _normalise_response=_normalise_response
            ),
        ),
        Repair(
            "ecs_sync",
            "ecs:runTask.sync ignores RunTask failures and exit codes, maps no ECS errors and "
            "leaves the task running on timeout",
            _apply_ecs_sync,
            _revert_ecs_sync,
        ),
        Repair(
            "ecs_parameters",
            "ecs:runTask drops CapacityProviderStrategy from the state's parameters, so the "
            "task runs without the strategy",
            *_replacing(lambda: _ecs_module().StateTaskServiceEcs, _get_supported_parameters=_ecs_supported_parameters),
        ),
        Repair(
            "sync_retry",
            "a Retry of a .sync Task state after its job failed records TaskTimedOut at once "
            "(every attempt shares one callback endpoint, interrupted by the first)",
            *_replacing(_callback_cls, _eval_sync=_eval_sync_afresh),
        ),
        Repair(
            "jsonata",
            "JSONata expressions cannot be evaluated (moto's evaluator is a stub needing Java)",
            *_replacing(_jsonata_module, _eval_jsonata=_eval_jsonata),
        ),
        Repair(
            "json_path",
            'a definite JSONPath below an array index ("$.Containers[0].ExitCode") gives a '
            "one-element list instead of the node",
            _apply_json_path,
            _revert_json_path,
        ),
        Repair(
            "sfn_timers",
            "Step Functions Retry intervals and Wait states run on the real clock, not the "
            "sandbox's virtual one the tasks and schedules use",
            *_combine(
                _replacing(_retrier_module, time=_ClockTime()),
                _replacing(_wait_function_cls, _wait_interval=_wait_interval),
            ),
        ),
        Repair(
            "history",
            "GetExecutionHistory ignores reverseOrder, maxResults and nextToken",
            *_replacing(_sfn_response_cls, get_execution_history=_get_execution_history),
        ),
        Repair(
            "stopped_stays_aborted",
            "StopExecution during a .sync wait ends the execution FAILED (States.Runtime) instead of ABORTED",
            *_replacing(_environment_cls, set_error=_set_error),
        ),
        Repair(
            "execution_name",
            "StartExecution without a name yields an ARN ending in ':None'",
            *_replacing(_parser_backend, start_execution=_start_execution),
        ),
        Repair(
            "second_execution",
            "a second StartExecution of a state machine whose earlier execution used a "
            ".sync/callback integration fails (deep copy of locks)",
            *_replacing(_state_machine_cls, __deepcopy__=_state_machine_deepcopy),
        ),
        Repair(
            "task_memory",
            "task-level cpu/memory without container-level memory raises TypeError",
            *_replacing(_ecs_backend_cls, _calculate_task_resource_requirements=staticmethod(_resource_requirements)),
        ),
        Repair(
            "default_vpc_gateway",
            "the default VPC has no internet gateway and its main route table no "
            "0.0.0.0/0 route, so no task there could reach ECR",
            *_replacing(_vpc_backend_cls, create_default_vpc=_create_default_vpc),
        ),
    )
}


def apply_all() -> None:
    for repair in REPAIRS.values():
        repair.apply()


def revert_all() -> None:
    for repair in REPAIRS.values():
        repair.revert()
