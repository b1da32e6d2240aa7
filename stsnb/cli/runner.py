"""``run_notebooks``: the lessons through papermill, ``jobs`` at a time, warm kernels, safe to interrupt.

Before any kernel starts, :func:`run_notebooks` checks the kernelspec, the parameters (names,
types and allowed values, against the notebooks' ``parameters`` cells and
:class:`~stsnb.settings.Settings`) and, for a real cluster, that it answers (once, through
``stsnb.connect``). Then ``jobs`` worker threads of this process each take a notebook, start a
kernel (forked from a warm :class:`~stsnb.cli.kernels.Zygote` where that is safe) and run it
with :func:`~stsnb.cli.execute.execute_task`. The notebooks share one folder of IPC sockets and
one zygote; nothing runs in other Python processes but the zygote and the kernels.

On a real cluster (``backend`` resolving to ``"kubeconfig"``) the notebooks run **one at a
time**, whatever ``jobs`` says: they all work in the same namespace (``stsnb-lab``) and share the
cluster-scoped StorageClass, and each begins with ``lab.reset()``, which deletes what the
others created.

Ctrl-C (SIGINT) in the terminal reaches this process only (kernels run in their own sessions):

1. the first cancels the queued notebooks, interrupts the running kernels (SIGINT, as Jupyter's
   "Interrupt kernel" does), waits up to :data:`GRACE_S` for them to stop, kills any that did not,
   and raises :class:`RunInterrupted` carrying every result, so the caller prints a summary that
   says what was interrupted; running notebooks are kept as ``.interrupted.ipynb`` copies and the
   previous complete copies are untouched;
2. a second kills every kernel and the zygote at once and exits with status 130 — also while the
   caller is still printing that summary (the handler stays installed after an interrupted run).

SIGTERM does what a second Ctrl-C does.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Callable

from ..errors import ConfigError
from .lessons import LANGS, find_notebooks, lessons_root
from .params import Given, check_parameters, read_parameters
from .report import RunRecord, RunResult, Task

__all__ = ["run_notebooks", "check_kernel", "RunInterrupted", "KERNEL_NAME", "DEFAULT_TIMEOUT", "DEFAULT_JOBS",
           "DEFAULT_OUT", "GRACE_S", "usable_cpus", "effective_backend", "check_cluster", "plan"]

#: The kernelspec the notebooks name in their metadata.
KERNEL_NAME = "python3"
DEFAULT_TIMEOUT = 120.0


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one, as in a container)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


#: Notebooks at a time on the sandbox: one per usable CPU, plus one. A lesson's kernel is not busy all
#: the time (its start, the sandbox's quiet windows before simulated time jumps, the runner between
#: cells), and one more notebook fills those gaps: on 2 CPUs, all 10 lessons took 17.3 s with 2 jobs,
#: 12.3 s with 3, 12.9 s with 4 (``bench/bench_notebooks.py``, medians of 3 rounds).
DEFAULT_JOBS = usable_cpus() + 1
DEFAULT_OUT = Path("build") / "executed"
#: Seconds the first Ctrl-C waits for interrupted kernels before killing them.
GRACE_S = 4.0
_SIGKILL = getattr(signal, "SIGKILL", signal.SIGTERM)  # Windows has no SIGKILL


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped the run; ``results`` has every notebook (``interrupted``, ``cancelled`` or finished)."""

    def __init__(self, results: list[RunResult]) -> None:
        super().__init__("stsnb run was interrupted")
        self.results = results


def check_kernel(kernel_name: str = KERNEL_NAME) -> str:
    """Make sure ``kernel_name`` starts this environment's Python; return the command it runs.

    ipykernel's wheel installs a ``python3`` kernelspec under ``sys.prefix`` whose command is a bare
    ``python``, which jupyter_client replaces with ``sys.executable``. A ``python3`` spec elsewhere on
    the Jupyter path shadows it; then the notebooks would import another environment's ``stsnb``.

    Raises:
        ConfigError: the kernelspec is missing or runs another interpreter.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    fix = f"{sys.executable} -m ipykernel install --sys-prefix --name {kernel_name}"
    try:
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        raise ConfigError(f"there is no Jupyter kernel named {kernel_name!r}", hint=f"install it: {fix}") from None
    argv0 = spec.argv[0] if spec.argv else ""
    bare = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}
    if argv0 in bare:
        return sys.executable
    if Path(argv0).resolve() == Path(sys.executable).resolve() or Path(argv0).absolute() == Path(sys.executable).absolute():
        return argv0
    raise ConfigError(
        f"the {kernel_name!r} kernelspec in {spec.resource_dir} runs {argv0!r}, not this environment's "
        f"{sys.executable}; the notebooks would import another environment's stsnb",
        hint=f"install this environment's kernelspec with `{fix}` and remove the other one, "
             "or pass --kernel with a kernelspec of this environment")


def effective_backend(parameters: dict[str, Any], env: dict[str, str] | None = None) -> tuple[str, Any]:
    """``(backend, settings)`` as the notebooks' ``stsnb.connect(...)`` will resolve them."""
    from ..settings import ENV, Settings

    settings = Settings.from_sources({k: v for k, v in parameters.items() if k in ENV}, env)
    return settings.backend, settings


