"""stsnb: Kubernetes StatefulSets as executable notebooks, on a sandbox cluster or a real one.

The public face is small::

    import stsnb
    lab = stsnb.connect()              # the embedded sandbox; backend="kubeconfig" for a real cluster
    lab.apply("nginx-stateful")
    lab.wait_ready("nginx-stateful")
    lab.pods()

Names: :func:`connect`, :class:`Lab`, :class:`Settings`, and the modules
:mod:`~stsnb.errors`, :mod:`~stsnb.manifests`, :mod:`~stsnb.panels`,
:mod:`~stsnb.tables`. Everything is imported lazily, so ``import stsnb`` is
fast, needs neither ``kubernetes`` nor ``ipywidgets`` loaded, and never starts
a cluster.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["connect", "Lab", "Settings", "errors", "manifests", "panels", "tables", "__version__"]

_ATTRS = {"connect": ("stsnb.lab", "connect"), "Lab": ("stsnb.lab", "Lab"), "Settings": ("stsnb.settings", "Settings")}
_MODULES = {"errors", "manifests", "panels", "tables"}

if TYPE_CHECKING:
    from . import errors, manifests, panels, tables
    from .lab import Lab, connect
    from .settings import Settings


def __getattr__(name: str) -> Any:
    if name in _ATTRS:
        module, attr = _ATTRS[name]
        value = getattr(importlib.import_module(module), attr)
    elif name in _MODULES:
        value = importlib.import_module(f"stsnb.{name}")
    else:
        raise AttributeError(f"module 'stsnb' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
