"""A definition drawn top-down: a small layered layout rendered as SVG, Mermaid text and an edge table.

Why hand-drawn: graphviz binaries are not guaranteed on a learner's machine, and the kit's state
machines (a few dozen states at most) are small enough for a simple layered layout.
"""

from __future__ import annotations

import html
import itertools
import json
import math
import textwrap
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from sfnecs.exceptions import ValidationError
from sfnecs.i18n import N_, current_language, localize, tr
from sfnecs.statemachine.build import to_json


@dataclass(frozen=True)
class Edge:
    """One transition of the diagram: Next, a Choice rule or Default, a Catch, or a Retry (a loop)."""

    source: str
    target: str
    kind: str  # next | choice | default | catch | retry (EDGE_KINDS)
    label: str = ""  # as shown, in the language chosen when the diagram was drawn


@dataclass(frozen=True)
class Box:
    """A state's box: its top-left corner and size in SVG user units."""

    name: str
    type: str
    x: float
    y: float
    width: float
    height: float
    end: bool = False
    comment: str = ""


@dataclass(frozen=True)
class Route:
    """Where an edge is drawn: the points its curve passes through and where its label sits."""

    edge: Edge
    points: tuple[tuple[float, float], ...]
    label_xy: tuple[float, float]
    label_anchor: str = "middle"


#: the kinds of transition (N_: the edge table keeps these, its display shows them translated)
EDGE_KINDS = (N_("next"), N_("choice"), N_("default"), N_("catch"), N_("retry"))
#: the edge table's columns
EDGE_COLUMNS = [N_("source"), N_("target"), N_("kind"), N_("label")]
#: fill and stroke per state type (Step Functions console-like colours)
_COLORS = {
    "Task": ("#dbeafe", "#1d4ed8"),
    "Choice": ("#fef3c7", "#b45309"),
    "Pass": ("#f3f4f6", "#4b5563"),
    "Succeed": ("#dcfce7", "#15803d"),
    "Fail": ("#fee2e2", "#b91c1c"),
    "Wait": ("#ede9fe", "#6d28d9"),
    "Parallel": ("#e0f2fe", "#0369a1"),
    "Map": ("#e0f2fe", "#0369a1"),
}
_EDGE_COLORS = {"next": "#374151", "choice": "#b45309", "default": "#b45309", "catch": "#b91c1c", "retry": "#1d4ed8"}
_BOX_H, _ROW_GAP, _COL_GAP, _MARGIN, _CHAR_W, _LABEL_CHAR_W = 44.0, 70.0, 40.0, 24.0, 7.4, 6.2
_LABEL_LINE_H, _LABEL_WRAP = 12.0, 34  # a label longer than _LABEL_WRAP characters is drawn on several lines
_TOP = _MARGIN + 28  # room for the start marker
_DUMMY_W = 16.0


