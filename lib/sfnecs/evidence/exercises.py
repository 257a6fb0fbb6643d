"""The lessons' exercises: a learner's answer checked against what the kit computes, with one verdict.

Why one checker: every self-check says the same three things the same way (your turn: what is still
missing; not quite: what differs; correct: why), so a stored lesson shows its exercise unanswered, and
CI runs each lesson with the solution and with a wrong answer injected as papermill parameters and
reads the verdict (tests/test_exercises.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sfnecs.i18n import N_, tr

__all__ = ["Verdict", "check", "normalise"]

#: the three verdicts, in the words a check cell prints first
STATUSES = ("your turn", "not quite", "correct")
#: each verdict's first words as printed (translated where shown; tests/test_exercises.py reads the English)
_HEADINGS = {"your turn": N_("Your turn"), "not quite": N_("Not quite"), "correct": N_("Correct")}


@dataclass(frozen=True)
class Verdict:
    """What a self-check found: `status` is one of STATUSES; `message` says what is missing, what differs or why."""

    exercise: str
    status: str
    message: str

    @property
    def correct(self) -> bool:
        return self.status == "correct"

    def __str__(self) -> str:
        return f"{tr(_HEADINGS[self.status])} ({self.exercise}): {self.message}"

    def _repr_markdown_(self) -> str:
        mark = {"your turn": "✏️", "not quite": "❌", "correct": "✅"}[self.status]
        return f"{mark} **{tr(_HEADINGS[self.status])}** ({self.exercise}): {self.message}"


def normalise(value: Any) -> Any:
    """An answer in a comparable form: sets and tuples from papermill's JSON lists, dict values likewise."""
    if isinstance(value, Mapping):
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return frozenset(normalise(v) for v in value)
    if isinstance(value, (list, tuple)):
        return tuple(normalise(v) for v in value)
    return value


def check(
    exercise: str, answer: Any, expected: Any, *, why: str = "", hint: str = "", unordered: bool = False
) -> Verdict:
    """Compare `answer` with `expected` and say so: None (or a dict with None values) is not answered yet.

    `unordered` compares lists as sets (papermill passes sets as lists); `why` is shown when correct,
    `hint` when not (the kit's own value is shown too, so a learner sees what differs)."""
    if answer is None:
        return Verdict(exercise, "your turn", tr("write your answer in the cell above, then run this check"))
    if isinstance(answer, Mapping):
        missing = [str(k) for k, v in answer.items() if v is None]
        if missing:
            return Verdict(exercise, "your turn", tr("still missing: {names}", names=", ".join(missing)))
    got, want = normalise(answer), normalise(expected)
    if unordered:
        got = frozenset(got) if isinstance(got, tuple) else got
        want = frozenset(want) if isinstance(want, tuple) else want
    if got == want:
        return Verdict(exercise, "correct", why or tr("that is what the kit computes"))
    detail = tr("the kit computes {expected}, you wrote {answer}", expected=_shown(expected), answer=_shown(answer))
    return Verdict(exercise, "not quite", f"{detail}. {hint}".strip() if hint else detail)


def _shown(value: Any) -> str:
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(map(repr, value))) + "}"
    return repr(value)
