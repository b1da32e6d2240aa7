"""Every namespace's ``default`` ServiceAccount and ``kube-root-ca.crt`` ConfigMap.

Two small controllers of kube-controller-manager, in one:

* the **serviceaccounts-controller** (``pkg/controller/serviceaccount/serviceaccounts_controller.go``)
  creates the ServiceAccount ``default`` in every active namespace, and again when it is deleted;
* the **root-ca-cert-publisher** (``pkg/controller/certificates/rootcacertpublisher/publisher.go``)
  writes the ConfigMap ``kube-root-ca.crt`` (the cluster's CA under ``ca.crt``, with upstream's
  description annotation) into every active namespace, recreates it when deleted and puts its
  content back when edited.

Namespaces being deleted are left alone. The CA is a fixed self-signed certificate for
``CN=kubernetes``: nothing in the sandbox speaks TLS, but pods mount it as on any cluster.
"""

from __future__ import annotations

from ..core import errors
from ..core.cluster import Cluster
from ..core.store import Event
from .common import edit, is_terminating

__all__ = ["ServiceAccountsController", "ROOT_CA_CONFIGMAP", "DESCRIPTION"]

ROOT_CA_CONFIGMAP = "kube-root-ca.crt"
DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints "
               "such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across "
               "distributions of Kubernetes clusters.")
#: The sandbox cluster's CA certificate (self-signed, CN=kubernetes).
CA_CERT = """-----BEGIN CERTIFICATE-----
MIIDGzCCAgOgAwIBAgIUBeSvrMCJgdK2D88KPXHQQyyNu84wDQYJKoZIhvcNAQEL
BQAwFTETMBEGA1UEAwwKa3ViZXJuZXRlczAeFw0yNjEyMDMxODI3MjRaFw0zNjEx
MzAxODI3MjRaMBUxEzARBgNVBAMMCmt1YmVybmV0ZXMwggEiMA0GCSqGSIb3DQEB
AQUAA4IBDwAwggEKAoIBAQC+IwzcEeFgd8fMtxNGVE2m+8WIsKkRc9KIXCFniPOG
239mCEOcIC4eNs3iXFRnV1XyStcJe9pqT4ACvBWLI/ywufS/OM27YnUjD2ZTX6YI
ZtR4i52bCehaj0TpCBsC4Ha0dOZLKBz0cx8mAlMAxnOPV++t6+5epRe7kzcuNxy7
1+GeARRXihf9wmaTj+E6Lg+HYYBQdDzek6HeW1ZOkD4RpuSEAfTUA7dvRMi4yMs0
YNaI/zfF86je/VB7L6UN1h11jdiMQRCySA7E2T09xRibUZDvMtsOSkcaburad7nC
tVu5hFlROXG0EJe81tcI2FVaADvFuSmDTjkWuW7RY3ILAgMBAAGjYzBhMB0GA1Ud
DgQWBBSBtamDXxxZNWRkXImiJaFAjbZurTAfBgNVHSMEGDAWgBSBtamDXxxZNWRk
XImiJaFAjbZurTAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwICpDANBgkq
hkiG9w0BAQsFAAOCAQEAENTK5h5W7I6+GQKOIFwIOn1TSZSAF02U6TaiPMzOJ2oZ
DiaC2GSG3JQZI2ub1qDO0TJHzD+Bs8Vh5zRb4IdpTEkcrLr6mRJ+chJgwaJ6d4Gl
uBSPv0WMHTdMT6Q6mWa5jgCQWwmpwJkMUnSrZyn+njlHTrwFRnLq5HQhoBo4tI5B
Ml13ghc3oZmqJxOqURTIrs72WGE2KpKRNOcueHcpg8whWJWR0BH7cxd/APEyOvdU
xb7Y2T34AOFAugTysgoh1j1phQMr7TycBhVhR42hUIuo3kYF3MKOa+8ztJnykdE3
y35TOjctRXn0Yw8SIXDchQbJLZ7VcVRHyNwdXefmPg==
-----END CERTIFICATE-----
"""


class ServiceAccountsController:
    """Keeps ``default`` and ``kube-root-ca.crt`` in every active namespace."""

    name = "serviceaccounts"

    def __init__(self, sb: Cluster) -> None:
        self.sb = sb

    def keys_for(self, ev: Event) -> list:
        meta = ev.obj["metadata"]
        if ev.plural == "namespaces" and ev.type != "DELETED":
            return [meta["name"]]
        if ev.plural == "serviceaccounts" and meta["name"] == "default" and ev.type == "DELETED":
            return [meta["namespace"]]
        if ev.plural == "configmaps" and meta["name"] == ROOT_CA_CONFIGMAP and ev.type != "ADDED":
            return [meta["namespace"]]
        return []

    def sync(self, namespace: str) -> None:
        ns = self.sb.store.get("namespaces", "", namespace)
        if ns is None or is_terminating(ns) or (ns.get("status") or {}).get("phase") == "Terminating":
            return
        if self.sb.store.get("serviceaccounts", namespace, "default") is None:
            self._create("serviceaccounts", namespace, {"apiVersion": "v1", "kind": "ServiceAccount",
                                                        "metadata": {"name": "default"}})
        cm = self.sb.store.get("configmaps", namespace, ROOT_CA_CONFIGMAP)
        want = {"ca.crt": CA_CERT}
        if cm is None:
            self._create("configmaps", namespace, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
                "name": ROOT_CA_CONFIGMAP, "annotations": {"kubernetes.io/description": DESCRIPTION}}, "data": want})
        elif cm.get("data") != want or (cm["metadata"].get("annotations") or {}).get("kubernetes.io/description") != DESCRIPTION:
            def put(new: dict) -> None:
                new["data"] = dict(want)
                new.pop("binaryData", None)
                new["metadata"].setdefault("annotations", {})["kubernetes.io/description"] = DESCRIPTION
            edit(self.sb, "configmaps", namespace, ROOT_CA_CONFIGMAP, put)

    def _create(self, plural: str, namespace: str, obj: dict) -> None:
        try:
            self.sb.registry.create(plural, namespace, obj)
        except errors.ApiError:
            pass  # created meanwhile, or the namespace began terminating: the next event brings us back
