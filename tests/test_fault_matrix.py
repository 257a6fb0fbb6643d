"""evidence/fault_matrix.py: the design's promises per fault and pattern, and one cell of every row run in the sandbox.

The full matrix (every fault x A, B+guard, B-guard) runs in `bench/faults.py`; here each row runs
once, on the variant whose promise says most, plus the one launch retry of pattern B. The
sandbox-restart cell restarts the session sandbox.
"""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime

import pandas as pd
import pytest
from tests.test_stack import deployed, make_spec

from sfnecs import runs
from sfnecs.evidence import fault_matrix as fm
from sfnecs.exceptions import ValidationError

#: one cell per row of the matrix
SUBSET = [
    ("runtask_memory", "A"),
    ("runtask_cpu", "B+guard"),
    ("throttle", "A"),
    ("pull_error", "B-guard"),
    ("exec_format", "B+guard"),
    ("exit_3", "A"),
    ("exit_127", "B-guard"),
    ("oom", "B+guard"),
    ("spot_interruption", "B-guard"),
    ("hang", "B+guard"),
    ("duplicates_1", "A"),
    ("duplicates_2", "B-guard"),
    ("duplicates_10", "B+guard"),
    ("delay", "B+guard"),
    ("apply_interrupted", "A"),
    ("sandbox_restart", "A"),
]
NO_RETRY = fm.MatrixSettings(launch_retry_attempts=0, prefix="tf")
JOB_FAILURES = {
    "pull_error": "pull_error",
    "exec_format": "architecture_mismatch",
    "exit_3": "application_exit",
    "exit_127": "application_exit",
    "oom": "out_of_memory",
    "spot_interruption": "stopped",
    "hang": "timeout",
}


# ---- the promises (pure) ------------------------------------------------------------------------------
def test_every_fault_has_a_promise_for_every_variant():
    assert set(dict(SUBSET)) == set(fm.FAULTS)  # the sandbox test below covers every row
    for fault in fm.FAULTS:
        for variant in fm.VARIANTS:
            p = fm.promise(fault, variant)
            assert p.tasks is not None and p.noticed is not None and p.text()
            if p.limitation:  # only the documented behaviours of A and of B without its guard
                assert variant in ("A", "B-guard")
                assert re.search(r'\((?:ECS|Step Functions|EventBridge)[^)]*"[^"]+"', p.limitation)  # the AWS page


def test_pattern_b_notices_notifies_and_names_every_job_failure_without_rerunning_it():
    for fault, category in JOB_FAILURES.items():
        for variant in ("B+guard", "B-guard"):
            p = fm.promise(fault, variant)
            assert (p.tasks, p.retried, p.noticed, p.notified, p.diagnosis, p.limitation) == (
                1,
                False,
                True,
                True,
                category,
                "",
            )
        a = fm.promise(fault, "A")
        if fault == "hang":  # a hung task never stops: no event, and nothing times it out
            assert (a.noticed, a.notified, a.limitation) == (False, False, fm.NO_TIMEOUT)
        else:  # as AWS recommends: the task's STOPPED event matches the rule, which tells the topic
            assert (a.tasks, a.noticed, a.notified, a.diagnosis, a.limitation) == (1, True, True, category, "")


def test_launch_failures_a_is_silent_b_retries_then_notifies():
    a = fm.promise("runtask_memory", "A")
    assert (a.tasks, a.noticed, a.diagnosis) == (0, False, "") and a.limitation == fm.SILENT_LAUNCH
    retried = fm.promise("runtask_cpu", "B+guard", fm.MatrixSettings(launch_retry_attempts=1))
    assert (retried.tasks, retried.retried, retried.notified, retried.diagnosis) == (1, True, False, "capacity")
    given_up = fm.promise("runtask_cpu", "B-guard", fm.MatrixSettings(launch_retry_attempts=0))
    assert (given_up.tasks, given_up.noticed, given_up.notified) == (0, True, True)
    burst = fm.promise("throttle", "B+guard", fm.MatrixSettings(launch_retry_attempts=2, throttle_burst=3))
    assert (burst.tasks, burst.retried, burst.notified) == (0, True, True)  # 3 refusals > 2 retries
    # an API error is a failed delivery: the Scheduler's RetryPolicy tries pattern A again
    assert fm.promise("throttle", "A").retried is True and not fm.promise("throttle", "A").limitation


def test_duplicates_run_once_only_behind_the_guard():
    for copies in (1, 2, 10):
        assert fm.promise(f"duplicates_{copies}", "B+guard").tasks == 1
        for variant, why in (("A", fm.A_DUPLICATES), ("B-guard", fm.NO_GUARD)):
            p = fm.promise(f"duplicates_{copies}", variant)
            assert p.tasks == copies and p.limitation == (why if copies > 1 else "")


