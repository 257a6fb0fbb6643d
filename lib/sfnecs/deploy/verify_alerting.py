"""Verify's alerting checks: would a failure reach a person? The topic, its policy, the e-mail
subscription (and whether its recipient confirmed it), the task-failure rule and the alarms.

Why apart from verify.py: one concept (the path from a failure to a person), and verify stays small.
Rows are (check, resource, status, detail, fix) tuples; verify makes them its `Check`s.
"""

from __future__ import annotations

import json
from typing import Any

from sfnecs.i18n import N_, tr
from sfnecs.model.alerting import (
    alarm_arn,
    alarm_requests,
    alerts_on,
    owns_topic,
    rule_arn,
    rule_name,
    rule_request,
    rule_target,
    service_may_publish,
    topic_policy,
)
from sfnecs.model.spec import StackSpec
from sfnecs.model.target import Target

__all__ = ["PENDING", "alerting_checks"]

Row = tuple[str, str, str, str, str]
#: how SNS lists a subscription whose recipient has not confirmed it (SNS API reference, Subscription)
PENDING = "PendingConfirmation"
_APPLY = N_("apply the stack (it creates and updates its alerting)")
# the checks' names: catalog words, shown in the reader's language
_SOMEONE = N_("failures alert someone")
_TOPIC = N_("alert topic exists")
_POLICY = N_("topic policy lets the alerts publish")
_SUBSCRIBER = N_("alert topic has a subscriber")
_EMAIL = N_("e-mail subscription confirmed")
_RULE = N_("task failure rule")
_ALARM = N_("alarm")


def alerting_checks(target: Target, spec: StackSpec) -> list[Row]:
    """Every alerting check of the stack; reads only."""
    if not alerts_on(spec):
        return [
            (
                _SOMEONE,
                spec.name,
                "skip",
                N_("notify_failure=False: no rule or alarm tells anyone about a failed run"),
                N_("set notify_failure=True (and notify_email) to be told"),
            )
        ]
    sns = target.client("sns")
    try:
        policy = json.loads(sns.get_topic_attributes(TopicArn=spec.topic_arn)["Attributes"].get("Policy") or "{}")
    except sns.exceptions.NotFoundException:
        fix = _APPLY if owns_topic(spec) else N_("create the topic, or set notify_topic_arn to one that exists")
        return [(_TOPIC, spec.topic_arn, "fail", N_("no such topic: alerts go nowhere"), fix)]
    rows: list[Row] = [(_TOPIC, spec.topic_arn, "pass", "", "")]
    rows += _policy_rows(spec, policy)
    rows += _subscription_rows(spec, sns)
    if spec.pattern == "A":
        rows.append(_rule_row(target, spec))
    rows += _alarm_rows(target, spec)
    return rows


def _policy_rows(spec: StackSpec, policy: dict[str, Any]) -> list[Row]:
    """The rule (events.amazonaws.com) and each alarm (cloudwatch.amazonaws.com) may publish."""
    sources = [("events.amazonaws.com", rule_arn(spec), False)] if spec.pattern == "A" else []
    sources += [("cloudwatch.amazonaws.com", alarm_arn(spec, a["AlarmName"]), True) for a in alarm_requests(spec)]
    denied = [
        source
        for service, source, as_owner in sources
        if not service_may_publish(
            policy,
            spec.topic_arn,
            service,
            {"aws:SourceArn": source, "aws:SourceAccount": spec.account, "AWS:SourceOwner": spec.account},
            as_owner=as_owner,
        )
    ]
    if not denied:
        return [(_POLICY, spec.topic_arn, "pass", tr("{count} source(s)", count=len(sources)), "")]
    fix = (
        _APPLY
        if owns_topic(spec)
        else tr(
            "add these statements to the topic's policy: {statements}",
            statements=json.dumps(topic_policy(spec)["Statement"]),
        )
    )
    return [
        (
            _POLICY,
            spec.topic_arn,
            "fail",
            tr("denied for {sources}: their alerts would be dropped", sources=", ".join(denied)),
            fix,
        )
    ]


