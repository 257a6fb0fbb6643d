"""SNS in the sandbox as the alerts need it: e-mail subscriptions wait for confirmation, and AWS services
(EventBridge, CloudWatch) publish only where the topic's policy lets them.

Why: moto confirms an e-mail subscription at once, so "nobody confirmed the alert e-mail" could not be
shown; and it delivers from any rule or alarm, so a topic policy that forgot EventBridge would pass
every test while no alert ever reaches anyone on AWS.
"""

from __future__ import annotations

import json
from typing import Any

from sfnecs.model.alerting import service_may_publish
from sfnecs.sandbox.patching import ORIGINALS, Repair, replacing

__all__ = ["PENDING", "REPAIRS", "confirm_email", "publish_as_service"]

#: what ListSubscriptions(ByTopic) shows as the ARN of an unconfirmed subscription (SNS API reference,
#: Subscription.SubscriptionArn; the SNS developer guide calls the state "Pending confirmation")
PENDING = "PendingConfirmation"
#: protocols whose endpoint owner must confirm (SNS developer guide, "Confirm your subscription");
#: an http(s) endpoint confirms too, by a request the sandbox does not make
_CONFIRMED_BY_RECIPIENT = ("email", "email-json")
_CONFIRMED: set[str] = set()  # subscriptions whose recipient followed the link


def _backend_cls() -> Any:
    from moto.sns.models import SNSBackend

    return SNSBackend


def _subscribe(self: Any, topic_arn: str, endpoint: str, protocol: str) -> Any:
    sub = ORIGINALS[(_backend_cls(), "subscribe")](self, topic_arn, endpoint, protocol)
    if protocol in _CONFIRMED_BY_RECIPIENT and sub.arn not in _CONFIRMED:
        # The subscription has no ARN until the recipient follows the link in the e-mail; the
        # listing shows PendingConfirmation. It cannot be deleted, and expires after 48 hours
        # (SNS developer guide, "Deleting an Amazon SNS subscription and topic"); moto's attribute
        # picker reads `subscription_arn` before `arn`, so the listing shows the pending state
        # while moto keeps its own key.
        sub.subscription_arn = PENDING
        sub.attributes.update({"PendingConfirmation": "true", "ConfirmationWasAuthenticated": "false"})
    return sub


def confirm_email(topic_arn: str, endpoint: str) -> bool:
    """What the recipient's click on the confirmation link does; False when there is no such subscription."""
    from moto.sns.models import sns_backends

    _, _, _, region, account, _ = topic_arn.split(":", 5)
    for sub in sns_backends[account][region].subscriptions.values():
        if sub.topic.arn == topic_arn and sub.endpoint == endpoint and sub.protocol in _CONFIRMED_BY_RECIPIENT:
            sub.__dict__.pop("subscription_arn", None)
            _CONFIRMED.add(sub.arn)
            sub.attributes.update({"PendingConfirmation": "false", "ConfirmationWasAuthenticated": "true"})
            return True
    return False


def publish_as_service(
    topic_arn: str, message: str, service: str, source_arn: str, subject: str | None = None, *, as_owner: bool = False
) -> str | None:
    """Publish as an AWS service would for one of its resources (a rule, an alarm): the message id, or
    None when the topic is gone or its policy does not let the service publish (the delivery fails;
    EventBridge counts a FailedInvocation, CloudWatch records a failed action)."""
    from moto.sns.models import sns_backends

    _, _, _, region, account, _ = topic_arn.split(":", 5)
    backend = sns_backends[account][region]
    topic = backend.topics.get(topic_arn)
    if topic is None:
        return None
    context = {"aws:SourceArn": source_arn, "aws:SourceAccount": source_arn.split(":")[4]}
    if as_owner:
        context["AWS:SourceOwner"] = account
    if not service_may_publish(json.loads(topic.policy), topic_arn, service, context, as_owner=as_owner):
        return None
    return str(backend.publish(message=message, arn=topic_arn, subject=subject))


REPAIRS: dict[str, Repair] = {
    "sns_pending_email": Repair(
        "sns_pending_email",
        "an e-mail subscription is confirmed at once: nobody ever has to click the confirmation link",
        *replacing(_backend_cls, subscribe=_subscribe),
    ),
}
