"""Label and field selectors, parsed and matched as the API server does.

Follows ``kubernetes/apimachinery:pkg/labels/selector.go`` (string form:
``a=b``, ``a==b``, ``a!=b``, ``a in (x,y)``, ``a notin (x)``, ``a``, ``!a``)
and ``metav1.LabelSelectorAsSelector`` (matchLabels and matchExpressions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

Requirement = Callable[[dict], bool]


class SelectorError(ValueError):
    """A selector string that does not parse; the message is the API server's wording."""


@dataclass(frozen=True)
class LabelSelector:
    """A parsed selector: every requirement must hold."""

    requirements: tuple[Requirement, ...] = ()
    text: str = ""

    def matches(self, labels: dict | None) -> bool:
        labels = labels or {}
        return all(req(labels) for req in self.requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements


_TOKEN = re.compile(r"\s*(!=|==|=|\(|\)|,|!|[^\s!=(),]+)")


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse the string form used in ``?labelSelector=``."""
    text = (text or "").strip()
    if not text:
        return LabelSelector()
    tokens = _tokenize(text)
    reqs: list[Requirement] = []
    i = 0

    def expect_value(j: int) -> tuple[str, int]:
        if j >= len(tokens) or tokens[j] in {",", "(", ")", "=", "==", "!=", "!"}:
            return "", j  # empty value is allowed: "a="
        return tokens[j], j + 1

    while i < len(tokens):
        tok = tokens[i]
        if tok == "!":
            if i + 1 >= len(tokens):
                raise SelectorError("unable to parse requirement: found '', expected: identifier after '!'")
            key = tokens[i + 1]
            reqs.append(lambda lb, k=key: k not in lb)
            i += 2
        else:
            key = tok
            _check_key(key)
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if nxt in ("=", "=="):
                val, i = expect_value(i + 2)
                reqs.append(lambda lb, k=key, v=val: lb.get(k) == v)
            elif nxt == "!=":
                val, i = expect_value(i + 2)
                reqs.append(lambda lb, k=key, v=val: lb.get(k) != v)
            elif nxt in ("in", "notin"):
                if i + 2 >= len(tokens) or tokens[i + 2] != "(":
                    raise SelectorError(f"unable to parse requirement: found '{tokens[i + 2] if i + 2 < len(tokens) else ''}', expected: '('")
                j = i + 3
                values: set[str] = set()
                while j < len(tokens) and tokens[j] != ")":
                    if tokens[j] != ",":
                        values.add(tokens[j])
                    j += 1
                if j >= len(tokens):
                    raise SelectorError("unable to parse requirement: found '', expected: ')'")
                if nxt == "in":
                    reqs.append(lambda lb, k=key, vs=frozenset(values): lb.get(k) in vs)
                else:
                    reqs.append(lambda lb, k=key, vs=frozenset(values): lb.get(k) not in vs)
                i = j + 1
            else:
                reqs.append(lambda lb, k=key: k in lb)
                i += 1
        if i < len(tokens):
            if tokens[i] != ",":
                raise SelectorError(f"found '{tokens[i]}', expected: ',' or 'end of string'")
            i += 1
    return LabelSelector(tuple(reqs), text)


def _tokenize(text: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            break
        tokens.append(m.group(1))
        pos = m.end()
        if not text[pos:].strip():
            break
    return tokens


_QUALIFIED = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$")


def _check_key(key: str) -> None:
    name = key.rsplit("/", 1)[-1]
    if not name or len(name) > 63 or not _QUALIFIED.match(name):
        raise SelectorError(
            f"unable to parse requirement: values[0][{key}]: Invalid value: \"{key}\": name part must consist of "
            "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        )


def selector_from_label_selector(sel: dict | None) -> LabelSelector:
    """``metav1.LabelSelectorAsSelector``: an object selector (matchLabels + matchExpressions)."""
    if sel is None:
        return LabelSelector((lambda lb: False,), "<nil>")  # nil selector matches nothing
    reqs: list[Requirement] = []
    for k, v in sorted((sel.get("matchLabels") or {}).items()):
        reqs.append(lambda lb, k=k, v=v: lb.get(k) == v)
    for expr in sel.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), frozenset(expr.get("values") or [])
        if op == "In":
            reqs.append(lambda lb, k=key, vs=values: lb.get(k) in vs)
        elif op == "NotIn":
            reqs.append(lambda lb, k=key, vs=values: lb.get(k) not in vs)
        elif op == "Exists":
            reqs.append(lambda lb, k=key: k in lb)
        elif op == "DoesNotExist":
            reqs.append(lambda lb, k=key: k not in lb)
        else:
            raise SelectorError(f'"{op}" is not a valid label selector operator')
    return LabelSelector(tuple(reqs), format_label_selector(sel))


_OPERATOR_TEXT = {"In": " in ", "NotIn": " notin "}


def label_selector_string(sel: dict | None) -> str:
    """``metav1.LabelSelectorAsSelector(sel).String()``: the ``?labelSelector=`` form; ``""`` when empty.

    As upstream (``apimachinery/pkg/labels/selector.go``, ``internalSelector.Add`` sorts by key):
    requirements are sorted by key, ``in``/``notin`` values sorted. Raises :class:`SelectorError`
    for an operator apimachinery rejects.
    """
    if not sel:
        return ""
    reqs: list[tuple[str, str]] = [(k, f"{k}={v}") for k, v in (sel.get("matchLabels") or {}).items()]
    for expr in sel.get("matchExpressions") or []:
        key, op = expr.get("key", ""), expr.get("operator")
        if op == "Exists":
            reqs.append((key, key))
        elif op == "DoesNotExist":
            reqs.append((key, "!" + key))
        elif op in _OPERATOR_TEXT:
            reqs.append((key, f"{key}{_OPERATOR_TEXT[op]}({','.join(sorted(expr.get('values') or []))})"))
        else:
            raise SelectorError(f'"{op}" is not a valid label selector operator')
    reqs.sort(key=lambda r: r[0])
    return ",".join(text for _, text in reqs)


def format_label_selector(sel: dict | None) -> str:
    """``metav1.FormatLabelSelector``: what kubectl prints in a SELECTOR column (``<none>``, ``<error>``)."""
    try:
        return label_selector_string(sel) or "<none>"
    except SelectorError:
        return "<error>"


def map_selector_string(selector: dict | None) -> str:
    """A plain map selector (a Service's) as ``k=v,…`` sorted by key; ``""`` when empty."""
    return ",".join(f"{k}={v}" for k, v in sorted((selector or {}).items()))


def map_selector_matches(selector: dict | None, labels: dict | None) -> bool:
    """A Service's map selector against a label set; an empty selector selects nothing (Services, not sets)."""
    if not selector:
        return False
    labels = labels or {}
    return all(labels.get(k) == v for k, v in selector.items())


def parse_field_selector(text: str | None, supported: tuple[str, ...]) -> Callable[[dict], bool]:
    """``?fieldSelector=``: ``=``, ``==`` and ``!=`` over dotted paths the resource supports."""
    text = (text or "").strip()
    if not text:
        return lambda obj: True
    reqs = []
    for part in text.split(","):
        m = re.match(r"^\s*([^=!]+?)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not m:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
        path, op, value = m.groups()
        if path not in supported:
            raise SelectorError(f'field label not supported: {path}')
        keys = path.split(".")

        def get(obj: dict, keys=keys) -> str:
            cur: object = obj
            for k in keys:
                cur = cur.get(k) if isinstance(cur, dict) else None
            return "" if cur is None else str(cur)

        if op == "!=":
            reqs.append(lambda o, g=get, v=value: g(o) != v)
        else:
            reqs.append(lambda o, g=get, v=value: g(o) == v)
    return lambda obj: all(r(obj) for r in reqs)
