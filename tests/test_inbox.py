"""sfnecs.runs.inbox: a queue on a stack's topic that reads what was published and leaves nothing behind."""

from __future__ import annotations

import json

import pytest
from tests.test_stack import make_spec

from sfnecs.deploy import stack
from sfnecs.exceptions import ValidationError
from sfnecs.runs.inbox import Inbox


@pytest.mark.sandbox
def test_an_inbox_reads_each_message_once_and_closes_without_a_trace(target, sandbox):
    spec = make_spec(target, "inboxed")
    stack.apply(target, spec)
    sns, sqs = target.client("sns"), target.client("sqs")
    try:
        sandbox.control("DELETE", "calls", {})
        with pytest.raises(ValidationError, match="raw='yes'"):
            Inbox.subscribe(target, spec, raw="yes")
        assert sandbox.control("GET", "calls", {})["total"] == 0  # refused before any call
        raw, wrapped = Inbox.subscribe(target, spec, "raw", raw=True), Inbox.subscribe(target, spec, "wrapped")
        sns.publish(TopicArn=spec.topic_arn, Message=json.dumps({"error": "States.TaskFailed"}))
        sns.publish(TopicArn=spec.topic_arn, Message="plain words")
        assert sorted(map(str, raw.read())) == ["plain words", "{'error': 'States.TaskFailed'}"]
        assert raw.read() == []  # each message is read once
        envelopes = wrapped.read()
        assert sorted(e["Message"] for e in envelopes) == ["plain words", '{"error": "States.TaskFailed"}']
        assert wrapped.drain() == 0
        for inbox in (raw, wrapped):
            inbox.close()
        subscriptions = sns.list_subscriptions_by_topic(TopicArn=spec.topic_arn)["Subscriptions"]
        assert [s for s in subscriptions if s["Protocol"] == "sqs"] == []
        left = [url.rsplit("/", 1)[-1] for url in sqs.list_queues(QueueNamePrefix="inboxed-").get("QueueUrls", [])]
        assert left == [spec.dlq]  # only the stack's own dead-letter queue
    finally:
        stack.teardown(target, spec, delete_logs=True, delete_images=True)
