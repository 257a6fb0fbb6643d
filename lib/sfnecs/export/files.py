"""Export: render the stack in one format and write its files to a folder, refusing what would lose work.

Why all checks before the first write: a bad format, a spec plan would refuse, or a folder holding
someone else's files stops the export with one line and nothing written (a half-written module is
worse than none).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sfnecs.exceptions import ValidationError
from sfnecs.export import cloudformation, terraform
from sfnecs.export.model import StackModel, stack_model
from sfnecs.i18n import tr
from sfnecs.model.spec import StackSpec

__all__ = ["FORMATS", "Export", "diff", "export_stack", "render"]

#: format -> its renderer (file name -> text); a new format is one module and one line
FORMATS: dict[str, Callable[[StackModel], dict[str, str]]] = {
    "terraform": terraform.render,
    "cloudformation": cloudformation.render,
}
#: what to run next, per format, in the folder written
NEXT_STEPS = {
    "terraform": "terraform init && terraform plan",
    "cloudformation": "aws cloudformation create-stack --stack-name {stack} --template-body file://template.yaml "
    "--parameters file://parameters.json --capabilities CAPABILITY_NAMED_IAM",
}


@dataclass(frozen=True)
class Export:
    """What one export wrote: the format, the folder and its files (names, in writing order)."""

    format: str
    out: Path
    files: tuple[str, ...]
    next_step: str

    def to_result(self) -> dict[str, object]:
        """The export runbook's result (what `sfnecs runbook run export` saves as .result.json)."""
        return {
            "ok": True,
            "format": self.format,
            "out": str(self.out.resolve()),
            "files": list(self.files),
            "next_step": self.next_step,
            "error": None,
        }

    def __str__(self) -> str:
        then = tr("next, in {folder}: {command}", folder=self.out, command=self.next_step)  # the reader's language
        return "\n".join([*(str(self.out / f) for f in self.files), then])


def render(spec: StackSpec, fmt: str, *, existing_cluster: bool = False, email: str = "") -> dict[str, str]:
    """The stack's files in `fmt` (terraform or cloudformation), by file name; pure (no AWS call, no file).

    `email`: the alert topic's e-mail subscription (as `apply`'s email; default the spec's notify_email);
    `existing_cluster`: refer to the cluster by name instead of creating it.
    """
    if fmt not in FORMATS:
        raise ValidationError("format", fmt, "one of " + ", ".join(FORMATS))
    if not isinstance(spec, StackSpec):
        raise ValidationError("spec", spec, "a StackSpec (sfnecs.model.StackSpec)")
    if not isinstance(existing_cluster, bool):
        raise ValidationError("existing_cluster", existing_cluster, "True or False")
    if email:
        spec = spec.replace(notify_email=email)  # StackSpec's own rule checks the address
    return FORMATS[fmt](stack_model(spec, existing_cluster=existing_cluster, email=spec.notify_email))


def diff(before: StackSpec, after: StackSpec, fmt: str = "terraform") -> str:
    """What changing `before` into `after` changes in the exported files, as a unified diff (empty: nothing):
    the change a reviewer sees in the pull request."""
    old, new = render(before, fmt), render(after, fmt)
    lines: list[str] = []
    for name in dict.fromkeys([*old, *new]):
        lines += difflib.unified_diff(
            old.get(name, "").splitlines(keepends=True),
            new.get(name, "").splitlines(keepends=True),
            f"a/{name}",
            f"b/{name}",
            n=2,
        )
    return "".join(lines)


def export_stack(
    spec: StackSpec,
    fmt: str,
    out: str | Path,
    *,
    force: bool = False,
    existing_cluster: bool = False,
    email: str = "",
) -> Export:
    """Write the stack in `fmt` to the folder `out` (created if missing) and say what was written.

    Refuses, writing nothing, a folder that holds files other than this format's own (a previous
    export is overwritten) unless `force`; with `force`, other files are left as they are.
    """
    files = render(spec, fmt, existing_cluster=existing_cluster, email=email)
    if not isinstance(force, bool):
        raise ValidationError("force", force, "True or False")
    if not isinstance(out, (str, Path)) or not str(out):
        raise ValidationError("out", out, "a folder path")
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise ValidationError("out", str(out), "a folder (this is a file)")
    others = sorted(p.name for p in folder.iterdir() if p.name not in files) if folder.is_dir() else []
    if others and not force:
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        raise ValidationError(
            "out",
            str(out),
            f"an empty folder or one holding only a previous {fmt} export (it has {shown}); "
            "pass --force (force=True) to write beside them",
        )
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return Export(fmt, folder, tuple(files), NEXT_STEPS[fmt].format(stack=spec.name))
