"""Where failures are sent: the schedule's dead-letter queue (SQS) and the alert topic (SNS).

Why together: both carry messages about runs to people or to later inspection, never the run itself.
"""

from __future__ import annotations

from typing import Any

from sfnecs.deploy.changes import Current, Desired, document_diff
from sfnecs.deploy.resource import Resource, is_owned, tag_list
from sfnecs.model.alerting import owns_topic
from sfnecs.model.target import Target

__all__ = ["DLQ_RETENTION_SECONDS", "QueueResource", "TopicResource"]

#: SQS's longest retention (14 days, SQS developer guide): a dead letter should outlive a holiday
DLQ_RETENTION_SECONDS = 1_209_600


class QueueResource(Resource):
    """The schedule's dead-letter queue (SQS standard; the Scheduler does not support FIFO DLQs)."""

    key, type = "queue", "AWS::SQS::Queue"

    def desired(self, spec, refs, email):
        return [
            Desired(
                self.key,
                spec.dlq,
                {"QueueName": spec.dlq, "Attributes": {"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS)}},
            )
        ]

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
        return Current(name, doc, is_owned(tags, spec), attrs.get("QueueArn", ""), {"url": url})

    def create(self, target, spec, want):
        sqs = target.client("sqs")
        url = sqs.create_queue(QueueName=want.name, Attributes=want.document["Attributes"], tags=spec.all_tags)[
            "QueueUrl"
        ]
        return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def update(self, target, spec, want, have):
        target.client("sqs").set_queue_attributes(QueueUrl=have.extra["url"], Attributes=want.document["Attributes"])
        return have.arn

    def delete(self, target, spec, have):
        # SQS: a queue name cannot be reused for 60 seconds after DeleteQueue
        target.client("sqs").delete_queue(QueueUrl=have.extra["url"])


class TopicResource(Resource):
    """The alert topic (unless `notify_topic_arn` names another), with the e-mail subscription of `notify_email`
    (or apply's `email`)."""

    key, type = "topic", "AWS::SNS::Topic"

    def desired(self, spec, refs, email):
        if not owns_topic(spec):
            return []
        emails = sorted({e for e in (email, spec.notify_email) if e})
        return [Desired(self.key, spec.topic, {"Name": spec.topic, "EmailSubscriptions": emails})]

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
        subs = [
            s
            for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn)
            for s in page["Subscriptions"]
            if s["Protocol"] == "email"
        ]
        doc = {"Name": name, "EmailSubscriptions": sorted(s["Endpoint"] for s in subs)}
        return Current(name, doc, is_owned(tags, spec), arn, {"subscriptions": subs})

    def compare(self, want, have):
        # a pending subscription cannot be removed (it has no ARN until confirmed, and expires):
        # one the spec no longer wants is not a difference apply could fix
        pending = {
            s["Endpoint"] for s in have.extra.get("subscriptions", []) if not s["SubscriptionArn"].startswith("arn:")
        }
        wanted = want.document["EmailSubscriptions"]
        current = [e for e in have.document["EmailSubscriptions"] if e in wanted or e not in pending]
        return document_diff(want.document, {**have.document, "EmailSubscriptions": current})

    def create(self, target, spec, want):
        arn = target.client("sns").create_topic(Name=want.name, Tags=tag_list(spec))["TopicArn"]
        self._subscribe(target, arn, want.document["EmailSubscriptions"], [])
        return arn

    def update(self, target, spec, want, have):
        self._subscribe(target, have.arn, want.document["EmailSubscriptions"], have.extra["subscriptions"])
        return have.arn

    @staticmethod
    def _subscribe(target: Target, arn: str, emails: list[str], existing: list[dict[str, Any]]) -> None:
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
