"""`Sandbox`: moto's server in this process, repaired, with the Fargate emulator, clock and faults.

Why in-process threads: one process keeps start-up near a bare moto server's, shares moto's global
backends with the emulator, and lets a test or notebook drive the clock directly, while other
processes reach the same state over HTTP (AWS APIs and the /_sfnecs/ control API).

The server composes the parts: it imports the control API, the Fargate emulator, the Scheduler,
the repairs and the ECS/ECR handlers, and passes itself in (or registers in `runtime`); none of them
imports it back.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from sfnecs.exceptions import SandboxError, ValidationError
from sfnecs.sandbox import enforcement, eventbridge, notifications, repairs, runtime, state_machine_role
from sfnecs.sandbox.alarms import AlarmEvaluator
from sfnecs.sandbox.clock import VirtualClock
from sfnecs.sandbox.control import INTERNAL_ACCESS_KEY, ControlMiddleware
from sfnecs.sandbox.fargate import FargateEmulator
from sfnecs.sandbox.faults import FaultPlan
from sfnecs.sandbox.registry import BlobStore
from sfnecs.sandbox.scheduler import SchedulerClock
from sfnecs.sandbox.task_events import TaskEvents

#: repairs beside sandbox.repairs' own: EventBridge delivery and SNS confirmation (the alerts' path)
ALERT_REPAIRS = {**eventbridge.REPAIRS, **notifications.REPAIRS}

#: credentials the sandbox accepts (moto accepts any; these make it explicit and never real)
SANDBOX_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
DEFAULT_REGION = "us-east-1"
SANDBOX_ACCOUNT = "123456789012"  # moto's default account
TICK_SECONDS = 0.05


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # as the server's own bind does (http.server allow_reuse_address): connections of a stopped
        # sandbox in TIME_WAIT do not make the port busy, only a listening socket does
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _dispatcher(base: type) -> type:
    """moto's host dispatcher, remembering which backend serves a host.

    Why: moto answers `get_backend_for_host` by listing its package directory (a stat per service,
    about 170) on every request, under its global lock; the answer for a host never changes.
    """

    class CachedDispatcher(base):
        def get_backend_for_host(self, host: str | None) -> Any:
            cache = self.__dict__.setdefault("_sfnecs_backends", {})
            if host not in cache:  # called under moto's lock (get_application)
                cache[host] = super().get_backend_for_host(host)
            return cache[host]

    return CachedDispatcher


class Sandbox:
    """A local AWS on 127.0.0.1. Use as a context manager, or `start()` / `stop()`.

    `export=True` (the default) sets AWS_ENDPOINT_URL and sandbox credentials in os.environ while it
    runs, so plain boto3 code in this process talks to it unchanged.
    """

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        speed: float = 1.0,
        export: bool = True,
        enforce_iam: bool | None = None,
    ):
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise SandboxError(f"port={port!r} is not valid: use 0 (any free port) or 1-65535")
        self._enforce_iam = enforcement.default_enforced()
        if enforce_iam is not None:
            self.enforce_iam = enforce_iam
        self.host = host
        self.port = port
        self.export = export
        self.clock = VirtualClock(speed=speed)
        self.faults = FaultPlan()
        self.blobs = BlobStore()
        self.fargate: Any = None
        self.control_app: Any = None
        self.scheduler: Any = None
        self.task_events: Any = None
        self.alarms = AlarmEvaluator(self.clock)
        self._server: Any = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._saved_env: dict[str, str | None] = {}
        self._repaired = False
        self._repair_lock = threading.Lock()
        self._tick_lock = threading.Lock()

    @property
    def enforce_iam(self) -> bool:
        """Whether IAM is enforced on AWS's behalf (sfnecs.sandbox.enforcement); by default SFNECS_SANDBOX_IAM, on."""
        return self._enforce_iam

    @enforce_iam.setter
    def enforce_iam(self, on: bool) -> None:
        if not isinstance(on, bool):
            raise ValidationError("enforce_iam", on, "True or False")
        self._enforce_iam = on
        if getattr(self, "_server", None) is not None:  # running: the switch of this process
            enforcement.set_enforced(on)

    # ---- lifecycle ------------------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> Sandbox:
        if self.running:
            return self
        if (other := runtime.get()) is not None:
            raise SandboxError(
                f"a sandbox is already running in this process at {other.endpoint}: use it, or stop it first"
            )
        if self.port and not port_free(self.host, self.port):
            raise SandboxError(
                f"port {self.port} on {self.host} is in use: choose another with --port, or 0 for any free port"
            )
        from moto.core.config import default_user_config
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
        # request lines and moto's interpreter tracebacks are noise here: failures reach the caller
        # through the APIs (execution history, task status), as on AWS
        for noisy in ("werkzeug", "moto"):
            logging.getLogger(noisy).setLevel(logging.CRITICAL)
        self.fargate = FargateEmulator(self.clock, self.faults, self.blobs)
        self.task_events = TaskEvents(self.clock, self.fargate)
        self.scheduler = SchedulerClock(
            self.clock, lambda service, region, account: self.client(service, region, internal=True)
        )
        app = _dispatcher(DomainDispatcherApplication)(create_backend_app)
        self.control_app = ControlMiddleware(app, self)
        try:
            self._server = make_server(self.host, self.port, self.control_app, threaded=True)
        except OSError as exc:
            raise SandboxError(f"cannot listen on {self.host}:{self.port}: {exc.strerror or exc}") from None
        self.port = self._server.server_address[1]
        runtime.set_current(self)
        enforcement.set_enforced(self._enforce_iam)
        # The Step Functions interpreter calls other services over HTTP at localhost:MOTO_PORT.
        self._set_env({"MOTO_PORT": str(self.port)})
        if self.export:
            self._set_env(
                {
                    "AWS_ENDPOINT_URL": self.endpoint,
                    "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", DEFAULT_REGION),
                    **SANDBOX_CREDENTIALS,
                }
            )
        self._stop.clear()
        self._spawn(self._server.serve_forever, "sfnecs-sandbox-http")
        self._spawn(self._tick_loop, "sfnecs-sandbox-clock")
        return self

    def ensure_repairs(self) -> None:
        """Install the moto repairs and emulator handlers before the first AWS request.

        Lazily, as moto loads its service backends lazily: importing moto's ECS/EC2 and the Step
        Functions interpreter costs about a second, which a bare moto server also pays only then.
        """
        if self._repaired:
            return
        with self._repair_lock:
            if not self._repaired:
                from sfnecs.sandbox import ecs_api, teststate  # lazy: moto's ECS, ECR, SFN: ~1 s, at the first request

                repairs.apply_all()
                for repair in ALERT_REPAIRS.values():
                    repair.apply()
                ecs_api.install()
                teststate.install()
                state_machine_role.install()
                self._repaired = True

    def _spawn(self, target: Any, name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def _tick_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - a bad tick must not kill the sandbox; next tick retries
                pass
            self.clock.wait_changed(TICK_SECONDS)

    def tick(self) -> None:
        """Advance everything that depends on the clock (task logs, stop hooks, task events, schedules,
        metrics and alarms)."""
        if not self._repaired:
            return  # no AWS request yet: nothing can depend on the clock
        with self._tick_lock:  # the background tick and a caller's tick() never interleave
            self.fargate.refresh()
            self.task_events.tick()
            if self.scheduler is not None:
                self.scheduler.tick()
            self.alarms.tick()

    def stop(self) -> None:
        if not self.running:
            return
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        for t in self._threads:
            t.join(timeout=5)
        self._threads.clear()
        self._server = None
        if self._repaired:
            from sfnecs.sandbox import ecs_api, teststate  # lazy: ~1 s of moto, loaded by ensure_repairs (done here)

            teststate.uninstall()
            ecs_api.uninstall()
            state_machine_role.uninstall()
            for repair in reversed(ALERT_REPAIRS.values()):
                repair.revert()
            repairs.revert_all()
            self._repaired = False
        self._restore_env()
        enforcement.set_enforced(None)
        runtime.set_current(None)

    def reset(self) -> None:
        """Forget every resource, task, fault, blob and call count (moto's reset plus ours)."""
        from moto.moto_api import _internal

        _internal.moto_api_backend.reset()
        self.fargate.reset()
        self.task_events.reset()
        self.alarms.reset()
        self.faults.clear()
        self.blobs.clear()
        self.control_app.calls.clear()
        enforcement.DENIALS.clear()
        if self.scheduler is not None:
            self.scheduler.reset()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _set_env(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def _restore_env(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()

    # ---- clients and control ---------------------------------------------------------------------
    def client(self, service: str, region: str = DEFAULT_REGION, *, internal: bool = False) -> Any:
        """A boto3 client for this sandbox (works whether or not the environment was exported).

        `internal=True` is for AWS acting on the user's behalf (the Scheduler): the call log keeps
        those calls apart from the user's own.
        """
        import boto3
        from botocore.config import Config

        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.endpoint,
            aws_access_key_id=INTERNAL_ACCESS_KEY if internal else "testing",
            aws_secret_access_key="testing",
            aws_session_token="testing",
            # botocore sends TestState and StartSyncExecution to a `sync-` host prefix, which a local
            # endpoint cannot resolve
            config=Config(inject_host_prefix=False),
        )

    def control(self, method: str, route: str, payload: dict[str, Any]) -> Any:
        """Serve one control-API call (see sfnecs.sandbox.control)."""
        if (method, route) == ("GET", "health"):
            return {"ok": True, "endpoint": self.endpoint, "pid": os.getpid(), "clock": self.clock.state().to_dict()}
        if route == "clock":
            if method == "POST":
                if "speed" in payload:
                    self.clock.set_speed(payload["speed"])
                if payload.get("pause") is True:
                    self.clock.pause()
                if payload.get("pause") is False:
                    self.clock.resume()
                if "advance_seconds" in payload:
                    self.clock.advance(float(payload["advance_seconds"]))
                    self.tick()
            return self.clock.state().to_dict()
        if route == "faults":
            if method == "POST":
                return self.faults.add(**payload).to_dict()
            if method == "DELETE":
                self.faults.clear()
            return {"pending": self.faults.pending(), "history": self.faults.history}
        if route == "iam":
            if method == "POST":
                on = payload.get("enforce")
                if not isinstance(on, bool):
                    raise ValidationError("enforce", on, "true or false")
                self.enforce_iam = on
            if method == "DELETE":
                enforcement.DENIALS.clear()
            return {"enforce": self.enforce_iam, "denials": list(enforcement.DENIALS)}
        if route == "scheduler":
            if method == "POST":
                self.scheduler.configure(**payload)
            return self.scheduler.summary()
        if (method, route) == ("GET", "calls"):
            return self.control_app.calls.snapshot()
        if (method, route) == ("DELETE", "calls"):
            self.control_app.calls.clear()
            return {"ok": True}
        if (method, route) == ("POST", "reset"):
            self.reset()
            return {"ok": True}
        if (method, route) == ("POST", "shutdown"):
            threading.Thread(target=self.stop, daemon=True).start()
            return {"ok": True}
        raise KeyError(route)
