"""The stack as a CloudFormation template (YAML): the same resources, one small renderer per resource kind.

Why this shape: as in sfnecs.export.terraform, each kind of `sfnecs.deploy.resources` is one function of
`RENDERERS`. Account, region and partition are pseudo parameters inside `Fn::Sub`; what differs per
account is a parameter (values for this spec in parameters.json); the state machine's definition is a
`DefinitionString` through `Fn::Sub`, laid out as a block so a reviewer reads the ASL itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import yaml

from sfnecs.export.model import Exported, StackModel
from sfnecs.export.skips import skips_for
from sfnecs.export.tokens import Pseudo, Ref, Text, Value

__all__ = ["CFN_TYPES", "RENDERERS", "logical_id", "render"]

CFN_TYPES = {
    "log_group": "AWS::Logs::LogGroup",
    "repository": "AWS::ECR::Repository",
    "cluster": "AWS::ECS::Cluster",
    "role": "AWS::IAM::Role",
    "queue": "AWS::SQS::Queue",
    "topic": "AWS::SNS::Topic",
    "topic_policy": "AWS::SNS::TopicPolicy",
    "task_definition": "AWS::ECS::TaskDefinition",
    "state_machine": "AWS::StepFunctions::StateMachine",
    "schedule_group": "AWS::Scheduler::ScheduleGroup",
    "schedule": "AWS::Scheduler::Schedule",
    "task_failure_rule": "AWS::Events::Rule",
    "alarm": "AWS::CloudWatch::Alarm",
}
_PSEUDO = {"partition": "AWS::Partition", "region": "AWS::Region", "account": "AWS::AccountId"}
_PARAMETERS = {"subnets": "Subnets", "security_groups": "SecurityGroups", "image": "Image",
               "notify_email": "NotifyEmail"}  # fmt: skip
_PARAMETER_TYPES = {"subnets": "List<AWS::EC2::Subnet::Id>", "security_groups": "List<AWS::EC2::SecurityGroup::Id>"}
_ATTRIBUTES = {"url": "RepositoryUri"}
#: kinds whose `Ref` is the ARN (the others give a name or an id: their ARN is `Fn::GetAtt Arn`)
_REF_IS_ARN = {"topic", "task_definition", "state_machine"}


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def logical_id(key: str) -> str:
    """`role.sfn` -> `SfnRole`: the resource's logical id in the template."""
    kind, name = key.split(".")
    return _pascal(name) + CFN_TYPES[kind].rsplit("::", 1)[1]


def _sub_name(token: Pseudo | Ref | Value, model: StackModel) -> str:
    """The token as it is written inside an `Fn::Sub` string (without `${}`)."""
    if isinstance(token, Pseudo):
        return _PSEUDO[token.name]
    if isinstance(token, Value):
        return _PARAMETERS[token.name]
    kind = token.resource.split(".")[0]
    lid = logical_id(token.resource)
    if token.attribute == "name" or (token.attribute == "arn" and kind in _REF_IS_ARN):
        return lid
    return f"{lid}.{_ATTRIBUTES.get(token.attribute, 'Arn')}"


def _escape(text: str) -> str:
    return text.replace("${", "${!")


def _spell(value: Any, model: StackModel) -> Any:
    """A document with tokens as CloudFormation: intrinsic functions where a token is."""
    if isinstance(value, dict):
        return {k: _spell(v, model) for k, v in value.items()}
    if isinstance(value, list):
        return [_spell(v, model) for v in value]
    if isinstance(value, Text):
        text = "".join(_escape(p) if isinstance(p, str) else "${" + _sub_name(p, model) + "}" for p in value.parts)
        return {"Fn::Sub": text}
    if isinstance(value, Pseudo):
        return {"Ref": _PSEUDO[value.name]}
    if isinstance(value, Value):
        if value.name == "image" and model.has("repository.job"):
            return {"Fn::If": ["UseStackRepository", {"Fn::Sub": "${JobRepository.RepositoryUri}:latest"},
                               {"Ref": "Image"}]}  # fmt: skip
        return {"Ref": _PARAMETERS[value.name]}
    if isinstance(value, Ref):
        if value.resource == "cluster.job" and model.existing_cluster:
            cluster = model.spec.cluster
            return {"Fn::Sub": f"arn:${{AWS::Partition}}:ecs:${{AWS::Region}}:${{AWS::AccountId}}:cluster/{cluster}"}
        name = _sub_name(value, model)
        return {"Fn::GetAtt": name.split(".")} if "." in name else {"Ref": name}
    return value


