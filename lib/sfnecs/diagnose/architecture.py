"""The architecture analysis: does the image run on the task's CPU, and the fix when it does not.

Why its own module: it is the failure this project teaches (an image built on one CPU, run on the
other), and the only one that reads the image itself (index platforms, labels, the entrypoint's ELF
header); its two categories are a pull that finds no platform and a kernel refusing the binary.
"""

from __future__ import annotations

from sfnecs.diagnose.evidence import (
    ESSENTIAL_EXITED,
    Facts,
    _cpu_evidence,
    _exit,
    _hits_evidence,
    _image_evidence,
    _task_evidence,
)
from sfnecs.diagnose.result import Diagnosis
from sfnecs.i18n import tr
from sfnecs.images import ImagePlatforms
from sfnecs.model.platforms import ECS_PLATFORMS

#: the OCI architectures Fargate runs (linux/amd64, linux/arm64)
_FARGATE_ARCHITECTURES = {p.architecture for p in ECS_PLATFORMS.values()}


def _runtime_platform_fix(cpu: str) -> str:
    json_label = tr("task definition JSON")
    return (
        '  runtime_platform {\n    operating_system_family = "LINUX"\n'
        f'    cpu_architecture        = "{cpu}"\n  }}\n'
        f'  ({json_label}: "runtimePlatform": {{"cpuArchitecture": "{cpu}", '
        f'"operatingSystemFamily": "LINUX"}})'
    )


def _architecture_fix(image_arch: str | None, task_cpu: str, image: str) -> str:
    task_plat = ECS_PLATFORMS[task_cpu]
    other_cpu = next((cpu for cpu, p in ECS_PLATFORMS.items() if p.architecture == image_arch), None)
    lines = []
    if other_cpu and other_cpu != task_cpu:
        lines += [
            tr("Either run the task on the image's CPU ({arch}): in the Terraform task definition", arch=image_arch),
            _runtime_platform_fix(other_cpu),
            tr("or"),
        ]
    elif image_arch is None:
        guess = next(c for c in ECS_PLATFORMS if c != task_cpu)
        lines += [
            tr(
                "Either set the task definition's runtime platform to the CPU the image was built for "
                "(probably {cpu}; check with sfnecs.images):",
                cpu=guess,
            ),
            _runtime_platform_fix(guess),
        ]
        lines += [tr("or")]
    elif image_arch not in _FARGATE_ARCHITECTURES:
        lines += [
            tr("Fargate runs only linux/amd64 (X86_64) and linux/arm64 (ARM64); this image is {arch}.", arch=image_arch)
        ]
    lines += [
        tr(
            "rebuild the image for the task's CPU ({platform}); build tools default to the build machine's CPU:",
            platform=task_plat,
        ),
        f"  docker buildx build --platform {task_plat} -t {image} --push .",
        tr("or build both platforms into one index, so either CPU finds its image:"),
        f"  docker buildx build --platform linux/amd64,linux/arm64 -t {image} --push .",
    ]
    return "\n".join(lines)


def _other_architecture(task_cpu: str) -> str:
    return next(p.architecture for c, p in ECS_PLATFORMS.items() if c != task_cpu)


def _binary_fix(image: ImagePlatforms | None) -> str:
    if not image or not image.disagreements:
        return ""
    return (
        "\n"
        + tr(
            "The labels and the binary disagree: a Dockerfile step probably downloads a prebuilt binary for a "
            "fixed CPU. Pick the download per platform with BuildKit's build argument, e.g."
        )
        + "\n  ARG TARGETARCH\n  RUN curl -fsSLo /usr/local/bin/tool https://example.com/tool-linux-${TARGETARCH}"
    )


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


