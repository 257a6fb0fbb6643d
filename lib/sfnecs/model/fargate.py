"""Fargate facts: task sizes, CPU architectures, OS families and capacity providers, and their checks.

Why one home: the StackSpec, the task definition, the sandbox's Fargate emulator and diagnose all
decide from these same facts.
"""

from __future__ import annotations

from typing import Any

from sfnecs.checks import check_choice, check_int
from sfnecs.exceptions import ValidationError

#: Fargate task-level CPU units -> allowed memory (MiB). AWS ECS developer guide,
#: "Task CPU and memory" (Linux; 8 and 16 vCPU need platform version 1.4.0 or later).
FARGATE_CPU_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

#: Windows on Fargate: 1, 2 or 4 vCPU with the Linux memory ranges of those sizes (1 vCPU 2-8 GB,
#: 2 vCPU 4-16 GB, 4 vCPU 8-30 GB), X86_64 only. ECS developer guide, "Troubleshoot invalid CPU or
#: memory errors" and "Amazon ECS task definition differences for Fargate" (Windows containers).
WINDOWS_CPU = (1024, 2048, 4096)

CPU_ARCHITECTURES = ("X86_64", "ARM64")
OS_FAMILIES = (
    "LINUX",
    "WINDOWS_SERVER_2019_FULL",
    "WINDOWS_SERVER_2019_CORE",
    "WINDOWS_SERVER_2022_FULL",
    "WINDOWS_SERVER_2022_CORE",
)

#: The Fargate capacity providers (ECS developer guide, "AWS Fargate capacity providers"): available
#: to every account, usable once associated with the cluster. The kit runs on Fargate only.
CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
#: Fargate platform versions a task may ask for ("AWS Fargate platform versions for Amazon ECS"):
#: Linux 1.4.0 and 1.3.0, Windows 1.0.0; LATEST is the newest of the task's OS family.
PLATFORM_VERSIONS = {"LINUX": ("LATEST", "1.4.0", "1.3.0"), "WINDOWS": ("LATEST", "1.0.0")}
#: The oldest Linux platform version each architecture runs on Fargate Spot (ECS API reference,
#: CapacityProviderStrategyItem: "FARGATE_SPOT supports Linux tasks with the X86_64 architecture on
#: platform version 1.3.0 or later ... with the ARM64 architecture on platform version 1.4.0 or later").
#: ARM64 tasks need 1.4.0 on Fargate whatever the provider.
SPOT_MIN_PLATFORM = {"X86_64": "1.3.0", "ARM64": "1.4.0"}

#: CapacityProviderStrategyItem (ECS API reference): weight 0-1000, base 0-100000
CAPACITY_WEIGHT_MAX = 1000
CAPACITY_BASE_MAX = 100_000


def check_fargate_size(cpu: object, memory: object, os_family: str = "LINUX") -> None:
    """Raise ValidationError unless (cpu, memory) is a valid Fargate task size for `os_family`."""
    # whole numbers only: 256.0 == 256 in Python, but the task definition would say cpu "256.0"
    sizes = FARGATE_CPU_MEMORY if os_family == "LINUX" else WINDOWS_CPU
    if isinstance(cpu, bool) or not isinstance(cpu, int) or cpu not in sizes:
        what = "Fargate CPU units" if os_family == "LINUX" else f"Fargate CPU units for os_family={os_family!r}"
        raise ValidationError("cpu", cpu, what + ": " + ", ".join(map(str, sizes)))
    allowed = FARGATE_CPU_MEMORY[cpu]
    if isinstance(memory, bool) or not isinstance(memory, int) or memory not in allowed:
        raise ValidationError(
            "memory",
            memory,
            f"with cpu={cpu}, Fargate allows {allowed[0]}-{allowed[-1]} MiB in steps of "
            f"{allowed[1] - allowed[0]}: {', '.join(map(str, allowed))}",
        )


def check_capacity_provider_strategy(value: object) -> tuple[tuple[str, int, int], ...]:
    """Normalise a capacity provider strategy to ((provider, weight, base), ...), or raise ValidationError.

    Accepted: "FARGATE_SPOT" (that provider alone, weight 1); or a list whose items are a provider
    name (weight 1), a (provider, weight[, base]) pair or triple, or a mapping with capacityProvider
    (or capacity_provider), weight and base as RunTask takes it. An empty list keeps launchType FARGATE.
    """
    parameter = "capacity_provider_strategy"
    shape = (
        "a provider name, or a list of items: a name, (name, weight[, base]) or {'capacityProvider': name, "
        "'weight': w, 'base': b}"
    )
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise ValidationError(parameter, value, shape)
    out: list[tuple[str, int, int]] = []
    provider: Any
    for item in items:
        if isinstance(item, str):
            provider, weight, base = item, 1, 0
        elif isinstance(item, dict):
            unknown = set(item) - {"capacityProvider", "capacity_provider", "weight", "base"}
            if unknown:
                raise ValidationError(parameter, value, f"{shape}; unknown key(s) {sorted(unknown)}")
            # an omitted weight or base is 0, the API's default
            provider = item.get("capacityProvider", item.get("capacity_provider"))
            weight, base = item.get("weight", 0), item.get("base", 0)
        elif isinstance(item, (list, tuple)) and len(item) in (2, 3):
            provider, weight, base = (*item, 0) if len(item) == 2 else item
        else:
            raise ValidationError(parameter, value, shape)
        check_choice(f"{parameter} capacityProvider", provider, CAPACITY_PROVIDERS)
        check_int(f"{parameter} weight of {provider}", weight, 0, CAPACITY_WEIGHT_MAX)
        check_int(f"{parameter} base of {provider}", base, 0, CAPACITY_BASE_MAX)
        out.append((provider, weight, base))
    names = [p for p, _, _ in out]
    if len(set(names)) != len(names):
        raise ValidationError(parameter, value, "each capacity provider at most once")
    # CapacityProviderStrategyItem (ECS API reference): only one provider may have a base; with every
    # weight 0 no task can be placed, so RunTask fails.
    if sum(b > 0 for _, _, b in out) > 1:
        raise ValidationError(parameter, value, "a base (a minimum task count) on one capacity provider only")
    if out and not any(w > 0 for _, w, _ in out):
        raise ValidationError(parameter, value, "at least one capacity provider with a weight above 0")
    return tuple(out)


#: Tagging AWS resources (AWS General Reference, "Tag naming limits and requirements"): key 1-128 and
#: value 0-256 characters of letters, digits, spaces and _ . : / = + - @; the aws: prefix is reserved;
