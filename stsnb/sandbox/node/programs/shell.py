"""The sandbox's ``sh``: lists, pipelines, ``if``/``while``/``until``/``for``, expansions and redirections.

The grammar is in :mod:`.grammar`; this runs it. What it runs (the package docstring
has the whole list): single and double quotes and backslashes; ``$VAR``, ``${VAR}``,
``$?``, ``$(command)`` and backquotes; ``NAME=value`` assignments (their values are not
split; alone, their status is the last command substitution's); the builtins
``exit``, ``exec``, ``set -e``, ``export``, ``:``, ``true``, ``false``, ``cd``,
``read``; redirections ``>``, ``>>``, ``<`` to files in the container's filesystem,
``N>&M`` and ``/dev/null``. ``set -e`` stops the shell at a failing command, except in the
condition of ``if``/``elif``/``while``/``until`` and before ``&&``/``||``. Anything else (``&``, ``case``, functions, subshells,
arithmetic) is a clear error with exit status 2. Error texts follow the image's
shell: busybox ``ash`` (``sh: ...``) or Debian's ``dash`` (``sh: 1: ...``).
Every command and loop turn is a step counted against the program's
:class:`~.base.Limits`, and every variable and word against its memory.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ..containers import FsError
from .base import IO, Exit, Forever, Input, Killed, ShellError
from .grammar import For, If, Loop, Simple, find_backquote, find_paren, parse

if TYPE_CHECKING:
    from .container import Container


@dataclass
class Redirect:
    """One redirection of a simple command: ``2>/dev/null`` is fd 2, op ``>``, target ``/dev/null``."""

    fd: int
    op: str  # ">", ">>", ">&", "<"
    target: str


#: Words that start what the sandbox shell does not run (compound commands, functions).
KEYWORDS = {"if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac",
            "function", "select", "{", "}", "!", "[[", "]]"}
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


_ARITH_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
              ast.FloorDiv: lambda a, b: int(a / b), ast.Div: lambda a, b: int(a / b),
              ast.Mod: lambda a, b: a - b * int(a / b), ast.Lt: lambda a, b: a < b, ast.Gt: lambda a, b: a > b,
              ast.LtE: lambda a, b: a <= b, ast.GtE: lambda a, b: a >= b, ast.Eq: lambda a, b: a == b,
              ast.NotEq: lambda a, b: a != b}


def _arith(node: ast.AST) -> int:
    """Evaluate a parsed arithmetic expression of integers only (C's truncating division, as sh does)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _arith(node.operand)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH_OPS:
        a, b = _arith(node.left), _arith(node.right)
        if abs(a) > 1 << 63 or abs(b) > 1 << 63 or (isinstance(node.op, ast.Mult) and abs(a * b) > 1 << 63):
            raise ValueError("out of range")
        return int(_ARITH_OPS[type(node.op)](a, b))
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _ARITH_OPS:
        return int(_ARITH_OPS[type(node.ops[0])](_arith(node.left), _arith(node.comparators[0])))
    raise ValueError("not arithmetic")


class _RedirectFailed(Exception):
    """A redirection could not be set up; the shell said why and the command does not run."""


class _FileWriter:
    """Output redirected to a file: each write appends (a full volume fails the write, as ``ENOSPC`` does)."""

    def __init__(self, shell: "Shell", path: str, cwd: str, err) -> None:
        self.shell, self.path, self.cwd, self.err = shell, path, cwd, err
        self.failed = False

    def __call__(self, text: str) -> None:
        if self.failed:
            return
        try:
            self.shell.fs.write(self.path, text.encode("utf-8", "surrogateescape"), self.cwd, append=True)
        except FsError as e:
            self.failed = True
            if self.err is not None:
                self.err(f"write error: {e.strerror}\n")


def _ash_strerror(s: str) -> str:
    return "nonexistent directory" if s == "No such file or directory" else s


def _dash_strerror(s: str) -> str:
    return {"No such file or directory": "Directory nonexistent"}.get(s, s)


class Shell:
    """The command language of ``sh -c``: lists, simple commands, expansions, redirections.

    A mixin of :class:`~.container.Container`, which provides the state used
    here (``env``, ``status``, ``errexit``, ``userland``) and :meth:`execute`,
    which runs a builtin or a program.
    """

    env: dict[str, str]
    status: int
    errexit: bool
    userland: str
    fs: object  # containers.FileSystem
    shell_name: str = "sh"  # $0
    shell_args: tuple[str, ...] = ()  # $1 … of `sh -c SCRIPT NAME ARG…`
    substitutions: int = 0  # command substitutions run so far: an assignment-only command returns the last one's status
    cond_depth: int = 0  # the if/elif/while/until conditions being run: set -e does not stop the shell there
    cwd: str
    steps: int
    limits: object  # base.Limits

    def tick(self) -> None:
        """Count one step; past the limit the program is stopped (a busy loop must not hold the thread)."""
        self.steps += 1
        cancel = getattr(self, "cancel", None)
        if cancel is not None and cancel.is_set():
            raise Killed("Killed", "")
        if self.steps > self.limits.steps:
            raise Killed("Error", f"stsnb sandbox: the program ran {self.limits.steps} commands without sleeping or "
                                  "waiting for input, the sandbox's limit for one program; it was stopped "
                                  "(a real container would go on using CPU)")

    def check_memory(self, extra: int) -> None:
        """Stop the program when its variables (plus ``extra`` bytes being built) pass the memory limit."""
        used = extra + sum(len(k) + len(v) for k, v in self.env.items())
        if used > self.limits.memory:
            raise Killed("OOMKilled", f"stsnb sandbox: the program's variables grew past {self.limits.memory} "
                                      "bytes, the sandbox's memory limit for one program; it was killed")

    def execute(self, argv: list[str], io: IO, in_shell: bool) -> int:
        raise NotImplementedError

    def shell_error(self, message: str) -> str:
        if self.userland == "debian":
            return f"sh: 1: {message}\n"
        return f"sh: {message}\n"

    def run_script(self, script: str, io: IO) -> int:
        try:
            nodes = parse(script)
        except ShellError as e:
            io.err(self.shell_error(str(e)))
            return 2
        return self.run_nodes(nodes, io)

    def run_nodes(self, nodes: list[tuple], io: IO) -> int:
        """Run parsed commands with their operators: ``;``, ``&&``, ``||`` and pipelines (``|``)."""
        k = 0
        while k < len(nodes):
            op, node = nodes[k]
            stages = [node]
            while k + 1 < len(nodes) and nodes[k + 1][0] == "|":
                k += 1
                stages.append(nodes[k][1])
            k += 1
            if op == "&&" and self.status != 0 or op == "||" and self.status == 0:
                continue
            try:
                self.status = self.run_pipeline(stages, io) if len(stages) > 1 else self.run_node(node, io)
            except ShellError as e:
                io.err(self.shell_error(str(e)))
                if getattr(self, "interactive", False):  # a shell at a prompt reports the error and goes on
                    self.status = 2
                    return self.status
                raise Exit(2) from None
            nxt = nodes[k][0] if k < len(nodes) else None
            if (self.errexit and self.status != 0 and nxt not in ("&&", "||") and op not in ("&&", "||")
                    and not self.cond_depth):
                raise Exit(self.status)
        return self.status

    def run_pipeline(self, stages: list, io: IO) -> int:
        """``a | b | c``, one stage after the other: each stage's output is the next one's input."""
        data: str | None = None
        status = 0
        for n, stage in enumerate(stages):
            captured: list[str] = []
            last = n == len(stages) - 1
            stage_io = IO(io.stdout if last else captured.append, io.stderr,
                          io.stdin if data is None else Input(data), tty=io.tty and last)
            saved = dict(self.env)
            try:
                status = self.run_node(stage, stage_io)
            except Exit as e:
                status = e.code
            finally:
                self.env = saved  # each stage runs in a subshell
            data = "".join(captured)
            self.check_memory(len(data))
        return status

    def run_condition(self, nodes: list[tuple], io: IO) -> int:
        """The condition of ``if``, ``elif``, ``while``, ``until``: a failure there does not stop a ``set -e`` shell."""
        self.cond_depth += 1
        try:
            return self.run_nodes(nodes, io)
        finally:
            self.cond_depth -= 1

    def run_node(self, node: object, io: IO) -> int:
        if isinstance(node, Simple):
            return self.run_simple(node.text, io)
        if isinstance(node, If):
            for cond, body in node.branches:
                if self.run_condition(cond, io) == 0:
                    return self.run_nodes(body, io)
            self.status = 0
            return self.run_nodes(node.orelse, io) if node.orelse else 0
        if isinstance(node, Loop):
            status = 0
            while True:
                self.tick()
                ok = self.run_condition(node.condition, io) == 0
                if ok == node.until:
                    return status
                status = self.run_nodes(node.body, io)
        if isinstance(node, For):
            values = [w for w in self.words(node.words, io) if isinstance(w, str)] if node.has_in else []
            status = 0
            for value in values:
                self.tick()
                self.env[node.name] = value
                status = self.run_nodes(node.body, io)
            return status
        raise ShellError(f"unknown command {node!r}")

    def run_simple(self, text: str, io: IO) -> int:
        self.tick()
        substitutions = self.substitutions
        first = text.split(None, 1)[0] if text.split() else ""
        if first in KEYWORDS or first.startswith("(") or first.endswith("()"):
            raise ShellError(f"'{first}': not supported by the stsnb sandbox shell, which runs simple commands, "
                              "pipelines, if, while, until and for (with quotes, $VAR and $(...))")
        tokens = self.words(text, io, command=True)
        redirects = [t for t in tokens if isinstance(t, Redirect)]
        words = [t for t in tokens if isinstance(t, str)]
        assigns: dict[str, str] = {}
        while words and "=" in words[0] and NAME_RE.fullmatch(words[0].split("=", 1)[0]):
            key, _, value = words.pop(0).partition("=")
            assigns[key] = value
        try:
            io = self.redirect(io, redirects)
        except _RedirectFailed:
            return 2 if self.userland == "debian" else 1
        if not words:
            self.env.update(assigns)
            self.check_memory(0)
            return self.status if self.substitutions != substitutions else 0
        saved = dict(self.env)
        self.env.update(assigns)
        try:
            return self.execute(words, io, in_shell=True)
        finally:
            if assigns:
                self.env = saved

    def redirect(self, io: IO, redirects: list[Redirect]) -> IO:
        """The command's IO after its redirections: ``>``, ``>>``, ``<`` to files, ``N>&M``, ``/dev/null``."""
        fds: dict[int, object] = {1: io.stdout, 2: io.stderr}
        stdin = io.stdin
        for r in redirects:
            target = r.target
            if any(ch in target for ch in "$'\"\\`"):
                target = "".join(w for w in self.words(target, io) if isinstance(w, str))
            if r.op == ">&":
                if target in ("1", "2"):
                    fds[r.fd] = fds[int(target)]
                    continue
                raise ShellError(f"{target}: bad file descriptor")
            if target == "/dev/null":
                if r.op == "<":
                    stdin = Input()
                else:
                    fds[r.fd] = None
                continue
            if r.op == "<":
                try:
                    stdin = Input(self.fs.read(target, self.cwd).decode("utf-8", "surrogateescape"))
                except FsError as e:
                    io.err(self.shell_error(f"can't open '{target}': {e.strerror}" if self.userland == "busybox"
                                            else f"cannot open {target}: {_dash_strerror(e.strerror)}"))
                    raise _RedirectFailed() from None
                continue
            try:
                self.fs.write(target, b"", self.cwd, append=r.op == ">>")
            except FsError as e:
                io.err(self.shell_error(f"can't create {target}: {_ash_strerror(e.strerror)}"
                                        if self.userland == "busybox"
                                        else f"cannot create {target}: {_dash_strerror(e.strerror)}"))
                raise _RedirectFailed() from None
            fds[r.fd] = _FileWriter(self, target, self.cwd, io.stderr)
        return IO(fds.get(1), fds.get(2), stdin, tty=io.tty and fds.get(1) is io.stdout)

    def substitute(self, script: str, io: IO) -> str:
        """``$(script)``: run in a subshell (its variables stay its own), stdout captured."""
        captured: list[str] = []
        self.substitutions += 1
        saved, cond_depth = dict(self.env), self.cond_depth
        self.cond_depth = 0
        try:
            self.status = self.run_script(script, IO(captured.append, io.stderr, io.stdin))
        except Exit as e:
            self.status = e.code
        finally:
            self.env, self.cond_depth = saved, cond_depth
        out = "".join(captured).rstrip("\n")
        self.check_memory(len(out))
        return out

    def arithmetic(self, expr: str) -> int:
        """``$((expr))``: integers, variables, ``+ - * / %``, comparisons and parentheses, as POSIX sh has them."""
        text = re.sub(r"\$?\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: self.env.get(m.group(1), "0") or "0", expr)
        try:
            tree = ast.parse(text.strip() or "0", mode="eval")
            return _arith(tree.body)
        except (SyntaxError, ValueError, ZeroDivisionError, RecursionError):
            raise ShellError(f"arithmetic syntax error: {expr.strip()}") from None

    def variable(self, name: str) -> str:
        if name == "?":
            return str(self.status)
        if name == "$":
            return "1"
        positional = self.shell_args
        if name == "#":
            return str(len(positional))
        if name == "0":
            return self.shell_name
        if name.isdigit():
            return positional[int(name) - 1] if int(name) <= len(positional) else ""
        return self.env.get(name, "")

    def words(self, text: str, io: IO, command: bool = False) -> list:
        """Split one simple command into words and redirections, expanding as it goes.

        In a ``command``, the value of an assignment before the command name is not split (``x=$(echo a b)``).
        """
        w = _Words(self.limits.memory, self)
        w.assignments = command
        i, n = 0, len(text)
        while i < n:
            c = text[i]
            if c in " \t\n":
                w.flush()
                i += 1
            elif c == "\\":
                if i + 1 < n:
                    if text[i + 1] != "\n":
                        w.add(text[i + 1])
                    i += 2
                else:
                    w.add("\\")
                    i += 1
            elif c == "'":
                end = text.find("'", i + 1)
                if end < 0:
                    raise ShellError("syntax error: unterminated quoted string")
                w.add(text[i + 1:end])
                i = end + 1
            elif c == '"':
                i = self._double_quoted(text, i, io, w)
            elif c == "$":
                value, i = self.dollar(text, i, io)
                w.expanded(value)
            elif c == "`":
                end = find_backquote(text, i)
                w.expanded(self.substitute(text[i + 1:end], io))
                i = end + 1
            elif c in "<>":
                i = w.redirection(text, i)
            elif c == "#" and not w.have:
                break
            else:
                w.add(c)
                i += 1
        w.flush()
        return w.out

    def _double_quoted(self, text: str, i: int, io: IO, w: _Words) -> int:
        """Add the double-quoted string at ``text[i]`` to the current word; the index after it."""
        n = len(text)
        w.have = True
        i += 1
        while True:
            if i >= n:
                raise ShellError("syntax error: unterminated quoted string")
            d = text[i]
            if d == '"':
                return i + 1
            if d == "\\" and i + 1 < n and text[i + 1] in '$`"\\\n':
                if text[i + 1] != "\n":
                    w.add(text[i + 1])
                i += 2
            elif d == "$":
                value, i = self.dollar(text, i, io)
                w.add(value)
            elif d == "`":
                end = find_backquote(text, i)
                w.add(self.substitute(text[i + 1:end], io))
                i = end + 1
            else:
                w.add(d)
                i += 1

    def dollar(self, text: str, i: int, io: IO) -> tuple[str, int]:
        """Expand the ``$…`` at ``text[i]``; returns the value and the index after it."""
        n = len(text)
        if i + 1 >= n:
            return "$", i + 1
        c = text[i + 1]
        if c == "(":
            if i + 2 < n and text[i + 2] == "(":
                end = find_paren(text, i + 1)
                return str(self.arithmetic(text[i + 3:end - 1])), end + 1
            end = find_paren(text, i + 1)
            return self.substitute(text[i + 2:end], io), end + 1
        if c == "{":
            end = text.find("}", i + 2)
            if end < 0:
                raise ShellError("syntax error: missing '}'")
            inner = text[i + 2:end]
            if not (NAME_RE.fullmatch(inner) or inner in ("?", "$", "#") or inner.isdigit()):
                raise ShellError(f"'${{{inner}}}': not supported by the stsnb sandbox shell")
            return self.variable(inner), end + 1
        if c in "?$#" or c.isdigit():
            return self.variable(c), i + 2
        m = NAME_RE.match(text, i + 1)
        if m:
            return self.variable(m.group(0)), m.end()
        return "$", i + 1

    # ----- name resolution as libc does it (nsswitch "files dns", resolv.conf search and ndots)


def _is_assignment(word: str) -> bool:
    name, eq, _ = word.partition("=")
    return bool(eq) and NAME_RE.fullmatch(name) is not None


class _Words:
    """The words and redirections of one simple command, as they are scanned."""

    def __init__(self, limit: int = 1 << 62, shell: Shell | None = None) -> None:
        self.out: list = []  # words (str) and Redirects
        self.cur: list[str] = []  # pieces of the word being scanned
        self.have = False  # a word is being scanned (it may be empty: "")
        self.size, self.limit, self.shell = 0, limit, shell
        self.assignments = False  # the words so far are assignments (NAME=value) before a command name

    def add(self, text: str) -> None:
        self.cur.append(text)
        self.have = True
        self.size += len(text)
        if self.size > self.limit and self.shell is not None:
            self.shell.check_memory(self.size)

    def flush(self) -> None:
        if self.have:
            self.out.append("".join(self.cur))
        self.cur, self.have = [], False

    def expanded(self, value: str) -> None:
        """An unquoted expansion: split into fields, unless it is in the value of an assignment."""
        if self.assignments and all(isinstance(word, str) and _is_assignment(word) for word in self.out) \
                and _is_assignment("".join(self.cur)):
            self.add(value)
        else:
            self.unquoted(value)

    def unquoted(self, value: str) -> None:
        """Field splitting of an unquoted expansion."""
        if not value:
            return
        if value[0].isspace():
            self.flush()
        parts = value.split()
        for k, part in enumerate(parts):
            if k:
                self.flush()
            self.add(part)
        if value[-1].isspace():
            self.flush()

    def redirection(self, text: str, i: int) -> int:
        """Scan the redirection at ``text[i]`` (``<`` or ``>``; digits just before are its fd); the index after."""
        c, n = text[i], len(text)
        digits = "".join(self.cur)
        if self.have and digits.isdigit():
            fd = int(digits)
            self.cur, self.have = [], False
        else:
            self.flush()
            fd = 1 if c == ">" else 0
        op = c
        i += 1
        if i < n and text[i] in ">&" and c == ">":
            op += text[i]
            i += 1
        while i < n and text[i] in " \t":
            i += 1
        start = i
        while i < n and text[i] not in " \t\n<>;&|":
            i += 1
        if start == i:
            raise ShellError("syntax error: unexpected newline")
        self.out.append(Redirect(fd, op, text[start:i]))
        return i


def b_exit(c: Container, argv: list[str], io: IO) -> int:
    if len(argv) > 1:
        try:
            raise Exit(int(argv[1]) & 0xFF)
        except ValueError:
            io.err(c.shell_error(f"exit: Illegal number: {argv[1]}"))
            raise Exit(2) from None
    raise Exit(c.status)


def b_exec(c: Container, argv: list[str], io: IO) -> int:
    if len(argv) == 1:
        return 0
    raise Exit(c.execute(argv[1:], io, in_shell=False))


def b_set(c: Container, argv: list[str], io: IO) -> int:
    for a in argv[1:]:
        if a.startswith("-") and "e" in a:
            c.errexit = True
        elif a.startswith("+") and "e" in a:
            c.errexit = False
    return 0


def b_export(c: Container, argv: list[str], io: IO) -> int:
    for a in argv[1:]:
        if "=" in a:
            key, _, value = a.partition("=")
            c.env[key] = value
    return 0


def b_cd(c: Container, argv: list[str], io: IO) -> int:
    target = argv[1] if len(argv) > 1 else c.env.get("HOME", "/")
    from ..containers import join, split_path
    path = join(split_path(target, c.cwd))
    if not c.fs.is_dir(path):
        why = "Not a directory" if c.fs.exists(path) else "No such file or directory"
        io.err(c.shell_error(f"cd: can't cd to {target}: {why}" if c.userland == "busybox"
                             else f"cd: can't cd to {target}"))
        return 2 if c.userland == "debian" else 1
    c.cwd = path
    c.env["PWD"] = path
    return 0


def b_read(c: Container, argv: list[str], io: IO) -> int:
    names = [a for a in argv[1:] if not a.startswith("-")] or ["REPLY"]
    line = io.stdin.readline()
    if line is None:
        for n in names:
            c.env[n] = ""
        return 1
    parts = line.rstrip("\n").split(None, len(names) - 1)
    for k, n in enumerate(names):
        c.env[n] = parts[k] if k < len(parts) else ""
    c.check_memory(0)
    return 0


BUILTINS: dict[str, Callable[[Container, list[str], IO], int]] = {
    "exit": b_exit, "exec": b_exec, "set": b_set, "export": b_export,
    ":": lambda c, a, io: 0, "true": lambda c, a, io: 0, "false": lambda c, a, io: 1,
    "cd": b_cd, "read": b_read,
}


def interactive(c: Container, io: IO) -> int:
    """A shell reading commands from its stdin: a prompt on a terminal, one line at a time, until EOF or ``exit``."""
    c.interactive = True
    prompt = ("/ # " if c.cwd == "/" else f"{c.cwd} # ") if c.userland == "busybox" else "# "
    while True:
        if io.tty:
            io.out(prompt)
        line = io.stdin.readline()
        if line is None:
            if io.tty:
                io.out("\n")
            return c.status
        c.steps = 0  # waiting for input is not busy
        try:
            c.run_script(line, io)
        except Exit as e:
            return e.code
        prompt = ("/ # " if c.cwd == "/" else f"{c.cwd} # ") if c.userland == "busybox" else "# "


#: Scripts images run that the sandbox runs as programs (``bash /run.sh`` in the Cassandra tutorial's image).
SCRIPT_PROGRAMS = frozenset({"/run.sh", "/ready-probe.sh"})


def p_sh(c: Container, argv: list[str], io: IO) -> int:
    args = argv[1:]
    script: str | None = None
    errexit = False
    while args and args[0].startswith("-") and len(args[0]) > 1 and args[0] != "--":
        flags = args.pop(0)[1:]
        errexit = errexit or "e" in flags
        if "c" in flags:
            if not args:
                io.err(c.shell_error("-c requires an argument") if c.userland == "busybox"
                       else "sh: 0: -c requires an argument\n")
                return 2
            script = args.pop(0)
    if args and args[0] == "--":
        args.pop(0)
    # $0, $1 …: `sh -c SCRIPT NAME ARG…` gives them; else $0 is the shell as invoked
    name = args[0] if args else argv[0]
    if script is None and args:  # `sh FILE ARG…`: the image's own script, or a file read as a script
        if args[0] in SCRIPT_PROGRAMS and c.available(args[0]):
            return c.execute(args, io, in_shell=False)
        text = c.file(args[0])
        if text is not None:
            script = text
    saved = c.shell_name, c.shell_args
    c.shell_name, c.shell_args = name, (tuple(args[1:]) if script is not None else ())
    try:
        return _sh(c, script, args, errexit, io)
    finally:
        c.shell_name, c.shell_args = saved


def _sh(c: Container, script: str | None, args: list[str], errexit: bool, io: IO) -> int:
    if script is None:
        if args:
            if c.userland == "debian":
                io.err(f"sh: 0: cannot open {args[0]}: No such file\n")
            else:
                io.err(f"sh: can't open '{args[0]}': No such file or directory\n")
            return 2
        if io.stdin.live:
            return interactive(c, io)
        container = c.ctx.container or {}
        if container.get("stdin"):
            if container.get("tty"):
                io.err("/ # " if c.userland == "busybox" else "# ")
            raise Forever()
        return 0  # no tty, stdin closed: the shell reads EOF and exits
    saved = (dict(c.env), c.errexit)  # a child shell's variables and options stay its own
    c.errexit = errexit
    try:
        return c.run_script(script, io)
    except Exit as e:
        return e.code
    finally:
        c.env, c.errexit = saved

