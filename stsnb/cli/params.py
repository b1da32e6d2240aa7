"""The lessons' parameters: read from their ``parameters`` cells, and checked before any kernel starts.

A notebook's cell tagged ``parameters`` (papermill's convention) assigns each
parameter a literal default, with its meaning in a trailing comment::

    backend = "auto"  # "sandbox", "kubeconfig", or "auto" ...
    speed = None  # None: sandbox time runs 20 times faster ...

:func:`read_parameters` parses that cell with :mod:`ast` (no kernel, no
papermill import, a few milliseconds), and :func:`check_parameters` holds what
``stsnb run -p/-r`` was given against it:

* a name no selected notebook declares is refused, naming the ones that exist
  (``-p sped 50`` → "did you mean 'speed'?");
* the names that are lab settings (``backend``, ``speed``, ``k8s_version`` …) are
  validated by :meth:`stsnb.settings.Settings.from_sources`, the same function the
  notebook's ``stsnb.connect(...)`` calls, so a value is refused here exactly when
  the notebook would refuse it, with the same message;
* other parameters must have the type of their default (when it is not ``None``);
* papermill types ``-p`` values (``True``/``False``/``None``, int, float, else
  text): ``-p k8s_version 1.30`` becomes the number ``1.3``. A text setting given
  a number whose text changes that way is refused with the ``-r`` form to use.
"""

from __future__ import annotations

import ast
import difflib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = ["NotebookParameter", "Given", "infer", "read_parameters", "parse_parameters", "check_parameters",
           "format_parameters"]

#: Settings that are text; a number papermill typed for one of them is suspicious.
_TEXT_SETTINGS = frozenset({"backend", "namespace", "kubeconfig", "context", "k8s_version", "lang",
                            "storage_class", "cluster_domain"})


@dataclass(frozen=True)
class NotebookParameter:
    """One assignment of a ``parameters`` cell: ``name = default  # help``."""

    name: str
    default: Any
    help: str = ""

    @property
    def type_name(self) -> str:
        """The default's type as papermill's ``--help-notebook`` names it (``None`` when the default is ``None``)."""
        return "None" if self.default is None else type(self.default).__name__


@dataclass(frozen=True)
class Given:
    """A parameter as given: ``-p NAME TEXT`` (typed as papermill types it), ``-r NAME TEXT`` (text), or a value.

    Build it with :meth:`typed`, :meth:`raw_text` or :meth:`of`.
    """

    name: str
    value: Any
    text: str | None = None
    raw: bool = False

    @classmethod
    def typed(cls, name: str, text: str) -> "Given":
        """``-p NAME TEXT``."""
        return cls(name, infer(text), text)

    @classmethod
    def raw_text(cls, name: str, text: str) -> "Given":
        """``-r NAME TEXT``."""
        return cls(name, text, text, raw=True)

    @classmethod
    def of(cls, name: str, value: Any) -> "Given":
        """A value passed from Python (``run_notebooks(parameters=...)``)."""
        return cls(name, value)

    @property
    def flag(self) -> str:
        if self.text is None:
            return f"{self.name}={self.value!r}"
        return f"{'-r' if self.raw else '-p'} {self.name} {self.text}"


