"""Console links: region and partition in every URL (sfnecs.model.console)."""

from __future__ import annotations

import pytest

from sfnecs.exceptions import ValidationError
from sfnecs.model import StackSpec
from sfnecs.model.console import (
    execution_link,
    links_markdown,
    log_stream_link,
    run_links,
    schedule_link,
    stack_links,
    state_machine_link,
    task_link,
)

TASK_ID = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    "region, domain",
    [
        ("eu-west-1", "eu-west-1.console.aws.amazon.com"),
        ("cn-north-1", "cn-north-1.console.amazonaws.cn"),
        ("us-gov-west-1", "us-gov-west-1.console.amazonaws-us-gov.com"),
    ],
)
def test_every_link_names_the_region_and_the_partitions_console(region, domain):
    spec = StackSpec("nightly", region=region)
    partition = spec.partition
    execution = f"arn:{partition}:states:{region}:{spec.account}:execution:nightly:run-1"
    task = f"arn:{partition}:ecs:{region}:{spec.account}:task/nightly/{TASK_ID}"
    assert execution_link(execution) == (
        f"https://{domain}/states/home?region={region}#/v2/executions/details/{execution}"
    )
    assert state_machine_link(spec.state_machine_arn, region) == (
        f"https://{domain}/states/home?region={region}#/statemachines/view/{spec.state_machine_arn}"
    )
    assert task_link(task) == f"https://{domain}/ecs/v2/clusters/nightly/tasks/{TASK_ID}/configuration?region={region}"
    assert log_stream_link(region, "/ecs/nightly", f"nightly/job/{TASK_ID}") == (
        f"https://{domain}/cloudwatch/home?region={region}#logsV2:log-groups/log-group/$252Fecs$252Fnightly"
        f"/log-events/nightly$252Fjob$252F{TASK_ID}"
    )
    assert (
        schedule_link(region, "nightly", "nightly")
        == f"https://{domain}/scheduler/home?region={region}#schedules/nightly/nightly"
    )


def test_links_for_what_cannot_be_linked_are_empty():
    assert execution_link("not-an-arn") == ""
    old_format = "arn:aws:ecs:us-east-1:123456789012:task/01234567-89ab-cdef-0123-456789abcdef"  # names no cluster
    assert task_link(old_format) == ""


@pytest.mark.parametrize(
    "region, partition, registry",
    [
        ("us-east-1", "aws", "amazonaws.com"),
        ("cn-northwest-1", "aws-cn", "amazonaws.com.cn"),
        ("us-gov-east-1", "aws-us-gov", "amazonaws.com"),
    ],
)
def test_the_stack_names_its_partition_everywhere(region, partition, registry):
    spec = StackSpec("nightly", region=region)
    assert spec.partition == partition
    assert spec.state_machine_arn.startswith(f"arn:{partition}:states:{region}:")
    assert spec.role_arn("r") == f"arn:{partition}:iam::{spec.account}:role/r"
    assert spec.integration_arn("ecs:runTask.sync") == f"arn:{partition}:states:::ecs:runTask.sync"
    assert spec.image_uri == f"{spec.account}.dkr.ecr.{region}.{registry}/nightly:latest"


def test_isolated_regions_are_refused_by_name():
    with pytest.raises(
        ValidationError,
        match="region='us-iso-east-1' is not valid: a region of the aws, aws-cn or aws-us-gov partition",
    ):
        StackSpec("nightly", region="us-iso-east-1")


def test_results_carry_links_to_the_console():
    spec = StackSpec("nightly", region="ap-northeast-1")
    domain = "https://ap-northeast-1.console.aws.amazon.com"
    assert stack_links(spec) == {
        "schedule": f"{domain}/scheduler/home?region=ap-northeast-1#schedules/nightly/nightly",
        "state_machine": f"{domain}/states/home?region=ap-northeast-1#/statemachines/view/{spec.state_machine_arn}",
    }
    assert set(stack_links(spec.replace(pattern="A"))) == {"schedule"}
    task = f"arn:aws:ecs:ap-northeast-1:{spec.account}:task/nightly/{TASK_ID}"
    links = run_links(spec, None, task)
    assert set(links) == {"task", "log_stream"}
    assert links["log_stream"].endswith(f"log-group/$252Fecs$252Fnightly/log-events/nightly$252Fjob$252F{TASK_ID}")
    assert run_links(spec) == {}


def test_links_render_as_a_clickable_list():
    links = stack_links(StackSpec("nightly", region="cn-north-1"))
    text = links_markdown(links)
    assert text.startswith("**In the AWS console:**\n\n- ")
    assert f"- state machine: [{links['state_machine']}]({links['state_machine']})" in text.splitlines()
    assert "console.amazonaws.cn" in text and len(text.splitlines()) == 2 + len(links)
    assert links_markdown({}) == "**In the AWS console:** no console links (nothing deployed or run yet)"
