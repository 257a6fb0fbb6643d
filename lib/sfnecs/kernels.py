"""Kernels started ahead of need, for a chain of runbooks: the next one boots while this one runs.

Why: in a short runbook most of the wall time is the kernel's own start (a Python process loading
ipykernel, about a second) and the imports of its first cell (pandas, boto3, sfnecs: about another),
while the notebook itself mostly waits on AWS. A chain knows its next runbook, so `KernelPool`
launches that kernel and has it import those modules while the current runbook runs.

Isolation is kept: every kernel runs exactly one notebook and is shut down after it (nbclient's
own clean-up), so no runbook sees another's variables. The only code a pooled kernel runs beyond the
notebook is `PRELOAD`: imports, silently, with no history — the same imports the runbooks' cells make.
The pool plugs into papermill as an engine (papermill's registry of engines, `engine_name=ENGINE`).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.utils import merge_kwargs, remove_args

__all__ = ["ENGINE", "PRELOAD", "KernelPool", "WarmKernel"]

ENGINE = "sfnecs-pooled"
PRELOAD = ("import boto3, pandas, matplotlib.pyplot, sfnecs.audit, sfnecs.diagnose, sfnecs.operate, "
           "sfnecs.parameters, sfnecs.runbook, sfnecs.runs, sfnecs.sample, sfnecs.stack, sfnecs.target")
#: nbclient's default for kernels it starts: no IPython history database shared between kernels
_KERNEL_ARGS = ["--HistoryManager.hist_file=:memory:"]
PRELOAD_TIMEOUT_S = 60.0


@dataclass
class WarmKernel:
    """A started kernel (an AsyncKernelManager), its kernel name, and the result file its env names."""

    km: Any
    kernel_name: str
    result_path: Path
    client: Any = None
    preload_id: str = ""


class KernelPool:
    """Keeps one kernel booted (and its imports done) for the next runbook of a chain.

    Use as a context manager; `take()` hands out the warm kernel and starts the next one. The env
    variable `result_env` is set, per kernel, to a fresh file, since a kernel's environment is fixed
    when it starts (the runner reads the runbook's saved result from there).
    """

    def __init__(self, kernel_name: str = "sfnecs", *, runs: int | None = None, result_env: str = "SFNECS_RESULT_PATH",
                 preload: str = PRELOAD, cwd: str | Path | None = None):
        self.kernel_name = kernel_name
        self.remaining = runs  # how many runbooks it will serve (None: unknown, always keep one ready)
        self.result_env = result_env
        self.preload = preload
        self.cwd = str(cwd or Path.cwd())
        self._dir = Path(tempfile.mkdtemp(prefix="sfnecs-kernels-"))
        self._next: WarmKernel | None = None
        self._count = 0
        self.started = 0

    def __enter__(self) -> "KernelPool":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _start(self) -> WarmKernel:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        self._count += 1
        result_path = self._dir / f"result-{self._count}.json"
        km = AsyncKernelManager(kernel_name=self.kernel_name)
        env = {**os.environ, self.result_env: str(result_path)}
        # start_kernel launches the process and returns; the kernel boots on its own meanwhile
        run_sync(km.start_kernel)(extra_arguments=list(_KERNEL_ARGS), cwd=self.cwd, env=env)
        self.started += 1
        warm = WarmKernel(km, self.kernel_name, result_path)
        if self.preload:
            warm.client = km.client()
            warm.client.start_channels()
            # queued by zmq until the kernel listens; it runs before any cell of the notebook
            warm.preload_id = warm.client.execute(self.preload, silent=True, store_history=False)
        return warm

    def take(self, kernel_name: str) -> WarmKernel | None:
        """The warm kernel if it is of `kernel_name` (its preload finished), else None; starts the next."""
        if kernel_name != self.kernel_name:
            return None
        warm = self._next or self._start()
        self._next = None
        if self.remaining is not None:
            self.remaining -= 1
        if self.remaining is None or self.remaining > 0:
            self._next = self._start()  # boots while `warm` runs its notebook
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
        """Shut down the kernel started for a runbook that never came."""
        from jupyter_core.utils import run_sync

        if self._next is not None:
            warm, self._next = self._next, None
            if warm.client is not None:
                warm.client.stop_channels()
            run_sync(warm.km.shutdown_kernel)(now=True)
            warm.result_path.unlink(missing_ok=True)


class PooledKernelEngine(NBClientEngine):
    """papermill's nbclient engine, executing on a kernel the caller started (`km=`), then shutting it down."""

    @classmethod
    def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, log_output: bool = False,
                                 stdout_file: Any = None, stderr_file: Any = None, start_timeout: int = 60,
                                 execution_timeout: int | None = None, **kwargs: Any) -> Any:
        import logging

        safe = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
        final = merge_kwargs(safe, timeout=execution_timeout, startup_timeout=start_timeout, kernel_name=kernel_name,
                             log=logging.getLogger("papermill"), log_output=log_output, stdout_file=stdout_file,
                             stderr_file=stderr_file)
        # cleanup_kc: nbclient shuts the kernel down and closes its channels, as for a kernel it owns
        return PapermillNotebookClient(nb_man, **final).execute(cleanup_kc=True)


papermill_engines.register(ENGINE, PooledKernelEngine)
