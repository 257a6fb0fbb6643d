"""Running the sandbox in the background: start, find, status, stop, reset — across processes.

Why a state file: `sfnecs sandbox start` returns at once while the sandbox keeps running, and later
commands, runbook kernels and notebooks must find it. The file (`$SFNECS_HOME/sandbox.json`,
default `~/.sfnecs`) holds the pid and endpoint; a stale file (dead pid) is ignored and removed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from sfnecs.exceptions import SandboxError
from sfnecs.sandbox.server import port_free

START_TIMEOUT_S = 60.0


def home() -> Path:
    return Path(os.environ.get("SFNECS_HOME") or Path.home() / ".sfnecs")


def state_file() -> Path:
    return home() / "sandbox.json"


def control_request(
    endpoint: str, method: str, route: str, payload: dict[str, Any] | None = None, timeout: float = 10.0
) -> Any:
    """One call to a sandbox's /_sfnecs/ control API; raises SandboxError with its message."""
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(
        f"{endpoint}/_sfnecs/{route}", data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("error", str(exc))
        except ValueError:
            message = str(exc)
        raise SandboxError(message) from None
    except (urllib.error.URLError, OSError) as exc:
        raise SandboxError(f"no sandbox answers at {endpoint}: {getattr(exc, 'reason', exc)}") from None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_state() -> dict[str, Any] | None:
    """The running background sandbox's record, or None (stale records are removed)."""
    path = state_file()
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not _alive(int(state.get("pid", -1))):
        path.unlink(missing_ok=True)
        return None
    return state


def find_endpoint() -> str | None:
    """The endpoint of a reachable sandbox: the background one, else AWS_ENDPOINT_URL if it is one."""
    state = read_state()
    candidates = [state["endpoint"]] if state else []
    if os.environ.get("AWS_ENDPOINT_URL"):
        candidates.append(os.environ["AWS_ENDPOINT_URL"].rstrip("/"))
    for endpoint in candidates:
        try:
            control_request(endpoint, "GET", "health", timeout=2.0)
            return endpoint
        except SandboxError:
            continue
    return None


def start(port: int = 0, speed: float = 1.0) -> dict[str, Any]:
    """Start a background sandbox and wait until it answers; returns its record."""
    existing = read_state()
    if existing:
        raise SandboxError(
            f"a sandbox is already running at {existing['endpoint']} (pid {existing['pid']}): "
            "use it, or `sfnecs sandbox stop` first"
        )
    if port and not port_free("127.0.0.1", port):
        raise SandboxError(f"port {port} on 127.0.0.1 is in use: choose another with --port, or omit it")
    home().mkdir(parents=True, exist_ok=True)
    log_path = home() / "sandbox.log"
    ready_path = home() / f"ready-{os.getpid()}-{time.monotonic_ns()}.json"
    cmd = [
        sys.executable,
        "-m",
        "sfnecs.sandbox.serve",
        "--port",
        str(port),
        "--speed",
        str(speed),
        "--ready-file",
        str(ready_path),
    ]
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["(no output)"]
            raise SandboxError(f"the sandbox exited at start (code {proc.returncode}): {tail[0]}")
        if ready_path.exists():
            record = json.loads(ready_path.read_text())
            ready_path.unlink(missing_ok=True)
            record.update(pid=proc.pid, log=str(log_path))
            state_file().write_text(json.dumps(record))
            return record
        time.sleep(0.05)
    proc.kill()
    raise SandboxError(f"the sandbox did not become ready within {START_TIMEOUT_S:.0f} s: see {log_path}")


def stop() -> dict[str, Any]:
    """Stop the background sandbox; raises SandboxError when none is running."""
    state = read_state()
    if not state:
        raise SandboxError("no sandbox is running (nothing to stop)")
    pid = int(state["pid"])
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        try:  # reap it when it is our child (tests), so it does not linger as a zombie
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    state_file().unlink(missing_ok=True)
    return state


def status() -> dict[str, Any]:
    state = read_state()
    if not state:
        raise SandboxError("no sandbox is running: start one with `sfnecs sandbox start`")
    return {**state, **control_request(state["endpoint"], "GET", "health")}


def reset() -> dict[str, Any]:
    state = read_state()
    if not state:
        raise SandboxError("no sandbox is running (nothing to reset)")
    return control_request(state["endpoint"], "POST", "reset")
