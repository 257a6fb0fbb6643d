"""How a sandbox repair patches moto: a named, reversible replacement of attributes.

Why its own module: every repair (`sfnecs.sandbox.repairs`, `sfnecs.sandbox.network`, ...) installs and
reverts the same way, so a test can remove one repair and show moto's defect again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["ORIGINALS", "Repair", "combine", "patch", "replacing", "unpatch"]


@dataclass
class Repair:
    """A named patch: `apply()` installs it, `revert()` restores moto's original."""

    name: str
    defect: str
    apply: Callable[[], None]
    revert: Callable[[], None]


ORIGINALS: dict[tuple[Any, str], Any] = {}


_MISSING = object()


def patch(owner: Any, attr: str, new: Any) -> None:
    ORIGINALS.setdefault((owner, attr), owner.__dict__.get(attr, _MISSING))
    setattr(owner, attr, new)


def unpatch(owner: Any, attr: str) -> None:
    if (owner, attr) not in ORIGINALS:
        return
    original = ORIGINALS.pop((owner, attr))
    if original is _MISSING:
        delattr(owner, attr)
    else:
        setattr(owner, attr, original)


def replacing(owner: Callable[[], Any], **new: Any) -> tuple[Callable[[], None], Callable[[], None]]:
    """`(apply, revert)` for a repair that replaces attributes of `owner()` by `new`.

    `owner` is called at apply/revert time: moto's modules are imported only when the sandbox starts.
    """

    def apply() -> None:
        found = owner()
        for attr, value in new.items():
            patch(found, attr, value)

    def revert() -> None:
        found = owner()
        for attr in new:
            unpatch(found, attr)

    return apply, revert


def combine(*pairs: tuple[Callable[[], None], Callable[[], None]]) -> tuple[Callable[[], None], Callable[[], None]]:
    """One `(apply, revert)` from several (reverted in reverse order)."""

    def apply() -> None:
        for do, _ in pairs:
            do()

    def revert() -> None:
        for _, undo in reversed(pairs):
            undo()

    return apply, revert
