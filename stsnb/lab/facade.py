"""The :class:`Lab` itself: the parts (:mod:`.apply`, :mod:`.actions`, :mod:`.views`) put together."""

from __future__ import annotations

from .actions import Actions
from .exec import Exec
from .lifecycle import Lifecycle
from .views import Views

__all__ = ["Lab"]


class Lab(Lifecycle, Actions, Views, Exec):
    """A cluster, a namespace and settings; every notebook step is a method call.

    Build it with :func:`connect`. Attributes: ``settings``, ``namespace``, ``why`` (which cluster
    and why), ``is_sandbox``, ``sandbox`` (the :class:`~stsnb.sandbox.Sandbox` or None), ``kube``
    (the API access, :class:`stsnb.kube.Kube`), ``lang``.
    """
