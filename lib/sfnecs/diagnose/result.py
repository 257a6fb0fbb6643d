"""The result of a diagnosis: the failure category, how sure, the evidence seen and the fix.

Why a dataclass of its own: every matcher returns one, notebooks render it (`_repr_html_`,
`to_frame`) and runbooks save it (`to_dict`), so its shape is the diagnose package's contract.
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass
from typing import Any

from sfnecs.i18n import N_, tr

CONFIDENCES = ("high", "medium", "low")
_CONFIDENCE_WORDS = (N_("high"), N_("medium"), N_("low"))  # marked for the catalog: the verdict translates them

#: each category in words (the category itself is a key and stays English in data: to_dict, tests)
CATEGORY_WORDS = {
    "architecture_mismatch": N_("architecture mismatch"),
    "platform_missing": N_("platform missing"),
    "entrypoint_not_executable": N_("entrypoint not executable"),
    "run_task_rejected": N_("RunTask rejected"),
    "capacity": N_("capacity"),
    "pull_error": N_("image pull error"),
    "no_network_path": N_("no network path"),
    "resource_initialization": N_("resource initialization"),
    "container_start": N_("container start"),
    "out_of_memory": N_("out of memory"),
    "timeout": N_("timeout"),
    "stopped": N_("stopped"),
    "sidecar_exit": N_("sidecar exit"),
    "application_exit": N_("application exit"),
    "success": N_("success"),
    "not_stopped": N_("not stopped"),
    "access_denied": N_("access denied"),
    "managed_rule_denied": N_("managed rule denied"),
    "log_delivery_denied": N_("log delivery denied"),
    "role_not_assumable": N_("role not assumable"),
    "unknown": N_("unknown"),
}


def shown_evidence(text: str) -> str:
    """An evidence text as a reader sees it: the kit's note in trailing parentheses translated
    ('X86_64 (given)'); the rest (AWS's texts, log lines) and the evidence itself stay as read (data)."""
    value, paren, note = text.partition(" (")
    if paren and note.endswith(")") and tr(note[:-1]) != note[:-1]:
        return f"{value} ({tr(note[:-1])})"
    return text


@dataclass(frozen=True)
class Diagnosis:
    """A failure category with how sure we are, the evidence seen, and the concrete fix."""

    category: str
    confidence: str  # high, medium or low
    summary: str
    evidence: tuple[tuple[str, str], ...] = ()  # (where, what): field, log line, manifest entry
    fix: str = ""
    also: tuple[str, ...] = ()  # other categories whose signs were present too

    @property
    def verdict(self) -> str:
        """The category in words with the confidence, e.g. 'architecture mismatch (high confidence)' (in the
        reader's language: sfnecs.i18n)."""
        words = CATEGORY_WORDS.get(self.category, self.category.replace("_", " "))
        return tr("{category} ({confidence} confidence)", category=tr(words), confidence=tr(self.confidence))

    def to_frame(self) -> Any:
        """The evidence as a table (source, detail), one row per item."""
        import pandas as pd

        rows = [(where, shown_evidence(what)) for where, what in self.evidence]
        return pd.DataFrame(rows, columns=[tr("source"), tr("detail")])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td><code>{html.escape(s)}</code></td><td>{html.escape(shown_evidence(d))}</td></tr>"
            for s, d in self.evidence
        )
        seen = tr("Also seen: {categories}", categories=", ".join(self.also))
        also = f"<p>{html.escape(seen)}</p>" if self.also else ""
        words = (N_("Verdict:"), N_("source"), N_("evidence"), N_("Fix"))
        verdict, source, evidence, fix = (html.escape(tr(w)) for w in words)
        return (
            f"<div><p>{verdict} <b>{html.escape(self.verdict)}</b> &mdash; {html.escape(self.summary)}</p>"
            f"<table><tr><th>{source}</th><th>{evidence}</th></tr>{rows}</table>"
            f"<p><b>{fix}</b></p><pre>{html.escape(self.fix)}</pre>{also}</div>"
        )
