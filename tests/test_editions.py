"""The lessons' editions (sfnecs.ops.editions): one English source, a catalog per lesson, generated editions.

Proved end to end on a small fixture lesson (tests/editions_fixture: the English lesson, its catalog and its
generated, executed Japanese edition; nbval runs both), then on copies of it: an English cell changed, a
translation stale or missing, a code cell edited in one edition only.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from papermill import execute_notebook

from sfnecs.i18n.pofiles import read_catalog, write_catalog
from sfnecs.ops import editions
from sfnecs.ops.editions import EDITION_CELL_TAG, cell_key, edition_path, edition_problems, extract, generate

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "editions_fixture"


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _text(cell: dict) -> str:
    return "".join(cell["source"])


@pytest.fixture
def lesson(tmp_path) -> Path:
    """A copy of the fixture lesson with its catalog and Japanese edition."""
    shutil.copytree(FIXTURE, tmp_path / "notebooks")
    return tmp_path / "notebooks" / "lesson.ipynb"


def _edit_english(lesson: Path, index: int, text: str) -> None:
    nb = json.loads(lesson.read_text(encoding="utf-8"))
    nb["cells"][index]["source"] = text.splitlines(keepends=True)
    lesson.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def test_the_fixture_edition_is_current_and_speaks_japanese(tmp_path):
    lesson = FIXTURE / "lesson.ipynb"
    assert edition_problems(lesson, "ja") == []
    english, japanese = _cells(lesson), _cells(edition_path(lesson, "ja"))
    added = [c for c in japanese if EDITION_CELL_TAG in c["metadata"].get("tags", [])]
    assert len(added) == 1 and 'lang = "ja"' in _text(added[0])
    japanese = [c for c in japanese if c not in added]
    assert [c["id"] for c in japanese] == [c["id"] for c in english]
    for en, ja in zip(english, japanese, strict=True):
        if en["cell_type"] == "code":
            assert _text(en) == _text(ja)  # code written once
        else:
            assert _text(en) != _text(ja) and any("\u3040" <= ch <= "\u30ff" for ch in _text(ja))  # kana: translated
    # the same code prints the library's message in each edition's language (outputs stored by execution)
    out = {
        e: "".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))
        for e, cells in (("en", english), ("ja", japanese))
    }
    assert out["en"] == "target='mars' is not valid: use sandbox or aws\n"
    assert out["ja"] == "target='mars' は無効です: sandbox または aws を指定してください\n"
    # the edition's cell comes before every other code cell, and papermill's parameters leave it in place
    path = edition_path(lesson, "ja")
    full = _cells(path)
    first = next(i for i, c in enumerate(full) if c["cell_type"] == "code")
    assert EDITION_CELL_TAG in full[first]["metadata"]["tags"]
    parameterized = execute_notebook(str(path), str(tmp_path / "p.ipynb"), {"target": "sandbox"}, prepare_only=True)
    tags = [c.metadata.get("tags", []) for c in parameterized.cells]
    assert sum(EDITION_CELL_TAG in t for t in tags) == 1 and sum("injected-parameters" in t for t in tags) == 1
    assert tags.index([EDITION_CELL_TAG]) < next(i for i, t in enumerate(tags) if "injected-parameters" in t)


def test_a_changed_english_cell_makes_the_edition_stale_until_translated_again(lesson):
    _edit_english(lesson, 2, "A bad value is refused before any AWS call; the message names the parameter:")
    problems = edition_problems(lesson, "ja")
    assert len(problems) == 1 and "cell 2 (id a1f0c003): the English changed" in problems[0]
    with pytest.raises(ValueError, match="cannot generate the ja edition"):
        generate(lesson, "ja")

    extract(lesson, "ja")  # the old translation is kept, marked fuzzy, with the previous English
    entry = next(
        m for m in read_catalog(editions.catalog_path(lesson, "ja")) if (m.context or "").startswith("a1f0c003@")
    )
    assert entry.fuzzy and entry.auto_comments[1] == "previous English:"
    assert entry.auto_comments[2].startswith("| A bad value is refused before any AWS call, with a message")
    problems = edition_problems(lesson, "ja")
    assert len(problems) == 1 and "stale (fuzzy" in problems[0]

    catalog = read_catalog(editions.catalog_path(lesson, "ja"))
    fixed = catalog.get(entry.id, context=entry.context)
    fixed.string, fixed.flags = (
        "不正な値は AWS を呼び出す前に拒否されます。メッセージはそのパラメータを名指しします:",
        set(),
    )
    write_catalog(catalog, editions.catalog_path(lesson, "ja"))
    assert "the prose is not the catalog's translation" in edition_problems(lesson, "ja")[0]  # generate not run yet
    generate(lesson, "ja")
    assert edition_problems(lesson, "ja") == []
    # unchanged code cells kept the executed edition's outputs
    ja_outputs = [c["outputs"] for c in _cells(edition_path(lesson, "ja")) if c["cell_type"] == "code"]
    assert any("は無効です" in "".join(o.get("text", "")) for outs in ja_outputs for o in outs)


def test_a_new_english_cell_without_translation_is_missing(lesson):
    nb = json.loads(lesson.read_text(encoding="utf-8"))
    nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": ["A new paragraph about the cluster."]})
    lesson.write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")
    assert "have no id" in edition_problems(lesson, "ja")[0]
    extract(lesson, "ja")  # gives the cell an id, adds an empty entry
    added = json.loads(lesson.read_text(encoding="utf-8"))["cells"][-1]
    assert added["id"] and cell_key(added).startswith(added["id"] + "@")
    problems = edition_problems(lesson, "ja")
    assert any("not translated yet" in p for p in problems)
    made = generate(lesson, "ja", allow_english=True)  # a draft keeps the cell in English
    assert len(made.english_cells) == 1 and _text(_cells(made.path)[-1]) == "A new paragraph about the cluster."


def test_a_code_cell_edited_in_one_edition_only_is_named(lesson):
    path = edition_path(lesson, "ja")
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = next(c for c in nb["cells"] if c["cell_type"] == "code" and "check_choice" in _text(c))
    code["source"] = [_text(code).replace('"mars"', '"venus"')]
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    problems = edition_problems(lesson, "ja")
    assert len(problems) == 1 and "cell 3 (id a1f0c004): the code differs" in problems[0]


def test_a_missing_edition_and_a_missing_catalog_are_named(lesson):
    edition_path(lesson, "ja").unlink()
    assert edition_problems(lesson, "ja")[-1].endswith("missing: run `python -m sfnecs.ops.editions generate`")
    editions.catalog_path(lesson, "ja").unlink()
    assert sum("no entry in lesson.po" in p for p in edition_problems(lesson, "ja")) == 3


def test_ids_are_stable_and_duplicates_refused():
    nb = {"cells": [{"cell_type": "markdown", "source": "a"}, {"cell_type": "code", "source": "b"}], "nbformat": 4}
    assert editions.ensure_ids(nb, "x") and nb["nbformat_minor"] == 5
    again = {"cells": [{"cell_type": "markdown", "source": "a"}, {"cell_type": "code", "source": "b"}], "nbformat": 4}
    editions.ensure_ids(again, "x")
    assert [c["id"] for c in nb["cells"]] == [c["id"] for c in again["cells"]]
    nb["cells"][1]["id"] = nb["cells"][0]["id"]
    with pytest.raises(ValueError, match="has the id"):
        editions.ensure_ids(nb, "x")


def test_the_command_line_checks_and_fails(lesson, capsys):
    assert editions._main(["check", str(lesson)]) == 0
    _edit_english(lesson, 4, "The `runtimePlatform` picks the CPU.")
    assert editions._main(["check", str(lesson)]) == 1
    assert "the English changed" in capsys.readouterr().out


@pytest.mark.parametrize("name", editions.JAPANESE_LESSONS or ["(none yet)"])
def test_every_japanese_lesson_edition_is_current(name):
    """The lessons listed in JAPANESE_LESSONS have a current edition, and every edition present is listed."""
    present = sorted(p.stem for p in (ROOT / "notebooks" / "ja").glob("*.ipynb"))
    assert present == sorted(editions.JAPANESE_LESSONS)
    if name != "(none yet)":
        assert edition_problems(ROOT / "notebooks" / f"{name}.ipynb", "ja") == []
