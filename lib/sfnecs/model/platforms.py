"""Platforms: the one map between ECS `runtimePlatform.cpuArchitecture` and the OCI platform an image
declares (X86_64 <-> linux/amd64, ARM64 <-> linux/arm64).

Why one home: the image reader, verify, diagnose and the sandbox's Fargate emulator all ask
"does this image run on this task?" and must answer it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from sfnecs.checks import check_choice
from sfnecs.exceptions import ValidationError
from sfnecs.model.fargate import CPU_ARCHITECTURES, OS_FAMILIES


@dataclass(frozen=True, order=True)
class Platform:
    """An OCI platform: os, architecture and optional variant (e.g. linux/arm64/v8)."""

    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    @classmethod
    def parse(cls, text: str) -> Platform:
        """'linux/arm64' or 'linux/arm/v7' -> Platform; raise ValidationError otherwise."""
        parts = text.split("/") if isinstance(text, str) else []
        if len(parts) not in (2, 3) or not all(parts):
            raise ValidationError("platform", text, "os/architecture[/variant], e.g. linux/amd64 or linux/arm/v7")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    @property
    def ecs_cpu_architecture(self) -> str | None:
        """The Fargate `cpuArchitecture` that runs this platform (X86_64, ARM64), else None."""
        for cpu, plat in ECS_PLATFORMS.items():
            if self.same_cpu(plat):
                return cpu
        return None

    def same_cpu(self, other: Platform) -> bool:
        """Same os and architecture; variants compared only when both are given (arm64's v8 is implied)."""
        if (self.os, self.architecture) != (other.os, other.architecture):
            return False
        mine, theirs = (
            None if v == "v8" and self.architecture == "arm64" else v for v in (self.variant, other.variant)
        )
        return mine is None or theirs is None or mine == theirs


#: ECS `runtimePlatform.cpuArchitecture` (Linux) -> the OCI platform Fargate pulls and runs.
ECS_PLATFORMS: dict[str, Platform] = {"X86_64": Platform("linux", "amd64"), "ARM64": Platform("linux", "arm64")}


def oci_platform(cpu_architecture: str, os_family: str = "LINUX") -> Platform:
    """The OCI platform a task with this ECS `runtimePlatform` pulls, e.g. ARM64 -> linux/arm64.

    Why: Fargate picks the image index entry for this platform; raise ValidationError for a
    cpuArchitecture or operatingSystemFamily ECS does not know (Windows families keep the CPU).
    """
    check_choice("cpu_architecture", cpu_architecture, CPU_ARCHITECTURES)
    check_choice("os_family", os_family, OS_FAMILIES)
    plat = ECS_PLATFORMS[cpu_architecture]
    return plat if os_family == "LINUX" else Platform("windows", plat.architecture)
