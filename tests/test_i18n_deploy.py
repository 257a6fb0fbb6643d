"""Deploy's tables in Japanese: plan, apply, verify and teardown, shown through sfnecs.i18n.localize.

The frames keep their English (lessons select columns and actions by English name); what a person sees,
the rich display (`_repr_html_`) and a localized frame, is Japanese under use_language("ja").
"""

from __future__ import annotations

import re

import pytest
from tests.test_stack import make_spec

from sfnecs.deploy import stack
from sfnecs.i18n import localize, use_language
from sfnecs.images.sample import push_sample_image

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
PLAN_HEADERS = ["リソース", "タイプ", "アクション", "理由", "差分"]
VERIFY_HEADERS = ["チェック", "リソース", "ステータス", "詳細", "対処"]


def headers(html: str) -> list[str]:
    return re.findall(r"<th>(.*?)</th>", html)


@pytest.fixture(scope="module")
def spec(target):
    spec = make_spec(target, "i18n-deploy")
    yield spec
    stack.teardown(target, spec, delete_logs=True, delete_images=True)


def test_a_plan_shows_japanese_headers_and_reasons_and_keeps_english_data(target, spec) -> None:
    plan = stack.plan(target, spec)
    frame = plan.to_frame()
    assert list(frame.columns) == ["resource", "type", "action", "reason", "diff"]
    assert set(frame["reason"]) == {"does not exist"} and set(frame["action"]) == {"create"}
    shown = localize(frame, "ja")
    assert list(shown.columns) == PLAN_HEADERS
    assert set(shown["理由"]) == {"存在しない"}
    assert set(shown["アクション"]) == {"create"}  # actions stay as the lessons write them (`create`, `no-op`)
    with use_language("ja"):
        html = plan._repr_html_()
    assert headers(html) == PLAN_HEADERS
    assert f"スタック <b>{spec.name}</b>: {len(frame)} 個のリソースが変更されます" in html
    assert "does not exist" not in html
    with use_language("en"):
        assert headers(plan._repr_html_()) == ["resource", "type", "action", "reason", "diff"]


def test_apply_and_verify_render_in_japanese(target, spec) -> None:
    with use_language("ja"):
        applied = stack.apply(target, spec)
        html = applied._repr_html_()
        assert headers(html) == [*PLAN_HEADERS, "完了"]
        assert "個のリソースを変更しました" in html
        push_sample_image(target, spec.repository, "amd64")
        verification = stack.verify(target, spec)
        html = verification._repr_html_()
    assert headers(html) == VERIFY_HEADERS
    assert f"スタック <b>{spec.name}</b>: すべてのチェックに合格" in html
    for check in (
        "クラスターが存在する",
        "ロールがサービスに信頼されている",
        "ロググループが存在する",
        "スケジュール式が有効",
    ):
        assert f"<td>{check}</td>" in html
    assert "<td>合格</td>" in html and "<td>pass</td>" not in html
    # text made with values is Japanese where it is built; the data's statuses stay English
    trusted = [c for c in verification.checks if c.check == "role trusted by service"]
    assert trusted and all(c.detail.endswith("が引き受けられる") for c in trusted)
    schedule = next(c for c in verification.checks if c.check == "schedule expression valid")
    assert schedule.detail.startswith(f"毎日 03:00 ({spec.timezone})。次回: ")
    assert verification.ok and {c.status for c in verification.checks} <= {"pass", "skip"}
    # every check's name, status and fixed detail shown is Japanese (values such as ARNs aside)
    shown = localize(verification.to_frame(), "ja")
    assert all(JAPANESE.search(name) for name in shown["チェック"])
    assert set(shown["ステータス"]) <= {"合格", "スキップ"}


def test_a_second_plan_and_a_teardown_read_japanese_and_kept_still_works(target, spec) -> None:
    with use_language("ja"):
        again = stack.plan(target, spec)
        dry = stack.teardown(target, spec, dry_run=True)
        html = dry._repr_html_()
    assert set(localize(again.to_frame(), "ja")["理由"]) == {"最新"}
    kept = dry.kept  # found by its flag, not by its (now Japanese) reason
    assert {c.resource for c in kept} >= {spec.log_group, spec.repository}
    assert all(c.reason.startswith("残す: ") and "delete_" in c.reason for c in kept)
    assert "このスタックのタグ付き" in html and "tagged for this stack" not in html
    assert headers(html) == PLAN_HEADERS  # a dry run has no `done` column


