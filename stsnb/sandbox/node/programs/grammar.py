"""The shell's grammar: a script split into commands, then into a tree of compound commands.

:func:`split_list` cuts a script at ``;``, newlines, ``&&``, ``||`` and ``|``
(quotes, ``$(...)`` and backquotes respected); :func:`parse` builds the tree
the shell runs: simple commands, pipelines, ``if``/``elif``/``else``,
``while``/``until`` and ``for NAME in WORDS`` loops. A reserved word counts
only at the start of a command, as in POSIX (``echo done`` is a simple
command). A backslash-newline joins lines (in plain words and inside double
quotes); ``#`` at the start of a word comments out the rest of the line.

``[[ EXPRESSION ]]`` (bash's conditional command, also busybox ash's; not
dash's, where ``[[`` is an ordinary command name and not found) is parsed when
``parse(..., double_brackets=True)``: in command position (alone or after
``if``, ``then``, ``while``, ``do``, ...), its words are read by bash's rules
for them (``&&``, ``||``, ``(``, ``)``, ``<``, ``>`` are its operators, not
the list's; the word after ``=~`` takes ``(...)`` and ``|`` as part of the
regular expression) up to the word ``]]``, into a :class:`Cond` tree of
:class:`CondTest`, :class:`CondNot`, :class:`CondAnd` and :class:`CondOr`
whose operands stay unexpanded (the shell expands them when it tests them).
Precedence is bash's: ``!`` binds tightest, then ``&&``, then ``||``; a lone
word is ``-n WORD``. Its syntax errors are :class:`SyntaxErrorAt`, with the
line and bash's messages (``conditional binary operator expected``, ``syntax
error near `b'``). A redirection after ``]]`` is not supported.

Not parsed (a clear error from the shell): ``case``, functions, brace groups,
subshells, ``! PIPELINE`` and background jobs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .base import ShellError

Item = tuple  # (operator before it: None, ";", "&&", "||", "|"; the command's text)


class SyntaxErrorAt(ShellError):
    """A syntax error bash reports with a line number: its messages, the line (1-based) and that line's text."""

    def __init__(self, messages: list[str], line: int, offending: str | None) -> None:
        super().__init__(messages[0])
        self.messages, self.line, self.offending = messages, line, offending


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


@dataclass
class Cond:
    """``[[ EXPRESSION ]]``: ``expr`` is a tree of the classes below."""

    expr: object


@dataclass
class CondTest:
    """A unary test (``-f WORD``: one word) or a binary one (``LEFT == RIGHT``: two), words unexpanded."""

    op: str
    words: list[str]
    invert: bool = False  # a ``!`` right before it (bash's xtrace prints it: ``+ [[ ! -f x ]]``)


@dataclass
class CondNot:
    expr: object


@dataclass
class CondAnd:
    left: object
    right: object


@dataclass
class CondOr:
    left: object
    right: object


#: bash's unary and binary operators of ``[[`` (``<`` and ``>`` are tokens of their own).
COND_UNARY = frozenset("-a -b -c -d -e -f -g -h -k -n -o -p -r -s -t -u -v -w -x -z -G -L -N -O -R -S".split())
COND_BINARY = frozenset("== = != =~ -eq -ne -lt -le -gt -ge -nt -ot -ef".split())
#: What may come before ``[[`` in the text of one command for ``[[`` to be in command position.
_BEFORE_COND = frozenset({"if", "then", "elif", "else", "while", "until", "do", "!"})

#: Words that open or continue a compound command when they start one.
OPENERS = ("if", "while", "until", "for")
CONTINUERS = ("then", "elif", "else", "fi", "do", "done")


def _first(text: str) -> tuple[str, str]:
    parts = text.split(None, 1)
    if not parts:
        return "", ""
    return parts[0], parts[1] if len(parts) > 1 else ""


def parse(script: str, double_brackets: bool = False) -> list[tuple]:
    """``[(operator, node), ...]`` for a whole script; a :class:`ShellError` names what is wrong.

    ``double_brackets``: ``[[ ... ]]`` is a conditional command (bash, busybox ash), not a command name (dash).
    """
    items = list(split_list(script, double_brackets))
    nodes, i, stop = _block(items, 0, (), double_brackets)
    if i < len(items):
        raise ShellError(f'syntax error: unexpected "{stop}"')
    return nodes


def _block(items: list, i: int, until: tuple[str, ...], brackets: bool) -> tuple[list, int, str]:
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
            node, i = _compound(items, i, word, rest, brackets)
            nodes.append((op, node))
            continue
        if word == "[[" and brackets:
            nodes.append((op, parse_cond(text, 2)[0]))  # split_list has checked it
            i += 1
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


