"""A fresh sandbox holds what a learner's kind cluster holds: nodes with conditions and leases, CoreDNS pods behind
kube-dns, a default StorageClass, and every namespace's default ServiceAccount and kube-root-ca.crt."""

from __future__ import annotations

from kubernetes import client

from stsnb.sandbox import ClusterDefaults, Sandbox

from .conftest import wait_until


def test_nodes_report_the_kubelets_four_conditions_capacity_and_a_lease(api):
    core, leases = client.CoreV1Api(api), client.CoordinationV1Api(api)
    nodes = core.list_node().items
    assert [n.metadata.name for n in nodes] == ["k8s-master", "k8s-worker1", "k8s-worker2"]
    for n in nodes:
        assert [(c.type, c.status, c.reason) for c in n.status.conditions] == [
            ("MemoryPressure", "False", "KubeletHasSufficientMemory"), ("DiskPressure", "False", "KubeletHasNoDiskPressure"),
            ("PIDPressure", "False", "KubeletHasSufficientPID"), ("Ready", "True", "KubeletReady")]
        assert set(n.status.capacity) == set(n.status.allocatable) == {
            "cpu", "ephemeral-storage", "hugepages-1Gi", "hugepages-2Mi", "memory", "pods"}
        lease = leases.read_namespaced_lease(n.metadata.name, "kube-node-lease")
        assert lease.spec.holder_identity == n.metadata.name and lease.spec.lease_duration_seconds == 40
        assert lease.metadata.owner_references[0].uid == n.metadata.uid
    master = nodes[0]
    assert master.metadata.labels["node-role.kubernetes.io/control-plane"] == ""
    assert [(t.key, t.effect) for t in master.spec.taints] == [("node-role.kubernetes.io/control-plane", "NoSchedule")]


def test_leases_are_renewed_as_sandbox_time_passes(api, core, sandbox):
    leases = client.CoordinationV1Api(api)
    before = leases.read_namespaced_lease("k8s-worker1", "kube-node-lease").spec.renew_time
    core.create_namespaced_pod("default", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "wait"},
                                           "spec": {"restartPolicy": "Never", "containers": [
                                               {"name": "c", "image": "busybox", "command": ["sleep", "60"]}]}})
    wait_until(core.list_namespaced_pod, lambda p: p.status.phase == "Succeeded", "default", timeout=30)
    after = leases.read_namespaced_lease("k8s-worker1", "kube-node-lease").spec.renew_time
    assert (after - before).total_seconds() >= 50


def test_coredns_pods_run_in_kube_system_behind_kube_dns(core, api):
    pods = core.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-dns").items
    assert len(pods) == 2 and all(p.metadata.name.startswith("coredns-") for p in pods)
    assert all(p.status.phase == "Running" and p.spec.node_name == "k8s-master" for p in pods)
    assert all(c.ready for p in pods for c in p.status.container_statuses)
    slices = client.DiscoveryV1Api(api).list_namespaced_endpoint_slice(
        "kube-system", label_selector="kubernetes.io/service-name=kube-dns").items
    assert sorted(a for s in slices for e in s.endpoints for a in e.addresses) == sorted(p.status.pod_ip for p in pods)


def test_every_namespace_gets_a_default_service_account_and_the_root_ca(core):
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fresh"}})
    sa = wait_until(core.list_namespaced_service_account, lambda s: s.metadata.name == "default", "fresh")
    assert sa.metadata.namespace == "fresh"
    cm = wait_until(core.list_namespaced_config_map, lambda c: c.metadata.name == "kube-root-ca.crt", "fresh")
    assert cm.data["ca.crt"].startswith("-----BEGIN CERTIFICATE-----")
    assert cm.metadata.annotations["kubernetes.io/description"].startswith("Contains a CA bundle")
    core.delete_namespaced_service_account("default", "fresh")
    wait_until(core.list_namespaced_service_account, lambda s: s.metadata.name == "default", "fresh")
    core.patch_namespaced_config_map("kube-root-ca.crt", "fresh", {"data": {"ca.crt": "tampered"}})
    wait_until(core.list_namespaced_config_map, lambda c: c.metadata.name == "kube-root-ca.crt" and
               c.data["ca.crt"].startswith("-----BEGIN"), "fresh")


def test_the_default_storage_class_binds_a_claim_for_its_first_consumer(core, api):
    sc = client.StorageV1Api(api).read_storage_class("standard")
    assert sc.metadata.annotations["storageclass.kubernetes.io/is-default-class"] == "true"
    assert (sc.provisioner, sc.volume_binding_mode, sc.reclaim_policy) == (
        "rancher.io/local-path", "WaitForFirstConsumer", "Delete")
    core.create_namespaced_persistent_volume_claim("default", {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})
    wait_until(core.list_namespaced_event, lambda e: e.reason == "WaitForFirstConsumer", "default")
    claim = core.read_namespaced_persistent_volume_claim("data", "default")
    assert claim.spec.storage_class_name == "standard" and claim.status.phase == "Pending"
    core.create_namespaced_pod("default", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "user"}, "spec": {
        "containers": [{"name": "c", "image": "nginx", "volumeMounts": [{"name": "d", "mountPath": "/data"}]}],
        "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}})
    p = wait_until(core.list_namespaced_pod, lambda p: p.status.phase == "Running", "default")
    claim = core.read_namespaced_persistent_volume_claim("data", "default")
    assert claim.status.phase == "Bound"
    assert claim.metadata.annotations["volume.kubernetes.io/selected-node"] == p.spec.node_name


def test_each_learner_cluster_default_can_be_switched_off():
    with Sandbox(dns_port=None, seed=2, defaults=ClusterDefaults(storage_class=False, coredns=False,
                                                               service_accounts=False)) as sb:
        core = client.CoreV1Api(sb.api_client())
        assert not client.StorageV1Api(sb.api_client()).list_storage_class().items
        assert not core.list_namespaced_pod("kube-system").items
        assert not core.list_namespaced_service_account("default").items
        assert not core.list_namespaced_config_map("default").items
        assert core.read_namespaced_service("kube-dns", "kube-system").spec.cluster_ip == "10.96.0.10"
