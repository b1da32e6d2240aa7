"""The sandbox's ``sh``: simple commands joined by ``;``, ``&&``, ``||`` and newlines.

What it runs (the package docstring has the whole list): single and double
quotes and backslashes; ``$VAR``, ``${VAR}``, ``$?``, ``$(command)`` and
backquotes; ``NAME=value`` assignments; the builtins ``exit``, ``exec``,
``set -e``, ``export``, ``:``, ``true``, ``false``, ``cd``; redirections
``>/dev/null``, ``2>/dev/null``, ``2>&1``, ``>&2``. Anything else (pipes,
``&``, compound commands, functions, subshells, redirection to files) is a
clear error with exit status 2. Error texts follow the image's shell: busybox
``ash`` (``sh: ...``) or Debian's ``dash`` (``sh: 1: ...``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from .base import IO, Exit, Forever, ShellError

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

    def execute(self, argv: list[str], io: IO, in_shell: bool) -> int:
        raise NotImplementedError

    def shell_error(self, message: str) -> str:
        if self.userland == "debian":
            return f"sh: 1: {message}\n"
        return f"sh: {message}\n"

    def run_script(self, script: str, io: IO) -> int:
        try:
            items = split_list(script)
        except ShellError as e:
            io.err(self.shell_error(str(e)))
            return 2
        for k, (op, text) in enumerate(items):
            if op == "&&" and self.status != 0:
                continue
            if op == "||" and self.status == 0:
                continue
            try:
                self.status = self.run_simple(text, io)
            except ShellError as e:
                io.err(self.shell_error(str(e)))
                raise Exit(2) from None
            nxt = items[k + 1][0] if k + 1 < len(items) else None
            if self.errexit and self.status != 0 and nxt not in ("&&", "||") and op not in ("&&", "||"):
                raise Exit(self.status)
        return self.status

    def run_simple(self, text: str, io: IO) -> int:
        first = text.split(None, 1)[0] if text.split() else ""
        if first in KEYWORDS or first.startswith("(") or first.endswith("()"):
            raise ShellError(f"'{first}': not supported by the stsnb sandbox shell, which runs simple commands "
                              "joined by ;, && and || (with quotes, $VAR and $(...))")
        tokens = self.words(text, io)
        redirects = [t for t in tokens if isinstance(t, Redirect)]
        words = [t for t in tokens if isinstance(t, str)]
        assigns: dict[str, str] = {}
        while words and "=" in words[0] and NAME_RE.fullmatch(words[0].split("=", 1)[0]):
            key, _, value = words.pop(0).partition("=")
            assigns[key] = value
        if not words:
            self.env.update(assigns)
            return 0
        io = self.redirect(io, redirects)
        saved = dict(self.env)
        self.env.update(assigns)
        try:
            return self.execute(words, io, in_shell=True)
        finally:
            if assigns:
                self.env = saved

    def redirect(self, io: IO, redirects: list[Redirect]) -> IO:
        fds = {1: io.stdout, 2: io.stderr}
        for r in redirects:
            if r.op in (">", ">>") and r.target == "/dev/null":
                fds[r.fd] = None
            elif r.op == ">&" and r.target in ("1", "2"):
                fds[r.fd] = fds[int(r.target)]
            elif r.op == "<" and r.target == "/dev/null":
                pass
            else:
                raise ShellError(f"redirection '{r.fd}{r.op}{r.target}': not supported by the stsnb sandbox shell "
                                  "(only >/dev/null, 2>/dev/null, 2>&1 and >&2)")
        return IO(fds.get(1), fds.get(2))

    def substitute(self, script: str, io: IO) -> str:
        """``$(script)``: run in a subshell (its variables stay its own), stdout captured."""
        captured: list[str] = []
        saved = dict(self.env)
        try:
            self.status = self.run_script(script, IO(captured.append, io.stderr))
        except Exit as e:
            self.status = e.code
        finally:
            self.env = saved
        return "".join(captured).rstrip("\n")

    def variable(self, name: str) -> str:
        if name == "?":
            return str(self.status)
        if name == "$":
            return "1"
        if name == "#":
            return "0"
        if name == "0":
            return "sh"
        if name.isdigit():
            return ""
        return self.env.get(name, "")

    def words(self, text: str, io: IO) -> list:
        """Split one simple command into words and redirections, expanding as it goes."""
        w = _Words()
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
                w.unquoted(value)
            elif c == "`":
                end = find_backquote(text, i)
                w.unquoted(self.substitute(text[i + 1:end], io))
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
                    w.cur.append(text[i + 1])
                i += 2
            elif d == "$":
                value, i = self.dollar(text, i, io)
                w.cur.append(value)
            elif d == "`":
                end = find_backquote(text, i)
                w.cur.append(self.substitute(text[i + 1:end], io))
                i = end + 1
            else:
                w.cur.append(d)
                i += 1

    def dollar(self, text: str, i: int, io: IO) -> tuple[str, int]:
        """Expand the ``$…`` at ``text[i]``; returns the value and the index after it."""
        n = len(text)
        if i + 1 >= n:
            return "$", i + 1
        c = text[i + 1]
        if c == "(":
            if i + 2 < n and text[i + 2] == "(":
                raise ShellError("'$((': arithmetic is not supported by the stsnb sandbox shell")
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


class _Words:
    """The words and redirections of one simple command, as they are scanned."""

    def __init__(self) -> None:
        self.out: list = []  # words (str) and Redirects
        self.cur: list[str] = []  # pieces of the word being scanned
        self.have = False  # a word is being scanned (it may be empty: "")

    def add(self, text: str) -> None:
        self.cur.append(text)
        self.have = True

    def flush(self) -> None:
        if self.have:
            self.out.append("".join(self.cur))
        self.cur, self.have = [], False

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


def find_paren(text: str, i: int) -> int:
    """The index of the ``)`` matching the ``(`` at ``text[i]``, skipping quotes."""
    depth, j, n = 0, i, len(text)
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == "'":
            end = text.find("'", j + 1)
            if end < 0:
                break
            j = end + 1
            continue
        if c == '"':
            j += 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j += 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    raise ShellError("syntax error: unterminated $(")


def find_backquote(text: str, i: int) -> int:
    j = i + 1
    while j < len(text):
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == "`":
            return j
        j += 1
    raise ShellError("syntax error: unterminated `")


def _closing_double_quote(script: str, i: int) -> int:
    """The index of the ``"`` that closes the one at ``script[i]`` (a ``$(...)`` inside may hold quotes)."""
    j, n = i + 1, len(script)
    while j < n and script[j] != '"':
        if script[j] == "\\":
            j += 2
        elif script[j] == "$" and j + 1 < n and script[j + 1] == "(":
            j = find_paren(script, j + 1) + 1
        else:
            j += 1
    if j >= n:
        raise ShellError("syntax error: unterminated quoted string")
    return j


def split_list(script: str) -> list[tuple[str | None, str]]:
    """Split a script into simple commands with the operator before each (None, ";", "&&", "||")."""
    items: list[tuple[str | None, str]] = []
    buf: list[str] = []
    op: str | None = None
    i, n = 0, len(script)

    def flush(next_op: str | None, hard: bool) -> None:
        nonlocal buf, op
        text = "".join(buf).strip()
        if not text:
            if hard or op in ("&&", "||"):
                raise ShellError(f"syntax error: unexpected \"{next_op or op}\"")
            buf = []
            return
        items.append((op, text))
        buf, op = [], next_op

    while i < n:
        c = script[i]
        if c == "\\":
            buf.append(script[i:i + 2])
            i += 2
        elif c == "'":
            end = script.find("'", i + 1)
            if end < 0:
                raise ShellError("syntax error: unterminated quoted string")
            buf.append(script[i:end + 1])
            i = end + 1
        elif c == '"':
            j = _closing_double_quote(script, i)
            buf.append(script[i:j + 1])
            i = j + 1
        elif c == "`":
            end = find_backquote(script, i)
            buf.append(script[i:end + 1])
            i = end + 1
        elif c == "$" and i + 1 < n and script[i + 1] == "(":
            end = find_paren(script, i + 1)
            buf.append(script[i:end + 1])
            i = end + 1
        elif c == "#" and (not buf or buf[-1][-1:] in (" ", "\t", "\n")):
            while i < n and script[i] != "\n":
                i += 1
        elif c == "\n":
            if "".join(buf).strip():
                flush(";", False)
            elif op in ("&&", "||"):
                pass  # a newline may follow && and ||
            i += 1
        elif c == ";":
            if script[i:i + 2] == ";;":
                raise ShellError('syntax error: unexpected ";;"')
            flush(";", True)
            i += 1
        elif c == "&":
            if script[i:i + 2] == "&&":
                flush("&&", True)
                i += 2
            elif buf and buf[-1][-1:] in (">", "<"):
                buf.append(c)
                i += 1
            else:
                raise ShellError("'&': background jobs are not supported by the stsnb sandbox shell")
        elif c == "|":
            if script[i:i + 2] == "||":
                flush("||", True)
                i += 2
            else:
                raise ShellError("'|': pipes are not supported by the stsnb sandbox shell")
        elif c in "()" and not "".join(buf).strip():
            raise ShellError(f"'{c}': subshells are not supported by the stsnb sandbox shell")
        else:
            buf.append(c)
            i += 1
    if "".join(buf).strip():
        flush(None, False)
    elif op in ("&&", "||"):
        raise ShellError("syntax error: unexpected end of file")
    return items


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


BUILTINS: dict[str, Callable[[Container, list[str], IO], int]] = {
    "exit": b_exit, "exec": b_exec, "set": b_set, "export": b_export,
    ":": lambda c, a, io: 0, "true": lambda c, a, io: 0, "false": lambda c, a, io: 1,
    "cd": lambda c, a, io: 0,
}


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
    if script is None:
        if args:
            if c.userland == "debian":
                io.err(f"sh: 0: cannot open {args[0]}: No such file\n")
            else:
                io.err(f"sh: can't open '{args[0]}': No such file or directory\n")
            return 2
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