def _tags(model: StackModel) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(model.spec.all_tags.items())]


def _resource(model: StackModel, r: Exported, properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"Type": CFN_TYPES[r.kind]}
    metadata: dict[str, Any] = {}
    skips = skips_for(r.kind, "cloudformation", model.spec)
    if skips:
        metadata["checkov"] = {"skip": [{"id": check, "comment": reason} for check, reason in skips]}
    if metadata:
        out["Metadata"] = metadata
    out.update(extra)
    out["Properties"] = _spell(properties, model)
    return out


Resources = dict[str, dict[str, Any]]


# ---- one renderer per deploy kind ------------------------------------------------------------------
#: kept when the stack is deleted or the resource replaced, as `sfnecs teardown` keeps the logs of past runs
#: and the images unless asked (--delete-logs, --delete-images)
_KEEP = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}


def _log_group(model: StackModel, r: Exported) -> Resources:
    days = r.document["retentionInDays"]
    props: dict[str, Any] = {"LogGroupName": r.aws_name, **({"RetentionInDays": days} if days else {})}
    return {logical_id(r.key): _resource(model, r, {**props, "Tags": _tags(model)}, **_KEEP)}


def _repository(model: StackModel, r: Exported) -> Resources:
    return {logical_id(r.key): _resource(model, r, {"RepositoryName": r.aws_name, "Tags": _tags(model)}, **_KEEP)}


def _cluster(model: StackModel, r: Exported) -> Resources:
    if model.existing_cluster:
        return {}  # referred to by its ARN (see _spell)
    props: dict[str, Any] = {"ClusterName": r.aws_name}
    if r.document.get("capacityProviders"):
        props["CapacityProviders"] = r.document["capacityProviders"]
    return {logical_id(r.key): _resource(model, r, {**props, "Tags": _tags(model)})}


def _role(model: StackModel, r: Exported) -> Resources:
    doc = r.document
    props: dict[str, Any] = {
        "RoleName": r.aws_name,
        "Description": f"sfnecs stack {model.spec.name}",
        "AssumeRolePolicyDocument": doc["AssumeRolePolicyDocument"],
    }
    if doc["Policies"]:
        props["Policies"] = [{"PolicyName": n, "PolicyDocument": p} for n, p in doc["Policies"].items()]
    if doc["AttachedPolicies"]:
        props["ManagedPolicyArns"] = doc["AttachedPolicies"]
    return {logical_id(r.key): _resource(model, r, {**props, "Tags": _tags(model)})}


def _queue(model: StackModel, r: Exported) -> Resources:
    props = {
        "QueueName": r.aws_name,
        "MessageRetentionPeriod": int(r.document["Attributes"]["MessageRetentionPeriod"]),
        "SqsManagedSseEnabled": True,
        "Tags": _tags(model),
    }
    return {logical_id(r.key): _resource(model, r, props)}


def _topic(model: StackModel, r: Exported) -> Resources:
    topic = logical_id(r.key)
    subscription = {
        "Type": "AWS::SNS::Subscription",
        "Condition": "HasNotifyEmail",
        "Properties": {"TopicArn": {"Ref": topic}, "Protocol": "email", "Endpoint": {"Ref": "NotifyEmail"}},
    }
    return {
        topic: _resource(model, r, {"TopicName": r.aws_name, "Tags": _tags(model)}),
        f"{_pascal(r.name)}EmailSubscription": subscription,
    }


