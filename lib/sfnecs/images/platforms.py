"""What an image supports: `ImagePlatforms` (index or config labels, and binaries) and `BinaryInfo`.

Why: a Fargate task runs on one CPU. An index without that platform fails the pull; a
single-platform image of another CPU starts and the kernel refuses its entrypoint ("exec format
error"); and labels can lie, so the answer keeps the labels *and* the ELF headers apart.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sfnecs.i18n import N_, localize, tr
from sfnecs.images.elf import ElfHeader
from sfnecs.model.platforms import Platform, oci_platform


@dataclass(frozen=True)
class BinaryInfo:
    """The program a container would exec, found through the layers, and its ELF header."""

    label: Platform | None  # the platform its manifest or config claims
    command: tuple[str, ...]  # Entrypoint + Cmd
    program: str | None = None  # argv[0] as found (PATH and WorkingDir applied)
    chain: tuple[str, ...] = ()  # symlinks and #! interpreters followed, in order
    executables: tuple[tuple[str, ElfHeader], ...] = ()  # every ELF file the exec needs, first = the one loaded
    cannot_tell: str | None = None
    #: the kernel refuses the program on any CPU (neither ELF nor #!): exec format error, not a CPU mismatch
    refused_on_every_cpu: bool = False

    @property
    def elf(self) -> ElfHeader | None:
        """The ELF file the kernel loads first (the program, or its #! interpreter)."""
        return self.executables[0][1] if self.executables else None

    @property
    def platform(self) -> Platform | None:
        """The platform of the ELF file loaded first (None when no ELF header was read)."""
        arch = self.elf.architecture if self.elf else None
        return Platform("linux", arch) if arch else None

    def disagreements(self) -> list[str]:
        """One sentence per ELF file whose CPU differs from the label."""
        if self.label is None:
            return []
        out = []
        for path, elf in self.executables:
            if elf.architecture is None or not Platform("linux", elf.architecture).same_cpu(
                Platform("linux", self.label.architecture)
            ):
                out.append(tr("labelled {label} but {path} is {elf}", label=self.label, path=path, elf=elf.describe()))
        return out


@dataclass(frozen=True)
class ImagePlatforms:
    """What platforms an image supports, how we know, and where labels and binaries disagree."""

    source: str
    platforms: tuple[Platform, ...] = ()
    is_index: bool = False  # the pull resolves an image index: a missing platform fails the pull
    binaries: tuple[BinaryInfo, ...] = ()
    disagreements: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    cannot_tell: str | None = None

    @property
    def binary(self) -> BinaryInfo | None:
        """The first inspected binary (the only one for a single-platform image)."""
        return self.binaries[0] if self.binaries else None

    def supports(self, cpu_architecture: str, os_family: str = "LINUX") -> bool | None:
        """Whether the labels offer the ECS platform (what the pull checks); None when unknown."""
        return matches(self, cpu_architecture, os_family) if self.platforms else None

    def runs_on(self, cpu_architecture: str, os_family: str = "LINUX") -> bool | None:
        """Whether a task on this ECS platform would get past the pull *and* the exec; None when unknown."""
        want = oci_platform(cpu_architecture, os_family)
        label_ok = self.supports(cpu_architecture, os_family)
        if self.is_index and label_ok is False:
            return False
        relevant = [b for b in self.binaries if not self.is_index or b.label is None or b.label.same_cpu(want)]
        archs = [elf.architecture for b in relevant for _, elf in b.executables]
        if archs:
            return all(a is not None and Platform("linux", a).same_cpu(want) for a in archs)
        return label_ok

    def to_frame(self) -> Any:
        """One row per platform, binary, disagreement and note (a pandas DataFrame).

        Headers and kinds stay English (callers select by them) and are shown translated
        (sfnecs.i18n.localize); the binary's detail, built from values, is in the reader's language.
        """
        import pandas as pd

        rows = [
            {
                "kind": N_("platform"),
                "platform": str(p),
                "ecs_cpu_architecture": p.ecs_cpu_architecture,
                "detail": N_("image index entry") if self.is_index else N_("image config"),
            }
            for p in self.platforms
        ]
        for b in self.binaries:
            plat = b.platform
            steps = [*b.chain, *(tr("{path} is {elf}", path=path, elf=elf.describe()) for path, elf in b.executables)]
            if b.cannot_tell:
                steps.append(tr("cannot tell: {reason}", reason=b.cannot_tell))
            detail = tr(
                "[labelled {label}] {command}: {steps}",
                label=b.label or tr("nothing"),
                command=" ".join(b.command),
                steps="; ".join(steps),
            )
            rows.append(
                {
                    "kind": N_("binary"),
                    "platform": str(plat) if plat else None,
                    "ecs_cpu_architecture": plat.ecs_cpu_architecture if plat else None,
                    "detail": detail,
                }
            )
        rows += [
            {"kind": N_("disagreement"), "platform": None, "ecs_cpu_architecture": None, "detail": d}
            for d in self.disagreements
        ]
        rows += [{"kind": N_("note"), "platform": None, "ecs_cpu_architecture": None, "detail": n} for n in self.notes]
        if self.cannot_tell:
            rows.append(
                {"kind": N_("cannot tell"), "platform": None, "ecs_cpu_architecture": None, "detail": self.cannot_tell}
            )
        columns = [N_("kind"), N_("platform"), N_("ecs_cpu_architecture"), N_("detail")]
        frame = pd.DataFrame(rows, columns=columns)
        frame.insert(0, N_("source"), self.source)
        return frame

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (for runbook results)."""
        out = asdict(self)
        out["platforms"] = [str(p) for p in self.platforms]
        out["binaries"] = [
            {
                **asdict(b),
                "label": str(b.label) if b.label else None,
                "executables": [[p, e.describe()] for p, e in b.executables],
            }
            for b in self.binaries
        ]
        return out

    def _repr_html_(self) -> str:
        """The platforms as a heading over `to_frame()`, for notebooks (in the reader's language)."""
        head = tr("index") if self.is_index else tr("single-platform image")
        known = ", ".join(map(str, self.platforms)) or tr("no platform known")
        table = localize(self.to_frame().drop(columns="source")).to_html(index=False, na_rep="")
        return f"<p><b>{html.escape(self.source)}</b> ({html.escape(head)}): {html.escape(known)}</p>" + table


def matches(
    platforms: ImagePlatforms | Iterable[Platform | str], cpu_architecture: str, os_family: str = "LINUX"
) -> bool:
    """True when one of `platforms` is the one an ECS task with this runtimePlatform pulls.

    Why: Fargate picks the index entry for `linux/amd64` (X86_64, the default) or `linux/arm64`
    (ARM64) and fails the pull when there is none (AWS re:Post, "ecs-task-exec-format-error").
    """
    want = oci_platform(cpu_architecture, os_family)
    items = platforms.platforms if isinstance(platforms, ImagePlatforms) else platforms
    return any((Platform.parse(p) if isinstance(p, str) else p).same_cpu(want) for p in items)
