"""The Japanese lessons' stored tables speak Japanese: every column and row header the kit wrote is shown
translated; what stays as written is named here (AWS's and the kit's identifiers a reader types)."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from sfnecs.model.prices import Prices
from sfnecs.ops.editions import JAPANESE_LESSONS

ROOT = Path(__file__).resolve().parent.parent
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
HEADER = re.compile(r"<th(?:\s[^>]*)?>(.*?)</th>", re.S)

#: headers that stay as written in every language, and why
AS_WRITTEN = {
    **dict.fromkeys(["A", "B", "B+guard", "B+dedupe", "B+guard+dedupe"], "the patterns' variant names"),
    **dict.fromkeys((f.name for f in dataclasses.fields(Prices)), "Prices(...) argument names"),
    "Sid": "the IAM policy element, as AWS writes it",
    "ID": "an identifier column, as AWS's Japanese console writes it",
    "OK": "a check mark",
    "UTC": "the time zone",
    **dict.fromkeys(["amd64", "arm64"], "OCI architecture names"),
}


def english_headers(path: Path) -> set[str]:
    """The table headers in `path`'s stored outputs that hold English letters and no Japanese."""
    found = set()
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        for output in cell.get("outputs", []):
            html = "".join(output.get("data", {}).get("text/html", ""))
            for header in HEADER.findall(html):
                text = re.sub(r"<[^>]+>", "", header).strip()
                if re.search(r"[A-Za-z]", text) and not JAPANESE.search(text):
                    found.add(text)
    return found


@pytest.mark.parametrize("lesson", JAPANESE_LESSONS)
def test_japanese_lesson_tables_have_japanese_headers(lesson):
    left = english_headers(ROOT / "notebooks" / "ja" / f"{lesson}.ipynb") - set(AS_WRITTEN)
    assert not left, f"English headers in the Japanese {lesson}: mark them with N_ and translate them: {sorted(left)}"


def test_the_check_sees_english_headers():
    english = ROOT / "notebooks" / "01_compare_patterns.ipynb"
    assert len(english_headers(english) - set(AS_WRITTEN)) > 10  # the English lesson's own headers are found
