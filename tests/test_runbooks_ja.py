"""The deploy, run_now, audit and teardown runbooks with lang=ja: what they print and show reads in Japanese.

One chain in the sandbox (deploy -> run_now -> audit -> teardown, each with lang=ja); the executed notebooks'
outputs are read back. AWS names (SUCCEEDED, ARNs, AWS::... types, stoppedReason) stay as AWS writes them.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from tests.test_runbooks import home  # noqa: F401 (the fixture: an SFNECS_HOME of the test's own)

from sfnecs.ops import chain


def shown(notebook: str) -> tuple[str, str]:
    """(printed text, rich HTML) of an executed notebook's code cells."""
    cells = [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    outputs = [o for c in cells for o in c.outputs]
    printed = "".join(o.get("text", "") for o in outputs)
    html = "".join("".join(o.get("data", {}).get("text/html", "")) for o in outputs)
    return printed, html


@pytest.mark.sandbox
@pytest.mark.usefixtures("home")
def test_deploy_run_now_and_teardown_with_lang_ja_speak_japanese(tmp_path):
    common = {"stack": "jarb", "target": "sandbox", "lang": "ja"}
    steps = [
        chain.Step("deploy", {**common, **chain.DEMO_SCHEDULE, "sample_image": "amd64"}),
        chain.Step("run_now", common),
        chain.Step("audit", common),
        chain.Step("teardown", {**common, "delete_logs": True, "delete_images": True}),
    ]
    report = chain.run_chain(steps, tmp_path / "runs")
    assert report.ok, report.table()
    deploy, run_now, audit, teardown = (o.result for o in report.outcomes)

    printed, html = shown(deploy.notebook)
    assert "スタック jarb: パターン B、X86_64、sandbox の us-east-1 (アカウント " in printed
    header = next(line for line in printed.splitlines() if "リソース" in line)
    assert header.split() == ["リソース", "タイプ", "アクション", "理由"]
    assert "存在しない" in printed and "does not exist" not in printed
    assert "19 個のリソースを変更しました。イメージ " in printed
    assert "<th>チェック</th>" in html and "スタック <b>jarb</b>: すべてのチェックに合格" in html
    assert "<td>クラスターが存在する</td>" in html and "<td>合格</td>" in html
    assert not re.search(r"<th>(check|resource|status|detail|fix|reason|action)</th>", html)
    assert deploy.result["plan"] == {"create": 19}  # the saved result keeps its English keys

    printed, _ = shown(run_now.notebook)
    assert "スタック jarb: パターン B、X86_64、イメージ " in printed
    assert "SUCCEEDED: 終了コード 0、Essential container in task exited" in printed
    assert "missing from font" not in printed  # the timeline's Japanese title drew with a CJK font
    printed, _ = shown(audit.notebook)
    assert "missing from font" not in printed  # so did the audit's plot (prepare_plot_text in the runbook)
    assert audit.result["flags"] == [] and "指摘事項はありません" in printed

    printed, _ = shown(teardown.notebook)
    assert printed.splitlines()[0].split() == ["リソース", "タイプ", "アクション", "理由"]
    assert "このスタックのタグ付き" in printed
    assert f"{len(teardown.result['deleted'])} 個のリソースを削除しました" in printed
