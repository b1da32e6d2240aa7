"""stsnb's own errors: what went wrong, with which value, and what to do next.

Everything the lab layer raises is a :class:`StsnbError`. Errors from the
official client (``kubernetes.client.ApiException``) never leak out of
:mod:`stsnb.lab`: :func:`from_api_exception` translates them by HTTP status
code, keeps the server's ``Status.message`` and chains the original exception
as ``__cause__`` (``raise ... from e``), so a traceback still shows the HTTP
exchange while a notebook shows one readable sentence and a next step.

The hierarchy is deliberately small::

    StsnbError
    ├── ConfigError          a setting, a kubeconfig or a context is wrong (before any request)
    ├── ClusterUnreachable   nothing answers at the cluster's address (alias: BackendUnavailable)
    ├── NotFound             404
    ├── AlreadyExists        409, reason AlreadyExists
    ├── Conflict             409 otherwise (stale resourceVersion), or kubectl refusing a no-op
    ├── Invalid              400 / 422: the server rejected the object
    ├── Forbidden            401 / 403: RBAC, a terminating namespace, an object stsnb did not create
    ├── WaitTimeout          a wait ran out of time; names the condition and the last state seen
    ├── ConditionFailed      a wait can never succeed any more (ImagePullBackOff during a rollout)
    └── CannotExpose         ``kubectl expose`` refuses the kind: "cannot expose a StatefulSet.apps"

``str(error)`` is the message followed, on its own line, by the hint (the
next step) when there is one; :attr:`StsnbError.message` and
:attr:`StsnbError.hint` hold the two parts.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "StsnbError", "ConfigError", "ClusterUnreachable", "BackendUnavailable", "NotFound", "AlreadyExists",
    "Conflict", "Invalid", "Forbidden", "WaitTimeout", "ConditionFailed", "CannotExpose", "from_api_exception",
    "status_message",
]


class StsnbError(Exception):
    """Base class of every error stsnb raises.

    Args:
        message: what happened, including the offending value.
        hint: the next step, as something the reader can type or do.
        status: the HTTP status code when the error came from the API server.
    """

    def __init__(self, message: str, *, hint: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.status = status

    def __str__(self) -> str:
        return f"{self.message}\n  next: {self.hint}" if self.hint else self.message


class ConfigError(StsnbError):
    """A setting, a kubeconfig file or a context is missing or invalid."""


class ClusterUnreachable(StsnbError):
    """No API server answered at the configured address."""


#: The name style-anchors guideline 4 uses; the same class.
BackendUnavailable = ClusterUnreachable


class NotFound(StsnbError):
    """The object (or a StorageClass, a revision, a container …) does not exist."""


class AlreadyExists(StsnbError):
    """An object with that name already exists."""


class Conflict(StsnbError):
    """The object changed underneath the request, or the change would be a no-op kubectl refuses."""


class Invalid(StsnbError):
    """The server rejected the object (validation, an immutable field, a malformed request)."""


class Forbidden(StsnbError):
    """Not allowed: RBAC, a terminating namespace, or an object stsnb did not create."""


class WaitTimeout(StsnbError):
    """A wait ran out of time. ``condition`` is what was awaited, ``last_state`` what was seen last."""

    def __init__(self, message: str, *, condition: str = "", last_state: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.condition = condition
        self.last_state = last_state


class ConditionFailed(StsnbError):
    """A wait stopped early: the condition cannot be met any more (e.g. ImagePullBackOff).

    ``pod`` names the pod at fault and ``reason`` the container's waiting reason.
    """

    def __init__(self, message: str, *, pod: str = "", reason: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.pod = pod
        self.reason = reason


class CannotExpose(StsnbError):
    """``kubectl expose`` refuses the kind; ``str()`` is kubectl's exact text, the hint is separate."""

    def __str__(self) -> str:
        return self.message


# ---------------------------------------------------------------------------- translation

def status_message(exc: Any) -> tuple[str, str, dict]:
    """``(message, reason, details)`` from an ``ApiException``'s ``Status`` body (empty when there is none)."""
    body = getattr(exc, "body", None)
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str) and body.strip().startswith("{"):
        try:
            doc = json.loads(body)
        except ValueError:
            doc = {}
        if isinstance(doc, dict):
            return str(doc.get("message") or ""), str(doc.get("reason") or ""), doc.get("details") or {}
    return (str(body).strip() if body else str(getattr(exc, "reason", "") or "")), "", {}


_IMMUTABLE_HINT = ("that field cannot change on a live StatefulSet: delete it first (the pods and PVCs of a "
                   "`lab.delete('statefulset/NAME', cascade='orphan')` stay) and apply the manifest again, "
                   "or `lab.reset()` for a clean start")


def from_api_exception(exc: Any, *, action: str, target: str = "", namespace: str | None = None,
                       context: str | None = None) -> StsnbError:
    """Translate an ``ApiException`` into the matching :class:`StsnbError` (the caller raises it ``from exc``).

    Args:
        exc: the ``kubernetes.client.ApiException``.
        action: what stsnb was doing, as a verb phrase (``"create statefulset.apps/nginx-stateful"``).
        target: the object involved (``"statefulset.apps/nginx-stateful"``), named in hints.
        namespace: the lab's namespace, named in messages about permissions.
        context: the kubeconfig context, named in messages about permissions.
    """
    code = int(getattr(exc, "status", 0) or 0)
    msg, reason, details = status_message(exc)
    where = f" in namespace {namespace!r}" if namespace else ""
    text = f"could not {action}{where}: {msg or getattr(exc, 'reason', '') or 'HTTP ' + str(code)}"
    if code == 404:
        return NotFound(text, status=code, hint=(
            f"check the name ({target or 'the object'}) with `lab.kubectl_get(...)`; objects from earlier "
            "steps may be gone after `lab.reset()` — re-run the step that creates it"))
    if code == 409 and reason == "AlreadyExists":
        return AlreadyExists(text, status=code, hint=(
            "use `lab.apply(...)`, which updates an existing object, or `lab.reset()` to start clean"))
    if code == 409:
        return Conflict(text, status=code, hint="the object changed meanwhile: run the step again")
    if code in (400, 422):
        hint = "fix the manifest field named above and apply it again"
        if "Forbidden: updates to statefulset spec" in msg:
            hint = _IMMUTABLE_HINT.replace("NAME", (target.split("/")[-1] or "NAME"))
        elif "field is immutable" in msg:
            hint = "that field is immutable: delete the object and create it again"
        return Invalid(text, status=code, hint=hint)
    if code == 401:
        return Forbidden(text, status=code, hint=(
            f"the credentials of context {context!r} were rejected: check `kubectl"
            f"{' --context ' + context if context else ''} get pods` and log in again"))
    if code == 403:
        if "being terminated" in msg:
            return Forbidden(text, status=code, hint=(
                f"namespace{' ' + repr(namespace) if namespace else ''} is still being deleted: wait until "
                "`kubectl get ns` no longer lists it, or connect with another namespace=..."))
        return Forbidden(text, status=code, hint=(
            f"your user may not do this{where}: ask for a Role that allows it there, or choose a namespace "
            "you own with `stsnb.connect(..., namespace='...')`"))
    if code in (502, 503, 504) or code == 0:
        return ClusterUnreachable(text, status=code or None, hint=(
            "the API server did not answer: check `kubectl cluster-info`, or use the built-in sandbox "
            "with `stsnb.connect(backend='sandbox')`"))
    return StsnbError(text, status=code, hint="this looks like a server-side problem: try the step again")