@dataclass(frozen=True)
class Diagram:
    """A state machine drawn top-down: SVG for notebooks and pages, Mermaid text, an edge table.

    Why hand-drawn SVG: graphviz binaries are not guaranteed on a learner's machine, and the
    kit's machines (a few dozen states at most) are small enough for a simple layered layout.
    """

    definition: Mapping[str, Any]
    boxes: tuple[Box, ...]
    edges: tuple[Edge, ...]
    routes: tuple[Route, ...] = field(repr=False)
    width: float
    height: float
    title: str = ""

    def to_frame(self) -> pd.DataFrame:
        """One row per edge: source, target, kind, label."""
        return pd.DataFrame([e.__dict__ for e in self.edges], columns=EDGE_COLUMNS)

    def to_svg(self) -> str:
        """The diagram as a standalone SVG document (parses as XML)."""
        default_title = tr("state machine")
        out = [
            (
                f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width:.0f} {self.height:.0f}" '
                f'width="{self.width:.0f}" height="{self.height:.0f}" font-family="Helvetica, Arial, sans-serif" '
                f'role="img" aria-label="{html.escape(self.title or default_title, quote=True)}">'
            ),
            "<defs>"
            + "".join(
                f'<marker id="arrow-{kind}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
                f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{color}"/>'
                f"</marker>"
                for kind, color in _EDGE_COLORS.items()
            )
            + "</defs>",
            '<rect width="100%" height="100%" fill="#ffffff"/>',
        ]
        start = next((b for b in self.boxes if b.name == self.definition.get("StartAt")), None)
        if start is not None:
            cx = start.x + start.width / 2
            out.append(
                f'<circle cx="{cx:.1f}" cy="{start.y - 22:.1f}" r="6" fill="#111827"/>'
                f'<line x1="{cx:.1f}" y1="{start.y - 16:.1f}" x2="{cx:.1f}" y2="{start.y - 2:.1f}" '
                f'stroke="#111827" stroke-width="1.5" marker-end="url(#arrow-next)"/>'
            )
        out += [_svg_route(r) for r in self.routes]
        out += [_svg_box(b) for b in self.boxes]
        out += [_svg_label(r) for r in self.routes if r.edge.label]  # last: over lines and boxes
        out.append("</svg>")
        return "\n".join(out)

    def _repr_svg_(self) -> str:
        return self.to_svg()

    def _repr_html_(self) -> str:
        return f'<div style="max-width:100%;overflow-x:auto">{self.to_svg()}</div>'

    def to_html(self, title: str | None = None) -> str:
        """A static HTML page: the diagram, the transition table and the definition's JSON."""
        title = title or self.title or tr("State machine")
        transitions, asl = tr("Transitions"), tr("Definition (ASL)")
        return (
            f'<!DOCTYPE html>\n<html lang="{current_language()}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n<style>body{{font-family:Helvetica,Arial,sans-serif;"
            "margin:2rem;color:#111827}pre{background:#f9fafb;padding:1rem;overflow-x:auto}"
            "table{border-collapse:collapse}td,th{border:1px solid #d1d5db;padding:.25rem .5rem;"
            "text-align:left}</style>\n</head>\n<body>\n"
            f"<h1>{html.escape(title)}</h1>\n{self.to_svg()}\n<h2>{html.escape(transitions)}</h2>\n"
            f"{localize(self.to_frame()).to_html(index=False, border=0)}\n"
            f"<details><summary>{html.escape(asl)}</summary>"
            f"<pre>{html.escape(to_json(self.definition))}</pre>"
            "</details>\n</body>\n</html>\n"
        )

    def to_mermaid(self) -> str:
        """The diagram as Mermaid `flowchart TD` text (renders on GitHub and in JupyterLab Markdown)."""
        ids = {b.name: f"s{i}" for i, b in enumerate(self.boxes)}
        shapes = {"Choice": ('{"', '"}'), "Succeed": ('(["', '"])'), "Fail": ('(["', '"])'), "Pass": ('[/"', '"/]')}
        lines = ["flowchart TD"]
        for box in self.boxes:
            left, right = shapes.get(box.type, ('["', '"]'))
            lines.append(f"  {ids[box.name]}{left}{_mermaid_text(box.name)}{right}")
        if (start := self.definition.get("StartAt")) in ids:
            lines.append(f"  start(( )) --> {ids[start]}")
        for e in self.edges:
            arrow = "-.->" if e.kind in ("catch", "retry") else "-->"
            label = f'|"{_mermaid_text(e.label)}"|' if e.label else ""
            lines.append(f"  {ids[e.source]} {arrow}{label} {ids[e.target]}")
        for kind in ("Task", "Choice", "Pass", "Succeed", "Fail"):
            members = [ids[b.name] for b in self.boxes if b.type == kind]
            if members:
                fill, stroke = _COLORS[kind]
                lines += [
                    f"  classDef {kind.lower()} fill:{fill},stroke:{stroke}",
                    f"  class {','.join(members)} {kind.lower()}",
                ]
        return "\n".join(lines) + "\n"


