"""Cleanup is safe: it deletes only what stsnb created, only in its namespace, and waits until it is gone.

The sandbox is seeded with objects stsnb did not create — unlabelled ones in the lab's own namespace
(a StatefulSet with pods, a Service, a ConfigMap, a claim, a bare pod) and objects in another
namespace, one of them even carrying the managed-by label — then the notebook-like guide scenario
runs and cleans up, and every foreign object must still be there, unchanged.
"""

from __future__ import annotations

import pytest

import stsnb
from stsnb import manifests


def _foreign_objects(ns: str) -> list[dict]:
    sts = manifests.statefulset("foreign", replicas=2, image="nginx")
    svc = manifests.service("foreign", selector={"app": "foreign"})
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "keep-me"}, "data": {"k": "v"}}
    pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "foreign-claim"},
           "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                    "storageClassName": "standard"}}
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "foreign-pod", "labels": {"app": "foreign-pod"}},
           "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}
    objs = [sts, svc, cm, pvc, pod]
    for o in objs:
        o["metadata"]["namespace"] = ns
    return objs


def _snapshot(lab, namespaces: list[str]) -> dict[tuple, dict]:
    out = {}
    for ns in namespaces:
        for plural in ("statefulsets", "services", "configmaps", "persistentvolumeclaims", "pods",
                       "controllerrevisions", "deployments", "replicasets"):
            for o in lab.kube.list(plural, ns):
                out[(ns, plural, o["metadata"]["name"])] = o
    return out


def test_cleanup_after_the_guide_scenario_touches_nothing_it_did_not_create(guide_lab, scenario):
    lab = guide_lab
    kube = lab.kube
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})
    for o in _foreign_objects("default") + _foreign_objects("other"):
        kube.create(o)
    labelled_elsewhere = manifests.managed({"apiVersion": "v1", "kind": "ConfigMap",
                                            "metadata": {"name": "labelled-elsewhere", "namespace": "other"}})[0]
    kube.create(labelled_elsewhere)
    assert kube.get("storageclasses", "standard")["provisioner"] == "rancher.io/local-path", "kind's default class"
    stsnb.connect(sandbox=lab.sandbox, namespace="other", env={}).wait_ready("foreign")
    lab.wait_ready("foreign")
    before = _snapshot(lab, ["default", "other"])
    assert ("default", "services", "kubernetes") in before

    seen = scenario(lab)

    after = _snapshot(lab, ["default", "other"])
    for key, obj in before.items():
        assert key in after, f"{key} was deleted"
        assert after[key]["metadata"]["uid"] == obj["metadata"]["uid"], f"{key} was re-created"
        assert not after[key]["metadata"].get("deletionTimestamp"), f"{key} is being deleted"
        if key[1] in ("configmaps", "services"):
            assert after[key]["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"], f"{key} changed"
    leftovers = [k for k in after if k not in before]
    assert leftovers == [], f"cleanup left {leftovers}"
    assert lab.kube.list("persistentvolumeclaims", "default",
                         label_selector="app.kubernetes.io/managed-by=stsnb") == []
    deleted = seen["cleanup"]
    assert {"StatefulSet", "Deployment", "Service", "PersistentVolumeClaim"} <= set(deleted["kind"])
    assert not set(deleted["name"]) & {"foreign", "keep-me", "foreign-claim", "foreign-pod", "kubernetes"}
    assert lab.kube.find("storageclasses", "sc-nfs") is None, "the StorageClass stsnb created goes with the lab"
    assert "sc-nfs" in set(deleted[deleted["kind"] == "StorageClass"]["name"])
    assert lab.kube.find("storageclasses", "standard") is not None, "a StorageClass stsnb did not create stays"
    # what the scenario observed along the way
    assert seen["update_order"] == [2, 1, 0]
    assert seen["expose"] == "error: cannot expose a StatefulSet.apps"
    assert set(seen["pvcs"]["status"]) == {"Bound"}


def test_cleanup_of_an_empty_namespace_deletes_nothing(lab):
    df = lab.cleanup()
    assert df.empty and list(df.columns) == ["kind", "name", "via"]
    assert str(lab.reset()) == f"clean: nothing created by stsnb in namespace {lab.namespace!r}"


def test_reset_prints_kubectl_like_lines_and_waits_until_pods_are_gone(lab):
    lab.apply("nginx-stateful", wait=True)
    lab.nslookup("10.96.0.10")
    assert str(lab.reset()) == 'statefulset.apps "nginx-stateful" deleted'
    assert lab.kube.list("pods") == [] and lab.kube.list("controllerrevisions") == []
    assert lab.kube.get("namespaces", lab.namespace)["status"]["phase"] == "Active"


@pytest.mark.parametrize("runs", [2])
def test_a_notebook_can_run_twice_in_a_row(lab, runs):
    for _ in range(runs):
        lab.reset()
        assert "created" in str(lab.apply("nginx-stateful"))
        lab.wait_ready("nginx-stateful")
        lab.set_image("nginx-stateful", nginx="nginx:1.21.1")
        assert set(lab.pods()["revision"]) == {"nginx-stateful-6c7d474cc"}
    lab.cleanup()
