"""Kubernetes ``Status`` errors, with the API server's own wording.

Every failure the sandbox's API answers is one of these; the HTTP layer turns
it into a ``Status`` body so that clients (the official client, kubectl) show
the same text a real cluster would. Texts follow
``kubernetes/apimachinery:pkg/api/errors/errors.go``.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error the API answers with a ``Status`` object."""

    def __init__(self, code: int, reason: str, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        """The ``Status`` body, its keys in the order Go encodes ``metav1.Status`` (details before code)."""
        body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                "message": self.message}
        if self.reason:
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(name: str, group: str, plural: str, causes: list | None = None) -> dict:
    d: dict[str, Any] = {}
    if name:
        d["name"] = name
    if group:
        d["group"] = group
    d["kind"] = plural
    if causes:
        d["causes"] = causes
    return d


def _qualified(group: str, plural: str) -> str:
    return f"{plural}.{group}" if group else plural


def not_found(group: str, plural: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{_qualified(group, plural)} "{name}" not found',
                    _details(name, group, plural))


def already_exists(group: str, plural: str, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{_qualified(group, plural)} "{name}" already exists',
                    _details(name, group, plural))


def conflict(group: str, plural: str, name: str, why: str) -> ApiError:
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {_qualified(group, plural)} "{name}": {why}',
                    _details(name, group, plural))


STALE = "the object has been modified; please apply your changes to the latest version and try again"


def invalid(kind: str, group: str, name: str, causes: list[tuple[str, str, str]]) -> ApiError:
    """``NewInvalid``: causes are ``(field, reason_type, text)`` triples, e.g. ``("spec.replicas", "FieldValueInvalid", ...)``."""
    qualified_kind = f"{kind}.{group}" if group else kind
    texts = [f"{field}: {text}" if field else text for field, _, text in causes]
    if len(texts) == 1:
        msg = f'{qualified_kind} "{name}" is invalid: {texts[0]}'
    else:
        msg = f'{qualified_kind} "{name}" is invalid: [{", ".join(texts)}]'
    return ApiError(422, "Invalid", msg, {
        **({"name": name} if name else {}), **({"group": group} if group else {}), "kind": kind,
        "causes": [{"reason": r, "message": t, "field": f} for f, r, t in causes]})


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def forbidden(group: str, plural: str, name: str, why: str) -> ApiError:
    return ApiError(403, "Forbidden", f'{_qualified(group, plural)} "{name}" is forbidden: {why}',
                    _details(name, group, plural))


def method_not_allowed(message: str = "the server does not allow this method on the requested resource") -> ApiError:
    return ApiError(405, "MethodNotAllowed", message)


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def not_acceptable(message: str) -> ApiError:
    return ApiError(406, "NotAcceptable", message)


def unsupported_media_type(message: str) -> ApiError:
    return ApiError(415, "UnsupportedMediaType", message)


def page_not_found(message: str = "the server could not find the requested resource") -> ApiError:
    """``NewGenericServerResponse(404, …)``: its ``details`` is an empty object, never absent
    (kubectl debug dereferences ``details``: staging/src/k8s.io/kubectl/pkg/cmd/debug/debug.go)."""
    return ApiError(404, "NotFound", message, {})


def unauthorized() -> ApiError:
    """What the authentication filter answers (apiserver pkg/endpoints/handlers/responsewriters ``Unauthorized``)."""
    return ApiError(401, "Unauthorized", "Unauthorized")


def too_large(message: str) -> ApiError:
    """``NewRequestEntityTooLargeError``: 413 ``Request entity too large: <message>``."""
    return ApiError(413, "RequestEntityTooLarge", f"Request entity too large: {message}")
