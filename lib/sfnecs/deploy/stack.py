"""Plan, apply, verify and tear down every resource of a stack, idempotently and owning only what it tagged.

Why this shape: each resource type is one small `Kind` in a registry (desired document, read,
create, update, delete), so a plan is "desired documents (pure, from the StackSpec) diffed with
what AWS says", and apply is that same loop with the changes made. Every resource carries the tag
`sfnecs:stack=<name>`; what lacks it is never changed or deleted (DESIGN.md, "Own only what you
tagged"). EventBridge Scheduler tags only schedule *groups*, so the stack's schedule lives in its
own tagged group (Scheduler API reference, TagResource: "You can only assign tags to schedule groups").
"""

from __future__ import annotations

import html
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from botocore.exceptions import ClientError

from sfnecs.exceptions import StackError, ValidationError
from sfnecs.model.arns import ECR_IMAGE_RE
from sfnecs.model.spec import POLICY_NAME, StackSpec, log_stream_prefix, schedule_group, sfn_log_group
from sfnecs.checks import check_bool

__all__ = [
    "ACTIONS", "Change", "ChangeSet", "Check", "Desired", "KINDS", "Verification", "apply", "check_spec",
    "default_network",
    "desired_resources", "log_stream_prefix", "network_configuration", "plan", "run_task_placement", "schedule_group",
    "schedule_request", "state_machine_request", "task_definition_request", "teardown", "verify",
]

ACTIONS = ("create", "update", "no-op", "delete", "conflict")
#: SQS's longest retention (14 days, SQS developer guide): a dead letter should outlive a holiday
DLQ_RETENTION_SECONDS = 1_209_600
NEXT_REVISION = "(next revision)"


# ---- pure builders -------------------------------------------------------------------------------
def network_configuration(spec: StackSpec) -> dict[str, Any]:
    """RunTask's networkConfiguration (awsvpc, required on Fargate)."""
    cfg: dict[str, Any] = {"subnets": list(spec.subnets), "assignPublicIp": "ENABLED" if spec.assign_public_ip
                           else "DISABLED"}
    if spec.security_groups:
        cfg["securityGroups"] = list(spec.security_groups)
    return {"awsvpcConfiguration": cfg}


def run_task_placement(spec: StackSpec) -> dict[str, Any]:
    """RunTask's launchType FARGATE, or the spec's capacityProviderStrategy instead (never both).

    ECS API reference, RunTask: "If a capacityProviderStrategy is specified, the launchType parameter
    must be omitted." The providers must be associated with the cluster (ClusterKind does it).
    """
    if not spec.capacity_provider_strategy:
        return {"launchType": "FARGATE"}
    return {"capacityProviderStrategy": [{"capacityProvider": p, "weight": w, "base": b}
                                         for p, w, b in spec.capacity_provider_strategy]}


def task_definition_request(spec: StackSpec) -> dict[str, Any]:
    """The RegisterTaskDefinition request (without tags) for the stack's job."""
    container: dict[str, Any] = {
        "name": spec.container_name,
        "image": spec.image_uri,
        "essential": True,
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": spec.log_group, "awslogs-region": spec.region,
            "awslogs-stream-prefix": log_stream_prefix(spec)}},
    }
    if spec.command:
        container["command"] = list(spec.command)
    if spec.environment:
        container["environment"] = [{"name": k, "value": v} for k, v in sorted(spec.environment)]
    return {
        "family": spec.family,
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        # Fargate needs task-level cpu and memory, as strings in the API (ECS API reference)
        "cpu": str(spec.cpu),
        "memory": str(spec.memory),
        "runtimePlatform": {"cpuArchitecture": spec.cpu_architecture, "operatingSystemFamily": spec.os_family},
        "executionRoleArn": spec.role_arn(spec.execution_role),
        "taskRoleArn": spec.role_arn(spec.task_role),
        "containerDefinitions": [container],
    }


def state_machine_request(spec: StackSpec) -> dict[str, Any]:
    """The CreateStateMachine request (without tags); the definition comes from sfnecs.statemachine."""
    from sfnecs.statemachine import build_definition

    logging: dict[str, Any] = {"level": "OFF"}
    if spec.execution_logging:
        logging = {"level": "ALL", "includeExecutionData": True, "destinations": [
            {"cloudWatchLogsLogGroup": {"logGroupArn": spec.arn("logs", f"log-group:{sfn_log_group(spec)}:*")}}]}
    return {"name": spec.state_machine, "definition": build_definition(spec), "roleArn": spec.role_arn(spec.sfn_role),
            "type": "STANDARD", "loggingConfiguration": logging}


def schedule_request(spec: StackSpec, task_definition_arn: str) -> dict[str, Any]:
    """The CreateSchedule request: pattern B targets the state machine, pattern A ECS RunTask."""
    target: dict[str, Any] = {"RoleArn": spec.role_arn(spec.scheduler_role),
                              "RetryPolicy": {"MaximumRetryAttempts": spec.retry_attempts,
                                              "MaximumEventAgeInSeconds": spec.max_event_age_seconds},
                              "DeadLetterConfig": {"Arn": spec.dlq_arn}}
    if spec.pattern == "B":
        target["Arn"] = spec.state_machine_arn
        # context attribute (Scheduler User Guide, "Adding context attributes"): the execution
        # knows which scheduled time it serves, as runs.start() passes for a manual run
        target["Input"] = json.dumps({"scheduled_time": "<aws.scheduler.scheduled-time>"})
    else:
        vpc: dict[str, Any] = {"Subnets": list(spec.subnets),
                               "AssignPublicIp": "ENABLED" if spec.assign_public_ip else "DISABLED"}
        if spec.security_groups:
            vpc["SecurityGroups"] = list(spec.security_groups)
        target["Arn"] = spec.cluster_arn
        # LaunchType or CapacityProviderStrategy, as for RunTask (Scheduler API reference, EcsParameters;
        # its strategy items are camelCase like RunTask's)
        placement = run_task_placement(spec)
        target["EcsParameters"] = {"TaskDefinitionArn": task_definition_arn, "TaskCount": 1,
                                   **({"LaunchType": placement["launchType"]} if "launchType" in placement else
                                      {"CapacityProviderStrategy": placement["capacityProviderStrategy"]}),
                                   "NetworkConfiguration": {"awsvpcConfiguration": vpc},
                                   "PropagateTags": "TASK_DEFINITION", "EnableECSManagedTags": True}
    window = {"Mode": "OFF"} if spec.flexible_window_minutes == 0 else {
        "Mode": "FLEXIBLE", "MaximumWindowInMinutes": spec.flexible_window_minutes}
    return {"Name": spec.schedule_name, "GroupName": schedule_group(spec),
            "ScheduleExpression": spec.schedule_expression, "ScheduleExpressionTimezone": spec.timezone,
            "FlexibleTimeWindow": window, "State": "ENABLED" if spec.schedule_enabled else "DISABLED",
            "Description": f"sfnecs stack {spec.name} (pattern {spec.pattern})", "Target": target}


