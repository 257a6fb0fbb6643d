"""Lesson 02's IAM tables and lines in Japanese: what the kit says is shown translated, AWS's names stay.

Each table keeps its English columns and values (lessons select by them); `localize(table, "ja")`, which
the notebook display applies, must show a Japanese header for every column and Japanese for every kit
text (purposes, why_star reasons, labels of simulated calls, the broad-policy comparison, accepted
findings, the drill's rows). These tests fail when a mark or a translation is missing.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from tests.test_iam import offline_iam  # noqa: F401 (fixture)

from sfnecs import iam
from sfnecs.diagnose import diagnose_task
from sfnecs.evidence.permission_drill import Drill
from sfnecs.i18n import localize, tr, use_language
from sfnecs.i18n.catalog import translations
from sfnecs.i18n.extract import lesson_sources, library_sources
from sfnecs.i18n.language import _CHOSEN
from sfnecs.model import StackSpec

SPEC = StackSpec(name="nightly-report", region="ap-northeast-1", account="111122223333")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
#: AWS's own values a table may hold: they stay as AWS writes them
AWS_VALUES = {"allowed", "implicitDeny", "explicitDeny", "Allow", "Deny"}
#: headers that mirror an AWS policy element: shown as AWS's documentation writes the element
AWS_ELEMENTS = {"sid": "Sid"}


@pytest.fixture(autouse=True)
def english_after():
    token = _CHOSEN.set(None)
    yield
    _CHOSEN.reset(token)


def japanese(text: object) -> bool:
    return isinstance(text, str) and bool(JAPANESE.search(text))


def assert_all_headers_japanese(table: pd.DataFrame) -> None:
    shown = localize(table, "ja")
    english = [c for c in shown.columns if not japanese(c) and c not in AWS_ELEMENTS.values()]
    assert english == [], f"headers left in English: {english}"
    assert list(table.columns) == [c for c in table.columns if not japanese(c)]  # the frame keeps its English


def test_every_text_lesson_02_marks_in_the_library_has_japanese():
    ja = translations("ja")
    owners = ("sfnecs/iam/", "sfnecs/evidence/permission_drill.py")
    marked = [s.msgid for s in library_sources() if any(loc[0].startswith(owners) for loc in s.locations)]
    assert len(marked) > 80  # the tables' headers, labels and reasons are marked
    untranslated = [m for m in marked if not japanese(ja.get(m, "")) and ja.get(m) != AWS_ELEMENTS.get(m)]
    assert untranslated == []


def test_every_line_lesson_02_marks_in_its_code_cells_has_japanese():
    ja = translations("ja")
    marked = [
        s.msgid for s in lesson_sources() if any(loc[0].startswith("notebooks/02_iam_policies") for loc in s.locations)
    ]
    assert "{right} of {calls} calls decided as expected" in marked
    assert [m for m in marked if not japanese(ja.get(m, ""))] == []


def test_roles_table_shows_headers_and_purposes_in_japanese():
    table = iam.roles_table(iam.policies_for(SPEC))
    assert list(table.columns) == ["role", "assumed by", "what it is for"]
    assert_all_headers_japanese(table)
    shown = localize(table, "ja")
    assert all(japanese(p) for p in shown.iloc[:, 2])
    assert list(shown.iloc[:, 1]) == list(table["assumed by"])  # service principals stay as AWS writes them
    assert list(shown.iloc[:, 0]) == list(table["role"])  # role names are identifiers


def test_policy_table_shows_headers_policy_kinds_and_star_reasons_in_japanese():
    table = iam.policy_table(SPEC)
    assert_all_headers_japanese(table)
    shown = localize(table, "ja")
    assert set(shown.iloc[:, 1]) == {tr("trust", "ja"), tr("permissions", "ja")}
    star = shown[table.resource == "*"].iloc[:, 7]
    assert len(star) == len(iam.STAR_REASONS) and all(japanese(r) for r in star)
    assert set(shown.iloc[:, 4]) == set(table.action)  # IAM actions stay


def test_broad_comparison_shows_every_kit_text_in_japanese():
    table = iam.compare_with_broad(SPEC)
    assert_all_headers_japanese(table)
    with use_language("ja"):
        built = iam.compare_with_broad(SPEC)  # texts with fields are translated where they are built
    shown = localize(built, "ja")
    for column in ("extra_grant_allows", "why_not_needed"):
        texts = shown.iloc[:, list(table.columns).index(column)]
        assert all(japanese(t) for t in texts), [t for t in texts if not japanese(t)]
    assert list(built.action) == list(table.action)


def test_lint_table_shows_accepted_reasons_in_japanese_and_parliaments_text_as_it_is():
    permissions = iam.policies_for(SPEC)[SPEC.sfn_role].permissions
    english = iam.lint_table(permissions, include_accepted=True)
    assert len(english) == 3 and all(not japanese(r) for r in english.accepted)
    assert_all_headers_japanese(english)
    with use_language("ja"):
        table = iam.lint_table(permissions, include_accepted=True)
    assert all(japanese(r) for r in table.accepted)
    assert " / " in "".join(english.accepted) and " / " in "".join(table.accepted)  # both reasons of a shared one
    assert all(japanese(tr(reason, "ja")) for reason in iam.ACCEPTED_FINDINGS.values())
    broad = iam.lint_table(iam.broad_policy(SPEC))
    unknown = broad[broad.issue == "UNKNOWN_CONDITION_FOR_ACTION"].detail
    assert len(unknown) and all(d.startswith("Unknown condition ") for d in localize(unknown, "ja"))


def test_simulated_calls_show_labels_and_headers_in_japanese_and_decisions_as_iam_says(offline_iam):  # noqa: F811
    matrix = iam.simulate_roles(offline_iam, SPEC)
    assert_all_headers_japanese(matrix)
    shown = localize(matrix, "ja")
    labels = shown.iloc[:, list(matrix.columns).index("label")]
    assert all(japanese(label) for label in labels), [x for x in labels if not japanese(x)]
    assert set(shown.iloc[:, list(matrix.columns).index("decision")]) <= AWS_VALUES
    both = iam.simulate_against_broad(offline_iam, SPEC)
    assert list(both.columns) == ["call", "action", "ours", "broad"]
    assert_all_headers_japanese(both)
    assert all(japanese(c) for c in localize(both, "ja").iloc[:, 0])
    assert (both.ours != both.broad).sum() >= 8  # the broad policy allows too much and forgets calls


def drill_round(failed: bool) -> Drill:
    grant = iam.grants(SPEC)[0]
    error, cause = (
        ("ECS.AccessDeniedException", "User: x is not authorized to perform: ecs:RunTask")
        if failed
        else (
            "",
            "",
        )
    )
    with use_language("ja"):
        cause = cause or tr("the task ran and exited {exit_code}", exit_code=0)
        diagnosis = diagnose_task(None, error=error, cause=cause) if failed else None
    return Drill(grant, "StartExecution", failed, error, cause, diagnosis, True)


def test_the_drill_shows_its_rows_in_japanese_and_aws_message_as_it_is():
    round_ = drill_round(failed=True)
    frame = round_.to_frame()
    assert list(frame.columns) == ["what", "value"] and "removed" in set(frame.what)  # English for code
    with use_language("ja"):
        page = round_._repr_html_()
        removed = round_.to_frame().iloc[0, 1]
    headers = re.findall(r"<th[^>]*>(.*?)</th>", page)
    assert headers and all(japanese(h) for h in headers)
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>", page)
    assert len(rows) == 8 and all(japanese(r) for r in rows)
    assert "User: x is not authorized to perform: ecs:RunTask" in page  # AWS's message stays
    assert japanese(removed) and round_.grant.action in removed and round_.grant.role in removed


def test_the_drill_says_nothing_failed_in_japanese():
    round_ = drill_round(failed=False)
    with use_language("ja"):
        page = round_._repr_html_()
    note = re.search(r"<p>(.*?)</p>", page)
    assert note and japanese(note.group(1)) and "0" in note.group(1)
    assert "Nothing failed" in round_._repr_html_()  # English by default
