"""Executed runbooks, results and stored notebook outputs never contain credentials.

Named to run last: it scans what the rest of the suite produced (pytest's temporary folders and
runs/) and what is committed (notebooks/, runbooks/).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATTERNS = {
    "access key id": re.compile(r"\b(?:AKIA|ASIA|AROA|AIDA)[0-9A-Z]{16}\b"),
    "secret access key": re.compile(r"(?i)aws_?secret_?access_?key[\"'\s:=]+(?!testing\b)[A-Za-z0-9/+=]{16,}"),
    "session token": re.compile(r"(?i)aws_?session_?token[\"'\s:=]+(?!testing\b)[A-Za-z0-9/+=]{16,}"),
    "authorization header": re.compile(r"AWS4-HMAC-SHA256 Credential="),
}


def produced_files(base: Path) -> list[Path]:
    roots = [ROOT / "notebooks", ROOT / "runbooks", ROOT / "runs", base]
    return [p for r in roots if r.exists() for p in r.rglob("*")
            if p.is_file() and (p.suffix == ".ipynb" or p.name.endswith(".result.json"))]


def test_no_credentials_in_notebooks_or_results(tmp_path_factory):
    files = produced_files(tmp_path_factory.getbasetemp())
    leaks = [(str(p), name) for p in files for name, rx in PATTERNS.items() if rx.search(p.read_text(errors="replace"))]
    assert not leaks, f"credentials found: {leaks[:5]}"


def test_the_scanner_finds_planted_credentials(tmp_path):
    planted = tmp_path / "x.result.json"
    planted.write_text('{"env": "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY", "k": "AKIAIOSFODNN7EXAMPLE"}')
    found = {name for name, rx in PATTERNS.items() if rx.search(planted.read_text())}
    assert found == {"access key id", "secret access key"}
