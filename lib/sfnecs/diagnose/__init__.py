"""Why a scheduled ECS task or its Step Functions execution failed, with the evidence and the fix.

Why: the failure signs are spread over several places — RunTask's `failures`, the stopped task's
`stopCode`/`stoppedReason`, each container's `exitCode`/`reason`, the awslogs stream, the Step
Functions error and cause, and the image's real platforms — and the same words mean different
things (`Essential container in task exited` ends successful jobs too). A registry of matchers,
each owning one failure category, reads them all; the first that recognises its signs wins and
the others are listed as `also`.

Texts matched are the ones AWS documents ("Amazon ECS stopped task error messages", "API failure
reasons", re:Post "ecs-task-exec-format-error") and ones widely reported by users (marked
*community* in comments). `diagnose_task` is pure: it takes data and returns a `Diagnosis`.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sfnecs.exceptions import RunError, ValidationError
from sfnecs.images import ECS_PLATFORMS, ImagePlatforms
from sfnecs.model.fargate import CPU_ARCHITECTURES, FARGATE_CPU_MEMORY
from sfnecs.model.arns import ECR_IMAGE_RE, EXECUTION_ARN_RE, TASK_ARN_RE, awslogs_stream
from sfnecs.checks import check_choice, check_int

CONFIDENCES = ("high", "medium", "low")
ESSENTIAL_EXITED = "Essential container in task exited"
#: Exit status meanings (POSIX shells; 128+n = killed by signal n).
EXIT_MEANINGS: dict[int, str] = {
    1: "a general error reported by the program",
    2: "a usage error (bad arguments or shell syntax)",
    126: "the command was found but could not be executed (permissions or format)",
    127: "the command was not found (entrypoint/command or PATH wrong)",
    134: "killed by SIGABRT (the program aborted)",
    137: "killed by SIGKILL (out of memory, or not stopping within stopTimeout after SIGTERM)",
    139: "killed by SIGSEGV (segmentation fault)",
    143: "killed by SIGTERM (the task was being stopped)",
}


@dataclass(frozen=True)
class Diagnosis:
    """A failure category with how sure we are, the evidence seen, and the concrete fix."""

    category: str
    confidence: str  # high, medium or low
    summary: str
    evidence: tuple[tuple[str, str], ...] = ()  # (where, what): field, log line, manifest entry
    fix: str = ""
    also: tuple[str, ...] = ()  # other categories whose signs were present too

    @property
    def verdict(self) -> str:
        """The category in words with the confidence, e.g. 'architecture mismatch (high confidence)'."""
        return f"{self.category.replace('_', ' ')} ({self.confidence} confidence)"

    def to_frame(self) -> Any:
        """The evidence as a table (source, detail), one row per item."""
        import pandas as pd

        return pd.DataFrame(list(self.evidence), columns=["source", "detail"])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td><code>{html.escape(s)}</code></td><td>{html.escape(d)}</td></tr>"
                       for s, d in self.evidence)
        also = f"<p>Also seen: {html.escape(', '.join(self.also))}</p>" if self.also else ""
        return (f"<div><p>Verdict: <b>{html.escape(self.verdict)}</b> &mdash; {html.escape(self.summary)}</p>"
                f"<table><tr><th>source</th><th>evidence</th></tr>{rows}</table>"
                f"<p><b>Fix</b></p><pre>{html.escape(self.fix)}</pre>{also}</div>")


# ---- gathering the facts --------------------------------------------------------------------
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
        out += [(f"containers[{_name(c)}].reason", c["reason"]) for c in self.containers
                if isinstance(c.get("reason"), str) and c["reason"]]
        out += [(f"runTask.failures[{i}]", _failure_text(f)) for i, f in enumerate(self.failures)]
        out += [(f"logs[{i}]", line) for i, line in enumerate(self.logs)]
        out += [(name, value) for name, value in (("stepFunctions.error", self.error),
                                                   ("stepFunctions.cause", self.cause),
                                                   ("input", self.free_text)) if value]
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


def _name(container: Mapping[str, Any]) -> str:
    name = container.get("name")
    return name if isinstance(name, str) else "?"


def _exit(container: Mapping[str, Any] | None) -> int | None:
    code = container.get("exitCode") if container else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def _failure_text(failure: Mapping[str, Any]) -> str:
    parts = [str(failure.get(k)) for k in ("reason", "detail", "arn") if failure.get(k)]
    return ": ".join(parts) or json.dumps(failure, default=str)[:300]


def _camel(value: Any, depth: int = 0) -> Any:
    """PascalCase keys (the `.sync` output and Cause) -> camelCase (DescribeTasks)."""
    if depth > 8:
        return value
    if isinstance(value, dict):
        return {(k[:1].lower() + k[1:] if isinstance(k, str) else k): _camel(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v, depth + 1) for v in value]
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


def _gather(task: Any, logs: Any, image: ImagePlatforms | None, failures: Any, error: Any, cause: Any,
            cpu_architecture: str | None, main_container: str | None) -> Facts:
    """Unwrap whatever envelope the input came in and collect the signs, never raising on bad input."""
    facts = Facts(image=image, main_container=main_container)
    if isinstance(failures, list):
        facts.failures = [f for f in _camel(failures) if isinstance(f, dict)]
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
                facts.problems.append("the input is not JSON; it was read as free text")
            continue
        if value is None:
            continue
        value = _camel(value)
        if not isinstance(value, dict):
            facts.problems.append(f"the {where} is a JSON {type(value).__name__}, not an object")
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
        elif nested := [v for k, v in value.items() if isinstance(k, str) and k.endswith("EventDetails")
                        and isinstance(v, dict)]:
            queue += [(where, v) for v in nested]
        else:
            facts.problems.append(f"the {where} has none of the fields of a task, a RunTask response or a "
                                  "Step Functions failure")
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
        return given, "given"
    for attr in _as_list(facts.task.get("attributes")):
        if isinstance(attr, dict) and attr.get("name") == "ecs.cpu-architecture":
            value = str(attr.get("value", "")).upper().replace("AMD64", "X86_64")
            if value in CPU_ARCHITECTURES:
                return value, "task attribute ecs.cpu-architecture"
    for _, _, m in facts.find(r"descriptor matching platform '[^/']+/(\w+)"):
        return ("ARM64" if m[1] == "arm64" else "X86_64"), "the platform Fargate asked the index for"
    return "X86_64", "assumed: a task definition without runtimePlatform runs on X86_64"


# ---- the registry of matchers ----------------------------------------------------------------
Matcher = Callable[[Facts], "Diagnosis | None"]
#: (category, matcher) in priority order: the first match is the diagnosis.
MATCHERS: list[tuple[str, Matcher]] = []


def matcher(category: str) -> Callable[[Matcher], Matcher]:
    """Register a matcher for `category` (registration order is priority order)."""
    def register(fn: Matcher) -> Matcher:
        MATCHERS.append((category, fn))
        return fn
    return register


def diagnose_task(task: Any = None, *, logs: Any = None, image: ImagePlatforms | None = None,
                  failures: Any = None, error: str | None = None, cause: Any = None,
                  cpu_architecture: str | None = None, main_container: str | None = None) -> Diagnosis:
    """Diagnose one run from whatever is at hand; never raises on malformed `task`/`cause` input.

    Why: one entry point for every shape a failure arrives in. `task` may be a DescribeTasks task
    (camelCase), the `.sync` output or Cause (PascalCase), a DescribeTasks/RunTask response, an
    EventBridge task-state-change event, a Step Functions failure ({error, cause}), or a JSON
    string of any of these. `cpu_architecture` is the task definition's runtimePlatform value.
    """
    if cpu_architecture is not None:
        check_choice("cpu_architecture", cpu_architecture, CPU_ARCHITECTURES)
    if image is not None and not isinstance(image, ImagePlatforms):
        raise ValidationError("image", image, "an ImagePlatforms from sfnecs.images (or None)")
    if main_container is not None and not isinstance(main_container, str):
        raise ValidationError("main_container", main_container, "a container name (str) or None")
    facts = _gather(task, logs, image, failures, error, cause, cpu_architecture, main_container)
    hits = [d for _, fn in MATCHERS if (d := fn(facts)) is not None]
    if not hits:
        return _unknown(facts)
    first = hits[0]
    also = tuple(dict.fromkeys(h.category for h in hits[1:] if h.category != first.category))
    return replace(first, also=also)


def _unknown(facts: Facts) -> Diagnosis:
    seen = [(src, text[:300]) for src, text in facts.texts()[:8]]
    seen += [(f"containers[{_name(c)}].exitCode", str(_exit(c))) for c in facts.containers if _exit(c) is not None]
    why = "; ".join(facts.problems) or "no recognised failure sign"
    return Diagnosis(
        "unknown", "low", f"Cannot tell why: {why}.", tuple(seen),
        "Read the stopped task's stoppedReason, each container's reason and exitCode, and the awslogs "
        "stream (AWS: 'Amazon ECS stopped task error messages'); pass them, the RunTask failures and the "
        "image's platforms (sfnecs.images) to diagnose_task.")


# ---- fixes shared by several matchers ------------------------------------------------------------
def _runtime_platform_fix(cpu: str) -> str:
    return ('  runtime_platform {\n    operating_system_family = "LINUX"\n'
            f'    cpu_architecture        = "{cpu}"\n  }}\n'
            f'  (task definition JSON: "runtimePlatform": {{"cpuArchitecture": "{cpu}", '
            f'"operatingSystemFamily": "LINUX"}})')


def _architecture_fix(image_arch: str | None, task_cpu: str, image: str, capacity_provider: str = "") -> str:
    task_plat = ECS_PLATFORMS[task_cpu]
    other_cpu = next((cpu for cpu, p in ECS_PLATFORMS.items() if p.architecture == image_arch), None)
    # ECS developer guide, "AWS Fargate capacity providers": ARM64 tasks don't support Fargate Spot
    spot = ("  (this task ran on FARGATE_SPOT, which runs X86_64 tasks only: an ARM64 task also needs "
            "capacity provider FARGATE)") if capacity_provider == "FARGATE_SPOT" else ""
    lines = []
    if other_cpu and other_cpu != task_cpu:
        lines += [f"Either run the task on the image's CPU ({image_arch}): in the Terraform task definition",
                  _runtime_platform_fix(other_cpu)] + ([spot] if spot and other_cpu == "ARM64" else []) + ["or"]
    elif image_arch is None:
        guess = next(c for c in ECS_PLATFORMS if c != task_cpu)
        lines += ["Either set the task definition's runtime platform to the CPU the image was built for "
                  f"(probably {guess}; check with sfnecs.images):", _runtime_platform_fix(guess)]
        lines += ([spot] if spot and guess == "ARM64" else []) + ["or"]
    elif image_arch not in ("amd64", "arm64"):
        lines += [f"Fargate runs only linux/amd64 (X86_64) and linux/arm64 (ARM64); this image is {image_arch}."]
    lines += [f"rebuild the image for the task's CPU ({task_plat}); build tools default to the build machine's CPU:",
              f"  docker buildx build --platform {task_plat} -t {image} --push .",
              "or build both platforms into one index, so either CPU finds its image:",
              f"  docker buildx build --platform linux/amd64,linux/arm64 -t {image} --push ."]
    return "\n".join(lines)


def _other_architecture(task_cpu: str) -> str:
    return next(p.architecture for c, p in ECS_PLATFORMS.items() if c != task_cpu)


def _binary_fix(image: ImagePlatforms | None) -> str:
    if not image or not image.disagreements:
        return ""
    return ("\nThe labels and the binary disagree: a Dockerfile step probably downloads a prebuilt binary for a "
            "fixed CPU. Pick the download per platform with BuildKit's build argument, e.g.\n"
            "  ARG TARGETARCH\n  RUN curl -fsSLo /usr/local/bin/tool https://example.com/tool-linux-${TARGETARCH}")


def _image_arch(image: ImagePlatforms | None, task_cpu: str) -> str | None:
    """The CPU the image really is, preferring the binary over the label."""
    if image is None:
        return None
    want = ECS_PLATFORMS[task_cpu]
    for b in image.binaries:
        for _, elf in b.executables:
            if elf.architecture and elf.architecture != want.architecture:
                return elf.architecture
    wrong = [p.architecture for p in image.platforms if not p.same_cpu(want)]
    return wrong[0] if wrong and not image.is_index else None


def _image_evidence(image: ImagePlatforms | None) -> list[tuple[str, str]]:
    if image is None:
        return []
    out = [(f"image {image.source}", f"{'index' if image.is_index else 'config'} platforms: "
            f"{', '.join(map(str, image.platforms)) or 'none known'}")]
    for b in image.binaries:
        for path, elf in b.executables:
            out.append((f"image {image.source} binary", f"{path}: {elf.describe()}"))
        if b.cannot_tell:
            out.append((f"image {image.source} binary", f"cannot tell: {b.cannot_tell}"))
    out += [(f"image {image.source}", d) for d in image.disagreements]
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


# ---- matchers, in priority order --------------------------------------------------------------
@matcher("run_task_rejected")
def _run_task_rejected(facts: Facts) -> Diagnosis | None:
    """RunTask itself failed (an API error, not a `failures` entry): permissions or parameters.

    Step Functions names these errors after the service exception, e.g. `ECS.AccessDeniedException`
    or `ECS.InvalidParameterException` (*community*: observed, the exact names are not listed by AWS).
    """
    if not re.match(r"(ECS|Ecs|AmazonECS)\.\w+", facts.error) or facts.error == "AmazonECS.Unknown":
        return None
    text = f"{facts.error} {facts.cause}"
    evidence = [("stepFunctions.error", facts.error)] + ([("stepFunctions.cause", facts.cause[:500])]
                                                         if facts.cause else [])
    if re.search(r"AccessDenied|not authorized|iam:PassRole", text, re.I):
        return Diagnosis(
            "run_task_rejected", "high", "RunTask was refused: the Step Functions (or Scheduler) role lacks a "
            "permission.", tuple(evidence),
            "Grant the caller's role ecs:RunTask on the task definition (task-definition/<family>:*) and "
            "iam:PassRole on BOTH the task execution role and the task role, with the condition "
            "iam:PassedToService = ecs-tasks.amazonaws.com (sfnecs.iam renders this policy).")
    if re.search(r"Throttl|Rate exceeded|AmazonECSException", text, re.I):
        return Diagnosis(
            "capacity", "medium", "RunTask was throttled or could not place the task (ECS.AmazonECSException).",
            tuple(evidence),
            'Retry it: in the Task state, Retry [{"ErrorEquals": ["ECS.AmazonECSException"], "IntervalSeconds": 10, '
            '"BackoffRate": 2, "MaxAttempts": 5}]. Do not retry States.TaskFailed blindly: it reruns failed jobs.')
    return Diagnosis(
        "run_task_rejected", "high", f"RunTask rejected its parameters ({facts.error}).", tuple(evidence),
        "Read the cause: usually a task definition or cluster that does not exist in this region, a missing "
        "networkConfiguration for awsvpc (Fargate), or a container override naming no container.")


_CAPACITY_FIXES: list[tuple[str, str, str]] = [
    (r"RESOURCE:(MEMORY|CPU|GPU|PORTS|ENI)", "no container instance has the {0} the task asks for",
     "Add capacity to the cluster (EC2 launch type), or lower the task's cpu/memory, or run it on Fargate."),
    (r"Capacity is unavailable at this time", "Fargate had no capacity for this size in these subnets' zones",
     "Retry later (Step Functions: Retry on AmazonECS.Unknown with backoff), and give the task subnets in more "
     "Availability Zones."),
    (r"\bAGENT\b", "the container instance's ECS agent is disconnected",
     "Restart or replace the container instance; check the agent can reach ECS."),
    (r"\bATTRIBUTE\b", "no container instance has an attribute the task definition requires",
     "Use an instance type/AMI with that attribute, or remove the requirement (placement constraint)."),
    (r"limit on the number of tasks", "the account's concurrent task quota is reached",
     "Request a higher Fargate quota (Service Quotas) or run fewer tasks at once."),
    (r"\bMISSING\b", "the cluster or container instance was not found",
     "Check the cluster name and region in the schedule or state machine."),
]


@matcher("capacity")
def _capacity(facts: Facts) -> Diagnosis | None:
    """RunTask answered 200 with `failures` (AWS "API failure reasons"); under `.sync` that is AmazonECS.Unknown."""
    hits = [(f"runTask.failures[{i}]", _failure_text(f)) for i, f in enumerate(facts.failures)]
    hits += [(src, text) for src, text, _ in facts.find(r"TaskFailedToStart: \w+|Capacity is unavailable")]
    unknown = facts.error == "AmazonECS.Unknown"
    if not hits and not unknown:
        return None
    evidence = list(hits) + ([("stepFunctions.error", facts.error)] if unknown else [])
    joined = " ".join(text for _, text in hits) + " " + facts.cause
    for pattern, what, fix in _CAPACITY_FIXES:
        m = re.search(pattern, joined, re.I)
        if m:
            what = what.format(m.group(1).lower() if m.groups() else "")
            return Diagnosis("capacity", "high" if hits else "medium",
                             f"The task never started: {what}.", tuple(evidence), fix)
    return Diagnosis("capacity", "high" if hits else "medium",
                     "The task never started: RunTask returned failures"
                     + (" (Step Functions reports them as AmazonECS.Unknown)." if unknown else "."),
                     tuple(evidence), "Read the failure reason; AWS lists them under 'API failure reasons'.")


@matcher("platform_missing")
def _platform_missing(facts: Facts) -> Diagnosis | None:
    """An image index without the task's platform: the pull fails before any container starts."""
    hits = facts.find(r"does not contain descriptor matching platform '([^']+)'")
    image = facts.image
    predicted = image is not None and image.is_index and image.supports(facts.cpu_architecture) is False
    if not hits and not predicted:
        return None
    wanted = hits[0][2][1] if hits else str(ECS_PLATFORMS[facts.cpu_architecture])
    offered = ", ".join(map(str, image.platforms)) if image and image.platforms else None
    evidence = _hits_evidence(hits) + _image_evidence(image) + [("task cpuArchitecture",
                                                                 f"{facts.cpu_architecture} ({facts.cpu_source})")]
    summary = (f"The image is an index without {wanted}, so Fargate cannot pull it for this "
               f"{facts.cpu_architecture} task" + (f" (it offers {offered})" if offered else "") + ".")
    fit = next((cpu for cpu, p in ECS_PLATFORMS.items() if image and any(q.same_cpu(p) for q in image.platforms)),
               None)
    fix = _architecture_fix(ECS_PLATFORMS[fit].architecture if fit else None, facts.cpu_architecture,
                            facts.image_name, facts.text("capacityProviderName"))
    fix += ("\nNote: `docker buildx` adds attestation manifests by default, so even a one-platform build is "
            "pushed as an index: an arm64-only build fails here, at the pull, not with exec format error.")
    return Diagnosis("platform_missing", "high" if hits or (image and not image.disagreements) else "medium",
                     summary, tuple(evidence), fix)


