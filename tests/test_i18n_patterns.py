"""Lesson 01's tables and lines in Japanese: the pattern comparison, the simulation's counts, the prices,
the live replay's agreement and the monthly cost read in Japanese under `ja`, and stay English otherwise
(the frames keep their English labels either way, so code and tests select by English name)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pandas as pd
import pytest

from sfnecs.evidence import simulation_check
from sfnecs.i18n import localize, tr, use_language
from sfnecs.i18n.language import _CHOSEN
from sfnecs.model import StackSpec
from sfnecs.model.prices import AWS_SFN_PRICING, PRICE_SOURCES, Prices
from sfnecs.model.sources import cited_ids
from sfnecs.patterns import (
    COUNT_KEYS,
    Scenario,
    feature_table,
    misconceptions,
    monthly_cost,
    simulate_variants,
    transitions_table,
    usage_cost,
)

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# the hourly scenario of lesson 01's section 3: 90-minute jobs, ticks 2 and 5 delivered twice
BY_HAND = Scenario(horizon="10h", interval_minutes=60, duration_minutes=90.0, duplicates=(2, 5))


@pytest.fixture(autouse=True)
def english_after():
    token = _CHOSEN.set(None)
    yield
    _CHOSEN.reset(token)


def japanese(value: object) -> bool:
    return isinstance(value, str) and bool(JAPANESE.search(value))


def labels(frame: pd.DataFrame) -> list[object]:
    return [name for name in (*frame.columns, *frame.index.names, *frame.columns.names) if name is not None]


def live_run(variant: str = "B+guard") -> simulation_check.LiveRun:
    """A LiveRun whose counts are the simulation's (what a replay of BY_HAND counts), with four tasks."""
    s = Scenario(horizon="30min", interval_minutes=10, duration_minutes=15.0, duplicates=(1,))
    counts = simulate_variants(s, [variant])[variant].counts()
    tasks = pd.DataFrame(
        {
            "task": ["t0", "t1", "t1d", "t2"],
            "start": [0.0, 600.0, 600.0, 1200.0],
            "end": [900.0, 1500.0, 1500.0, 2100.0],
            "exit_code": [0, 0, 0, 0],
            "group": "",
        }
    )
    return simulation_check.LiveRun(variant, s, counts, tasks, first_tick=datetime(2025, 1, 1, tzinfo=UTC))


def test_feature_table_shows_japanese_labels_and_prose_but_keeps_its_english():
    english = feature_table()
    shown = localize(english, "ja")
    assert all(japanese(label) for label in shown.index), list(shown.index)
    assert japanese(shown.index.name) and japanese(shown.columns[-1])
    assert list(shown.columns[:2]) == ["A", "B"]  # pattern names stay
    assert shown[["A", "B"]].map(japanese).all().all(), "a prose cell of A or B fell back to English"
    assert english.loc["IAM surface", "A"].startswith("Scheduler role")  # the frame itself keeps its English
    assert "`iam:PassRole`" in shown.loc[shown.index[-1], "A"]  # AWS names stay as AWS writes them


def test_feature_table_evidence_is_japanese_under_ja_with_every_citation_kept():
    english = feature_table()
    with use_language("ja"):
        table = feature_table()
    assert list(table.index) == list(english.index) and list(table.columns) == list(english.columns)
    for feature in english.index:
        assert japanese(table.loc[feature, "evidence"]), feature
        assert cited_ids(table.loc[feature, "evidence"]) == cited_ids(english.loc[feature, "evidence"]), feature
        assert re.findall(r"sim:\w+", table.loc[feature, "evidence"]) == re.findall(
            r"sim:\w+", english.loc[feature, "evidence"]
        )
    assert "Amazon ECS タスクの状態変更イベント" in table.loc["seeing failures", "evidence"]
    assert not any(japanese(v) for v in english["evidence"])


def test_misconceptions_in_japanese_keep_the_simulated_numbers():
    english = misconceptions()
    with use_language("ja"):
        table = misconceptions()
    shown = localize(table, "ja")
    assert all(japanese(c) for c in shown.columns), list(shown.columns)
    assert shown.map(japanese).all().all(), shown.to_string()
    assert shown.iloc[0, 1] == "誤り"  # `.sync` prevents overlapping runs: false
    for column in ("evidence",):
        for en, ja in zip(english[column], table[column], strict=True):
            assert re.findall(r"\w+\+?\w*=\d+", en) == re.findall(r"\w+\+?\w*=\d+", ja)  # B=11, B+dedupe=9, ...
            assert cited_ids(en) == cited_ids(ja)
    assert "B=11" in english.loc[0, "evidence"] and "hourly ticks" in english.loc[0, "evidence"]


def test_simulation_columns_show_in_japanese():
    frame = simulate_variants(BY_HAND, ["A", "B+guard"]).to_frame()
    shown = localize(frame, "ja")
    assert all(japanese(c) for c in shown.columns), [c for c in shown.columns if not japanese(c)]
    assert japanese(shown.index.name) and list(shown.index) == ["A", "B+guard"]  # variant names stay
    year = localize(frame[list(COUNT_KEYS)].T, "ja")
    assert all(japanese(k) for k in year.index) and japanese(year.columns.name)
    assert shown.loc["A", localize(frame[["task_launches"]], "ja").columns[0]] == 12  # same numbers