def test_a_failing_verify_names_the_fix_in_japanese(target) -> None:
    missing = make_spec(target, "i18n-absent")
    with use_language("ja"):
        verification = stack.verify(target, missing)
        html = verification._repr_html_()
    assert not verification.ok
    assert re.search(r"スタック <b>i18n-absent</b>: \d+ 個のチェックが不合格", html)
    cluster = localize(verification.to_frame(), "ja").iloc[0]
    assert cluster["チェック"] == "クラスターが存在する" and cluster["ステータス"] == "不合格"
    assert cluster["詳細"] == "その名前の ACTIVE なクラスターがない"
    assert cluster["対処"].startswith("スタックを適用する")


def test_the_runbooks_lines_read_in_each_language() -> None:
    """sfnecs.deploy.lines: what the deploy, run_now and teardown runbooks print, English by default."""
    import pandas as pd

    from sfnecs.deploy import lines
    from sfnecs.model import StackSpec

    class Where:  # the three fields a line names (a Target)
        name, region, account = "sandbox", "us-east-1", "123456789012"

    spec = StackSpec("demo", subnets=("subnet-0123abcd",), assign_public_ip=True)
    plan = pd.DataFrame(
        [
            {
                "resource": "demo",
                "type": "AWS::ECS::Cluster",
                "action": "update",
                "reason": "up to date",
                "diff": "a: 1 -> 2",
            }
        ]
    )
    english = [
        lines.deploy_line(Where(), spec),
        lines.outcome_line("FAILED", 1, "Essential container in task exited"),
        lines.applied_line(None, "img"),
        lines.teardown_line(3),
        lines.assumption_lines(["each run lasts 300 s"]),
        lines.table_lines(plan.iloc[:0]),
        lines.flag_lines([]),
    ]
    assert english == [
        "stack demo: pattern B, X86_64, on sandbox us-east-1 (account 123456789012); subnets subnet-0123abcd, "
        "public IP True",
        "FAILED: exit code 1, Essential container in task exited",
        "dry run: nothing changed",
        "3 resource(s) deleted",
        "assumes each run lasts 300 s",
        "nothing to delete",
        "nothing to flag",
    ]
    with use_language("ja"):
        assert lines.deploy_line(Where(), spec) == (
            "スタック demo: パターン B、X86_64、sandbox の us-east-1 (アカウント 123456789012)、サブネット "
            "subnet-0123abcd、パブリック IP True"
        )
        assert lines.image_line(spec).startswith("スタック demo: パターン B、X86_64、イメージ ")
        assert lines.outcome_line("FAILED", 1, "Essential container in task exited") == (
            "FAILED: 終了コード 1、Essential container in task exited"  # AWS's stoppedReason stays as AWS writes it
        )
        assert lines.timeline_title(spec, 4) == "スタック demo: 直近 4 回の実行"
        assert lines.applied_line(2, "img") == "2 個のリソースを変更しました。イメージ img"
        assert lines.teardown_line(None) == "ドライラン: 何も削除していません"
        assert lines.assumption_lines(["x", "y"]) == "前提: x\n前提: y"
        assert lines.flag_lines([]) == "指摘事項はありません" and lines.flag_lines(["a", "b"]) == "a\nb"
        text = lines.table_lines(plan, diffs=True)
    head, row, _, diff = text.splitlines()
    assert head.split() == ["リソース", "タイプ", "アクション", "理由"] and row.split()[-1] == "最新"
    assert diff == "demo: a: 1 -> 2"


def test_deploys_refusals_name_the_fix_in_japanese() -> None:
    from sfnecs.deploy.job_settings import split_pairs
    from sfnecs.deploy.target import connect
    from sfnecs.exceptions import ValidationError

    with use_language("ja"):
        with pytest.raises(ValidationError) as bad_pair:
            split_pairs("environment", ["LEVEL"])
        with pytest.raises(ValidationError) as bad_target:
            connect("mars")
    assert str(bad_pair.value).startswith("environment='LEVEL' は無効です: NAME=VALUE。例: LEVEL=info")
    assert str(bad_target.value) == "target='mars' は無効です: sandbox または aws を指定してください"
    with pytest.raises(ValidationError, match="target='mars' is not valid: use sandbox or aws"):
        connect("mars")