def diagram(definition: Mapping[str, Any], title: str = "") -> Diagram:
    """Lay out a definition's top-level states top-down, one row per step from StartAt.

    Why: a learner sees what each switch adds (the guard, the retries, the notification path);
    the `Diagram` renders itself in a notebook and as a static page.
    """
    states = definition.get("States") if isinstance(definition, Mapping) else None
    if not isinstance(states, Mapping) or not states or not all(isinstance(s, Mapping) for s in states.values()):
        raise ValidationError("definition", definition, N_("an ASL definition with a non-empty States object"))
    edges = tuple(_edges(states))
    layout = _Layout(states, edges, str(definition.get("StartAt")))
    return Diagram(
        definition=definition,
        boxes=layout.boxes,
        edges=edges,
        routes=layout.routes,
        width=layout.width,
        height=layout.height,
        # the definition's ASL `Comment` stays as written (English): it is deployed text, not the kit's display
        title=title or str(definition.get("Comment", "")),
    )


def _edges(states: Mapping[str, Any]) -> Iterator[Edge]:
    for name, state in states.items():
        for retrier in state.get("Retry") or ():
            errors, attempts = ", ".join(retrier.get("ErrorEquals", [])), retrier.get("MaxAttempts", 3)
            yield Edge(name, name, "retry", tr("retry {errors} \u00d7{attempts}", errors=errors, attempts=attempts))
        for rule in state.get("Choices") or ():
            if rule.get("Next") in states:  # the whole condition: the diagram wraps it, never cuts it
                yield Edge(name, rule["Next"], "choice", " ".join(_rule_text(rule).split()))
        if state.get("Default") in states:
            yield Edge(name, state["Default"], "default", tr("default"))
        if state.get("Next") in states:
            yield Edge(name, state["Next"], "next", "")
        for catcher in state.get("Catch") or ():
            if catcher.get("Next") in states:
                errors = ", ".join(catcher.get("ErrorEquals", []))
                yield Edge(name, catcher["Next"], "catch", tr("catch {errors}", errors=errors))


_OPERATORS = {
    "EqualsPath": "==",
    "Equals": "==",
    "GreaterThanEqualsPath": ">=",
    "GreaterThanEquals": ">=",
    "GreaterThanPath": ">",
    "GreaterThan": ">",
    "LessThanEqualsPath": "<=",
    "LessThanEquals": "<=",
    "LessThanPath": "<",
    "LessThan": "<",
    "Matches": "matches",
}


def _rule_text(rule: Mapping[str, Any]) -> str:
    """A Choice rule in a few words: the JSONata Condition, or the JSONPath comparison."""
    if "Condition" in rule:
        return str(rule["Condition"]).removeprefix("{%").removesuffix("%}").strip()
    if "And" in rule or "Or" in rule:
        joiner = " and " if "And" in rule else " or "
        return joiner.join(_rule_text(r) for r in rule.get("And") or rule.get("Or") or ())
    if "Not" in rule:
        return f"not ({_rule_text(rule['Not'])})"
    variable = rule.get("Variable", "?")
    for key, value in rule.items():
        if key in ("Variable", "Next", "Comment", "Assign", "Output"):
            continue
        if key.startswith("Is"):
            return f"{variable} {'is' if value else 'is not'} {key[2:].lower()}"
        op = next((sym for suffix, sym in _OPERATORS.items() if key.endswith(suffix)), key)
        return f"{variable} {op} {value if key.endswith('Path') else json.dumps(value)}"
    return variable


def label_lines(edge: Edge) -> list[str]:
    """The lines an edge's label is drawn on: long conditions wrap at spaces; retry labels stay on one line."""
    if edge.kind == "retry" or text_columns(edge.label) <= _LABEL_WRAP:
        return [edge.label]
    return textwrap.wrap(edge.label, _LABEL_WRAP, break_long_words=False, break_on_hyphens=False)


