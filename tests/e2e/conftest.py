"""The real-cluster tier: runs when ``STSNB_E2E_KUBECONFIG`` names a kubeconfig, and is skipped otherwise.

Each test gets a namespace of its own (``stsnb-e2e-<random>``), created by ``stsnb.connect`` and
deleted afterwards. ``STSNB_E2E_CONTEXT`` picks a context (the kubeconfig's current one by default);
``STSNB_E2E_STORAGE_CLASS`` is the StorageClass the §04 claims use (default ``standard``, kind's).
"""

from __future__ import annotations

import os
import secrets

import pytest

import stsnb

SKIP_REASON = ("real-cluster tier: set STSNB_E2E_KUBECONFIG to a kubeconfig (e.g. kind's) to run it; "
               "see docs/en/run-it-yourself.md")


def pytest_collection_modifyitems(config, items):
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.e2e)
            if not os.environ.get("STSNB_E2E_KUBECONFIG"):
                item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


@pytest.fixture()
def real_lab():
    """A lab on the real cluster in a fresh namespace; the namespace is deleted at the end."""
    ns = f"stsnb-e2e-{secrets.token_hex(3)}"
    lab = stsnb.connect(backend="kubeconfig", kubeconfig=os.environ["STSNB_E2E_KUBECONFIG"],
                        context=os.environ.get("STSNB_E2E_CONTEXT") or None, namespace=ns,
                        timeout_s=float(os.environ.get("STSNB_E2E_TIMEOUT_S", "300")), env={})
    yield lab
    try:
        lab.cleanup(timeout=120)
    finally:
        ns_obj = lab.kube.find("namespaces", ns)
        if ns_obj is not None and (ns_obj["metadata"].get("labels") or {}).get("app.kubernetes.io/managed-by") == "stsnb":
            lab.kube.delete("namespaces", ns)


@pytest.fixture()
def storage_class() -> str:
    return os.environ.get("STSNB_E2E_STORAGE_CLASS", "standard")
