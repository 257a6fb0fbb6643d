"""Start a stack's job, wait for it, and read what happened: result, history, executions, logs, timeline.

Why a package: every question an operator asks about a run ("did it work, why not, what did it
print, did two runs overlap?") is answered from a few read-only AWS calls, made through boto3 only,
so the same code waits on the sandbox and on real AWS. The modules, in the order a run lives:
`launch` (start, run_direct) -> `waiting` (wait, wait_for_next; `polling` holds Backoff) ->
`reading` (the result, history, executions, logs) -> `task_clock` (runs timed by their tasks) ->
`plot` (timeline); `results` holds Run and
RunResult, `validation` the argument checks; `audit` and `inbox` build on these.
"""

from sfnecs.runs.launch import execution_name, run_direct, start
from sfnecs.runs.plot import overlaps, timeline
from sfnecs.runs.polling import Backoff
from sfnecs.runs.reading import executions, history, logs, stack_tasks, task_succeeded
from sfnecs.runs.results import SUMMARY_COLUMNS, Run, RunResult, summary
from sfnecs.runs.task_clock import on_task_clock
from sfnecs.runs.validation import _EXECUTION_ARN as _EXECUTION_ARN  # the ARN checks tests use
from sfnecs.runs.validation import _check_arn as _check_arn
from sfnecs.runs.validation import _long_task_arn as _long_task_arn
from sfnecs.runs.waiting import wait, wait_for_next

__all__ = [
    "Backoff",
    "Run",
    "RunResult",
    "start",
    "wait",
    "run_direct",
    "history",
    "executions",
    "logs",
    "timeline",
    "on_task_clock",
    "task_succeeded",
    "execution_name",
    "wait_for_next",
    "summary",
    "SUMMARY_COLUMNS",
    "stack_tasks",
    "overlaps",
]