def text_columns(text: str) -> int:
    """How many Latin-letter widths `text` takes: a wide (CJK) character counts as two.

    Why: the layout sizes labels without a font renderer; a Japanese label ("再試行 ...") is about
    twice as wide per character as a Latin one, and counting it as one would cut it at the canvas edge.
    """
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def label_extent(route: Route) -> tuple[float, float, float, float]:
    """The box (left, top, right, bottom) a route's label covers, estimated from its characters.

    Why estimated: the layout runs without a font renderer; the per-character width is a generous
    average for 10.5 px Helvetica, so the canvas is sized to hold every label whole."""
    lines = label_lines(route.edge)
    width = _LABEL_CHAR_W * max(text_columns(line) for line in lines)
    x, y = route.label_xy
    left = {"start": x, "end": x - width}.get(route.label_anchor, x - width / 2)
    return left, y - 10.0, left + width, y + 3.0 + _LABEL_LINE_H * (len(lines) - 1)


class _Layout:
    """A layered (Sugiyama-style) top-down layout, small enough to read.

    Rows by longest path from StartAt (edges closing a loop ignored), invisible waypoints where an
    edge skips rows so it does not cut through boxes, one barycentre sweep to reduce crossings.
    """

    def __init__(self, states: Mapping[str, Any], edges: tuple[Edge, ...], start: str) -> None:
        self.states, self.edges = states, edges
        names = list(states)
        successors: dict[str, list[str]] = {n: [] for n in names}
        for e in edges:
            if e.kind != "retry" and e.target not in successors[e.source]:
                successors[e.source].append(e.target)
        # depth-first from StartAt, then from any state it does not reach (drawn below the rest)
        self.forward: set[tuple[str, str]] = set()
        order: list[str] = []
        on_stack: set[str] = set()

        def visit(node: str) -> None:
            order.append(node)
            on_stack.add(node)
            for nxt in successors[node]:
                if nxt not in on_stack:  # an edge back to the stack closes a loop: not a row constraint
                    self.forward.add((node, nxt))
                    if nxt not in order:
                        visit(nxt)
            on_stack.discard(node)

        roots = ([start] if start in successors else []) + names
        depth: dict[str, int] = {}
        for root in roots:
            if root in order:
                continue
            first = len(order)
            visit(root)
            base = max(depth.values(), default=-1) + 1
            for node in _topological(order[first:], self.forward):
                depth.setdefault(node, base)
                for a, b in self.forward:
                    if a == node and b in order[first:]:
                        depth[b] = max(depth.get(b, base), depth[node] + 1)
        self.depth = depth
        # waypoints on the rows an edge skips
        self.waypoints: dict[tuple[str, str], list[str]] = {}
        rows: list[list[str]] = [[] for _ in range(max(depth.values()) + 1)]
        for node in order:
            rows[depth[node]].append(node)
        parents: dict[str, list[str]] = {}
        for a, b in sorted(self.forward, key=lambda ab: (order.index(ab[0]), order.index(ab[1]))):
            chain = [a]
            for level in range(depth[a] + 1, depth[b]):
                dummy = f"\0{a}\0{b}\0{level}"
                rows[level].append(dummy)
                chain.append(dummy)
            self.waypoints[(a, b)] = chain[1:]
            for p, c in zip(chain, chain[1:] + [b], strict=True):
                parents.setdefault(c, []).append(p)
        position = {n: i for row in rows for i, n in enumerate(row)}
        for row in rows[1:]:
            row.sort(
                key=lambda n: (
                    sum(position[p] for p in parents.get(n, [])) / len(parents[n]) if parents.get(n) else math.inf,
                    position[n],
                )
            )
            position.update({n: i for i, n in enumerate(row)})
        self.rows = rows
        self._place()
        self._route()

    def _width(self, name: str) -> float:
        if name.startswith("\0"):
            return _DUMMY_W
        return max(120.0, _CHAR_W * max(len(name), len(str(self.states[name].get("Type", ""))) + 6) + 28)

    def _place(self) -> None:
        loops = [e for e in self.edges if e.kind == "retry"]
        backs = any((e.source, e.target) not in self.forward for e in self.edges if e.kind != "retry")
        left = _MARGIN + (90.0 if backs else 0.0)
        row_widths = [sum(self._width(n) for n in row) + _COL_GAP * (len(row) - 1) for row in self.rows]
        widest = max(row_widths)
        self.centres: dict[str, tuple[float, float]] = {}
        boxes = []
        for r, row in enumerate(self.rows):
            x = left + (widest - row_widths[r]) / 2
            y = _TOP + r * (_BOX_H + _ROW_GAP)
            for name in row:
                w = self._width(name)
                self.centres[name] = (x + w / 2, y)
                if not name.startswith("\0"):
                    state = self.states[name]
                    boxes.append(
                        Box(
                            name,
                            str(state.get("Type", "?")),
                            x,
                            y,
                            w,
                            _BOX_H,
                            end=bool(state.get("End")) or state.get("Type") in ("Succeed", "Fail"),
                            comment=str(state.get("Comment", "")),
                        )
                    )
                x += w + _COL_GAP
        self.boxes = tuple(boxes)
        self.box = {b.name: b for b in boxes}
        # room on the right for retry loops and their labels
        right = max(
            (
                self.box[e.source].x + self.box[e.source].width + 56 + _LABEL_CHAR_W * text_columns(e.label)
                for e in loops
            ),
            default=0.0,
        )
        self.width = max(left + widest, right) + _MARGIN
        self.height = _TOP + len(self.rows) * (_BOX_H + _ROW_GAP) - _ROW_GAP + _MARGIN + 8

    def _ports(self) -> dict[tuple[int, str], float]:
        """x of each forward edge's end on its box: edges leaving (or entering) a box spread along it."""
        ends: dict[tuple[str, str], list[tuple[float, int]]] = {}
        for i, e in enumerate(self.edges):
            if e.kind == "retry" or (e.source, e.target) not in self.forward:
                continue
            way = self.waypoints[(e.source, e.target)]
            first = self.centres[way[0]][0] if way else self.centres[e.target][0]
            last = self.centres[way[-1]][0] if way else self.centres[e.source][0]
            ends.setdefault(("out", e.source), []).append((first, i))
            ends.setdefault(("in", e.target), []).append((last, i))
        ports: dict[tuple[int, str], float] = {}
        for (side, name), items in ends.items():
            box = self.box[name]
            for k, (_, i) in enumerate(sorted(items)):
                ports[(i, side)] = box.x + box.width * (k + 1) / (len(items) + 1)
        return ports

    def _route(self) -> None:
        ports, routes = self._ports(), []
        loops_seen: dict[str, int] = {}
        fan_out: dict[str, int] = {}
        backs_seen = 0
        for i, e in enumerate(self.edges):
            a, b = self.box[e.source], self.box[e.target]
            if e.kind == "retry":
                k = loops_seen[e.source] = loops_seen.get(e.source, -1) + 1
                x, y, reach = a.x + a.width, a.y + a.height / 2, 34 + 10 * k
                points = ((x, y - 8), (x + reach, y - 8 - reach / 3), (x + reach, y + 8 + reach / 3), (x, y + 8))
                routes.append(Route(e, points, (x + reach + 6, y + 4 - 8 + 13 * k), "start"))
            elif (e.source, e.target) in self.forward:
                path = [(ports[(i, "out")], a.y + a.height)]
                for dummy in self.waypoints[(e.source, e.target)]:
                    cx, top = self.centres[dummy]
                    path += [(cx, top), (cx, top + _BOX_H)]
                path.append((ports[(i, "in")], b.y))
                # the label on the segment leaving the state (what makes this transition happen),
                # at three heights in turn where several leave one state, so they do not overlap
                k = fan_out.get(e.source, 0)
                fan_out[e.source] = k + 1
                x, y = _on_curve(path[0], path[1], 0.22 + 0.28 * (k % 3))
                # beside the curve, on the side it turns to, so labels of a fan-out do not cover each other
                turn = path[1][0] - path[0][0]
                anchor = "end" if turn < -1 else "start" if turn > 1 else "middle"
                x += {"end": -6.0, "start": 6.0}.get(anchor, 0.0)
                lift = _LABEL_LINE_H * (len(label_lines(e)) - 1) / 2
                routes.append(Route(e, tuple(path), (x, y + 4 - lift), anchor))
            else:  # closes a loop: around the left side
                out = min(a.x, b.x) - 30 - 12 * backs_seen
                backs_seen += 1
                ya, yb = a.y + a.height / 2, b.y + b.height / 2
                points = ((a.x, ya), (out, ya), (out, yb), (b.x, yb))
                routes.append(Route(e, points, (out - 4, (ya + yb) / 2), "end"))
        self.routes = tuple(routes)
        self._fit()

    def _fit(self) -> None:
        """Move labels that would cover one another apart, then move the picture right and grow the
        canvas until every label is whole inside it."""
        placed: list[tuple[float, float, float, float]] = []
        routes = []
        for r in self.routes:
            if r.edge.label:
                for _ in range(len(placed) + 1):
                    box = label_extent(r)
                    hit = next((p for p in placed if _overlap(box, p)), None)
                    if hit is None:
                        break
                    r = replace(r, label_xy=(r.label_xy[0], r.label_xy[1] + hit[3] - box[1] + 2))
                placed.append(label_extent(r))
            routes.append(r)
        self.routes = tuple(routes)
        extents = [label_extent(r) for r in self.routes if r.edge.label]
        left = min([e[0] for e in extents] + [b.x for b in self.boxes] + [_MARGIN])
        dx = _MARGIN - left if left < _MARGIN else 0.0
        if dx:
            self.boxes = tuple(replace(b, x=b.x + dx) for b in self.boxes)
            self.box = {b.name: b for b in self.boxes}
            self.routes = tuple(
                replace(r, points=tuple((x + dx, y) for x, y in r.points), label_xy=(r.label_xy[0] + dx, r.label_xy[1]))
                for r in self.routes
            )
        right = max([e[2] + dx for e in extents], default=0.0)
        bottom = max([e[3] for e in extents], default=0.0)
        self.width = max(self.width + dx, right + _MARGIN)
        self.height = max(self.height, bottom + _MARGIN)


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Whether two (left, top, right, bottom) boxes share any area."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _on_curve(a: tuple[float, float], b: tuple[float, float], t: float) -> tuple[float, float]:
    """The point at parameter t of the vertical S-curve from a to b (as `_svg_route` draws it)."""
    (xa, ya), (xb, yb) = a, b
    bend = (yb - ya) / 2
    u = 1 - t
    return (
        u**3 * xa + 3 * u * u * t * xa + 3 * u * t * t * xb + t**3 * xb,
        u**3 * ya + 3 * u * u * t * (ya + bend) + 3 * u * t * t * (yb - bend) + t**3 * yb,
    )


