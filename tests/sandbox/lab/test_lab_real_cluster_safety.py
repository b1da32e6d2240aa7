"""On a "real" cluster (a served sandbox reached through a kubeconfig), the lab takes nothing it did not create.

The module's sandbox stands in for a learner's cluster: the lab connects with
``backend="kubeconfig"``, so ``lab.is_sandbox`` is False and it works in a namespace of its own.
Objects stsnb did not create are put there first; the lab must refuse, before creating anything,
to apply, scale or re-configure a StatefulSet that would adopt, mount or own them, and they must
come out unchanged (same uid and resourceVersion).
"""

from __future__ import annotations

import itertools

import pytest

import stsnb
from stsnb.errors import Forbidden
from stsnb.k8s.pods import pod_ready
from stsnb.watching import Progress, WatchSpec, wait_for

_NS = itertools.count(1)


@pytest.fixture()
def real(sandbox, tmp_path):
    """A lab on the served sandbox through a kubeconfig, in a fresh namespace; cleaned up after."""
    path = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
    lab = stsnb.connect(backend="kubeconfig", kubeconfig=str(path), namespace=f"real-{next(_NS)}", timeout_s=60,
                        env={})
    assert not lab.is_sandbox
    yield lab
    try:
        lab.cleanup(timeout=30)
    except Exception:  # noqa: BLE001 - teardown must not hide the test's own result
        pass


@pytest.fixture()
def fresh_cluster(new_sandbox, tmp_path):
    """A kubeconfig for a cluster of its own (for what is cluster-wide: StorageClasses), and a connect for it."""
    path = str(new_sandbox(seed=5).write_kubeconfig(tmp_path / "kubeconfig"))

    def connect(namespace: str = "stsnb-lab", **kw):
        return stsnb.connect(backend="kubeconfig", kubeconfig=path, namespace=namespace, timeout_s=60, env={}, **kw)
    return connect


def _foreign_claim(lab, name: str, storage_class: str = "sc-nfs") -> dict:
    """An unlabelled claim, as someone else made it, once the cluster has bound it (so it no longer changes)."""
    lab.kube.create({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                     "metadata": {"name": name, "namespace": lab.namespace, "labels": {"app": "nginx-stateful2"}},
                     "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": storage_class,
                              "resources": {"requests": {"storage": "2Gi"}}}})

    def bound(view):
        c = view.get("persistentvolumeclaims", name)
        return Progress(bool(c) and (c.get("status") or {}).get("phase") == "Bound", "binding")
    view, _ = wait_for(lab.kube, [WatchSpec("persistentvolumeclaims", lab.namespace)], bound, timeout=30,
                       condition=f"claim {name} to be Bound")
    return view.get("persistentvolumeclaims", name)


def _same(lab, plural: str, before: dict) -> None:
    now = lab.kube.get(plural, before["metadata"]["name"])["metadata"]
    assert (now["uid"], now["resourceVersion"]) == (before["metadata"]["uid"], before["metadata"]["resourceVersion"])
    assert not now.get("ownerReferences"), f"{plural}/{now['name']} got owners: {now.get('ownerReferences')}"


def test_apply_refuses_a_set_whose_claim_name_is_taken_by_a_foreign_claim(real):
    real.apply("sc-nfs")
    foreign = _foreign_claim(real, "nginx-stateful2-pvc-nginx-stateful2-0")
    with pytest.raises(Forbidden) as caught:
        real.apply("nginx-stateful2")
    message = caught.value.message
    assert 'persistentvolumeclaim "nginx-stateful2-pvc-nginx-stateful2-0"' in message
    assert "would mount it as its disk" in message and "nothing was changed" in message
    assert "kubectl delete pvc nginx-stateful2-pvc-nginx-stateful2-0" in caught.value.hint
    assert real.kube.find("statefulsets", "nginx-stateful2") is None, "refused before creating the set"
    assert real.kube.find("services", "nginx-stateful2") is None, "refused before creating anything of the manifest"
    _same(real, "persistentvolumeclaims", foreign)


