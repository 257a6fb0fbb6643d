"""The registry of facts the kit relies on: each with a stable id, its statement and the page it comes from.

Why a registry: a claim in a lesson, a runbook or a docstring is only as good as the page behind it,
so every claim cites a fact by id, as `(fact: sync-task-failed-cause)` or for several
`(facts: scheduler-dlq, sfn-metrics)`, and the fact names its AWS page, marks community sources, says
what AWS leaves undocumented and where the sandbox imitates it. The data lives in `sources.toml`;
`render_markdown()` makes `docs/facts.md` (`python -m sfnecs.model.sources > docs/facts.md`).
"""

from __future__ import annotations

import difflib
import re
import sys
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sfnecs.exceptions import ValidationError

#: Topics in the order docs/facts.md shows them: key -> heading.
TOPICS: dict[str, str] = {
    "iam": "IAM for `ecs:runTask.sync`",
    "sync": "How `.sync` decides",
    "schedules": "Schedules (EventBridge Scheduler)",
    "duplicates": "Duplicates and overlaps",
    "architecture": "CPU architecture and Fargate platforms",
    "task": "Networking, secrets and stopping a task",
    "events": "Events, metrics and dead letters",
    "executions": "Step Functions executions, tests and ARNs",
    "prices": "Prices (check before quoting)",
    "corrections": "Corrections to the note this kit teaches from",
}

#: Who publishes a source: AWS, another vendor's own documentation, or the community (observed, not stated).
KINDS = ("aws", "vendor", "community")

#: A fact id: lower-case kebab-case with at least two words.
ID_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+")

_ITEM = rf"(?:\[{ID_RE.pattern}\]\([^)\s]*\)|{ID_RE.pattern})"
_ITEM_RE = re.compile(rf"\[({ID_RE.pattern})\]\([^)\s]*\)|({ID_RE.pattern})")
#: A citation: `(fact: <id>)` or `(facts: <id>, <id>)`; in markdown an id may be a link, `[<id>](facts.md#<id>)`.
CITATION_RE = re.compile(rf"\(facts?: {_ITEM}(?:, {_ITEM})*\)")
#: Where a citation starts, well formed or not: "(fact:" or "(facts:" then an id's first character
#: (so a placeholder such as `<id>` and a Python parameter `(facts: Facts)` are not citations).
CITATION_START_RE = re.compile(r"\(facts?:\s*\[?[a-z0-9]")


@dataclass(frozen=True)
class Source:
    """One page a fact comes from: its title, URL and publisher kind (aws, vendor or community)."""

    title: str
    url: str
    kind: str

    @property
    def community(self) -> bool:
        """True when the page is community material, not a publisher's documentation."""
        return self.kind == "community"

    @property
    def ja_url(self) -> str:
        """The same AWS documentation page in Japanese (docs.aws.amazon.com/ja_jp/...), or '' for other pages.

        Why: the Japanese edition links AWS's own Japanese page for each fact. Translated pages can lag
        behind the English ones, so the English page stays the source."""
        prefix = "https://docs.aws.amazon.com/"
        if self.kind != "aws" or not self.url.startswith(prefix) or self.url.startswith(prefix + "ja_jp/"):
            return ""
        return prefix + "ja_jp/" + self.url[len(prefix) :]


@dataclass(frozen=True)
class Fact:
    """One fact: what the kit relies on, in its own words, and where it comes from."""

    id: str
    topic: str
    statement: str
    sources: tuple[Source, ...]
    undocumented: str = ""
    imitated_in: tuple[str, ...] = ()

    @property
    def community(self) -> bool:
        """True when no AWS or vendor page states the fact: only community sources back it."""
        return all(s.community for s in self.sources)

    def citation(self) -> str:
        """The citation text for this fact: `(fact: <id>)`."""
        return f"(fact: {self.id})"


def _source(fact_id: str, raw: dict[str, Any]) -> Source:
    """A validated Source of fact `fact_id`."""
    source = Source(title=str(raw.get("title", "")), url=str(raw.get("url", "")), kind=str(raw.get("kind", "")))
    if not source.title:
        raise ValidationError(f"{fact_id}.sources[].title", source.title, "a page title")
    if not source.url.startswith("https://"):
        raise ValidationError(f"{fact_id}.sources[].url", source.url, "an https:// URL")
    if source.kind not in KINDS:
        raise ValidationError(f"{fact_id}.sources[].kind", source.kind, "one of " + ", ".join(KINDS))
    return source