def _topological(nodes: list[str], forward: set[tuple[str, str]]) -> list[str]:
    inside = set(nodes)
    indegree = {n: sum(1 for a, b in forward if b == n and a in inside) for n in nodes}
    ready, order = [n for n in nodes if indegree[n] == 0], []
    while ready:
        node = ready.pop(0)
        order.append(node)
        for a, b in sorted(forward, key=lambda ab: nodes.index(ab[1]) if ab[1] in inside else 0):
            if a == node and b in inside:
                indegree[b] -= 1
                if indegree[b] == 0:
                    ready.append(b)
    return order


def _svg_box(box: Box) -> str:
    fill, stroke = _COLORS.get(box.type, ("#ffffff", "#111827"))
    end = " \u00b7 " + tr("end") if box.end and box.type not in ("Succeed", "Fail") else ""
    kind = html.escape(box.type + end)
    # the tooltip shows the state's ASL `Comment` as written: it is part of the deployed definition, whose
    # text stays English in every language (only the kit's own words around it are translated)
    tip = html.escape(f"{box.name} ({box.type}){': ' + box.comment if box.comment else ''}")
    cx = box.x + box.width / 2
    return (
        f'<g class="state" data-state="{html.escape(box.name, quote=True)}"><title>{tip}</title>'
        f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" height="{box.height:.1f}" '
        f'rx="{14 if box.type == "Choice" else 4}" fill="{fill}" stroke="{stroke}" '
        f'stroke-width="{2.5 if box.end else 1.2}"/>'
        f'<text x="{cx:.1f}" y="{box.y + 19:.1f}" text-anchor="middle" font-size="13" font-weight="600" '
        f'fill="#111827">{html.escape(box.name)}</text>'
        f'<text x="{cx:.1f}" y="{box.y + 35:.1f}" text-anchor="middle" font-size="10.5" fill="{stroke}">'
        f"{kind}</text></g>"
    )


