"""sfnecs.i18n: the language setting, the library's catalog (complete, current, its fields kept), the glossary
on every catalog, Japanese diagnoses and validation errors, and a real CJK font for plot text."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import pytest

from sfnecs.checks import check_choice, check_int, check_name
from sfnecs.diagnose import diagnose_task
from sfnecs.exceptions import ValidationError
from sfnecs.i18n import (
    current_language,
    glossary,
    glossary_problems,
    language_from_environment,
    missing_glyphs,
    set_language,
    tr,
    use_cjk_font,
    use_language,
)
from sfnecs.i18n.catalog import catalog_path, translations
from sfnecs.i18n.extract import lesson_sources, library_sources
from sfnecs.i18n.pofiles import read_catalog, translated

ROOT = Path(__file__).resolve().parent.parent
KANA = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")  # kana and kanji
FIELDS = re.compile(r"\{(\w*)[^{}]*\}")

# the exec format error case: an arm64 image on an X86_64 task (as the sandbox reports it)
TASK = {
    "stopCode": "EssentialContainerExited",
    "stoppedReason": "Essential container in task exited",
    "containers": [{"name": "job", "exitCode": 1, "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/demo:latest"}],
}
LOGS = ["exec /app/run: exec format error"]


@pytest.mark.parametrize(
    "environ, lang",
    [
        ({}, "en"),
        ({"LANG": "ja_JP.UTF-8"}, "ja"),
        ({"LANG": "ja_JP.UTF-8", "LC_ALL": "C"}, "en"),  # LC_ALL first, as in POSIX
        ({"LC_MESSAGES": "ja_JP"}, "ja"),
        ({"LANG": "de_DE.UTF-8"}, "en"),  # a language the kit does not speak: English
        ({"SFNECS_LANG": "ja", "LANG": "en_US.UTF-8"}, "ja"),  # SFNECS_LANG wins
    ],
)
def test_the_language_comes_from_sfnecs_lang_then_the_locale(environ, lang):
    assert language_from_environment(environ) == lang


def test_a_bad_language_is_refused_with_what_is_allowed(monkeypatch):
    with pytest.raises(ValueError, match=r"SFNECS_LANG='fr' is not valid: use en or ja"):
        language_from_environment({"SFNECS_LANG": "fr"})
    with pytest.raises(ValueError, match=r"lang='jp' is not valid: use en or ja"):
        set_language("jp")
    monkeypatch.setenv("SFNECS_LANG", "ja")
    assert current_language() == "ja"
    with use_language("en"):
        assert current_language() == "en" and tr("Fix") == "Fix"
    assert tr("Fix") == "対処"


def test_english_is_the_default_and_untranslated_text_stays_english():
    with use_language("en"):
        assert tr("use {choices}", choices="a or b") == "use a or b"
    with use_language("ja"):
        assert tr("a text no catalog has: {x}", x=1) == "a text no catalog has: 1"


def test_the_library_catalog_is_current_complete_and_keeps_its_fields():
    """Every text marked in the code (tr, N_) has a Japanese entry, not fuzzy, with the same {fields};
    `python -m sfnecs.i18n.extract` rewrites the catalog when this fails on new or changed texts."""
    catalog = read_catalog(catalog_path("ja"))
    marked = {s.msgid for s in library_sources()} | {s.msgid for s in lesson_sources()}
    in_catalog = {m.id for m in catalog if m.id}
    assert marked == in_catalog, (
        f"run python -m sfnecs.i18n.extract: new {marked - in_catalog}, gone {in_catalog - marked}"
    )
    done = {msgid: string for msgid, string, _ in translated(catalog)}
    assert sorted(marked - set(done)) == [], "untranslated or fuzzy in lib/sfnecs/i18n/locale/ja.po"
    for msgid, string in done.items():
        assert sorted(FIELDS.findall(msgid)) == sorted(FIELDS.findall(string)), msgid
        assert string.format(**dict.fromkeys(FIELDS.findall(msgid), 1.5))  # fills without error (number formats too)


def _catalogs() -> list[Path]:
    return [catalog_path("ja"), *sorted((ROOT / "notebooks" / "locale" / "ja").glob("*.po")),
            *sorted((ROOT / "tests" / "editions_fixture" / "locale" / "ja").glob("*.po"))]  # fmt: skip


@pytest.mark.parametrize("path", _catalogs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_catalog_uses_the_glossary(path):
    entries = [(msgid, string) for msgid, string, _ in translated(read_catalog(path))]
    assert entries and glossary_problems(entries) == []


def test_the_glossary_check_fails_on_a_term_translated_another_way():
    assert glossary_problems([("Update the task definition.", "タスクの定義を更新します。")]) == [
        "'task definition' -> 'タスク定義' missing in the translation of 'Update the task definition.'"
    ]
    # code spans, fields and links stay as written: no term is looked for in them
    assert (
        glossary_problems([("Set `taskDefinition` for {image}.", "`taskDefinition` を {image} に設定します。")]) == []
    )
    assert glossary_problems([("The task's retries.", "タスクの再試行。")]) == []  # plurals and possessives


def test_glossary_terms_cite_aws_japanese_pages_and_are_unique():
    terms = glossary()
    assert len({t.en.lower() for t in terms}) == len(terms) >= 20
    assert all(t.source.startswith("https://docs.aws.amazon.com/ja_jp/") and KANA.search(t.ja) for t in terms)
    by_en = {t.en: t.ja for t in terms}
    assert by_en["state machine"] == "ステートマシン" and by_en["capacity provider"] == "キャパシティープロバイダー"
    assert by_en["task execution role"] == "タスク実行ロール" and by_en["task definition"] == "タスク定義"


def test_validation_errors_in_japanese_keep_parameter_and_value():
    with use_language("ja"):
        with pytest.raises(ValidationError) as caught:
            check_choice("target", "mars", ("sandbox", "aws"))
        assert str(caught.value) == "target='mars' は無効です: sandbox または aws を指定してください"
        with pytest.raises(ValidationError, match=r"^limit=0 は無効です: 1 から 1000 までの整数$"):
            check_int("limit", 0, 1, 1000)
        with pytest.raises(ValidationError, match=r"^stack='Bad' は無効です: 2～32 文字"):
            check_name("stack", "Bad", "stack")
    with pytest.raises(ValidationError, match=r"^target='mars' is not valid: use sandbox or aws$"):
        check_choice("target", "mars", ("sandbox", "aws"))


def test_the_exec_format_error_diagnosis_in_japanese():
    english = diagnose_task(TASK, logs=LOGS, cpu_architecture="X86_64")
    with use_language("ja"):
        found = diagnose_task(TASK, logs=LOGS, cpu_architecture="X86_64")
        verdict, html = found.verdict, found._repr_html_()
    assert (found.category, found.confidence, found.evidence) == (
        english.category,
        english.confidence,
        english.evidence,
    )
    assert verdict == "アーキテクチャの不一致 (確信度: 高)"
    assert found.summary.startswith("この X86_64 のタスクで、カーネルがコンテナのエントリポイントの実行を拒否しました")
    assert "exec format error" in found.summary and "--platform" in found.summary  # AWS and tool names stay
    assert "タスク定義のランタイムプラットフォーム" in found.fix and '"cpuArchitecture": "ARM64"' in found.fix
    assert "docker buildx build --platform linux/amd64" in found.fix  # commands stay as typed
    assert "判定:" in html and "<th>証拠</th>" in html and "対処" in html
    assert english.verdict == "architecture mismatch (high confidence)" and not KANA.search(english.fix)


def test_a_japanese_plot_label_renders_with_a_cjk_font():
    """Fails when Japanese text would fall back to a font without its glyphs (missing-glyph boxes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    label = "ステートマシンの実行時間 (分)"
    with matplotlib.rc_context({"font.family": ["sans-serif"], "font.sans-serif": ["DejaVu Sans"]}):
        assert missing_glyphs(label) == "ステートマシンの実行時間分"  # the check sees what DejaVu Sans lacks
        family = use_cjk_font()
        assert family == "Noto Sans CJK JP" and missing_glyphs(label) == ""
        fig, ax = plt.subplots()
        try:
            ax.set_title(label)
            ax.set_xlabel("タスク定義 (X86_64)")
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)" when drawing
                fig.canvas.draw()
        finally:
            plt.close(fig)


