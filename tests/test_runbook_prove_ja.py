"""The prove runbook with lang=ja: its summary line and its tables read in Japanese.

One chain in the sandbox (deploy -> prove -> teardown, each with lang=ja); the executed prove notebook's
outputs are read back. Path names stay the result's keys; AWS names (SUCCEEDED, CAUGHT_ERROR) stay.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from tests.test_runbooks import home  # noqa: F401 - the fixture: an SFNECS_HOME of the test's own

from sfnecs.ops import chain


@pytest.mark.sandbox
def test_the_prove_runbook_with_lang_ja_speaks_japanese(home, tmp_path):  # noqa: F811 - home is the fixture
    common = {"stack": "japrove", "target": "sandbox", "lang": "ja"}
    steps = [
        chain.Step("deploy", {**common, **chain.DEMO_SCHEDULE, "sample_image": "amd64"}),
        chain.Step("prove", common),
        chain.Step("teardown", {**common, "delete_logs": True, "delete_images": True}),
    ]
    report = chain.run_chain(steps, tmp_path / "runs")
    assert report.ok, report.table()
    prove = report.outcomes[1].result
    cells = [c for c in nbformat.read(prove.notebook, as_version=4).cells if c.cell_type == "code"]
    outputs = [o for c in cells for o in c.outputs]
    printed = "".join(o.get("text", "") for o in outputs)
    html = "".join("".join(o.get("data", {}).get("text/html", "")) for o in outputs)
    assert re.search(r"japrove \(JSONata、sandbox\): (\d+)/\1 経路を証明、", printed), printed
    headers = set(re.findall(r"<th(?:\s[^>]*)?>(.*?)</th>", html, re.S))
    assert {"証明する内容", "ステップ数", "証明済み", "経路", "ステート", "期待値", "結果"} <= headers, headers
    assert not headers & {"path", "proves", "steps", "proven", "state", "expected", "got", "why"}
    assert "<th>ガード: スキップ</th>" in html and "CAUGHT_ERROR -&gt; NotifyFailure" in html
    assert prove.result["ok"] is True  # the saved result keeps the path names in English (keys to select by)
    assert "guard: skip" in {step["path"] for step in prove.result["steps"]}