def _role_documents(spec: StackSpec) -> dict[str, dict[str, Any]]:
    """Each role's trust policy and inline policy, from sfnecs.iam (the same spec as the ASL)."""
    from sfnecs.iam import policies_for

    return {name: {"RoleName": name, "AssumeRolePolicyDocument": role.trust,
                   "Policies": {POLICY_NAME: role.permissions} if role.permissions else {}}
            for name, role in policies_for(spec).items()}


# ---- desired state, resources and changes --------------------------------------------------------
@dataclass(frozen=True)
class Desired:
    """One resource as the spec wants it: the kind, its name and its (comparable) request document."""

    kind: str
    name: str
    document: dict[str, Any]


@dataclass
class Current:
    """One resource as AWS has it, in the shape of its desired document."""

    name: str
    document: dict[str, Any]
    owned: bool
    arn: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Change:
    """One row of a plan, apply or teardown."""

    resource: str
    type: str
    action: str
    reason: str
    diff: str = ""
    kind: str = ""
    done: bool = False
    desired: Desired | None = field(default=None, repr=False)
    current: Current | None = field(default=None, repr=False)


COLUMNS = ["resource", "type", "action", "reason", "diff"]


@dataclass
class ChangeSet:
    """What apply or teardown did (or, with dry_run, would do), one Change per resource."""

    stack: str
    changes: list[Change]
    dry_run: bool = False

    @property
    def changed(self) -> list[Change]:
        return [c for c in self.changes if c.action not in ("no-op", "conflict")]

    @property
    def conflicts(self) -> list[Change]:
        return [c for c in self.changes if c.action == "conflict"]

    def to_frame(self) -> Any:
        import pandas as pd

        cols = COLUMNS + ([] if self.dry_run else ["done"])
        return pd.DataFrame([{k: getattr(c, k) for k in cols} for c in self.changes], columns=cols)

    def _repr_html_(self) -> str:
        verb = "would change" if self.dry_run else "changed"
        return (f"<p>stack <b>{html.escape(self.stack)}</b>: {len(self.changed)} resource(s) {verb}</p>"
                + self.to_frame().to_html(index=False))


def _diff(want: Any, have: Any, path: str = "") -> list[str]:
    """`path: current -> desired` for every value of `want` that `have` lacks or holds differently.

    Only keys present in the desired document are compared: AWS adds defaults (portMappings,
    revision, ...) that the stack does not manage.
    """
    if isinstance(want, dict) and isinstance(have, dict):
        out = []
        for key in want:
            out += _diff(want[key], have.get(key), f"{path}.{key}" if path else str(key))
        return out
    if isinstance(want, list) and isinstance(have, list) and len(want) == len(have):
        out = []
        for i, (w, h) in enumerate(zip(want, have)):
            out += _diff(w, h, f"{path}[{i}]")
        return out
    if want == have or (isinstance(want, (str, int)) and str(want) == str(have) and not isinstance(want, bool)):
        return []
    return [f"{path or '(document)'}: {_brief(have)} -> {_brief(want)}"]