def _svg_route(route: Route) -> str:
    kind, points = route.edge.kind, route.points
    color = _EDGE_COLORS.get(kind, "#374151")
    dash = ' stroke-dasharray="5 3"' if kind in ("catch", "retry") else ""
    if kind == "retry" or points[0][1] == points[-1][1] or len(points) == 4 and points[1][1] == points[0][1]:
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points
        d = f"M{x0:.1f},{y0:.1f} C{x1:.1f},{y1:.1f} {x2:.1f},{y2:.1f} {x3:.1f},{y3:.1f}"
    else:  # smooth vertical S-curves through the waypoints
        d = f"M{points[0][0]:.1f},{points[0][1]:.1f}"
        for (xa, ya), (xb, yb) in itertools.pairwise(points):
            bend = (yb - ya) / 2
            d += f" C{xa:.1f},{ya + bend:.1f} {xb:.1f},{yb - bend:.1f} {xb:.1f},{yb:.1f}"
    return (
        f'<path class="edge" data-kind="{kind}" data-from="{html.escape(route.edge.source, quote=True)}" '
        f'data-to="{html.escape(route.edge.target, quote=True)}" d="{d}" fill="none" stroke="{color}" '
        f'stroke-width="1.4"{dash} marker-end="url(#arrow-{kind})"/>'
    )


def _svg_label(route: Route) -> str:
    x, y = route.label_xy
    color = _EDGE_COLORS.get(route.edge.kind, "#374151")
    lines = label_lines(route.edge)
    body = (
        html.escape(lines[0])
        if len(lines) == 1
        else "".join(
            f'<tspan x="{x:.1f}" dy="{0 if i == 0 else _LABEL_LINE_H:.0f}">{html.escape(line)}</tspan>'
            for i, line in enumerate(lines)
        )
    )
    return (
        f'<text class="label" data-kind="{route.edge.kind}" x="{x:.1f}" y="{y:.1f}" '
        f'text-anchor="{route.label_anchor}" font-size="10.5" fill="{color}" '
        f'stroke="#ffffff" stroke-width="3" paint-order="stroke">{body}</text>'
    )


def _mermaid_text(text: str) -> str:
    """Mermaid label text: quotes, ampersands and angle brackets as entity codes, no line breaks."""
    return " ".join(text.split()).replace("&", "#38;").replace('"', "#34;").replace("<", "#60;").replace(">", "#62;")
