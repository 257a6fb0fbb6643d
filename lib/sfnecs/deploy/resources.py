"""Resources: the registry of every AWS resource type of a stack, in creation order.

Why a registry: plan, apply and teardown are one loop over `RESOURCES` (in creation order), so a new
resource type is one class (in the module of its service family) and one line here. The base class and
shared helpers live in `sfnecs.deploy.resource`; this module re-exports the names callers import.
"""

from __future__ import annotations

from sfnecs.deploy.alerting_resources import AlarmResource, TaskFailureRuleResource, TopicPolicyResource
from sfnecs.deploy.container_resources import (
    ClusterResource,
    LogGroupResource,
    RepositoryResource,
    TaskDefinitionResource,
)
from sfnecs.deploy.iam_resources import RoleResource
from sfnecs.deploy.messaging_resources import QueueResource, TopicResource
from sfnecs.deploy.resource import NEXT_REVISION, Resource, ecr_reference, error_code, retry_role_propagation
from sfnecs.deploy.workflow_resources import ScheduleGroupResource, ScheduleResource, StateMachineResource

__all__ = [
    "AlarmResource",
    "ClusterResource",
    "LogGroupResource",
    "NEXT_REVISION",
    "QueueResource",
    "RESOURCES",
    "RepositoryResource",
    "Resource",
    "RoleResource",
    "ScheduleGroupResource",
    "ScheduleResource",
    "StateMachineResource",
    "TaskDefinitionResource",
    "TaskFailureRuleResource",
    "TopicPolicyResource",
    "TopicResource",
    "ecr_reference",
    "error_code",
    "retry_role_propagation",
]

#: every resource, in creation order (teardown runs it backwards)
RESOURCES: tuple[Resource, ...] = (
    LogGroupResource(),
    RepositoryResource(),
    ClusterResource(),
    RoleResource(),
    QueueResource(),
    TopicResource(),
    TopicPolicyResource(),
    TaskDefinitionResource(),
    StateMachineResource(),
    ScheduleGroupResource(),
    ScheduleResource(),
    TaskFailureRuleResource(),
    AlarmResource(),
)
