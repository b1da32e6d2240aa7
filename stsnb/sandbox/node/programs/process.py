"""A program running with live streams on a thread of its own: an exec session, or a shell a client attaches to.

The kubelet starts a :class:`Process` for ``kubectl exec``, for a container
whose shell reads its stdin (``stdin: true``), and for every container whose
command is a program (``sh -c 'touch /tmp/healthy; sleep 30; rm …'``): such a
process sleeps in sandbox time through ``sleeper`` (the kubelet's timers), so
what it does after a sleep happens when the sleep is over, as on a node. Input arrives as bytes and is
read by the programs as lines or all at once; output leaves as bytes through
``on_output(channel, data)`` (1 stdout, 2 stderr). With a terminal (``tty``)
the process sees what a pseudo-terminal in canonical mode gives it: typed
characters are echoed, Enter ends a line (``\\r`` becomes ``\\n``), Backspace
erases, Ctrl-C discards the line, Ctrl-D on an empty line is end of input, and
every ``\\n`` written goes out as ``\\r\\n`` on the one stdout stream.

The process is bounded like every program run (:class:`~.base.Limits`), and
:meth:`Process.kill` stops it at its next step, sleep or read.
"""

from __future__ import annotations

import queue
import threading
from typing import Callable

from .base import IO, Exit, Forever, Input, Killed, ProgramContext, kubelet_expand, parse_image

_EOF = object()


class Process:
    """``argv`` in the container of ``ctx`` with stdin/stdout/stderr streams; see the module docstring."""

    def __init__(self, ctx: ProgramContext, argv: list[str], *, tty: bool,
                 on_output: Callable[[int, bytes], None], on_exit: Callable[[int, str | None], None],
                 sleep_scale: Callable[[float], float] = lambda s: s, stdin: bool = True,
                 sleeper: Callable[[float, threading.Event], None] | None = None,
                 on_forever: Callable[[Forever], None] | None = None) -> None:
        self.ctx, self.argv, self.tty = ctx, argv, tty
        self.on_output, self.on_exit = on_output, on_exit
        self._input: queue.Queue = queue.Queue()
        self._line: list[str] = []
        self._escape = False
        self.cancel = threading.Event()
        self._kill_code = 137  # what a server stopped by kill() exits with
        self.done = threading.Event()
        self.exit_code: int | None = None
        self.reason: str | None = None
        self._sleep_scale = sleep_scale
        self._sleeper = sleeper
        self._on_forever = on_forever
        self._stdin_open = stdin
        if not stdin:
            self._input.put(_EOF)
        ctx.sleep = self._sleep
        if ctx.fs is None:  # a container started without one gets its image's filesystem now
            from .container import Container
            Container(ctx, parse_image((ctx.container or {}).get("image") or ""))
        self.thread = threading.Thread(target=self._main, name="stsnb-sandbox-process", daemon=True)

    # ------------------------------------------------------------------ control
    def start(self) -> "Process":
        self.thread.start()
        return self

    def write(self, data: bytes) -> None:
        """Bytes typed or piped into the process's stdin."""
        if not self._stdin_open:
            return
        text = data.decode("utf-8", "surrogateescape")
        if not self.tty:
            self._input.put(text)
            return
        for ch in text:
            self._key(ch)

    def close_stdin(self) -> None:
        if self._stdin_open:
            self._stdin_open = False
            if self._line:
                self._input.put("".join(self._line))
                self._line = []
            self._input.put(_EOF)

    def resize(self, width: int, height: int) -> None:
        self.size = (width, height)  # the sandbox's programs do not lay out text by terminal size

    def kill(self, code: int = 137) -> None:
        """Stop the process (SIGKILL): it ends at its next step, sleep or read with exit code 137. A server
        stopped by a signal it handles (``code``: 143 for a JVM's SIGTERM) ends with that code."""
        self._kill_code = code
        self.cancel.set()
        self._input.put(_EOF)

    def wait(self, timeout: float | None = None) -> int | None:
        self.done.wait(timeout)
        return self.exit_code

    # ------------------------------------------------------------------ terminal
    def _key(self, ch: str) -> None:
        if self._escape:  # swallow an escape sequence (arrow keys …) up to its final letter
            if ch.isalpha() or ch == "~":
                self._escape = False
            return
        if ch == "\x1b":
            self._escape = True
        elif ch in "\r\n":
            self._echo("\r\n")
            self._input.put("".join(self._line) + "\n")
            self._line = []
        elif ch in "\x7f\x08":
            if self._line:
                self._line.pop()
                self._echo("\b \b")
        elif ch == "\x03":
            self._echo("^C\r\n")
            self._line = []
            self._input.put("\n")
        elif ch == "\x04":
            if not self._line:
                self.close_stdin()
        elif ch == "\x15":  # Ctrl-U: erase the line
            self._echo("\b \b" * len(self._line))
            self._line = []
        elif ch >= " " or ch == "\t":
            self._line.append(ch)
            self._echo(ch)

    def _echo(self, text: str) -> None:
        self.on_output(1, text.encode("utf-8", "surrogateescape"))

    def _emit(self, channel: int, text: str) -> None:
        if not text:
            return
        if self.tty:
            channel, text = 1, text.replace("\r\n", "\n").replace("\n", "\r\n")
        self.on_output(channel, text.encode("utf-8", "surrogateescape"))

    # ------------------------------------------------------------------ the program
    def _next_input(self) -> str | None:
        while True:
            try:
                piece = self._input.get(timeout=0.5)
            except queue.Empty:
                if self.cancel.is_set():
                    return None
                continue
            if piece is _EOF:
                self._input.put(_EOF)  # later reads see the end too
                return None
            return piece

    def _sleep(self, seconds: float) -> None:
        if self._sleeper is not None:  # sandbox time: returns when the sleep is over, raises Killed if stopped first
            self._sleeper(seconds, self.cancel)
            return
        if self.cancel.wait(self._sleep_scale(seconds)):
            raise Killed("Killed", "")

    def _main(self) -> None:
        from .container import Container
        code: int = 0
        try:
            image = parse_image((self.ctx.container or {}).get("image") or "")
            c = Container(self.ctx, image)
            c.cancel = self.cancel
            io = IO(lambda s: self._emit(1, s), lambda s: self._emit(2, s), Input(more=self._next_input), tty=self.tty)
            argv = [kubelet_expand(a, c.env) for a in self.argv] if self.argv else []
            try:
                code = c.execute(argv, io, in_shell=False) if argv else 0
            except Exit as e:
                code = e.code
            except Forever as f:
                if self._on_forever is not None:
                    self._on_forever(f)
                self.cancel.wait()
                code = self._kill_code
        except Killed as k:
            code, self.reason = k.code, k.reason
            if k.message:
                self._emit(2, k.message + "\n")
        except Exception as e:  # a sandbox bug must not kill the thread silently
            self._emit(2, f"stsnb sandbox: internal error while running {self.argv!r}: {e!r}\n")
            code = 128
        self.exit_code = code & 0xFF
        self.done.set()
        self.on_exit(self.exit_code, self.reason)
