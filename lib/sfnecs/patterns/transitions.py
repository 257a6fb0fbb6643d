"""The states a pattern-B execution enters on each path, from the kit's state machine's shape.

Why: Step Functions bills state transitions, so the cost model counts them with the state names the
kit's state machine really uses (`sfnecs.statemachine`).
"""

from __future__ import annotations

import pandas as pd

from sfnecs import statemachine as sm
from sfnecs.i18n import N_
from sfnecs.patterns.scenario import Scenario


def execution_states(scenario: Scenario, guard: bool) -> dict[str, tuple[str, ...]]:
    """The states an execution enters on each path (skipped / succeeded / failed).

    Why: Step Functions bills "a state transition each time a step of your workflow is executed ...
    including retries" (aws.amazon.com/step-functions/pricing). The names are the kit's state
    machine's (`sfnecs.statemachine`, JSONata, the default language): guard = `CheckRunning`
    (aws-sdk ListExecutions) + `AlreadyRunning?` (Choice) -> `SkippedOverlap`; `RunJob`
    (ecs:runTask.sync, Retry on launch errors, Catch -> `NotifyFailure` (sns:publish) -> `Failed`).
    (JSONPath needs more states for the same paths: `AnyRunning?`, `FindOldest`, the overrides
    Choice and Pass states, and Pass states that parse the cause.) AWS does not say whether terminal
    Succeed/Fail states are billed; we count them (upper bound). Each Retry adds one transition on
    top of these states.
    """
    guard_states = (sm.CHECK_RUNNING, sm.ALREADY_RUNNING) if guard else ()
    return {  # the paths' names are shown (transitions_table), so marked for the display's translation
        N_("skipped"): guard_states + (sm.SKIPPED,) if guard else (),
        N_("succeeded"): guard_states + (sm.RUN_JOB,) + ((sm.NOTIFY_SUCCESS,) if scenario.notify_success else ()),
        N_("failed"): guard_states
        + (sm.RUN_JOB,)
        + ((sm.NOTIFY_FAILURE, sm.FAILED) if scenario.notify_failure else ()),
    }


def transitions_table(scenario: Scenario) -> pd.DataFrame:
    """Per pattern-B variant and path: the states entered and the transitions before retries."""
    rows = []
    for guard in (False, True):
        for path, states in execution_states(scenario, guard).items():
            if states:
                rows.append(
                    {
                        N_("guard"): guard,
                        N_("path"): path,
                        N_("states"): " -> ".join(states),
                        N_("transitions"): len(states),
                        N_("plus"): N_("one per Retry (launch or job)"),
                    }
                )
    return pd.DataFrame(rows)
