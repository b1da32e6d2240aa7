"""The guide's manifests as package data, and the pure builders: no cluster needed."""

from __future__ import annotations

import copy

import pytest
import yaml

from stsnb import manifests
from stsnb.errors import ConfigError, NotFound

GUIDE_STS = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  labels:
    app: nginx-stateful
  name: nginx-stateful
spec:
  replicas: 3
  selector:
    matchLabels:
      app: nginx-stateful
  template:
    metadata:
      labels:
        app: nginx-stateful
    spec:
      containers:
      - image: nginx
        name: nginx
"""


def _revision_hash(sts: dict, version: str = "1.27") -> str:
    from stsnb.sandbox.apiserver.defaults import apply_defaults
    from stsnb.sandbox.hashing import hash_revision_data, revision_patch
    from stsnb.sandbox.profile import Profile
    obj = copy.deepcopy(sts)
    apply_defaults("statefulsets", obj, Profile(version))
    return hash_revision_data(revision_patch(obj["spec"]["template"]))


def test_names_lists_the_guides_manifests_in_the_order_the_guide_uses_them():
    assert manifests.names() == ["nginx-stateful", "nginx-stateful-headless-svc", "nginx-stateful-with-service",
                                 "nginx-stateful2", "test-deploy", "sc-nfs"]


def test_yaml_shows_the_guides_text_without_the_files_comment_header():
    assert manifests.yaml("nginx-stateful") == GUIDE_STS
    for name in manifests.names():
        assert not manifests.yaml(name).startswith("#")


def test_every_manifest_loads_into_kubernetes_objects():
    kinds = {name: [(o["kind"], o["metadata"]["name"]) for o in manifests.load(name)] for name in manifests.names()}
    assert kinds == {
        "nginx-stateful": [("StatefulSet", "nginx-stateful")],
        "nginx-stateful-headless-svc": [("Service", "nginx-stateful")],
        "nginx-stateful-with-service": [("StatefulSet", "nginx-stateful")],
        "nginx-stateful2": [("Service", "nginx-stateful2"), ("StatefulSet", "nginx-stateful2")],
        "test-deploy": [("Deployment", "test-deploy"), ("Service", "test-deploy")],
        "sc-nfs": [("StorageClass", "sc-nfs")],
    }


def test_load_returns_fresh_copies_each_time():
    a = manifests.load("nginx-stateful")
    a[0]["spec"]["replicas"] = 99
    assert manifests.load("nginx-stateful")[0]["spec"]["replicas"] == 3


def test_the_guide_manifests_have_the_guides_facts():
    (sts,) = manifests.load("nginx-stateful")
    assert "serviceName" not in sts["spec"]
    (sts_svc,) = manifests.load("nginx-stateful-with-service")
    assert sts_svc["spec"]["serviceName"] == "nginx-stateful"
    svc, sts2 = manifests.load("nginx-stateful2")
    assert svc["spec"]["clusterIP"] == "None"
    (vct,) = sts2["spec"]["volumeClaimTemplates"]
    assert vct["metadata"]["name"] == "nginx-stateful2-pvc"
    assert vct["spec"] == {"accessModes": ["ReadWriteOnce"], "storageClassName": "sc-nfs",
                           "resources": {"requests": {"storage": "2Gi"}}}
    assert sts2["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] == [
        {"name": "nginx-stateful2-pvc", "mountPath": "/usr/share/nginx/html"}]
    deploy, deploy_svc = manifests.load("test-deploy")
    assert deploy["spec"]["replicas"] == 3
    assert deploy["spec"]["template"]["spec"]["containers"] == [{"image": "nginx", "name": "nginx"}]
    assert deploy["spec"]["selector"] == {"matchLabels": {"app": "test-deploy"}}
    assert deploy_svc["spec"]["type"] == "ClusterIP"
    assert deploy_svc["spec"]["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]


def test_the_guides_pod_template_hashes_to_the_guides_revision():
    assert _revision_hash(manifests.load("nginx-stateful")[0]) == "7db594cfbd"
    assert _revision_hash(manifests.load("nginx-stateful-with-service")[0]) == "7db594cfbd"


def test_managed_labels_metadata_and_claim_templates_but_never_the_pod_template():
    for name in manifests.names():
        original = manifests.load(name)
        labelled = manifests.managed(original)
        assert original == manifests.load(name), "managed() must not modify its input"
        for before, after in zip(original, labelled):
            assert after["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "stsnb"
            if "template" in before.get("spec", {}):
                assert after["spec"]["template"] == before["spec"]["template"]
            for vct in after.get("spec", {}).get("volumeClaimTemplates", []):
                assert vct["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "stsnb"}
    assert _revision_hash(manifests.managed(manifests.load("nginx-stateful"))[0]) == "7db594cfbd"


def test_the_statefulset_builder_makes_the_guides_manifest():
    assert manifests.statefulset("nginx-stateful") == manifests.load("nginx-stateful")[0]
    assert manifests.statefulset("nginx-stateful", service_name="nginx-stateful") == \
        manifests.load("nginx-stateful-with-service")[0]
    vct = manifests.volume_claim_template("nginx-stateful2-pvc")
    built = manifests.statefulset("nginx-stateful2", service_name="nginx-stateful2", volume_claim_templates=[vct],
                                  mount_path="/usr/share/nginx/html")
    assert built == manifests.load("nginx-stateful2")[1]
    assert manifests.headless_service("nginx-stateful") == manifests.load("nginx-stateful-headless-svc")[0]
    assert manifests.deployment("test-deploy") == manifests.load("test-deploy")[0]


def test_clusterip_service_is_what_kubectl_create_service_sends():
    assert manifests.clusterip_service("nginx-stateful", tcp="80:80", cluster_ip="None") == {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"labels": {"app": "nginx-stateful"}, "name": "nginx-stateful"},
        "spec": {"clusterIP": "None",
                 "ports": [{"name": "80-80", "port": 80, "protocol": "TCP", "targetPort": 80}],
                 "selector": {"app": "nginx-stateful"}, "type": "ClusterIP"}}


def test_dns_query_pod_runs_nslookup_once_in_busybox():
    pod = manifests.dns_query_pod("10.100.194.79")
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["spec"]["containers"] == [{"command": ["nslookup", "10.100.194.79"], "image": "busybox",
                                          "name": "dnsquery"}]


def test_with_storage_class_changes_only_the_claim_templates():
    objs = manifests.with_storage_class(manifests.load("nginx-stateful2"), "standard")
    assert objs[1]["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "standard"
    assert objs[0] == manifests.load("nginx-stateful2")[0]
    assert manifests.load("nginx-stateful2", storage_class="standard") == objs


def test_with_namespace_fills_in_the_lab_namespace_and_refuses_another():
    (sts,) = manifests.with_namespace(manifests.load("nginx-stateful"), "lab")
    assert sts["metadata"]["namespace"] == "lab"
    (sc,) = manifests.with_namespace(manifests.load("sc-nfs"), "lab", cluster_scoped=["StorageClass"])
    assert "namespace" not in sc["metadata"]
    other = manifests.load("nginx-stateful")
    other[0]["metadata"]["namespace"] = "kube-system"
    with pytest.raises(ConfigError, match="kube-system"):
        manifests.with_namespace(other, "lab")


def test_parse_accepts_a_name_yaml_text_a_path_a_dict_and_a_list(tmp_path):
    expected = manifests.load("nginx-stateful")
    path = tmp_path / "sts.yaml"
    path.write_text(GUIDE_STS)
    assert manifests.parse("nginx-stateful") == expected
    assert manifests.parse(GUIDE_STS) == expected
    assert manifests.parse(str(path)) == expected
    assert manifests.parse(path) == expected
    assert manifests.parse(expected[0]) == expected
    assert manifests.parse([expected[0], "sc-nfs"]) == expected + manifests.load("sc-nfs")
    assert manifests.parse({"apiVersion": "v1", "kind": "List", "items": expected}) == expected


def test_parse_refuses_unknown_names_and_non_objects_with_a_next_step():
    with pytest.raises(NotFound) as e:
        manifests.parse("nginx-statefull")
    assert "nginx-statefull" in e.value.message and "nginx-stateful" in e.value.hint
    with pytest.raises(ConfigError, match="not a Kubernetes object"):
        manifests.parse("just: a mapping")
    with pytest.raises(ConfigError, match="not valid YAML"):
        manifests.parse("a: [b\nc: d")


def test_object_ref_is_kubectls_name():
    assert manifests.object_ref(manifests.load("nginx-stateful")[0]) == "statefulset.apps/nginx-stateful"
    assert manifests.object_ref(manifests.load("test-deploy")[1]) == "service/test-deploy"
    assert manifests.object_ref(manifests.load("sc-nfs")[0]) == "storageclass.storage.k8s.io/sc-nfs"


def test_the_shipped_yaml_files_are_plain_yaml():
    for name in manifests.names():
        assert list(yaml.safe_load_all(manifests.yaml(name))) == manifests.load(name)
