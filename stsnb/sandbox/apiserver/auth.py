"""Authentication: one bearer token per sandbox start, checked on every request but the public ones.

A real cluster authenticates every request (client certificates, tokens, OIDC …);
the sandbox knows one identity, its owner, and gives it a random bearer token
when it starts (:func:`new_token`, from :mod:`secrets`, never from the seeded
generator, so a seed makes names reproducible but not the credential). The
kubeconfig the sandbox writes carries the token, and so does every official-client
``ApiClient`` it builds, so kubectl, the lab and the tests authenticate as on
any cluster.

Which paths stay open follows the ``system:public-info-viewer`` ClusterRole
that upstream binds to unauthenticated users (kubernetes/kubernetes
``plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go``): ``/healthz``,
``/livez``, ``/readyz`` (and their per-check sub-paths) and ``/version``.
Everything else without the token, or with another one, is answered
``401 Unauthorized`` with upstream's ``Status``. Known difference: with
anonymous authentication on (upstream's default), a request *without* any
token is ``system:anonymous`` and RBAC answers 403; the sandbox answers 401, as
a cluster started with ``--anonymous-auth=false`` (or 1.32's anonymous
configuration limited to the health endpoints) does.

:meth:`Authenticator.check` is the one check every transport uses: the HTTP
server calls it for each request before anything else, WebSocket upgrades
included (see ``server.py``).
"""

from __future__ import annotations

import hmac
import secrets

from ..core import errors

__all__ = ["Authenticator", "PUBLIC_PATHS", "new_token"]

#: Paths any client may read (system:public-info-viewer); sub-paths of the health checks too.
PUBLIC_PATHS = ("/healthz", "/livez", "/readyz", "/version")


def new_token() -> str:
    """A fresh bearer token (256 random bits, URL-safe)."""
    return secrets.token_urlsafe(32)


class Authenticator:
    """Checks ``Authorization: Bearer <token>`` against the sandbox's token."""

    def __init__(self, token: str) -> None:
        self.token = token

    @staticmethod
    def is_public(path: str) -> bool:
        path = path.split("?", 1)[0].rstrip("/") or "/"
        return any(path == p or (p != "/version" and path.startswith(p + "/")) for p in PUBLIC_PATHS)

    def check(self, path: str, authorization: str | None) -> errors.ApiError | None:
        """``None`` when the request may proceed, else the 401 to answer."""
        if self.is_public(path):
            return None
        scheme, _, credential = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            return errors.unauthorized()
        if not hmac.compare_digest(credential.strip().encode(), self.token.encode()):
            return errors.unauthorized()
        return None
