"""Kernels started ahead of need, for a chain of runbooks: the next one boots while this one runs.

Why: in a short runbook most of the wall time is the kernel's own start (a Python process loading
ipykernel, about a second) and the imports of its first cell (pandas, boto3, sfnecs: about another),
while the notebook itself mostly waits on AWS. A chain knows its next runbook, so `KernelPool`
launches that kernel and has it import those modules while the current runbook runs.

Isolation is kept: every kernel runs exactly one notebook and is killed after it (the pool reaps
the process when it closes), so no runbook sees another's variables. The only code a pooled kernel
runs beyond the notebook is its preload: the modules the notebook's cells import (`imports_of`) and
those sfnecs's functions import when called (`library_imports`: pandas, matplotlib's dates), imported
with `__import__` (no name bound), silently, with no history; the notebook's own imports then find
them loaded. Its kernels talk over IPC sockets in a private directory. The pool plugs into papermill
as an engine (papermill's registry of engines, `engine_name=ENGINE`), whose client treats a pooled
kernel as ready after one kernel_info round trip (`PooledNotebookClient`).
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import os
import shutil
import tempfile
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_core.utils import run_sync
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.utils import merge_kwargs, remove_args

from sfnecs.exceptions import ValidationError

__all__ = [
    "ENGINE",
    "PRELOAD",
    "KernelPool",
    "PooledNotebookClient",
    "WarmKernel",
    "imports_of",
    "library_imports",
    "preload_code",
    "preload_of",
]

ENGINE = "sfnecs-pooled"
#: what a pooled kernel imports when the pool is not told which notebooks come
PRELOAD = (
    "boto3",
    "pandas",
    "matplotlib.pyplot",
    "sfnecs.runs.audit",
    "sfnecs.diagnose",
    "sfnecs.ops.steps",
    "sfnecs.ops.parameters",
    "sfnecs.ops.runbook",
    "sfnecs.runs",
    "sfnecs.images.sample",
    "sfnecs.deploy.stack",
    "sfnecs.deploy.target",
)
#: nbclient's default for kernels it starts: no IPython history database shared between kernels
_KERNEL_ARGS = ["--HistoryManager.hist_file=:memory:"]
PRELOAD_TIMEOUT_S = 60.0
#: the runner's own modules: sfnecs.ops.runbook imports them in the functions that execute notebooks,
#: which no notebook calls (it uses only save_result), so a kernel never needs them
RUNNER_ONLY = ("papermill", "nbformat", "sfnecs.ops.kernels")


@dataclass
class WarmKernel:
    """A started kernel (an AsyncKernelManager), its kernel name, and the result file its env names."""

    km: Any
    kernel_name: str
    result_path: Path
    client: Any = None
    preload_id: str = ""


def imports_of(notebook: str | Path) -> tuple[str, ...]:
    """The modules a notebook's code cells import, in order (pure: reads the file only).

    A `%matplotlib` magic adds `matplotlib.pyplot`, which the magic imports.
    """
    import nbformat

    modules: list[str] = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        source = cell.source.splitlines()
        if any(line.lstrip().startswith("%matplotlib") for line in source):
            modules.append("matplotlib.pyplot")
        try:
            tree = ast.parse("\n".join(line for line in source if not line.lstrip().startswith(("%", "!"))))
        except SyntaxError:
            continue
        modules += [name for node in tree.body for name in _imported(node)]
    return tuple(dict.fromkeys(modules))


def library_imports(modules: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """What the functions of the sfnecs modules among `modules` import when first called (pure: reads source).

    Why: the library imports heavy modules inside functions (pandas for every table, matplotlib's
    date axis for time lines) so that importing sfnecs stays cheap; a notebook's import lines do not
    name them, yet every runbook pays them on its first table unless the pool imports them ahead.
    One level only (counting a module's functions as also those of the same-package modules it
    imports at top level: what a package or a front-door module re-exports), never RUNNER_ONLY modules.
    """
    found: list[str] = []
    for module in modules:
        if module.split(".")[0] != "sfnecs":
            continue
        for path in _sources(module):
            found += _imports(path, os.stat(path).st_mtime_ns)[1]
    runner = tuple(f"{m}." for m in RUNNER_ONLY)
    return tuple(
        m for m in dict.fromkeys(found) if m not in modules and m not in RUNNER_ONLY and not m.startswith(runner)
    )


def _sources(module: str) -> list[str]:
    """The source files of `module`: its own, then those of the modules of its package it imports at
    top level (found by path: nothing is imported but the parent packages).
    """
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return []
    package = module if spec.submodule_search_locations else module.rpartition(".")[0]
    folder = Path(spec.origin).parent
    files = [spec.origin]
    for name in _imports(spec.origin, os.stat(spec.origin).st_mtime_ns)[0]:
        part = name[len(package) + 1 :].split(".")[0] if name.startswith(f"{package}.") else ""
        files += [str(p) for p in (folder / f"{part}.py", folder / part / "__init__.py") if part and p.is_file()]
    return list(dict.fromkeys(files))


@functools.cache
def _imports(path: str, mtime_ns: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A source file's absolute imports: (at module level, inside functions and classes); cached per version.

    A module-level `from a import b` counts as a and a.b (b may be a submodule).
    """
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    top = [name for node in tree.body for name in _imported(node, with_names=True)]
    nested = [
        name
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        for inner in ast.walk(node)
        for name in _imported(inner)
    ]
    return tuple(dict.fromkeys(top)), tuple(dict.fromkeys(nested))