def test_price_table_units_sources_and_headers_in_japanese_with_urls_and_fact_ids():
    english = Prices(sfn_per_1000_transitions=0.03).to_frame()
    shown = localize(english, "ja")
    assert all(japanese(c) for c in shown.columns) and japanese(shown.index.name)
    assert list(shown.index) == list(english.index)  # Prices' field names are what a caller passes
    assert shown.iloc[:, 1].map(japanese).all(), "a unit fell back to English"  # unit
    worded = ~english["source"].str.match(r"Fargate \S+ Linux/\w+ \(fact: [\w-]+\)$")  # AWS names, a fact id
    assert worded.sum() == 5 and shown.iloc[:, 2][worded].map(japanese).all(), "a source fell back to English"
    for en, ja in zip(english["source"], shown.iloc[:, 2], strict=True):
        assert cited_ids(en) == cited_ids(ja) and re.findall(r"https://\S+", en) == re.findall(r"https://\S+", ja)
    assert english.loc["sfn_per_1000_transitions", "source"] == "caller override"
    value = shown.iloc[:, 0]  # kept as object so ints print as ints: the display must not turn it float
    assert value.dtype == object and value["sfn_free_transitions_per_month"] == 4000
    assert isinstance(value["sfn_free_transitions_per_month"], int) and "4000" in shown.to_string()
    # the sources are literal so the catalog holds them whole; the URL constant is the one they use
    assert all(PRICE_SOURCES[k].source.startswith(AWS_SFN_PRICING) for k in PRICE_SOURCES if k.startswith("sfn_"))
    tokyo = localize(Prices.for_region("ap-northeast-1", fargate_arm_vcpu_hour=None).to_frame(), "ja")
    assert japanese(tokyo.loc["fargate_arm_vcpu_hour"].iloc[2])  # "unknown: no ARM price recorded ..."


def test_transitions_table_in_japanese_keeps_state_names():
    english = transitions_table(BY_HAND)
    shown = localize(english, "ja")
    assert all(japanese(c) for c in shown.columns)
    assert shown.iloc[:, 1].map(japanese).all() and shown.iloc[:, 4].map(japanese).all()  # path, plus
    assert "再試行" in shown.iloc[0, 4]  # glossary: Retry
    assert list(shown.iloc[:, 2]) == list(english["states"])  # CheckRunning -> AlreadyRunning? -> ...
    assert set(english["path"]) == {"skipped", "succeeded", "failed"}


def test_agreement_table_and_lines_in_japanese():
    run = live_run()
    table = simulation_check.agreement(run)
    shown = localize(table, "ja")
    assert all(japanese(label) for label in labels(shown)), labels(shown)
    assert all(japanese(k) for k in shown.index)
    wide = localize(pd.concat({"B+guard": table[["simulated", "live"]]}, axis=1), "ja")
    assert all(japanese(second) and first == "B+guard" for first, second in wide.columns)
    assert simulation_check.all_agree([run])
    assert simulation_check.agreement_line([run]) == "every live count equals the simulated one: True"
    with use_language("ja"):
        line = simulation_check.agreement_line([run])
        summary = run.summary()
    assert japanese(line) and line.endswith("True")
    c = run.counts
    assert japanese(summary) and summary.startswith("B+guard:")
    assert [int(n) for n in re.findall(r"\d+", summary)] == [c["executions"], c["task_launches"], c["skipped_by_guard"]]
    executions, tasks, skipped = c["executions"], c["task_launches"], c["skipped_by_guard"]
    assert run.summary() == f"B+guard: {executions} executions, {tasks} tasks, {skipped} skipped by the guard"


def test_live_runs_names_and_columns_in_japanese():
    run = live_run("A")
    assert run.runs["name"].tolist() == ["tick 0", "tick 1", "tick 1 (duplicate)", "tick 2"]
    with use_language("ja"):
        names = live_run("A").runs["name"].tolist()
    assert names == ["ティック 0", "ティック 1", "ティック 1 (重複)", "ティック 2"]
    shown = localize(run.runs[["name", "start_minute", "end_minute", "duplicate", "overlapping"]], "ja")
    assert all(japanese(c) for c in shown.columns)


def test_monthly_cost_in_japanese():
    spec = StackSpec("nightly", capacity_provider_strategy="FARGATE_SPOT")
    english = monthly_cost(spec)
    with use_language("ja"):
        estimate = monthly_cost(spec)
    assert estimate.lines[0][:2] == english.lines[0][:2] and estimate.total == english.total
    assert all(japanese(how) for _, _, how in estimate.lines)
    assert all(japanese(a) for a in estimate.assumptions)
    assert "730.0" in english.lines[-1][2] and "730.0" in estimate.lines[-1][2]  # numbers formatted alike
    shown = localize(estimate.to_frame(), "ja")
    assert all(japanese(c) for c in shown.columns)
    items = list(shown.iloc[:, 0])
    assert "Fargate vCPU" in items and "EventBridge Scheduler" in items  # AWS names stay
    assert {"Fargate メモリ", "合計"} <= set(items)
    assert not any(japanese(how) for _, _, how in english.lines)


def test_lesson_01_printed_words_are_in_the_catalog():
    with use_language("ja"):
        assert japanese(tr("(the duplicates among them)"))


def test_usage_cost_line_in_japanese_keeps_its_numbers():
    job = StackSpec("nightly-report")
    english = usage_cost(job, [90, 90, 90, 1800], transitions=40, invocations=4).line()
    with use_language("ja"):
        line = usage_cost(job, [90, 90, 90, 1800], transitions=40, invocations=4).line()
    assert japanese(line) and not japanese(english)
    assert re.findall(r"[\d,.]*\d", line) == re.findall(r"[\d,.]*\d", english)  # same numbers, same order
