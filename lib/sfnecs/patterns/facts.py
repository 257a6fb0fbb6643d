"""The argued comparison in prose: the feature table and the corrected misconceptions.

Why: every cell cites AWS_FACTS.md or a simulated count, so the tables can be checked, not believed.
"""

from __future__ import annotations

import pandas as pd

from sfnecs.patterns.scenario import Scenario
from sfnecs.patterns.simulation import simulate_variants

#: Section headings of AWS_FACTS.md that evidence cells cite (written "AWS_FACTS §<heading>").
FACT_SECTIONS = (
    "IAM for `ecs:runTask.sync`",
    "How `.sync` decides",
    "Schedules (EventBridge Scheduler)",
    "Duplicates and overlaps",
    "Architecture mismatch on Fargate",
    "Prices",
    "Corrections a learner needs",
)


def _fact(section: str, quote: str) -> str:
    assert section in FACT_SECTIONS, section
    return f"AWS_FACTS §{section}: {quote}"


def feature_table() -> pd.DataFrame:
    """Pattern A vs B per feature, each cell backed by AWS_FACTS.md or a simulation result key.

    Evidence cites "AWS_FACTS §<section>" and/or "sim:<VariantResult field>".
    """
    rows = [
        (
            "waiting for completion",
            "No: Scheduler calls RunTask and is done; nothing waits for the task to stop.",
            "Yes: `ecs:runTask.sync` keeps the execution open until the task stops (Standard workflows only).",
            _fact("How `.sync` decides", "`.sync` needs a Standard workflow; output is the stopped task")
            + "; "
            + _fact("Duplicates and overlaps", "`runTask.sync` makes one execution wait for its task"),
        ),
        (
            "seeing failures",
            "A task that never starts is invisible: the invocation counts as delivered. A failed job shows only "
            "in its logs.",
            "The Task state fails: `AmazonECS.Unknown` for RunTask `failures`, `States.TaskFailed` for a non-zero "
            "exit; the execution is FAILED with the stopped task as Cause.",
            _fact(
                "Schedules (EventBridge Scheduler)",
                "Direct RunTask targets fail silently: the invocation counts "
                "as delivered even when the task never starts",
            )
            + "; "
            + _fact(
                "How `.sync` decides", "RunTask `failures` -> `AmazonECS.Unknown`; non-zero exit -> `States.TaskFailed`"
            )
            + "; sim:failures_silent, sim:failures_noticed",
        ),
        (
            "retries: launch vs job",
            "None for either: Scheduler's RetryPolicy retries delivery, and a failed launch already counts as "
            "delivered.",
            "Separate Retry rules: launch errors (`ECS.AmazonECSException`, `AmazonECS.Unknown`) retried; "
            "`States.TaskFailed` not retried by default, since retrying it reruns failed jobs. Retries are billed.",
            _fact("Schedules (EventBridge Scheduler)", "RetryPolicy ... retries *delivery*, not a failed job")
            + "; "
            + _fact(
                "How `.sync` decides",
                "`ECS.AmazonECSException` is the usual Retry target (*community*); "
                "retrying `States.TaskFailed` blindly reruns failed jobs",
            )
            + "; sim:launch_failures_recovered",
        ),
        (
            "notifications",
            "None in the pattern: nothing observes the task, and a launch failure leaves no task to observe.",
            "A Catch on the Task state routes failures to `sns:publish` (optionally success too).",
            _fact("How `.sync` decides", "a Catch can branch on `States.StringToJson($.Cause)` fields")
            + "; "
            + _fact(
                "Schedules (EventBridge Scheduler)",
                "the invocation counts as delivered even when the task never starts",
            )
            + "; sim:notifications",
        ),
        (
            "timeouts",
            "None in the path: Scheduler only bounds delivery (MaximumEventAgeInSeconds); a hung task runs on.",
            "TimeoutSeconds on the Task state and the state machine fail a hung run (then Catch/notify). The "
            "`.sync` role holds `ecs:StopTask`; whether a timed-out task is stopped too is not in AWS_FACTS.",
            _fact(
                "Schedules (EventBridge Scheduler)",
                "`RetryPolicy`: `MaximumRetryAttempts` 0-185, `MaximumEventAgeInSeconds` 60-86400",
            )
            + "; "
            + _fact("IAM for `ecs:runTask.sync`", "`ecs:StopTask` ... Step Functions can only stop tasks it started"),
        ),
        (
            "overlap handling",
            "None: every firing launches, so a job longer than the interval runs concurrently with the next.",
            "`.sync` alone does not prevent it; a guard (ListExecutions RUNNING at the start, then skip) does.",
            _fact(
                "Duplicates and overlaps",
                "It does **not** stop the next scheduled execution from starting "
                "while the previous one runs: overlap prevention must be built",
            )
            + "; sim:overlapping_launches, "
            "sim:skipped_by_guard",
        ),
        (
            "duplicate handling",
            "At-least-once delivery launches a second task. RunTask accepts `clientToken`, but this pattern sets none.",
            "The Scheduler's StartExecution target takes only the state machine and its input, so its executions "
            "get generated names: the guard skips a duplicate while the first run is RUNNING, but one delivered "
            "after it finished runs the job again. Starts named after the scheduled time (`runs.start(at=...)`, "
            "`sfnecs run --at`) dedupe: idempotent while running, `ExecutionAlreadyExists` after: no second launch.",
            _fact("Schedules (EventBridge Scheduler)", "At-least-once delivery")
            + "; "
            + _fact(
                "Schedules (EventBridge Scheduler)",
                "Targets: templated ECS RunTask (`EcsParameters`) and Step "
                "Functions StartExecution (no parameter set: no execution name)",
            )
            + "; "
            + _fact(
                "Duplicates and overlaps",
                "A name derived from the scheduled time therefore dedupes duplicates; "
                "ECS `RunTask` accepts `clientToken`",
            )
            + "; sim:duplicate_launches, sim:deduplicated_running, "
            "sim:already_exists",
        ),
        (
            "cost",
            "Fargate task time + Scheduler invocations.",
            "The same + Step Functions state transitions beyond the monthly free tier; guard, retries and "
            "notifications add transitions.",
            _fact(
                "Prices",
                "Step Functions Standard: $0.025 per 1,000 state transitions (4,000 free per month); retries count",
            )
            + "; sim:cost_total, sim:state_transitions, sim:billable_transitions",
        ),
        (
            "moving parts",
            "Schedule + Scheduler role, cluster, task definition, task and execution roles, log group.",
            "The same + state machine, its role, SNS topic, execution log group, and the managed rule "
            "`StepFunctionsGetEventsForECSTaskRule` that `.sync` creates.",
            _fact("IAM for `ecs:runTask.sync`", "`events:PutRule` ... on rule/StepFunctionsGetEventsForECSTaskRule")
            + "; "
            + _fact(
                "Schedules (EventBridge Scheduler)", "Targets: templated ECS RunTask and Step Functions StartExecution"
            ),
        ),
        (
            "IAM surface",
            "Scheduler role (trusts scheduler.amazonaws.com): `ecs:RunTask` on the task definition + "
            "`iam:PassRole` for the task and execution roles.",
            "Scheduler role: `states:StartExecution`. Step Functions role: RunTask, StopTask, DescribeTasks, "
            "events Put/DescribeRule, PassRole, logs delivery actions on `*`, `sns:Publish`, ListExecutions for "
            "the guard.",
            _fact(
                "IAM for `ecs:runTask.sync`",
                "Static resources ...; `iam:PassRole` for the task execution role "
                "and the task role; request-response `ecs:runTask` needs only `ecs:RunTask` (+ PassRole); trust "
                "policies",
            ),
        ),
    ]
    return pd.DataFrame(rows, columns=["feature", "A", "B", "evidence"]).set_index("feature")


