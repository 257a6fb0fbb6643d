"""An SQS queue subscribed to a stack's SNS topic: what an operator's inbox would receive.

Why: the fault matrix, the live replay and lesson 03 read the notifications a run sends; each needs
a subscriber that is there before the run and gone after it (the queue is not the stack's, so the
stack's teardown would leave it behind).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sfnecs.checks import check_bool
from sfnecs.model.spec import StackSpec
from sfnecs.model.target import Target


@dataclass(frozen=True)
class Inbox:
    """One SQS queue subscribed to one topic."""

    target: Target
    url: str
    subscription: str

    @classmethod
    def subscribe(cls, target: Target, spec: StackSpec, suffix: str = "inbox", *, raw: bool = False) -> Inbox:
        """A new queue `<stack name>-<suffix>` subscribed to the stack's topic.

        `raw=True`: each message is what was published (RawMessageDelivery), not SNS's JSON envelope.
        """
        check_bool("raw", raw)
        sqs = target.client("sqs")
        url = sqs.create_queue(QueueName=f"{spec.name}-{suffix}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        try:
            sub = target.client("sns").subscribe(
                TopicArn=spec.topic_arn,
                Protocol="sqs",
                Endpoint=arn,
                Attributes={"RawMessageDelivery": "true"} if raw else {},
            )
        except Exception:
            sqs.delete_queue(QueueUrl=url)  # nothing half-made left behind
            raise
        return cls(target, url, sub["SubscriptionArn"])

    def read(self) -> list[Any]:
        """Every message that arrived since the last read, each read once and deleted: parsed JSON, or text."""
        sqs, out = self.target.client("sqs"), []
        while messages := sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", []):
            out += [_parsed(m["Body"]) for m in messages]
            sqs.delete_message_batch(
                QueueUrl=self.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )
        return out

    def drain(self) -> int:
        """How many messages arrived since the last read."""
        return len(self.read())

    def close(self) -> None:
        """Unsubscribe and delete the queue (a topic already deleted took its subscription with it)."""
        sns = self.target.client("sns")
        try:
            sns.unsubscribe(SubscriptionArn=self.subscription)
        except sns.exceptions.NotFoundException:
            pass
        self.target.client("sqs").delete_queue(QueueUrl=self.url)


def _parsed(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body