def check_cluster(parameters: dict[str, Any]) -> str:
    """Connect once to the real cluster the notebooks will use; its ``lab.why``, or the error that stops the run."""
    from .. import connect
    from ..settings import ENV

    lab = connect(**{k: v for k, v in parameters.items() if k in ENV and k != "seed"})
    try:
        return lab.why
    finally:
        lab.close()


def plan(langs: Sequence[str], source_dir: Path, out_dir: Path, given: Sequence[Given], select: Sequence[str] = (),
         *, kernel_name: str = KERNEL_NAME, timeout: float = DEFAULT_TIMEOUT, start_timeout: float = 60.0,
         env: dict[str, str] | None = None) -> list[Task]:
    """The tasks, longest first, with their parameters checked against every selected notebook."""
    tasks: list[Task] = []
    for lang in langs:
        notebooks = find_notebooks(source_dir, lang, select)
        declared = {f"{lang}/{nb.name}": read_parameters(nb) for nb in notebooks}
        values = check_parameters(given, declared, lang=lang, env=env)
        for nb in notebooks:
            tasks.append(Task(lang, nb, out_dir, {**values, "lang": lang}, kernel_name, float(timeout),
                              float(start_timeout)))
    if not tasks:
        raise ConfigError(f"no notebooks to run in {source_dir} for {', '.join(langs)}")
    # Longest first (code cells as the estimate), so the pool does not end on one long notebook alone.
    return sorted(tasks, key=lambda t: (-_code_cells(t.source), t.lang, t.source.name))


def _close_thread_loop() -> None:
    """Close the event loop jupyter_core made for this worker thread (nbclient's sync calls run on it)."""
    import asyncio

    from jupyter_core.utils import ensure_event_loop

    loop = ensure_event_loop()
    if not loop.is_running():
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()
            asyncio.set_event_loop(None)


def _code_cells(path: Path) -> int:
    import json

    try:
        return sum(1 for c in json.loads(path.read_text(encoding="utf-8")).get("cells", []) if c.get("cell_type") == "code")
    except (OSError, ValueError):
        return 0


