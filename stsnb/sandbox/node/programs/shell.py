r"""The sandbox's ``sh`` and ``bash``: lists, pipelines, compound commands, ``[[``, expansions, redirections.

The grammar is in :mod:`.grammar`; this runs it. What it runs (the package docstring
has the whole list): single and double quotes and backslashes (a backslash-newline
joins lines); ``$VAR``, ``${VAR}``, ``${#VAR}``, ``$?``, ``$(command)`` and backquotes,
``$((...))`` (integers; ``010`` is octal); ``NAME=value`` assignments (alone, their status
is the last command substitution's); the builtins ``exit``, ``exec``, ``set``
(``-e``, ``-x``, ``-o errexit|xtrace``; ``+`` turns them off), ``export``, ``:``,
``true``, ``false``, ``cd``, ``read``; redirections ``>``, ``>>``, ``<`` to files in
the container's filesystem, ``N>&M`` and ``/dev/null``. ``set -e`` stops the shell
at a failing command, except in the condition of ``if``/``elif``/``while``/``until``
and before ``&&``/``||``, as POSIX says. Anything else (``&``, ``case``, functions,
subshells, ``! PIPELINE``) is a clear error with exit status 2.

Which shell it is: ``bash`` when run as ``bash`` (``shell_kind``), else the image's
``sh``, busybox ``ash`` or Debian's ``dash``. Error texts follow it: ``sh: ...``
(ash), ``sh: 1: ...`` (dash), ``bash: ...`` (bash's ``line N:`` is left out of
runtime errors; its syntax errors are ``bash: -c: line N: MESSAGE`` lines, then the
line itself). ``sh``/``bash`` options may be combined (``-ec``, ``-xc``, ``-ic``);
``-c`` takes the first argument after the options as the script; ``-i``, ``-l``, ``-s``
and bash's long options are accepted and not simulated.

What bash has and dash has not (busybox ash has ``[[`` too, here with bash's rules):

* ``[[ EXPRESSION ]]`` (parsed by :mod:`.grammar`), wherever a simple command may be.
  Its operands are expanded without word splitting or pathname expansion. Unary
  ``-e``/``-a``, ``-f``, ``-d``, ``-s``, ``-L``/``-h``, ``-z``, ``-n``, ``-v``, ``-o``; ``-r``
  and ``-w`` are "exists" and ``-x`` an execute bit, as root sees them; ``-G``, ``-O``
  "exists"; ``-b -c -p -S -t -g -u -k -N -R`` are false. Binary ``==``/``=``/``!=``
  against a pattern (``*``, ``?``, ``[...]`` with ``[:class:]``; quoted parts literal;
  no extglob), ``<``/``>`` (byte order: the C locale), ``=~`` (below), ``-eq -ne -lt -le
  -gt -ge`` (each operand an arithmetic expression, a bare name its variable's value;
  an invalid one prints bash's ``[[: …`` error and is false), ``-nt``/``-ot`` (mtimes),
  ``-ef`` (the same path); ``!``, ``&&``, ``||`` and ``( )``. Status 0, 1, or 2 for an
  invalid regular expression (``||`` goes on past it, ``!`` makes it 0, as in bash).
  A syntax error in it is reported when the script is parsed, so nothing of the
  script runs (bash would run the lines before the broken one).
* ``=~``: the right side is a POSIX extended regular expression, its quoted parts
  literal, translated for Python's :mod:`re` as glibc reads it: bracket expressions
  with ``[:space:]``, ``[:digit:]``, ``[:alpha:]``… (the C locale); ``.`` matches a
  newline; ``$`` only the very end; stacked repetitions repeat (``(.*?)`` is
  ``((?:.*)?)``, not lazy); ``\< \> \b \B \w \W \s \S`` and back-references; a
  repetition with nothing to repeat is an invalid expression. It searches (no full
  match needed). Python's backtracking takes the first alternative that matches where
  POSIX takes the longest (``a|ab`` on ``ab``), the one difference. A match sets the
  array ``BASH_REMATCH``: ``[0]`` the match, ``[N]`` group N (``""`` for a group that
  took no part); no match empties it.
* Arrays as far as ``BASH_REMATCH`` needs them: ``${NAME[N]}`` (N an arithmetic
  expression; negative counts from the end), ``${NAME[@]}`` (a word for each element in
  double quotes), ``${NAME[*]}``, ``${#NAME[@]}``, ``${#NAME[N]}``, and ``$NAME`` (element
  0). They live in ``arrays``, apart from ``env``: ``env``, ``printenv`` and other
  programs never see them. No array assignments.
* ``$(<FILE)``: the file's content without its trailing newlines, no command run; a
  missing file prints ``bash: FILE: No such file or directory`` and expands to nothing.
  Command substitutions clear ``set -e`` in bash (not in POSIX mode), not in dash.
* ``set -x`` (also ``bash -x``, ``set -o xtrace``): before each simple command runs,
  after its expansions, stderr gets ``+ `` and its words quoted as bash's xtrace
  quotes them (in single quotes when they hold a space, a glob or shell character
  or a quote, ``''`` when empty, ``$'…'`` for control characters); each assignment
  is a line ``+ NAME=VALUE`` of its own; each test a ``[[`` makes is a line
  ``+ [[ LEFT OP RIGHT ]]`` (``+ [[ -f FILE ]]``, ``+ [[ -n WORD ]]`` for a lone word)
  with the operands as expanded, a pattern's quoted characters backslashed (only
  the regex-special ones after ``=~``); inside each ``$(...)`` one more ``+``.
  PS4 is always ``+ ``, and ``for`` heads are not traced. dash and ash trace too, on
  one line per command with the assignments first and no nesting ``+``; dash leaves
  the words unquoted.

Every command and loop turn is a step counted against the program's
:class:`~.base.Limits`, and every variable, array element and word against its memory.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ..containers import FsError
from .base import IO, Exit, Forever, Input, Killed, ShellError
from .grammar import (Cond, CondAnd, CondNot, CondOr, CondTest, For, If, Loop, Simple, SyntaxErrorAt, find_backquote,
                      find_paren, parse)

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
            "function", "select", "{", "}", "!"}
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: ``${NAME[INDEX]}``, ``${#NAME[INDEX]}`` (INDEX ``@``, ``*`` or an arithmetic expression).
_ARRAY_REF = re.compile(r"(#?)([A-Za-z_][A-Za-z0-9_]*)\[(.*)\]", re.S)


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


# ----- patterns of [[ ]]: globs (==, !=) and POSIX extended regular expressions (=~), for Python's re

#: POSIX character classes, as the C locale has them, inside a Python character set.
_CLASSES = {"alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
            "space": " \\t\\n\\r\\f\\v", "blank": " \\t", "xdigit": "0-9A-Fa-f",
            "punct": "".join("\\" + ch for ch in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
            "cntrl": "\\x00-\\x1f\\x7f", "print": "\\x20-\\x7e", "graph": "\\x21-\\x7e"}
#: What bash backslashes of a quoted part of a regular expression (its ``ere_char``).
_ERE_SPECIAL = frozenset(".[\\()*+?{|^$")
_INTERVAL = re.compile(r"\{(\d+)(,(\d*))?\}")

Chars = list[tuple[str, bool]]  # (character, quoted)


def _chars(pieces: list[tuple[str, bool]]) -> Chars:
    return [(ch, quoted) for text, quoted in pieces for ch in text]


def _set_char(ch: str) -> str:
    """A character inside a Python character set (``-`` left alone: it makes ranges)."""
    return "\\" + ch if ch in "\\]^[&~|" else ch


def _bracket(chars: Chars, i: int, glob: bool) -> tuple[str, int] | None:
    """The bracket expression at ``chars[i]`` (``[``) as a Python set and the index after it; None if unclosed.

    ``[:class:]``, ``[=c=]`` and ``[.c.]`` inside; ``^`` (and in a glob ``!``) negates; a ``]`` first is
    literal; a backslash escapes in a glob and is itself in a regular expression; quoted characters are literal.
    """
    j, n = i + 1, len(chars)
    negate = j < n and not chars[j][1] and (chars[j][0] == "^" or glob and chars[j][0] == "!")
    if negate:
        j += 1
    items: list[str] = []
    first = True
    while j < n:
        ch, quoted = chars[j]
        if ch == "]" and not quoted and not first:
            return "[" + ("^" if negate else "") + "".join(items) + "]", j + 1
        first = False
        if ch == "[" and not quoted and j + 1 < n and chars[j + 1] in ((":", False), ("=", False), (".", False)):
            kind = chars[j + 1][0]
            k = j + 2
            while k + 1 < n and not (chars[k] == (kind, False) and chars[k + 1] == ("]", False)):
                k += 1
            if k + 1 >= n:
                return None
            name = "".join(c for c, _ in chars[j + 2:k])
            if kind == ":":
                if name not in _CLASSES:
                    raise ValueError(f"invalid character class {name}")
                items.append(_CLASSES[name])
            else:
                items.append("".join(_set_char(c) for c in name))
            j = k + 2
            continue
        if glob and ch == "\\" and not quoted and j + 1 < n:
            items.append(re.escape(chars[j + 1][0]))
            j += 2
            continue
        items.append(re.escape(ch) if quoted else _set_char(ch))
        j += 1
    return None


def glob_regex(chars: Chars) -> re.Pattern:
    """A bash pattern (``*``, ``?``, ``[...]``; quoted characters literal) as a regex for ``fullmatch``.

    An invalid bracket expression (an unknown class, a reversed range) matches nothing, as in bash.
    """
    out: list[str] = []
    i, n = 0, len(chars)
    try:
        while i < n:
            ch, quoted = chars[i]
            if quoted:
                out.append(re.escape(ch))
            elif ch == "\\":
                out.append(re.escape(chars[i + 1][0]) if i + 1 < n else "\\\\")
                i += 1
            elif ch == "*":
                if not out or out[-1] != ".*":
                    out.append(".*")
            elif ch == "?":
                out.append(".")
            elif ch == "[":
                bracket = _bracket(chars, i, glob=True)
                if bracket is not None:
                    out.append(bracket[0])
                    i = bracket[1]
                    continue
                out.append("\\[")
            else:
                out.append(re.escape(ch))
            i += 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return re.compile("".join(out), re.DOTALL)
    except (ValueError, re.error):
        return re.compile("(?!)")


def ere_regex(chars: Chars) -> str:
    r"""A POSIX extended regular expression (quoted characters literal) as glibc reads it, for Python's ``re``.

    Stacked repetitions repeat (``.*?`` is ``(?:.*)?``, not lazy), ``$`` is the very end (``\Z``), ``\<`` and
    ``\>`` are word boundaries; a repetition with nothing before it, an unclosed ``(`` or ``[``, an unknown
    class or a trailing backslash is a :class:`ValueError` (glibc's regcomp fails: ``[[`` returns 2).
    """
    stack: list[list[list]] = [[]]  # items: [text, kind ("atom", "anchor", "bar"), repeated]
    i, n = 0, len(chars)
    while i < n:
        ch, quoted = chars[i]
        cur = stack[-1]
        if quoted:
            cur.append([re.escape(ch), "atom", False])
            i += 1
            continue
        if ch == "\\":
            if i + 1 >= n:
                raise ValueError("trailing backslash")
            nxt = chars[i + 1][0]
            i += 2
            if nxt in "wWsS":
                cur.append(["\\" + nxt, "atom", False])
            elif nxt in "bB<>`'":
                cur.append([{"b": "\\b", "B": "\\B", "<": "\\b(?=\\w)", ">": "\\b(?<=\\w)", "`": "\\A",
                             "'": "\\Z"}[nxt], "anchor", False])
            elif nxt in "123456789":
                cur.append(["\\" + nxt, "atom", False])
            else:
                cur.append([re.escape(nxt), "atom", False])
            continue
        repeat = None
        if ch in "*+?":
            repeat = ch
        elif ch == "{":
            head = ""
            for c, q in chars[i:i + 32]:
                if q:
                    break
                head += c
            m = _INTERVAL.match(head)
            if m:
                low, high = int(m.group(1)), m.group(3)
                if low > 32767 or high and (int(high) < low or int(high) > 32767):
                    raise ValueError("invalid interval")
                repeat = m.group(0)
        if repeat is not None:
            if not cur or cur[-1][1] != "atom":
                raise ValueError("repetition-operator operand invalid")
            last = cur[-1]
            last[0] = f"(?:{last[0]}){repeat}" if last[2] else last[0] + repeat
            last[2] = True
            i += len(repeat)
            continue
        if ch == "[":
            bracket = _bracket(chars, i, glob=False)
            if bracket is None:
                raise ValueError("unmatched [")
            cur.append([bracket[0], "atom", False])
            i = bracket[1]
            continue
        if ch == "(":
            stack.append([])
        elif ch == ")" and len(stack) > 1:
            inner = stack.pop()
            stack[-1].append(["(" + "".join(item[0] for item in inner) + ")", "atom", False])
        elif ch == "|":
            cur.append(["|", "bar", False])
        elif ch == "^":
            cur.append(["^", "anchor", False])
        elif ch == "$":
            cur.append(["\\Z", "anchor", False])
        elif ch == ".":
            cur.append([".", "atom", False])
        else:  # an unmatched ")" is an ordinary character in glibc's EREs
            cur.append([re.escape(ch), "atom", False])
        i += 1
    if len(stack) > 1:
        raise ValueError("unmatched (")
    return "".join(item[0] for item in stack[0])


# ----- xtrace: words quoted as bash's set -x prints them

#: bash's ``sh_contains_shell_metas``: a word with one of these is single-quoted in a trace.
_XTRACE_METAS = frozenset(" \t\n'\"\\|&;()<>!{}*[?]^$`")
_ANSI_C = {"\a": "\\a", "\b": "\\b", "\x1b": "\\E", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
           "\v": "\\v", "\\": "\\\\", "'": "\\'"}


def xtrace_quote(word: str, assignment: bool = False) -> str:
    """A word as bash's xtrace prints it: as it is, in single quotes, ``''`` (empty) or ``$'...'`` (control chars).

    An assignment's empty value prints as nothing (``+ a=``).
    """
    if not word:
        return "" if assignment else "''"
    tilde = word[0] == "~" or any(word[k] == "~" and word[k - 1] in "=:" for k in range(1, len(word)))
    if any(ch in _XTRACE_METAS for ch in word) or word[0] == "#" or tilde:
        return "\\'" if word == "'" else "'" + word.replace("'", "'\\''") + "'"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in word):
        return "$'" + "".join(_ANSI_C.get(ch) or (f"\\{ord(ch):03o}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch)
                              for ch in word) + "'"
    return word


class _BadNumber(ValueError):
    """A number that is not one in its base (``08``, ``09``: a leading 0 makes it octal)."""


def _octal(m: re.Match) -> str:
    try:
        return str(int(m.group(0), 8))
    except ValueError:
        raise _BadNumber(m.group(0)) from None


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
    """The command language of ``sh -c`` and ``bash -c``: lists, simple commands, ``[[``, expansions, redirections.

    A mixin of :class:`~.container.Container`, which provides the state used
    here (``env``, ``status``, ``errexit``, ``userland``) and :meth:`execute`,
    which runs a builtin or a program. The shell's own state (which shell,
    ``xtrace``, ``arrays``) has class defaults here and is set by :func:`p_sh`.
    """

    env: dict[str, str]
    status: int
    errexit: bool
    userland: str
    fs: object  # containers.FileSystem
    shell_name: str = "sh"  # $0
    shell_args: tuple[str, ...] = ()  # $1 … of `sh -c SCRIPT NAME ARG…`
    substitutions: int = 0  # command substitutions run so far: an assignment-only command returns the last one's status
    shell_kind: str = "sh"  # "bash" when run as bash; "sh" is the image's own (busybox ash, Debian dash)
    shell_source: str = "-c"  # where the script came from ("-c", a file, "" for stdin): bash's syntax errors say
    xtrace: bool = False  # set -x
    trace_depth: int = 0  # the command substitutions being run: xtrace prints one "+" more for each
    cond_depth: int = 0  # the if/elif/while/until conditions being run: set -e does not stop the shell there
    _arrays: dict[str, list[str]] | None = None
    cwd: str
    steps: int
    limits: object  # base.Limits

    @property
    def arrays(self) -> dict[str, list[str]]:
        """The shell's arrays (``BASH_REMATCH``), apart from ``env``: the programs it runs never see them."""
        if self._arrays is None:
            self._arrays = {}
        return self._arrays

    @property
    def is_bash(self) -> bool:
        return self.shell_kind == "bash"

    @property
    def double_brackets(self) -> bool:
        """``[[`` is a conditional command in bash and busybox ash; in dash it is a command name (not found)."""
        return self.is_bash or self.userland == "busybox"

    def save_variables(self) -> tuple[dict[str, str], dict[str, list[str]]]:
        """The variables and arrays, for a subshell (``$(...)``, a pipeline stage) to leave as they were."""
        return dict(self.env), dict(self.arrays)

    def restore_variables(self, saved: tuple[dict[str, str], dict[str, list[str]]]) -> None:
        self.env, self._arrays = saved

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
        used += sum(len(k) + sum(len(v) for v in vs) for k, vs in self.arrays.items())
        if used > self.limits.memory:
            raise Killed("OOMKilled", f"stsnb sandbox: the program's variables grew past {self.limits.memory} "
                                      "bytes, the sandbox's memory limit for one program; it was killed")

    def execute(self, argv: list[str], io: IO, in_shell: bool) -> int:
        raise NotImplementedError

    def shell_error(self, message: str) -> str:
        """An error line as the shell prints it: ``bash: …`` (no ``line N:``), ``sh: 1: …`` (dash), ``sh: …`` (ash)."""
        if self.is_bash:
            return f"{self.shell_name}: {message}\n"
        if self.userland == "debian":
            return f"sh: 1: {message}\n"
        return f"sh: {message}\n"

    def syntax_error(self, e: SyntaxErrorAt) -> str:
        """bash's report of a syntax error: ``bash: -c: line N: MESSAGE`` lines, then the line itself in `…'.

        A bash reading commands from its stdin (a prompt) says only ``bash: MESSAGE``.
        """
        if not self.is_bash:
            return self.shell_error(e.messages[0])
        if not self.shell_source:
            return "".join(f"{self.shell_name}: {m}\n" for m in e.messages)
        where = f"{self.shell_name}: {'-c: ' if self.shell_source == '-c' else ''}line {e.line}: "
        lines = [where + m for m in e.messages]
        if e.offending is not None:
            lines.append(f"{where}`{e.offending}'")
        return "".join(line + "\n" for line in lines)

    def run_script(self, script: str, io: IO) -> int:
        try:
            nodes = parse(script, self.double_brackets)
        except SyntaxErrorAt as e:
            io.err(self.syntax_error(e))
            self.status = 2  # $? at a prompt after the broken line
            return 2
        except ShellError as e:
            io.err(self.shell_error(str(e)))
            self.status = 2
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
            saved = self.save_variables()
            try:
                status = self.run_node(stage, stage_io)
            except Exit as e:
                status = e.code
            finally:
                self.restore_variables(saved)  # each stage runs in a subshell
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
        if isinstance(node, Cond):
            self.tick()
            return self.run_cond(node.expr, io)
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
        pairs: list[tuple[str, str]] = []
        while words and "=" in words[0] and NAME_RE.fullmatch(words[0].split("=", 1)[0]):
            key, _, value = words.pop(0).partition("=")
            pairs.append((key, value))
        assigns = dict(pairs)
        if self.xtrace:  # before the redirections, on the shell's own stderr
            self.trace(io, pairs, words)
        try:
            io = self.redirect(io, redirects)
        except _RedirectFailed:
            return 2 if self.userland == "debian" and not self.is_bash else 1
        if words and words[0] == "[[":  # dash has no [[ (nor has bash after an assignment)
            io.err(self.shell_error("[[: command not found" if self.is_bash else "[[: not found"))
            return 127
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
                    io.err(self.shell_error(f"{target}: {e.strerror}" if self.is_bash
                                            else f"can't open '{target}': {e.strerror}" if self.userland == "busybox"
                                            else f"cannot open {target}: {_dash_strerror(e.strerror)}"))
                    raise _RedirectFailed() from None
                continue
            try:
                self.fs.write(target, b"", self.cwd, append=r.op == ">>")
            except FsError as e:
                io.err(self.shell_error(f"{target}: {e.strerror}" if self.is_bash
                                        else f"can't create {target}: {_ash_strerror(e.strerror)}"
                                        if self.userland == "busybox"
                                        else f"cannot create {target}: {_dash_strerror(e.strerror)}"))
                raise _RedirectFailed() from None
            fds[r.fd] = _FileWriter(self, target, self.cwd, io.stderr)
        return IO(fds.get(1), fds.get(2), stdin, tty=io.tty and fds.get(1) is io.stdout)

    def substitute(self, script: str, io: IO) -> str:
        """``$(script)``: run in a subshell (its variables and options stay its own), stdout captured.

        bash (not in POSIX mode) clears ``-e`` there; dash and ash keep it. xtrace prints one ``+`` more.
        """
        captured: list[str] = []
        self.substitutions += 1
        saved = self.save_variables()
        options = self.errexit, self.xtrace, self.cond_depth
        if self.is_bash:
            self.errexit = False
        self.cond_depth = 0
        self.trace_depth += 1
        try:
            self.status = self.run_script(script, IO(captured.append, io.stderr, io.stdin))
        except Exit as e:
            self.status = e.code
        finally:
            self.restore_variables(saved)
            self.errexit, self.xtrace, self.cond_depth = options
            self.trace_depth -= 1
        out = "".join(captured).rstrip("\n")
        self.check_memory(len(out))
        return out

    def read_substitution(self, path: str, io: IO) -> str:
        """bash's ``$(<FILE)``: the file without its trailing newlines (no command runs, nothing is traced)."""
        self.substitutions += 1
        try:
            text = self.fs.read(path, self.cwd).decode("utf-8", "surrogateescape")
        except FsError as e:
            io.err(self.shell_error(f"{path}: {e.strerror}"))
            self.status = 1
            return ""
        self.status = 0
        out = text.rstrip("\n")
        self.check_memory(len(out))
        return out

    def _file_of_substitution(self, inner: str, io: IO) -> str | None:
        """The FILE of a ``$(<FILE)`` (a command of only an input redirection), or None."""
        body = inner.strip()
        if not body.startswith("<") or body.startswith(("<<", "<(", "<&")):
            return None
        rest = body[1:].strip()
        if not rest or any(ch in rest for ch in ";&|<>\n"):
            return None
        words = [w for w in self.words(rest, io) if isinstance(w, str)]
        return words[0] if len(words) == 1 else None

    def arithmetic(self, expr: str) -> int:
        """``$((expr))``: integers, variables, ``+ - * / %``, comparisons and parentheses, as POSIX sh has them."""
        text = re.sub(r"\$?\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: self.env.get(m.group(1), "0") or "0", expr)
        try:
            text = re.sub(r"\b0[0-9]+\b", _octal, text)  # 010 is 8; 08 is an error
            tree = ast.parse(text.strip() or "0", mode="eval")
            return _arith(tree.body)
        except _BadNumber as e:
            raise ShellError(f'{e}: value too great for base (error token is "{e}")' if self.is_bash
                             else f"arithmetic syntax error: {expr.strip()}") from None
        except (SyntaxError, ValueError, ZeroDivisionError, RecursionError):
            raise ShellError(f"{expr.strip()}: syntax error in expression" if self.is_bash
                             else f"arithmetic syntax error: {expr.strip()}") from None

    def variable(self, name: str) -> str:
        if name in self.arrays:  # $NAME of an array is its element 0
            values = self.arrays[name]
            return values[0] if values else ""
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
                w.expanded(" ".join(value) if isinstance(value, list) else value)
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
        had = w.have
        w.have = True
        i += 1
        other = empty_fields = False  # "${NAME[@]}" of an empty array alone in the quotes gives no word (bash)
        while True:
            if i >= n:
                raise ShellError("syntax error: unterminated quoted string")
            d = text[i]
            if d == '"':
                if empty_fields and not other and not had:
                    w.have = False
                return i + 1
            if d == "$":
                value, i = self.dollar(text, i, io)
                if isinstance(value, list):  # "${NAME[@]}": a word for each element
                    for k, element in enumerate(value):
                        if k:
                            w.flush()
                        w.add(element)
                    other, empty_fields = other or bool(value), empty_fields or not value
                else:
                    w.add(value)
                    other = True
                continue
            other = True
            if d == "\\" and i + 1 < n and text[i + 1] in '$`"\\\n':
                if text[i + 1] != "\n":
                    w.add(text[i + 1])
                i += 2
            elif d == "`":
                end = find_backquote(text, i)
                w.add(self.substitute(text[i + 1:end], io))
                i = end + 1
            else:
                w.add(d)
                i += 1

    def dollar(self, text: str, i: int, io: IO) -> tuple[str | list[str], int]:
        """Expand the ``$…`` at ``text[i]``; returns the value and the index after it.

        The value is a list for ``${NAME[@]}`` (a word for each element in double quotes).
        """
        n = len(text)
        if i + 1 >= n:
            return "$", i + 1
        c = text[i + 1]
        if c == "(":
            if i + 2 < n and text[i + 2] == "(":
                end = find_paren(text, i + 1)
                return str(self.arithmetic(text[i + 3:end - 1])), end + 1
            end = find_paren(text, i + 1)
            if self.is_bash:
                path = self._file_of_substitution(text[i + 2:end], io)
                if path is not None:
                    return self.read_substitution(path, io), end + 1
            return self.substitute(text[i + 2:end], io), end + 1
        if c == "{":
            end = text.find("}", i + 2)
            if end < 0:
                raise ShellError("syntax error: missing '}'")
            return self.braced(text[i + 2:end]), end + 1
        if c in "?$#" or c.isdigit():
            return self.variable(c), i + 2
        m = NAME_RE.match(text, i + 1)
        if m:
            return self.variable(m.group(0)), m.end()
        return "$", i + 1

    def braced(self, inner: str) -> str | list[str]:
        """``${NAME}``, ``${#NAME}``; in bash also ``${NAME[N]}``, ``${NAME[@]}``, ``${NAME[*]}``, ``${#NAME[@]}``."""
        if NAME_RE.fullmatch(inner) or inner in ("?", "$", "#") or inner.isdigit():
            return self.variable(inner)
        if inner.startswith("#") and (NAME_RE.fullmatch(inner[1:]) or inner[1:].isdigit()):
            return str(len(self.variable(inner[1:])))
        m = _ARRAY_REF.fullmatch(inner)
        if m is None or not self.is_bash:
            raise ShellError(f"'${{{inner}}}': not supported by the stsnb sandbox shell")
        length, name, index = m.groups()
        values = self.array(name)
        if index in ("@", "*"):
            if length:
                return str(len(values))
            return list(values) if index == "@" else " ".join(values)
        k = self.arithmetic(index)
        if k < 0:
            k += len(values)
        value = values[k] if 0 <= k < len(values) else ""
        return str(len(value)) if length else value

    def array(self, name: str) -> list[str]:
        """An array's elements; a plain variable is an array of one element (as in bash), an unset one of none."""
        if name in self.arrays:
            return self.arrays[name]
        return [self.env[name]] if name in self.env else []

    def trace_prefix(self) -> str:
        """PS4 (``+ ``); bash repeats its ``+`` for each command substitution the command is in."""
        return "+" * (self.trace_depth + 1) + " " if self.is_bash else "+ "

    def trace(self, io: IO, assignments: list[tuple[str, str]], words: list[str]) -> None:
        """``set -x``: bash prints each assignment on a line of its own, then the words, quoted for reuse;
        dash and ash print one line, assignments first (dash leaves the words as they are)."""
        prefix = self.trace_prefix()
        if self.is_bash:
            io.err("".join(f"{prefix}{key}={xtrace_quote(value, assignment=True)}\n" for key, value in assignments))
            if words:
                io.err(prefix + " ".join(xtrace_quote(w) for w in words) + "\n")
            return
        shown = [f"{key}={value}" for key, value in assignments] + words
        quote = (lambda w: w) if self.userland == "debian" else xtrace_quote
        io.err(prefix + " ".join(quote(w) for w in shown) + "\n")

    # ----- [[ EXPRESSION ]]

    def run_cond(self, expr: object, io: IO) -> int:
        """Evaluate a ``[[`` tree: 0 true, 1 false, 2 an invalid regular expression (``!`` makes 2 true, as in bash)."""
        if isinstance(expr, CondAnd):
            status = self.run_cond(expr.left, io)
            return self.run_cond(expr.right, io) if status == 0 else status
        if isinstance(expr, CondOr):
            status = self.run_cond(expr.left, io)
            return status if status == 0 else self.run_cond(expr.right, io)
        if isinstance(expr, CondNot):
            return 1 if self.run_cond(expr.expr, io) == 0 else 0
        assert isinstance(expr, CondTest)
        status = self._cond_test(expr, io)
        if expr.invert:
            return 1 if status == 0 else 0
        return status

    def cond_pieces(self, text: str, io: IO) -> list[tuple[str, bool]]:
        """A ``[[`` operand expanded without word splitting or pathname expansion: (text, quoted) pieces."""
        pieces: list[tuple[str, bool]] = []
        i, n = 0, len(text)
        while i < n:
            c = text[i]
            if c == "\\":
                if i + 1 < n and text[i + 1] != "\n":
                    pieces.append((text[i + 1], True))
                elif i + 1 >= n:
                    pieces.append(("\\", False))
                i += 2
            elif c == "'":
                end = text.find("'", i + 1)
                pieces.append((text[i + 1:end], True))
                i = end + 1
            elif c == '"':
                w = _Words(self.limits.memory, self)
                i = self._double_quoted(text, i, io, w)
                pieces.append((" ".join([*w.out, "".join(w.cur)]), True))
            elif c == "$":
                value, i = self.dollar(text, i, io)
                pieces.append((" ".join(value) if isinstance(value, list) else value, False))
            elif c == "`":
                end = find_backquote(text, i)
                pieces.append((self.substitute(text[i + 1:end], io), False))
                i = end + 1
            else:
                pieces.append((c, False))
                i += 1
        return pieces

    def _trace_cond(self, io: IO, invert: bool, *parts: str) -> None:
        """bash's xtrace of one test of a ``[[``: ``+ [[ -f FILE ]]``, ``+ [[ LEFT == PATTERN ]]``."""
        if self.xtrace:
            shown = [p if p else "''" for p in parts]
            io.err(f"{self.trace_prefix()}[[ {'! ' if invert else ''}{' '.join(shown)} ]]\n")

    def _cond_test(self, t: CondTest, io: IO) -> int:
        op = t.op
        if len(t.words) == 1:
            arg = "".join(p for p, _ in self.cond_pieces(t.words[0], io))
            self._trace_cond(io, t.invert, op, arg)
            return 0 if self._unary(op, arg) else 1
        left = "".join(p for p, _ in self.cond_pieces(t.words[0], io))
        pieces = self.cond_pieces(t.words[1], io)
        right = "".join(p for p, _ in pieces)
        if op in ("==", "=", "!="):  # the right side a pattern: its quoted characters shown backslashed
            self._trace_cond(io, t.invert, left, op, "".join("".join("\\" + ch for ch in p) if q else p
                                                              for p, q in pieces))
            matched = glob_regex(_chars(pieces)).fullmatch(left) is not None
            return 0 if matched != (op == "!=") else 1
        if op == "=~":  # only the quoted characters special in a regular expression shown backslashed
            self._trace_cond(io, t.invert, left, op, "".join("".join("\\" + ch if ch in _ERE_SPECIAL else ch
                                                                      for ch in p) if q else p for p, q in pieces))
            return self._regex_match(left, pieces)
        self._trace_cond(io, t.invert, left, op, right)
        if op in ("<", ">"):
            return 0 if (left < right if op == "<" else left > right) else 1
        if op in ("-nt", "-ot"):
            a, b = self._mtime(left), self._mtime(right)
            if op == "-ot":
                a, b = b, a
            return 0 if a is not None and (b is None or a > b) else 1
        if op == "-ef":
            from ..containers import join, split_path
            same = join(split_path(left, self.cwd)) == join(split_path(right, self.cwd))
            return 0 if same and self.fs.exists(left, self.cwd) else 1
        values = []
        for operand in (left, right):
            try:
                values.append(self.arithmetic(operand))
            except ShellError as e:
                io.err(self.shell_error(f"[[: {e}"))
                return 1
        a, b = values
        return 0 if {"-eq": a == b, "-ne": a != b, "-lt": a < b, "-le": a <= b, "-gt": a > b,
                     "-ge": a >= b}[op] else 1

    def _mtime(self, path: str) -> float | None:
        try:
            return self.fs.stat(path, self.cwd).mtime if path else None
        except FsError:
            return None

    def _unary(self, op: str, arg: str) -> bool:
        """bash's unary tests, over the container's filesystem as root sees it."""
        if op == "-z":
            return arg == ""
        if op == "-n":
            return arg != ""
        if op == "-v":
            return arg in self.env or arg in self.arrays
        if op == "-o":
            return {"errexit": self.errexit, "xtrace": self.xtrace}.get(arg, False)
        if not arg:
            return False
        if op in ("-L", "-h"):
            return self.fs.is_link(arg, self.cwd)
        try:
            st = self.fs.stat(arg, self.cwd)
        except FsError:
            return False
        if op == "-f":
            return not st.is_dir
        if op == "-d":
            return st.is_dir
        if op == "-s":
            return st.size > 0
        if op == "-x":
            return st.is_dir or bool(st.mode & 0o111)
        return op in ("-a", "-e", "-r", "-w", "-G", "-O")  # -b -c -p -S -t -g -u -k -N -R: not simulated, false

    def _regex_match(self, subject: str, pieces: list[tuple[str, bool]]) -> int:
        """``=~``: search with the translated ERE; set BASH_REMATCH; 2 (and BASH_REMATCH untouched) if invalid."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rx = re.compile(ere_regex(_chars(pieces)), re.DOTALL)
        except (ValueError, re.error, RecursionError, OverflowError):
            return 2
        m = rx.search(subject)
        if m is None:
            self.arrays["BASH_REMATCH"] = []
            return 1
        self.arrays["BASH_REMATCH"] = [m.group(0), *(g if g is not None else "" for g in m.groups())]
        self.check_memory(0)
        return 0

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
            io.err(c.shell_error(f"exit: {argv[1]}: numeric argument required" if c.is_bash
                                 else f"exit: Illegal number: {argv[1]}"))
            raise Exit(2) from None
    raise Exit(c.status)


def b_exec(c: Container, argv: list[str], io: IO) -> int:
    if len(argv) == 1:
        return 0
    raise Exit(c.execute(argv[1:], io, in_shell=False))


def b_set(c: Container, argv: list[str], io: IO) -> int:
    """``set -e``/``-x`` (``-ex``, ``-o errexit``, ``-o xtrace``; ``+`` turns them off). Other options: ignored."""
    args = argv[1:]
    while args:
        a = args.pop(0)
        if a in ("--", "-"):
            break  # positional parameters: not simulated
        if a in ("-o", "+o"):
            name = args.pop(0) if args else ""
            if name in ("errexit", "xtrace"):
                setattr(c, name, a == "-o")
        elif len(a) > 1 and a[0] in "-+":
            for flag in a[1:]:
                if flag == "e":
                    c.errexit = a[0] == "-"
                elif flag == "x":
                    c.xtrace = a[0] == "-"
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
        io.err(c.shell_error(f"cd: {target}: {why}" if c.is_bash
                             else f"cd: can't cd to {target}: {why}" if c.userland == "busybox"
                             else f"cd: can't cd to {target}"))
        return 2 if c.userland == "debian" and not c.is_bash else 1
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
    """``sh``/``ash``/``bash [OPTIONS] [-c SCRIPT [NAME [ARG…]] | FILE [ARG…]]``.

    Options may be combined (``-ec``, ``-xc``, ``-ic``) or apart (``-e -c``); ``-c`` takes the first argument
    after the options as the script. ``-e``, ``-x`` and ``-o errexit|xtrace`` set options, ``+`` unsets them;
    ``-i``, ``-l``, ``-s``, other ``-o`` names and bash's long options (``--login``, ``--norc``…) are accepted and
    not simulated (an interactive shell's job-control messages and startup files are left out).
    """
    args = argv[1:]
    script: str | None = None
    options = {"errexit": False, "xtrace": False}
    command = False
    while args and len(args[0]) > 1 and args[0][0] in "-+" and args[0] != "--":
        a = args.pop(0)
        if a.startswith("--"):
            continue
        for flag in a[1:]:
            if flag == "c" and a[0] == "-":
                command = True
            elif flag in "ex":
                options["errexit" if flag == "e" else "xtrace"] = a[0] == "-"
            elif flag == "o" and args:
                name = args.pop(0)
                if name in options:
                    options[name] = a[0] == "-"
    if args and args[0] == "--":
        args.pop(0)
    if command:
        if not args:
            io.err("bash: -c: option requires an argument\n" if argv[0] == "bash"
                   else c.shell_error("-c requires an argument") if c.userland == "busybox"
                   else "sh: 0: -c requires an argument\n")
            return 2
        script = args.pop(0)
    # $0, $1 …: `sh -c SCRIPT NAME ARG…` gives them; else $0 is the shell as invoked
    name = args[0] if args else argv[0]
    source = "-c" if script is not None else ""
    if script is None and args:  # `sh FILE ARG…`: the image's own script, or a file read as a script
        if args[0] in SCRIPT_PROGRAMS and c.available(args[0]):
            return c.execute(args, io, in_shell=False)
        text = c.file(args[0])
        if text is not None:
            script, source = text, args[0]
    saved = c.shell_name, c.shell_args, c.shell_kind, c.shell_source
    c.shell_name, c.shell_args = name, (tuple(args[1:]) if script is not None else ())
    c.shell_kind, c.shell_source = ("bash" if argv[0] == "bash" else "sh"), source
    try:
        return _sh(c, script, args, options, io)
    finally:
        c.shell_name, c.shell_args, c.shell_kind, c.shell_source = saved


def _sh(c: Container, script: str | None, args: list[str], options: dict[str, bool], io: IO) -> int:
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
    # a child shell's variables, arrays and options stay its own; it starts with no arrays and no trace nesting
    saved = c.save_variables(), c.errexit, c.xtrace, c.trace_depth, c.cond_depth
    c._arrays, c.errexit, c.xtrace, c.trace_depth, c.cond_depth = {}, options["errexit"], options["xtrace"], 0, 0
    try:
        return c.run_script(script, io)
    except Exit as e:
        return e.code
    finally:
        variables, c.errexit, c.xtrace, c.trace_depth, c.cond_depth = saved
        c.restore_variables(variables)

