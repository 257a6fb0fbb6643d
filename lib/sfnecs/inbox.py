"""An SQS queue subscribed to a stack's SNS topic: what an operator's inbox would receive.

Why: the fault matrix and the live replay count the notifications a run sends; both need a
subscriber that is there before the run and gone after it (the queue is not the stack's, so the
stack's teardown would leave it behind).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sfnecs.spec import StackSpec


@dataclass(frozen=True)
class Inbox:
    """One SQS queue subscribed to one topic."""

    target: Any
    url: str
    subscription: str

    @classmethod
    def subscribe(cls, target: Any, spec: StackSpec, suffix: str = "inbox") -> "Inbox":
        """A new queue `<stack name>-<suffix>` subscribed to the stack's topic."""
        sqs = target.client("sqs")
        url = sqs.create_queue(QueueName=f"{spec.name}-{suffix}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        try:
            sub = target.client("sns").subscribe(TopicArn=spec.topic_arn, Protocol="sqs", Endpoint=arn)
        except Exception:
            sqs.delete_queue(QueueUrl=url)  # nothing half-made left behind
            raise
        return cls(target, url, sub["SubscriptionArn"])

    def drain(self) -> int:
        """How many messages arrived since the last drain (each read once, then deleted)."""
        sqs, count = self.target.client("sqs"), 0
        while messages := sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", []):
            count += len(messages)
            sqs.delete_message_batch(QueueUrl=self.url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
        return count

    def close(self) -> None:
        """Unsubscribe and delete the queue (a topic already deleted took its subscription with it)."""
        sns = self.target.client("sns")
        try:
            sns.unsubscribe(SubscriptionArn=self.subscription)
        except sns.exceptions.NotFoundException:
            pass
        self.target.client("sqs").delete_queue(QueueUrl=self.url)
