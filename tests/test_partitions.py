"""Every ARN the kit writes names the stack's partition: aws, aws-cn or aws-us-gov (IAM user guide,
"IAM ARNs"). Goldens for the two partitions other than aws, byte for byte."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from sfnecs import iam
from sfnecs import statemachine as sm
from sfnecs.deploy.requests import schedule_request, state_machine_request, task_definition_request
from sfnecs.model import StackSpec

GOLDEN = Path(__file__).parent / "golden" / "partitions"
ARN = re.compile(r"arn:[a-z-]+:")


def documents(spec: StackSpec) -> dict[str, object]:
    """Everything the kit renders for a stack: ASL, every role's policies, the schedule and the task definition."""
    roles = {
        kind: {"trust": role.trust, "permissions": role.permissions} for kind, role in iam.policies_for(spec).items()
    }
    return {
        "asl": sm.build_definition(spec),
        "state_machine": state_machine_request(spec),
        "roles": roles,
        "schedule": schedule_request(spec, spec.arn("ecs", f"task-definition/{spec.family}:1")),
        "task_definition": task_definition_request(spec),
    }


@pytest.mark.parametrize("region, partition", [("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")])
@pytest.mark.parametrize("pattern", ["A", "B"])
def test_every_arn_names_the_partition(region, partition, pattern):
    spec = StackSpec("nightly", pattern=pattern, region=region)
    text = json.dumps(documents(spec), indent=1, sort_keys=True, default=str)
    found = set(ARN.findall(text))
    assert found == {f"arn:{partition}:"}, found
    if pattern == "B":
        assert f'"Resource": "arn:{partition}:states:::ecs:runTask.sync"' in sm.to_json(sm.build_definition(spec))
    path = GOLDEN / f"{partition}-{pattern}.json"
    if os.environ.get("SFNECS_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    assert text + "\n" == path.read_text(), f"{path.name} differs: rerun with SFNECS_UPDATE_GOLDEN=1 if intended"


def test_the_image_registry_of_a_china_region_is_under_amazonaws_com_cn():
    spec = StackSpec("nightly", region="cn-northwest-1")
    container = task_definition_request(spec)["containerDefinitions"][0]
    assert container["image"] == f"{spec.account}.dkr.ecr.cn-northwest-1.amazonaws.com.cn/nightly:latest"
    repository = [
        s for s in iam.permission_policy(spec, "execution")["Statement"] if "ecr:BatchGetImage" in s["Action"]
    ]
    assert repository and repository[0]["Resource"][0].startswith("arn:aws-cn:ecr:cn-northwest-1:")
