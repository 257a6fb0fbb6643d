"""The stack as Terraform: `aws_*` resources of the AWS provider (v6), one small renderer per resource kind.

Why this shape: each kind of `sfnecs.deploy.resources` maps to its Terraform resources in one function of
`RENDERERS`, so a new resource type (e.g. alerting rules) is one function and one line. Documents go
through `jsonencode`; account, region and partition come from the `aws_caller_identity`, `aws_region`
and `aws_partition` data sources; what differs per account is a variable. Checkov's skips are written
inline (`#checkov:skip=ID:reason`) next to the resource they concern.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sfnecs.exceptions import ValidationError
from sfnecs.export.hcl import Attr, Block, Comment, Expr, JsonEncode, expression, render_blocks, string
from sfnecs.export.model import Exported, StackModel
from sfnecs.export.skips import skips_for
from sfnecs.export.tokens import Pseudo, Ref, Value

__all__ = ["RENDERERS", "TF_TYPES", "render", "render_resource"]

#: deploy kind -> the Terraform resource type that creates it
TF_TYPES = {
    "log_group": "aws_cloudwatch_log_group",
    "repository": "aws_ecr_repository",
    "cluster": "aws_ecs_cluster",
    "role": "aws_iam_role",
    "queue": "aws_sqs_queue",
    "topic": "aws_sns_topic",
    "task_definition": "aws_ecs_task_definition",
    "state_machine": "aws_sfn_state_machine",
    "schedule_group": "aws_scheduler_schedule_group",
    "schedule": "aws_scheduler_schedule",
    "topic_policy": "aws_sns_topic_policy",
    "task_failure_rule": "aws_cloudwatch_event_rule",
    "alarm": "aws_cloudwatch_metric_alarm",
}
#: the provider this code is written for: v6 reads the region as `data.aws_region.current.region`
PROVIDER_VERSION = ">= 6.0"
_PSEUDO = {"partition": "local.partition", "region": "local.region", "account": "local.account_id"}
_ATTRIBUTES = {"url": "repository_url"}
_VALUES = {"subnets": "var.subnets", "security_groups": "var.security_groups", "image": "local.image",
           "notify_email": "var.notify_email"}  # fmt: skip


def _speller(model: StackModel) -> Callable[[Pseudo | Ref | Value], str]:
    def spell(token: Pseudo | Ref | Value) -> str:
        if isinstance(token, Pseudo):
            return _PSEUDO[token.name]
        if isinstance(token, Value):
            return _VALUES[token.name]
        kind, name = token.resource.split(".")
        address = f"{TF_TYPES[kind]}.{name}"
        if kind == "cluster" and model.existing_cluster:
            address = f"data.aws_ecs_cluster.{name}"
        if token.attribute == "log_arn":
            # Terraform's log group ARN lacks the `:*` a Step Functions logging destination names
            return f'"${{{address}.arn}}:*"'
        return f"{address}.{_ATTRIBUTES.get(token.attribute, token.attribute)}"

    return spell


def _skips(resource: Exported | str, model: StackModel) -> list[Attr | Block | Comment]:
    kind = resource if isinstance(resource, str) else resource.kind
    return [Comment(f"#checkov:skip={check}:{reason}") for check, reason in skips_for(kind, "terraform", model.spec)]


def _tags() -> Attr:
    return Attr("tags", Expr("local.tags"))


def _resource(model: StackModel, r: Exported, body: list[Attr | Block | Comment], tf_type: str = "") -> Block:
    return Block("resource", (tf_type or TF_TYPES[r.kind], r.name), [*_skips(r, model), *body])


# ---- one renderer per deploy kind ------------------------------------------------------------------
def _log_group(model: StackModel, r: Exported) -> list[Block]:
    days = r.document["retentionInDays"]
    retention = [Attr("retention_in_days", days)] if days else []
    # kept at destroy, as `sfnecs teardown` keeps the logs of past runs unless asked (--delete-logs)
    keep = [Attr("skip_destroy", True)]
    return [_resource(model, r, [Attr("name", r.aws_name), *retention, *keep, _tags()])]


def _repository(model: StackModel, r: Exported) -> list[Block]:
    # force_delete stays false: destroy refuses a repository that holds images, as `sfnecs teardown` keeps
    # them unless asked (--delete-images)
    return [_resource(model, r, [Attr("name", r.aws_name), _tags()])]


def _cluster(model: StackModel, r: Exported) -> list[Block]:
    providers = r.document.get("capacityProviders")
    if model.existing_cluster:
        body: list[Attr | Block | Comment] = [Attr("cluster_name", r.aws_name)]
        if providers:
            body.insert(0, Comment(f"{', '.join(providers)} must be associated with it (sfnecs apply does)"))
        return [Block("data", ("aws_ecs_cluster", r.name), body)]
    blocks = [_resource(model, r, [Attr("name", r.aws_name), _tags()])]
    if providers:
        # ECS developer guide, "AWS Fargate capacity providers": FARGATE and FARGATE_SPOT only need
        # associating with the cluster; provider v5+ does it with this resource
        blocks.append(
            Block(
                "resource",
                ("aws_ecs_cluster_capacity_providers", r.name),
                [Attr("cluster_name", Expr(f"aws_ecs_cluster.{r.name}.name")), Attr("capacity_providers", providers)],
            )
        )
    return blocks


def _role(model: StackModel, r: Exported) -> list[Block]:
    doc = r.document
    blocks = [
        _resource(
            model,
            r,
            [
                Attr("name", r.aws_name),
                Attr("description", f"sfnecs stack {model.spec.name}"),
                Attr("assume_role_policy", JsonEncode(doc["AssumeRolePolicyDocument"])),
                _tags(),
            ],
        )
    ]
    for policy_name, policy in doc["Policies"].items():
        blocks.append(
            Block(
                "resource",
                ("aws_iam_role_policy", r.name),
                [
                    *_skips("role_policy", model),
                    Attr("name", policy_name),
                    Attr("role", Expr(f"aws_iam_role.{r.name}.id")),
                    Attr("policy", JsonEncode(policy)),
                ],
            )
        )
    if doc["AttachedPolicies"]:
        blocks.append(
            Block(
                "resource",
                ("aws_iam_role_policy_attachment", r.name),
                [
                    Attr("for_each", Expr(f"toset({expression(doc['AttachedPolicies'], _speller(model), 1)})")),
                    Attr("role", Expr(f"aws_iam_role.{r.name}.name")),
                    Attr("policy_arn", Expr("each.value")),
                ],
            )
        )
    return blocks


def _queue(model: StackModel, r: Exported) -> list[Block]:
    retention = int(r.document["Attributes"]["MessageRetentionPeriod"])
    return [
        _resource(
            model,
            r,
            [
                Attr("name", r.aws_name),
                Attr("message_retention_seconds", retention),
                # SSE-SQS, the default for new queues (SQS developer guide, "Encryption at rest"), said out loud
                Attr("sqs_managed_sse_enabled", True),
                _tags(),
            ],
        )
    ]


def _topic(model: StackModel, r: Exported) -> list[Block]:
    return [
        _resource(model, r, [Attr("name", r.aws_name), _tags()]),
        Block(
            "resource",
            ("aws_sns_topic_subscription", f"{r.name}_email"),
            [
                Comment("the recipient must confirm by e-mail before anything is delivered (SNS developer guide)"),
                Attr("count", Expr('var.notify_email == "" ? 0 : 1')),
                Attr("topic_arn", Expr(f"aws_sns_topic.{r.name}.arn")),
                Attr("protocol", "email"),
                Attr("endpoint", Expr("var.notify_email")),
            ],
        ),
    ]


def _task_definition(model: StackModel, r: Exported) -> list[Block]:
    doc = r.document
    platform = doc["runtimePlatform"]
    return [
        _resource(
            model,
            r,
            [
                Attr("family", doc["family"]),
                Attr("network_mode", doc["networkMode"]),
                Attr("requires_compatibilities", doc["requiresCompatibilities"]),
                Attr("cpu", doc["cpu"]),
                Attr("memory", doc["memory"]),
                Attr("execution_role_arn", doc["executionRoleArn"]),
                Attr("task_role_arn", doc["taskRoleArn"]),
                Attr("container_definitions", JsonEncode(doc["containerDefinitions"])),
                Block(
                    "runtime_platform",
                    body=[
                        Attr("operating_system_family", platform["operatingSystemFamily"]),
                        Attr("cpu_architecture", platform["cpuArchitecture"]),
                    ],
                ),
                _tags(),
            ],
        )
    ]


def _state_machine(model: StackModel, r: Exported) -> list[Block]:
    doc = r.document
    logging = doc["loggingConfiguration"]
    log_body: list[Attr | Block | Comment] = []
    if logging.get("destinations"):
        log_body.append(Attr("log_destination", logging["destinations"][0]["cloudWatchLogsLogGroup"]["logGroupArn"]))
        log_body.append(Attr("include_execution_data", logging["includeExecutionData"]))
    log_body.append(Attr("level", logging["level"]))
    return [
        _resource(
            model,
            r,
            [
                Attr("name", doc["name"]),
                Attr("role_arn", doc["roleArn"]),
                Attr("type", doc["type"]),
                Attr("definition", JsonEncode(doc["definition"])),
                Block("logging_configuration", body=log_body),
                _tags(),
                # CreateStateMachine checks that the role may deliver logs: its policy must exist first
                Attr("depends_on", [Expr("aws_iam_role_policy.sfn")]),
            ],
        )
    ]


def _schedule_group(model: StackModel, r: Exported) -> list[Block]:
    return [_resource(model, r, [Attr("name", r.aws_name), _tags()])]


_ECS_PARAMETERS = {
    "TaskDefinitionArn": "task_definition_arn",
    "TaskCount": "task_count",
    "LaunchType": "launch_type",
    "PlatformVersion": "platform_version",
    "PropagateTags": "propagate_tags",
    "EnableECSManagedTags": "enable_ecs_managed_tags",
}


def _ecs_parameters(params: dict[str, Any]) -> Block:
    body: list[Attr | Block | Comment] = []
    for key, value in params.items():
        if key in _ECS_PARAMETERS:
            body.append(Attr(_ECS_PARAMETERS[key], value))
        elif key == "CapacityProviderStrategy":
            for item in value:
                body.append(
                    Block(
                        "capacity_provider_strategy",
                        body=[
                            Attr("capacity_provider", item["capacityProvider"]),
                            Attr("weight", item["weight"]),
                            Attr("base", item["base"]),
                        ],
                    )
                )
        elif key == "NetworkConfiguration":
            vpc = value["awsvpcConfiguration"]
            network: list[Attr | Block | Comment] = [Attr("subnets", vpc["Subnets"])]
            if "SecurityGroups" in vpc:
                network.append(Attr("security_groups", vpc["SecurityGroups"]))
            # Terraform's assign_public_ip is a bool for the API's ENABLED / DISABLED
            network.append(Attr("assign_public_ip", vpc["AssignPublicIp"] == "ENABLED"))
            body.append(Block("network_configuration", body=network))
        else:
            raise ValueError(f"EcsParameters.{key} has no Terraform renderer")
    return Block("ecs_parameters", body=body)


def _schedule(model: StackModel, r: Exported) -> list[Block]:
    doc = r.document
    target = doc["Target"]
    window = doc["FlexibleTimeWindow"]
    window_body: list[Attr | Block | Comment] = [Attr("mode", window["Mode"])]
    if "MaximumWindowInMinutes" in window:
        window_body.append(Attr("maximum_window_in_minutes", window["MaximumWindowInMinutes"]))
    target_body: list[Attr | Block | Comment] = [Attr("arn", target["Arn"]), Attr("role_arn", target["RoleArn"])]
    if "Input" in target:
        # a literal string, not jsonencode: jsonencode writes `<` as \u003c, and the Scheduler replaces
        # only the literal `<aws.scheduler.scheduled-time>` (Scheduler user guide, "Adding context attributes")
        target_body.append(Attr("input", target["Input"]))
    target_body += [
        Block("dead_letter_config", body=[Attr("arn", target["DeadLetterConfig"]["Arn"])]),
        Block(
            "retry_policy",
            body=[
                Attr("maximum_event_age_in_seconds", target["RetryPolicy"]["MaximumEventAgeInSeconds"]),
                Attr("maximum_retry_attempts", target["RetryPolicy"]["MaximumRetryAttempts"]),
            ],
        ),
    ]
    if "EcsParameters" in target:
        target_body.append(_ecs_parameters(target["EcsParameters"]))
    return [
        _resource(
            model,
            r,
            [
                Attr("name", doc["Name"]),
                Attr("group_name", Expr(f"aws_scheduler_schedule_group.{r.name}.name")),
                Attr("description", doc["Description"]),
                Attr("schedule_expression", doc["ScheduleExpression"]),
                Attr("schedule_expression_timezone", doc["ScheduleExpressionTimezone"]),
                Attr("state", doc["State"]),
                Block("flexible_time_window", body=window_body),
                Block("target", body=target_body),
            ],
        )
    ]


def _topic_policy(model: StackModel, r: Exported) -> list[Block]:
    return [_resource(model, r, [Attr("arn", Ref("topic.alerts")), Attr("policy", JsonEncode(r.document["Policy"]))])]


def _task_failure_rule(model: StackModel, r: Exported) -> list[Block]:
    doc = r.document
    blocks = [
        _resource(
            model,
            r,
            [
                Attr("name", doc["Name"]),
                Attr("description", doc["Description"]),
                Attr("state", doc["State"]),
                Attr("event_pattern", JsonEncode(doc["EventPattern"])),
                _tags(),
            ],
        )
    ]
    for target in doc["Targets"]:
        transformer = target["InputTransformer"]
        blocks.append(
            Block(
                "resource",
                ("aws_cloudwatch_event_target", r.name),
                [
                    Attr("rule", Expr(f"aws_cloudwatch_event_rule.{r.name}.name")),
                    Attr("target_id", target["Id"]),
                    Attr("arn", target["Arn"]),
                    Block(
                        "input_transformer",
                        body=[
                            Attr("input_paths", transformer["InputPathsMap"]),
                            Attr("input_template", transformer["InputTemplate"]),
                        ],
                    ),
                ],
            )
        )
    return blocks


_ALARM_FIELDS = {
    "AlarmName": "alarm_name",
    "AlarmDescription": "alarm_description",
    "ActionsEnabled": "actions_enabled",
    "AlarmActions": "alarm_actions",
    "Namespace": "namespace",
    "MetricName": "metric_name",
    "Statistic": "statistic",
    "Period": "period",
    "EvaluationPeriods": "evaluation_periods",
    "DatapointsToAlarm": "datapoints_to_alarm",
    "Threshold": "threshold",
    "ComparisonOperator": "comparison_operator",
    "TreatMissingData": "treat_missing_data",
}


def _alarm(model: StackModel, r: Exported) -> list[Block]:
    doc = r.document
    body: list[Attr | Block | Comment] = [Attr(tf, doc[api]) for api, tf in _ALARM_FIELDS.items() if api in doc]
    body.insert(6, Attr("dimensions", {d["Name"]: d["Value"] for d in doc["Dimensions"]}))
    return [_resource(model, r, [*body, _tags()])]


#: deploy kind -> its Terraform blocks (one function per kind: a new kind is one entry)
RENDERERS: dict[str, Callable[[StackModel, Exported], list[Block]]] = {
    "log_group": _log_group,
    "repository": _repository,
    "cluster": _cluster,
    "role": _role,
    "queue": _queue,
    "topic": _topic,
    "task_definition": _task_definition,
    "state_machine": _state_machine,
    "schedule_group": _schedule_group,
    "schedule": _schedule,
    "topic_policy": _topic_policy,
    "task_failure_rule": _task_failure_rule,
    "alarm": _alarm,
}


# ---- the files --------------------------------------------------------------------------------------
def _header(model: StackModel, what: str) -> list[Block | Comment]:
    spec = model.spec
    return [
        Comment(f"{what} of sfnecs stack {spec.name!r} (pattern {spec.pattern}), from `sfnecs export`."),
        Comment("The same StackSpec and builders as `sfnecs apply`: regenerate rather than edit by hand."),
    ]


def _main(model: StackModel) -> list[Block | Comment]:
    spec = model.spec
    image = "var.image"
    if model.has("repository.job"):
        image = 'var.image != "" ? var.image : "${aws_ecr_repository.job.repository_url}:latest"'
    blocks: list[Block | Comment] = [
        *_header(model, "The resources"),
        Block("data", ("aws_caller_identity", "current")),
        Block("data", ("aws_partition", "current")),
        Block("data", ("aws_region", "current")),
        Block(
            "locals",
            body=[
                Attr("account_id", Expr("data.aws_caller_identity.current.account_id")),
                Attr("partition", Expr("data.aws_partition.current.partition")),
                Attr("region", Expr("data.aws_region.current.region")),
                Attr("image", Expr(image)),
                Comment("every resource that takes tags carries sfnecs:stack: what lacks it, sfnecs never changes"),
                Attr("tags", dict(sorted(spec.all_tags.items()))),
            ],
        ),
    ]
    for r in model.resources:
        if r.kind != "role":
            blocks += RENDERERS[r.kind](model, r)
    return blocks


def _iam(model: StackModel) -> list[Block | Comment]:
    blocks: list[Block | Comment] = [*_header(model, "The IAM roles")]
    for r in model.resources:
        if r.kind == "role":
            blocks += RENDERERS[r.kind](model, r)
    return blocks


#: variable -> (condition, error message): the awsvpc limits StackSpec checks, checked at `terraform plan`
_VALIDATIONS = {
    "subnets": (
        "length(var.subnets) >= 1 && length(var.subnets) <= 16",
        "Give 1 to 16 subnet ids: awsvpc needs one, and ECS takes at most 16.",
    ),
    "security_groups": ("length(var.security_groups) <= 5", "Give at most 5 security group ids (ECS takes 5)."),
}


def _variables(model: StackModel) -> list[Block | Comment]:
    blocks: list[Block | Comment] = [*_header(model, "The per-account inputs")]
    for v in model.variables:
        body: list[Attr | Block | Comment] = [Attr("type", Expr(v.type)), Attr("description", v.description)]
        if v.default is not None:
            body.append(Attr("default", v.default))
        if v.name in _VALIDATIONS:
            condition, message = _VALIDATIONS[v.name]
            body.append(Block("validation", body=[Attr("condition", Expr(condition)), Attr("error_message", message)]))
        blocks.append(Block("variable", (v.name,), body))
    return blocks


def _outputs(model: StackModel) -> list[Block | Comment]:
    blocks: list[Block | Comment] = [*_header(model, "The outputs")]
    for o in model.outputs:
        blocks.append(Block("output", (o.name,), [Attr("description", o.description), Attr("value", o.ref)]))
    return blocks


def _versions() -> list[Block | Comment]:
    provider = {"source": "hashicorp/aws", "version": PROVIDER_VERSION}
    return [
        Block(
            "terraform",
            body=[Attr("required_version", ">= 1.5"), Block("required_providers", body=[Attr("aws", provider)])],
        )
    ]


def _tfvars(model: StackModel) -> str:
    lines = [f"# This account's values for sfnecs stack {model.spec.name!r} (from the StackSpec exported)."]
    width = max(len(v.name) for v in model.variables)
    for v in model.variables:
        value = "[" + ", ".join(string(s) for s in v.value) + "]" if isinstance(v.value, list) else string(v.value)
        lines.append(f"{v.name.ljust(width)} = {value}")
    return "\n".join(lines) + "\n"


def render(model: StackModel) -> dict[str, str]:
    """The Terraform files of the stack, by file name: versions.tf, main.tf, iam.tf, variables.tf,
    outputs.tf and terraform.tfvars (this account's values)."""
    spell = _speller(model)
    return {
        "versions.tf": render_blocks(_versions(), spell),
        "main.tf": render_blocks(_main(model), spell),
        "iam.tf": render_blocks(_iam(model), spell),
        "variables.tf": render_blocks(_variables(model), spell),
        "outputs.tf": render_blocks(_outputs(model), spell),
        "terraform.tfvars": _tfvars(model),
    }


def render_resource(model: StackModel, key: str) -> str:
    """The Terraform blocks of one exported resource (e.g. `role.sfn`: the role and its inline policy),
    as they appear in the files: for reading one resource next to something else."""
    found = [r for r in model.resources if r.key == key]
    if not found:
        raise ValidationError("key", key, "one of " + ", ".join(r.key for r in model.resources))
    return render_blocks(list(RENDERERS[found[0].kind](model, found[0])), _speller(model))