def _brief(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 120 else text[:117] + "..."


def _tags_list(spec: StackSpec, key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in sorted(spec.all_tags.items())]


def _owned(tags: Any, spec: StackSpec) -> bool:
    """Whether tags (a dict, or a list of {Key,Value} / {key,value}) carry sfnecs:stack=<name>."""
    if isinstance(tags, dict):
        pairs = tags
    else:
        pairs = {t.get("Key", t.get("key")): t.get("Value", t.get("value")) for t in tags or []}
    return pairs.get(spec.stack_tag[0]) == spec.stack_tag[1]


def _code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


# ---- kinds -------------------------------------------------------------------------------------------
class Kind:
    """One resource type: how to build, read, create, update and delete it.

    `shared`: an existing resource without our tag is used as is (a cluster, a repository, a log
    group can serve several stacks); for other kinds it is a conflict, and apply refuses.
    `retained`: kept when a changed spec no longer wants it; only teardown deletes it.
    """

    key = ""
    type = ""
    shared = False
    retained = False  # True: kept when the spec no longer wants it (deleted by teardown only)

    def desired(self, spec: StackSpec, refs: dict[str, str], email: str | None) -> list[Desired]:
        raise NotImplementedError

    def names(self, spec: StackSpec) -> list[str]:
        """Every name this kind may have created for `spec`, whatever its pattern (for teardown)."""
        raise NotImplementedError

    def read(self, target: Any, spec: StackSpec, name: str) -> Current | None:
        raise NotImplementedError

    def create(self, target: Any, spec: StackSpec, want: Desired) -> str:
        raise NotImplementedError

    def update(self, target: Any, spec: StackSpec, want: Desired, have: Current) -> str:
        raise NotImplementedError

    def delete(self, target: Any, spec: StackSpec, have: Current) -> None:
        raise NotImplementedError

    def published(self, want: Desired, have: Current | None, action: str, arn: str | None,
                  refs: dict[str, str]) -> None:
        """Record what later kinds need from this one (e.g. the task definition's revision ARN)."""

    def delete_reason(self, have: Current) -> str:
        return "tagged for this stack"

    def read_all(self, target: Any, spec: StackSpec, name: str) -> Current | None:
        """What teardown must consider: by default what `read` finds."""
        return self.read(target, spec, name)

    def compare(self, want: Desired, have: Current) -> list[str]:
        """`path: current -> desired` lines; empty when the resource is up to date."""
        return _diff(want.document, have.document)


class LogGroupKind(Kind):
    key, type, shared = "log_group", "AWS::Logs::LogGroup", True

    def desired(self, spec, refs, email):
        names = [spec.log_group] + ([sfn_log_group(spec)] if spec.pattern == "B" and spec.execution_logging else [])
        return [Desired(self.key, n, {"logGroupName": n}) for n in names]

    def names(self, spec):
        return [spec.log_group, sfn_log_group(spec)]

    def read(self, target, spec, name):
        logs = target.client("logs")
        groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        group = next((g for g in groups if g["logGroupName"] == name), None)
        if group is None:
            return None
        arn = group["arn"].removesuffix(":*")
        tags = logs.list_tags_for_resource(resourceArn=arn).get("tags", {})
        return Current(name, {"logGroupName": name}, _owned(tags, spec), arn)

    def create(self, target, spec, want):
        target.client("logs").create_log_group(logGroupName=want.name, tags=spec.all_tags)
        return spec.arn("logs", f"log-group:{want.name}")

    def update(self, target, spec, want, have):
        return have.arn  # nothing of a log group is managed beyond its existence

    def delete(self, target, spec, have):
        target.client("logs").delete_log_group(logGroupName=have.name)


class RepositoryKind(Kind):
    """The stack's ECR repository, when its image lives there (image left empty, or naming it).

    Retained when a changed spec stops using it: it holds pushed images, so only teardown deletes it.
    """

    key, type, shared, retained = "repository", "AWS::ECR::Repository", True, True

    def desired(self, spec, refs, email):
        ref = _ecr_reference(spec)
        if ref is None or ref[0] != spec.repository:
            return []
        return [Desired(self.key, spec.repository, {"repositoryName": spec.repository})]

    def names(self, spec):
        return [spec.repository]

    def read(self, target, spec, name):
        ecr = target.client("ecr")
        try:
            repo = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
        except ecr.exceptions.RepositoryNotFoundException:
            return None
        tags = ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"]).get("tags", [])
        return Current(name, {"repositoryName": name}, _owned(tags, spec), repo["repositoryArn"])

    def create(self, target, spec, want):
        return target.client("ecr").create_repository(repositoryName=want.name, tags=_tags_list(spec))[
            "repository"]["repositoryArn"]

    def update(self, target, spec, want, have):
        return have.arn

    def delete(self, target, spec, have):
        # force: the images go with the repository, which this stack created (it carries our tag)
        target.client("ecr").delete_repository(repositoryName=have.name, force=True)

    def delete_reason(self, have):
        return "tagged for this stack (its images are deleted with it)"


class ClusterKind(Kind):
    """The cluster; with a capacity provider strategy, its Fargate providers are associated with it.

    ECS developer guide, "AWS Fargate capacity providers": FARGATE and FARGATE_SPOT exist in every
    account and only need associating with the cluster (CreateCluster or PutClusterCapacityProviders).
    """

    key, type, shared = "cluster", "AWS::ECS::Cluster", True

    def desired(self, spec, refs, email):
        doc: dict[str, Any] = {"clusterName": spec.cluster}
        if spec.capacity_providers:
            doc["capacityProviders"] = sorted(spec.capacity_providers)
        return [Desired(self.key, spec.cluster, doc)]

    def names(self, spec):
        return [spec.cluster]

    def read(self, target, spec, name):
        out = target.client("ecs").describe_clusters(clusters=[name], include=["TAGS"])["clusters"]
        cluster = next((c for c in out if c.get("status") == "ACTIVE"), None)
        if cluster is None:
            return None
        doc = {"clusterName": name, "capacityProviders": sorted(cluster.get("capacityProviders") or []),
               "defaultCapacityProviderStrategy": cluster.get("defaultCapacityProviderStrategy") or []}
        return Current(name, doc, _owned(cluster.get("tags"), spec), cluster["clusterArn"])

    def create(self, target, spec, want):
        extra = {"capacityProviders": want.document["capacityProviders"]} if "capacityProviders" in want.document \
            else {}
        return target.client("ecs").create_cluster(clusterName=want.name, tags=_tags_list(spec, "key", "value"),
                                                   **extra)["cluster"]["clusterArn"]

    def compare(self, want, have):
        # only a missing provider matters: others associated (by hand, by another stack) stay
        missing = sorted(set(want.document.get("capacityProviders", [])) - set(have.document["capacityProviders"]))
        return [f"capacityProviders: {_brief(have.document['capacityProviders'])} -> (add) {_brief(missing)}"] \
            if missing else []

    def update(self, target, spec, want, have):
        # PutClusterCapacityProviders replaces the list and the default strategy: both are sent again,
        # with the providers the spec needs added
        providers = sorted(set(have.document["capacityProviders"]) | set(want.document.get("capacityProviders", [])))
        target.client("ecs").put_cluster_capacity_providers(
            cluster=want.name, capacityProviders=providers,
            defaultCapacityProviderStrategy=have.document["defaultCapacityProviderStrategy"])
        return have.arn

    def delete(self, target, spec, have):
        ecs = target.client("ecs")
        # DeleteCluster refuses a cluster with tasks (ClusterContainsTasksException); the stack's
        # own running tasks are stopped first.
        running = ecs.list_tasks(cluster=have.name, family=spec.family, desiredStatus="RUNNING")["taskArns"]
        for arn in running:
            ecs.stop_task(cluster=have.name, task=arn, reason=f"sfnecs teardown of stack {spec.name}")
        ecs.delete_cluster(cluster=have.name)


class RoleKind(Kind):
    key, type = "role", "AWS::IAM::Role"

    def desired(self, spec, refs, email):
        return [Desired(self.key, name, doc) for name, doc in _role_documents(spec).items()]

    def names(self, spec):
        return sorted({spec.task_role, spec.execution_role, spec.sfn_role, spec.scheduler_role})

    def read(self, target, spec, name):
        iam = target.client("iam")
        try:
            role = iam.get_role(RoleName=name)["Role"]
        except iam.exceptions.NoSuchEntityException:
            return None
        policies = {}
        for pname in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            policies[pname] = iam.get_role_policy(RoleName=name, PolicyName=pname)["PolicyDocument"]
        doc = {"RoleName": name, "AssumeRolePolicyDocument": role["AssumeRolePolicyDocument"], "Policies": policies}
        return Current(name, doc, _owned(role.get("Tags"), spec), role["Arn"])

    def create(self, target, spec, want):
        iam = target.client("iam")
        arn = iam.create_role(RoleName=want.name, AssumeRolePolicyDocument=json.dumps(
            want.document["AssumeRolePolicyDocument"]), Description=f"sfnecs stack {spec.name}",
            Tags=_tags_list(spec))["Role"]["Arn"]
        for pname, doc in want.document["Policies"].items():
            iam.put_role_policy(RoleName=want.name, PolicyName=pname, PolicyDocument=json.dumps(doc))
        return arn

    def update(self, target, spec, want, have):
        iam = target.client("iam")
        if _diff(want.document["AssumeRolePolicyDocument"], have.document["AssumeRolePolicyDocument"]):
            iam.update_assume_role_policy(RoleName=want.name,
                                          PolicyDocument=json.dumps(want.document["AssumeRolePolicyDocument"]))
        for pname, doc in want.document["Policies"].items():
            if _diff(doc, have.document["Policies"].get(pname)):
                iam.put_role_policy(RoleName=want.name, PolicyName=pname, PolicyDocument=json.dumps(doc))
        for pname in set(have.document["Policies"]) - set(want.document["Policies"]):
            iam.delete_role_policy(RoleName=want.name, PolicyName=pname)
        return have.arn

    def compare(self, want, have):
        # `_diff` compares only what the spec has; an inline policy the spec lacks is removed too
        extra = set(have.document["Policies"]) - set(want.document["Policies"])
        return _diff(want.document, have.document) + [
            f"Policies.{p}: inline policy not in the spec -> (removed)" for p in sorted(extra)]

    def read_all(self, target, spec, name):
        # teardown needs only existence and ownership (GetRole returns the tags), not the policies
        iam = target.client("iam")
        try:
            role = iam.get_role(RoleName=name)["Role"]
        except iam.exceptions.NoSuchEntityException:
            return None
        return Current(name, {"RoleName": name}, _owned(role.get("Tags"), spec), role["Arn"])

    def delete(self, target, spec, have):
        iam = target.client("iam")
        for pname in iam.list_role_policies(RoleName=have.name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=have.name, PolicyName=pname)
        for attached in iam.list_attached_role_policies(RoleName=have.name)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=have.name, PolicyArn=attached["PolicyArn"])
        iam.delete_role(RoleName=have.name)


