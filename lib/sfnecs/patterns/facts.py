"""The argued comparison in prose: the feature table and the corrected misconceptions.

Why: every cell cites a fact of the registry (`sfnecs.model.sources`, docs/facts.md) or a simulated
count, so the tables can be checked, not believed.
"""

from __future__ import annotations

import pandas as pd

from sfnecs.i18n import N_, tr
from sfnecs.model.sources import cite
from sfnecs.patterns.scenario import Scenario
from sfnecs.patterns.simulation import simulate_variants


def _fact(quote: str, *fact_ids: str) -> str:
    """One piece of evidence: what the facts `fact_ids` say (in the current language), and their citation.

    `quote` is marked with `N_` where it is written; an unknown fact id raises.
    """
    return f"{tr(quote)} {cite(*fact_ids)}"


def feature_table() -> pd.DataFrame:
    """Pattern A vs B per feature, each cell backed by a fact or a simulation result key.

    Evidence names facts (see `_fact`) and/or simulated counts as "sim:<VariantResult field>".
    """
    rows = [
        (
            N_("waiting for completion"),
            N_("No: Scheduler calls RunTask and is done; nothing waits for the task to stop."),
            N_("Yes: `ecs:runTask.sync` keeps the execution open until the task stops (Standard workflows only)."),
            _fact(
                N_("`.sync` needs a Standard workflow; output is the stopped task"),
                "sync-standard-only",
                "sync-output-task-object",
            )
            + "; "
            + _fact(
                N_("`runTask.sync` makes one execution wait for its task"),
                "sync-no-overlap-prevention",
            ),
        ),
        (
            N_("seeing failures"),
            N_(
                "As AWS recommends, an EventBridge rule on ECS task state change events sees every task that stops "
                "without a clean exit (non-zero or no exit code, TaskFailedToStart, SpotInterruption). A task that "
                "never starts (RunTask `failures`) emits no event, and its 200 answer is no failed call for the DLQ "
                "(for the Scheduler undocumented; the kit assumes delivered): invisible; "
                "a hung task never stops: no event either."
            ),
            N_(
                "The Task state fails: `AmazonECS.Unknown` for RunTask `failures`, `States.TaskFailed` for a non-zero "
                "exit; the execution is FAILED with the stopped task as Cause."
            ),
            _fact(
                N_(
                    "RunTask can answer 200 with `failures` and start no task; for rules an AWS sample says the "
                    "invocation counts as successful, for the Scheduler AWS documents retries and the DLQ only for "
                    "failed API calls and says nothing of this answer (the kit assumes: delivered)"
                ),
                "direct-runtask-silent",
            )
            + "; "
            + _fact(
                N_("RunTask `failures` -> `AmazonECS.Unknown`; non-zero exit -> `States.TaskFailed`"),
                "runtask-failures-unknown",
                "sync-task-failed-cause",
            )
            + "; "
            + tr('ECS developer guide, "Amazon ECS task state change events"')
            + "; sim:failures_silent, sim:failures_noticed",
        ),
        (
            N_("retries: launch vs job"),
            N_(
                "None for either: Scheduler's RetryPolicy retries failed calls, and a RunTask that answers with "
                "`failures` is not one (documented for rules, assumed for the Scheduler)."
            ),
            N_(
                "Separate Retry rules: launch errors (`ECS.AmazonECSException`, `AmazonECS.Unknown`) retried; "
                "`States.TaskFailed` not retried by default, since retrying it reruns failed jobs. Retries are billed."
            ),
            _fact(
                N_("RetryPolicy ... retries *delivery*, not a failed job"),
                "scheduler-retry-policy",
            )
            + "; "
            + _fact(
                N_(
                    "`ECS.AmazonECSException` is the usual Retry target (*community*); "
                    "retrying `States.TaskFailed` blindly reruns failed jobs"
                ),
                "ecs-exception-retry",
                "task-failed-not-for-retry",
            )
            + "; sim:launch_failures_recovered",
        ),
        (
            N_("notifications"),
            N_(
                "The kit deploys AWS's recommendation: the task-failure rule publishes a readable message (stack, "
                "task, exit code, stopped reason, console link) to the SNS topic, and an alarm on the dead-letter "
                "queue tells of invocations that failed. A launch failure leaves no task to observe."
            ),
            N_(
                "A Catch on the Task state routes failures to `sns:publish` (optionally success too); alarms on "
                "ExecutionsFailed, ExecutionsTimedOut and ExecutionsAborted (a timed-out execution runs no Catch) "
                "and on the dead-letter queue publish to the same topic."
            ),
            _fact(
                N_("a Catch can branch on `States.StringToJson($.Cause)` fields"),
                "sync-task-failed-cause",
            )
            + "; "
            + _fact(
                N_(
                    "a RunTask answer with `failures` is not a failed API call, so the Scheduler's DLQ is not told "
                    "(for the Scheduler not documented either way)"
                ),
                "direct-runtask-silent",
            )
            + "; "
            + tr('EventBridge Scheduler user guide, "Configuring a dead-letter queue": only failed invocations')
            + "; sim:notifications",
        ),
        (
            N_("timeouts"),
            N_("None in the path: Scheduler only bounds delivery (MaximumEventAgeInSeconds); a hung task runs on."),
            N_(
                "TimeoutSeconds on the Task state and the state machine fail a hung run (then Catch/notify). "
                "AWS documents a best-effort stop of the task when a `.sync` task is aborted "
                "(execution stopped; the role needs `ecs:StopTask`); for a timeout it does not say: "
                "the sandbox stops the task, on AWS check it."
            ),
            _fact(
                N_("`RetryPolicy`: `MaximumRetryAttempts` 0-185, `MaximumEventAgeInSeconds` 60-86400"),
                "scheduler-retry-policy",
            )
            + "; "
            + _fact(
                N_("an aborted `.sync` task: best-effort cancel (ECS: StopTask); timeouts not listed"),
                "sync-abort-best-effort-stop",
            ),
        ),
        (
            N_("overlap handling"),
            N_("None: every firing launches, so a job longer than the interval runs concurrently with the next."),
            N_("`.sync` alone does not prevent it; a guard (ListExecutions RUNNING at the start, then skip) does."),
            _fact(
                N_(
                    "It does **not** stop the next scheduled execution from starting "
                    "while the previous one runs: overlap prevention must be built"
                ),
                "sync-no-overlap-prevention",
            )
            + "; sim:overlapping_launches, "
            "sim:skipped_by_guard",
        ),
        (
            N_("duplicate handling"),
            N_(
                "At-least-once delivery launches a second task. "
                "RunTask accepts `clientToken`, but this pattern sets none."
            ),
            N_(
                "The Scheduler's StartExecution target takes only the state machine and its input, so its executions "
                "get generated names: the guard skips a duplicate while the first run is RUNNING, but one delivered "
                "after it finished runs the job again. Starts named after the scheduled time (`runs.start(at=...)`, "
                "`sfnecs run --at`) dedupe: idempotent while running, `ExecutionAlreadyExists` after: no second launch."
            ),
            _fact(N_("At-least-once delivery"), "scheduler-at-least-once")
            + "; "
            + _fact(
                N_(
                    "Targets: templated ECS RunTask (`EcsParameters`) and Step "
                    "Functions StartExecution (no parameter set: no execution name)"
                ),
                "scheduler-targets",
            )
            + "; "
            + _fact(
                N_(
                    "A name derived from the scheduled time therefore dedupes duplicates; "
                    "ECS `RunTask` accepts `clientToken`"
                ),
                "start-execution-idempotent",
                "runtask-client-token",
            )
            + "; sim:duplicate_launches, sim:deduplicated_running, "
            "sim:already_exists",
        ),
        (
            N_("cost"),
            N_("Fargate task time + Scheduler invocations."),
            N_(
                "The same + Step Functions state transitions beyond the monthly free tier (4,000 a month per "
                "account, shared by all its state machines); guard, retries and notifications add transitions. A run "
                "the guard skips is deferred work, not saved work: the next run catches up."
            ),
            _fact(
                N_(
                    "Step Functions Standard: $0.025 per 1,000 state transitions; "
                    "4,000 free a month per account, shared; retries count"
                ),
                "sfn-standard-price",
            )
            + "; sim:cost_total, sim:state_transitions, sim:billable_transitions",
        ),
        (
            N_("moving parts"),
            N_(
                "Schedule + Scheduler role, cluster, task definition, task and execution roles, log group; to be "
                "told of failures: an EventBridge rule, an SNS topic and its policy, a CloudWatch alarm."
            ),
            N_(
                "The same + state machine, its role, execution log group, three execution alarms, and the managed "
                "rule `StepFunctionsGetEventsForECSTaskRule` that `.sync` creates."
            ),
            _fact(
                N_("`events:PutRule` ... on rule/StepFunctionsGetEventsForECSTaskRule"),
                "sync-iam-static-resources",
            )
            + "; "
            + _fact(
                N_("Targets: templated ECS RunTask and Step Functions StartExecution"),
                "scheduler-targets",
            ),
        ),
        (
            N_("IAM surface"),
            N_(
                "Scheduler role (trusts scheduler.amazonaws.com): `ecs:RunTask` on the task definition, "
                "`iam:PassRole` for the task and execution roles, and `ecs:TagResource` at launch (the schedule "
                "propagates the task definition's tags; `ecs:CreateAction = RunTask`)."
            ),
            N_(
                "Scheduler role: `states:StartExecution`. Step Functions role: RunTask, StopTask, DescribeTasks, "
                "events Put/DescribeRule, PassRole, logs delivery actions on `*`, `sns:Publish`, ListExecutions for "
                "the guard."
            ),
            _fact(
                N_(
                    "Static resources ...; `iam:PassRole` for the task execution role "
                    "and the task role; request-response `ecs:runTask` needs only `ecs:RunTask` (+ PassRole); trust "
                    "policies"
                ),
                "sync-iam-static-resources",
                "passrole-task-and-execution-roles",
                "request-response-runtask-iam",
                "service-trust-principals",
            )
            + "; "
            + _fact(
                N_("tagging at launch needs `ecs:TagResource`"),
                "runtask-tag-on-create",
            ),
        ),
    ]
    return pd.DataFrame(rows, columns=[N_("feature"), "A", "B", N_("evidence")]).set_index("feature")


