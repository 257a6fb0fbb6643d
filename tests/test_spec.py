"""sfnecs.spec: the capacity provider strategy, normalised and checked before any AWS call (offline)."""

from __future__ import annotations

from typing import Any

import pytest

from sfnecs.exceptions import ValidationError
from sfnecs.model import StackSpec


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ((), ()),
        ("FARGATE_SPOT", (("FARGATE_SPOT", 1, 0),)),
        (["FARGATE_SPOT"], (("FARGATE_SPOT", 1, 0),)),
        ([("FARGATE", 1, 1), ("FARGATE_SPOT", 3)], (("FARGATE", 1, 1), ("FARGATE_SPOT", 3, 0))),
        # RunTask's own shape; an omitted base or weight is 0 as in the API
        (
            [
                {"capacityProvider": "FARGATE", "base": 2, "weight": 1},
                {"capacity_provider": "FARGATE_SPOT", "weight": 4},
            ],
            (("FARGATE", 1, 2), ("FARGATE_SPOT", 4, 0)),
        ),
    ],
)
def test_capacity_provider_strategy_forms(given: Any, normalised: tuple) -> None:
    spec = StackSpec("cap", capacity_provider_strategy=given)
    assert spec.capacity_provider_strategy == normalised
    assert spec.capacity_providers == tuple(p for p, _, _ in normalised)
    assert spec.replace(cpu=512, memory=1024).capacity_provider_strategy == normalised  # survives a copy
    assert StackSpec(**spec.to_dict()) == spec


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("SPOT", "capacityProvider='SPOT' is not valid: use FARGATE or FARGATE_SPOT"),
        ([("EC2_ASG", 1)], "use FARGATE or FARGATE_SPOT"),  # the kit runs on Fargate only
        (5, "a provider name, or a list of items"),
        ([{"provider": "FARGATE"}], r"unknown key\(s\) \['provider'\]"),
        ([("FARGATE", 1, 0, 9)], "a provider name, or a list of items"),
        ([("FARGATE", 1001)], "weight of FARGATE=1001 is not valid: a whole number from 0 to 1000"),
        ([("FARGATE", True)], "weight of FARGATE=True is not valid"),
        ([("FARGATE", 1, 100_001)], "base of FARGATE=100001 is not valid: a whole number from 0 to 100000"),
        ([("FARGATE", 1), ("FARGATE", 2)], "each capacity provider at most once"),
        ([("FARGATE", 1, 1), ("FARGATE_SPOT", 1, 1)], "a base .* on one capacity provider only"),
        ([("FARGATE", 0), ("FARGATE_SPOT", 0)], "at least one capacity provider with a weight above 0"),
        ([{"capacityProvider": "FARGATE_SPOT"}], "at least one capacity provider with a weight above 0"),
    ],
)
def test_capacity_provider_strategy_refuses_what_runtask_would(given: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as err:
        StackSpec("cap", capacity_provider_strategy=given)
    assert err.value.parameter.startswith("capacity_provider_strategy")


WINDOWS = {"os_family": "WINDOWS_SERVER_2022_CORE", "cpu": 1024, "memory": 2048}


def test_fargate_spot_is_for_linux_tasks_only() -> None:
    # ECS developer guide, "AWS Fargate capacity providers": Windows containers on Fargate don't support Spot
    with pytest.raises(ValidationError, match="FARGATE only with os_family='WINDOWS_SERVER_2022_CORE'"):
        StackSpec("cap", **WINDOWS, capacity_provider_strategy="FARGATE_SPOT")
    assert StackSpec("cap", **WINDOWS, capacity_provider_strategy="FARGATE").capacity_providers


def test_fargate_spot_runs_both_linux_architectures() -> None:
    # ECS API reference, CapacityProviderStrategyItem: FARGATE_SPOT supports Linux X86_64 tasks on platform
    # version 1.3.0 or later and Linux ARM64 tasks on 1.4.0 or later (older guide copies said X86_64 only)
    for arch in ("X86_64", "ARM64"):
        mixed = StackSpec(
            "cap", cpu_architecture=arch, capacity_provider_strategy=[("FARGATE", 1), ("FARGATE_SPOT", 3)]
        )
        assert mixed.capacity_providers == ("FARGATE", "FARGATE_SPOT")
        assert (
            StackSpec(
                "cap", cpu_architecture=arch, capacity_provider_strategy="FARGATE_SPOT", platform_version="1.4.0"
            ).platform_version
            == "1.4.0"
        )
    assert StackSpec("cap", capacity_provider_strategy="FARGATE_SPOT", platform_version="1.3.0").capacity_providers
    with pytest.raises(
        ValidationError, match="platform_version='1.3.0' is not valid: LATEST or 1.4.0 with cpu_architecture='ARM64'"
    ):
        StackSpec("cap", cpu_architecture="ARM64", capacity_provider_strategy="FARGATE_SPOT", platform_version="1.3.0")


def test_platform_versions_follow_the_os_family() -> None:
    # "AWS Fargate platform versions for Amazon ECS": Linux 1.4.0 and 1.3.0, Windows 1.0.0
    assert StackSpec("pv", platform_version="1.3.0").platform_version == "1.3.0"
    assert StackSpec("pv", **WINDOWS, platform_version="1.0.0").platform_version == "1.0.0"
    with pytest.raises(ValidationError, match=r"platform_version='1.0.0' is not valid: use LATEST or 1.4.0 or 1.3.0"):
        StackSpec("pv", platform_version="1.0.0")
    with pytest.raises(ValidationError, match=r"platform_version='1.4.0' is not valid: use LATEST or 1.0.0"):
        StackSpec("pv", **WINDOWS, platform_version="1.4.0")


@pytest.mark.parametrize(
    "cpu, memory, ok",
    [
        (512, 1024, False),
        (1024, 2048, True),
        (1024, 8192, True),
        (1024, 9216, False),
        (2048, 4096, True),
        (2048, 16384, True),
        (4096, 8192, True),
        (4096, 30720, True),
        (4096, 31744, False),
        (8192, 16384, False),
    ],
)
def test_windows_sizes_on_fargate(cpu, memory, ok) -> None:
    # ECS developer guide, "Troubleshoot invalid CPU or memory": Windows needs at least 1 vCPU; 1 vCPU
    # 2-8 GB, 2 vCPU 4-16 GB, 4 vCPU 8-30 GB
    make = lambda: StackSpec("win", **{**WINDOWS, "cpu": cpu, "memory": memory})  # noqa: E731
    if ok:
        assert make().cpu == cpu
    else:
        with pytest.raises(ValidationError, match=r"^(cpu|memory)="):
            make()


def test_windows_on_fargate_is_x86_64_only() -> None:
    with pytest.raises(ValidationError, match="cpu_architecture='ARM64' is not valid: X86_64 with os_family="):
        StackSpec("win", **WINDOWS, cpu_architecture="ARM64")