class QueueKind(Kind):
    """The schedule's dead-letter queue (SQS standard; the Scheduler does not support FIFO DLQs)."""

    key, type = "queue", "AWS::SQS::Queue"

    def desired(self, spec, refs, email):
        return [Desired(self.key, spec.dlq, {"QueueName": spec.dlq,
                                             "Attributes": {"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS)}})]

    def names(self, spec):
        return [spec.dlq]

    def read(self, target, spec, name):
        sqs = target.client("sqs")
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except sqs.exceptions.QueueDoesNotExist:
            return None
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        tags = sqs.list_queue_tags(QueueUrl=url).get("Tags", {})
        doc = {"QueueName": name, "Attributes": {"MessageRetentionPeriod": attrs.get("MessageRetentionPeriod")}}
        return Current(name, doc, _owned(tags, spec), attrs.get("QueueArn", ""), {"url": url})

    def create(self, target, spec, want):
        sqs = target.client("sqs")
        url = sqs.create_queue(QueueName=want.name, Attributes=want.document["Attributes"], tags=spec.all_tags)[
            "QueueUrl"]
        return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def update(self, target, spec, want, have):
        target.client("sqs").set_queue_attributes(QueueUrl=have.extra["url"], Attributes=want.document["Attributes"])
        return have.arn

    def delete(self, target, spec, have):
        # SQS: a queue name cannot be reused for 60 seconds after DeleteQueue
        target.client("sqs").delete_queue(QueueUrl=have.extra["url"])


class TopicKind(Kind):
    """The alert topic (pattern B with notifications), with the optional e-mail subscription."""

    key, type = "topic", "AWS::SNS::Topic"

    def desired(self, spec, refs, email):
        if spec.pattern != "B" or not (spec.notify_failure or spec.notify_success):
            return []
        return [Desired(self.key, spec.topic, {"Name": spec.topic, "EmailSubscriptions": [email] if email else []})]

    def names(self, spec):
        return [spec.topic]

    def read(self, target, spec, name):
        sns = target.client("sns")
        arn = spec.arn("sns", name)
        try:
            sns.get_topic_attributes(TopicArn=arn)
        except sns.exceptions.NotFoundException:
            return None
        tags = sns.list_tags_for_resource(ResourceArn=arn).get("Tags", [])
        subs = [s for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn)
                for s in page["Subscriptions"] if s["Protocol"] == "email"]
        doc = {"Name": name, "EmailSubscriptions": sorted(s["Endpoint"] for s in subs)}
        return Current(name, doc, _owned(tags, spec), arn, {"subscriptions": subs})

    def compare(self, want, have):
        # a pending subscription cannot be removed (it has no ARN until confirmed, and expires):
        # one the spec no longer wants is not a difference apply could fix
        pending = {s["Endpoint"] for s in have.extra.get("subscriptions", [])
                   if not s["SubscriptionArn"].startswith("arn:")}
        wanted = want.document["EmailSubscriptions"]
        current = [e for e in have.document["EmailSubscriptions"] if e in wanted or e not in pending]
        return _diff(want.document, {**have.document, "EmailSubscriptions": current})

    def create(self, target, spec, want):
        arn = target.client("sns").create_topic(Name=want.name, Tags=_tags_list(spec))["TopicArn"]
        self._subscribe(target, arn, want.document["EmailSubscriptions"], [])
        return arn

    def update(self, target, spec, want, have):
        self._subscribe(target, have.arn, want.document["EmailSubscriptions"], have.extra["subscriptions"])
        return have.arn

    @staticmethod
    def _subscribe(target: Any, arn: str, emails: list[str], existing: list[dict[str, Any]]) -> None:
        sns = target.client("sns")
        for email in set(emails) - {s["Endpoint"] for s in existing}:
            # the recipient must confirm by e-mail before anything is delivered (SNS developer guide)
            sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=email)
        for sub in existing:
            # a pending subscription has no ARN yet and cannot be removed; it expires unconfirmed
            if sub["Endpoint"] not in emails and sub["SubscriptionArn"].startswith("arn:"):
                sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])

    def delete(self, target, spec, have):
        target.client("sns").delete_topic(TopicArn=have.arn)


