"""The fact registry (`sfnecs.model.sources`) and the rule that every source is in the repository.

A learner must be able to check each claim: code, docs, runbooks, benches, tests and lessons cite facts
by id (`(fact: <id>)`, rendered in docs/facts.md with their AWS pages) and never a file the repository
does not ship.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sfnecs.exceptions import ValidationError
from sfnecs.model.sources import FACTS, KINDS, TOPICS, cite, cited_ids, fact, load, render_markdown

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("lib", "runbooks", "bench", "docs", "README.md", "tests", "notebooks")
#: Files outside the repository that older text cited; cite a fact (or say the reason) instead. (Each name
#: is spelled with a character class so that this line, a pattern, is not itself a reference.)
MISSING_FILE_RE = re.compile(r"AWS_FACT[S]|DESIG[N]\.md|STYL[E]\.md|ORIGINAL_NOT[E]|\.\./shared|/work/shared")
#: This file names the patterns it forbids and shows malformed citations on purpose.
SELF = Path(__file__).resolve()

# Files allowed to keep references to files outside the repository, with how many: none any more. The
# list only shrinks; it stays so that a temporary exception is explicit, counted and reviewed.
LESSON_ALLOWANCE: dict[str, int] = {}

REGENERATE = ".venv/bin/python -m sfnecs.model.sources > docs/facts.md"


def _scanned_files() -> list[Path]:
    """Every text file under the scanned roots (caches and binaries skipped)."""
    files: list[Path] = []
    for name in SCANNED:
        top = ROOT / name
        candidates = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for path in candidates:
            if {"__pycache__", ".ipynb_checkpoints"} & set(path.parts) or path.resolve() == SELF:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            if "\x00" not in text:
                files.append(path)
    return files


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# ---- the registry --------------------------------------------------------------------------------------


def test_every_fact_is_complete_and_its_modules_exist():
    assert len(FACTS) >= 50
    for f in FACTS:
        assert f.topic in TOPICS, f.id
        assert len(f.statement) > 40, f.id
        assert f.sources and all(s.kind in KINDS for s in f.sources), f.id
        for s in f.sources:
            assert s.url.startswith("https://"), (f.id, s.url)
            if s.kind == "aws" and "docs.aws.amazon.com" in s.url:
                assert "/latest/" in s.url and not re.search(r"/(ja_jp|zh_cn|ko_kr|de_de)/", s.url), (f.id, s.url)
        for module in f.imitated_in:
            path = ROOT / "lib" / Path(*module.split("."))
            assert path.with_suffix(".py").is_file() or (path / "__init__.py").is_file(), (f.id, module)
    assert set(TOPICS) == {f.topic for f in FACTS}  # no empty topic


def test_community_and_undocumented_facts_say_so():
    by_id = {f.id: f for f in FACTS}
    assert by_id["sync-task-failed-cause"].community and by_id["sync-task-failed-cause"].undocumented
    assert "not say" in by_id["direct-runtask-silent"].undocumented
    assert "not documented" in by_id["scheduler-missing-permission"].statement
    assert not by_id["runtask-failures-unknown"].community


def test_fact_returns_the_fact_and_an_unknown_id_names_the_closest():
    assert fact("scheduler-dlq").topic == "events"
    with pytest.raises(ValidationError, match=r"fact_id='sync-task-failed'.*did you mean sync-task-failed-cause"):
        fact("sync-task-failed")
    with pytest.raises(ValidationError, match="docs/facts.md"):
        fact("no-such-thing-at-all")


def test_cite_writes_the_citation_form_and_checks_ids():
    assert cite("scheduler-dlq") == "(fact: scheduler-dlq)" == fact("scheduler-dlq").citation()
    assert cite("scheduler-dlq", "sfn-metrics") == "(facts: scheduler-dlq, sfn-metrics)"
    with pytest.raises(ValidationError, match="fact_id"):
        cite("scheduler-dlq", "not-a-fact")
    with pytest.raises(ValidationError, match="at least one"):
        cite()


def test_cited_ids_reads_plain_linked_and_several_and_flags_malformed():
    text = (
        "a (fact: scheduler-dlq) b (facts: sfn-metrics, [arn-partitions](facts.md#arn-partitions)) "
        "c (fact: scheduler) d (fact:scheduler-dlq) e (fact: <id>) f (facts: a-b,c-d) g (facts: Facts)"
    )
    ids, malformed = cited_ids(text)
    assert ids == ["scheduler-dlq", "sfn-metrics", "arn-partitions"]
    assert malformed == ["(fact: scheduler)", "(fact:scheduler-dlq)", "(facts: a-b,c-d)"]


def _entry(url: str = "https://x", kind: str = "aws", extra: str = "") -> str:
    """A complete [[fact]] table but for what the caller changes."""
    source = f'{{title = "t", url = "{url}", kind = "{kind}"}}'
    return f'[[fact]]\nid = "a-b"\ntopic = "iam"\nstatement = "s"\nsources = [{source}]\n{extra}'


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('[[fact]]\nid = "x"\ntopic = "iam"\n', "fact.id='x'"),
        ('[[fact]]\nid = "a-b"\ntopic = "nope"\n', "a-b.topic='nope'"),
        ('[[fact]]\nid = "a-b"\ntopic = "iam"\nstatement = ""\n', "a-b.statement"),
        ('[[fact]]\nid = "a-b"\ntopic = "iam"\nstatement = "s"\n', "a-b.sources"),
        (_entry(url="http://x"), "url='http://x'"),
        (_entry(kind="blog"), "kind='blog'"),
        (_entry(extra='imitated_in = ["moto.ecs"]\n'), "imitated_in='moto.ecs'"),
    ],
)
def test_load_rejects_an_incomplete_fact(text, match):
    with pytest.raises(ValidationError, match=re.escape(match)):
        load(text)


def test_load_rejects_a_repeated_id():
    assert len(load(_entry())) == 1
    with pytest.raises(ValidationError, match="used once"):
        load(_entry() + _entry())


def test_docs_facts_md_is_the_rendered_registry():
    committed = (ROOT / "docs" / "facts.md").read_text(encoding="utf-8")
    assert committed == render_markdown(), f"docs/facts.md is stale: regenerate it with `{REGENERATE}`"
    for f in FACTS:
        assert f"\n### {f.id}\n" in committed  # the heading is the anchor a citation links to


# ---- the repository cites only what it ships ---------------------------------------------------------------


def test_no_reference_to_a_file_outside_the_repository():
    offenders: dict[str, list[str]] = {}
    for path in _scanned_files():
        hits = MISSING_FILE_RE.findall(path.read_text(encoding="utf-8"))
        if hits:
            offenders[_rel(path)] = hits
    lessons = {name: len(hits) for name, hits in offenders.items() if name in LESSON_ALLOWANCE}
    others = {name: sorted(set(hits)) for name, hits in offenders.items() if name not in lessons}
    assert not others, f"cite a fact id (docs/facts.md) or state the reason instead of these files: {others}"
    for name, allowed in LESSON_ALLOWANCE.items():
        count = lessons.get(name, 0)
        assert count <= allowed, f"{name} has {count} references to files outside the repository, {allowed} allowed"
        assert count == allowed, f"{name} now has {count} such references: lower its LESSON_ALLOWANCE to {count}"


def test_every_citation_names_a_fact_that_exists():
    known = {f.id for f in FACTS}
    unknown: dict[str, list[str]] = {}
    malformed: dict[str, list[str]] = {}
    cited = set()
    for path in _scanned_files():
        ids, bad = cited_ids(path.read_text(encoding="utf-8"))
        cited |= set(ids)
        if set(ids) - known:
            unknown[_rel(path)] = sorted(set(ids) - known)
        if bad:
            malformed[_rel(path)] = bad
    assert not unknown, f"cited fact ids that docs/facts.md does not have: {unknown}"
    assert not malformed, f'write citations as "(fact: <id>)" or "(facts: <id>, <id>)": {malformed}'
    assert {"direct-runtask-silent", "sync-task-failed-cause", "scheduler-price"} <= cited  # the scan sees lib/


def _markdown_texts() -> list[tuple[Path, str]]:
    """(file, markdown) for README, docs and the markdown cells of lessons and runbooks."""
    out: list[tuple[Path, str]] = []
    for path in _scanned_files():
        if path.suffix == ".md":
            out.append((path, path.read_text(encoding="utf-8")))
        elif path.suffix == ".ipynb":
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            out.append((path, "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")))
    return out


def test_relative_markdown_links_point_at_files_in_the_repository():
    broken = []
    for path, text in _markdown_texts():
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue
            if not (path.parent / target.split("#")[0]).exists():
                broken.append(f"{_rel(path)}: {target}")
    assert not broken, broken


def test_aws_pages_link_their_japanese_copy():
    from sfnecs.model.sources import Fact, Source

    page = Source("RunTask", "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html", "aws")
    assert page.ja_url == "https://docs.aws.amazon.com/ja_jp/AmazonECS/latest/APIReference/API_RunTask.html"
    assert Source("a PR", "https://github.com/x/y/pull/1", "community").ja_url == ""
    assert Source("ja", "https://docs.aws.amazon.com/ja_jp/x.html", "aws").ja_url == ""  # already Japanese
    assert f"([日本語]({page.ja_url}))" in render_markdown((Fact("x", "executions", "s", (page,)),))
