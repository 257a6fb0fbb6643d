"""Lesson 05's library text in Japanese: image inspection tables, the ELF demo, the diagnosis's evidence, the
CLI's tables and lines, the export runbook's lines. Each test fails if its text fell back to English under
Japanese, and the English stays as it was (tables keep English labels; data stays data)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sfnecs import images
from sfnecs.cli import main
from sfnecs.cli.tables import show, table_text
from sfnecs.deploy.lines import spec_line
from sfnecs.diagnose import diagnose_task
from sfnecs.export.files import Export
from sfnecs.i18n import localize, use_language
from sfnecs.images.elf import reproduce_exec_format_error
from sfnecs.model.spec import StackSpec

KANA = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
LOGS = ["exec /app/job: exec format error"]


def _japanese(text: object) -> bool:
    return isinstance(text, str) and bool(KANA.search(text))


@pytest.fixture(scope="module")
def arm64_tarball(tmp_path_factory) -> Path:
    return images.build_fixture_image(tmp_path_factory.mktemp("img") / "app.tar", "arm64", fmt="docker-save")


def test_image_platforms_table_keeps_english_labels_and_shows_japanese(arm64_tarball):
    with use_language("ja"):
        found = images.local_platforms(arm64_tarball)
        frame = found.to_frame()
        shown = localize(frame)
        html = found._repr_html_()
    assert list(frame.columns) == ["source", "kind", "platform", "ecs_cpu_architecture", "detail"]  # selectable
    assert list(frame["kind"]) == ["platform", "binary"]
    assert all(_japanese(c) for c in shown.columns), list(shown.columns)
    assert list(shown.columns[1:]) == ["種類", "プラットフォーム", "ECS の CPU アーキテクチャ", "詳細"]
    assert list(shown["種類"]) == ["プラットフォーム", "バイナリ"]
    assert shown["詳細"][0] == "イメージの config"
    # the binary's detail is built from values: Japanese words around the path and file(1)-style ELF name
    assert shown["詳細"][1] == "[ラベル linux/arm64/v8] /app/job: /app/job は ELF 64-bit LSB, ARM AArch64 (arm64)"
    assert "<th>種類</th>" in html and "単一プラットフォームのイメージ" in html and "<th>kind</th>" not in html
    english = images.local_platforms(arm64_tarball).to_frame()
    assert english["detail"][1] == "[labelled linux/arm64/v8] /app/job: /app/job is ELF 64-bit LSB, ARM AArch64 (arm64)"


def test_attestation_note_and_disagreements_in_japanese(tmp_path):
    indexed = images.build_fixture_image(tmp_path / "idx", "arm64", attestation=True)
    liar = images.build_fixture_image(tmp_path / "liar", "amd64", label_architecture="arm64")
    with use_language("ja"):
        note = images.local_platforms(indexed).notes
        lies = images.local_platforms(liar, inspect_binary=True)
        shown = localize(lies.to_frame())
    assert note == (
        "構成証明 (attestation) マニフェスト 1 個を読み飛ばしました (プラットフォーム unknown/unknown): "
        "BuildKit が既定で追加するもので、これがあると 1 プラットフォームだけのビルドもインデックスになります",
    )
    said = "ラベルは linux/arm64/v8 ですが、/app/job は ELF 64-bit LSB, AMD x86-64 (amd64) です"
    assert lies.disagreements == (said,)
    assert "不一致" in set(shown["種類"])
    assert images.local_platforms(indexed).notes[0].startswith("skipped 1 attestation manifest(s)")  # English default


def test_the_elf_demo_speaks_japanese_around_the_kernels_own_words():
    with use_language("ja"):
        repro = reproduce_exec_format_error()
        summary, html, shown = repro.summary(), repro._repr_html_(), localize(repro.to_frame())
    assert list(repro.to_frame().columns) == ["binary", "elf", "outcome"]
    assert list(shown.columns) == ["バイナリ", "ELF ヘッダー", "結果"]
    assert shown["バイナリ"][0] == f"{repro.foreign_architecture} 用の最小の ELF"
    if repro.refused:  # the kernel's and Python's text stay as they are: errno 8's message, the runtime's line
        assert summary.startswith("カーネルはこの") and "Exec format error" in summary
        assert "exec /app/job: exec format error" in summary
    assert "<th>結果</th>" in html and _japanese(html.split("<table")[0])


def test_a_script_without_shebang_is_told_apart_in_japanese_too(tmp_path):
    """The check is structural (BinaryInfo.refused_on_every_cpu), not a match on the English reason."""
    script = images.build_fixture_image(tmp_path / "script", layers=[{"/app/job": "python3 job.py\n"}])
    for lang in ("en", "ja"):
        with use_language(lang):
            found = diagnose_task(None, logs=LOGS, image=images.local_platforms(script))
        assert found.category == "entrypoint_not_executable", (lang, found)
    with use_language("ja"):
        reason = images.local_platforms(script, inspect_binary=True).binary.cannot_tell
    assert reason.startswith("/app/job は ELF 実行可能ファイルでも #! スクリプトでもありません")


def test_diagnosis_evidence_stays_data_and_shows_the_kits_note_translated(arm64_tarball):
    image = images.local_platforms(arm64_tarball, inspect_binary=True)
    english = diagnose_task(None, logs=LOGS, image=image, cpu_architecture="X86_64")
    with use_language("ja"):
        found = diagnose_task(None, logs=LOGS, image=image, cpu_architecture="X86_64")
        html, table = found._repr_html_(), found.to_frame()
    assert ("task cpuArchitecture", "X86_64 (given)") in english.evidence
    assert ("task cpuArchitecture", "X86_64 (given)") in found.evidence  # the data is the same in both languages
    assert "X86_64 (指定値)" in html and "X86_64 (given)" not in html
    assert "X86_64 (指定値)" in set(table["詳細"])


def test_cli_tables_are_localized_and_line_up(capsys):
    import pandas as pd

    frame = pd.DataFrame({"detail": ["イメージの config", "x"], "source": ["a", "b"]})
    with use_language("ja"):
        text = table_text(frame)
        show(frame.iloc[0:0])  # what the CLI prints for an empty table
        empty = capsys.readouterr().out.strip()
    head, first, second = text.splitlines()
    assert head.split() == ["詳細", "ソース"] and empty == "(なし)"
    # wide characters count two columns: the second column starts at the same screen column on every line
    from unicodedata import east_asian_width

    def column(line: str, ch: str) -> int:
        return sum(2 if east_asian_width(c) in "WF" else 1 for c in line[: line.rindex(ch)])

    assert column(head, "ソ") <= column(first, "a") + 2 and column(first, "a") == column(second, "b")
    assert table_text(frame).splitlines()[0].split() == ["detail", "source"]


def test_export_lines_in_japanese(tmp_path):
    spec = StackSpec("demo", subnets=("subnet-0123abcd", "subnet-4567cdef"))
    written = Export("terraform", tmp_path, ("main.tf",), "terraform init && terraform plan")
    with use_language("ja"):
        line, then = spec_line(spec), str(written).splitlines()[-1]
    assert line == "スタック demo: パターン B、X86_64、サブネット subnet-0123abcd, subnet-4567cdef"
    assert then == f"次は {tmp_path} で: terraform init && terraform plan"
    assert spec_line(spec) == "stack demo: pattern B, X86_64; subnets subnet-0123abcd, subnet-4567cdef"


def _cli(monkeypatch, capsys, lang: str | None, *argv: str) -> tuple[int, str]:
    for name in ("SFNECS_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    if lang:
        monkeypatch.setenv("SFNECS_LANG", lang)
    code = main(list(argv))
    return code, capsys.readouterr().out


@pytest.mark.sandbox
def test_the_cli_prints_japanese_table_headers_with_sfnecs_lang(target, monkeypatch, capsys):
    quiet = ["--schedule", "cron(0 3 * * ? *)"]
    code, out = _cli(monkeypatch, capsys, "ja", "verify", "--stack", "cli-ja-none", *quiet)
    header = out.splitlines()[0]
    assert code == 1 and "詳細" in header.split() and "detail" not in header.split()  # nothing deployed: fails
    code, english = _cli(monkeypatch, capsys, None, "verify", "--stack", "cli-ja-none", *quiet)
    assert code == 1 and "detail" in english.splitlines()[0].split()
    code, out = _cli(monkeypatch, capsys, "ja", "teardown", "--stack", "cli-ja-none", *quiet)
    assert code == 0 and out.splitlines()[:2] == [
        "(なし)",
        "何も削除していません: これらのリソースを削除するには --confirm を付けて再実行してください",
    ]


@pytest.mark.sandbox
def test_the_cli_export_says_its_next_step_in_japanese(target, tmp_path, monkeypatch, capsys):
    out = tmp_path / "tf"
    argv = ["export", "--stack", "demo", "--format", "terraform", "--out", str(out), "--schedule", "cron(0 3 * * ? *)"]
    code, printed = _cli(monkeypatch, capsys, "ja", *argv)
    assert code == 0 and printed.splitlines()[-1] == f"次は {out} で: terraform init && terraform plan"


@pytest.mark.sandbox
@pytest.mark.slow
def test_the_export_runbook_with_lang_ja_prints_japanese(tmp_path, monkeypatch):
    """Through the runner and its own sandbox, as `sfnecs runbook run export -p lang ja` runs it."""
    import json

    import nbformat

    from sfnecs.ops import runbook
    from sfnecs.sandbox import process

    monkeypatch.setenv("SFNECS_HOME", str(tmp_path / "home"))
    out = tmp_path / "cfn"
    params = {"stack": "rbja", "format": "cloudformation", "out": str(out), "subnets": ["subnet-0a1b2c3d"]}
    try:
        done = runbook.run("export", {**params, "pattern": "A", "lang": "ja"}, output_dir=tmp_path / "runs")
    finally:
        if process.read_state():  # the runner started a background sandbox for target=sandbox
            process.stop()
    assert done.ok, done.error
    executed = nbformat.read(done.notebook, as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert "スタック rbja: パターン A、X86_64、サブネット subnet-0a1b2c3d" in printed
    assert f"次は {out} で: aws cloudformation create-stack" in printed
    assert json.loads(Path(done.result_path).read_text())["result"]["format"] == "cloudformation"


def test_console_links_are_named_in_japanese():
    from sfnecs.model.console import links_markdown

    links = {"execution": "https://e", "task": "https://t", "log_stream": "https://l"}
    with use_language("ja"):
        shown, empty = links_markdown(links), links_markdown({})
    assert (
        shown
        == "**AWS コンソールで見る:**\n\n- 実行: [https://e](https://e)\n- タスク: [https://t](https://t)\n"
        + ("- ログストリーム: [https://l](https://l)")
    )
    assert empty.startswith("**AWS コンソールで見る:** コンソールへのリンクはありません")
    assert links_markdown(links).startswith("**In the AWS console:**\n\n- execution: [https://e]")