def test_verdicts_leftovers_and_mismatches_are_lost():
    promise = fm.promise("exit_3", "B+guard")
    good = fm.Cell("exit_3", "B+guard", "x", tasks=1, noticed=True, notified=True, diagnosis="application_exit")
    fm._verdict(good, promise)
    assert good.verdict == "handled" and good.mismatch == ""
    silent = fm.Cell("exit_3", "B+guard", "x", tasks=1, noticed=True, diagnosis="application_exit")
    fm._verdict(silent, promise)
    assert silent.verdict == "lost" and "notified=False (promised True)" in silent.mismatch
    leftover = fm.Cell(
        "exit_3",
        "A",
        "x",
        tasks=1,
        noticed=True,
        notified=True,
        diagnosis="application_exit",
        left=("AWS::SQS::Queue q",),
    )
    fm._verdict(leftover, fm.promise("exit_3", "A"))
    assert leftover.verdict == "lost" and "left after teardown" in leftover.mismatch
    limited = fm.Cell("duplicates_2", "A", "x", tasks=2, diagnosis="success")
    fm._verdict(limited, fm.promise("duplicates_2", "A"))
    assert limited.verdict == "limitation"
    frame = pd.DataFrame([c.to_dict() for c in (good, silent, leftover, limited)])
    summary = fm.summarize(frame)
    assert (summary.tried, summary.handled, summary.lost, summary.limitations) == (4, 1, 2, 1)
    assert summary.line() == "faults: 4 tried, 1 handled, 2 lost (1 documented limitations)"


def test_arguments_are_checked(target):
    with pytest.raises(ValidationError, match="fault="):
        fm.promise("meteor", "A")
    with pytest.raises(ValidationError, match="variant="):
        fm.run_matrix(target, cells=[("oom", "C")])
    with pytest.raises(ValidationError, match="restart="):
        fm.run_matrix(target, cells=[("sandbox_restart", "A")])
    with pytest.raises(ValidationError, match="throttle_burst"):
        fm.MatrixSettings(throttle_burst=4)
    with pytest.raises(ValidationError, match="prefix"):
        fm.MatrixSettings(prefix="Fm-")
    assert "sandbox_restart" not in set(fm._cells(None, None, None, can_restart=False))


# ---- in the sandbox -------------------------------------------------------------------------------------
@pytest.mark.sandbox
@pytest.mark.slow
def test_a_cell_of_every_row_keeps_the_designs_promise(target, sandbox):
    frame = fm.run_matrix(target, cells=SUBSET, settings=NO_RETRY, restart=fm.restart_in_process(sandbox))
    lost = frame[frame["verdict"] == "lost"]
    assert lost.empty, lost[["fault", "variant", "mismatch", "detail"]].to_string()
    assert set(frame["fault"]) == set(fm.FAULTS) and (frame["left"].map(len) == 0).all()
    cells = frame.set_index(["fault", "variant"])
    # pattern A's silent launch failure: the Scheduler reports a delivery, no task, nothing noticed
    silent = cells.loc[("runtask_memory", "A")]
    assert (silent.tasks, silent.noticed, silent.verdict) == (0, False, "limitation")
    assert "RESOURCE:MEMORY" in silent.detail
    # the overlap guard keeps ten simultaneous deliveries to one task
    assert cells.loc[("duplicates_10", "B+guard"), "tasks"] == 1
    assert cells.loc[("duplicates_2", "B-guard"), "overlap"]
    assert cells.loc[("hang", "B+guard"), "diagnosis"] == "timeout"
    spot = cells.loc[("spot_interruption", "B-guard")]  # reclaimed: the execution fails and says why
    assert (spot.notified, spot.diagnosis, spot.verdict) == (True, "stopped", "handled")
    assert "after its scheduled time" in cells.loc[("delay", "B+guard"), "detail"]
    assert "apply the stack first" in cells.loc[("sandbox_restart", "A"), "detail"]
    table = fm.table(frame)
    assert list(table.columns)[-1] == "verdict" and len(table) == len(SUBSET)


@pytest.mark.sandbox
@pytest.mark.slow
def test_pattern_b_retries_a_refused_launch_and_the_job_runs(target):
    frame = fm.run_matrix(
        target, cells=[("runtask_memory", "B+guard")], settings=fm.MatrixSettings(launch_retry_attempts=1, prefix="tr")
    )
    cell = frame.iloc[0]
    assert (cell.verdict, cell.tasks, cell.retried, cell.noticed, cell.notified, cell.diagnosis) == (
        "handled",
        1,
        True,
        True,
        False,
        "capacity",
    ), cell.to_dict()


# ---- sandbox defects the matrix found (each fixed in the sandbox; these keep them fixed) -------------------
@pytest.mark.sandbox
def test_task_logs_are_kept_when_the_virtual_clock_is_hours_ahead(target, sandbox):
    """moto refuses log events more than 2 h after the *real* now; the emulator writes at virtual times."""
    spec = make_spec(target, "ahead", pattern="A", schedule_enabled=False, environment={"SFNECS_LOG": "one|two"})
    with deployed(target, spec):
        sandbox.control("POST", "clock", {"advance_seconds": 3 * 3600})
        assert datetime.fromisoformat(sandbox.control("GET", "clock", {})["now"]) > datetime.now(UTC).replace(
            microsecond=0
        ) + pd.Timedelta(hours=2)
        result = runs.run_direct(
            target, spec, client_token="ahead-1", progress=False, timeout=30, backoff=runs.Backoff(0.05, 1.6, 0.5)
        )
        assert result.ok and result.log_tail == ["one", "two"]


def test_a_port_left_in_time_wait_is_free_and_a_listening_one_is_not():
    from sfnecs.sandbox.server import port_free

    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the sandbox's http.server does
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as client:
            conn, _ = listener.accept()
            conn.close()  # the server side closes first: its end of the connection enters TIME_WAIT
            client.recv(1)
        assert not port_free("127.0.0.1", port)
    assert port_free("127.0.0.1", port)
