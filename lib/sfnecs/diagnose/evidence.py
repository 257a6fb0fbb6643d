"""Gathering the evidence of one run: the task, its containers, logs, failures and errors, as `Facts`.

Why one place: every matcher asks the same questions (which container is the job? what does any
text say? which CPU did the task run on?), and the answers must not depend on the envelope the
input came in; the `(where, what)` evidence rows shown in a Diagnosis are written here too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sfnecs.diagnose.envelopes import _as_list, _failure_text, _looks_like_task, _parse_json, camel_keys
from sfnecs.exceptions import ValidationError
from sfnecs.i18n import N_, tr
from sfnecs.images import ImagePlatforms
from sfnecs.model.fargate import CPU_ARCHITECTURES
from sfnecs.model.platforms import ECS_PLATFORMS

#: the stoppedReason of every task whose essential container ended, successful jobs included
ESSENTIAL_EXITED = "Essential container in task exited"


@dataclass
class Facts:
    """Everything known about one run, normalised to camelCase (DescribeTasks' shape)."""

    task: dict[str, Any] = field(default_factory=dict)
    containers: list[dict[str, Any]] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    image: ImagePlatforms | None = None
    failures: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""
    cause: str = ""
    free_text: str = ""
    problems: list[str] = field(default_factory=list)
    cpu_architecture: str = "X86_64"
    cpu_source: str = ""
    main_container: str | None = None

    def text(self, key: str) -> str:
        value = self.task.get(key)
        return value if isinstance(value, str) else ""

    @property
    def stop_code(self) -> str:
        return self.text("stopCode")

    @property
    def stopped_reason(self) -> str:
        return self.text("stoppedReason")

    def texts(self) -> list[tuple[str, str]]:
        """Every free-text sign, with where it came from."""
        out = [("task.stoppedReason", self.stopped_reason)] if self.stopped_reason else []
        out += [
            (f"containers[{_name(c)}].reason", c["reason"])
            for c in self.containers
            if isinstance(c.get("reason"), str) and c["reason"]
        ]
        out += [(f"runTask.failures[{i}]", _failure_text(f)) for i, f in enumerate(self.failures)]
        out += [(f"logs[{i}]", line) for i, line in enumerate(self.logs)]
        out += [
            (name, value)
            for name, value in (
                ("stepFunctions.error", self.error),
                ("stepFunctions.cause", self.cause),
                ("input", self.free_text),
            )
            if value
        ]
        return out

    def find(self, pattern: str, flags: int = re.IGNORECASE) -> list[tuple[str, str, re.Match[str]]]:
        rx = re.compile(pattern, flags)
        return [(src, text, m) for src, text in self.texts() if (m := rx.search(text))]

    @property
    def main(self) -> dict[str, Any] | None:
        """The job's container: `main_container` if named, else the first listed.

        DescribeTasks says neither which containers are essential nor in what order they are
        listed (AWS documents no order); taking the first is an assumption that naming
        `main_container` (or letting `diagnose` read the task definition) removes.
        """
        if self.main_container:
            return next((c for c in self.containers if _name(c) == self.main_container), None)
        return self.containers[0] if self.containers else None

    @property
    def image_name(self) -> str:
        main = self.main
        image = main.get("image") if main else None
        return image if isinstance(image, str) and image else "<image>"


def _name(container: Mapping[str, Any] | None) -> str:
    name = container.get("name") if container else None
    return name if isinstance(name, str) else "?"


def _exit(container: Mapping[str, Any] | None) -> int | None:
    code = container.get("exitCode") if container else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def _gather(
    task: Any,
    logs: Any,
    image: ImagePlatforms | None,
    failures: Any,
    error: Any,
    cause: Any,
    cpu_architecture: str | None,
    main_container: str | None,
) -> Facts:
    """Unwrap whatever envelope the input came in and collect the signs, never raising on bad input."""
    facts = Facts(image=image, main_container=main_container)
    if isinstance(failures, list):
        facts.failures = [f for f in camel_keys(failures) if isinstance(f, dict)]
    facts.error = error if isinstance(error, str) else ""
    pending_cause = cause
    queue: list[tuple[str, Any]] = [("input", task)]
    for _ in range(8):  # envelopes nest a few levels at most: response -> task, failure -> cause -> task
        if not queue:
            if pending_cause is None:
                break
            queue.append(("cause", pending_cause))
            pending_cause = None
        where, raw = queue.pop(0)
        value, problem = _parse_json(raw)
        if problem or (where == "cause" and isinstance(value, str)):
            text = value.strip()
            if where == "cause":
                facts.cause = text[:4000]
            elif text:
                facts.free_text = text[:4000]
                facts.problems.append(tr("the input is not JSON; it was read as free text"))
            continue
        if value is None:
            continue
        value = camel_keys(value)
        if not isinstance(value, dict):
            facts.problems.append(
                tr("the {where} is a JSON {kind}, not an object", where=where, kind=type(value).__name__)
            )
        elif _looks_like_task(value):
            facts.task = facts.task or value
        elif isinstance(value.get("tasks"), list) or isinstance(value.get("failures"), list):
            facts.failures += [f for f in _as_list(value.get("failures")) if isinstance(f, dict)]
            queue += [(where, t) for t in _as_list(value.get("tasks"))[:1] if isinstance(t, dict)]
        elif isinstance(value.get("detail"), dict):  # EventBridge "ECS Task State Change" event
            queue.append((where, value["detail"]))
        elif "error" in value or "cause" in value:  # Step Functions TaskFailed / ExecutionFailed details
            facts.error = facts.error or (value["error"] if isinstance(value.get("error"), str) else "")
            if value.get("cause") is not None and pending_cause is None:
                pending_cause = value["cause"]
        elif nested := [
            v for k, v in value.items() if isinstance(k, str) and k.endswith("EventDetails") and isinstance(v, dict)
        ]:
            queue += [(where, v) for v in nested]
        else:
            facts.problems.append(
                tr(
                    "the {where} has none of the fields of a task, a RunTask response or a Step Functions failure",
                    where=where,
                )
            )
    containers = facts.task.get("containers")
    facts.containers = [c for c in containers if isinstance(c, dict)] if isinstance(containers, list) else []
    facts.logs = _log_lines(logs)
    facts.cpu_architecture, facts.cpu_source = _task_architecture(facts, cpu_architecture)
    return facts


def _log_lines(logs: Any) -> list[str]:
    """Log lines from a string, a list of strings, or CloudWatch events ({'message': ...})."""
    if logs is None:
        return []
    if isinstance(logs, (str, bytes)):
        text = logs.decode("utf-8", "replace") if isinstance(logs, bytes) else logs
        return text.splitlines()
    if not isinstance(logs, Iterable):
        raise ValidationError("logs", logs, "a string, a list of lines, or CloudWatch events with 'message'")
    lines = []
    for item in logs:
        if isinstance(item, str):
            lines.append(item)
        elif isinstance(item, Mapping) and isinstance(item.get("message"), str):
            lines.append(item["message"])
    return lines


def _task_architecture(facts: Facts, given: str | None) -> tuple[str, str]:
    if given is not None:
        return given, N_("given")
    for attr in _as_list(facts.task.get("attributes")):
        if isinstance(attr, dict) and attr.get("name") == "ecs.cpu-architecture":
            value = str(attr.get("value", "")).upper()  # x86_64 or arm64; amd64 (the OCI name) is read too
            cpu = value if value in ECS_PLATFORMS else _ecs_cpu(value.lower())
            if cpu is not None and cpu in CPU_ARCHITECTURES:
                return cpu, N_("task attribute ecs.cpu-architecture")
    for _, _, m in facts.find(r"descriptor matching platform '[^/']+/(\w+)"):
        return _ecs_cpu(m[1]) or "X86_64", N_("the platform Fargate asked the index for")
    return "X86_64", N_("assumed: a task definition without runtimePlatform runs on X86_64")


def _ecs_cpu(oci_architecture: str) -> str | None:
    """The ECS cpuArchitecture that runs an OCI architecture (amd64 -> X86_64, arm64 -> ARM64), else None."""
    return next((cpu for cpu, p in ECS_PLATFORMS.items() if p.architecture == oci_architecture), None)


def _cpu_evidence(facts: Facts) -> tuple[str, str]:
    """The task's CPU and how it is known: data, in English (a Diagnosis shows the how translated)."""
    return ("task cpuArchitecture", f"{facts.cpu_architecture} ({facts.cpu_source})")


def _image_evidence(image: ImagePlatforms | None) -> list[tuple[str, str]]:
    if image is None:
        return []
    where = tr("image {source}", source=image.source)
    binary = tr("image {source} binary", source=image.source)
    platforms = ", ".join(map(str, image.platforms)) or tr("none known")
    out = [
        (
            where,
            tr("index platforms: {platforms}", platforms=platforms)
            if image.is_index
            else tr("config platforms: {platforms}", platforms=platforms),
        )
    ]
    for b in image.binaries:
        for path, elf in b.executables:
            out.append((binary, f"{path}: {elf.describe()}"))
        if b.cannot_tell:
            out.append((binary, tr("cannot tell: {reason}", reason=b.cannot_tell)))
    out += [(where, d) for d in image.disagreements]
    return out


def _task_evidence(facts: Facts, with_exit: bool = True) -> list[tuple[str, str]]:
    out = []
    if facts.stop_code:
        out.append(("task.stopCode", facts.stop_code))
    if facts.stopped_reason:
        out.append(("task.stoppedReason", facts.stopped_reason))
    if with_exit:
        out += [(f"containers[{_name(c)}].exitCode", str(_exit(c))) for c in facts.containers if _exit(c) is not None]
    return out


def _hits_evidence(hits: list[tuple[str, str, re.Match[str]]]) -> list[tuple[str, str]]:
    return [(src, text[:500]) for src, text, _ in hits]
