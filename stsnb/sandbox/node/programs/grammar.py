"""The shell's grammar: a script split into commands, then into a tree of compound commands.

:func:`split_list` cuts a script at ``;``, newlines, ``&&``, ``||`` and ``|``
(quotes, ``$(...)`` and backquotes respected); :func:`parse` builds the tree
the shell runs: simple commands, pipelines, ``if``/``elif``/``else``,
``while``/``until`` and ``for NAME in WORDS`` loops. A reserved word counts
only at the start of a command, as in POSIX (``echo done`` is a simple
command). Not parsed (a clear error from the shell): ``case``, functions,
brace groups, subshells and background jobs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .base import ShellError

Item = tuple  # (operator before it: None, ";", "&&", "||", "|"; the command's text)


@dataclass
class Simple:
    text: str


@dataclass
class If:
    branches: list[tuple[list, list]]  # (condition, body) for if and each elif
    orelse: list = field(default_factory=list)


@dataclass
class Loop:
    condition: list
    body: list
    until: bool = False


@dataclass
class For:
    name: str
    words: str  # unexpanded
    body: list
    has_in: bool = True


#: Words that open or continue a compound command when they start one.
OPENERS = ("if", "while", "until", "for")
CONTINUERS = ("then", "elif", "else", "fi", "do", "done")


def _first(text: str) -> tuple[str, str]:
    parts = text.split(None, 1)
    if not parts:
        return "", ""
    return parts[0], parts[1] if len(parts) > 1 else ""


def parse(script: str) -> list[tuple]:
    """``[(operator, node), ...]`` for a whole script; a :class:`ShellError` names what is wrong."""
    items = list(split_list(script))
    nodes, i, stop = _block(items, 0, ())
    if i < len(items):
        raise ShellError(f'syntax error: unexpected "{stop}"')
    return nodes


def _block(items: list, i: int, until: tuple[str, ...]) -> tuple[list, int, str]:
    """Nodes up to a command starting with one of ``until``; returns them, the index there and the word."""
    nodes: list[tuple] = []
    while i < len(items):
        op, text = items[i]
        word, rest = _first(text)
        if word in until:
            if rest and word not in ("fi", "done"):
                items[i] = (None, rest)  # "do echo x": the body starts with "echo x"
            else:
                if rest and word in ("fi", "done"):
                    raise ShellError(f'syntax error: unexpected word (expecting ";" after "{word}")')
                i += 1
            return nodes, i, word
        if word in CONTINUERS:
            raise ShellError(f'syntax error: unexpected "{word}"')
        if word in OPENERS:
            node, i = _compound(items, i, word, rest)
            nodes.append((op, node))
            continue
        nodes.append((op, Simple(text)))
        i += 1
    if until:
        raise ShellError(f'syntax error: unexpected end of file (expecting "{until[-1]}")')
    return nodes, i, ""


def _open(items: list, i: int, rest: str) -> int:
    """Make the text after an opening word the next command, or skip the item that held only the word."""
    if rest:
        items[i] = (None, rest)
        return i
    return i + 1


def _compound(items: list, i: int, word: str, rest: str) -> tuple[object, int]:
    if word in ("while", "until"):
        cond, i, _ = _block(items, _open(items, i, rest), ("do",))
        if not cond:
            raise ShellError('syntax error: unexpected "do"')
        body, i, _ = _block(items, i, ("done",))
        return Loop(cond, body, until=word == "until"), i
    if word == "for":
        parts = rest.split(None, 2)
        if not parts:
            raise ShellError("syntax error: bad for loop variable")
        name = parts[0]
        has_in = len(parts) > 1 and parts[1] == "in"
        words = parts[2] if has_in and len(parts) > 2 else ""
        if not has_in and len(parts) > 1:
            raise ShellError(f'syntax error: unexpected "{parts[1]}"')
        i += 1
        do_word, do_rest = _first(items[i][1]) if i < len(items) else ("", "")
        if do_word != "do":
            raise ShellError('syntax error: unexpected end of file (expecting "do")')
        body, i, _ = _block(items, _open(items, i, do_rest), ("done",))
        return For(name, words, body, has_in), i
    # if
    branches: list[tuple[list, list]] = []
    cond, i, _ = _block(items, _open(items, i, rest), ("then",))
    while True:
        body, i, stop = _block(items, i, ("elif", "else", "fi"))
        branches.append((cond, body))
        if stop == "elif":
            cond, i, _ = _block(items, i, ("then",))
            continue
        orelse: list = []
        if stop == "else":
            orelse, i, _ = _block(items, i, ("fi",))
        return If(branches, orelse), i


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
            if hard or op in ("&&", "||", "|"):
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
            elif op in ("&&", "||", "|"):
                pass  # a newline may follow &&, || and |
            i += 1
        elif c == ";":
            if script[i:i + 2] == ";;":
                raise ShellError("';;': case is not supported by the stsnb sandbox shell")
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
                flush("|", True)
                i += 1
        elif c in "()" and not "".join(buf).strip():
            raise ShellError(f"'{c}': subshells are not supported by the stsnb sandbox shell")
        else:
            buf.append(c)
            i += 1
    if "".join(buf).strip():
        flush(None, False)
    elif op in ("&&", "||", "|"):
        raise ShellError("syntax error: unexpected end of file")
    return items