def test_bold_japanese_text_finds_the_bold_cjk_face(caplog):
    """Fails when bold text (a panel's name) falls back to the regular face: matplotlib logs
    "findfont: Failed to find font weight bold" (Debian ships Noto Sans CJK's bold as its own .ttc)."""
    import logging

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    family = use_cjk_font()
    with caplog.at_level(logging.WARNING, logger="matplotlib.font_manager"):
        bold = font_manager.findfont(font_manager.FontProperties(family=family, weight="bold"))
        fig = Figure()
        fig.add_subplot().set_ylabel("重なりガード", fontweight="bold")
        fig.canvas.draw()
    assert bold.endswith("NotoSansCJK-Bold.ttc")
    assert not [r for r in caplog.records if "Failed to find font weight" in r.getMessage()]


def test_translations_skip_fuzzy_entries(tmp_path, monkeypatch):
    from babel.messages.catalog import Catalog

    from sfnecs.i18n import catalog as catalog_module
    from sfnecs.i18n.pofiles import write_catalog

    po = Catalog(locale="ja")
    po.add("stale text", "古い訳", flags={"fuzzy"})
    po.add("current text", "今の訳")
    write_catalog(po, tmp_path / "ja.po")
    monkeypatch.setattr(catalog_module, "LOCALE", tmp_path)
    translations.cache_clear()
    try:
        assert translations("ja") == {"current text": "今の訳"}
    finally:
        translations.cache_clear()


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"SFNECS_LANG": "ja"}, "sfnecs: error: target='mars' は無効です: sandbox または aws を指定してください"),
        ({"LANG": "ja_JP.UTF-8"}, "sfnecs: error: target='mars' は無効です: sandbox または aws を指定してください"),
        ({}, "sfnecs: error: target='mars' is not valid: use sandbox or aws"),
        ({"SFNECS_LANG": "fr"}, "sfnecs: error: SFNECS_LANG='fr' is not valid: use en or ja"),
    ],
)
def test_the_cli_speaks_sfnecs_lang_or_the_locale(environ, message, monkeypatch, capsys, tmp_path):
    from sfnecs import cli

    for name in ("SFNECS_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("papermill.execute_notebook", lambda *a, **k: pytest.fail("a kernel started"))
    code = cli.main(["runbook", "run", "diagnose", "-p", "target", "mars", "--output", str(tmp_path / "runs")])
    assert code == 2 and capsys.readouterr().err == message + "\n"


def test_the_japanese_readme_gives_the_two_commands_and_the_readmes_link_each_other():
    english, japanese = (ROOT / "README.md").read_text(), (ROOT / "README.ja.md").read_text()
    for command in ("make demo", "make test"):
        assert f"\n{command}   #" in english and f"\n{command}   #" in japanese
    assert "[日本語](README.ja.md)" in english and "[English](README.md)" in japanese
    assert "[docs/editions.md](docs/editions.md)" in japanese and (ROOT / "docs" / "editions.md").exists()


def test_a_runs_timeline_in_japanese_draws_every_glyph():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from sfnecs.runs.plot import timeline

    t0 = pd.Timestamp("2026-01-05 03:00", tz="UTC")
    df = pd.DataFrame(
        {
            "name": ["a", "b"],
            "status": ["SUCCEEDED", "FAILED"],
            "start": [t0, t0 + pd.Timedelta(minutes=3)],
            "stop": [t0 + pd.Timedelta(minutes=5), t0 + pd.Timedelta(minutes=6)],
        }
    )
    with matplotlib.rc_context(), use_language("ja"):
        fig = timeline(df, tz="Asia/Tokyo")
        try:
            ax = fig.axes[0]
            assert ax.get_title() == "実行 2 回、重なり 1 区間、スキップ 0 回" and ax.get_ylabel() == "実行"
            assert ax.get_xlabel() == "時刻 (Asia/Tokyo (JST))"
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # a glyph missing from every font in the chain warns
                fig.canvas.draw()
        finally:
            plt.close(fig)


def test_the_locale_alone_leaves_notebooks_and_programs_in_english(monkeypatch):
    """Stored outputs must not depend on the machine's locale: only the CLI reads it."""
    for name in ("SFNECS_LANG", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    assert current_language() == "en" and language_from_environment() == "ja"
    monkeypatch.setenv("SFNECS_LANG", "fr")  # a bad value still shows messages, in English
    assert current_language() == "en" and tr("Fix") == "Fix"


def test_lesson_code_cells_mark_text_for_the_catalog(tmp_path):
    """A lesson's code cell may mark a row label with tr(); extraction finds it, located by lesson and cell."""
    code = ["%matplotlib inline\n", 'label = tr("case 1: an arm64 image")\n']
    prose = {"cell_type": "markdown", "id": "m1", "source": ['tr("x")']}
    cells = [{"cell_type": "code", "id": "c1", "source": code}, prose]
    (tmp_path / "01_x.ipynb").write_text(json.dumps({"cells": cells}), encoding="utf-8")
    found = lesson_sources(tmp_path)
    assert [(s.msgid, s.locations) for s in found] == [("case 1: an arm64 image", (("notebooks/01_x.ipynb#c1", 2),))]
    assert lesson_sources(tmp_path / "missing") == []