_PULL_KINDS: list[tuple[str, str, str]] = [
    (r"i/o timeout|context deadline exceeded|dial tcp|TLS handshake timeout|no such host|connection (refused|reset)",
     "Fargate could not reach the registry (network path)",
     "Give the task a route to the registry: a public subnet with assignPublicIp=ENABLED, a NAT gateway, or VPC "
     "endpoints for ecr.api, ecr.dkr and the S3 gateway endpoint (ECR layers are served from S3)."),
    (r"pull access denied",
     "the registry refused the pull or the repository does not exist (Docker Hub answers both the same way)",
     "If the image is in ECR, use its full name (<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>): a bare "
     "name is looked up on Docker Hub. For a private Docker Hub image set repositoryCredentials."),
    (r"\b40[13]\b|Forbidden|Unauthorized|AccessDenied|not authorized|no basic auth|insufficient_scope|"
     r"check that the role has the permissions",
     "the task execution role may not pull from this repository",
     "Attach AmazonECSTaskExecutionRolePolicy (ecr:GetAuthorizationToken, ecr:BatchGetImage, "
     "ecr:GetDownloadUrlForLayer) to the task execution role; for another account's repository add a "
     "repository policy allowing it."),
    (r"not found|manifest unknown|does not exist|ImageNotFound",
     "the image (repository or tag) does not exist",
     "Check the repository and tag exist in this account and region "
     "(aws ecr describe-images --repository-name <repo> --image-ids imageTag=<tag>) and that the push finished "
     "before the schedule fired."),
]