def _fact(raw: dict[str, Any]) -> Fact:
    """A validated Fact from one `[[fact]]` table of sources.toml."""
    fact_id = str(raw.get("id", ""))
    if not ID_RE.fullmatch(fact_id):
        raise ValidationError("fact.id", fact_id, "lower-case kebab-case of two words or more")
    topic = str(raw.get("topic", ""))
    if topic not in TOPICS:
        raise ValidationError(f"{fact_id}.topic", topic, "one of " + ", ".join(TOPICS))
    statement = str(raw.get("statement", "")).strip()
    if not statement:
        raise ValidationError(f"{fact_id}.statement", statement, "the fact in the kit's own words")
    sources = tuple(_source(fact_id, s) for s in raw.get("sources", ()))
    if not sources:
        raise ValidationError(f"{fact_id}.sources", [], "at least one page")
    modules = tuple(str(m) for m in raw.get("imitated_in", ()))
    for module in modules:
        if not re.fullmatch(r"sfnecs(\.[a-z_]+)+", module):
            raise ValidationError(f"{fact_id}.imitated_in", module, "a dotted sfnecs module path")
    return Fact(fact_id, topic, statement, sources, str(raw.get("undocumented", "")).strip(), modules)


def load(text: str) -> tuple[Fact, ...]:
    """Facts from the text of a sources.toml, validated; ids must be unique."""
    facts = tuple(_fact(raw) for raw in tomllib.loads(text).get("fact", ()))
    seen: set[str] = set()
    for f in facts:
        if f.id in seen:
            raise ValidationError("fact.id", f.id, "an id used once (this one is repeated)")
        seen.add(f.id)
    return facts


#: Every fact, in the order of sources.toml.
FACTS: tuple[Fact, ...] = load(resources.files("sfnecs.model").joinpath("sources.toml").read_text(encoding="utf-8"))
_BY_ID: dict[str, Fact] = {f.id: f for f in FACTS}


def fact(fact_id: str) -> Fact:
    """The fact with this id; an unknown id raises, naming the closest known ids."""
    try:
        return _BY_ID[fact_id]
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(fact_id), list(_BY_ID), n=3)
        hint = f"did you mean {', '.join(close)}?" if close else "see docs/facts.md for the ids"
        raise ValidationError("fact_id", fact_id, f"an id in sfnecs/model/sources.toml; {hint}") from None


def cite(*fact_ids: str) -> str:
    """The citation for known facts, `(fact: <id>)` or `(facts: <id>, <id>)`; an unknown id raises."""
    if not fact_ids:
        raise ValidationError("fact_ids", fact_ids, "at least one fact id")
    ids = [fact(i).id for i in fact_ids]
    return f"(fact{'s' if len(ids) > 1 else ''}: {', '.join(ids)})"


def cited_ids(text: str) -> tuple[list[str], list[str]]:
    """(fact ids cited in `text`, citations that are malformed), in order of appearance.

    A malformed citation is one that starts like `(fact:` but is not `(fact: <id>)` / `(facts: <id>, ...)`.
    """
    ids: list[str] = []
    malformed: list[str] = []
    for start in CITATION_START_RE.finditer(text):
        match = CITATION_RE.match(text, start.start())
        if match is None:
            malformed.append(text[start.start() :].split("\n")[0].split(")")[0][:60] + ")")
            continue
        items = match.group(0)[match.group(0).index(":") + 1 : -1]
        ids += [linked or plain for linked, plain in _ITEM_RE.findall(items)]
    return ids, malformed


def _source_line(source: Source) -> str:
    """One markdown bullet for a source, marked when it is not an AWS page."""
    mark = {"aws": "", "vendor": " *(not AWS: the tool's own documentation)*", "community": " *(community)*"}
    japanese = f" ([日本語]({source.ja_url}))" if source.ja_url else ""
    return f"- [{source.title}]({source.url}){mark[source.kind]}{japanese}"


def render_markdown(registry: tuple[Fact, ...] = FACTS) -> str:
    """docs/facts.md: every fact under its topic, with its sources and where the sandbox imitates it."""
    lines = [
        "# Facts this kit relies on",
        "",
        "<!-- Generated from lib/sfnecs/model/sources.toml: do not edit by hand. Regenerate with",
        "     .venv/bin/python -m sfnecs.model.sources > docs/facts.md -->",
        "",
        "Each claim the lessons, runbooks and code make about AWS cites one of these facts by id, written",
        "`(fact: <id>)`. Each fact is stated in the kit's own words, with the page it comes from. Pages marked",
        "*community* are observations by users, not statements by AWS; *not documented by AWS* says what AWS",
        "leaves unsaid, and the sandbox's choice there is an assumption. Re-check a fact on its page before",
        "you rely on it: AWS pages change, and translated copies can lag behind the English ones.",
        "",
        f"{len(registry)} facts.",
    ]
    for topic, heading in TOPICS.items():
        members = [f for f in registry if f.topic == topic]
        if not members:
            continue
        lines += ["", f"## {heading}"]
        for f in members:
            lines += ["", f"### {f.id}", "", f.statement, ""]
            if f.undocumented:
                lines += [f"**Not documented by AWS:** {f.undocumented}", ""]
            lines += ["Sources:", *(_source_line(s) for s in f.sources)]
            if f.imitated_in:
                lines += ["", "Imitated or encoded in: " + ", ".join(f"`{m}`" for m in f.imitated_in)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_markdown())