class TaskDefinitionKind(Kind):
    key, type = "task_definition", "AWS::ECS::TaskDefinition"

    def desired(self, spec, refs, email):
        return [Desired(self.key, spec.family, task_definition_request(spec))]

    def names(self, spec):
        return [spec.family]

    def read(self, target, spec, name):
        ecs = target.client("ecs")
        try:
            out = ecs.describe_task_definition(taskDefinition=name, include=["TAGS"])
        except ecs.exceptions.ClientException:
            return None  # "Unable to describe task definition": no ACTIVE revision
        td = out["taskDefinition"]
        if td.get("status") != "ACTIVE":
            return None  # AWS resolves a family to its latest ACTIVE revision; moto may return an INACTIVE one
        doc = dict(td)
        # the API returns what was registered; only environment order is not significant
        for c in doc.get("containerDefinitions", []):
            if c.get("environment"):
                c["environment"] = sorted(c["environment"], key=lambda e: e["name"])
        return Current(name, doc, _owned(out.get("tags"), spec), td["taskDefinitionArn"],
                       {"revision": td["revision"]})

    def create(self, target, spec, want):
        return target.client("ecs").register_task_definition(**want.document, tags=_tags_list(spec, "key", "value"))[
            "taskDefinition"]["taskDefinitionArn"]

    def update(self, target, spec, want, have):
        # a task definition is immutable: a change is a new revision (the old one stays ACTIVE,
        # so running tasks and a rollback can still use it)
        return self.create(target, spec, want)

    def published(self, want, have, action, arn, refs):
        if arn is None:
            arn = have.arn if have is not None and action == "no-op" else \
                f"{want.document['family']}:{NEXT_REVISION}"
        refs["task_definition"] = arn

    @staticmethod
    def _owned_revisions(target: Any, spec: StackSpec, family: str) -> list[tuple[str, str]]:
        """(ARN, status) of every ACTIVE or INACTIVE revision of `family` carrying the stack tag."""
        ecs = target.client("ecs")
        out = []
        for status in ("ACTIVE", "INACTIVE"):
            for page in ecs.get_paginator("list_task_definitions").paginate(familyPrefix=family, status=status):
                for arn in page["taskDefinitionArns"]:
                    if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] != family:
                        continue  # familyPrefix is a prefix: `job` also lists `job2`
                    if _owned(ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"]).get("tags"), spec):
                        out.append((arn, status))
        return out

    def read_all(self, target, spec, name):
        # after a teardown stopped between deregistering and deleting, only INACTIVE revisions remain
        found = self.read(target, spec, name)
        if found is None and self._owned_revisions(target, spec, name):
            return Current(name, {}, True)
        return found

    def delete(self, target, spec, have):
        ecs = target.client("ecs")
        owned = self._owned_revisions(target, spec, have.name)
        for arn, status in owned:
            if status == "ACTIVE":
                ecs.deregister_task_definition(taskDefinition=arn)
        # DeleteTaskDefinitions takes INACTIVE revisions, at most 10 per call (ECS API reference)
        arns = [arn for arn, _ in owned]
        for i in range(0, len(arns), 10):
            ecs.delete_task_definitions(taskDefinitions=arns[i:i + 10])

    def delete_reason(self, have):
        return "tagged revisions are deregistered and deleted"


class StateMachineKind(Kind):
    key, type = "state_machine", "AWS::StepFunctions::StateMachine"

    def desired(self, spec, refs, email):
        if spec.pattern != "B":
            return []
        return [Desired(self.key, spec.state_machine, _pin(state_machine_request(spec), spec, refs))]

    def names(self, spec):
        return [spec.state_machine]

    def read(self, target, spec, name):
        sfn = target.client("stepfunctions")
        arn = spec.arn("states", f"stateMachine:{name}")
        try:
            sm = sfn.describe_state_machine(stateMachineArn=arn)
        except sfn.exceptions.StateMachineDoesNotExist:
            return None
        if sm.get("status") == "DELETING":
            return None
        tags = sfn.list_tags_for_resource(resourceArn=arn).get("tags", [])
        doc = {"name": sm["name"], "definition": json.loads(sm["definition"]), "roleArn": sm["roleArn"],
               "type": sm["type"], "loggingConfiguration": sm.get("loggingConfiguration", {})}
        return Current(name, doc, _owned(tags, spec), arn)

    def create(self, target, spec, want):
        doc = want.document
        return _retry_role_propagation(lambda: target.client("stepfunctions").create_state_machine(
            name=doc["name"], definition=json.dumps(doc["definition"]), roleArn=doc["roleArn"], type=doc["type"],
            loggingConfiguration=doc["loggingConfiguration"], tags=_tags_list(spec, "key", "value"))[
            "stateMachineArn"])

    def update(self, target, spec, want, have):
        doc = want.document
        _retry_role_propagation(lambda: target.client("stepfunctions").update_state_machine(
            stateMachineArn=have.arn, definition=json.dumps(doc["definition"]), roleArn=doc["roleArn"],
            loggingConfiguration=doc["loggingConfiguration"]))
        return have.arn

    def delete(self, target, spec, have):
        # running executions finish first: the machine is DELETING until then (Step Functions API)
        target.client("stepfunctions").delete_state_machine(stateMachineArn=have.arn)


def _pin(request: dict[str, Any], spec: StackSpec, refs: dict[str, str]) -> dict[str, Any]:
    """Replace the task definition family in the ASL by the revision being deployed.

    Why pin: a definition naming only the family runs whatever revision is newest, including one
    registered by hand; pinned, the state machine runs what this apply deployed, and its update
    in the plan shows that a new revision will be used.
    """
    revision = refs.get("task_definition")
    if not revision:
        return request
    full = revision if revision.startswith("arn:") else spec.arn("ecs", f"task-definition/{revision}")

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: (full if k in ("TaskDefinition", "taskDefinition") and v in (spec.family,)
                        else walk(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return {**request, "definition": walk(request["definition"])}


class ScheduleGroupKind(Kind):
    key, type = "schedule_group", "AWS::Scheduler::ScheduleGroup"

    def desired(self, spec, refs, email):
        return [Desired(self.key, schedule_group(spec), {"Name": schedule_group(spec)})]

    def names(self, spec):
        return [schedule_group(spec)]

    def read(self, target, spec, name):
        sched = target.client("scheduler")
        try:
            group = sched.get_schedule_group(Name=name)
        except sched.exceptions.ResourceNotFoundException:
            return None
        if group.get("State") == "DELETING":
            return None
        tags = sched.list_tags_for_resource(ResourceArn=group["Arn"]).get("Tags", [])
        return Current(name, {"Name": name}, _owned(tags, spec), group["Arn"])

    def create(self, target, spec, want):
        return target.client("scheduler").create_schedule_group(Name=want.name, Tags=_tags_list(spec))[
            "ScheduleGroupArn"]

    def update(self, target, spec, want, have):
        return have.arn

    def delete(self, target, spec, have):
        # deleting a group deletes its schedules too (Scheduler API reference, DeleteScheduleGroup)
        target.client("scheduler").delete_schedule_group(Name=have.name)


class ScheduleKind(Kind):
    """The schedule, owned through its group: a schedule in a group we tagged is ours."""

    key, type = "schedule", "AWS::Scheduler::Schedule"
    _FIELDS = ("Name", "GroupName", "ScheduleExpression", "ScheduleExpressionTimezone", "FlexibleTimeWindow",
               "State", "Description", "Target")

    def desired(self, spec, refs, email):
        return [Desired(self.key, spec.schedule_name,
                        schedule_request(spec, refs.get("task_definition") or f"{spec.family}:{NEXT_REVISION}"))]

    def names(self, spec):
        return [spec.schedule_name]

    def read(self, target, spec, name):
        sched = target.client("scheduler")
        group = schedule_group(spec)
        try:
            s = sched.get_schedule(Name=name, GroupName=group)
        except sched.exceptions.ResourceNotFoundException:
            return None
        owner = ScheduleGroupKind().read(target, spec, group)
        doc = {k: s.get(k) for k in self._FIELDS}
        return Current(name, doc, owner is not None and owner.owned, s.get("Arn", ""))

    def create(self, target, spec, want):
        return _retry_role_propagation(lambda: target.client("scheduler").create_schedule(**want.document)[
            "ScheduleArn"])

    def update(self, target, spec, want, have):
        # UpdateSchedule replaces the whole schedule: every field is sent again (Scheduler API)
        return _retry_role_propagation(lambda: target.client("scheduler").update_schedule(**want.document)[
            "ScheduleArn"])

    def compare(self, want, have):
        # UpdateSchedule replaces the target: a target setting the spec lacks (e.g. EcsParameters
        # after a switch to pattern B) disappears, so it is part of the difference
        have_target = have.document.get("Target") or {}
        extra = [k for k in have_target if have_target[k] not in (None, {}, []) and k not in want.document["Target"]]
        return _diff(want.document, have.document) + [
            f"Target.{k}: {_brief(have_target[k])} -> (removed)" for k in sorted(extra)]

    def delete(self, target, spec, have):
        target.client("scheduler").delete_schedule(Name=have.name, GroupName=schedule_group(spec))


#: every kind, in creation order (teardown runs it backwards)
KINDS: tuple[Kind, ...] = (LogGroupKind(), RepositoryKind(), ClusterKind(), RoleKind(), QueueKind(), TopicKind(),
                           TaskDefinitionKind(), StateMachineKind(), ScheduleGroupKind(), ScheduleKind())
_BY_KEY = {k.key: k for k in KINDS}

#: how long a just-created role may take to be usable (IAM is eventually consistent; the
#: observed delays are seconds to tens of seconds, e.g. terraform-provider-aws#7893)
ROLE_PROPAGATION_DELAYS = (1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0)
_PROPAGATION_CODES = ("AccessDeniedException", "ValidationException", "InvalidParameterValueException")


def _retry_role_propagation(call: Callable[[], Any], delays: Iterable[float] = ROLE_PROPAGATION_DELAYS,
                            sleep: Callable[[float], None] = time.sleep) -> Any:
    """Run `call`, retrying while the service says it cannot assume a role that was just created."""
    for delay in (*delays, None):
        try:
            return call()
        except ClientError as exc:
            message = str(exc).lower()
            propagating = _code(exc) in _PROPAGATION_CODES and "assume" in message and "role" in message
            if not propagating or delay is None:
                raise
            sleep(delay)
    raise AssertionError("unreachable")


# ---- plan / apply / teardown ---------------------------------------------------------------------
def check_spec(target: Any, spec: object, email: object = None) -> StackSpec:
    """Return `spec` if it is a StackSpec for the target's region and account (and `email` is one)."""
    if not isinstance(spec, StackSpec):
        raise ValidationError("spec", spec, "a StackSpec (sfnecs.spec.StackSpec)")
    if (spec.region, spec.account) != (target.region, target.account):
        raise ValidationError("spec.region/account", f"{spec.region}/{spec.account}",
                              f"the target's {target.region}/{target.account}: build the spec with "
                              "region=target.region, account=target.account")
    if email is not None and (not isinstance(email, str) or "@" not in email.strip("@") or " " in email):
        raise ValidationError("email", email, "an e-mail address such as ops@example.com, or None")
    return spec


def desired_resources(spec: StackSpec, *, task_definition_arn: str | None = None,
                      email: str | None = None) -> list[Desired]:
    """Every resource the spec wants, in creation order (pure: no AWS call).

    `task_definition_arn`: the revision the state machine or schedule should run (default: a
    placeholder for the revision apply will register).
    """
    refs = {"task_definition": task_definition_arn or f"{spec.family}:{NEXT_REVISION}"}
    return [d for kind in KINDS for d in kind.desired(spec, refs, email)]


def _decide(kind: Kind, spec: StackSpec, want: Desired, have: Current | None) -> Change:
    base = {"resource": want.name, "type": kind.type, "kind": kind.key, "desired": want, "current": have}
    if have is None:
        return Change(action="create", reason="does not exist", **base)
    if not have.owned:
        if kind.shared:
            return Change(action="no-op", reason=f"exists without tag {spec.stack_tag[0]}={spec.name}: used as is, "
                          "never changed or deleted", **base)
        return Change(action="conflict", reason=f"exists without tag {spec.stack_tag[0]}={spec.name}: it is not "
                      "this stack's; rename it in the spec, or delete it", **base)
    diff = kind.compare(want, have)
    if diff:
        why = "new revision" if kind.key == "task_definition" else "changed"
        return Change(action="update", reason=f"{why}: {len(diff)} value(s) differ", diff="\n".join(diff), **base)
    return Change(action="no-op", reason="up to date", **base)


def _converge(target: Any, spec: StackSpec, email: str | None, execute: bool,
              reads: dict[tuple[str, str], Current | None] | None = None) -> list[Change]:
    """Diff (and with `execute`, make) every change. `reads`: what AWS said per (kind, name); a name
    found there is not read again, so apply executes from the reads of its own dry pass."""
    reads = {} if reads is None else reads

    def read(kind: Kind, name: str) -> Current | None:
        if (kind.key, name) not in reads:
            reads[(kind.key, name)] = kind.read(target, spec, name)
        return reads[(kind.key, name)]

    refs: dict[str, str] = {}
    changes: list[Change] = []
    leftovers: list[tuple[Kind, Current]] = []
    for kind in KINDS:
        wanted = kind.desired(spec, refs, email)
        for want in wanted:
            have = read(kind, want.name)
            change = _decide(kind, spec, want, have)
            changes.append(change)
            arn = None
            if execute and change.action in ("create", "update"):
                try:
                    arn = kind.create(target, spec, want) if change.action == "create" else \
                        kind.update(target, spec, want, have)  # type: ignore[arg-type]
                except Exception as exc:
                    raise _partial(spec, changes, change, exc) from exc
                change.done = True
            kind.published(want, have, change.action, arn, refs)
        for name in [] if kind.retained else sorted(set(kind.names(spec)) - {w.name for w in wanted}):
            have = read(kind, name)
            if have is not None and have.owned:
                leftovers.append((kind, have))
    # resources the spec no longer wants (e.g. the state machine after a switch to pattern A) go
    # last, once nothing that stays refers to them
    for kind, have in reversed(leftovers):
        change = Change(have.name, kind.type, "delete", "no longer in the spec; tagged for this stack",
                        kind=kind.key, current=have)
        changes.append(change)
        if execute:
            try:
                kind.delete(target, spec, have)
            except Exception as exc:
                raise _partial(spec, changes, change, exc) from exc
            change.done = True
    return changes


def _partial(spec: StackSpec, changes: list[Change], failed: Change, exc: Exception) -> StackError:
    done = [f"{c.action} {c.type} {c.resource}" for c in changes if c.done]
    err = StackError(f"stack {spec.name!r}: {failed.action} of {failed.type} {failed.resource} failed: {exc}. "
                     f"Done before it: {', '.join(done) or 'nothing'}. Fix the cause and apply again, or teardown.")
    err.changes = ChangeSet(spec.name, changes)  # type: ignore[attr-defined]
    return err


def plan(target: Any, spec: StackSpec, *, email: str | None = None) -> Any:
    """What apply would do, as a DataFrame: resource, type, action (create/update/no-op/delete/conflict), reason, diff.

    Reads only. `email`: an address to subscribe to the alert topic (pattern B).
    """
    spec = check_spec(target, spec, email)
    frame = ChangeSet(spec.name, _converge(target, spec, email, execute=False), dry_run=True).to_frame()
    frame.attrs["stack"] = spec.name
    return frame


def apply(target: Any, spec: StackSpec, *, email: str | None = None) -> ChangeSet:
    """Create or update every resource so AWS matches the spec, and return what was done.

    Idempotent: a second apply changes nothing. Refuses, before any change, when a resource of
    the same name exists without this stack's tag. On a failure midway it raises StackError
    (with `.changes`: what was done); apply again or teardown, both work from there.
    """
    spec = check_spec(target, spec, email)
    reads: dict[tuple[str, str], Current | None] = {}  # read once: the dry pass's reads serve the changes
    dry = _converge(target, spec, email, execute=False, reads=reads)
    conflicts = [c for c in dry if c.action == "conflict"]
    if conflicts:
        raise StackError(f"stack {spec.name!r}: nothing changed, because "
                         + "; ".join(f"{c.type} {c.resource} {c.reason}" for c in conflicts))
    return ChangeSet(spec.name, _converge(target, spec, email, execute=True, reads=reads))


def teardown(target: Any, spec: StackSpec, *, dry_run: bool = False) -> ChangeSet:
    """Delete every resource of the stack that carries its tag, in reverse dependency order.

    Untagged resources with the same names are left alone; running it again (or after a failed
    apply) deletes what is left and nothing else.
    """
    spec = check_spec(target, spec)
    changes = []
    for kind in reversed(KINDS):
        for name in kind.names(spec):
            have = kind.read_all(target, spec, name)
            if have is None:
                continue
            if not have.owned:
                changes.append(Change(name, kind.type, "no-op", f"not tagged {spec.stack_tag[0]}={spec.name}: kept",
                                      kind=kind.key, current=have))
                continue
            change = Change(name, kind.type, "delete", kind.delete_reason(have), kind=kind.key, current=have)
            changes.append(change)
            if not dry_run:
                try:
                    kind.delete(target, spec, have)
                except Exception as exc:
                    raise _partial(spec, changes, change, exc) from exc
                change.done = True
    return ChangeSet(spec.name, changes, dry_run=dry_run)


# ---- network -----------------------------------------------------------------------------------------
def default_network(target: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(subnets, security groups) of the region's default VPC: its subnets and its `default` group."""
    ec2 = target.client("ec2")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    if not vpcs:
        raise StackError(f"no default VPC in {target.region}: pass subnets=... and security_groups=... to the spec")
    vpc = vpcs[0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                                   {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    return tuple(sorted(s["SubnetId"] for s in subnets)), tuple(g["GroupId"] for g in groups)


# ---- verify ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    """One pre-flight check: what was checked, pass/fail/skip, what was found and the fix."""

    check: str
    resource: str
    status: str  # pass, fail, skip (cannot be told from here)
    detail: str
    fix: str = ""


@dataclass
class Verification:
    """The pre-flight checks of a stack (like `ecspresso verify`)."""

    stack: str
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.status != "fail" for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame([vars(c) for c in self.checks], columns=["check", "resource", "status", "detail", "fix"])

    def _repr_html_(self) -> str:
        verdict = "all checks pass" if self.ok else f"{len(self.failed)} check(s) fail"
        return f"<p>stack <b>{html.escape(self.stack)}</b>: {verdict}</p>" + self.to_frame().to_html(index=False)


def verify(target: Any, spec: StackSpec, *, inspect_binary: bool = False) -> Verification:
    """Check what a launch needs before it is tried: cluster, roles and their trust, image and its
    platform, log group, subnets and security groups, schedule expression. Reads only.

    The image check reads its labels (what the pull checks). `inspect_binary=True` also downloads
    the layers and reads the entrypoint's ELF header (what the kernel checks): a label that says
    one CPU over a binary of another passes the pull and still dies with exec format error.
    """
    check_bool("inspect_binary", inspect_binary)
    spec = check_spec(target, spec)
    checks = [_check_cluster(target, spec), *_check_capacity_providers(target, spec), *_check_roles(target, spec),
              *_check_image(target, spec, inspect_binary),
              _check_log_group(target, spec), *_check_network(target, spec), _check_schedule(spec)]
    return Verification(spec.name, checks)


def _check_cluster(target: Any, spec: StackSpec) -> Check:
    found = ClusterKind().read(target, spec, spec.cluster)
    if found is None:
        return Check("cluster exists", spec.cluster, "fail", "no ACTIVE cluster of that name",
                     "apply the stack (it creates the cluster), or set cluster= to an existing one")
    return Check("cluster exists", spec.cluster, "pass", found.arn)


def _check_capacity_providers(target: Any, spec: StackSpec) -> list[Check]:
    """With a capacity provider strategy: every provider it names is associated with the cluster."""
    if not spec.capacity_providers:
        return []
    found = ClusterKind().read(target, spec, spec.cluster)
    if found is None:
        return [Check("capacity providers associated", spec.cluster, "skip", "no cluster to inspect")]
    missing = sorted(set(spec.capacity_providers) - set(found.document["capacityProviders"]))
    if missing:
        return [Check("capacity providers associated", spec.cluster, "fail",
                      f"{', '.join(missing)} not associated (has {found.document['capacityProviders'] or 'none'}): "
                      "RunTask with this strategy is refused",
                      "apply the stack if it owns the cluster, or: aws ecs put-cluster-capacity-providers "
                      f"--cluster {spec.cluster} (keeping the providers and default strategy it has)")]
    return [Check("capacity providers associated", spec.cluster, "pass", ", ".join(spec.capacity_providers))]


def _check_roles(target: Any, spec: StackSpec) -> list[Check]:
    from sfnecs.iam import policies_for

    iam = target.client("iam")
    out = []
    for name, role in policies_for(spec).items():
        try:
            trust = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
        except iam.exceptions.NoSuchEntityException:
            out.append(Check("role trusted by service", name, "fail", "role does not exist",
                             "apply the stack (it creates its roles)"))
            continue
        principals = _trusted_services(trust)
        if role.service in principals:
            out.append(Check("role trusted by service", name, "pass", f"{role.service} may assume it"))
        else:
            out.append(Check("role trusted by service", name, "fail",
                             f"trusted by {sorted(principals) or 'no service'}, not {role.service}",
                             f"add {role.service} to the role's trust policy (apply the stack to restore it)"))
    return out


def _trusted_services(trust: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    statements = trust.get("Statement", [])
    for st in [statements] if isinstance(statements, dict) else statements:
        actions = st.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if st.get("Effect") != "Allow" or not any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions):
            continue
        services = (st.get("Principal") or {}).get("Service", [])
        found |= {services} if isinstance(services, str) else set(services)
    return found


def _ecr_reference(spec: StackSpec) -> tuple[str, str] | None:
    """(repository, tag or digest) when the image is in this account's ECR, else None."""
    m = ECR_IMAGE_RE.match(spec.image_uri)
    if not m or m["account"] != spec.account or m["region"] != spec.region:
        return None
    return m["repo"], m["digest"] or m["tag"] or "latest"


def _check_image(target: Any, spec: StackSpec, inspect_binary: bool = False) -> list[Check]:
    from sfnecs.images import ecr_platforms

    ref = _ecr_reference(spec)
    if ref is None:
        detail = f"{spec.image_uri} is not in this account's ECR: its platforms cannot be read from here"
        return [Check("image exists", spec.image_uri, "skip", detail),
                Check("image platform matches runtimePlatform", spec.image_uri, "skip", detail)]
    repo, tag = ref
    found = ecr_platforms(target.client("ecr"), repo, tag, inspect_binary=inspect_binary)
    checks = _check_image_labels(spec, found)
    if inspect_binary:
        binary = _check_binary(spec, found)
        label = checks[-1]
        if not found.is_index and binary.status in ("pass", "fail") and label.status != "skip":
            # the pull checks the platform of an index entry only; a single image's label is not
            # checked, its binary is (by the kernel): the binary's verdict is the one that holds
            checks[-1] = Check(label.check, label.resource, "skip", f"{label.detail} (the pull does not check a "
                               "single-platform image's label: the entrypoint binary decides, next check)")
        checks.append(binary)
    return checks


def _check_binary(spec: StackSpec, found: Any) -> Check:
    """The entrypoint's ELF header against runtimePlatform (read from the layers)."""
    name = "entrypoint binary runs on runtimePlatform"
    relevant = [b for b in found.binaries if b.executables or b.cannot_tell]
    if not relevant:
        return Check(name, spec.image_uri, "skip", found.cannot_tell or "no entrypoint binary found in the layers")
    described = "; ".join(f"{path} is {elf.describe()}" for b in relevant for path, elf in b.executables[:1]) \
        or "; ".join(b.cannot_tell or "" for b in relevant)
    runs = found.runs_on(spec.cpu_architecture, spec.os_family)
    if runs is None or not any(b.executables for b in relevant):
        return Check(name, spec.image_uri, "skip", described)
    if runs:
        return Check(name, spec.image_uri, "pass", described)
    lies = f" ({'; '.join(found.disagreements)})" if found.disagreements else ""
    return Check(name, spec.image_uri, "fail", f"{described}{lies}: the container would exit 1 with "
                 "'exec format error'", f"rebuild with docker buildx build --platform {_oci(spec)}; when the label "
                 "and the binary disagree, a Dockerfile step downloads a prebuilt binary for a fixed CPU: pick it by "
                 "the build argument TARGETARCH")


def _check_image_labels(spec: StackSpec, found: Any) -> list[Check]:
    """Does the image exist, and do its labels (index entries or config) offer runtimePlatform."""
    if found.cannot_tell and not found.platforms:
        missing = "has no image" in found.cannot_tell or "does not exist" in found.cannot_tell \
            or "RepositoryNotFound" in found.cannot_tell
        return [Check("image exists", spec.image_uri, "fail" if missing else "skip", found.cannot_tell,
                      f"push the image: docker buildx build --platform {_oci(spec)} -t {spec.image_uri} --push ."),
                Check("image platform matches runtimePlatform", spec.image_uri, "skip", "no image to inspect")]
    plats = ", ".join(map(str, found.platforms)) or "unknown"
    exists = Check("image exists", spec.image_uri, "pass", f"{'index' if found.is_index else 'image'}: {plats}")
    supports = found.supports(spec.cpu_architecture, spec.os_family)
    what = f"runtimePlatform {spec.cpu_architecture}/{spec.os_family} needs {_oci(spec)}"
    if supports is None:
        return [exists, Check("image platform matches runtimePlatform", spec.image_uri, "skip",
                              f"{what}; the image does not say its platform")]
    if supports:
        return [exists, Check("image platform matches runtimePlatform", spec.image_uri, "pass", f"{what}: present")]
    other = "ARM64" if spec.cpu_architecture == "X86_64" else "X86_64"
    effect = ("the pull fails: CannotPullContainerError ... descriptor matching platform" if found.is_index
              else "the container exits 1 with 'exec format error'")
    return [exists, Check("image platform matches runtimePlatform", spec.image_uri, "fail",
                          f"{what}; the image has {plats}: {effect}",
                          f"rebuild with docker buildx build --platform {_oci(spec)} (or a multi-platform build), "
                          f"or set cpu_architecture={other!r} if the image's CPU is that one")]


def _oci(spec: StackSpec) -> str:
    return f"linux/{'arm64' if spec.cpu_architecture == 'ARM64' else 'amd64'}"


def _check_log_group(target: Any, spec: StackSpec) -> Check:
    found = LogGroupKind().read(target, spec, spec.log_group)
    if found is None:
        return Check("log group exists", spec.log_group, "fail",
                     "missing: Fargate fails the launch (ResourceInitializationError ... log group does not exist)",
                     "apply the stack (it creates the log group)")
    return Check("log group exists", spec.log_group, "pass", found.arn)


def _described(call: Callable[..., Any], key: str, ids_param: str, id_key: str, ids: Iterable[str],
               missing: tuple[str, ...]) -> dict[str, list[dict[str, Any]]]:
    """{id: [its description] or [] when not found}: one call for all ids, and one per id only when
    that call fails because some id does not exist (EC2 then describes none of them)."""
    ids = list(ids)
    if not ids:
        return {}
    try:
        found = {item[id_key]: item for item in call(**{ids_param: ids})[key]}
        return {i: [found[i]] if i in found else [] for i in ids}
    except ClientError as exc:
        if _code(exc) not in missing:
            raise
    out: dict[str, list[dict[str, Any]]] = {}
    for i in ids:
        try:
            out[i] = call(**{ids_param: [i]})[key]
        except ClientError as exc:
            if _code(exc) not in missing:
                raise
            out[i] = []
    return out


def _check_network(target: Any, spec: StackSpec) -> list[Check]:
    ec2 = target.client("ec2")
    out, vpcs = [], set()
    subnets = _described(ec2.describe_subnets, "Subnets", "SubnetIds", "SubnetId", spec.subnets,
                         ("InvalidSubnetID.NotFound",))
    groups = _described(ec2.describe_security_groups, "SecurityGroups", "GroupIds", "GroupId", spec.security_groups,
                        ("InvalidGroup.NotFound", "InvalidGroupId.NotFound"))
    for subnet in spec.subnets:
        found = subnets[subnet]
        if found:
            vpcs.add(found[0]["VpcId"])
            out.append(Check("subnet exists", subnet, "pass", f"{found[0]['VpcId']}, {found[0]['AvailabilityZone']}"))
        else:
            out.append(Check("subnet exists", subnet, "fail", "not found in this region",
                             "use default_network(target) or your VPC's subnet ids (aws ec2 describe-subnets)"))
    for group in spec.security_groups:
        found = groups[group]
        if not found:
            out.append(Check("security group exists", group, "fail", "not found in this region",
                             "use a security group id of the subnets' VPC (aws ec2 describe-security-groups)"))
        elif vpcs and found[0]["VpcId"] not in vpcs:
            out.append(Check("security group exists", group, "fail", f"in {found[0]['VpcId']}, not the subnets' VPC",
                             "use a security group of the subnets' VPC"))
        else:
            out.append(Check("security group exists", group, "pass", found[0]["VpcId"]))
    return out


def _check_schedule(spec: StackSpec) -> Check:
    from datetime import datetime, timezone

    from sfnecs.schedule import describe, parse_expression

    try:
        parsed = parse_expression(spec.schedule_expression, parameter="schedule_expression")
    except ValidationError as exc:
        return Check("schedule expression valid", spec.schedule_expression, "fail", str(exc), exc.allowed)
    upcoming = parsed.next_fire_times(2, datetime.now(timezone.utc), spec.timezone)
    detail = describe(spec.schedule_expression, spec.timezone) + (
        "; next: " + ", ".join(t.isoformat(timespec="minutes") for t in upcoming) if upcoming else "; no future time")
    return Check("schedule expression valid", spec.schedule_expression, "pass" if upcoming else "fail", detail,
                 "" if upcoming else "an at() time in the past never fires: choose a future time")
