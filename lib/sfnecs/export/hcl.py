"""HCL text as `terraform fmt` lays it out: blocks, attributes, expressions with the export tokens.

Why its own module: Terraform files are written without a terraform binary, and `terraform fmt -check`
must pass on them; the layout rules (two-space indent, `=` aligned over a run of one-line attributes,
a multi-line value ending the run) live here once, apart from what each resource says.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sfnecs.export.tokens import Pseudo, Ref, Text, Value

__all__ = ["Attr", "Block", "Comment", "Expr", "JsonEncode", "render_blocks", "string"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Expr:
    """An HCL expression written as is, e.g. `var.notify_email == "" ? 0 : 1`."""

    text: str


@dataclass(frozen=True)
class JsonEncode:
    """`jsonencode(<value>)`: how Terraform users write a JSON document (policy, ASL) in HCL."""

    value: Any


@dataclass(frozen=True)
class Attr:
    key: str
    value: Any


@dataclass(frozen=True)
class Comment:
    text: str


@dataclass
class Block:
    type: str
    labels: tuple[str, ...] = ()
    body: list[Attr | Block | Comment] = field(default_factory=list)


#: how a token is spelled in HCL (set by sfnecs.export.terraform: references depend on the stack)
Speller = Callable[[Pseudo | Ref | Value], str]


def string(text: str) -> str:
    """A quoted HCL string: JSON escapes, and `${` / `%{` doubled so they stay literal (not templates)."""
    return json.dumps(text, ensure_ascii=False).replace("${", "$${").replace("%{", "%%{")


def _key(key: str) -> str:
    return key if _IDENTIFIER.fullmatch(key) else string(key)


def expression(value: Any, spell: Speller, indent: int = 0) -> str:
    """A value (JSON-like, with tokens) as an HCL expression; nested lines indented from `indent`."""
    pad = "  " * indent
    if isinstance(value, Expr):
        return value.text
    if isinstance(value, JsonEncode):
        return f"jsonencode({expression(value.value, spell, indent)})"
    if isinstance(value, (Pseudo, Ref, Value)):
        return spell(value)
    if isinstance(value, Text):
        inner = "".join(string(p)[1:-1] if isinstance(p, str) else "${" + spell(p) + "}" for p in value.parts)
        return f'"{inner}"'
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "\n".join(["{", *_lines([Attr(_key(k), v) for k, v in value.items()], spell, indent + 1), pad + "}"])
    if isinstance(value, list):
        items = [expression(v, spell, indent + 1) for v in value]
        one_line = "[" + ", ".join(items) + "]"
        if all("\n" not in i for i in items) and len(one_line) + len(pad) <= 100:
            return one_line
        return "\n".join(["[", *(f"{pad}  {i}," for i in items), pad + "]"])
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return string(str(value))


def _lines(body: list[Attr | Block | Comment], spell: Speller, indent: int) -> list[str]:
    """A body's lines: one-line attributes in a run share the `=` column (as `terraform fmt` aligns them)."""
    pad = "  " * indent
    out: list[str] = []
    run: list[tuple[str, str]] = []

    def flush() -> None:
        width = max((len(k) for k, _ in run), default=0)
        out.extend(f"{pad}{k.ljust(width)} = {v}" for k, v in run)
        run.clear()

    for entry in body:
        if isinstance(entry, Attr):
            text = expression(entry.value, spell, indent)
            if "\n" in text:
                flush()
                out.append(f"{pad}{entry.key} = {text}")
            else:
                run.append((entry.key, text))
            continue
        flush()
        if isinstance(entry, Comment):
            out.append(f"{pad}# {entry.text}" if not entry.text.startswith("#") else pad + entry.text)
        else:
            out.extend(_block(entry, spell, indent))
    flush()
    return out


def _block(block: Block, spell: Speller, indent: int) -> list[str]:
    pad = "  " * indent
    head = " ".join([block.type, *(json.dumps(label) for label in block.labels)])
    if not block.body:
        return [f"{pad}{head} {{}}"]
    return [f"{pad}{head} {{", *_lines(block.body, spell, indent + 1), f"{pad}}}"]


def render_blocks(blocks: list[Block | Comment], spell: Speller) -> str:
    """Top-level blocks separated by a blank line, comments kept right above the block that follows."""
    chunks: list[str] = []
    pending: list[str] = []
    for entry in blocks:
        if isinstance(entry, Comment):
            pending.append(f"# {entry.text}" if entry.text else "#")
            continue
        chunks.append("\n".join([*pending, *_block(entry, spell, 0)]))
        pending = []
    if pending:
        chunks.append("\n".join(pending))
    return "\n\n".join(chunks) + "\n"