def run_notebooks(
    langs: Iterable[str] = LANGS,
    backend: str | None = None,
    parameters: dict[str, Any] | None = None,
    out_dir: str | Path = DEFAULT_OUT,
    jobs: int = DEFAULT_JOBS,
    timeout: float = DEFAULT_TIMEOUT,
    *,
    source_dir: str | Path | None = None,
    select: Sequence[str] = (),
    kernel_name: str = KERNEL_NAME,
    start_timeout: float = 60.0,
    progress: bool = False,
    given: Sequence[Given] = (),
    warm: bool | None = None,
    on_result: Callable[[RunResult], None] | None = None,
    on_note: Callable[[str], None] | None = None,
) -> list[RunResult]:
    """Execute the notebooks of ``langs``, ``jobs`` at a time; one :class:`RunResult` each, in (language, name) order.

    Args:
        langs: languages to run (``"en"``, ``"ko"``).
        backend: injected as the ``backend`` parameter when given.
        parameters: more parameters to inject, as values (``lang`` is set per language).
        given: parameters as the command line gave them (``-p``/``-r``), checked with their text.
        out_dir: executed copies go to ``out_dir/<lang>/`` (see :mod:`stsnb.cli.report`).
        jobs: notebooks at a time on the sandbox; a real cluster runs one at a time.
        timeout: execution timeout of each cell, in seconds.
        source_dir: the folder holding ``en/`` and ``ko/`` (default: :func:`~stsnb.cli.lessons.lessons_root`).
        select: run only notebooks whose name starts with or contains one of these.
        kernel_name: the kernelspec to run; checked by :func:`check_kernel`.
        start_timeout: seconds to wait for a kernel to start.
        progress: show a tqdm progress bar on stderr.
        warm: fork kernels from a zygote (``None``: where supported, see :mod:`stsnb.cli.kernels`).
        on_result: called (from a worker thread) as each notebook ends.
        on_note: called with one-line notes (real cluster: one at a time; cold kernels and why).

    Raises:
        ConfigError: a language, a parameter, the timeout, the kernelspec or the cluster is wrong;
            raised before any kernel starts. ``ClusterUnreachable``/``Forbidden`` likewise.
        RunInterrupted: Ctrl-C; carries the results.
    """
    langs = list(langs)
    unknown = [lang for lang in langs if lang not in LANGS]
    if unknown:
        raise ConfigError(f"unknown language {unknown[0]!r}", hint=f"use one of {', '.join(LANGS)} or all")
    if jobs < 1:
        raise ConfigError(f"jobs must be at least 1, not {jobs}")
    if not timeout or timeout <= 0:
        raise ConfigError(f"the execution timeout must be a positive number of seconds, not {timeout!r}",
                          hint="papermill waits forever without one; pass --timeout 120")
    note = on_note or (lambda text: None)
    all_given = [*given, *(Given.of(k, v) for k, v in (parameters or {}).items())]
    if backend is not None:
        all_given.append(Given.of("backend", backend))
    source = Path(source_dir) if source_dir is not None else lessons_root()
    out = Path(out_dir)
    tasks = plan(langs, source, out, all_given, select, kernel_name=kernel_name, timeout=timeout,
                 start_timeout=start_timeout)
    pool = _Pool(tasks, warm=warm, progress=progress, on_result=on_result, note=note)  # the zygote starts warming
    try:
        check_kernel(kernel_name)
        resolved, _ = effective_backend(tasks[0].parameters)
        if resolved != "sandbox":
            note(f"real cluster: {check_cluster(tasks[0].parameters)}")
            if jobs > 1 and len(tasks) > 1:
                note("real cluster: the notebooks run one at a time (they share one namespace and reset it)")
            jobs = 1
    except BaseException:
        pool.close()
        raise
    return pool.run(min(jobs, len(tasks)))


