"""Runs, proofs and state machine diagrams in Japanese: what a person sees is translated, the data stays English.

Each test would fail if a table header, a kit word or a built line fell back to English under
`use_language("ja")`; the English frames (what lessons select by name) are checked unchanged too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from sfnecs import runs, statemachine
from sfnecs.i18n import localize, use_language
from sfnecs.i18n.catalog import translations
from sfnecs.i18n.extract import lesson_sources
from sfnecs.model import StackSpec
from sfnecs.proofs.cases import Step, proof_paths
from sfnecs.proofs.run import STEP_COLUMNS, ProofReport, StepResult, _disagreement
from sfnecs.runs.reading import _EXECUTION_COLUMNS, HISTORY_COLUMNS
from sfnecs.runs.results import FIELD_LABELS
from sfnecs.statemachine.diagram import EDGE_COLUMNS, EDGE_KINDS, text_columns

ROOT = Path(__file__).resolve().parent.parent
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
SPEC = StackSpec("nightly-report", task_timeout_seconds=3, launch_retry_attempts=1)


def _japanese(text: object) -> bool:
    return isinstance(text, str) and bool(JAPANESE.search(text))


def _result(**fields) -> runs.RunResult:
    base = {
        "status": "FAILED",
        "exit_code": 3,
        "stop_code": "EssentialContainerExited",
        "stopped_reason": "Essential container in task exited",
        "error": "States.TaskFailed",
        "log_tail": ["report started", "job failed: exiting with code 3"],
    }
    return runs.RunResult(**(base | fields))


# ---- runs -------------------------------------------------------------------------------------------
def test_run_summary_headers_and_index_name_show_in_japanese_and_the_frame_stays_english():
    frame = runs.summary({"job fails": _result(), "success": _result(status="SUCCEEDED", exit_code=0)})
    shown = localize(frame, "ja")
    assert list(frame.columns) == list(runs.SUMMARY_COLUMNS) and frame.index.name == "run"
    assert all(_japanese(c) for c in shown.columns), list(shown.columns)
    assert shown.columns[list(frame.columns).index("exit_code")] == "終了コード"
    assert shown.columns[list(frame.columns).index("stopped_reason")] == "停止理由"
    assert _japanese(shown.index.name)
    assert list(shown.index) == ["ジョブの失敗", "成功"]  # the lesson's labels are catalog words
    # AWS's values stay as AWS writes them
    assert shown.loc["ジョブの失敗", "停止理由"] == "Essential container in task exited"
    assert shown.iloc[0, 0] == "FAILED"


def test_every_run_result_field_and_table_column_has_japanese():
    words = translations("ja")
    names = set(FIELD_LABELS) | set(HISTORY_COLUMNS) | set(_EXECUTION_COLUMNS) | {"run"}
    assert {f for f in runs.RunResult.__dataclass_fields__} <= set(FIELD_LABELS)
    untranslated = sorted(n for n in names if not _japanese(words.get(n, n)) and words.get(n) not in ("ID", "ARN"))
    assert not untranslated


def test_history_headers_show_in_japanese():
    shown = localize(pd.DataFrame(columns=HISTORY_COLUMNS), "ja")
    assert list(shown.columns) == ["ID", "タイムスタンプ", "秒", "タイプ", "ステート", "詳細"]


def test_run_result_html_speaks_japanese_and_keeps_aws_text():
    result = _result()
    with use_language("ja"):
        page = result._repr_html_()
    headers = re.findall(r"<th[^>]*>(.*?)</th>", page)
    assert headers and all(_japanese(h) for h in headers), headers
    assert "ログの最後の 2 行" in page and "Essential container in task exited" in page
    with use_language("ja"):
        assert "(ログ行なし)" in _result(log_tail=[])._repr_html_()
    english = result._repr_html_()
    assert "exit_code" in english and "last 2 log lines" in english and not JAPANESE.search(english)


# ---- proofs -----------------------------------------------------------------------------------------
SPECS = {
    "JSONata": SPEC,
    "JSONPath": SPEC.replace(query_language="JSONPath"),
    "every option": SPEC.replace(notify_success=True, retry_job_failures=2, launch_retry_attempts=3),
    "no launch retries": SPEC.replace(launch_retry_attempts=0),
}


@pytest.mark.parametrize("name", list(SPECS))
def test_every_proof_path_reads_in_japanese_and_keeps_its_english_name(name):
    english = proof_paths(SPECS[name])
    with use_language("ja"):
        japanese = proof_paths(SPECS[name])
    assert [p.name for p in japanese] == [p.name for p in english]  # names are keys (report.paths["timeout"])
    words = translations("ja")
    for path in japanese:
        assert _japanese(words.get(path.name)), path.name
        assert _japanese(path.proves), path.proves
    assert not any(JAPANESE.search(p.proves) for p in english)


def _report() -> ProofReport:
    spec = SPEC
    path = next(p for p in proof_paths(spec) if p.name == "launch retries exhausted")
    good = StepResult(path.name, path.proves, "RunJob", "RETRIABLE", "RETRIABLE", None, "AmazonECS.Unknown", None, True)
    with use_language("ja"):
        why = _disagreement(Step("RunJob", "CAUGHT_ERROR", "NotifyFailure"), {"status": "FAILED"})
    bad = StepResult(path.name, path.proves, "RunJob", "CAUGHT_ERROR -> NotifyFailure", "FAILED", None, None, None,
                     False, why)  # fmt: skip
    return ProofReport(spec.name, "sandbox", "JSONata", None, (good, bad), ((path.name, "Failed", "FAILED"),), 0.25)


def test_a_disagreement_is_told_in_japanese():
    with use_language("ja"):
        assert _disagreement(Step("RunJob", "CAUGHT_ERROR"), {"status": "FAILED"}) == (
            "ステータスが FAILED (期待は CAUGHT_ERROR)"
        )
        assert _japanese(_disagreement(Step("RunJob", "SUCCEEDED", "A"), {"status": "SUCCEEDED", "nextState": "B"}))
        assert _japanese(_disagreement(Step("RunJob", "FAILED", None, "X"), {"status": "FAILED", "error": "Y"}))
    assert _disagreement(Step("RunJob", "CAUGHT_ERROR"), {"status": "FAILED"}) == "status FAILED, expected CAUGHT_ERROR"


def test_proof_tables_show_in_japanese_and_keep_english_values_to_select_by():
    report = _report()
    frame = report.to_frame()
    assert list(frame.columns) == STEP_COLUMNS
    assert frame["got"].iloc[-1] == "not run"  # what lessons query
    shown = localize(frame, "ja")
    assert all(_japanese(c) or c == "OK" for c in shown.columns), list(shown.columns)
    assert shown.iloc[-1][shown.columns[STEP_COLUMNS.index("got")]] == "未実行"
    assert shown.iloc[0, 0] == "起動の再試行が尽きる"  # the path name, a catalog word
    by_path = report.by_path()
    assert list(by_path.columns) == ["proves", "steps", "proven"] and by_path.index.name == "path"
    shown = localize(by_path, "ja")
    assert list(shown.columns) == ["証明する内容", "ステップ数", "証明済み"] and shown.index.name == "経路"
    assert by_path.loc["launch retries exhausted", "steps"] == 3 and not by_path["proven"].any()


def test_proof_summary_html_and_error_read_in_japanese():
    report = _report()
    with use_language("ja"):
        line, page, error = report.summary(), report._repr_html_(), report.to_dict()["error"]
    assert line == (
        "nightly-report (JSONata、sandbox): 0/1 経路を証明、"
        "TestState のステップ 1/3 が期待どおり、0.2 秒、タスクの実行なし"
    )
    assert all(_japanese(h) or h == "OK" for h in re.findall(r"<th>(.*?)</th>", page))
    assert error.startswith("未証明: launch retries exhausted") and "期待は CAUGHT_ERROR" in error
    assert report.summary().endswith("1/3 TestState steps as expected, 0.2 s, no task run")


# ---- state machine: diagram and lint ------------------------------------------------------------------
def test_diagram_edge_table_and_labels_in_japanese():
    definition = statemachine.build_definition(SPEC)
    with use_language("ja"):
        picture = statemachine.diagram(definition)
        svg = picture.to_svg()
    frame = picture.to_frame()
    assert list(frame.columns) == EDGE_COLUMNS and set(frame["kind"]) <= set(EDGE_KINDS)
    shown = localize(frame, "ja")
    assert list(shown.columns) == ["ソース", "ターゲット", "種類", "ラベル"]
    assert set(shown[shown.columns[2]]) <= {translations("ja")[k] for k in EDGE_KINDS}
    labels = {e.kind: e.label for e in picture.edges if e.label}
    assert labels["retry"].startswith("再試行 ") and labels["catch"].startswith("キャッチ ")
    assert labels["default"] == "デフォルト"
    assert "Task \u00b7 終了" in svg and "\u00b7 end" not in svg  # RunJob ends the run: an end state
    # the states' ASL Comments are deployed text: they stay English in the Japanese picture
    comment = definition["States"]["RunJob"]["Comment"]
    assert comment in svg.replace("&#x27;", "'")
    english = statemachine.diagram(definition)
    assert {e.kind: e.label for e in english.edges if e.label}["default"] == "default"


def test_a_japanese_label_is_counted_twice_as_wide():
    assert text_columns("retry") == 5 and text_columns("再試行") == 6 and text_columns("再試行 X") == 8


def test_the_japanese_diagram_keeps_every_label_inside_the_picture():
    with use_language("ja"):
        picture = statemachine.diagram(statemachine.build_definition(SPEC.replace(retry_job_failures=1)))
    from sfnecs.statemachine.diagram import label_extent

    for route in picture.routes:
        if route.edge.label:
            left, top, right, bottom = label_extent(route)
            assert 0 <= left and right <= picture.width and 0 <= top and bottom <= picture.height, route.edge


def test_to_html_page_is_in_the_chosen_language():
    with use_language("ja"):
        page = statemachine.diagram(statemachine.build_definition(SPEC)).to_html()
    assert '<html lang="ja">' in page and "<h2>遷移</h2>" in page and "定義 (ASL)" in page
    assert "<th>ソース</th>" in page


def test_lint_wording_is_japanese_and_the_checkers_words_stay():
    definition = statemachine.build_definition(SPEC)
    definition["States"]["AlreadyRunning?"]["Choices"][0]["Condition"] = "{% $states.input.count > %}"
    with use_language("ja"):
        problems = statemachine.validate(definition)
        assert statemachine.validate("{") and _japanese(statemachine.validate("{")[0])
    assert any("は有効な JSONata 式ではありません" in p for p in problems), problems


# ---- lesson 03 ----------------------------------------------------------------------------------------
def test_every_text_lesson_03_marks_is_translated():
    marked = [s.msgid for s in lesson_sources() if any("03_state_machine" in where for where, _ in s.locations)]
    assert len(marked) >= 30
    words = translations("ja")
    assert not [m for m in marked if not _japanese(words.get(m))]


def test_the_japanese_lesson_03_shows_no_english_header_of_the_kit():
    notebook = json.loads((ROOT / "notebooks" / "ja" / "03_state_machine.ipynb").read_text(encoding="utf-8"))
    kit = set(FIELD_LABELS) | set(HISTORY_COLUMNS) | set(STEP_COLUMNS) | set(EDGE_COLUMNS) | {"proves", "steps"}
    headers = set()
    for cell in notebook["cells"]:
        for out in cell.get("outputs", []):
            page = "".join(out.get("data", {}).get("text/html", ""))
            headers |= {h.strip() for h in re.findall(r"<th(?:\s[^>]*)?>(.*?)</th>", page, re.S)}
    assert headers & {"終了コード", "停止理由", "経路", "ソース"}  # the tables are there, in Japanese
    assert not headers & kit, sorted(headers & kit)


# ---- audit and the task clock's labels ------------------------------------------------------------------
def _audit_report():
    from datetime import UTC, datetime, timedelta

    from sfnecs.runs import audit

    t0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    rows = [
        ("a", "SUCCEEDED", 0, 4000.0, "2024-03-01T09:00:00Z", None),
        ("b", "SUCCEEDED", 30, 20.0, "2024-03-01T09:00:00Z", None),
        ("c", "FAILED", 120, 30.0, None, "architecture_mismatch"),
        ("d", "FAILED", 180, 40.0, None, None),
    ]
    runs_frame = pd.DataFrame(
        [
            {
                "name": n,
                "arn": f"arn:{n}",
                "kind": "execution",
                "status": s,
                "start": t0 + timedelta(minutes=m),
                "stop": t0 + timedelta(minutes=m, seconds=sec),
                "seconds": sec,
                "scheduled_time": when,
                "category": cat,
            }
            for n, s, m, sec, when, cat in rows
        ],
        columns=audit.RUN_COLUMNS,
    )
    return audit.summarize(runs_frame, stack="s", since=t0, schedule="rate(1 hour)", interval_seconds=3600)


def test_audit_flags_table_and_page_read_in_japanese_and_its_data_stays_english():
    with use_language("ja"):
        report = _audit_report()
        page = report._repr_html_()
    assert len(report.flags) == 4 and all(_japanese(f) for f in report.flags), report.flags
    assert "アーキテクチャの不一致 x1" in report.flags[-1] and "未診断 x1" in report.flags[-1]
    assert report.failures_by_category == {"architecture_mismatch": 1, "not diagnosed": 1}  # keys stay
    with use_language("ja"):  # a metric with a number in it ("duration p50 (s)") is worded when the table is made
        shown = localize(report.to_frame())
    assert list(shown.columns) == ["指標", "値"]
    assert all(_japanese(m) for m in shown["指標"]), list(shown["指標"])
    assert "<th>指標</th>" in page and "スタック <b>s</b>" in page
    english = _audit_report()
    assert english.to_frame().set_index("metric").loc["success rate", "value"] == "50%"
    assert not any(JAPANESE.search(f) for f in english.flags)


def test_audit_plot_labels_in_japanese():
    import matplotlib

    matplotlib.use("Agg")
    with use_language("ja"):
        figure = _audit_report().plot()
    bottom = figure.axes[-1]
    assert bottom.get_ylabel() == "所要時間 (秒)" and bottom.get_title() == "所要時間、成功率 50%"


# ---- errors a person acts on -----------------------------------------------------------------------------
def test_bad_input_to_runs_proofs_and_diagrams_is_refused_in_japanese():
    from sfnecs.exceptions import ValidationError
    from sfnecs.runs.validation import _check_arn

    with use_language("ja"):
        cases = [
            lambda: runs.summary(5),
            lambda: runs.summary({"a": _result()}, columns=["nope"]),
            lambda: runs.Backoff(factor=20),
            lambda: _check_arn("run", "arn:nope", ("execution", "task")),
            lambda: proof_paths(SPEC.replace(pattern="A")),
            lambda: statemachine.diagram({"States": {}}),
        ]
        for make in cases:
            with pytest.raises(ValidationError) as caught:
                make()
            assert _japanese(str(caught.value)), str(caught.value)
    with pytest.raises(ValidationError, match="an execution ARN .* or a task ARN"):
        _check_arn("run", "arn:nope", ("execution", "task"))
