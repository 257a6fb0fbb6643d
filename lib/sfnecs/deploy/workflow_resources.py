"""What starts the job: the state machine (pattern B), the schedule group and the schedule.

Why a group of its own: EventBridge Scheduler tags only schedule *groups*, so the stack's schedule lives
in its own tagged group (Scheduler API reference, TagResource: "You can only assign tags to schedule
groups").
"""

from __future__ import annotations

import json

from sfnecs.deploy.changes import Current, Desired, brief, document_diff
from sfnecs.deploy.requests import pin_task_definition, schedule_request, state_machine_request
from sfnecs.deploy.resource import NEXT_REVISION, Resource, is_owned, retry_role_propagation, tag_list
from sfnecs.model.spec import schedule_group

__all__ = ["ScheduleGroupResource", "ScheduleResource", "StateMachineResource"]


class StateMachineResource(Resource):
    key, type = "state_machine", "AWS::StepFunctions::StateMachine"

    def desired(self, spec, refs, email):
        if spec.pattern != "B":
            return []
        request = pin_task_definition(state_machine_request(spec), spec, refs.get("task_definition"))
        return [Desired(self.key, spec.state_machine, request)]

    def names(self, spec):
        return [spec.state_machine]

    def read(self, target, spec, name):
        sfn = target.client("stepfunctions")
        arn = spec.arn("states", f"stateMachine:{name}")
        try:
            sm = sfn.describe_state_machine(stateMachineArn=arn)
        except sfn.exceptions.StateMachineDoesNotExist:
            return None
        if sm.get("status") == "DELETING":
            return None
        tags = sfn.list_tags_for_resource(resourceArn=arn).get("tags", [])
        doc = {
            "name": sm["name"],
            "definition": json.loads(sm["definition"]),
            "roleArn": sm["roleArn"],
            "type": sm["type"],
            "loggingConfiguration": sm.get("loggingConfiguration", {}),
        }
        return Current(name, doc, is_owned(tags, spec), arn)

    def create(self, target, spec, want):
        doc = want.document
        return retry_role_propagation(
            lambda: target.client("stepfunctions").create_state_machine(
                name=doc["name"],
                definition=json.dumps(doc["definition"]),
                roleArn=doc["roleArn"],
                type=doc["type"],
                loggingConfiguration=doc["loggingConfiguration"],
                tags=tag_list(spec, "key", "value"),
            )["stateMachineArn"]
        )

    def update(self, target, spec, want, have):
        doc = want.document
        retry_role_propagation(
            lambda: target.client("stepfunctions").update_state_machine(
                stateMachineArn=have.arn,
                definition=json.dumps(doc["definition"]),
                roleArn=doc["roleArn"],
                loggingConfiguration=doc["loggingConfiguration"],
            )
        )
        return have.arn

    def delete(self, target, spec, have):
        # running executions finish first: the machine is DELETING until then (Step Functions API)
        target.client("stepfunctions").delete_state_machine(stateMachineArn=have.arn)


class ScheduleGroupResource(Resource):
    key, type = "schedule_group", "AWS::Scheduler::ScheduleGroup"

    def desired(self, spec, refs, email):
        return [Desired(self.key, schedule_group(spec), {"Name": schedule_group(spec)})]

    def names(self, spec):
        return [schedule_group(spec)]

    def read(self, target, spec, name):
        sched = target.client("scheduler")
        try:
            group = sched.get_schedule_group(Name=name)
        except sched.exceptions.ResourceNotFoundException:
            return None
        if group.get("State") == "DELETING":
            return None
        tags = sched.list_tags_for_resource(ResourceArn=group["Arn"]).get("Tags", [])
        return Current(name, {"Name": name}, is_owned(tags, spec), group["Arn"])

    def create(self, target, spec, want):
        return target.client("scheduler").create_schedule_group(Name=want.name, Tags=tag_list(spec))["ScheduleGroupArn"]

    def update(self, target, spec, want, have):
        return have.arn

    def delete(self, target, spec, have):
        # deleting a group deletes its schedules too (Scheduler API reference, DeleteScheduleGroup)
        target.client("scheduler").delete_schedule_group(Name=have.name)


class ScheduleResource(Resource):
    """The schedule, owned through its group: a schedule in a group we tagged is ours."""

    key, type = "schedule", "AWS::Scheduler::Schedule"
    _FIELDS = (
        "Name",
        "GroupName",
        "ScheduleExpression",
        "ScheduleExpressionTimezone",
        "FlexibleTimeWindow",
        "State",
        "Description",
        "Target",
    )

    def desired(self, spec, refs, email):
        return [
            Desired(
                self.key,
                spec.schedule_name,
                schedule_request(spec, refs.get("task_definition") or f"{spec.family}:{NEXT_REVISION}"),
            )
        ]

    def names(self, spec):
        return [spec.schedule_name]

    def read(self, target, spec, name):
        sched = target.client("scheduler")
        group = schedule_group(spec)
        try:
            s = sched.get_schedule(Name=name, GroupName=group)
        except sched.exceptions.ResourceNotFoundException:
            return None
        owner = ScheduleGroupResource().read(target, spec, group)
        doc = {k: s.get(k) for k in self._FIELDS}
        return Current(name, doc, owner is not None and owner.owned, s.get("Arn", ""))

    def create(self, target, spec, want):
        return retry_role_propagation(
            lambda: target.client("scheduler").create_schedule(**want.document)["ScheduleArn"]
        )

    def update(self, target, spec, want, have):
        # UpdateSchedule replaces the whole schedule: every field is sent again (Scheduler API)
        return retry_role_propagation(
            lambda: target.client("scheduler").update_schedule(**want.document)["ScheduleArn"]
        )

    def compare(self, want, have):
        # UpdateSchedule replaces the target: a target setting the spec lacks (e.g. EcsParameters
        # after a switch to pattern B) disappears, so it is part of the difference
        have_target = have.document.get("Target") or {}
        extra = [k for k in have_target if have_target[k] not in (None, {}, []) and k not in want.document["Target"]]
        return document_diff(want.document, have.document) + [
            f"Target.{k}: {brief(have_target[k])} -> (removed)" for k in sorted(extra)
        ]

    def delete(self, target, spec, have):
        target.client("scheduler").delete_schedule(Name=have.name, GroupName=schedule_group(spec))