class _Pool:
    """Worker threads over the tasks, one zygote, and the Ctrl-C protocol of the module docstring."""

    def __init__(self, tasks: list[Task], *, warm: bool | None, progress: bool,
                 on_result: Callable[[RunResult], None] | None, note: Callable[[str], None]) -> None:
        from .kernels import KernelFolder

        self.tasks, self.warm, self.note = list(tasks), warm, note
        self.on_result = on_result
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.queue = list(tasks)
        self.active: dict[str, Any] = {}  # label -> kernel manager
        self.results: dict[str, RunResult] = {}
        self.record = RunRecord(tasks[0].out_dir)
        self.signals = 0
        self.interrupted_at: float | None = None
        self.bar: Any = None
        self.progress = progress
        self.folder = KernelFolder()
        self.zygote = self._start_zygote()

    def close(self) -> None:
        """Stop the zygote (and any kernel it forked) and remove the kernel folder."""
        if self.zygote is not None:
            if self.zygote.info and not self.zygote.info.get("ok") and not self.stopping.is_set():
                self.note(f"cold kernels: the zygote was not usable ({self.zygote.info})")
            self.zygote.stop()
            self.zygote = None
        self.folder.close()
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def run(self, jobs: int) -> list[RunResult]:
        if self.progress:
            from tqdm import tqdm

            self.bar = tqdm(total=len(self.tasks), desc="notebooks", unit="nb", file=sys.stderr, dynamic_ncols=True)
        previous = self._install_signal_handlers()
        log = self._log_to_file()
        try:
            workers = [threading.Thread(target=self._work, name=f"stsnb-run-{i}", daemon=True) for i in range(jobs)]
            for w in workers:
                w.start()
            self._wait(workers)
        finally:
            if self.stopping.is_set() and previous:
                # the caller is about to print what was interrupted: another Ctrl-C still stops at once
                previous = {sig: (lambda signum, frame: self._kill_now(signum)) for sig in previous}
            self._restore_signal_handlers(previous)
            self.close()
            log()
        results = self._collect()
        if self.stopping.is_set():
            raise RunInterrupted(results)
        return results

    def _log_to_file(self) -> Callable[[], None]:
        """papermill's and nbclient's log lines go to ``<out>/logs/runner.log`` (the summary says what failed)."""
        import logging

        path = self.tasks[0].out_dir / "logs" / "runner.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s"))
        logger = logging.getLogger("papermill")
        propagate, logger.propagate = logger.propagate, False
        logger.addHandler(handler)

        def undo() -> None:
            logger.removeHandler(handler)
            logger.propagate = propagate
            handler.close()
        return undo

    def _start_zygote(self) -> Any:
        from .kernels import Zygote, ZygoteError, warm_kernels_supported

        supported, why = warm_kernels_supported()
        if self.warm is False or (self.warm is None and not supported):
            if self.warm is None:
                self.note(f"cold kernels: {why}")
            return None
        try:  # its imports overlap with the checks and the first kernel's set-up; the first fork waits
            return Zygote().start(cwd=self.folder.path, wait=False)
        except (ZygoteError, OSError) as e:
            self.note(f"cold kernels: the zygote could not start ({e})")
            return None

    def _work(self) -> None:
        try:
            self._work_loop()
        finally:
            _close_thread_loop()

    def _work_loop(self) -> None:
        from .execute import execute_task
        from .kernels import RunnerKernelManager

        while True:
            with self.lock:
                if self.stopping.is_set() or not self.queue:
                    return
                task = self.queue.pop(0)
                km = RunnerKernelManager(folder=self.folder, log_path=task.log, zygote=self.zygote,
                                         kernel_name=task.kernel_name, stopping=self.stopping)
                self.active[task.label] = km
            task.log.parent.mkdir(parents=True, exist_ok=True)
            try:
                result = execute_task(task, km, self.stopping)
            finally:
                with self.lock:
                    self.active.pop(task.label, None)
            self._finished(result)

    def _finished(self, result: RunResult) -> None:
        with self.lock:
            self.results[result.label] = result
        self.record.add(result)
        line = f"{result.status:<11} {result.label}  {result.seconds:.1f} s"
        if self.bar is not None:
            self.bar.set_postfix_str(f"{result.label} {result.status}", refresh=False)
            self.bar.update(1)
        elif self.on_result is None:
            print(line, flush=True)
        if self.on_result is not None:
            self.on_result(result)

    def _wait(self, workers: list[threading.Thread]) -> None:
        """Join the workers, a fraction of a second at a time so signal handlers run."""
        killed = False
        while any(w.is_alive() for w in workers):
            for w in workers:
                w.join(0.1)
            if self.interrupted_at is None:
                continue
            waited = time.monotonic() - self.interrupted_at
            if waited > GRACE_S and not killed:
                self._signal_kernels(_SIGKILL)
                killed = True
            if waited > GRACE_S + 3:
                return  # a worker stuck outside its kernel: give up on it (daemon thread)

    # -- Ctrl-C -------------------------------------------------------------------------------------

    def _install_signal_handlers(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, self._on_signal)
        return previous

    @staticmethod
    def _restore_signal_handlers(previous: dict[int, Any]) -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: Any) -> None:  # noqa: ARG002
        self.signals += 1
        if self.signals > 1 or signum == signal.SIGTERM:
            self._kill_now(signum)
        self.stopping.set()
        self.interrupted_at = time.monotonic()
        with self.lock:
            running = sorted(self.active)
            queued = len(self.queue)
        sys.stderr.write(f"\nstsnb run: interrupted; stopping {', '.join(running) or 'nothing running'}"
                         f"{f' and {queued} queued' if queued else ''} (Ctrl-C again to stop at once)\n")
        sys.stderr.flush()
        self._signal_kernels(signal.SIGINT)

    def _kill_now(self, signum: int) -> None:
        self._signal_kernels(_SIGKILL)
        if self.zygote is not None:
            self.zygote.kill()
        if self.folder is not None:
            self.folder.close()
        sys.stderr.write(f"\nstsnb run: stopped at once ({signal.Signals(signum).name}); kernels killed, "
                         "no summary. Previous executed copies are unchanged.\n")
        sys.stderr.flush()
        os._exit(128 + signum)  # 130 for SIGINT, as a shell reports it

    def _signal_kernels(self, signum: int) -> None:
        with self.lock:
            kms = list(self.active.values())
        for km in kms:
            pid = km.kernel_pid
            if pid:
                try:  # the kernel leads its own process group: whatever it started goes too
                    os.killpg(pid, signum) if hasattr(os, "killpg") else os.kill(pid, signum)
                except OSError:
                    pass

    def _collect(self) -> list[RunResult]:
        results = dict(self.results)
        for task in self.tasks:
            if task.label not in results:
                status = "interrupted" if task.label in self.active else "cancelled"
                results[task.label] = RunResult(task.lang, task.source.name, task.source, None, status, 0.0,
                                                dict(task.parameters), task.log)
        order = {lang: i for i, lang in enumerate(LANGS)}
        return sorted(results.values(), key=lambda r: (order[r.lang], r.notebook))

