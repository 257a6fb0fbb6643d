"""The root filesystem of an image: its layers merged, OCI whiteouts applied, symlinks resolved.

Why: the program a container execs is found the way the kernel finds it, in the union of the
layers (OCI image-spec "Layer", "Representing Changes"), not in any one layer.
"""

from __future__ import annotations

import posixpath
import tarfile
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from sfnecs.exceptions import ImageError
from sfnecs.images.stores import norm_member

_MAX_SYMLINKS = 40  # Linux MAXSYMLINKS: ELOOP after 40 links in one lookup
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


@dataclass(frozen=True)
class _Entry:
    """One path of the merged tree: what it is and which layer's member holds it."""

    kind: str  # file, dir, symlink, hardlink, other
    layer: int
    member: tarfile.TarInfo
    target: str = ""  # symlink target as written; hardlink target as an archive path


class Rootfs:
    """The union of the image's layers, applying OCI whiteouts (`.wh.<name>`, `.wh..wh..opq`)."""

    def __init__(self, layers: list[tarfile.TarFile]):
        self.layers = layers
        self.entries: dict[str, _Entry] = {}
        for index, tar in enumerate(layers):
            self._apply(index, tar.getmembers())

    def _apply(self, index: int, members: list[tarfile.TarInfo]) -> None:
        # Whiteouts hide only what lower layers put there, so they apply before this layer's
        # own files (OCI image-spec, "Representing Changes": whiteouts and opaque whiteouts).
        for m in members:
            path = norm_member(m.name)
            parent, base = posixpath.split(path)
            if base == ".wh..wh..opq":
                self._remove_under(parent, keep_self=True)
            elif base.startswith(".wh."):
                self._remove_under(posixpath.join(parent, base[4:]), keep_self=False)
        for m in members:
            path = norm_member(m.name)
            if not path or posixpath.basename(path).startswith(".wh."):
                continue
            kind = (
                "dir"
                if m.isdir()
                else "symlink"
                if m.issym()
                else "hardlink"
                if m.islnk()
                else "file"
                if m.isfile()
                else "other"
            )
            old = self.entries.get(path)
            if old is not None and old.kind == "dir" and kind != "dir":
                self._remove_under(path, keep_self=True)  # a file replacing a directory hides its contents
            target = m.linkname if kind == "symlink" else norm_member(m.linkname) if kind == "hardlink" else ""
            self.entries[path] = _Entry(kind, index, m, target)

    def _remove_under(self, path: str, keep_self: bool) -> None:
        prefix = path + "/" if path else ""
        for key in [k for k in self.entries if k.startswith(prefix) or (not keep_self and k == path)]:
            del self.entries[key]

    def resolve(self, path: str) -> tuple[str, list[str]]:
        """The path after following every symlink (absolute ones from the image root), and the links."""
        links: list[str] = []
        pending = [p for p in path.split("/") if p]
        done: list[str] = []
        while pending:
            part = pending.pop(0)
            if part == ".":
                continue
            if part == "..":
                if done:
                    done.pop()
                continue
            here = "/".join([*done, part])
            entry = self.entries.get(here)
            if entry is not None and entry.kind == "symlink":
                if len(links) >= _MAX_SYMLINKS:
                    raise ImageError(f"/{here}: too many levels of symbolic links")
                links.append(f"/{here} -> {entry.target}")
                if entry.target.startswith("/"):
                    done = []
                pending = [p for p in entry.target.split("/") if p] + pending
                continue
            if entry is not None and entry.kind not in ("dir",) and pending:
                raise ImageError(f"/{here} is not a directory")
            done.append(part)
        return "/" + "/".join(done), links

    def head(self, path: str, size: int = 256) -> bytes:
        """The first `size` bytes of a file (enough for an ELF header or a #! line)."""
        entry = self.entries[path.lstrip("/")]
        fh = self.layers[entry.layer].extractfile(entry.member)
        if fh is None:
            raise ImageError(f"{path} cannot be read from its layer")
        return fh.read(size)

    def kind(self, path: str) -> str | None:
        """file, dir, symlink, hardlink or other; None when the path is not in the image."""
        entry = self.entries.get(path.lstrip("/"))
        return entry.kind if entry else None


def open_layers(store: Any, stack: ExitStack, refs: list[str]) -> list[tarfile.TarFile]:
    """The layers as open tar files (gzip and xz too); zstd raises ImageError."""
    tars = []
    for ref in refs:
        fh = store.open_layer(ref, stack)
        magic = fh.read(4)
        fh.seek(0)
        if magic == _ZSTD_MAGIC:
            raise ImageError(
                f"layer {ref} is zstd-compressed, which Python's standard library cannot read (it can from Python 3.14)"
            )
        tars.append(stack.enter_context(tarfile.open(fileobj=fh, mode="r:*")))
    return tars