def _evidence_scenario() -> Scenario:
    """Ten hourly ticks, each job 90 minutes, ticks 2 and 5 delivered twice: small enough to check by hand."""
    return Scenario(horizon="10h", interval_minutes=60, duration_minutes=90.0, duplicates=(2, 5))


def misconceptions() -> pd.DataFrame:
    """Common misreadings, each with a verdict, why, and evidence (facts and simulated counts).

    The first rows are the corrections of docs/facts.md; the simulated numbers come from
    a ten-tick deterministic scenario (90-minute jobs every hour, ticks 2 and 5 delivered twice).
    """
    s = _evidence_scenario()
    r = simulate_variants(s, ["A", "B", "B+dedupe", "B+guard+dedupe"])
    silent = simulate_variants(s.replace(launch_failure_rate=1.0, duplicates=()), ["A", "B+guard+dedupe"])
    sim = tr(
        "sim ({ticks} hourly ticks, 90-min jobs, ticks 2 and 5 delivered twice): "
        "overlapping_launches B={b}, B+dedupe={dedupe}, B+guard+dedupe={safe}",
        ticks=s.ticks,
        b=r["B"].overlapping_launches,
        dedupe=r["B+dedupe"].overlapping_launches,
        safe=r["B+guard+dedupe"].overlapping_launches,
    )
    rows = [
        (
            N_("`.sync` prevents overlapping runs"),
            N_("false"),
            N_(
                "`.sync` makes one execution wait for its own task; every firing still starts a new execution. "
                "Overlap prevention must be built (guard or semaphore)."
            ),
            _fact(
                N_("It does **not** stop the next scheduled execution from starting"),
                "correction-sync-overlap",
            )
            + "; "
            + sim,
        ),
        (
            N_("The note's IAM policy is what `ecs:runTask.sync` needs"),
            N_("false: too broad and incomplete"),
            N_(
                "It grants `ecs:RunTask` and events actions on `*` and an `iam:CreateServiceLinkedRole` grant (with "
                "AttachRolePolicy and PutRolePolicy) the integration does not need; its PassRole names only the "
                "execution role, so a task with a task role "
                "fails to launch."
            ),
            _fact(
                N_("The note's policy is broader than the AWS template"),
                "correction-note-policy",
            )
            + "; "
            + _fact(
                N_("`iam:PassRole` is needed for the task execution role and the task role"),
                "passrole-task-and-execution-roles",
            ),
        ),
        (
            N_('Apple Silicon: "it becomes linux/amd64 by default", so set an ARM64 `runtime_platform`'),
            N_("true of the task, false of the build"),
            N_(
                "The note's sentence names no subject. Read as the task: ECS defaults to X86_64 (linux/amd64) while "
                "an Apple Silicon build is arm64, so ARM64 in `runtime_platform` is the right advice. Read as the "
                "build: false, builds default to the host's arm64 (then exec format error on a default task)."
            ),
            _fact(
                N_("Both readings of the note's sentence"),
                "correction-apple-silicon-sentence",
            )
            + "; "
            + _fact(
                N_("Build tools default to the **host** architecture"),
                "build-defaults-to-host",
            ),
        ),
        (
            N_("`.sync` stops duplicate deliveries from launching twice"),
            N_("false without time-derived names"),
            N_(
                "At-least-once delivery starts a second execution; an execution name derived from the scheduled time "
                "makes that StartExecution a no-op (a guard alone catches it only while the first still runs)."
            ),
            _fact(
                N_("A name derived from the scheduled time therefore dedupes duplicates"),
                "start-execution-idempotent",
            )
            + f"; sim: duplicate_launches A={r['A'].duplicate_launches}, B={r['B'].duplicate_launches}, "
            f"B+dedupe={r['B+dedupe'].duplicate_launches}",
        ),
        (
            N_("Scheduler's retry policy re-runs a failed job"),
            N_("false"),
            N_(
                "RetryPolicy retries a target call that failed; a RunTask answering with `failures` is not one (as the "
                "kit assumes for the Scheduler), and a failed job is never seen by the Scheduler."
            ),
            _fact(
                N_("This retries *delivery*, not a failed job"),
                "scheduler-retry-policy",
            ),
        ),
        (
            N_("Pattern A tells you when a task fails to start"),
            N_("false"),
            N_(
                "A RunTask that answers with `failures` starts no task, so no task event reaches the failure rule, and "
                "it is not a failed API call, so the DLQ is not told either (documented for rules; for the Scheduler "
                "AWS does not say, and the kit assumes the same)."
            ),
            _fact(N_("RunTask `failures`: no task, no failed API call"), "direct-runtask-silent")
            + "; "
            + tr(
                "sim (every launch fails): failures_silent A={a}, B+guard+dedupe={safe} (notifications {notified})",
                a=silent["A"].failures_silent,
                safe=silent["B+guard+dedupe"].failures_silent,
                notified=silent["B+guard+dedupe"].notifications,
            ),
        ),
    ]
    return pd.DataFrame(rows, columns=[N_("claim"), N_("verdict"), N_("why"), N_("evidence")])
