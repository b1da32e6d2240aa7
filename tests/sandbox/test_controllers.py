"""The sandbox's Deployment, ReplicaSet, endpoint, volume, garbage-collection and namespace controllers.

Every test talks to a served sandbox through the official ``kubernetes`` client
and waits through watches with deadlines.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Callable

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from stsnb.sandbox import Sandbox
from stsnb.sandbox.controllers.common import resolve_fenceposts
from stsnb.sandbox.controllers.deployment import max_surge, max_unavailable
from stsnb.sandbox.controllers.endpoints import EndpointSliceController, find_port
from stsnb.sandbox.controllers.volumes import parse_quantity

ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"
SUFFIX = f"[{ALPHANUMS}]{{5}}"
HASH = "[456789bcdf]{9,10}"
NFS = "k8s-sigs.io/nfs-subdir-external-provisioner"


# ---------------------------------------------------------------------- fixtures and helpers
def _served(**kwargs):
    sb = Sandbox(dns_port=None, seed=7, **kwargs).start()
    return sb


def _close(sb: Sandbox) -> None:
    sb.stop()
    assert not sb.internal_errors, sb.internal_errors
    assert not sb.engine.errors, sb.engine.errors


@pytest.fixture
def sb():
    s = _served()
    yield s
    _close(s)


@pytest.fixture
def api(sb) -> client.ApiClient:
    return sb.api_client()


@pytest.fixture
def core(api) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture
def apps(api) -> client.AppsV1Api:
    return client.AppsV1Api(api)


@pytest.fixture
def disc(api) -> client.DiscoveryV1Api:
    return client.DiscoveryV1Api(api)


@pytest.fixture
def storage(api) -> client.StorageV1Api:
    return client.StorageV1Api(api)


def wait_list(list_fn: Callable, predicate: Callable, *args, timeout: float = 20, **kwargs):
    """List, then watch and re-list after every change until ``predicate(items)`` holds."""
    deadline = time.monotonic() + timeout
    resp = list_fn(*args, **kwargs)
    if predicate(resp.items):
        return resp.items
    w = watch.Watch()
    items = resp.items
    try:
        for _ in w.stream(list_fn, *args, resource_version=resp.metadata.resource_version,
                          timeout_seconds=max(1, int(timeout)), **kwargs):
            items = list_fn(*args, **kwargs).items
            if predicate(items):
                return items
            if time.monotonic() > deadline:
                break
    finally:
        w.stop()
    items = list_fn(*args, **kwargs).items
    if predicate(items):
        return items
    raise AssertionError(f"condition not met within {timeout}s; last items: {[_brief(i) for i in items]}")


def _brief(obj) -> str:
    st = getattr(obj, "status", None)
    return f"{obj.metadata.name} {getattr(st, 'phase', '') if st is not None else ''}"


def events_for(core: client.CoreV1Api, name: str, namespace: str = "default") -> list:
    return [e for e in core.list_namespaced_event(namespace).items if e.involved_object.name == name]


def wait_event(core: client.CoreV1Api, name: str, reason: str, namespace: str = "default", timeout: float = 20):
    items = wait_list(core.list_namespaced_event,
                      lambda evs: any(e.involved_object.name == name and e.reason == reason for e in evs),
                      namespace, timeout=timeout)
    return next(e for e in items if e.involved_object.name == name and e.reason == reason)


def deployment(name: str, replicas: int = 3, image: str = "nginx", **spec) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "nginx", "image": image}]}}, **spec}}


def rolled_out(replicas: int) -> Callable:
    def check(items) -> bool:
        d = items[0] if items else None
        if d is None:
            return False
        st = d.status
        prog = next((c for c in st.conditions or [] if c.type == "Progressing"), None)
        return (st.observed_generation == d.metadata.generation and (st.updated_replicas or 0) == replicas
                and (st.available_replicas or 0) == replicas and (st.replicas or 0) == replicas
                and prog is not None and prog.reason == "NewReplicaSetAvailable")
    return check


def wait_rollout(apps: client.AppsV1Api, name: str, replicas: int, namespace: str = "default", timeout: float = 20):
    return wait_list(apps.list_namespaced_deployment, rolled_out(replicas), namespace,
                     field_selector=f"metadata.name={name}", timeout=timeout)[0]


def pod(name: str, labels: dict, image: str = "nginx", **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
            "spec": {"containers": [{"name": "c", "image": image, **spec.pop("container", {})}], **spec}}


def storage_class(name: str = "sc-nfs", provisioner: str = NFS, **extra) -> dict:
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
            "provisioner": provisioner, **extra}


def claim(name: str, storage_class_name: str | None = "sc-nfs", size: str = "2Gi") -> dict:
    spec: dict = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if storage_class_name is not None:
        spec["storageClassName"] = storage_class_name
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": spec}


def bound(name: str) -> Callable:
    return lambda items: any(c.metadata.name == name and c.status.phase == "Bound" for c in items)


def gone(name: str) -> Callable:
    return lambda items: all(i.metadata.name != name for i in items)


def sts_with_claims(name: str, replicas: int = 2, retention: dict | None = None) -> dict:
    spec = {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, "serviceName": name,
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "nginx", "image": "nginx",
                                                  "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"},
                                      "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "sc-nfs",
                                               "resources": {"requests": {"storage": "2Gi"}}}}]}
    if retention:
        spec["persistentVolumeClaimRetentionPolicy"] = retention
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name}, "spec": spec}


# ---------------------------------------------------------------------- Deployments and ReplicaSets
def test_deployment_pods_are_named_deploy_hash_and_five_upstream_characters(sb, apps, core):
    apps.create_namespaced_deployment("default", deployment("test-deploy"))
    d = wait_rollout(apps, "test-deploy", 3)

    rss = apps.list_namespaced_replica_set("default").items
    assert len(rss) == 1
    rs = rss[0]
    h = rs.metadata.labels["pod-template-hash"]
    assert re.fullmatch(HASH, h)
    assert rs.metadata.name == f"test-deploy-{h}"
    assert rs.spec.selector.match_labels == {"app": "test-deploy", "pod-template-hash": h}
    assert rs.spec.template.metadata.labels == {"app": "test-deploy", "pod-template-hash": h}
    ref = rs.metadata.owner_references[0]
    assert (ref.kind, ref.name, ref.uid, ref.controller, ref.block_owner_deletion) == \
        ("Deployment", "test-deploy", d.metadata.uid, True, True)
    assert rs.metadata.annotations == {"deployment.kubernetes.io/revision": "1",
                                       "deployment.kubernetes.io/desired-replicas": "3",
                                       "deployment.kubernetes.io/max-replicas": "4"}
    assert (rs.status.replicas, rs.status.fully_labeled_replicas, rs.status.ready_replicas,
            rs.status.available_replicas, rs.status.observed_generation) == (3, 3, 3, 3, 1)

    pods = core.list_namespaced_pod("default", label_selector="app=test-deploy").items
    assert len(pods) == 3
    for p in pods:
        assert re.fullmatch(rf"test-deploy-{h}-{SUFFIX}", p.metadata.name), p.metadata.name
        assert p.metadata.generate_name == f"test-deploy-{h}-"
        assert p.metadata.labels == {"app": "test-deploy", "pod-template-hash": h}
        pref = p.metadata.owner_references[0]
        assert (pref.kind, pref.name, pref.controller, pref.block_owner_deletion) == (
            "ReplicaSet", rs.metadata.name, True, True)

    assert d.metadata.annotations["deployment.kubernetes.io/revision"] == "1"
    assert (d.status.replicas, d.status.updated_replicas, d.status.ready_replicas, d.status.available_replicas,
            d.status.unavailable_replicas, d.status.observed_generation) == (3, 3, 3, 3, None, 1)
    conds = {c.type: c for c in d.status.conditions}
    assert [c.type for c in d.status.conditions] == ["Available", "Progressing"]
    assert (conds["Available"].status, conds["Available"].reason, conds["Available"].message) == (
        "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
    assert (conds["Progressing"].status, conds["Progressing"].reason, conds["Progressing"].message) == (
        "True", "NewReplicaSetAvailable", f'ReplicaSet "{rs.metadata.name}" has successfully progressed.')

    scaling = [e for e in events_for(core, "test-deploy") if e.reason == "ScalingReplicaSet"]
    assert [(e.message, e.source.component) for e in scaling] == [
        (f"Scaled up replica set {rs.metadata.name} to 3", "deployment-controller")]
    created = sorted(e.message for e in events_for(core, rs.metadata.name) if e.reason == "SuccessfulCreate")
    assert created == sorted(f"Created pod: {p.metadata.name}" for p in pods)
    assert {e.source.component for e in events_for(core, rs.metadata.name)} == {"replicaset-controller"}


def test_fenceposts_round_surge_up_and_unavailable_down():
    assert resolve_fenceposts("25%", "25%", 3) == (1, 0)
    assert resolve_fenceposts("25%", "25%", 10) == (3, 2)
    assert resolve_fenceposts(2, "50%", 3) == (2, 1)
    assert resolve_fenceposts("0%", "1%", 2) == (0, 1)  # both resolve to 0: one may be unavailable
    d = deployment("x", 4)
    d["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
    assert (max_surge(d), max_unavailable(d)) == (1, 1)
    d["spec"]["strategy"] = {"type": "Recreate"}
    assert (max_surge(d), max_unavailable(d)) == (0, 0)


def test_rolling_update_stays_within_max_surge_and_scales_the_old_replicaset_to_zero(sb, apps, core):
    apps.create_namespaced_deployment("default", deployment("web", 4))
    wait_rollout(apps, "web", 4)
    old = apps.list_namespaced_replica_set("default").items[0]

    sizes: dict[str, int] = {old.metadata.name: 4}
    peak = [4]
    done = threading.Event()
    rv = apps.list_namespaced_replica_set("default").metadata.resource_version

    def record() -> None:
        nonlocal rv
        while not done.is_set():
            w = watch.Watch()
            try:
                for ev in w.stream(apps.list_namespaced_replica_set, "default", resource_version=rv, timeout_seconds=1):
                    obj = ev["object"]
                    rv = obj.metadata.resource_version
                    sizes[obj.metadata.name] = 0 if ev["type"] == "DELETED" else obj.spec.replicas
                    peak[0] = max(peak[0], sum(sizes.values()))
            except Exception:  # the sandbox stopping under a failed test
                return
            finally:
                w.stop()

    t = threading.Thread(target=record, daemon=True)
    t.start()
    apps.patch_namespaced_deployment("web", "default",
                                     {"spec": {"template": {"spec": {"containers": [{"name": "nginx",
                                                                                     "image": "nginx:1.25"}]}}}})
    d = wait_list(apps.list_namespaced_deployment,
                  lambda items: rolled_out(4)(items) and items[0].metadata.generation == 2, "default")[0]
    done.set()
    t.join(timeout=5)

    rss = {r.metadata.name: r for r in apps.list_namespaced_replica_set("default").items}
    new = next(r for n, r in rss.items() if n != old.metadata.name)
    assert rss[old.metadata.name].spec.replicas == 0
    assert rss[old.metadata.name].metadata.annotations["deployment.kubernetes.io/revision"] == "1"
    assert new.spec.replicas == 4 and new.status.available_replicas == 4
    assert new.metadata.annotations["deployment.kubernetes.io/revision"] == "2"
    assert d.metadata.annotations["deployment.kubernetes.io/revision"] == "2"
    assert peak[0] <= 4 + 1, f"maxSurge 25% of 4 is 1, saw {peak[0]} replicas"
    messages = [e.message for e in events_for(core, "web") if e.reason == "ScalingReplicaSet"]
    assert f"Scaled up replica set {new.metadata.name} to 1" in messages
    assert f"Scaled down replica set {old.metadata.name} to 0 from 1" in messages
    pods = core.list_namespaced_pod("default", label_selector="app=web").items
    assert all(p.spec.containers[0].image == "nginx:1.25" for p in pods if p.metadata.deletion_timestamp is None)


@pytest.mark.parametrize("version,down", [("1.27", "to 1 from 3"), ("1.31", "from 3 to 1")])
def test_scaling_down_deletes_pods_with_the_versions_event_wording(version, down):
    sb = _served(k8s_version=version)
    try:
        api = sb.api_client()
        apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
        apps.create_namespaced_deployment("default", deployment("sc", 3))
        wait_rollout(apps, "sc", 3)
        apps.patch_namespaced_deployment_scale("sc", "default", {"spec": {"replicas": 1}})
        wait_rollout(apps, "sc", 1)
        wait_list(core.list_namespaced_pod, lambda items: len(items) == 1, "default", label_selector="app=sc")
        rs = apps.list_namespaced_replica_set("default").items[0]
        assert any(e.message == f"Scaled down replica set {rs.metadata.name} {down}"
                   for e in events_for(core, "sc") if e.reason == "ScalingReplicaSet")
        deleted = [e for e in events_for(core, rs.metadata.name) if e.reason == "SuccessfulDelete"]
        assert len(deleted) == 2 and all(e.message.startswith("Deleted pod: sc-") for e in deleted)
    finally:
        _close(sb)


def test_recreate_deletes_every_old_pod_before_creating_new_ones(sb, apps, core):
    apps.create_namespaced_deployment("default", deployment("rc", 2, strategy={"type": "Recreate"}))
    wait_rollout(apps, "rc", 2)
    seen: list[tuple[str, str, str]] = []
    rv = core.list_namespaced_pod("default").metadata.resource_version
    apps.patch_namespaced_deployment("rc", "default", {"spec": {"template": {"metadata": {"labels": {"v": "2"}}}}})
    wait_list(apps.list_namespaced_deployment, lambda items: rolled_out(2)(items) and items[0].metadata.generation == 2,
              "default")
    w = watch.Watch()
    for ev in w.stream(core.list_namespaced_pod, "default", resource_version=rv, timeout_seconds=2):
        seen.append((ev["type"], ev["object"].metadata.name, (ev["object"].metadata.labels or {}).get("v", "1")))
        if sum(1 for t, _, v in seen if t == "ADDED" and v == "2") == 2:
            break
    w.stop()
    first_new = next(i for i, (t, _, v) in enumerate(seen) if t == "ADDED" and v == "2")
    old_deleted = [i for i, (t, _, v) in enumerate(seen) if t == "DELETED" and v == "1"]
    assert len(old_deleted) == 2 and max(old_deleted) < first_new


def test_orphaned_pods_are_adopted_by_a_new_replicaset_with_the_same_selector(sb, apps, core):
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "keep"},
          "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "keep"}},
                   "template": {"metadata": {"labels": {"app": "keep"}},
                                "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}}
    apps.create_namespaced_replica_set("default", rs)
    wait_list(apps.list_namespaced_replica_set, lambda items: (items[0].status.ready_replicas or 0) == 2, "default")
    names = sorted(p.metadata.name for p in core.list_namespaced_pod("default", label_selector="app=keep").items)
    apps.delete_namespaced_replica_set("keep", "default", propagation_policy="Orphan")
    wait_list(apps.list_namespaced_replica_set, lambda items: not items, "default")
    pods = core.list_namespaced_pod("default", label_selector="app=keep").items
    assert sorted(p.metadata.name for p in pods) == names and all(not p.metadata.owner_references for p in pods)

    rs["metadata"]["name"] = "keep2"
    created = apps.create_namespaced_replica_set("default", rs)
    wait_list(core.list_namespaced_pod,
              lambda items: all(p.metadata.owner_references and p.metadata.owner_references[0].uid == created.metadata.uid
                                for p in items) and len(items) == 2,
              "default", label_selector="app=keep")
    assert sorted(p.metadata.name for p in core.list_namespaced_pod("default", label_selector="app=keep").items) == names


def test_a_sync_that_began_before_an_orphaning_delete_never_gives_back_what_the_delete_released(sb, apps, core):
    # A controller's sync works from the copy of its owner it read when it began. An orphaning delete
    # between that read and an adoption must win: re-adopting would hand the objects to an owner that
    # is gone, and the garbage collector would then delete what `kubectl delete --cascade=orphan` kept.
    from stsnb.sandbox.controllers.ref_manager import adopt, claim
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"},
           "spec": {"replicas": 2, "serviceName": "web", "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}}
    apps.create_namespaced_stateful_set("default", sts)
    wait_list(apps.list_namespaced_stateful_set, lambda items: (items[0].status.ready_replicas or 0) == 2, "default")
    stale = sb.store.get("statefulsets", "default", "web")
    apps.delete_namespaced_stateful_set("web", "default", propagation_policy="Orphan")
    revisions = sb.store.list("controllerrevisions", "default")
    pods = sb.store.list("pods", "default")
    assert len(revisions) == 1 and len(pods) == 2
    assert all(not o["metadata"].get("ownerReferences") for o in revisions + pods)

    assert adopt(sb, stale, "statefulsets", "controllerrevisions", revisions[0]) is None
    assert claim(sb, stale, "statefulsets", "pods", pods, lambda p: True) == []
    assert sb.wait_idle()
    kept = core.list_namespaced_pod("default", label_selector="app=web").items
    assert sorted(p.metadata.name for p in kept) == ["web-0", "web-1"]
    assert all(not p.metadata.owner_references for p in kept)
    history = apps.list_namespaced_controller_revision("default").items
    assert [r.metadata.name for r in history] == [revisions[0]["metadata"]["name"]]
    assert not history[0].metadata.owner_references


# ---------------------------------------------------------------------- Endpoints and EndpointSlices
def _slices(disc, svc: str) -> list:
    return disc.list_namespaced_endpoint_slice("default", label_selector=f"kubernetes.io/service-name={svc}").items


def test_endpointslice_has_the_hostname_only_when_subdomain_equals_the_service_name(sb, core, disc):
    core.create_namespaced_service("default", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "labels": {"tier": "front"}},
        "spec": {"clusterIP": "None", "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]}})
    core.create_namespaced_pod("default", pod("a", {"app": "web"}, hostname="a", subdomain="web"))
    core.create_namespaced_pod("default", pod("b", {"app": "web"}, hostname="b", subdomain="other"))
    core.create_namespaced_pod("default", pod("c", {"app": "web"}))
    items = wait_list(disc.list_namespaced_endpoint_slice,
                      lambda items: sum(len(s.endpoints or []) for s in items) == 3 and
                      all(e.conditions.ready for s in items for e in s.endpoints or []),
                      "default", label_selector="kubernetes.io/service-name=web")
    assert len(items) == 1
    s = items[0]
    assert re.fullmatch(rf"web-{SUFFIX}", s.metadata.name) and s.metadata.generate_name == "web-"
    assert s.address_type == "IPv4"
    assert s.metadata.labels == {"tier": "front", "kubernetes.io/service-name": "web",
                                 "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                                 "service.kubernetes.io/headless": ""}
    svc = core.read_namespaced_service("web", "default")
    ref = s.metadata.owner_references[0]
    assert (ref.api_version, ref.kind, ref.name, ref.uid, ref.controller, ref.block_owner_deletion) == (
        "v1", "Service", "web", svc.metadata.uid, True, True)
    assert [(p.name, p.port, p.protocol) for p in s.ports] == [("http", 80, "TCP")]
    pods = {p.metadata.name: p for p in core.list_namespaced_pod("default").items}
    by_pod = {e.target_ref.name: e for e in s.endpoints}
    assert by_pod["a"].hostname == "a"
    assert by_pod["b"].hostname is None and by_pod["c"].hostname is None
    for name, e in by_pod.items():
        assert e.addresses == [pods[name].status.pod_ip]
        assert e.node_name == pods[name].spec.node_name
        assert (e.target_ref.kind, e.target_ref.namespace, e.target_ref.uid) == ("Pod", "default", pods[name].metadata.uid)
        assert (e.conditions.ready, e.conditions.serving, e.conditions.terminating) == (True, True, False)
        assert e.zone is None

    ep = core.read_namespaced_endpoints("web", "default")
    assert ep.metadata.labels == {"tier": "front", "service.kubernetes.io/headless": ""}
    [subset] = ep.subsets
    assert [(p.name, p.port, p.protocol) for p in subset.ports] == [("http", 80, "TCP")]
    assert subset.not_ready_addresses is None
    addrs = {a.target_ref.name: a for a in subset.addresses}
    assert addrs["a"].hostname == "a" and addrs["b"].hostname is None and addrs["c"].hostname is None
    assert [a.ip for a in subset.addresses] == sorted(a.ip for a in subset.addresses)


def test_not_ready_pods_are_not_ready_endpoints(sb, core, disc):
    for name, publish in (("strict", False), ("loose", True)):
        core.create_namespaced_service("default", {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": {"app": "mixed"}, "publishNotReadyAddresses": publish, "ports": [{"port": 80}]}})
    core.create_namespaced_pod("default", pod("good", {"app": "mixed"}))
    core.create_namespaced_pod("default", pod("bad", {"app": "mixed"}, image="nginx:does-not-exist"))
    items = wait_list(disc.list_namespaced_endpoint_slice,
                      lambda items: sum(len(s.endpoints or []) for s in items) == 4 and any(
                          e.conditions.ready for s in items for e in s.endpoints or []),
                      "default", label_selector="kubernetes.io/service-name in (strict,loose)")
    items = wait_list(disc.list_namespaced_endpoint_slice,
                      lambda items: any(e.target_ref.name == "good" and e.conditions.ready
                                        for s in items for e in s.endpoints or []),
                      "default", label_selector="kubernetes.io/service-name=strict")
    strict = {e.target_ref.name: e.conditions for s in items for e in s.endpoints}
    assert (strict["bad"].ready, strict["bad"].serving, strict["bad"].terminating) == (False, False, False)
    assert strict["good"].ready is True
    assert "service.kubernetes.io/headless" not in items[0].metadata.labels
    assert [(p.name, p.port) for p in items[0].ports] == [("", 80)]
    loose = {e.target_ref.name: e.conditions for s in _slices(disc, "loose") for e in s.endpoints}
    assert loose["bad"].ready is True and loose["bad"].serving is False

    bad_ip = core.read_namespaced_pod("bad", "default").status.pod_ip
    good_ip = core.read_namespaced_pod("good", "default").status.pod_ip
    [subset] = core.read_namespaced_endpoints("strict", "default").subsets
    assert [a.ip for a in subset.addresses] == [good_ip]
    assert [a.ip for a in subset.not_ready_addresses] == [bad_ip]
    [subset] = core.read_namespaced_endpoints("loose", "default").subsets
    assert sorted(a.ip for a in subset.addresses) == sorted([good_ip, bad_ip]) and not subset.not_ready_addresses


def test_named_target_ports_resolve_against_container_ports(sb, core, disc):
    core.create_namespaced_service("default", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "named"},
        "spec": {"selector": {"app": "named"}, "ports": [{"name": "web", "port": 80, "targetPort": "http"},
                                                         {"name": "gone", "port": 81, "targetPort": "nope"}]}})
    core.create_namespaced_pod("default", pod("n1", {"app": "named"},
                                              container={"ports": [{"name": "http", "containerPort": 8080}]}))
    items = wait_list(disc.list_namespaced_endpoint_slice, lambda items: any(s.endpoints for s in items),
                      "default", label_selector="kubernetes.io/service-name=named")
    assert [(p.name, p.port) for p in items[0].ports] == [("web", 8080)]
    [subset] = wait_list(core.list_namespaced_endpoints, lambda items: items and items[0].subsets, "default",
                         field_selector="metadata.name=named")[0].subsets
    assert [(p.name, p.port) for p in subset.ports] == [("web", 8080)]
    assert find_port({"spec": {"containers": []}}, {"port": 80, "targetPort": 9090}) == 9090


def test_a_terminating_pod_stays_in_the_slice_as_terminating_and_not_ready():
    ctl = EndpointSliceController.__new__(EndpointSliceController)
    svc = {"metadata": {"name": "s", "namespace": "default"}, "spec": {}}
    p = {"metadata": {"name": "p", "namespace": "default", "uid": "u", "deletionTimestamp": "2024-01-01T00:00:00Z"},
         "spec": {"nodeName": "k8s-worker1"},
         "status": {"phase": "Running", "podIP": "10.0.0.1", "conditions": [{"type": "Ready", "status": "True"}]}}
    ep = ctl._endpoint(p, svc, None)
    assert ep["conditions"] == {"ready": False, "serving": True, "terminating": True}
    ep = ctl._endpoint(p, {**svc, "spec": {"publishNotReadyAddresses": True}}, None)
    assert ep["conditions"]["ready"] is True


def test_a_recreated_pod_shows_up_at_once_with_its_new_ip(sb, apps, core, disc):
    core.create_namespaced_service("default", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "nginx-stateful"},
        "spec": {"clusterIP": "None", "selector": {"app": "nginx-stateful"}, "ports": [{"port": 80}]}})
    apps.create_namespaced_stateful_set("default", {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "nginx-stateful"},
        "spec": {"replicas": 2, "serviceName": "nginx-stateful", "selector": {"matchLabels": {"app": "nginx-stateful"}},
                 "template": {"metadata": {"labels": {"app": "nginx-stateful"}},
                              "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}})

    def ready_hosts(items) -> dict:
        return {e.hostname: e.addresses[0] for s in items for e in s.endpoints or [] if e.conditions.ready}
    items = wait_list(disc.list_namespaced_endpoint_slice, lambda items: len(ready_hosts(items)) == 2,
                      "default", label_selector="kubernetes.io/service-name=nginx-stateful")
    before = ready_hosts(items)
    assert set(before) == {"nginx-stateful-0", "nginx-stateful-1"}
    old_uid = core.read_namespaced_pod("nginx-stateful-0", "default").metadata.uid
    core.delete_namespaced_pod("nginx-stateful-0", "default")
    new_pod = wait_list(core.list_namespaced_pod,
                        lambda items: any(p.metadata.uid != old_uid and p.status.pod_ip for p in items),
                        "default", field_selector="metadata.name=nginx-stateful-0")[0]
    items = wait_list(disc.list_namespaced_endpoint_slice,
                      lambda items: ready_hosts(items).get("nginx-stateful-0") == new_pod.status.pod_ip,
                      "default", label_selector="kubernetes.io/service-name=nginx-stateful")
    assert new_pod.status.pod_ip != before["nginx-stateful-0"]
    assert ready_hosts(items)["nginx-stateful-1"] == before["nginx-stateful-1"]


def test_endpoints_and_slices_of_a_deleted_service_go_away(sb, core, disc):
    core.create_namespaced_service("default", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "tmp"},
        "spec": {"selector": {"app": "tmp"}, "ports": [{"port": 80}]}})
    core.create_namespaced_pod("default", pod("t1", {"app": "tmp"}))
    wait_list(disc.list_namespaced_endpoint_slice, lambda items: any(s.endpoints for s in items),
              "default", label_selector="kubernetes.io/service-name=tmp")
    assert core.read_namespaced_endpoints("tmp", "default").subsets
    # the sandbox answers a Service delete with a Status (upstream returns the Service): read it raw
    core.delete_namespaced_service("tmp", "default", _preload_content=False).release_conn()
    wait_list(disc.list_namespaced_endpoint_slice, lambda items: not items,
              "default", label_selector="kubernetes.io/service-name=tmp")
    wait_list(core.list_namespaced_endpoints, gone("tmp"), "default")


def test_a_service_without_pods_gets_an_empty_placeholder_slice(sb, core, disc):
    core.create_namespaced_service("default", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "lonely"},
        "spec": {"selector": {"app": "nobody"}, "ports": [{"port": 80}]}})
    [s] = wait_list(disc.list_namespaced_endpoint_slice, lambda items: len(items) == 1,
                    "default", label_selector="kubernetes.io/service-name=lonely")
    assert s.endpoints == [] and not s.ports
    ep = wait_list(core.list_namespaced_endpoints, lambda items: bool(items), "default",
                   field_selector="metadata.name=lonely")[0]
    assert ep.subsets is None


# ---------------------------------------------------------------------- volumes
def test_a_claim_from_a_storageclass_binds_to_pvc_uid_with_2gi_rwo(sb, core, storage):
    storage.create_storage_class(storage_class())
    created = core.create_namespaced_persistent_volume_claim("default", claim("data"))
    pvc = next(c for c in wait_list(core.list_namespaced_persistent_volume_claim, bound("data"), "default")
               if c.metadata.name == "data")
    pv_name = f"pvc-{created.metadata.uid}"
    assert pvc.spec.volume_name == pv_name
    assert pvc.status.capacity == {"storage": "2Gi"} and pvc.status.access_modes == ["ReadWriteOnce"]
    assert pvc.metadata.annotations == {"pv.kubernetes.io/bind-completed": "yes",
                                        "pv.kubernetes.io/bound-by-controller": "yes",
                                        "volume.beta.kubernetes.io/storage-provisioner": NFS,
                                        "volume.kubernetes.io/storage-provisioner": NFS}
    assert pvc.metadata.finalizers == ["kubernetes.io/pvc-protection"]

    pv = core.read_persistent_volume(pv_name)
    assert pv.status.phase == "Bound"
    assert pv.spec.capacity == {"storage": "2Gi"} and pv.spec.access_modes == ["ReadWriteOnce"]
    assert (pv.spec.persistent_volume_reclaim_policy, pv.spec.storage_class_name, pv.spec.volume_mode) == (
        "Delete", "sc-nfs", "Filesystem")
    ref = pv.spec.claim_ref
    assert (ref.kind, ref.namespace, ref.name, ref.uid) == ("PersistentVolumeClaim", "default", "data",
                                                             created.metadata.uid)
    assert pv.spec.nfs.path.endswith(f"/default-data-{pv_name}")
    assert pv.metadata.annotations == {"pv.kubernetes.io/provisioned-by": NFS}
    assert pv.metadata.finalizers == ["kubernetes.io/pv-protection"]

    reasons = [(e.reason, e.type) for e in sorted(events_for(core, "data"), key=lambda e: e.metadata.resource_version
                                                  and int(e.metadata.resource_version))]
    assert reasons == [("ExternalProvisioning", "Normal"), ("Provisioning", "Normal"),
                       ("ProvisioningSucceeded", "Normal")]
    msgs = {e.reason: e for e in events_for(core, "data")}
    assert msgs["ExternalProvisioning"].message == (
        f'waiting for a volume to be created, either by external provisioner "{NFS}" or manually created by '
        "system administrator")
    assert msgs["ExternalProvisioning"].source.component == "persistentvolume-controller"
    assert msgs["Provisioning"].message == 'External provisioner is provisioning volume for claim "default/data"'
    assert msgs["Provisioning"].source.component.startswith(f"{NFS}_")
    assert msgs["ProvisioningSucceeded"].message == f"Successfully provisioned volume {pv_name}"


def test_a_claim_without_storageclass_stays_pending_with_failed_binding(sb, core, storage):
    storage.delete_storage_class("standard")  # a cluster without a default class
    core.create_namespaced_persistent_volume_claim("default", claim("orphan", storage_class_name=None))
    ev = wait_event(core, "orphan", "FailedBinding")
    assert (ev.type, ev.message, ev.source.component) == (
        "Normal", "no persistent volumes available for this claim and no storage class is set",
        "persistentvolume-controller")
    pvc = core.read_namespaced_persistent_volume_claim("orphan", "default")
    assert pvc.status.phase == "Pending" and pvc.spec.volume_name is None
    assert pvc.spec.storage_class_name is None


def test_a_claim_naming_a_missing_storageclass_fails_to_provision(sb, core):
    core.create_namespaced_persistent_volume_claim("default", claim("typo", storage_class_name="sc-nsf"))
    ev = wait_event(core, "typo", "ProvisioningFailed")
    assert (ev.type, ev.message) == ("Warning", 'storageclass.storage.k8s.io "sc-nsf" not found')
    assert core.read_namespaced_persistent_volume_claim("typo", "default").status.phase == "Pending"


def test_the_default_storageclass_is_used_when_a_claim_names_none(sb, core, storage):
    storage.delete_storage_class("standard")  # replaced by an Immediate one, so a claim alone binds
    storage.create_storage_class(storage_class("standard", "rancher.io/local-path", metadata={
        "name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}))
    core.create_namespaced_persistent_volume_claim("default", claim("plain", storage_class_name=None, size="1Gi"))
    pvc = next(c for c in wait_list(core.list_namespaced_persistent_volume_claim, bound("plain"), "default"))
    assert pvc.spec.storage_class_name == "standard"
    pv = core.read_persistent_volume(pvc.spec.volume_name)
    assert pv.spec.csi.driver == "rancher.io/local-path" and pv.spec.capacity == {"storage": "1Gi"}


def test_a_claim_binds_an_existing_volume_that_fits_before_provisioning(sb, core):
    for name, size in (("big", "10Gi"), ("small", "3Gi"), ("tiny", "1Gi")):
        core.create_persistent_volume({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name},
                                       "spec": {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"],
                                                "storageClassName": "manual", "hostPath": {"path": f"/mnt/{name}"}}})
    core.create_namespaced_persistent_volume_claim("default", claim("fit", storage_class_name="manual"))
    pvc = next(c for c in wait_list(core.list_namespaced_persistent_volume_claim, bound("fit"), "default"))
    assert pvc.spec.volume_name == "small" and pvc.status.capacity == {"storage": "3Gi"}
    pv = core.read_persistent_volume("small")
    assert pv.metadata.annotations == {"pv.kubernetes.io/bound-by-controller": "yes"}
    assert core.read_persistent_volume("big").status.phase == "Available"


def test_a_claim_in_use_stays_terminating_until_its_pod_is_gone_then_its_volume_is_deleted(sb, core, storage):
    storage.create_storage_class(storage_class())
    core.create_namespaced_persistent_volume_claim("default", claim("used"))
    core.create_namespaced_pod("default", pod("user", {"app": "user"}, volumes=[
        {"name": "d", "persistentVolumeClaim": {"claimName": "used"}}]))
    wait_list(core.list_namespaced_pod, lambda items: items and items[0].status.phase == "Running", "default",
              field_selector="metadata.name=user")
    pv_name = core.read_namespaced_persistent_volume_claim("used", "default").spec.volume_name
    core.delete_namespaced_persistent_volume_claim("used", "default")
    assert sb.wait_idle(10)
    pvc = core.read_namespaced_persistent_volume_claim("used", "default")
    assert pvc.metadata.deletion_timestamp is not None
    assert pvc.metadata.finalizers == ["kubernetes.io/pvc-protection"] and pvc.status.phase == "Bound"
    assert core.read_persistent_volume(pv_name).status.phase == "Bound"

    core.delete_namespaced_pod("user", "default")
    wait_list(core.list_namespaced_persistent_volume_claim, gone("used"), "default")
    wait_list(core.list_persistent_volume, gone(pv_name))


def test_a_retain_volume_is_released_when_its_claim_is_deleted(sb, core, storage):
    storage.create_storage_class(storage_class("keep", reclaimPolicy="Retain"))
    created = core.create_namespaced_persistent_volume_claim("default", claim("kept", storage_class_name="keep"))
    wait_list(core.list_namespaced_persistent_volume_claim, bound("kept"), "default")
    core.delete_namespaced_persistent_volume_claim("kept", "default")
    pv_name = f"pvc-{created.metadata.uid}"
    [pv] = wait_list(core.list_persistent_volume,
                     lambda items: any(p.metadata.name == pv_name and p.status.phase == "Released" for p in items))
    assert pv.spec.persistent_volume_reclaim_policy == "Retain" and pv.spec.claim_ref.name == "kept"
    assert not core.list_namespaced_persistent_volume_claim("default").items


def test_a_deleted_bound_volume_waits_for_its_claim(sb, core, storage):
    storage.create_storage_class(storage_class())
    core.create_namespaced_persistent_volume_claim("default", claim("c1"))
    pvc = next(c for c in wait_list(core.list_namespaced_persistent_volume_claim, bound("c1"), "default"))
    core.delete_persistent_volume(pvc.spec.volume_name)
    assert sb.wait_idle(10)
    pv = core.read_persistent_volume(pvc.spec.volume_name)
    assert pv.metadata.deletion_timestamp is not None and pv.status.phase == "Bound"
    core.delete_namespaced_persistent_volume_claim("c1", "default")
    wait_list(core.list_persistent_volume, gone(pvc.spec.volume_name))


def test_quantities_parse_binary_and_decimal_suffixes():
    assert parse_quantity("2Gi") == 2 * 2**30
    assert parse_quantity("500M") == 500e6
    assert parse_quantity("1.5Ki") == 1536
    assert parse_quantity("1e3") == 1000
    assert parse_quantity("bogus") == 0


# ---------------------------------------------------------------------- garbage collection
def test_deleting_a_statefulset_deletes_its_pods_and_revisions_but_keeps_the_claims(sb, apps, core, storage):
    storage.create_storage_class(storage_class())
    apps.create_namespaced_stateful_set("default", sts_with_claims("db"))
    wait_list(apps.list_namespaced_stateful_set, lambda items: (items[0].status.ready_replicas or 0) == 2, "default")
    assert apps.list_namespaced_controller_revision("default").items
    claims = sorted(c.metadata.name for c in core.list_namespaced_persistent_volume_claim("default").items)
    assert claims == ["data-db-0", "data-db-1"]

    apps.delete_namespaced_stateful_set("db", "default")
    wait_list(core.list_namespaced_pod, lambda items: not items, "default", label_selector="app=db")
    wait_list(apps.list_namespaced_controller_revision, lambda items: not items, "default")
    assert sb.wait_idle(10)
    left = core.list_namespaced_persistent_volume_claim("default").items
    assert sorted(c.metadata.name for c in left) == claims
    assert all(c.status.phase == "Bound" and c.metadata.deletion_timestamp is None for c in left)


def test_when_deleted_delete_removes_the_claims_with_the_statefulset(sb, apps, core, storage):
    storage.create_storage_class(storage_class())
    apps.create_namespaced_stateful_set("default", sts_with_claims("tmpdb", 2, {"whenDeleted": "Delete",
                                                                                 "whenScaled": "Retain"}))
    wait_list(apps.list_namespaced_stateful_set, lambda items: (items[0].status.ready_replicas or 0) == 2, "default")
    refs = [c.metadata.owner_references for c in core.list_namespaced_persistent_volume_claim("default").items]
    assert all(r and r[0].kind == "StatefulSet" for r in refs)
    apps.delete_namespaced_stateful_set("tmpdb", "default")
    wait_list(core.list_namespaced_persistent_volume_claim, lambda items: not items, "default", timeout=30)
    wait_list(core.list_persistent_volume, lambda items: not items)


def test_when_scaled_delete_removes_the_claim_of_a_condemned_pod(sb, apps, core, storage):
    storage.create_storage_class(storage_class())
    apps.create_namespaced_stateful_set("default", sts_with_claims("sdb", 2, {"whenDeleted": "Retain",
                                                                               "whenScaled": "Delete"}))
    wait_list(apps.list_namespaced_stateful_set, lambda items: (items[0].status.ready_replicas or 0) == 2, "default")
    apps.patch_namespaced_stateful_set_scale("sdb", "default", {"spec": {"replicas": 1}})
    wait_list(core.list_namespaced_persistent_volume_claim, gone("data-sdb-1"), "default", timeout=30)
    assert [c.metadata.name for c in core.list_namespaced_persistent_volume_claim("default").items] == ["data-sdb-0"]


def test_background_deletion_of_a_deployment_removes_its_replicasets_and_pods(sb, apps, core):
    apps.create_namespaced_deployment("default", deployment("bg", 2))
    wait_rollout(apps, "bg", 2)
    apps.delete_namespaced_deployment("bg", "default")
    wait_list(apps.list_namespaced_replica_set, lambda items: not items, "default")
    wait_list(core.list_namespaced_pod, lambda items: not items, "default", label_selector="app=bg")


def test_foreground_deletion_waits_for_dependents(sb, apps, core):
    apps.create_namespaced_deployment("default", deployment("fg", 2))
    wait_rollout(apps, "fg", 2)
    rv = apps.list_namespaced_deployment("default").metadata.resource_version
    apps.delete_namespaced_deployment("fg", "default", propagation_policy="Foreground")
    seen = []
    w = watch.Watch()
    for ev in w.stream(apps.list_namespaced_deployment, "default", resource_version=rv, timeout_seconds=20):
        obj = ev["object"]
        seen.append((ev["type"], obj.metadata.deletion_timestamp is not None, list(obj.metadata.finalizers or [])))
        if ev["type"] == "DELETED":
            assert not core.list_namespaced_pod("default", label_selector="app=fg").items
            assert not apps.list_namespaced_replica_set("default").items
            break
    w.stop()
    assert ("MODIFIED", True, ["foregroundDeletion"]) in seen[:-1]
    assert seen[-1][0] == "DELETED"


def test_owner_references_to_a_missing_owner_are_collected(sb, core):
    core.create_namespaced_config_map("default", {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dangling", "ownerReferences": [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "never", "uid": "00000000-0000-4000-8000-000000000000"}]}})
    core.create_namespaced_config_map("default", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owner"}})
    owner = core.read_namespaced_config_map("owner", "default")
    core.create_namespaced_config_map("default", {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "half", "ownerReferences": [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid},
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "never", "uid": "00000000-0000-4000-8000-000000000000"}]}})
    wait_list(core.list_namespaced_config_map, gone("dangling"), "default")
    half = wait_list(core.list_namespaced_config_map,
                     lambda items: any(c.metadata.name == "half" and len(c.metadata.owner_references) == 1
                                       for c in items), "default")
    assert [r.name for r in next(c for c in half if c.metadata.name == "half").metadata.owner_references] == ["owner"]


# ---------------------------------------------------------------------- namespaces
def test_deleting_a_namespace_removes_its_content(sb, apps, core, storage):
    storage.create_storage_class(storage_class())
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "lab"}})
    apps.create_namespaced_deployment("lab", deployment("app", 2))
    core.create_namespaced_service("lab", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "app"},
                                           "spec": {"selector": {"app": "app"}, "ports": [{"port": 80}]}})
    core.create_namespaced_persistent_volume_claim("lab", claim("scratch"))
    core.create_namespaced_pod("lab", pod("user", {"x": "y"}, volumes=[
        {"name": "d", "persistentVolumeClaim": {"claimName": "scratch"}}]))
    wait_rollout(apps, "app", 2, namespace="lab")
    wait_list(core.list_namespaced_pod, lambda items: len(items) == 3 and all(p.status.phase == "Running" for p in items),
              "lab")

    core.delete_namespace("lab")
    ns = core.read_namespace("lab")
    assert ns.status.phase == "Terminating"
    with pytest.raises(ApiException) as e:
        core.create_namespaced_config_map("lab", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "late"}})
    assert e.value.status == 403
    wait_list(core.list_namespace, gone("lab"), timeout=30)
    for lister in (core.list_namespaced_pod, core.list_namespaced_service, core.list_namespaced_persistent_volume_claim,
                   core.list_namespaced_endpoints, core.list_namespaced_event, apps.list_namespaced_deployment,
                   apps.list_namespaced_replica_set):
        assert not lister("lab").items, lister
    wait_list(core.list_persistent_volume, lambda items: not items)