def _topic_policy(model: StackModel, r: Exported) -> Resources:
    props = {"PolicyDocument": r.document["Policy"], "Topics": [Ref("topic.alerts")]}
    return {logical_id(r.key): _resource(model, r, props)}


def _pascal_keys(value: Any) -> Any:
    """camelCase API keys as CloudFormation's PascalCase (the values, e.g. awslogs options, kept)."""
    if isinstance(value, dict):
        return {k[:1].upper() + k[1:]: v if k == "options" else _pascal_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_pascal_keys(v) for v in value]
    return value


def _task_definition(model: StackModel, r: Exported) -> Resources:
    doc = r.document
    props = {
        "Family": doc["family"],
        "NetworkMode": doc["networkMode"],
        "RequiresCompatibilities": doc["requiresCompatibilities"],
        "Cpu": doc["cpu"],
        "Memory": doc["memory"],
        "RuntimePlatform": {
            "CpuArchitecture": doc["runtimePlatform"]["cpuArchitecture"],
            "OperatingSystemFamily": doc["runtimePlatform"]["operatingSystemFamily"],
        },
        "ExecutionRoleArn": doc["executionRoleArn"],
        "TaskRoleArn": doc["taskRoleArn"],
        "ContainerDefinitions": _pascal_keys(doc["containerDefinitions"]),
        "Tags": _tags(model),
    }
    return {logical_id(r.key): _resource(model, r, props)}


def _definition_string(definition: Any, model: StackModel) -> dict[str, Any]:
    """The ASL as an `Fn::Sub` block: tokens become `${...}`; a list parameter (subnets) becomes
    `["${Subnets}"]` with the list joined by `","`, so the text is JSON before and after substitution."""
    lists: dict[str, Any] = {}

    def place(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: place(v) for k, v in value.items()}
        if isinstance(value, list):
            return [place(v) for v in value]
        if isinstance(value, Value):
            name = _PARAMETERS[value.name]
            lists[name] = {"Fn::Join": ['","', {"Ref": name}]}
            return ["${" + name + "}"]
        if isinstance(value, Text):
            return "".join(_escape(p) if isinstance(p, str) else "${" + _sub_name(p, model) + "}" for p in value.parts)
        if isinstance(value, (Pseudo, Ref)):
            return "${" + _sub_name(value, model) + "}"
        return _escape(value) if isinstance(value, str) else value

    text = json.dumps(place(definition), indent=2, ensure_ascii=False) + "\n"
    return {"Fn::Sub": [text, dict(sorted(lists.items()))]} if lists else {"Fn::Sub": text}


def _state_machine(model: StackModel, r: Exported) -> Resources:
    doc = r.document
    logging = doc["loggingConfiguration"]
    log: dict[str, Any] = {"Level": logging["level"]}
    if logging.get("destinations"):
        log["IncludeExecutionData"] = logging["includeExecutionData"]
        arn = logging["destinations"][0]["cloudWatchLogsLogGroup"]["logGroupArn"]
        log["Destinations"] = [{"CloudWatchLogsLogGroup": {"LogGroupArn": arn}}]
    props = {
        "StateMachineName": doc["name"],
        "StateMachineType": doc["type"],
        "RoleArn": doc["roleArn"],
        "LoggingConfiguration": log,
        "Tags": _tags(model),
    }
    resource = _resource(model, r, props)
    resource["Properties"]["DefinitionString"] = _definition_string(doc["definition"], model)
    return {logical_id(r.key): resource}


def _schedule_group(model: StackModel, r: Exported) -> Resources:
    return {logical_id(r.key): _resource(model, r, {"Name": r.aws_name, "Tags": _tags(model)})}