def infer(text: str) -> Any:
    """A ``-p NAME VALUE`` value as papermill's CLI types it: bool, None, int, float, else the text."""
    if text in ("True", "False"):
        return text == "True"
    if text == "None":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def read_parameters(path: str | Path) -> list[NotebookParameter]:
    """The assignments of the notebook's ``parameters`` cell, in order (empty when it has none).

    Raises:
        ConfigError: the file is not a notebook, or its parameters cell is not plain ``name = literal`` lines.
    """
    path = Path(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ConfigError(f"cannot read the notebook {path}: {e}") from None
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            source = cell.get("source", "")
            return parse_parameters("".join(source) if isinstance(source, list) else source, path.name)
    return []


def parse_parameters(source: str, name: str = "the notebook") -> list[NotebookParameter]:
    """The ``name = literal  # help`` assignments of a parameters cell's code, in order."""
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        raise ConfigError(f"the parameters cell of {name} is not valid Python: {e}") from None
    lines = source.splitlines()
    found: list[NotebookParameter] = []
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else (
            node.target if isinstance(node, ast.AnnAssign) else None)
        if not isinstance(target, ast.Name) or getattr(node, "value", None) is None:
            continue
        try:
            default = ast.literal_eval(node.value)
        except ValueError:
            raise ConfigError(f"the parameters cell of {name} computes {target.id} instead of giving a literal",
                              hint="a parameters cell holds plain values (papermill replaces them)") from None
        rest = lines[node.end_lineno - 1][node.end_col_offset:] if node.end_lineno else ""
        comment = rest.split("#", 1)[1].strip() if "#" in rest else ""
        found.append(NotebookParameter(target.id, default, comment))
    return found


def check_parameters(given: Sequence[Given], declared: Mapping[str, Sequence[NotebookParameter]],
                     *, lang: str = "en", env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The parameters to inject, as papermill will see them; or a :class:`ConfigError` that says what to fix.

    Args:
        given: what the command line gave, in order (a later one wins, as with papermill).
        declared: notebook label → the parameters its ``parameters`` cell declares.
        lang: the language the settings are checked for (``lang`` itself is set per language).
        env: the environment the kernels will see (``os.environ`` by default).

    Raises:
        ConfigError: an unknown name, a value of the wrong type or not allowed, a version papermill made a number.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for g in given:
        _check_name(g, declared)
        values[g.name] = g.value
    by_name = {p.name: p for params in declared.values() for p in params}
    last = {g.name: g for g in given}
    for name, g in last.items():
        _check_text_setting(g)
        _check_type(g, by_name[name])
    _check_settings(values, last, lang, env)
    return values


def _check_name(g: Given, declared: Mapping[str, Sequence[NotebookParameter]]) -> None:
    if g.name == "lang":
        raise ConfigError("lang is set per language by stsnb run", hint="use --lang en|ko|all instead of -p lang")
    lacking = [label for label, params in declared.items() if g.name not in {p.name for p in params}]
    if not lacking:
        return
    known = sorted({p.name for params in declared.values() for p in params} - {"lang"})
    if len(lacking) < len(declared):
        raise ConfigError(f"parameter {g.name!r} ({g.flag}) is not declared by {', '.join(lacking)}",
                          hint="run only the notebooks that declare it, or leave it out; `stsnb run --list` "
                               "shows each notebook's parameters")
    close = difflib.get_close_matches(g.name, known, n=1)
    guess = f" (did you mean {close[0]!r}?)" if close else ""
    raise ConfigError(f"unknown parameter {g.name!r} ({g.flag}){guess}; the notebooks' parameters are: "
                      f"{', '.join(known)}", hint="see `stsnb run --list` for what each one means")


def _check_text_setting(g: Given) -> None:
    value = g.value
    if g.raw or g.text is None or g.name not in _TEXT_SETTINGS or isinstance(value, str) or value is None:
        return
    if isinstance(value, float) and repr(value) != g.text.strip():
        raise ConfigError(
            f"{g.flag}: papermill reads {g.text!r} as the number {value!r}, so the notebook would get "
            f"{g.name} = {value!r}" + (f" (Kubernetes {value!r}, not {g.text})" if g.name == "k8s_version" else ""),
            hint=f"pass it as text with -r: stsnb run -r {g.name} {g.text}")


def _check_type(g: Given, declared: NotebookParameter) -> None:
    if declared.name in _TEXT_SETTINGS or declared.default is None or g.value is None:
        return
    value, want = g.value, type(declared.default)
    ok = isinstance(value, want) and not (isinstance(value, bool) and want is not bool)
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        ok = True
    if not ok:
        raise ConfigError(f"{g.flag}: {g.name} takes a {want.__name__} (its default is {declared.default!r}), "
                          f"not {type(value).__name__} {value!r}",
                          hint=f"e.g. -p {g.name} {declared.default!r}")


def _check_settings(values: dict[str, Any], last: Mapping[str, Given], lang: str, env: Mapping[str, str]) -> None:
    from ..settings import ENV, Settings

    settings = {k: v for k, v in values.items() if k in ENV}
    try:
        Settings.from_sources({**settings, "lang": lang}, env)
    except ConfigError as e:
        flags = ", ".join(last[k].flag for k in settings if f"{k}=" in e.message or f"{k} " in e.message)
        raise ConfigError(f"{flags}: {e.message}" if flags else e.message, hint=e.hint) from None


def format_parameters(params: Sequence[NotebookParameter]) -> list[str]:
    """Aligned ``name  default  help`` lines for ``stsnb run --list``."""
    if not params:
        return ["(no parameters cell)"]
    width = max(len(p.name) for p in params)
    dwidth = max(len(repr(p.default)) for p in params)
    return [f"{p.name:<{width}}  {p.default!r:<{dwidth}}  {p.help}".rstrip() for p in params]