def _compound(items: list, i: int, word: str, rest: str, brackets: bool) -> tuple[object, int]:
    if word in ("while", "until"):
        cond, i, _ = _block(items, _open(items, i, rest), ("do",), brackets)
        if not cond:
            raise ShellError('syntax error: unexpected "do"')
        body, i, _ = _block(items, i, ("done",), brackets)
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
        body, i, _ = _block(items, _open(items, i, do_rest), ("done",), brackets)
        return For(name, words, body, has_in), i
    # if
    branches: list[tuple[list, list]] = []
    cond, i, _ = _block(items, _open(items, i, rest), ("then",), brackets)
    while True:
        body, i, stop = _block(items, i, ("elif", "else", "fi"), brackets)
        branches.append((cond, body))
        if stop == "elif":
            cond, i, _ = _block(items, i, ("then",), brackets)
            continue
        orelse: list = []
        if stop == "else":
            orelse, i, _ = _block(items, i, ("fi",), brackets)
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


def _line_of(script: str, pos: int) -> tuple[int, str]:
    """The 1-based line number of ``script[pos]`` and that line's text."""
    line = script.count("\n", 0, pos) + 1
    return line, script.split("\n")[line - 1]


def _cond_word_end(s: str, i: int, regex: bool) -> int:
    """The end of the ``[[`` word at ``s[i]``; the word after ``=~`` (``regex``) takes ``(...)`` and ``|`` in."""
    n = len(s)
    while i < n:
        c = s[i]
        if c in " \t\n":
            break
        if c == "\\":
            i += 2
        elif c == "'":
            end = s.find("'", i + 1)
            if end < 0:
                raise ShellError("syntax error: unterminated quoted string")
            i = end + 1
        elif c == '"':
            i = _closing_double_quote(s, i) + 1
        elif c == "`":
            i = find_backquote(s, i) + 1
        elif c == "$" and s[i + 1:i + 2] == "(":
            i = find_paren(s, i + 1) + 1
        elif c == "$" and s[i + 1:i + 2] == "{":
            end = s.find("}", i + 2)
            if end < 0:
                raise ShellError("syntax error: missing '}'")
            i = end + 1
        elif regex and c == "(":
            try:
                i = find_paren(s, i) + 1
            except ShellError:
                line, _ = _line_of(s, i)
                raise SyntaxErrorAt(["unexpected EOF while looking for matching `)'",
                                     "syntax error: unexpected end of file"], line, None) from None
        elif regex and c == "|":
            i += 1
        elif c in "&|;()<>":
            break
        else:
            i += 1
    return min(i, n)


def _cond_tokens(s: str, i: int) -> tuple[list[tuple[str, str, int]], int]:
    """The tokens of ``[[ ... ]]`` from ``s[i]`` (just after ``[[``) as (kind, text, index); the index after ``]]``.

    The kind is ``word`` or the operator itself (``&&``, ``||``, ``(``, ``)``, ``<``, ``>``, and the ones
    that are errors here: ``;``, ``&``, ``|``); the last token is ``("]]", "]]", index)``.
    """
    tokens: list[tuple[str, str, int]] = []
    n = len(s)
    regex = False
    while True:
        while i < n and (s[i] in " \t\n" or s.startswith("\\\n", i)):
            i += 2 if s[i] == "\\" else 1
        if i >= n:
            line = s.count("\n") + 1
            raise SyntaxErrorAt(["unexpected EOF while looking for `]]'", "syntax error: unexpected end of file"],
                                line, None)
        c = s[i]
        if s[i:i + 2] in ("&&", "||") and not (regex and c == "|"):
            tokens.append((s[i:i + 2], s[i:i + 2], i))
            i += 2
        elif c in "()<>;&|" and not (regex and c in "(|"):
            tokens.append((c, c, i))
            i += 1
        else:
            end = _cond_word_end(s, i, regex)
            word = s[i:end]
            tokens.append(("]]" if word == "]]" else "word", word, i))
            if word == "]]":
                return tokens, end
            i = end
            regex = word == "=~"
            continue
        regex = False