def test_apply_refuses_a_set_that_would_adopt_a_foreign_pod(real):
    real.kube.create({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": "nginx-stateful-1", "namespace": real.namespace,
                                   "labels": {"app": "nginx-stateful"}},
                      "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}})

    def running(view):
        p = view.get("pods", "nginx-stateful-1")
        return Progress(bool(p) and pod_ready(p), "starting")
    view, _ = wait_for(real.kube, [WatchSpec("pods", real.namespace)], running, timeout=30,
                       condition="the foreign pod to be Ready")
    foreign = view.get("pods", "nginx-stateful-1")
    with pytest.raises(Forbidden) as caught:
        real.apply("nginx-stateful")
    assert 'pod "nginx-stateful-1" (it would be adopted as pod 1 of the set)' in caught.value.message
    assert real.kube.find("statefulsets", "nginx-stateful") is None
    _same(real, "pods", foreign)


def test_scaling_up_onto_a_foreign_claim_is_refused_and_the_set_keeps_its_size(real):
    real.apply("sc-nfs")
    real.apply("nginx-stateful2", wait=True)
    foreign = _foreign_claim(real, "nginx-stateful2-pvc-nginx-stateful2-4")
    with pytest.raises(Forbidden) as caught:
        real.scale("nginx-stateful2", 5)
    assert "nginx-stateful2-pvc-nginx-stateful2-4" in caught.value.message and "scale" in caught.value.message
    assert real.kube.get("statefulsets", "nginx-stateful2")["spec"]["replicas"] == 3
    real.scale("nginx-stateful2", 4)  # ordinal 3's claim is free: that is allowed
    _same(real, "persistentvolumeclaims", foreign)


def test_the_retention_policy_patch_never_makes_the_set_own_a_foreign_claim(real):
    """Notebook 05's patch: with a foreign claim named after the template, refused; deleting the set spares it."""
    real.apply("sc-nfs")
    real.apply("nginx-stateful2", wait=True)
    foreign = _foreign_claim(real, "nginx-stateful2-pvc-nginx-stateful2-7")
    with pytest.raises(Forbidden) as caught:
        real.patch("statefulset/nginx-stateful2",
                   {"spec": {"persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete"}}})
    assert "retention policy could delete it" in caught.value.message
    policy = real.kube.get("statefulsets", "nginx-stateful2")["spec"].get("persistentVolumeClaimRetentionPolicy") or {}
    assert policy.get("whenDeleted", "Retain") == "Retain"
    real.delete("statefulset/nginx-stateful2")
    _same(real, "persistentvolumeclaims", foreign)


def test_cleanup_removes_the_storage_class_it_created_and_keeps_one_it_did_not(fresh_cluster):
    real = fresh_cluster()
    theirs = real.kube.create({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                               "metadata": {"name": f"theirs-{real.namespace}"}, "provisioner": "example.com/x"})
    assert "storageclass.storage.k8s.io/sc-nfs created" in str(real.apply("sc-nfs"))
    sc = real.kube.get("storageclasses", "sc-nfs")
    assert sc["metadata"]["annotations"]["stsnb/lab-namespace"] == real.namespace
    real.apply("nginx-stateful2", wait=True)
    deleted = real.cleanup()
    assert "sc-nfs" in deleted[deleted["kind"] == "StorageClass"]["name"].tolist()
    assert real.kube.find("storageclasses", "sc-nfs") is None
    now = real.kube.get("storageclasses", theirs["metadata"]["name"])["metadata"]
    assert (now["uid"], now["resourceVersion"]) == (theirs["metadata"]["uid"], theirs["metadata"]["resourceVersion"])


def test_a_storage_class_another_namespace_still_uses_is_left_in_place(fresh_cluster):
    real = fresh_cluster()
    real.apply("sc-nfs")
    _foreign_claim(fresh_cluster("someone-else"), "someone-elses-data")
    real.cleanup()
    assert real.kube.find("storageclasses", "sc-nfs") is not None, "a claim elsewhere still names it"


def test_with_a_storage_class_setting_the_guide_class_is_never_created(fresh_cluster):
    lab = fresh_cluster(storage_class="standard-rwo")
    result = lab.apply("sc-nfs")
    assert str(result) == "storageclass.storage.k8s.io/sc-nfs skipped: the claims of this lab use storage_class='standard-rwo'"
    assert lab.kube.find("storageclasses", "sc-nfs") is None
