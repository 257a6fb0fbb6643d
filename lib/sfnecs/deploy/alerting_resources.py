"""Who hears about a failure: the alert topic's policy, the task-failure rule (pattern A) and the alarms.

Why here, apart from the topic: these resources only make sense once something can fail, and each is
built from `sfnecs.model.alerting` (the pure documents), so plan, verify and the export agree. The
e-mail subscription stays with the topic (`messaging_resources.TopicResource`), which subscribes
`notify_email` (or apply's `email`).
"""

from __future__ import annotations

import json

from sfnecs.deploy.changes import Current, Desired
from sfnecs.deploy.resource import Resource, is_owned, tag_list
from sfnecs.model.alerting import (
    alarm_arn,
    alarm_names,
    alarm_requests,
    alerts_on,
    default_topic_policy,
    owns_topic,
    rule_name,
    rule_request,
    rule_target,
    topic_policy,
)
from sfnecs.model.spec import StackSpec
from sfnecs.model.target import Target

__all__ = ["POLICY_SUFFIX", "AlarmResource", "TaskFailureRuleResource", "TopicPolicyResource", "alarm_states"]


#: how a topic's policy is named in plans (a policy has no name of its own: it is an attribute of the topic)
POLICY_SUFFIX = " (policy)"


class TopicPolicyResource(Resource):
    """The stack's own topic's policy: this rule and these alarms may publish (least privilege)."""

    key, type = "topic_policy", "AWS::SNS::TopicPolicy"

    def desired(self, spec, refs, email):
        policy = topic_policy(spec)
        if not owns_topic(spec) or not policy["Statement"]:
            return []
        return [Desired(self.key, spec.topic + POLICY_SUFFIX, {"Policy": policy})]

    def names(self, spec):
        return [spec.topic + POLICY_SUFFIX]

    def read(self, target, spec, name):
        sns = target.client("sns")
        arn = spec.arn("sns", name.removesuffix(POLICY_SUFFIX))
        try:
            attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        except sns.exceptions.NotFoundException:
            return None
        policy = json.loads(attrs.get("Policy") or "{}")
        if policy.get("Id") == "__default_policy_ID":
            return None  # the topic keeps SNS's default policy: no policy of ours to change or delete
        owned = is_owned(sns.list_tags_for_resource(ResourceArn=arn).get("Tags", []), spec)
        return Current(name, {"Policy": policy}, owned, arn)

    def create(self, target, spec, want):
        arn = spec.arn("sns", want.name.removesuffix(POLICY_SUFFIX))
        target.client("sns").set_topic_attributes(
            TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(want.document["Policy"])
        )
        return arn

    def update(self, target, spec, want, have):
        return self.create(target, spec, want)

    def delete(self, target, spec, have):
        # a policy cannot be removed, only replaced: SNS's default one goes back (the topic, if it
        # goes too, is deleted after this)
        target.client("sns").set_topic_attributes(
            TopicArn=have.arn,
            AttributeName="Policy",
            AttributeValue=json.dumps(default_topic_policy(have.arn, spec.account)),
        )