class _CondParser:
    """bash's grammar of ``[[``: ``or: and [|| or]``, ``and: term [&& and]``, ``term: ( or ) | ! term | test``."""

    def __init__(self, s: str, tokens: list[tuple[str, str, int]]) -> None:
        self.s, self.tokens, self.k = s, tokens, 0

    def peek(self) -> tuple[str, str, int]:
        return self.tokens[self.k]

    def take(self) -> tuple[str, str, int]:
        tok = self.tokens[self.k]
        if tok[0] != "]]":
            self.k += 1
        return tok

    def error(self, message: str | None, tok: tuple[str, str, int]) -> SyntaxErrorAt:
        line, text = _line_of(self.s, tok[2])
        near = f"syntax error near `{tok[1]}'"
        return SyntaxErrorAt([message, near] if message else [near], line, text)

    def expr(self) -> object:
        left = self.conj()
        if self.peek()[0] == "||":
            self.take()
            return CondOr(left, self.expr())
        return left

    def conj(self) -> object:
        left = self.term()
        if self.peek()[0] == "&&":
            self.take()
            return CondAnd(left, self.conj())
        return left

    def term(self) -> object:
        tok = self.take()
        kind, text, _ = tok
        if kind == "(":
            inner = self.expr()
            close = self.take()
            if close[0] != ")":
                raise self.error("expected `)'", close)
            return inner
        if kind == "word" and text == "!":
            grouped = self.peek()[0] == "("
            inner = self.term()
            if isinstance(inner, CondTest) and not grouped:  # bash inverts the test itself, and traces the "!"
                inner.invert = not inner.invert
                return inner
            return CondNot(inner)
        if kind != "word":
            raise self.error(f"unexpected token `{text}' in conditional command", tok)
        if text in COND_UNARY:
            arg = self.take()
            if arg[0] != "word":
                raise self.error(f"unexpected argument `{arg[1]}' to conditional unary operator", arg)
            return CondTest(text, [arg[1]])
        op = self.peek()
        if op[0] in ("]]", "&&", "||", ")"):
            return CondTest("-n", [text])  # [[ WORD ]] is [[ -n WORD ]]
        if not (op[0] in ("<", ">") or op[0] == "word" and op[1] in COND_BINARY):
            raise self.error("conditional binary operator expected", op)
        self.take()
        right = self.take()
        if right[0] != "word":
            raise self.error(f"unexpected argument `{right[1]}' to conditional binary operator", right)
        return CondTest(op[1], [text, right[1]])


def parse_cond(s: str, i: int) -> tuple[Cond, int]:
    """The ``[[ ... ]]`` whose ``[[`` ends at ``s[i]``: its tree, and the index after ``]]``."""
    tokens, end = _cond_tokens(s, i)
    parser = _CondParser(s, tokens)
    expr = parser.expr()
    tok = parser.peek()
    if tok[0] != "]]":
        raise parser.error(f"syntax error in conditional expression: unexpected token `{tok[1]}'", tok)
    return Cond(expr), end


def _cond_in_command_position(script: str, i: int, buf: list[str]) -> bool:
    """Whether the ``[[`` at ``script[i]`` starts a conditional command (after nothing, or only reserved words)."""
    if not script.startswith("[[", i) or script[i + 2:i + 3] not in ("", " ", "\t", "\n"):
        return False
    before = "".join(buf)
    if before and before[-1] not in " \t\n":
        return False
    return all(word in _BEFORE_COND for word in before.split())


def _after_cond(script: str, end: int) -> None:
    """What may follow ``]]``: an operator, a newline, a comment or the end (no redirections, no more words)."""
    j, n = end, len(script)
    while j < n and script[j] in " \t":
        j += 1
    if j >= n or script[j] in ";&|\n#)":
        return
    word_end = j
    while word_end < n and script[word_end] not in " \t\n;&|":
        word_end += 1
    word = script[j:word_end]
    if word.lstrip("0123456789")[:1] in ("<", ">"):
        raise ShellError(f"'{word}': a redirection of [[ ... ]] is not supported by the stsnb sandbox shell")
    line, text = _line_of(script, j)
    raise SyntaxErrorAt([f"syntax error near unexpected token `{word}'"], line, text)


def split_list(script: str, double_brackets: bool = False) -> list[tuple[str | None, str]]:
    """Split a script into simple commands with the operator before each (None, ";", "&&", "||").

    With ``double_brackets`` a ``[[ ... ]]`` in command position is kept whole (its ``&&``, ``||``, ``(``, ``<``
    are its own), and checked: a syntax error in it is a :class:`SyntaxErrorAt`.
    """
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
        elif c == "[" and double_brackets and _cond_in_command_position(script, i, buf):
            _, end = parse_cond(script, i + 2)
            _after_cond(script, end)
            buf.append(script[i:end])
            i = end
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


