"""The result of a diagnosis: the failure category, how sure, the evidence seen and the fix.

Why a dataclass of its own: every matcher returns one, notebooks render it (`_repr_html_`,
`to_frame`) and runbooks save it (`to_dict`), so its shape is the diagnose package's contract.
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass
from typing import Any

CONFIDENCES = ("high", "medium", "low")


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
        """The category in words with the confidence, e.g. 'architecture mismatch (high confidence)'."""
        return f"{self.category.replace('_', ' ')} ({self.confidence} confidence)"

    def to_frame(self) -> Any:
        """The evidence as a table (source, detail), one row per item."""
        import pandas as pd

        return pd.DataFrame(list(self.evidence), columns=["source", "detail"])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td><code>{html.escape(s)}</code></td><td>{html.escape(d)}</td></tr>" for s, d in self.evidence
        )
        also = f"<p>Also seen: {html.escape(', '.join(self.also))}</p>" if self.also else ""
        return (
            f"<div><p>Verdict: <b>{html.escape(self.verdict)}</b> &mdash; {html.escape(self.summary)}</p>"
            f"<table><tr><th>source</th><th>evidence</th></tr>{rows}</table>"
            f"<p><b>Fix</b></p><pre>{html.escape(self.fix)}</pre>{also}</div>"
        )
