"""One description, three deploy paths: a stack applied to the sandbox, exported as Terraform and as
CloudFormation, and every exported resource's properties compared with what the sandbox holds; the
template is also created in the sandbox through CreateStack and compared with what apply would make.

The exported files are evaluated here as Terraform and CloudFormation would evaluate them: their
references (data sources, pseudo parameters, variables, other resources' ARNs) are resolved with this
account's values, then turned back into the API documents plan compares (sfnecs.deploy).
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

import hcl2
import pytest
import yaml
from hcl2.utils import SerializationOptions
from tests.test_stack import deployed, make_spec

from sfnecs.deploy import stack
from sfnecs.deploy.changes import document_diff
from sfnecs.deploy.resources import RESOURCES
from sfnecs.export import render, stack_model
from sfnecs.export.cloudformation import logical_id
from sfnecs.export.terraform import TF_TYPES
from sfnecs.model import StackSpec

_REFERENCE = re.compile(r"\$\{([^{}]+)\}")
#: python-hcl2's plain reading: strings without their quotes, no comments
HCL = SerializationOptions(with_comments=False, strip_string_quotes=True)


def held(target: Any, spec: Any) -> dict[tuple[str, str], Any]:
    """What the sandbox holds for each resource the spec wants: (kind, name) -> Current (after apply)."""
    changes = stack.plan(target, spec).changes
    assert all(c.action == "no-op" for c in changes), [(c.resource, c.action, c.diff) for c in changes]
    return {(c.kind, c.resource): c.current for c in changes}


# ---- Terraform, evaluated ----------------------------------------------------------------------------
def _tf_env(target: Any, spec: Any, have: dict[tuple[str, str], Any]) -> dict[str, Any]:
    env: dict[str, Any] = {
        "local.partition": "aws",
        "local.region": target.region,
        "local.account_id": target.account,
        "local.image": spec.image_uri,
        "var.subnets": list(spec.subnets),
        "var.security_groups": list(spec.security_groups),
        "var.notify_email": "",
    }
    for r in stack_model(spec).resources:
        current = have[(r.kind, r.aws_name)]
        address = f"{TF_TYPES[r.kind]}.{r.name}"
        env[f"{address}.arn"] = current.arn
        env[f"{address}.name"] = env[f"{address}.id"] = r.aws_name
        env[f"{address}.repository_url"] = spec.image_uri.rsplit(":", 1)[0]
    return env


def _tf_value(value: Any, env: dict[str, Any]) -> Any:
    """An attribute as python-hcl2 reads it, evaluated: jsonencode(...) decoded, ${...} resolved."""
    if isinstance(value, dict):
        return {k: _tf_value(v, env) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [_tf_value(v, env) for v in value]
    if not isinstance(value, str):
        return value
    if value.startswith("${jsonencode(") and value.endswith(")}"):
        # python-hcl2 keeps a function's argument as HCL text: read it as the value of an attribute
        inner = value[len("${jsonencode(") : -2]
        return _tf_value(hcl2.loads(f"x = {inner}\n", serialization_options=HCL)["x"], env)
    whole = _REFERENCE.fullmatch(value)
    if whole:
        return env[whole[1]]
    return _REFERENCE.sub(lambda m: str(env[m[1]]), value)


def _one(body: dict[str, Any], key: str, env: dict[str, Any]) -> Any:
    """An attribute of a block, evaluated."""
    return _tf_value(body[key], env)


def _tf_documents(files: dict[str, str], env: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every Terraform resource turned back into the API document `plan` compares, by (kind, name)."""
    blocks = [
        (t, n, b)
        for text in (files["main.tf"], files["iam.tf"])
        for block in hcl2.loads(text, serialization_options=HCL).get("resource", [])
        for t, named in block.items()
        for n, b in named.items()
    ]
    kinds = {v: k for k, v in TF_TYPES.items()}
    by_address = {(t, n): b for t, n, b in blocks}
    docs: dict[tuple[str, str], dict[str, Any]] = {}
    for tf_type, name, b in blocks:
        if tf_type not in kinds:
            continue  # parts of another resource (role policies, targets, ...): read with their owner
        one = lambda key, body=b: _one(body, key, env)  # noqa: E731
        kind = kinds[tf_type]
        if kind == "role":
            policy = by_address.get(("aws_iam_role_policy", name))
            doc = {
                "AssumeRolePolicyDocument": one("assume_role_policy"),
                "Policies": {_one(policy, "name", env): _one(policy, "policy", env)} if policy else {},
            }
            docs[(kind, one("name"))] = doc
        elif kind == "task_definition":
            platform = b["runtime_platform"][0]
            docs[(kind, one("family"))] = {
                "family": one("family"),
                "networkMode": one("network_mode"),
                "requiresCompatibilities": one("requires_compatibilities"),
                "cpu": one("cpu"),
                "memory": one("memory"),
                "runtimePlatform": {
                    "cpuArchitecture": _one(platform, "cpu_architecture", env),
                    "operatingSystemFamily": _one(platform, "operating_system_family", env),
                },
                "executionRoleArn": one("execution_role_arn"),
                "taskRoleArn": one("task_role_arn"),
                "containerDefinitions": one("container_definitions"),
            }
        elif kind == "state_machine":
            log = b["logging_configuration"][0]
            logging = {"level": _one(log, "level", env)}
            if "log_destination" in log:
                logging["includeExecutionData"] = _one(log, "include_execution_data", env)
                logging["destinations"] = [
                    {"cloudWatchLogsLogGroup": {"logGroupArn": _one(log, "log_destination", env)}}
                ]
            docs[(kind, one("name"))] = {
                "name": one("name"),
                "definition": one("definition"),
                "roleArn": one("role_arn"),
                "type": one("type"),
                "loggingConfiguration": logging,
            }
        elif kind == "schedule":
            docs[(kind, one("name"))] = _tf_schedule(b, env)
        elif kind == "log_group":
            docs[(kind, one("name"))] = {
                "retentionInDays": one("retention_in_days") if "retention_in_days" in b else None
            }
        elif kind == "queue":
            docs[(kind, one("name"))] = {
                "Attributes": {"MessageRetentionPeriod": str(one("message_retention_seconds"))}
            }
        elif kind == "topic_policy":
            docs[(kind, _policy_name(env_name(one("arn"))))] = {"Policy": one("policy")}
        elif kind == "task_failure_rule":
            target = by_address[("aws_cloudwatch_event_target", name)]
            transformer = target["input_transformer"][0]
            docs[(kind, one("name"))] = {
                "Name": one("name"),
                "EventPattern": json.dumps(one("event_pattern"), sort_keys=True),
                "State": one("state"),
                "Description": one("description"),
                "Targets": [
                    {
                        "Id": _one(target, "target_id", env),
                        "Arn": _one(target, "arn", env),
                        "InputTransformer": {
                            "InputPathsMap": _one(transformer, "input_paths", env),
                            "InputTemplate": _one(transformer, "input_template", env),
                        },
                    }
                ],
            }
        elif kind == "alarm":
            dims = one("dimensions")
            docs[(kind, one("alarm_name"))] = {
                **{api: one(tf) for api, tf in _ALARM.items()},
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
            }
        else:  # cluster, repository, topic, schedule group: the name is the whole document compared
            docs[(kind, one("name"))] = {}
    return docs


