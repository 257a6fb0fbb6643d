"""Links to the AWS console for what the kit creates and runs: execution, task, log stream, state
machine, schedule — in the right region and partition.

Why: a tired operator reading a result or an alert should be one click from the evidence. The URL
forms are the console's own (what its address bar shows today); AWS publishes no contract for them,
so they may change. The console's domain depends on the partition: console.aws.amazon.com (aws),
console.amazonaws.cn (aws-cn), console.amazonaws-us-gov.com (aws-us-gov).
"""

from __future__ import annotations

from urllib.parse import quote

from sfnecs.i18n import N_, tr
from sfnecs.model.arns import EXECUTION_ARN_RE, TASK_ARN_RE, awslogs_stream, partition_of
from sfnecs.model.spec import StackSpec, log_stream_prefix, schedule_group

__all__ = [
    "CONSOLE_DOMAINS",
    "cluster_tasks_link",
    "execution_link",
    "links_markdown",
    "log_group_link",
    "log_stream_link",
    "run_links",
    "schedule_link",
    "stack_links",
    "state_machine_link",
    "task_link",
]

CONSOLE_DOMAINS = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}


def _home(region: str, service: str) -> str:
    return f"https://{region}.{CONSOLE_DOMAINS[partition_of(region)]}/{service}/home?region={region}"


def execution_link(execution_arn: str) -> str:
    """The Step Functions console page of one execution (its graph, events and output)."""
    m = EXECUTION_ARN_RE.fullmatch(execution_arn)
    if not m:
        return ""
    return f"{_home(m['region'], 'states')}#/v2/executions/details/{execution_arn}"


def state_machine_link(state_machine_arn: str, region: str) -> str:
    """The Step Functions console page of a state machine (its executions and definition)."""
    return f"{_home(region, 'states')}#/statemachines/view/{state_machine_arn}"


def task_link(task_arn: str) -> str:
    """The ECS console page of a task (its status, stopped reason, containers); empty for an ARN that names
    no cluster (the old format)."""
    m = TASK_ARN_RE.fullmatch(task_arn)
    if not m or not m["cluster"]:
        return ""
    region = m["region"]
    domain = CONSOLE_DOMAINS[partition_of(region)]
    return f"https://{region}.{domain}/ecs/v2/clusters/{m['cluster']}/tasks/{m['id']}/configuration?region={region}"


def cluster_tasks_link(region: str, cluster: str) -> str:
    """The ECS console page listing a cluster's tasks (stopped ones among them, for about an hour)."""
    domain = CONSOLE_DOMAINS[partition_of(region)]
    return f"https://{region}.{domain}/ecs/v2/clusters/{cluster}/tasks?region={region}"


def log_group_link(region: str, log_group: str) -> str:
    """The CloudWatch Logs console page of a log group (its streams, newest first)."""
    return f"{_home(region, 'cloudwatch')}#logsV2:log-groups/log-group/{_console_escape(log_group)}"


def _console_escape(text: str) -> str:
    # the CloudWatch console escapes a log group or stream name twice inside its URL fragment
    # ("/" -> %2F -> $252F): quote once, then turn each % into $25
    return quote(text, safe="").replace("%", "$25")


def log_stream_link(region: str, log_group: str, stream: str) -> str:
    """The CloudWatch Logs console page of one log stream (a task's awslogs lines)."""
    return (
        f"{_home(region, 'cloudwatch')}#logsV2:log-groups/log-group/{_console_escape(log_group)}"
        f"/log-events/{_console_escape(stream)}"
    )


def schedule_link(region: str, group: str, name: str) -> str:
    """The EventBridge Scheduler console page of a schedule."""
    return f"{_home(region, 'scheduler')}#schedules/{group}/{name}"


def stack_links(spec: StackSpec) -> dict[str, str]:
    """The console pages of a deployed stack: its schedule, and its state machine (pattern B)."""
    links = {"schedule": schedule_link(spec.region, schedule_group(spec), spec.schedule_name)}
    if spec.pattern == "B":
        links["state_machine"] = state_machine_link(spec.state_machine_arn, spec.region)
    return links


def run_links(spec: StackSpec, execution_arn: str | None = None, task_arn: str | None = None) -> dict[str, str]:
    """The console pages of one run: its execution (pattern B), its task and the task's log stream."""
    links = {}
    if execution_arn:
        links["execution"] = execution_link(execution_arn)
    if task_arn:
        links["task"] = task_link(task_arn)
        stream = awslogs_stream(log_stream_prefix(spec), spec.container_name, task_arn)
        links["log_stream"] = log_stream_link(spec.region, spec.log_group, stream)
    return {k: v for k, v in links.items() if v}


#: what each link is, in words (the keys stay English in results; `links_markdown` shows these translated)
LINK_WORDS = {
    "schedule": N_("schedule"),
    "state_machine": N_("state machine"),
    "execution": N_("execution"),
    "task": N_("task"),
    "log_stream": N_("log stream"),
}


def links_markdown(links: dict[str, str], title: str = N_("In the AWS console")) -> str:
    """The links as a Markdown list (name: clickable URL), for a runbook's last cell and for people.

    Why: a .result.json holds the URLs for machines; the notebook a person opens should make them one
    click. An empty dict says so instead of showing nothing."""
    title = tr(title)  # in the reader's language (sfnecs.i18n), as the names below
    if not links:
        return f"**{title}:** " + tr("no console links (nothing deployed or run yet)")
    rows = "\n".join(
        f"- {tr(LINK_WORDS.get(name, name.replace('_', ' ')))}: [{url}]({url})" for name, url in links.items()
    )
    return f"**{title}:**\n\n{rows}"
