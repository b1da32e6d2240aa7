"""The notebook-like guide scenario on a real cluster, with the same safety checks as on the sandbox."""

from __future__ import annotations

from stsnb import manifests
from stsnb.errors import NotFound


def test_connect_says_which_cluster_context_and_namespace(real_lab):
    assert not real_lab.is_sandbox
    assert "a real cluster through the kubeconfig" in real_lab.why
    assert real_lab.namespace in real_lab.why and "(created)" in real_lab.why


def test_the_guide_scenario_runs_and_cleanup_touches_only_what_stsnb_created(real_lab, scenario, storage_class):
    lab = real_lab
    ns = lab.namespace
    foreign = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "keep-me", "namespace": ns},
                "data": {"k": "v"}},
               {**manifests.service("foreign", selector={"app": "foreign"}),
                "metadata": {"name": "foreign", "namespace": ns, "labels": {"app": "foreign"}}}]
    before = {o["metadata"]["name"]: lab.kube.create(o)["metadata"] for o in foreign}

    seen = scenario(lab, storage_class=storage_class)

    assert seen["update_order"] == [2, 1, 0]
    assert seen["expose"] == "error: cannot expose a StatefulSet.apps"
    pods = seen["pods"]
    assert pods["name"].tolist() == ["nginx-stateful-0", "nginx-stateful-1", "nginx-stateful-2"]
    revs = seen["revisions"]
    assert revs["revision"].tolist() == [1, 2] and revs["update"].tolist() == [False, True]
    dns = seen["dns"]
    sts_rows = dns[dns["owner"] == "statefulset/nginx-stateful"]
    assert sts_rows["reverse"].tolist() == [f"nginx-stateful-{i}.nginx-stateful.{ns}.svc.cluster.local"
                                            for i in range(3)]
    assert seen["replacement"].new_name == "nginx-stateful-0"
    assert set(seen["pvcs"]["status"]) == {"Bound"}
    for name, meta in before.items():
        kind = "configmaps" if name == "keep-me" else "services"
        now = lab.kube.get(kind, name)["metadata"]
        assert (now["uid"], now["resourceVersion"]) == (meta["uid"], meta["resourceVersion"])
    for plural in ("statefulsets", "deployments", "pods", "persistentvolumeclaims"):
        assert lab.kube.list(plural, ns, label_selector=manifests.MANAGED_SELECTOR) == []


def test_a_missing_storage_class_is_explained_before_anything_is_created(real_lab):
    try:
        real_lab.apply("nginx-stateful2", storage_class="stsnb-no-such-class")
    except NotFound as e:
        assert "needs a dynamic provisioner" in e.hint
    else:  # pragma: no cover
        raise AssertionError("apply should have refused a claim template naming a missing StorageClass")