def env_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


def _policy_name(topic: str) -> str:
    """The name plan gives a topic's policy (sfnecs.deploy.alerting_resources.TopicPolicyResource)."""
    from sfnecs.deploy.alerting_resources import TopicPolicyResource

    spec_name = topic.removesuffix("-alerts")
    (want,) = TopicPolicyResource().desired(StackSpec(spec_name, pattern="A"), {}, None)
    return want.name


_ALARM = {
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


def _tf_schedule(b: dict[str, Any], env: dict[str, Any]) -> dict[str, Any]:
    one = lambda body, key: _one(body, key, env)  # noqa: E731
    target = b["target"][0]
    retry = target["retry_policy"][0]
    api: dict[str, Any] = {
        "Arn": one(target, "arn"),
        "RoleArn": one(target, "role_arn"),
        "RetryPolicy": {
            "MaximumRetryAttempts": one(retry, "maximum_retry_attempts"),
            "MaximumEventAgeInSeconds": one(retry, "maximum_event_age_in_seconds"),
        },
        "DeadLetterConfig": {"Arn": one(target["dead_letter_config"][0], "arn")},
    }
    if "input" in target:
        api["Input"] = one(target, "input")
    if "ecs_parameters" in target:
        ecs = target["ecs_parameters"][0]
        net = ecs["network_configuration"][0]
        vpc = {
            "Subnets": one(net, "subnets"),
            "AssignPublicIp": "ENABLED" if one(net, "assign_public_ip") else "DISABLED",
        }
        if "security_groups" in net:
            vpc["SecurityGroups"] = one(net, "security_groups")
        params: dict[str, Any] = {
            "TaskDefinitionArn": one(ecs, "task_definition_arn"),
            "TaskCount": one(ecs, "task_count"),
            "NetworkConfiguration": {"awsvpcConfiguration": vpc},
            "PropagateTags": one(ecs, "propagate_tags"),
            "EnableECSManagedTags": one(ecs, "enable_ecs_managed_tags"),
        }
        if "launch_type" in ecs:
            params["LaunchType"] = one(ecs, "launch_type")
        if "capacity_provider_strategy" in ecs:
            params["CapacityProviderStrategy"] = [
                {"capacityProvider": one(i, "capacity_provider"), "weight": one(i, "weight"), "base": one(i, "base")}
                for i in ecs["capacity_provider_strategy"]
            ]
        api["EcsParameters"] = params
    window = b["flexible_time_window"][0]
    return {
        "Name": _one(b, "name", env),
        "ScheduleExpression": _one(b, "schedule_expression", env),
        "ScheduleExpressionTimezone": _one(b, "schedule_expression_timezone", env),
        "FlexibleTimeWindow": {"Mode": one(window, "mode")},
        "State": _one(b, "state", env),
        "Description": _one(b, "description", env),
        "Target": api,
    }


# ---- CloudFormation, evaluated -----------------------------------------------------------------------
class _Template:
    """Intrinsic functions resolved as CloudFormation would, with this account's values."""

    def __init__(self, template: dict[str, Any], target: Any, parameters: dict[str, Any], refs: dict[str, Any]):
        self.template, self.parameters, self.refs = template, parameters, refs
        self.pseudo = {"AWS::Partition": "aws", "AWS::Region": target.region, "AWS::AccountId": target.account}

    def ref(self, name: str) -> Any:
        for table in (self.pseudo, self.parameters, self.refs):
            if name in table:
                return table[name]
        raise KeyError(name)

    def condition(self, name: str) -> bool:
        return bool(self.value(self.template["Conditions"][name]))

    def value(self, v: Any) -> Any:
        if isinstance(v, list):
            return [self.value(x) for x in v]
        if not isinstance(v, dict):
            return v
        if len(v) == 1:
            ((fn, arg),) = v.items()
            if fn == "Ref":
                return self.ref(arg)
            if fn == "Fn::GetAtt":
                return self.ref(".".join(arg))
            if fn == "Fn::Sub":
                text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], self.value(arg[1]))
                return re.sub(r"\$\{([^}!]+)\}", lambda m: str(extra[m[1]] if m[1] in extra else self.ref(m[1])), text)
            if fn == "Fn::Join":
                return arg[0].join(self.value(arg[1]))
            if fn == "Fn::If":
                return self.value(arg[1] if self.condition(arg[0]) else arg[2])
            if fn == "Fn::Equals":
                return self.value(arg[0]) == self.value(arg[1])
            if fn == "Fn::Not":
                return not self.value(arg[0])
        return {k: self.value(x) for k, x in v.items()}


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: v if k == "Options" else _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def _cfn_documents(text: str, ev: _Template) -> dict[tuple[str, str], dict[str, Any]]:
    template = yaml.safe_load(text)
    ev.template = template
    docs: dict[tuple[str, str], dict[str, Any]] = {}
    for resource in template["Resources"].values():
        kind_type, p = resource["Type"], ev.value(resource["Properties"])
        if kind_type == "AWS::IAM::Role":
            policies = {x["PolicyName"]: x["PolicyDocument"] for x in p.get("Policies", [])}
            docs[("role", p["RoleName"])] = {
                "AssumeRolePolicyDocument": p["AssumeRolePolicyDocument"],
                "Policies": policies,
                "AttachedPolicies": p.get("ManagedPolicyArns", []),
            }
        elif kind_type == "AWS::ECS::TaskDefinition":
            docs[("task_definition", p["Family"])] = {
                "family": p["Family"],
                "networkMode": p["NetworkMode"],
                "requiresCompatibilities": p["RequiresCompatibilities"],
                "cpu": p["Cpu"],
                "memory": p["Memory"],
                "runtimePlatform": _camel(p["RuntimePlatform"]),
                "executionRoleArn": p["ExecutionRoleArn"],
                "taskRoleArn": p["TaskRoleArn"],
                "containerDefinitions": _camel(p["ContainerDefinitions"]),
            }
        elif kind_type == "AWS::StepFunctions::StateMachine":
            log = p["LoggingConfiguration"]
            logging: dict[str, Any] = {"level": log["Level"]}
            if "Destinations" in log:
                logging["includeExecutionData"] = log["IncludeExecutionData"]
                logging["destinations"] = [
                    {
                        "cloudWatchLogsLogGroup": {
                            "logGroupArn": log["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]
                        }
                    }
                ]
            docs[("state_machine", p["StateMachineName"])] = {
                "definition": json.loads(p["DefinitionString"].replace("${!", "${")),
                "roleArn": p["RoleArn"],
                "type": p["StateMachineType"],
                "loggingConfiguration": logging,
            }
        elif kind_type == "AWS::Scheduler::Schedule":
            target = dict(p["Target"])
            if "EcsParameters" in target:
                ecs = dict(target["EcsParameters"])
                vpc = ecs.pop("NetworkConfiguration")["AwsvpcConfiguration"]
                ecs["NetworkConfiguration"] = {"awsvpcConfiguration": vpc}
                if "CapacityProviderStrategy" in ecs:
                    ecs["CapacityProviderStrategy"] = _camel(ecs["CapacityProviderStrategy"])
                target["EcsParameters"] = ecs
            docs[("schedule", p["Name"])] = {
                **{k: p[k] for k in p if k not in ("GroupName", "Target")},
                "Target": target,
            }
        elif kind_type == "AWS::Logs::LogGroup":
            docs[("log_group", p["LogGroupName"])] = {"retentionInDays": p.get("RetentionInDays")}
        elif kind_type == "AWS::SQS::Queue":
            docs[("queue", p["QueueName"])] = {
                "Attributes": {"MessageRetentionPeriod": str(p["MessageRetentionPeriod"])}
            }
        elif kind_type == "AWS::SNS::TopicPolicy":
            docs[("topic_policy", _policy_name(env_name(p["Topics"][0])))] = {"Policy": p["PolicyDocument"]}
        elif kind_type == "AWS::Events::Rule":
            docs[("task_failure_rule", p["Name"])] = {
                **{k: p[k] for k in ("Name", "State", "Description", "Targets")},
                "EventPattern": json.dumps(p["EventPattern"], sort_keys=True),
            }
        elif kind_type == "AWS::CloudWatch::Alarm":
            docs[("alarm", p["AlarmName"])] = {k: v for k, v in p.items() if k != "Tags"}
        elif kind_type in (
            "AWS::ECS::Cluster",
            "AWS::ECR::Repository",
            "AWS::SNS::Topic",
            "AWS::Scheduler::ScheduleGroup",
        ):
            name = next(p[k] for k in ("ClusterName", "RepositoryName", "TopicName", "Name") if k in p)
            kind = {"AWS::ECS::Cluster": "cluster", "AWS::ECR::Repository": "repository", "AWS::SNS::Topic": "topic"}
            docs[(kind.get(kind_type, "schedule_group"), name)] = {}
    return docs


def _cfn_refs(spec: Any, have: dict[tuple[str, str], Any]) -> dict[str, Any]:
    refs: dict[str, Any] = {}
    for r in stack_model(spec).resources:
        lid, current = logical_id(r.key), have[(r.kind, r.aws_name)]
        arn = current.arn
        refs[lid] = arn if r.kind in ("topic", "task_definition", "state_machine") else r.aws_name
        refs[f"{lid}.Arn"] = f"{arn}:*" if r.kind == "log_group" else arn  # CloudFormation's log group Arn ends in :*
        refs[f"{lid}.RepositoryUri"] = spec.image_uri.rsplit(":", 1)[0]
    return refs


def _compare(exported: dict[tuple[str, str], dict[str, Any]], have: dict[tuple[str, str], Any]) -> None:
    assert set(exported) == set(have), (sorted(set(have) - set(exported)), sorted(set(exported) - set(have)))
    for key, doc in exported.items():
        assert document_diff(doc, have[key].document) == [], key


#: stack name -> the spec's changes: both patterns, both query languages, Spot, ARM64, notifications off
SANDBOX_VARIANTS = {
    # names IAM allows but HCL and YAML must quote (the role's + and @; a tag key with a -)
    "exp-b": {"pattern": "B", "task_role": "exp-job+role@team", "tags": {"team": "data", "cost-center": "42"}},
    "exp-a-spot": {"pattern": "A", "capacity_provider_strategy": "FARGATE_SPOT"},
    "exp-b-jsonpath": {"query_language": "JSONPath"},
    "exp-b-arm-quiet": {"cpu_architecture": "ARM64", "notify_failure": False, "notify_success": False},
}


@pytest.mark.sandbox
@pytest.mark.parametrize("name", list(SANDBOX_VARIANTS))
def test_exported_files_describe_what_apply_made(target, name: str) -> None:
    spec = make_spec(target, name, **SANDBOX_VARIANTS[name])
    with deployed(target, spec, architecture=None):
        have = held(target, spec)
        tf = render(spec, "terraform")
        _compare(_tf_documents(tf, _tf_env(target, spec, have)), have)
        cfn = render(spec, "cloudformation")
        parameters = {"Subnets": list(spec.subnets), "SecurityGroups": list(spec.security_groups), "Image": "",
                      "NotifyEmail": ""}  # fmt: skip
        ev = _Template({}, target, parameters, _cfn_refs(spec, have))
        _compare(_cfn_documents(cfn["template.yaml"], ev), have)


def test_every_resource_kind_apply_knows_is_exported() -> None:
    from sfnecs.export.cloudformation import RENDERERS as CFN
    from sfnecs.export.terraform import RENDERERS as TF

    kinds = {r.key for r in RESOURCES}
    assert kinds == set(TF) == set(CFN)


# ---- the template created through CloudFormation (moto's) ---------------------------------------------
#: what moto's CloudFormation drops when it creates a type it supports, by (kind, property path prefix):
#: a moto gap, not the template's (moto/<service>/models.py, create_from_cloudformation_json)
MOTO_DROPS: dict[str, tuple[str, ...]] = {
    # moto passes only Family, ContainerDefinitions, Volumes and Memory to RegisterTaskDefinition
    "task_definition": (
        "networkMode",
        "requiresCompatibilities",
        "cpu",
        "runtimePlatform",
        "executionRoleArn",
        "taskRoleArn",
    ),
}


#: the template's types moto has no CloudFormation model for (moto/cloudformation/parsing.py, MODEL_MAP)
MOTO_CANNOT_CREATE = {
    "AWS::Scheduler::Schedule",
    "AWS::Scheduler::ScheduleGroup",
    "AWS::SNS::Subscription",
    "AWS::SNS::TopicPolicy",
    "AWS::CloudWatch::Alarm",
}


def _moto_template(text: str) -> tuple[str, list[str]]:
    """The template without the resource types moto's CloudFormation cannot create (and the outputs that
    name them): moto fails a whole stack whose outputs refer to one. Returns it and the types left out."""
    from moto.cloudformation.parsing import get_model_map

    template = yaml.safe_load(text)
    supported = get_model_map()
    dropped = {lid: r["Type"] for lid, r in template["Resources"].items() if r["Type"] not in supported}
    template["Resources"] = {k: v for k, v in template["Resources"].items() if k not in dropped}
    template["Outputs"] = {
        k: v for k, v in template["Outputs"].items() if not set(dropped) & set(re.findall(r"\w+", json.dumps(v)))
    }
    return yaml.safe_dump(template, sort_keys=False), sorted(set(dropped.values()))


@pytest.mark.sandbox
@pytest.mark.parametrize("pattern", ["A", "B"])
def test_cloudformation_create_stack_makes_what_apply_would(target, pattern: str) -> None:
    from sfnecs.deploy.stack import desired_resources

    spec = make_spec(target, f"cfn-{pattern.lower()}", pattern=pattern)
    body, left_out = _moto_template(render(spec, "cloudformation")["template.yaml"])
    assert set(left_out) == MOTO_CANNOT_CREATE, left_out  # moto learned one: compare it too
    cfn = target.client("cloudformation")
    parameters = [
        {"ParameterKey": "Subnets", "ParameterValue": ",".join(spec.subnets)},
        {"ParameterKey": "SecurityGroups", "ParameterValue": ",".join(spec.security_groups)},
    ]
    cfn.create_stack(
        StackName=spec.name, TemplateBody=body, Parameters=parameters, Capabilities=["CAPABILITY_NAMED_IAM"]
    )
    try:
        assert cfn.describe_stacks(StackName=spec.name)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
        created = {r["ResourceType"] for r in cfn.list_stack_resources(StackName=spec.name)["StackResourceSummaries"]}
        by_key = {r.key: r for r in RESOURCES}
        revision = by_key["task_definition"].read(target, spec, spec.family)
        compared: set[str] = set()
        invisible: set[str] = set()
        for want in desired_resources(spec, task_definition_arn=revision.arn):
            resource = by_key[want.kind]
            if resource.type not in created:
                continue
            have = resource.read(target, spec, want.name)
            if have is None and want.kind == "state_machine":
                # moto's CloudFormation creates it in `stepfunctions_backends`, while the sandbox's Step Functions
                # API (execute_state_machine on, sandbox/server.py) reads `stepfunctions_parser_backends`
                # (moto/stepfunctions/responses.py, get_backend): a moto gap; the file is compared above
                invisible.add(want.kind)
                continue
            assert have is not None, (want.kind, want.name)
            if want.kind == "role":
                # moto's Role.create_from_cloudformation_json puts an inline policy as the template's dict,
                # not as JSON, so GetRolePolicy returns its Python repr (moto/iam/models.py): read it back
                policies = have.document["Policies"]
                have.document["Policies"] = {
                    k: ast.literal_eval(v) if isinstance(v, str) else v for k, v in policies.items()
                }
            diff = [line for line in resource.compare(want, have) if not line.startswith(MOTO_DROPS.get(want.kind, ()))]
            assert diff == [], (want.kind, want.name)
            compared.add(want.kind)
        assert {"role", "task_definition", "cluster", "queue", "log_group", "repository", "topic"} <= compared
        assert ("task_failure_rule" in compared) == (pattern == "A")
        assert invisible <= {"state_machine"}
    finally:
        cfn.delete_stack(StackName=spec.name)