def platform_missing(facts: Facts) -> Diagnosis | None:
    """An image index without the task's platform: the pull fails before any container starts."""
    hits = facts.find(r"does not contain descriptor matching platform '([^']+)'")
    image = facts.image
    predicted = image is not None and image.is_index and image.supports(facts.cpu_architecture) is False
    if not hits and not predicted:
        return None
    wanted = hits[0][2][1] if hits else str(ECS_PLATFORMS[facts.cpu_architecture])
    offered = ", ".join(map(str, image.platforms)) if image and image.platforms else None
    evidence = _hits_evidence(hits) + _image_evidence(image) + [_cpu_evidence(facts)]
    summary = (
        tr(
            "The image is an index without {platform}, so Fargate cannot pull it for this {cpu} task "
            "(it offers {offered}).",
            platform=wanted,
            cpu=facts.cpu_architecture,
            offered=offered,
        )
        if offered
        else tr(
            "The image is an index without {platform}, so Fargate cannot pull it for this {cpu} task.",
            platform=wanted,
            cpu=facts.cpu_architecture,
        )
    )
    fit = next((cpu for cpu, p in ECS_PLATFORMS.items() if image and any(q.same_cpu(p) for q in image.platforms)), None)
    fix = _architecture_fix(ECS_PLATFORMS[fit].architecture if fit else None, facts.cpu_architecture, facts.image_name)
    fix += "\n" + tr(
        "Note: `docker buildx` adds attestation manifests by default, so even a one-platform build is "
        "pushed as an index: an arm64-only build fails here, at the pull, not with exec format error."
    )
    return Diagnosis(
        "platform_missing",
        "high" if hits or (image and not image.disagreements) else "medium",
        summary,
        tuple(evidence),
        fix,
    )


def architecture_mismatch(facts: Facts) -> Diagnosis | None:
    """The kernel refused the entrypoint (exec format error), or the image's binaries are for another CPU."""
    hits = facts.find(r"exec format error")
    image = facts.image
    cpu = facts.cpu_architecture
    runs = image.runs_on(cpu) if image else None
    pull_fails = image is not None and image.is_index and image.supports(cpu) is False
    if not hits and not (runs is False and not pull_fails):
        return None
    binary = image.binary if image else None
    if hits and binary and binary.refused_on_every_cpu:
        return Diagnosis(
            "entrypoint_not_executable",
            "high",
            tr("exec format error, but not from the CPU: the entrypoint is neither a binary nor a #! script."),
            tuple(_hits_evidence(hits) + _image_evidence(image)),
            tr(
                "Start the script with a #! line (e.g. #!/bin/sh) and make it executable, or set the command to "
                "run it through its interpreter:"
            )
            + ' command = ["/bin/sh", "/app/run"].',
        )
    image_arch = _image_arch(image, cpu)
    stopped = _exit(facts.main) not in (None, 0) or ESSENTIAL_EXITED in facts.stopped_reason
    confidence = "high" if hits or stopped else "medium"
    if hits:
        if image_arch:
            who = tr("the image holds {arch} code", arch=image_arch)
        elif cpu == "X86_64":
            who = tr(
                "the image was built for another CPU (probably {arch}, e.g. on Apple Silicon without --platform)",
                arch=_other_architecture(cpu),
            )
        else:
            who = tr("the image was built for another CPU (probably {arch})", arch=_other_architecture(cpu))
        summary = tr(
            "The kernel refused the container's entrypoint (exec format error) on this {cpu} task: {who}.",
            cpu=cpu,
            who=who,
        )
    else:
        what = tr("binary") if image and image.binaries else tr("platform")
        summary = tr(
            "The image's {what} is {arch} but the task runs on {cpu}: "
            "the container would start and die with exec format error{exit}.",
            what=what,
            arch=image_arch or tr("another CPU"),
            cpu=cpu,
            exit=tr(" (exit code 1)") if not stopped else "",
        )
    evidence = _hits_evidence(hits) + _task_evidence(facts) + _image_evidence(image) + [_cpu_evidence(facts)]
    return Diagnosis(
        "architecture_mismatch",
        confidence,
        summary,
        tuple(evidence),
        _architecture_fix(image_arch, cpu, facts.image_name) + _binary_fix(image),
    )