def _imported(node: ast.AST, *, with_names: bool = False) -> list[str]:
    """The modules an absolute import statement names (`with_names`: `from a import b` also as a.b)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        return [node.module, *(f"{node.module}.{alias.name}" for alias in node.names if with_names)]
    return []


def preload_of(notebook: str | Path) -> tuple[str, ...]:
    """What a pooled kernel imports ahead for `notebook`: its cells' imports, then the library's (`library_imports`)."""
    direct = imports_of(notebook)
    return direct + library_imports(direct)


def preload_code(modules: tuple[str, ...] | list[str]) -> str:
    """Code importing `modules` without binding any name in the kernel's namespace (`__import__`)."""
    return "\n".join(f"__import__({m!r})" for m in modules)


class KernelPool:
    """Keeps kernels booted (and their imports done) for the next runbooks of a chain.

    `preloads`: the modules each coming runbook imports, in order (`preload_of`); without it every
    kernel imports PRELOAD. `ahead`: how many kernels boot ahead (2: a short runbook, shorter than a
    boot, still finds the next kernel ready).

    Use as a context manager; `take()` hands out the warm kernel and starts the next ones. The env
    variable `result_env` is set, per kernel, to a fresh file, since a kernel's environment is fixed
    when it starts (the runner reads the runbook's saved result from there).
    """

    def __init__(
        self,
        kernel_name: str = "sfnecs",
        *,
        runs: int | None = None,
        result_env: str = "SFNECS_RESULT_PATH",
        preload: tuple[str, ...] = PRELOAD,
        preloads: list[tuple[str, ...]] | None = None,
        cwd: str | Path | None = None,
        ahead: int = 1,
    ):
        if isinstance(ahead, bool) or not isinstance(ahead, int) or ahead < 1:
            raise ValidationError("ahead", ahead, "how many kernels to keep booting ahead: an int >= 1")
        self.kernel_name = kernel_name
        # how many runbooks it will serve (None: unknown, always keep one ready)
        self.remaining = len(preloads) if preloads is not None else runs
        self.result_env = result_env
        self.preload = preload
        self.preloads = list(preloads) if preloads is not None else None  # one per coming runbook, in order
        self.cwd = str(cwd or Path.cwd())
        self._dir = Path(tempfile.mkdtemp(prefix="sfnecs-kernels-"))
        self.ahead = ahead
        self._queue: deque[WarmKernel] = deque()  # booting or booted, in the order runbooks will take them
        self._handed: list[WarmKernel] = []  # killed after their notebook (PooledNotebookClient); reaped on close
        self._count = 0
        self.started = 0

    def __enter__(self) -> KernelPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def _next(self) -> WarmKernel | None:
        """The kernel the next runbook will get (None when none is booting)."""
        return self._queue[0] if self._queue else None

    def _start(self) -> WarmKernel:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        self._count += 1
        result_path = self._dir / f"result-{self._count}.json"
        # IPC (unix sockets in our own directory): local only, and no TCP-without-encryption warning per kernel
        km = AsyncKernelManager(kernel_name=self.kernel_name, transport="ipc", ip=str(self._dir / f"k{self._count}"))
        env = {**os.environ, self.result_env: str(result_path)}
        # start_kernel launches the process and returns; the kernel boots on its own meanwhile
        run_sync(km.start_kernel)(extra_arguments=list(_KERNEL_ARGS), cwd=self.cwd, env=env)
        self.started += 1
        warm = WarmKernel(km, self.kernel_name, result_path)
        preload = preload_code(self.preloads[self.started - 1] if self.preloads else self.preload)
        if preload:
            warm.client = km.client()
            warm.client.start_channels()
            # queued by zmq until the kernel listens; it runs before any cell of the notebook
            warm.preload_id = warm.client.execute(preload, silent=True, store_history=False)
        return warm

    def prestart(self) -> KernelPool:
        """Start booting the first runbook's kernel now (a chain calls it before finding its sandbox).

        Only that one: kernels booting side by side slow each other down, and this one is awaited first.
        """
        if not self._queue and (self.remaining is None or self.remaining > 0):
            self._queue.append(self._start())
        return self

    def take(self, kernel_name: str) -> WarmKernel | None:
        """The warm kernel if it is of `kernel_name` (its preload finished), else None; starts the next."""
        if kernel_name != self.kernel_name:
            return None
        warm = self._queue.popleft() if self._queue else self._start()
        self._handed.append(warm)
        if self.remaining is not None:
            self.remaining -= 1
        want = self.ahead if self.remaining is None else min(self.ahead, self.remaining)
        while len(self._queue) < want:
            self._queue.append(self._start())  # boots while `warm` runs its notebook
        self._settle(warm)
        return warm

    def _settle(self, warm: WarmKernel) -> None:
        """Wait for the preload's reply, then close the pool's own client (nbclient opens its own)."""
        from jupyter_core.utils import run_sync

        if warm.client is None:
            return

        async def settle() -> None:
            # not wait_for_ready(): it discards every shell reply but kernel_info's, this one too
            while True:  # a failed import is no matter here: the notebook's cell reports it properly
                reply = await warm.client.get_shell_msg(timeout=PRELOAD_TIMEOUT_S)
                if reply.get("parent_header", {}).get("msg_id") == warm.preload_id:
                    return

        try:
            run_sync(settle)()
        finally:
            warm.client.stop_channels()
            warm.client = None

    def close(self) -> None:
        """Shut down the kernels started for runbooks that never came, and reap the ones handed out."""
        from jupyter_core.utils import run_sync

        for warm in self._handed:
            if warm.km.has_kernel:  # killed already: this waits for the exit and removes its sockets
                run_sync(warm.km.shutdown_kernel)(now=True)
        self._handed.clear()
        while self._queue:
            warm = self._queue.popleft()
            if warm.client is not None:
                warm.client.stop_channels()
            run_sync(warm.km.shutdown_kernel)(now=True)
        shutil.rmtree(self._dir, ignore_errors=True)  # the result files: each run has read and removed its own