def _by_kind(facts: Facts, category: str, trigger: str, kinds: list[tuple[str, str, str]], headline: str,
             fallback_fix: str, skip: str | None = None, network_note: bool = False) -> Diagnosis | None:
    """The shared shape of text-driven matchers: a trigger text, then a table of (pattern, what, fix)."""
    hits = [h for h in facts.find(trigger) if not (skip and skip in h[1])]
    if not hits:
        return None
    text = " ".join(t for _, t, _ in hits)
    evidence = tuple(_hits_evidence(hits))
    for pattern, what, fix in kinds:
        if re.search(pattern, text, re.I):
            if network_note and re.search(r"i/o timeout|deadline exceeded|dial tcp|RequestCanceled", text, re.I):
                fix += ("\nThe error also shows a timeout: the subnet has no route to the service — add a NAT "
                        "gateway, a public IP, or VPC endpoints (secretsmanager, ssm, logs, ecr.api, ecr.dkr, s3).")
            return Diagnosis(category, "high", f"{headline}: {what}.", evidence, fix)
    return Diagnosis(category, "medium", f"{headline}.", evidence, fallback_fix)


@matcher("pull_error")
def _pull_error(facts: Facts) -> Diagnosis | None:
    """CannotPullContainerError other than a missing platform (AWS re:Post "ecs-fargate-pull-container-error")."""
    return _by_kind(facts, "pull_error", r"CannotPullContainerError|pull image manifest|failed to resolve ref",
                    _PULL_KINDS, "The image could not be pulled",
                    "Read the CannotPullContainerError text; AWS re:Post 'ecs-fargate-pull-container-error' lists the "
                    "causes (network path, permissions, missing image).", skip="descriptor matching platform")


