"""The glossary: the Japanese term AWS's own Japanese documentation uses for each English term.

Why in the repository and checked: the same concept must read the same in every lesson, runbook and
diagnosis, and the way AWS's Japanese pages write it (ステートマシン, タスク定義, ...), so a reader can
search AWS's documentation with the words the kit uses. `glossary_problems` checks a catalog:
every translated entry whose English holds a term holds the term's Japanese too.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

GLOSSARY_FILE = Path(__file__).with_name("glossary.toml")

# text that stays as written: code spans, str.format fields, URLs and Markdown link targets
_VERBATIM = re.compile(r"`[^`]*`|\{[^{}]*\}|https?://\S+|\]\([^)]*\)")


@dataclass(frozen=True)
class Term:
    """One glossary entry: the English term, AWS's Japanese for it, and the AWS page that uses it."""

    en: str
    ja: str
    source: str

    @property
    def pattern(self) -> re.Pattern[str]:
        """The English term as a whole word or phrase, any case, singular or plural."""
        words = r"\s+".join(map(re.escape, self.en.split()))
        return re.compile(rf"(?<![\w.-]){words}(?:s|es)?(?![\w-])", re.IGNORECASE)


@cache
def glossary() -> tuple[Term, ...]:
    """Every glossary term, longest English first (so 'task execution role' is seen before 'task')."""
    data = tomllib.loads(GLOSSARY_FILE.read_text(encoding="utf-8"))
    terms = (Term(t["en"], t["ja"], t["source"]) for t in data["term"])
    return tuple(sorted(terms, key=lambda t: -len(t.en)))


def glossary_problems(entries: Any) -> list[str]:
    """For (msgid, translation) pairs: one line per English term whose Japanese is missing from the translation."""
    problems = []
    for msgid, string in entries:
        if not string:
            continue  # untranslated entries are the completeness check's business
        english = _VERBATIM.sub(" ", msgid)
        for term in glossary():
            if term.pattern.search(english) and term.ja not in string:
                problems.append(f"{term.en!r} -> {term.ja!r} missing in the translation of {msgid[:80]!r}")
    return problems