class PooledNotebookClient(PapermillNotebookClient):
    """papermill's notebook client, for a kernel the pool started: ready after one kernel_info round trip.

    Why: jupyter_client's `wait_for_ready` ends by waiting for IOPub to stay silent for 0.2 s, on
    every notebook. Here the kernel_info request's own `idle` status arriving on IOPub proves the
    subscription is live (what that wait guards against: a new subscriber missing the first outputs),
    and nbclient reads only the messages of the cell it runs, so nothing earlier can intrude.
    """

    # nbclient's traitlets (a jupyter_client KernelManager and its client), annotated for mypy only
    km: Any
    kc: Any

    async def async_start_new_kernel_client(self) -> Any:
        from nbclient.util import ensure_async, run_hook

        self.kc = self.km.client()
        try:
            await ensure_async(self.kc.start_channels())
            await _kernel_ready(self.kc, float(self.startup_timeout))
        except Exception:
            await self._async_cleanup_kernel()
            raise
        self.kc.allow_stdin = False
        await run_hook(self.on_notebook_start, notebook=self.nb)
        return self.kc

    # nbclient binds its sync wrapper to its own coroutine: bound again, to this one
    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    async def _async_cleanup_kernel(self) -> None:
        """Kill the kernel and close the channels, without waiting for the process to be gone.

        Why: jupyter_client checks every 0.1 s whether a killed kernel has exited; the pool reaps
        its kernels when it closes (KernelPool.close), so the next runbook need not wait for that.
        """
        import signal

        from nbclient.util import ensure_async

        try:
            if self.km is not None and await ensure_async(self.km.is_alive()):
                await ensure_async(self.km.signal_kernel(signal.SIGKILL))
        finally:
            if getattr(self, "kc", None) is not None:
                await ensure_async(self.kc.stop_channels())
                self.kc = None
            self.km = None

    _cleanup_kernel = run_sync(_async_cleanup_kernel)


async def _kernel_ready(kc: Any, timeout: float) -> None:
    """Wait until a kernel_info request is answered on shell and its `idle` status seen on IOPub
    (asked again while IOPub is not yet subscribed); RuntimeError after `timeout` seconds."""
    import time
    from queue import Empty

    from nbclient.util import ensure_async

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg_id = kc.kernel_info()
        reply = None
        while reply is None and time.monotonic() < deadline:
            try:
                msg = await ensure_async(kc.shell_channel.get_msg(timeout=1))
            except Empty:
                if not await ensure_async(kc.is_alive()):
                    raise RuntimeError("Kernel died before replying to kernel_info") from None
                continue
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "kernel_info_reply":
                reply = msg
        while reply is not None:
            try:
                msg = await ensure_async(kc.iopub_channel.get_msg(timeout=0.2))
            except Empty:
                break  # IOPub not subscribed in time for this request's status: ask again
            if (
                msg["parent_header"].get("msg_id") == msg_id
                and msg["msg_type"] == "status"
                and msg["content"].get("execution_state") == "idle"
            ):
                kc._handle_kernel_info_reply(reply)  # as wait_for_ready does (protocol version)
                return
    raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")


class PooledKernelEngine(NBClientEngine):
    """papermill's nbclient engine, executing on a kernel the caller started (`km=`), then shutting it down."""

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: int = 60,
        execution_timeout: int | None = None,
        **kwargs: Any,
    ) -> Any:
        import logging

        safe = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
        final = merge_kwargs(
            safe,
            timeout=execution_timeout,
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=logging.getLogger("papermill"),
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
        )
        # cleanup_kc: nbclient shuts the kernel down and closes its channels, as for a kernel it owns
        return PooledNotebookClient(nb_man, **final).execute(cleanup_kc=True)


papermill_engines.register(ENGINE, PooledKernelEngine)