_INIT_KINDS: list[tuple[str, str, str]] = [
    (r"logger|log group|log stream|CloudWatch", "the awslogs log group is missing or cannot be written",
     'Create the log group (Terraform aws_cloudwatch_log_group) or set the option awslogs-create-group = "true" '
     "and grant the execution role logs:CreateLogGroup; it also needs logs:CreateLogStream and logs:PutLogEvents."),
    (r"secrets? from (ssm|asm)|retrieve secret|fetch secret|GetSecretValue|GetParameters|secretsmanager|kms",
     "the task's secrets could not be fetched",
     "Grant the task execution role secretsmanager:GetSecretValue / ssm:GetParameters (and kms:Decrypt for a "
     "customer key) on exactly those ARNs, and check the ARNs exist in this region."),
    (r"registry auth|GetAuthorizationToken|\becr\b", "registry credentials could not be fetched",
     "Grant the task execution role AmazonECSTaskExecutionRolePolicy and give the subnet a path to ECR."),
    (r"\bENI\b|network interface|subnet|IP address", "the task's network interface could not be set up",
     "Check the subnets have free IP addresses and the account's ENI quota; the security groups must exist "
     "in the subnets' VPC."),
]


@matcher("resource_initialization")
def _resource_initialization(facts: Facts) -> Diagnosis | None:
    """ResourceInitializationError: Fargate could not prepare secrets, logging, registry auth or networking."""
    return _by_kind(facts, "resource_initialization", r"ResourceInitializationError", _INIT_KINDS,
                    "The task failed to start", "Read the error text: it names the resource (secrets, logs, registry "
                    "auth, network interface) Fargate could not prepare.", network_note=True)


