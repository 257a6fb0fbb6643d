"""The program a container would exec: Entrypoint + Cmd followed through PATH, symlinks and #! lines.

Why: the kernel, not the label, decides whether a container starts. It loads the ELF file at the
end of that chain (and, for `#!/usr/bin/env X`, X too); its header names the CPU it needs.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any

from sfnecs.exceptions import ImageError
from sfnecs.i18n import tr
from sfnecs.images.elf import ELF_MAGIC, ElfHeader
from sfnecs.images.manifests import UNREADABLE, json_object, str_list, unreadable_reason
from sfnecs.images.platforms import BinaryInfo
from sfnecs.images.rootfs import Rootfs, open_layers
from sfnecs.model.platforms import Platform

#: Where the kernel looks when argv[0] has no slash and the image sets no PATH (Docker's default).
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_MAX_INTERPRETERS = 5  # the kernel's exec_binprm gives up (ELOOP) after 5 nested #! interpreters


def entrypoint_binary(
    store: Any,
    stack: ExitStack,
    config: dict[str, Any],
    layer_refs: Sequence[Any],
    label: Platform | None,
    override: Sequence[str] | None,
) -> BinaryInfo:
    """Find Entrypoint/Cmd's program in the layers and read the ELF header(s) it needs."""
    inner = json_object(config.get("config") or {}, "config.config")
    command = (
        tuple(override)
        if override is not None
        else tuple(str_list(inner.get("Entrypoint"), "Entrypoint") + str_list(inner.get("Cmd"), "Cmd"))
    )
    if not command:
        return BinaryInfo(label, command, cannot_tell=tr("the image config has no Entrypoint or Cmd"))
    env = dict(e.split("=", 1) for e in str_list(inner.get("Env"), "Env") if "=" in e)
    workdir = inner.get("WorkingDir")
    workdir = workdir if isinstance(workdir, str) and workdir else "/"
    try:
        fs = Rootfs(open_layers(store, stack, [str(r) for r in layer_refs]))
        return _follow(fs, label, command, env.get("PATH", DEFAULT_PATH), workdir)
    except UNREADABLE as exc:
        return BinaryInfo(label, command, cannot_tell=unreadable_reason(exc))


def _find(fs: Rootfs, name: str, search_path: str, workdir: str) -> str:
    """argv[0] as execve sees it: a path (relative to WorkingDir) or a name looked up in PATH."""
    if "/" in name:
        return name if name.startswith("/") else posixpath.join(workdir, name)
    for directory in search_path.split(":"):
        candidate = posixpath.join(directory or ".", name)
        try:
            resolved, _ = fs.resolve(candidate)
        except ImageError:
            continue
        if fs.kind(resolved) in ("file", "hardlink"):
            return candidate
    raise ImageError(f"'{name}' is not found in PATH ({search_path})")


def _follow(fs: Rootfs, label: Platform | None, command: tuple[str, ...], search_path: str, workdir: str) -> BinaryInfo:
    """Follow symlinks and #! lines the way execve does, down to the ELF file(s) it loads."""
    program = _find(fs, command[0], search_path, workdir)
    chain: list[str] = []
    executables: list[tuple[str, ElfHeader]] = []
    current, env_target = program, None

    def stop(cannot_tell: str, *, refused_on_every_cpu: bool = False) -> BinaryInfo:
        """The answer when the chain cannot be followed further: what was found so far and why not."""
        return BinaryInfo(
            label,
            command,
            program,
            tuple(chain),
            tuple(executables),
            cannot_tell=cannot_tell,
            refused_on_every_cpu=refused_on_every_cpu,
        )

    for _ in range(_MAX_INTERPRETERS + 1):
        resolved, links = fs.resolve(current)
        chain.extend(links)
        kind = fs.kind(resolved)
        if kind is None:
            return stop(
                tr(
                    "{path} is not in the image's layers (the container would fail with 'no such file or directory')",
                    path=resolved,
                )
            )
        if kind not in ("file", "hardlink"):
            return stop(tr("{path} is a {kind}, not an executable file", path=resolved, kind=kind))
        head = fs.head(resolved)
        if head[:4] == ELF_MAGIC:
            elf = ElfHeader.parse(head)
            if elf is None:
                return stop(tr("{path} starts like ELF but its header is truncated or malformed", path=resolved))
            executables.append((resolved, elf))
            if env_target:  # `#!/usr/bin/env python3`: env runs python3 found in PATH, which must run too
                try:
                    inner = _follow(fs, label, (env_target,), search_path, workdir)
                    chain.extend([tr("env runs {program}", program=env_target), *inner.chain])
                    executables.extend(inner.executables)
                    if inner.cannot_tell:
                        chain.append(inner.cannot_tell)
                except UNREADABLE as exc:
                    chain.append(tr("env runs {program}: {reason}", program=env_target, reason=unreadable_reason(exc)))
            return BinaryInfo(label, command, program, tuple(chain), tuple(executables))
        if head[:2] == b"#!":
            line = head[2:].split(b"\n", 1)[0]
            text = line.decode("utf-8", "replace").strip(" \t")
            chain.append(f"{resolved}: #!{text}")
            if text.endswith("\r"):
                return stop(
                    tr(
                        "the #! line of {path} ends with a carriage return (Windows line "
                        "endings): the kernel looks for an interpreter named with '\\r'",
                        path=resolved,
                    )
                )
            parts = text.split(None, 1)
            if not parts:
                return stop(tr("{path} has an empty #! line", path=resolved))
            interpreter, argument = parts[0], parts[1] if len(parts) > 1 else ""
            if posixpath.basename(interpreter) == "env" and argument:
                env_target = next((a for a in argument.split() if not a.startswith("-")), None)
            current = interpreter if interpreter.startswith("/") else posixpath.join(workdir, interpreter)
            continue
        return stop(
            tr(
                "{path} is neither an ELF executable nor a #! script (it starts with {head}); the kernel "
                "refuses such a file with 'exec format error' on every CPU",
                path=resolved,
                head=repr(head[:16]),
            ),
            refused_on_every_cpu=True,
        )
    return stop(tr("more than {count} nested #! interpreters (the kernel stops with ELOOP)", count=_MAX_INTERPRETERS))
