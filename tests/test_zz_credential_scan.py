"""Executed runbooks, results and stored notebook outputs never contain credentials.

Named to run last: it scans what the rest of the suite produced and what is committed
(notebooks/, runbooks/, runs/). The suite's temporary files all live under pytest's basetemp
(tests/conftest.py points tempfile and TMPDIR there, for kernels and subprocesses too), so the
runbook runner's outputs in tmp_path, its result mailboxes and every SFNECS_HOME are scanned.
Not scanned: what a test uploads to the sandbox's S3 (gone with the sandbox).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATTERNS = {
    "access key id": re.compile(r"\b(?:AKIA|ASIA|AROA|AIDA)[0-9A-Z]{16}\b"),
    "secret access key": re.compile(r"(?i)aws_?secret_?access_?key[\"'\s:=]+(?!testing\b)[A-Za-z0-9/+=]{16,}"),
    "session token": re.compile(r"(?i)aws_?session_?token[\"'\s:=]+(?!testing\b)[A-Za-z0-9/+=]{16,}"),
    "authorization header": re.compile(r"AWS4-HMAC-SHA256 Credential="),
}


def scanned(path: Path) -> bool:
    """Notebooks, runbook results, and the runner's result mailboxes (sfnecs-<runbook>-*.json)."""
    name = path.name
    return (
        path.suffix == ".ipynb"
        or name.endswith(".result.json")
        or (name.startswith("sfnecs-") and name.endswith(".json"))
    )


def produced_files(base: Path) -> list[Path]:
    roots = [ROOT / "notebooks", ROOT / "runbooks", ROOT / "runs", base]
    return [p for r in roots if r.exists() for p in r.rglob("*") if p.is_file() and scanned(p)]


def test_no_credentials_in_notebooks_or_results(tmp_path_factory):
    files = produced_files(tmp_path_factory.getbasetemp())
    assert any(p.suffix == ".ipynb" for p in files)  # the committed notebooks at least
    leaks = [(str(p), name) for p in files for name, rx in PATTERNS.items() if rx.search(p.read_text(errors="replace"))]
    assert not leaks, f"credentials found: {leaks[:5]}"


def test_the_suites_temporary_files_are_where_the_scan_looks(tmp_path_factory):
    base = tmp_path_factory.getbasetemp().resolve()
    for where in (tempfile.gettempdir(), os.environ["TMPDIR"], os.environ["SFNECS_HOME"]):
        assert Path(where).resolve().is_relative_to(base), where
    made = Path(tempfile.mkstemp(prefix="sfnecs-probe-", suffix=".json")[1])
    assert made in produced_files(base)
    made.unlink()


def test_the_scanner_finds_planted_credentials(tmp_path):
    planted = tmp_path / "x.result.json"
    planted.write_text(
        '{"env": "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY", "k": "AKIAIOSFODNN7EXAMPLE"}'
    )
    found = {name for name, rx in PATTERNS.items() if rx.search(planted.read_text())}
    assert found == {"access key id", "secret access key"}