@matcher("architecture_mismatch")
def _architecture_mismatch(facts: Facts) -> Diagnosis | None:
    """The kernel refused the entrypoint (exec format error), or the image's binaries are for another CPU."""
    hits = facts.find(r"exec format error")
    image = facts.image
    cpu = facts.cpu_architecture
    runs = image.runs_on(cpu) if image else None
    pull_fails = image is not None and image.is_index and image.supports(cpu) is False
    if not hits and not (runs is False and not pull_fails):
        return None
    binary = image.binary if image else None
    if hits and binary and binary.cannot_tell and "neither an ELF" in binary.cannot_tell:
        return Diagnosis(
            "entrypoint_not_executable", "high",
            "exec format error, but not from the CPU: the entrypoint is neither a binary nor a #! script.",
            tuple(_hits_evidence(hits) + _image_evidence(image)),
            "Start the script with a #! line (e.g. #!/bin/sh) and make it executable, or set the command to "
            "run it through its interpreter: command = [\"/bin/sh\", \"/app/run\"].")
    image_arch = _image_arch(image, cpu)
    stopped = _exit(facts.main) not in (None, 0) or ESSENTIAL_EXITED in facts.stopped_reason
    confidence = "high" if hits or stopped else "medium"
    if hits:
        who = (f"the image holds {image_arch} code" if image_arch else
               f"the image was built for another CPU (probably {_other_architecture(cpu)}"
               + (", e.g. on Apple Silicon without --platform)" if cpu == "X86_64" else ")"))
        summary = f"The kernel refused the container's entrypoint (exec format error) on this {cpu} task: {who}."
    else:
        what = "binary" if image and image.binaries else "platform"
        summary = (f"The image's {what} is {image_arch or 'another CPU'}"
                   f" but the task runs on {cpu}: the container would start and die with exec format error"
                   f"{' (exit code 1)' if not stopped else ''}.")
    evidence = (_hits_evidence(hits) + _task_evidence(facts) + _image_evidence(image)
                + [("task cpuArchitecture", f"{cpu} ({facts.cpu_source})")])
    return Diagnosis("architecture_mismatch", confidence, summary, tuple(evidence),
                     _architecture_fix(image_arch, cpu, facts.image_name, facts.text("capacityProviderName"))
                     + _binary_fix(image))


_START_KINDS: list[tuple[str, str, str]] = [
    (r"no such file or directory|executable file not found|not found in \$PATH",
     "its entrypoint or command does not exist in the image",
     "Fix the task definition's entryPoint/command (or the image's ENTRYPOINT/CMD) to a path that exists in the "
     "image; check with sfnecs.images.local_platforms(...).binary."),
]


