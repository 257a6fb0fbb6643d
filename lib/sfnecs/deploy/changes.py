"""Changes: a resource as the spec wants it, as AWS has it, and the change between them.

Why its own module: plan, apply and teardown all answer in these types (a `ChangeSet` of `Change`
rows), and the document diff that decides "update or no-op" is the same for every resource.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

from sfnecs.i18n import N_, localize, tr

__all__ = ["ACTIONS", "COLUMNS", "Change", "ChangeSet", "Current", "Desired", "brief", "document_diff"]

ACTIONS = ("create", "update", "no-op", "delete", "conflict")
#: a plan's columns (English in the frame, shown in the reader's language: sfnecs.i18n.localize)
COLUMNS = [N_("resource"), N_("type"), N_("action"), N_("reason"), N_("diff")]
#: apply's and teardown's extra column: whether the change was made
DONE = N_("done")


@dataclass(frozen=True)
class Desired:
    """One resource as the spec wants it: the kind, its name and its (comparable) request document."""

    kind: str
    name: str
    document: dict[str, Any]


@dataclass
class Current:
    """One resource as AWS has it, in the shape of its desired document."""

    name: str
    document: dict[str, Any]
    owned: bool
    arn: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Change:
    """One row of a plan, apply or teardown."""

    resource: str
    type: str
    action: str
    reason: str
    diff: str = ""
    kind: str = ""
    done: bool = False
    desired: Desired | None = field(default=None, repr=False)
    current: Current | None = field(default=None, repr=False)
    #: teardown left it on purpose (logs, images): its reason says how to remove it
    kept: bool = field(default=False, repr=False)


@dataclass
class ChangeSet:
    """What plan would do, or what apply or teardown did (with dry_run, would do), one Change per resource."""

    stack: str
    changes: list[Change]
    dry_run: bool = False

    @property
    def changed(self) -> list[Change]:
        return [c for c in self.changes if c.action not in ("no-op", "conflict")]

    @property
    def kept(self) -> list[Change]:
        """What teardown left on purpose (logs, images), each with how to remove it."""
        return [c for c in self.changes if c.action == "no-op" and c.kept]

    @property
    def conflicts(self) -> list[Change]:
        return [c for c in self.changes if c.action == "conflict"]

    def to_frame(self) -> Any:
        """One row per change: resource, type, action, reason, diff (and `done` unless a dry run)."""
        import pandas as pd

        cols = COLUMNS + ([] if self.dry_run else [DONE])
        frame = pd.DataFrame([{k: getattr(c, k) for k in cols} for c in self.changes], columns=cols)
        frame.attrs["stack"] = self.stack
        return frame

    def _repr_html_(self) -> str:
        """The count of changes and the table, in the reader's language (sfnecs.i18n)."""
        stack, count = f"<b>{html.escape(self.stack)}</b>", len(self.changed)
        line = (
            tr("stack {stack}: {count} resource(s) would change", stack=stack, count=count)
            if self.dry_run
            else tr("stack {stack}: {count} resource(s) changed", stack=stack, count=count)
        )
        return f"<p>{line}</p>" + localize(self.to_frame()).to_html(index=False)


def document_diff(want: Any, have: Any, path: str = "") -> list[str]:
    """`path: current -> desired` for every value of `want` that `have` lacks or holds differently.

    Only keys present in the desired document are compared: AWS adds defaults (portMappings,
    revision, ...) that the stack does not manage.
    """
    if isinstance(want, dict) and isinstance(have, dict):
        out = []
        for key in want:
            out += document_diff(want[key], have.get(key), f"{path}.{key}" if path else str(key))
        return out
    if isinstance(want, list) and isinstance(have, list) and len(want) == len(have):
        out = []
        for i, (w, h) in enumerate(zip(want, have, strict=True)):
            out += document_diff(w, h, f"{path}[{i}]")
        return out
    if want == have or (isinstance(want, (str, int)) and str(want) == str(have) and not isinstance(want, bool)):
        return []
    return [f"{path or '(document)'}: {brief(have)} -> {brief(want)}"]


def brief(value: Any) -> str:
    """A value as one line of at most 120 characters (JSON for documents), for a diff line."""
    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 120 else text[:117] + "..."
