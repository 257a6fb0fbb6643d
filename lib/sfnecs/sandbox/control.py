"""The sandbox's control API: a small HTTP interface under /_sfnecs/ beside the AWS APIs.

Why HTTP: a runbook executed by papermill runs in another process (a kernel), yet must inject
faults or move the clock; any process that can reach the endpoint can, with plain HTTP/JSON.

  GET  /_sfnecs/health                 {"ok": true, "endpoint": ..., "pid": ...}
  GET  /_sfnecs/clock                  {"now": ISO, "speed": x, "paused": bool}
  POST /_sfnecs/clock                  {"speed": 600} | {"advance_seconds": 300} | {"pause": true|false}
  GET  /_sfnecs/faults                 pending faults
  POST /_sfnecs/faults                 {"kind": "runtask_failure", "count": 2, "reason": "RESOURCE:MEMORY"}
  DELETE /_sfnecs/faults               clear
  GET  /_sfnecs/iam                   {"enforce": bool, "denials": [{role, action, resource}]}: whether IAM is
                                       enforced on AWS's behalf, and what it denied so far (DELETE: forget those)
  POST /_sfnecs/iam                   {"enforce": false}: switch it (on by default; SFNECS_SANDBOX_IAM=off at start)
  GET  /_sfnecs/scheduler             schedule deliveries so far and the injection plan
  POST /_sfnecs/scheduler             {"duplicate_probability": 0.1, "duplicate_times": [ISO...], "copies": 2,
                                       "delay_seconds": 30, "seed": 7}: at-least-once effects to inject
  GET  /_sfnecs/calls                  API calls seen: {"Service.Action": n, ...}, "mutating": n, and
                                       "internal": calls AWS makes on your behalf (Step Functions'
                                       service integrations, Scheduler deliveries), kept apart
  POST /_sfnecs/reset                  forget every resource, task, fault and blob
  POST /_sfnecs/shutdown               stop the server (background sandboxes)
  GET  /_sfnecs/blobs/<digest>         an ECR layer/config blob (GetDownloadUrlForLayer's URL)
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, Protocol
from urllib.parse import parse_qs

from sfnecs.exceptions import SfnecsError, ValidationError
from sfnecs.sandbox import iam as iam_front
from sfnecs.sandbox.registry import BlobStore

PREFIX = "/_sfnecs/"
#: API verbs that change nothing (everything else counts as mutating); REST calls are logged as
#: METHOD:/path (see _identify), and a GET or HEAD reads
READ_ONLY = re.compile(r"^(Describe|Get|List|BatchGet|Simulate|Head|Lookup|Filter|Search|Validate|Test|GET:|HEAD:)")
#: access keys of the callers inside the sandbox: moto's Step Functions interpreter signs with "ak";
#: the sandbox's Scheduler with INTERNAL_ACCESS_KEY. Their calls are AWS acting for you, not your calls.
INTERNAL_ACCESS_KEY = "SFNECSSANDBOXINTERNAL"
INTERNAL_KEYS = frozenset({"ak", INTERNAL_ACCESS_KEY})


class CallLog:
    """Counts AWS API calls by service and action, so tests can prove what was (not) called."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.internal: Counter[str] = Counter()

    def record(self, service: str, action: str, internal: bool = False) -> None:
        with self._lock:
            (self.internal if internal else self.counts)[f"{service}.{action}"] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            counts, internal = dict(self.counts), dict(self.internal)
        mutating = sum(n for k, n in counts.items() if not READ_ONLY.match(k.split(".", 1)[1]))
        return {"calls": counts, "mutating": mutating, "total": sum(counts.values()), "internal": internal}

    def clear(self) -> None:
        with self._lock:
            self.counts.clear()
            self.internal.clear()


def _identify(environ: dict[str, Any], body: bytes) -> tuple[str, str, bool] | None:
    """(service, action, internal) of a signed AWS request, from its headers and body."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    m = re.search(r"Credential=([^/]+)/[^/]+/[^/]+/([^/]+)/", auth)
    service = m[2] if m else "?"
    internal = m is not None and m[1] in INTERNAL_KEYS
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return service, target.rsplit(".", 1)[-1], internal
    if body[:7] == b"Action=" or b"&Action=" in body:
        action = parse_qs(body.decode("utf-8", "replace")).get("Action", ["?"])[0]
        return service, action, internal
    if m:  # REST protocols (e.g. scheduler, logs via JSON above): method + path
        return service, f"{environ.get('REQUEST_METHOD')}:{environ.get('PATH_INFO', '')}", internal
    return None


class Controlled(Protocol):
    """What the middleware needs of the sandbox it fronts (server.Sandbox, which passes itself in)."""

    blobs: BlobStore

    def ensure_repairs(self) -> None: ...

    def control(self, method: str, route: str, payload: dict[str, Any]) -> Any: ...


class ControlMiddleware:
    """WSGI middleware: serves /_sfnecs/*, answers IAM SimulateCustomPolicy, counts calls."""

    def __init__(self, app: Callable, sandbox: Controlled):
        self.app = app
        self.sandbox = sandbox
        self.calls = CallLog()

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(PREFIX):
            return self._control(environ, start_response, path[len(PREFIX) :])
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        self.sandbox.ensure_repairs()
        ident = _identify(environ, body)
        if ident:
            self.calls.record(*ident)
            if ident[:2] == ("iam", "SimulateCustomPolicy"):
                return self._simulate(body, start_response)
        return self.app(environ, start_response)

    def _simulate(self, body: bytes, start_response: Callable) -> Iterable[bytes]:
        params = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        try:
            xml, status = iam_front.handle_request(params), "200 OK"
        except ValidationError as exc:
            code, xml = iam_front.error_response(exc)
            status = f"{code} Bad Request"
        start_response(status, [("Content-Type", "text/xml")])
        return [xml.encode()]

    def _control(self, environ: dict[str, Any], start_response: Callable, route: str) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            payload = json.loads(raw) if raw else {}
            if route.startswith("blobs/"):
                data = self.sandbox.blobs.get(route[len("blobs/") :])
                if data is None:
                    return _reply(start_response, 404, {"error": "no such blob"})
                start_response(
                    "200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(data)))]
                )
                return [data]
            result = self.sandbox.control(method, route, payload)
        except (SfnecsError, ValueError, TypeError) as exc:
            return _reply(start_response, 400, {"error": str(exc)})
        except KeyError:
            return _reply(start_response, 404, {"error": f"no control route {method} {PREFIX}{route}"})
        return _reply(start_response, 200, result)


def _reply(start_response: Callable, status: int, payload: Any) -> Iterable[bytes]:
    data = json.dumps(payload, default=str).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]
    start_response(f"{status} {reason}", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]
