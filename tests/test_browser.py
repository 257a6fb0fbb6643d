"""A learner's first hour, automated: JupyterLab in Debian's Chromium, driven by Playwright.

Runs in `make test`. Skipped, with the reason printed in the summary, only when Chromium is not
installed (`.ci/run` installs it with apt-get; `apt-get install chromium` does on a dev machine).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
TOKEN = "sfnecs-browser-test"
# Flags this workplace needs: no network beyond loopback, no first-run work (env/machines/python.md)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.browser, pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Chromium is not installed (apt-get install chromium): browser tests skipped")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """`jupyter lab` on 127.0.0.1 with a token, temporary settings and workspace, no browser."""
    tmp = tmp_path_factory.mktemp("lab")
    port = free_port()
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"), "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
           "SFNECS_HOME": str(tmp / "home"), "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    env.pop("AWS_ENDPOINT_URL", None)
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
           f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={ROOT}", "--ServerApp.open_browser=False",
           "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    log = open(tmp / "lab.log", "w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError((tmp / "lab.log").read_text()[-2000:])
            time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError("jupyter lab did not answer within 90 s")
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_the_kernel_the_notebooks_name_exists():
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        name = json.loads(nb.read_text())["metadata"]["kernelspec"]["name"]
        assert name in specs, f"{nb.name} names kernel {name!r}, which `make` did not install"


def run_all(browser, lab: str, notebook: str, expect: list[str]) -> None:
    """Open `notebook`, run every cell through the UI, and check what a learner would see."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(f"{lab}/lab/tree/notebooks/{notebook}?token={TOKEN}&reset")
    page.wait_for_selector(".jp-Notebook .jp-Cell", state="attached")
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", state="attached", timeout=120_000)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    # every code cell gets an execution count, then the kernel goes idle
    page.wait_for_function(
        """() => { const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
                   return p.length > 0 && p.every(e => /\\[\\d+\\]/.test(e.textContent)); }""", timeout=300_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", state="attached", timeout=300_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{Path(notebook).stem}.png"), full_page=True)
    stderr = page.locator("[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
    errors = [t for t in stderr if "Traceback" in t or re.search(r"^\w+(Error|Exception):", t, re.M)]
    assert not errors, f"error output in {notebook}: {errors[0][:500]}"
    assert page.locator(".jp-OutputArea-output table").count() > 0, "no table was shown"
    assert page.locator(".jp-OutputArea-output img").count() > 0, "no plot was shown"
    text = page.locator(".jp-Notebook").inner_text()
    for phrase in expect:
        assert phrase in text, f"{phrase!r} is not visible in {notebook}"
    page.close()


def test_lesson_01_runs_in_jupyterlab(browser, lab):
    run_all(browser, lab, "01_compare_patterns.ipynb", ["overlapping", "guard"])


def test_lesson_05_runs_in_jupyterlab(browser, lab):
    run_all(browser, lab, "05_diagnose_exec_format_error.ipynb", ["architecture mismatch", "Exec format error"])