def _subscription_rows(spec: StackSpec, sns: Any) -> list[Row]:
    """`notify_email` is subscribed and confirmed; without it, whether anyone subscribes at all."""
    subs = [
        s
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=spec.topic_arn)
        for s in page["Subscriptions"]
    ]
    confirmed = [s for s in subs if s["SubscriptionArn"].startswith("arn:")]
    if not spec.notify_email:
        if confirmed:
            who = ", ".join(f"{s['Protocol']}:{s['Endpoint']}" for s in confirmed[:3])
            return [(_SUBSCRIBER, spec.topic_arn, "pass", who, "")]
        return [
            (
                _SUBSCRIBER,
                spec.topic_arn,
                "skip",
                N_(
                    "no confirmed subscriber: the alerts reach nobody (a subscription made elsewhere cannot be told "
                    "from here until it is confirmed)"
                ),
                tr(
                    "set notify_email and apply, or subscribe: {command}",
                    command="aws sns subscribe --topic-arn "
                    + spec.topic_arn
                    + " --protocol email --notification-endpoint you@example.com",
                ),
            )
        ]
    mine = [s for s in subs if s["Protocol"] == "email" and s["Endpoint"] == spec.notify_email]
    if not mine:
        return [(_EMAIL, spec.notify_email, "fail", N_("not subscribed"), _APPLY)]
    if mine[0]["SubscriptionArn"] == PENDING:
        return [
            (
                _EMAIL,
                spec.notify_email,
                "fail",
                N_(
                    "pending confirmation: nothing is delivered until the recipient follows the link in the e-mail "
                    "from AWS Notifications; unconfirmed, it expires after 48 hours"
                ),
                N_("confirm it (look in the spam folder too); after it expired, apply the stack again to resend"),
            )
        ]
    return [(_EMAIL, spec.notify_email, "pass", str(mine[0]["SubscriptionArn"]), "")]


def _rule_row(target: Target, spec: StackSpec) -> Row:
    """Pattern A's rule exists, is enabled, matches as built and targets the topic."""
    events, name = target.client("events"), rule_name(spec)
    try:
        rule = events.describe_rule(Name=name)
    except events.exceptions.ResourceNotFoundException:
        return (_RULE, name, "fail", N_("missing: a failed task tells nobody"), _APPLY)
    targets = events.list_targets_by_rule(Rule=name).get("Targets", [])
    wrong = []
    if rule.get("State") != "ENABLED":
        wrong.append(tr("state {state}", state=rule.get("State")))
    if json.loads(rule.get("EventPattern") or "{}") != json.loads(rule_request(spec)["EventPattern"]):
        wrong.append(tr("event pattern differs from the stack's"))
    if not any(
        t["Arn"] == spec.topic_arn and t.get("InputTransformer") == rule_target(spec)["InputTransformer"]
        for t in targets
    ):
        wrong.append(tr("no target {topic} with the stack's message", topic=spec.topic_arn))
    if wrong:
        return (_RULE, name, "fail", "; ".join(wrong), _APPLY)
    return (_RULE, name, "pass", tr("ENABLED, to {topic}", topic=spec.topic_arn), "")


def _alarm_rows(target: Target, spec: StackSpec) -> list[Row]:
    """Each alarm exists with its actions enabled and on the topic (its state is audit's business)."""
    cw = target.client("cloudwatch")
    wanted = alarm_requests(spec)
    names = [a["AlarmName"] for a in wanted]
    found = {a["AlarmName"]: a for a in cw.describe_alarms(AlarmNames=names)["MetricAlarms"]}
    rows: list[Row] = []
    for want in wanted:
        name, have = want["AlarmName"], found.get(want["AlarmName"])
        if have is None:
            detail = tr("missing: {metric} > 0 tells nobody", metric=want["MetricName"])
            rows.append((_ALARM, str(name), "fail", detail, _APPLY))
        elif not have.get("ActionsEnabled") or spec.topic_arn not in have.get("AlarmActions", []):
            rows.append((_ALARM, str(name), "fail", N_("its actions are off or do not publish to the topic"), _APPLY))
        else:
            detail = tr("{metric} > 0 publishes to the topic", metric=want["MetricName"])
            rows.append((_ALARM, str(name), "pass", detail, ""))
    return rows