@matcher("container_start")
def _container_start(facts: Facts) -> Diagnosis | None:
    """The runtime could not create or start the container (AWS "CannotStartContainerError" page)."""
    return _by_kind(facts, "container_start", r"Cannot(Start|Create|Inspect)ContainerError|ContainerRuntime(Timeout)?"
                    r"Error", _START_KINDS, "The container could not be created or started",
                    "Read the error text; AWS documents these under 'Troubleshooting Amazon ECS "
                    "CannotStartContainerError errors'.")


@matcher("out_of_memory")
def _out_of_memory(facts: Facts) -> Diagnosis | None:
    """OutOfMemoryError: Container killed due to memory usage (AWS "OutOfMemoryError" page), exit 137."""
    oom = [(f"containers[{_name(c)}].reason", c.get("reason", "")) for c in facts.containers
           if isinstance(c.get("reason"), str) and c["reason"].startswith("OutOfMemoryError")]
    main = facts.main
    sigkill = _exit(main) == 137 and facts.stop_code != "UserInitiated"
    if not oom and not sigkill:
        return None
    logs = [(src, text) for src, text, _ in facts.find(r"^Killed$|MemoryError|OutOfMemory|Cannot allocate memory")
            if src.startswith("logs")]
    confidence = "high" if oom else ("medium" if logs else "low")
    evidence = oom + _task_evidence(facts) + logs
    return Diagnosis("out_of_memory", confidence,
                     "The container was killed for using more memory than it was given." if oom or logs else
                     "The container was killed with SIGKILL (exit 137): usually memory, or a job that ignored SIGTERM "
                     "for longer than stopTimeout.", tuple(evidence), _memory_fix(facts))


def _memory_fix(facts: Facts) -> str:
    cpu, memory = _as_int(facts.task.get("cpu")), _as_int(facts.task.get("memory"))
    base = ("Give the task more memory (task-level memory, and the container's memory limit if set), or make the "
            "job use less.")
    if cpu in FARGATE_CPU_MEMORY and memory:
        bigger = [m for m in FARGATE_CPU_MEMORY[cpu] if m > memory]
        if bigger:
            return base + f"\nOn Fargate with cpu = {cpu}, memory {memory} -> {bigger[0]} (allowed: " \
                          f"{', '.join(map(str, FARGATE_CPU_MEMORY[cpu]))}); in Terraform: memory = {bigger[0]}"
        up = next((c for c in FARGATE_CPU_MEMORY if c > cpu), None)
        if up:
            return base + f"\nmemory {memory} is the most cpu = {cpu} allows: raise cpu to {up} " \
                          f"(memory {FARGATE_CPU_MEMORY[up][0]}-{FARGATE_CPU_MEMORY[up][-1]})."
    return base