def _schedule(model: StackModel, r: Exported) -> Resources:
    doc = r.document
    target = dict(doc["Target"])
    if "EcsParameters" in target:
        # CloudFormation spells EcsParameters in PascalCase throughout (the API mixes in camelCase)
        target["EcsParameters"] = _pascal_keys(target["EcsParameters"])
    props = {
        "Name": doc["Name"],
        "GroupName": Ref("schedule_group.job", "name"),
        "Description": doc["Description"],
        "ScheduleExpression": doc["ScheduleExpression"],
        "ScheduleExpressionTimezone": doc["ScheduleExpressionTimezone"],
        "State": doc["State"],
        "FlexibleTimeWindow": doc["FlexibleTimeWindow"],
        "Target": target,
    }
    return {logical_id(r.key): _resource(model, r, props)}


def _task_failure_rule(model: StackModel, r: Exported) -> Resources:
    doc = r.document
    props = {
        "Name": doc["Name"],
        "Description": doc["Description"],
        "State": doc["State"],
        "EventPattern": doc["EventPattern"],
        "Targets": doc["Targets"],
        "Tags": _tags(model),
    }
    return {logical_id(r.key): _resource(model, r, props)}


def _alarm(model: StackModel, r: Exported) -> Resources:
    return {logical_id(r.key): _resource(model, r, {**r.document, "Tags": _tags(model)})}


RENDERERS: dict[str, Callable[[StackModel, Exported], Resources]] = {
    "log_group": _log_group,
    "repository": _repository,
    "cluster": _cluster,
    "role": _role,
    "queue": _queue,
    "topic": _topic,
    "topic_policy": _topic_policy,
    "task_definition": _task_definition,
    "state_machine": _state_machine,
    "schedule_group": _schedule_group,
    "schedule": _schedule,
    "task_failure_rule": _task_failure_rule,
    "alarm": _alarm,
}


# ---- the template ------------------------------------------------------------------------------------
def template(model: StackModel) -> dict[str, Any]:
    """The template as a document (what `render` writes as YAML)."""
    spec = model.spec
    parameters: dict[str, Any] = {}
    for v in model.variables:
        p: dict[str, Any] = {"Type": _PARAMETER_TYPES.get(v.name, "String"), "Description": v.description}
        if v.default is not None:
            p["Default"] = v.default
        parameters[_PARAMETERS[v.name]] = p
    conditions: dict[str, Any] = {}
    if model.has("repository.job"):
        conditions["UseStackRepository"] = {"Fn::Equals": [{"Ref": "Image"}, ""]}
    if model.has("topic.alerts"):
        conditions["HasNotifyEmail"] = {"Fn::Not": [{"Fn::Equals": [{"Ref": "NotifyEmail"}, ""]}]}
    resources: Resources = {}
    for r in model.resources:
        resources.update(RENDERERS[r.kind](model, r))
    outputs = {
        _pascal(o.name): {"Description": o.description, "Value": _spell(o.ref, model)}
        for o in model.outputs
        if not (o.ref.resource == "cluster.job" and model.existing_cluster)
    }
    doc: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"sfnecs stack {spec.name} (pattern {spec.pattern}), from `sfnecs export`: "
        "the same StackSpec and builders as `sfnecs apply`",
        "Parameters": parameters,
    }
    if conditions:
        doc["Conditions"] = conditions
    return {**doc, "Resources": resources, "Outputs": outputs}


class _Dumper(yaml.SafeDumper):
    """Block style, keys in the order written, multi-line strings (the ASL) as literal blocks."""


def _str(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _str)


def _yaml(doc: Any) -> str:
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120, default_flow_style=False)


def _parameter_values(model: StackModel) -> str:
    values = [
        {
            "ParameterKey": _PARAMETERS[v.name],
            "ParameterValue": ",".join(v.value) if isinstance(v.value, list) else v.value,
        }
        for v in model.variables
    ]
    return json.dumps(values, indent=2, ensure_ascii=False) + "\n"


def render(model: StackModel) -> dict[str, str]:
    """The CloudFormation files of the stack: template.yaml and parameters.json (this account's values, in
    the form `aws cloudformation create-stack --parameters file://parameters.json` takes)."""
    return {"template.yaml": _yaml(template(model)), "parameters.json": _parameter_values(model)}
