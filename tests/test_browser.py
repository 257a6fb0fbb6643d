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
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Settings a learner may keep, set here so the run is quiet and leaves the repository as it was:
# no autosave (running the lessons must not rewrite their stored outputs), no news prompt.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}
KERNEL_DISPLAY_NAME = "Python (sfnecs)"  # the Makefile installs kernel "sfnecs" under this name
PROMPTS = "[...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]"
SCROLLER = ".jp-NotebookPanel .jp-WindowedPanel-outer"  # the element that scrolls a notebook (JupyterLab 4)
# The scroller's height and how tall it must be to show the last cell whole, read after two animation
# frames (a layout pass). Not scrollHeight: JupyterLab pads a notebook to let it scroll past its end.
HEIGHTS = (
    f"async () => {{ await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));"
    f" const n = document.querySelector('{SCROLLER}'); n.scrollTop = 0;"
    " const cells = n.querySelectorAll('.jp-Cell'), last = cells[cells.length - 1];"
    " return [n.clientHeight, last.getBoundingClientRect().bottom - n.getBoundingClientRect().top + 40]; }"
)
MAX_HEIGHT = 30_000  # px; a longer notebook is shot from its top
ERROR_SHOWN = (
    r"""[...document.querySelectorAll("[data-mime-type='application/vnd.jupyter.stderr']")]"""
    r""".some(e => /Traceback|^\w+(Error|Exception):/m.test(e.innerText))"""
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="Chromium is not installed (apt-get install chromium): browser tests skipped",
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """`jupyter lab` on 127.0.0.1 with a token, temporary settings and workspace, no browser."""
    tmp = tmp_path_factory.mktemp("lab")
    for plugin, values in LAB_SETTINGS.items():
        path = tmp / "settings" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port = free_port()
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "SFNECS_HOME": str(tmp / "home"),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }
    env.pop("AWS_ENDPOINT_URL", None)
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        f"--port={port}",
        "--ip=127.0.0.1",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={ROOT}",
        "--ServerApp.open_browser=False",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]  # no extension listings fetched from the network
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # CI containers run as root; Jupyter refuses that unless told
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
                raise RuntimeError((tmp / "lab.log").read_text()[-2000:]) from None
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


def run_all(
    browser, lab: str, notebook: str, expect: list[str], plots: bool = True, prose: tuple[str, ...] = ()
) -> None:
    """Open `notebook`, clear its stored outputs, run every cell through the UI, and check what a learner sees.

    `expect` must appear in the outputs, `prose` in the rendered notebook (markdown cells included)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(f"{lab}/lab/tree/notebooks/{notebook}?token={TOKEN}&reset")
    page.wait_for_selector(".jp-Notebook .jp-Cell", state="attached")
    idle = page.locator(".jp-StatusBar-Widget").get_by_text(f"{KERNEL_DISPLAY_NAME} | Idle")
    idle.wait_for(timeout=120_000)  # the notebook's own kernel started by itself: no kernel dialog
    # Stored outputs carry execution counts: clear them, so a count proves this run executed the cell.
    page.get_by_role("menuitem", name="Edit", exact=True).click()
    page.get_by_role("menuitem", name="Clear Outputs of All Cells", exact=True).click()
    page.wait_for_function(f"() => {PROMPTS}.every(e => !/\\d/.test(e.textContent))")
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    # done when every code cell has an execution count, or early when a cell failed (Run All stops there)
    page.wait_for_function(
        f"() => {{ const p = {PROMPTS}; return (p.length > 0 && p.every(e => /\\[\\d+\\]/.test("
        f"e.textContent))) || {ERROR_SHOWN}; }}",
        timeout=300_000,
    )
    idle.wait_for(timeout=300_000)
    ARTIFACTS.mkdir(exist_ok=True)
    # JupyterLab scrolls inside the notebook panel, and skips drawing cells out of view: make the window
    # as tall as the notebook (every cell in view, so inner_text sees it), then shoot
    for _ in range(20):  # cells drawn for the first time grow the notebook: repeat until it fits
        have, need = page.evaluate(HEIGHTS)
        if have >= need or page.viewport_size["height"] >= MAX_HEIGHT:
            break
        page.set_viewport_size(
            {"width": 1400, "height": min(page.viewport_size["height"] + int(need - have), MAX_HEIGHT)}
        )
    shot = notebook.removesuffix(".ipynb").replace("/", "_")  # ja/01_x -> ja_01_x: editions don't overwrite
    page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)
    stderr = page.locator("[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
    errors = [t for t in stderr if "Traceback" in t or re.search(r"^\w+(Error|Exception):", t, re.M)]
    assert not errors, f"error output in {notebook}: {errors[0][:500]}"
    assert page.locator(".jp-OutputArea-output table").count() > 0, "no table was shown"
    if plots:  # lesson 05 draws none: its runs are a table (a figure there added nothing to the table)
        assert page.locator(".jp-OutputArea-output img").count() > 0, "no plot was shown"
    shown = "\n".join(page.locator(".jp-Notebook .jp-OutputArea-output").all_inner_texts())
    for phrase in expect:
        assert phrase in shown, f"{phrase!r} is not visible in the outputs of {notebook}"
    rendered = page.locator(".jp-Notebook").inner_text()
    for phrase in prose:
        assert phrase in rendered, f"{phrase!r} is not visible in the rendered {notebook}"
    page.close()


def test_lesson_01_runs_in_jupyterlab(browser, lab):
    run_all(browser, lab, "01_compare_patterns.ipynb", ["overlapping", "guard"])


def test_lesson_05_runs_in_jupyterlab(browser, lab):
    run_all(
        browser, lab, "05_diagnose_exec_format_error.ipynb", ["architecture mismatch", "Exec format error"], plots=False
    )


def test_lesson_01_japanese_edition_runs_in_jupyterlab(browser, lab):
    """The Japanese edition runs like the English one, and its prose is drawn in Japanese (page text, not file)."""
    prose = (
        "定期実行する ECS タスク: RunTask を直接呼ぶか、Step Functions を経由するか",  # the title
        "7. 選び方",
        "このレッスンで学んだこと",
    )
    run_all(browser, lab, "ja/01_compare_patterns.ipynb", ["overlapping", "guard"], prose=prose)
