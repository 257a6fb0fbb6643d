"""sfnecs.spec: the capacity provider strategy, normalised and checked before any AWS call (offline)."""

from __future__ import annotations

from typing import Any

import pytest

from sfnecs.exceptions import ValidationError
from sfnecs.model import StackSpec


@pytest.mark.parametrize(("given", "normalised"), [
    ((), ()),
    ("FARGATE_SPOT", (("FARGATE_SPOT", 1, 0),)),
    (["FARGATE_SPOT"], (("FARGATE_SPOT", 1, 0),)),
    ([("FARGATE", 1, 1), ("FARGATE_SPOT", 3)], (("FARGATE", 1, 1), ("FARGATE_SPOT", 3, 0))),
    # RunTask's own shape; an omitted base or weight is 0 as in the API
    ([{"capacityProvider": "FARGATE", "base": 2, "weight": 1}, {"capacity_provider": "FARGATE_SPOT", "weight": 4}],
     (("FARGATE", 1, 2), ("FARGATE_SPOT", 4, 0))),
])
def test_capacity_provider_strategy_forms(given: Any, normalised: tuple) -> None:
    spec = StackSpec("cap", capacity_provider_strategy=given)
    assert spec.capacity_provider_strategy == normalised
    assert spec.capacity_providers == tuple(p for p, _, _ in normalised)
    assert spec.replace(cpu=512, memory=1024).capacity_provider_strategy == normalised  # survives a copy
    assert StackSpec(**spec.to_dict()) == spec


@pytest.mark.parametrize(("given", "message"), [
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
])
def test_capacity_provider_strategy_refuses_what_runtask_would(given: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as err:
        StackSpec("cap", capacity_provider_strategy=given)
    assert err.value.parameter.startswith("capacity_provider_strategy")


def test_fargate_spot_is_for_linux_tasks_only() -> None:
    # ECS developer guide, "AWS Fargate capacity providers": Windows containers on Fargate don't support Spot
    with pytest.raises(ValidationError, match="FARGATE only with os_family='WINDOWS_SERVER_2022_CORE'"):
        StackSpec("cap", os_family="WINDOWS_SERVER_2022_CORE", capacity_provider_strategy="FARGATE_SPOT")
    assert StackSpec("cap", os_family="WINDOWS_SERVER_2022_CORE", capacity_provider_strategy="FARGATE").capacity_providers


def test_fargate_spot_is_for_x86_64_tasks_only() -> None:
    # same page: "Linux tasks with the ARM64 architecture don't support the Fargate Spot capacity provider"
    with pytest.raises(ValidationError, match="FARGATE only with cpu_architecture='ARM64'"):
        StackSpec("cap", cpu_architecture="ARM64", capacity_provider_strategy=[("FARGATE", 1), ("FARGATE_SPOT", 3)])
    assert StackSpec("cap", cpu_architecture="ARM64", capacity_provider_strategy="FARGATE").capacity_providers
    assert StackSpec("cap", cpu_architecture="X86_64", capacity_provider_strategy="FARGATE_SPOT").capacity_providers
