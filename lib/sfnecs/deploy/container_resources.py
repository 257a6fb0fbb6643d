"""What a container job runs on: its log groups, its ECR repository, the cluster and the task definition.

Why together: these are the ECS side of a stack (the image, where it runs, what it runs as, where it
logs), whichever pattern starts the task.
"""

from __future__ import annotations

from typing import Any

from sfnecs.deploy.changes import Current, Desired, brief
from sfnecs.deploy.requests import task_definition_request
from sfnecs.deploy.resource import NEXT_REVISION, Resource, ecr_reference, is_owned, tag_list
from sfnecs.i18n import N_
from sfnecs.model.spec import StackSpec, sfn_log_group
from sfnecs.model.target import Target

__all__ = ["ClusterResource", "LogGroupResource", "RepositoryResource", "TaskDefinitionResource"]


class LogGroupResource(Resource):
    """The job's log group (and the state machine's), kept `log_retention_days` days.

    Why a retention: a new log group never expires its events (CloudWatch Logs user guide, "Change log
    data retention"), so a nightly job's logs would be stored, and paid for, forever.
    """

    key, type, shared = "log_group", "AWS::Logs::LogGroup", True

    def desired(self, spec, refs, email):
        names = [spec.log_group] + ([sfn_log_group(spec)] if spec.pattern == "B" and spec.execution_logging else [])
        days = spec.log_retention_days or None  # 0: no retention policy, as AWS's own default
        return [Desired(self.key, n, {"logGroupName": n, "retentionInDays": days}) for n in names]

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
        doc = {"logGroupName": name, "retentionInDays": group.get("retentionInDays")}
        return Current(name, doc, is_owned(tags, spec), arn)

    def compare(self, want, have):
        def days(value: int | None) -> str:
            return f"{value} days" if value else "never expire"

        want_days, have_days = want.document["retentionInDays"], have.document.get("retentionInDays")
        return [] if want_days == have_days else [f"retentionInDays: {days(have_days)} -> {days(want_days)}"]

    def create(self, target, spec, want):
        target.client("logs").create_log_group(logGroupName=want.name, tags=spec.all_tags)
        if want.document["retentionInDays"]:  # a new group has no retention policy to delete
            self._retain(target, want)
        return spec.arn("logs", f"log-group:{want.name}")

    def update(self, target, spec, want, have):
        self._retain(target, want)  # called only when the retention differs (compare)
        return have.arn

    @staticmethod
    def _retain(target: Target, want: Desired) -> None:
        logs, days = target.client("logs"), want.document["retentionInDays"]
        if days:
            logs.put_retention_policy(logGroupName=want.name, retentionInDays=days)
        else:
            logs.delete_retention_policy(logGroupName=want.name)

    def delete(self, target, spec, have):
        target.client("logs").delete_log_group(logGroupName=have.name)


class RepositoryResource(Resource):
    """The stack's ECR repository, when its image lives there (image left empty, or naming it).

    Retained when a changed spec stops using it: it holds pushed images, so only teardown deletes it.
    """

    key, type, shared, retained = "repository", "AWS::ECR::Repository", True, True

    def desired(self, spec, refs, email):
        ref = ecr_reference(spec)
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
        return Current(name, {"repositoryName": name}, is_owned(tags, spec), repo["repositoryArn"])

    def create(self, target, spec, want):
        return target.client("ecr").create_repository(repositoryName=want.name, tags=tag_list(spec))["repository"][
            "repositoryArn"
        ]

    def update(self, target, spec, want, have):
        return have.arn

    def delete(self, target, spec, have):
        # force: the images go with the repository, which this stack created (it carries our tag)
        target.client("ecr").delete_repository(repositoryName=have.name, force=True)

    def delete_reason(self, have):
        return N_("tagged for this stack (its images are deleted with it)")


class ClusterResource(Resource):
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
        doc = {
            "clusterName": name,
            "capacityProviders": sorted(cluster.get("capacityProviders") or []),
            "defaultCapacityProviderStrategy": cluster.get("defaultCapacityProviderStrategy") or [],
        }
        return Current(name, doc, is_owned(cluster.get("tags"), spec), cluster["clusterArn"])

    def create(self, target, spec, want):
        extra = (
            {"capacityProviders": want.document["capacityProviders"]} if "capacityProviders" in want.document else {}
        )
        return target.client("ecs").create_cluster(clusterName=want.name, tags=tag_list(spec, "key", "value"), **extra)[
            "cluster"
        ]["clusterArn"]

    def compare(self, want, have):
        # only a missing provider matters: others associated (by hand, by another stack) stay
        missing = sorted(set(want.document.get("capacityProviders", [])) - set(have.document["capacityProviders"]))
        return (
            [f"capacityProviders: {brief(have.document['capacityProviders'])} -> (add) {brief(missing)}"]
            if missing
            else []
        )

    def update(self, target, spec, want, have):
        # PutClusterCapacityProviders replaces the list and the default strategy: both are sent again,
        # with the providers the spec needs added
        providers = sorted(set(have.document["capacityProviders"]) | set(want.document.get("capacityProviders", [])))
        target.client("ecs").put_cluster_capacity_providers(
            cluster=want.name,
            capacityProviders=providers,
            defaultCapacityProviderStrategy=have.document["defaultCapacityProviderStrategy"],
        )
        return have.arn

    def delete(self, target, spec, have):
        ecs = target.client("ecs")
        # DeleteCluster refuses a cluster with tasks (ClusterContainsTasksException); the stack's
        # own running tasks are stopped first.
        running = ecs.list_tasks(cluster=have.name, family=spec.family, desiredStatus="RUNNING")["taskArns"]
        for arn in running:
            ecs.stop_task(cluster=have.name, task=arn, reason=f"sfnecs teardown of stack {spec.name}")
        ecs.delete_cluster(cluster=have.name)


class TaskDefinitionResource(Resource):
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
        return Current(
            name, doc, is_owned(out.get("tags"), spec), td["taskDefinitionArn"], {"revision": td["revision"]}
        )

    def create(self, target, spec, want):
        return target.client("ecs").register_task_definition(**want.document, tags=tag_list(spec, "key", "value"))[
            "taskDefinition"
        ]["taskDefinitionArn"]

    def update(self, target, spec, want, have):
        # a task definition is immutable: a change is a new revision (the old one stays ACTIVE,
        # so running tasks and a rollback can still use it)
        return self.create(target, spec, want)

    def published(self, want, have, action, arn, refs):
        if arn is None:
            arn = have.arn if have is not None and action == "no-op" else f"{want.document['family']}:{NEXT_REVISION}"
        refs["task_definition"] = arn

    @staticmethod
    def _owned_revisions(target: Target, spec: StackSpec, family: str) -> list[tuple[str, str]]:
        """(ARN, status) of every ACTIVE or INACTIVE revision of `family` carrying the stack tag."""
        ecs = target.client("ecs")
        out = []
        for status in ("ACTIVE", "INACTIVE"):
            for page in ecs.get_paginator("list_task_definitions").paginate(familyPrefix=family, status=status):
                for arn in page["taskDefinitionArns"]:
                    if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] != family:
                        continue  # familyPrefix is a prefix: `job` also lists `job2`
                    if is_owned(ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"]).get("tags"), spec):
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
            ecs.delete_task_definitions(taskDefinitions=arns[i : i + 10])

    def delete_reason(self, have):
        return N_("tagged revisions are deregistered and deleted")