def _as_int(value: Any) -> int | None:
    try:
        return int(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


@matcher("timeout")
def _timeout(facts: Facts) -> Diagnosis | None:
    """The Task state's TimeoutSeconds/HeartbeatSeconds expired (Step Functions errors States.Timeout...)."""
    if facts.error not in ("States.Timeout", "States.HeartbeatTimeout"):
        return None
    status = [("task.lastStatus", facts.text("lastStatus"))] if facts.text("lastStatus") else []
    return Diagnosis(
        "timeout", "high", f"The Step Functions Task state timed out ({facts.error}) before the task stopped.",
        tuple([("stepFunctions.error", facts.error)] + status + _task_evidence(facts)),
        "Raise the Task state's TimeoutSeconds above the job's longest run, or make the job faster. Step Functions "
        "tries to stop the ECS task it started (that is why .sync needs ecs:StopTask); check the task is gone.")


_EXTERNAL_STOPS = ("UserInitiated", "SpotInterruption", "TerminationNotice", "ServiceSchedulerInitiated")


@matcher("stopped")
def _stopped(facts: Facts) -> Diagnosis | None:
    """Stopped from outside: StopTask (user or Step Functions), Spot interruption, service scheduler."""
    code = facts.stop_code
    if code not in _EXTERNAL_STOPS:
        return None
    evidence = tuple(_task_evidence(facts) + ([("task.startedBy", facts.text("startedBy"))]
                                              if facts.text("startedBy") else []))
    if code == "UserInitiated":
        by_sfn = "step functions" in facts.text("startedBy").lower()
        # AWS does not document the stoppedReason Step Functions gives when it stops a task.
        who = ("Step Functions stopped it: the execution was stopped, or its Task state timed out" if by_sfn
               else f"StopTask was called ({facts.stopped_reason or 'no reason given'})")
        return Diagnosis("stopped", "medium" if by_sfn else "high", f"The task was stopped before it finished: {who}.",
                         evidence, "Find who stopped it (CloudTrail StopTask events); for Step Functions look at the "
                         "execution's history for a timeout or a StopExecution.")
    return Diagnosis("stopped", "high",
                     f"The task was stopped by the platform ({code}): {facts.stopped_reason.rstrip('.')}.",
                     evidence, "Fargate Spot tasks can be reclaimed with a two-minute warning: use FARGATE for jobs "
                     "that must finish, or make the job resumable and retry it.")


@matcher("sidecar_exit")
def _sidecar_exit(facts: Facts) -> Diagnosis | None:
    """A non-main essential container exited first and took the job down with it."""
    main = facts.main
    if main is None or len(facts.containers) < 2 or _exit(main) not in (None, 143, 137):
        return None
    if facts.stop_code not in ("", "EssentialContainerExited") and ESSENTIAL_EXITED not in facts.stopped_reason:
        return None
    culprits = [c for c in facts.containers if c is not main and _exit(c) is not None and _exit(c) != 143]
    if not culprits:
        return None
    c = culprits[0]
    assumed = "" if facts.main_container else f" (assuming '{_name(main)}', the first container, is the job)"
    return Diagnosis(
        "sidecar_exit", "high" if facts.main_container else "medium",
        f"Essential container '{_name(c)}' exited first (exit {_exit(c)}) and stopped the task while the job "
        f"'{_name(main)}' was still running{assumed}.",
        tuple(_task_evidence(facts) + [(f"containers[{_name(x)}].reason", x["reason"]) for x in facts.containers
                                       if isinstance(x.get("reason"), str)]),
        f"If '{_name(c)}' is a helper, mark it non-essential (\"essential\": false in its container definition); "
        "if the job needs it, fix why it exits and order start-up with dependsOn.")


@matcher("application_exit")
def _application_exit(facts: Facts) -> Diagnosis | None:
    """The job itself exited non-zero."""
    code = _exit(facts.main)
    if code in (None, 0):
        return None
    others = [c for c in facts.containers if c is not facts.main and _exit(c) not in (None, 143)]
    if code == 143 and (facts.stop_code in _EXTERNAL_STOPS or others):
        return None  # SIGTERM from ECS stopping the task: the job did not fail by itself
    meaning = EXIT_MEANINGS.get(code, f"killed by signal {code - 128}" if code > 128 else "an application error")
    tail = [(f"logs[{i}]", line) for i, line in list(enumerate(facts.logs))[-5:]]
    fix = "Read the job's last log lines and fix the job; rerun it once fixed."
    confidence = "high"
    if code == 1 and not facts.logs:
        confidence = "medium"
        fix += ("\nNo log lines were given: if the stream is empty or says 'exec format error', the image is for "
                "another CPU — check it with sfnecs.images.ecr_platforms(...).")
    if code == 127:
        fix = "Fix the entryPoint/command: the program is not in the image or not on its PATH."
    return Diagnosis("application_exit", confidence,
                     f"The job '{_name(facts.main)}' exited with code {code}: {meaning}.",
                     tuple(_task_evidence(facts) + tail), fix)


@matcher("success")
def _success(facts: Facts) -> Diagnosis | None:
    """Exit 0: `EssentialContainerExited` alone is not a failure (a finished job stops that way too)."""
    if _exit(facts.main) != 0:
        return None
    return Diagnosis("success", "high", f"The job '{_name(facts.main)}' finished successfully (exit code 0).",
                     tuple(_task_evidence(facts)), "Nothing to fix.")


@matcher("not_stopped")
def _not_stopped(facts: Facts) -> Diagnosis | None:
    """The task has not stopped yet, so there is no outcome to diagnose."""
    status = facts.text("lastStatus")
    if not status or status == "STOPPED":
        return None
    return Diagnosis("not_stopped", "high", f"The task is still {status}: no outcome yet.",
                     (("task.lastStatus", status), ("task.desiredStatus", facts.text("desiredStatus"))),
                     "Wait for it to stop (sfnecs.runs), then diagnose again.")


# ---- reading a run from AWS (or the sandbox) ---------------------------------------------------------
_EXECUTION_ARN, _TASK_ARN = EXECUTION_ARN_RE, TASK_ARN_RE


def diagnose(source: Any, ref: Any, *, cluster: str | None = None, image: ImagePlatforms | None = None,
             inspect_image: bool = False, cpu_architecture: str | None = None, main_container: str | None = None,
             log_lines: int = 100) -> Diagnosis:
    """Read a run from AWS (or the sandbox) and diagnose it with `diagnose_task`.

    Why: the evidence lives in four services. `source` is a sfnecs Target, a boto3 Session, or a
    dict of clients by service name; `ref` is a Step Functions execution ARN, an ECS task ARN, or
    the task/failure data itself. The task definition gives the runtimePlatform and the awslogs
    stream (`<prefix>/<container>/<task id>`, ECS "Using the awslogs log driver"); `inspect_image`
    also reads the ECR image's platforms, and its entrypoint's ELF header after an exec format error.
    """
    check_int("log_lines", log_lines, 1, 10_000)
    client = _clients(source)
    error: str | None = None
    cause: Any = None
    data: Any = ref
    from botocore.exceptions import ClientError

    if isinstance(ref, str) and _EXECUTION_ARN.fullmatch(ref):
        try:
            error, cause, data = _execution_outcome(client("stepfunctions"), ref)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ExecutionDoesNotExist":
                raise
            raise RunError(f"execution {ref} does not exist in this account and region: check the ARN (Step "
                           "Functions keeps a Standard execution's history for 90 days after it ends)") from None
    if isinstance(data, str) and (m := _TASK_ARN.fullmatch(data)):
        arn, where = data, cluster or m["cluster"] or "default"
        try:
            data = client("ecs").describe_tasks(cluster=where, tasks=[arn])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ClusterNotFoundException":
                raise
            return _task_gone(arn, [{"arn": arn, "reason": "MISSING", "detail": f"no cluster {where}"}], error)
        data.pop("ResponseMetadata", None)
        if not data.get("tasks"):
            return _task_gone(arn, data.get("failures") or [], error)
    facts = _gather(data, None, None, None, error, cause, None, None)
    logs: list[str] = []
    td_arn = facts.text("taskDefinitionArn")
    if td_arn:
        try:
            definition = client("ecs").describe_task_definition(taskDefinition=td_arn)["taskDefinition"]
        except ClientError:
            definition = {}  # deleted, or not ours to read: diagnose without it
        if cpu_architecture is None:
            cpu_architecture = (definition.get("runtimePlatform") or {}).get("cpuArchitecture") or "X86_64"
        essential = [c.get("name") for c in definition.get("containerDefinitions") or [] if c.get("essential", True)]
        if main_container is None and len(essential) == 1:
            main_container = essential[0]  # the only essential container is the job
        logs = _read_awslogs(client("logs"), definition, facts, main_container, log_lines)
    if image is None and inspect_image and (m := ECR_IMAGE_RE.match(facts.image_name)):
        from sfnecs.images import ecr_platforms

        # The layers are downloaded only when the kernel refused the entrypoint: then the binary,
        # not the label, tells which CPU the image needs (labels can lie).
        refused = any("exec format error" in text.lower() for text in logs + [t for _, t in facts.texts()])
        image = ecr_platforms(client("ecr"), m["repo"], m["digest"] or m["tag"] or "latest", registry_id=m["account"],
                              inspect_binary=refused)
    return diagnose_task(data, logs=logs, image=image, error=error, cause=cause, cpu_architecture=cpu_architecture,
                         main_container=main_container)


def _task_gone(arn: str, failures: list[Any], error: str | None) -> Diagnosis:
    """DescribeTasks no longer knows the task (reason MISSING): stopped tasks are kept about an hour."""
    evidence = [("describeTasks.failures", _failure_text(f)) for f in failures if isinstance(f, dict)]
    evidence += [("stepFunctions.error", error)] if error else []
    return Diagnosis(
        "task_not_found", "low", f"ECS no longer describes task {arn}: stopped tasks stay visible for at least an "
        "hour after they stop, then expire (ECS 'Checking stopped tasks for errors').",
        tuple(evidence or [("describeTasks", "no task and no failure returned")]),
        "Diagnose sooner, or keep the evidence: with Step Functions the .sync Cause holds the stopped task (pass "
        "the execution ARN instead); for direct RunTask schedules archive 'ECS Task State Change' events from "
        "EventBridge to CloudWatch Logs.")


def _clients(source: Any) -> Callable[[str], Any]:
    if isinstance(source, Mapping):
        def pick(service: str) -> Any:
            if service not in source:
                raise ValidationError("source", sorted(source), f"a dict of clients including '{service}'")
            return source[service]
        return pick
    if callable(getattr(source, "client", None)):
        return source.client
    raise ValidationError("source", source, "a sfnecs Target, a boto3 Session, or a dict of boto3 clients by service")


def _execution_outcome(sfn: Any, arn: str) -> tuple[str | None, Any, Any]:
    """(error, cause, task data or task ARN) from the newest task events of an execution's history."""
    events = sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=1000)["events"]
    failures: dict[str, tuple[Any, Any]] = {}
    succeeded = submitted = None
    for event in sorted(events, key=lambda e: e.get("id", 0), reverse=True):  # newest first, whatever the order
        kind = event.get("type", "")
        details = next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})
        if kind in ("TaskFailed", "TaskTimedOut", "ExecutionFailed", "ExecutionTimedOut"):
            # A Task state's own failure beats the execution's: a Catch -> Fail state renames the error.
            failures.setdefault("task" if kind.startswith("Task") else "execution",
                                (details.get("error"), details.get("cause")))
        elif kind == "TaskSucceeded" and succeeded is None:
            output, _ = _parse_json(details.get("output"))
            succeeded = details.get("output") if isinstance(output, dict) else None
        elif kind == "TaskSubmitted" and submitted is None:  # RunTask's response: the task ARN to describe
            output, _ = _parse_json(details.get("output"))
            tasks = _camel(output).get("tasks") if isinstance(output, dict) else None
            if isinstance(tasks, list) and tasks and isinstance(tasks[0], dict):
                submitted = tasks[0].get("taskArn")
    error, cause = failures.get("task") or failures.get("execution") or (None, None)
    if error is None:
        return None, None, succeeded or submitted
    parsed, problem = _parse_json(cause)
    if not problem and isinstance(parsed, dict) and _looks_like_task(_camel(parsed)):
        return error, None, cause  # the .sync Cause is the stopped task itself
    return error, cause, submitted


def _read_awslogs(logs: Any, definition: Mapping[str, Any], facts: Facts, main_container: str | None,
                  limit: int) -> list[str]:
    from botocore.exceptions import ClientError

    containers = definition.get("containerDefinitions") or []
    chosen = next((c for c in containers if c.get("name") == (main_container or _name(facts.main or {}))),
                  containers[0] if containers else None)
    options = ((chosen or {}).get("logConfiguration") or {})
    opts = options.get("options") or {}
    m = _TASK_ARN.fullmatch(facts.text("taskArn"))
    if options.get("logDriver") != "awslogs" or not opts.get("awslogs-group") or not m:
        return []
    stream = awslogs_stream(opts.get("awslogs-stream-prefix"), chosen["name"], m["id"])
    try:
        events = logs.get_log_events(logGroupName=opts["awslogs-group"], logStreamName=stream, limit=limit,
                                     startFromHead=False)["events"]
    except ClientError:
        return []  # no stream: the container never started, or logged nothing
    return [e.get("message", "") for e in events]
