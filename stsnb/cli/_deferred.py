"""An import the runner's process defers until it is used: ``rfc3987_syntax``.

``papermill`` imports ``nbformat``, which imports ``jsonschema``; where ``rfc3987-syntax`` is
installed (``jsonschema[format-nongpl]``, which ``jupyter-events`` and so JupyterLab require),
``jsonschema._format`` imports it to register its ``iri`` and ``iri-reference`` format checks, and
that import builds its Lark grammars: about 1.5 CPU-seconds, before ``stsnb run`` can write its
first notebook, holding the GIL its other threads need (python-jsonschema/jsonschema#1428).
Nothing the runner does checks an IRI: notebooks' schemas have no such format.

:func:`defer_rfc3987_syntax` puts a stand-in module in ``sys.modules`` that has the one name
``jsonschema`` imports from it (``is_valid_syntax``) and loads the real package, once, the
first time that function or any other attribute is used. So every check behaves as before; only
its cost moves to the first IRI that is ever checked, which in ``stsnb run`` is never.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

__all__ = ["defer_rfc3987_syntax"]

_NAME = "rfc3987_syntax"
_LOCK = threading.Lock()


def defer_rfc3987_syntax() -> bool:
    """Defer ``rfc3987_syntax`` (see the module docstring); True if a stand-in is now in place.

    Does nothing when the package is not installed or is already imported. Call it before the
    first import of ``jsonschema``.
    """
    with _LOCK:
        if _NAME in sys.modules:
            return isinstance(sys.modules[_NAME], _StandIn)
        try:
            spec = importlib.util.find_spec(_NAME)
        except (ImportError, ValueError):
            return False
        if spec is None:
            return False
        stand_in = _StandIn(_NAME, spec)
        sys.modules[_NAME] = stand_in
        return True


def _real() -> types.ModuleType:
    """The real ``rfc3987_syntax``, imported on first use in place of the stand-in."""
    with _LOCK:
        module = sys.modules.get(_NAME)
        if isinstance(module, _StandIn):
            del sys.modules[_NAME]
            try:
                module = importlib.import_module(_NAME)
            except BaseException:
                sys.modules.setdefault(_NAME, module)  # keep deferring; the error is raised
                raise
        if module is None:
            raise ImportError(f"{_NAME} was removed from sys.modules")
        return module


class _StandIn(types.ModuleType):
    """``rfc3987_syntax`` until first use: each attribute comes from the real package, loaded then."""

    def __init__(self, name: str, spec: Any) -> None:
        super().__init__(name, "stand-in for rfc3987_syntax until first use (stsnb.cli._deferred)")
        self.__spec__ = spec

    @staticmethod
    def is_valid_syntax(*args: Any, **kwargs: Any) -> Any:
        return _real().is_valid_syntax(*args, **kwargs)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return getattr(_real(), attr)