class TaskFailureRuleResource(Resource):
    """Pattern A: the EventBridge rule on the task's stops that are not clean exits, to the topic."""

    key, type = "task_failure_rule", "AWS::Events::Rule"

    def desired(self, spec, refs, email):
        if spec.pattern != "A" or not alerts_on(spec):
            return []
        return [Desired(self.key, rule_name(spec), {**rule_request(spec), "Targets": [rule_target(spec)]})]

    def names(self, spec):
        return [rule_name(spec)]

    def read(self, target, spec, name):
        events = target.client("events")
        try:
            rule = events.describe_rule(Name=name)
        except events.exceptions.ResourceNotFoundException:
            return None
        targets = events.list_targets_by_rule(Rule=name).get("Targets", [])
        doc = {
            "Name": rule["Name"],
            "EventPattern": _canonical(rule.get("EventPattern")),
            "State": rule.get("State"),
            "Description": rule.get("Description"),
            "Targets": [{k: t[k] for k in ("Id", "Arn", "InputTransformer") if k in t} for t in targets],
        }
        tags = events.list_tags_for_resource(ResourceARN=rule["Arn"]).get("Tags", [])
        return Current(name, doc, is_owned(tags, spec), rule["Arn"])

    def create(self, target, spec, want):
        events = target.client("events")
        doc = want.document
        arn = events.put_rule(
            Name=doc["Name"],
            EventPattern=doc["EventPattern"],
            State=doc["State"],
            Description=doc["Description"],
            Tags=tag_list(spec),
        )["RuleArn"]
        events.put_targets(Rule=doc["Name"], Targets=doc["Targets"])
        return arn

    def update(self, target, spec, want, have):
        arn = self.create(target, spec, want)  # PutRule and PutTargets replace what is there
        stale = [
            t["Id"] for t in have.document["Targets"] if t["Id"] not in {w["Id"] for w in want.document["Targets"]}
        ]
        if stale:
            target.client("events").remove_targets(Rule=want.name, Ids=stale)
        return arn

    def delete(self, target, spec, have):
        events = target.client("events")
        # a rule with targets cannot be deleted (EventBridge API reference, DeleteRule)
        ids = [t["Id"] for t in have.document["Targets"]]
        if ids:
            events.remove_targets(Rule=have.name, Ids=ids)
        events.delete_rule(Name=have.name)


def _canonical(pattern: str | None) -> str | None:
    """An event pattern as rule_request writes it (sorted keys), so that equal patterns compare equal."""
    return json.dumps(json.loads(pattern), sort_keys=True) if pattern else pattern


class AlarmResource(Resource):
    """The CloudWatch alarms: the dead-letter queue has messages (both patterns), executions failed,
    timed out or were aborted (pattern B); each publishes to the topic when it goes to ALARM."""

    key, type = "alarm", "AWS::CloudWatch::Alarm"
    _FIELDS = (
        "AlarmName",
        "AlarmDescription",
        "ActionsEnabled",
        "AlarmActions",
        "Namespace",
        "MetricName",
        "Dimensions",
        "Statistic",
        "Period",
        "EvaluationPeriods",
        "DatapointsToAlarm",
        "Threshold",
        "ComparisonOperator",
        "TreatMissingData",
    )

    def desired(self, spec, refs, email):
        return [Desired(self.key, a["AlarmName"], a) for a in alarm_requests(spec)]

    def names(self, spec):
        return alarm_names(spec)

    def read(self, target, spec, name):
        cw = target.client("cloudwatch")
        found = cw.describe_alarms(AlarmNames=[name]).get("MetricAlarms", [])
        if not found:
            return None
        alarm = found[0]
        doc = {k: alarm.get(k) for k in self._FIELDS}
        tags = cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"]).get("Tags", [])
        return Current(name, doc, is_owned(tags, spec), alarm["AlarmArn"], {"state": alarm.get("StateValue")})

    def create(self, target, spec, want):
        target.client("cloudwatch").put_metric_alarm(**want.document, Tags=tag_list(spec))
        return alarm_arn(spec, want.name)

    def update(self, target, spec, want, have):
        # PutMetricAlarm replaces the alarm's definition (and keeps its state)
        target.client("cloudwatch").put_metric_alarm(**want.document)
        return have.arn

    def delete(self, target, spec, have):
        target.client("cloudwatch").delete_alarms(AlarmNames=[have.name])


def alarm_states(target: Target, spec: StackSpec) -> dict[str, dict[str, str]]:
    """{alarm name: {state, reason, since}} for each of the stack's alarms that exists."""
    found = target.client("cloudwatch").describe_alarms(AlarmNames=alarm_names(spec)).get("MetricAlarms", [])
    return {
        a["AlarmName"]: {
            "state": a.get("StateValue", ""),
            "reason": a.get("StateReason", ""),
            "since": str(a.get("StateUpdatedTimestamp", "")),
        }
        for a in found
    }