def _evidence_scenario() -> Scenario:
    """Ten hourly ticks, each job 90 minutes, ticks 2 and 5 delivered twice: small enough to check by hand."""
    return Scenario(horizon="10h", interval_minutes=60, duration_minutes=90.0, duplicates=(2, 5))


def misconceptions() -> pd.DataFrame:
    """Common misreadings, each with a verdict, why, and evidence (facts and simulated counts).

    The first rows are AWS_FACTS.md's "Corrections a learner needs"; the simulated numbers come from
    a ten-tick deterministic scenario (90-minute jobs every hour, ticks 2 and 5 delivered twice).
    """
    s = _evidence_scenario()
    r = simulate_variants(s, ["A", "B", "B+dedupe", "B+guard+dedupe"])
    silent = simulate_variants(s.replace(launch_failure_rate=1.0, duplicates=()), ["A", "B+guard+dedupe"])
    sim = (
        f"sim ({s.ticks} hourly ticks, 90-min jobs, ticks 2 and 5 delivered twice): "
        f"overlapping_launches B={r['B'].overlapping_launches}, "
        f"B+dedupe={r['B+dedupe'].overlapping_launches}, "
        f"B+guard+dedupe={r['B+guard+dedupe'].overlapping_launches}"
    )
    rows = [
        (
            "`.sync` prevents overlapping runs",
            "false",
            "`.sync` makes one execution wait for its own task; every firing still starts a new execution. "
            "Overlap prevention must be built (guard or semaphore).",
            _fact("Duplicates and overlaps", "It does **not** stop the next scheduled execution from starting")
            + "; "
            + sim,
        ),
        (
            "The note's IAM policy is what `ecs:runTask.sync` needs",
            "false: too broad and incomplete",
            "It grants `ecs:RunTask` and events actions on `*` and an `iam:CreateServiceLinkedRole` grant (with "
            "AttachRolePolicy and PutRolePolicy) the integration does not need; its PassRole names only the "
            "execution role, so a task with a task role "
            "fails to launch.",
            _fact(
                "Corrections a learner needs", "The note's policy (ORIGINAL_NOTE.md) is broader than the AWS template"
            )
            + "; "
            + _fact(
                "IAM for `ecs:runTask.sync`", "`iam:PassRole` is needed for the task execution role and the task role"
            ),
        ),
        (
            "Apple Silicon builds default to linux/amd64",
            "inverted",
            "Build tools default to the host architecture: arm64 on Apple Silicon, which then fails on default "
            "(X86_64) Fargate with `exec format error`.",
            _fact("Architecture mismatch on Fargate", "Build tools default to the **host** architecture"),
        ),
        (
            "`.sync` stops duplicate deliveries from launching twice",
            "false without time-derived names",
            "At-least-once delivery starts a second execution; an execution name derived from the scheduled time "
            "makes that StartExecution a no-op (a guard alone catches it only while the first still runs).",
            _fact("Duplicates and overlaps", "A name derived from the scheduled time therefore dedupes duplicates")
            + f"; sim: duplicate_launches A={r['A'].duplicate_launches}, B={r['B'].duplicate_launches}, "
            f"B+dedupe={r['B+dedupe'].duplicate_launches}",
        ),
        (
            "Scheduler's retry policy re-runs a failed job",
            "false",
            "RetryPolicy retries delivery; a failed launch already counts as delivered and a failed job is never "
            "seen by Scheduler.",
            _fact("Schedules (EventBridge Scheduler)", "This retries *delivery*, not a failed job"),
        ),
        (
            "Pattern A tells you when a task fails to start",
            "false",
            "The invocation counts as delivered even when the task never starts: nothing is retried or reported.",
            _fact("Schedules (EventBridge Scheduler)", "Direct RunTask targets fail silently")
            + f"; sim (every launch fails): failures_silent A={silent['A'].failures_silent}, "
            f"B+guard+dedupe={silent['B+guard+dedupe'].failures_silent} "
            f"(notifications {silent['B+guard+dedupe'].notifications})",
        ),
    ]
    return pd.DataFrame(rows, columns=["claim", "verdict", "why", "evidence"])
