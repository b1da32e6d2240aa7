"""Scheduling and node lifecycle through the official client: selectors, affinity, taints, cordon, host ports,
NoExecute eviction, and PodDisruptionBudget status."""

from __future__ import annotations

import pytest
from kubernetes import client

from .conftest import wait_until

CP = "node-role.kubernetes.io/control-plane"


def pod(name: str, **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}], **spec}}


def scheduled(core, name: str):
    return wait_until(core.list_namespaced_pod, lambda p: p.metadata.name == name and bool(p.spec.node_name), "default")


def unschedulable(core, name: str):
    p = wait_until(core.list_namespaced_pod, lambda p: p.metadata.name == name and any(
        c.type == "PodScheduled" and c.status == "False" for c in p.status.conditions or []), "default")
    return next(c.message for c in p.status.conditions if c.type == "PodScheduled")


@pytest.fixture
def nodes(api):
    return client.CoreV1Api(api)


def test_workloads_never_land_on_the_tainted_control_plane(core):
    for i in range(4):
        core.create_namespaced_pod("default", pod(f"p{i}"))
    assert {scheduled(core, f"p{i}").spec.node_name for i in range(4)} == {"k8s-worker1", "k8s-worker2"}


def test_a_node_selector_picks_the_node(core):
    core.create_namespaced_pod("default", pod("p", nodeSelector={"kubernetes.io/hostname": "k8s-worker2"}))
    assert scheduled(core, "p").spec.node_name == "k8s-worker2"


def test_a_selector_no_node_matches_leaves_the_pod_pending_with_the_schedulers_reasons(core):
    core.create_namespaced_pod("default", pod("p", nodeSelector={"disktype": "ssd"}))
    assert unschedulable(core, "p") == (
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
        "2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: "
        "3 Preemption is not helpful for scheduling..")
    event = wait_until(core.list_namespaced_event, lambda e: e.reason == "FailedScheduling", "default")
    assert event.type == "Warning" and event.source.component == "default-scheduler"


def test_required_node_affinity_and_a_toleration_reach_the_control_plane(core):
    core.create_namespaced_pod("default", pod("p", tolerations=[{"key": CP, "operator": "Exists", "effect": "NoSchedule"}],
                                              affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                                                  "nodeSelectorTerms": [{"matchExpressions": [
                                                      {"key": CP, "operator": "Exists"}]}]}}}))
    assert scheduled(core, "p").spec.node_name == "k8s-master"


def test_a_cordoned_node_gets_the_unschedulable_taint_and_no_new_pods(core, nodes, sandbox):
    nodes.patch_node("k8s-worker1", {"spec": {"unschedulable": True}})
    node = wait_until(nodes.list_node, lambda n: n.metadata.name == "k8s-worker1" and any(
        t.key == "node.kubernetes.io/unschedulable" for t in n.spec.taints or []))
    assert [t.effect for t in node.spec.taints if t.key == "node.kubernetes.io/unschedulable"] == ["NoSchedule"]
    for i in range(3):
        core.create_namespaced_pod("default", pod(f"p{i}"))
    assert {scheduled(core, f"p{i}").spec.node_name for i in range(3)} == {"k8s-worker2"}
    nodes.patch_node("k8s-worker1", {"spec": {"unschedulable": None}})
    wait_until(nodes.list_node, lambda n: n.metadata.name == "k8s-worker1" and not any(
        t.key == "node.kubernetes.io/unschedulable" for t in n.spec.taints or []))


def test_a_host_port_is_taken_once_per_node(core):
    ports = [{"containerPort": 80, "hostPort": 8080}]
    for i in range(3):
        body = pod(f"p{i}")
        body["spec"]["containers"][0]["ports"] = ports
        core.create_namespaced_pod("default", body)
    placed = [scheduled(core, f"p{i}").spec.node_name for i in range(2)]
    assert sorted(placed) == ["k8s-worker1", "k8s-worker2"]
    assert "2 node(s) didn't have free ports for the requested pod ports" in unschedulable(core, "p2")


def test_a_request_larger_than_any_node_is_insufficient_cpu(core):
    body = pod("big")
    body["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "16"}}
    core.create_namespaced_pod("default", body)
    msg = unschedulable(core, "big")
    assert "2 Insufficient cpu" in msg and "2 No preemption victims found for incoming pod" in msg


def test_a_no_execute_taint_evicts_pods_that_do_not_tolerate_it(core, nodes):
    core.create_namespaced_pod("default", pod("plain", nodeSelector={"kubernetes.io/hostname": "k8s-worker2"}))
    core.create_namespaced_pod("default", pod("tolerant", nodeSelector={"kubernetes.io/hostname": "k8s-worker2"},
                                              tolerations=[{"key": "maintenance", "operator": "Exists"}]))
    wait_until(core.list_namespaced_pod, lambda p: p.metadata.name == "plain" and p.status.phase == "Running", "default")
    nodes.patch_node("k8s-worker2", {"spec": {"taints": [{"key": "maintenance", "value": "true", "effect": "NoExecute"}]}})
    wait_until(core.list_namespaced_event, lambda e: e.reason == "TaintManagerEviction", "default")
    names = {p.metadata.name: p for p in core.list_namespaced_pod("default").items}
    assert "tolerant" in names and names["tolerant"].metadata.deletion_timestamp is None
    assert "plain" not in names or names["plain"].metadata.deletion_timestamp is not None


def test_a_pod_disruption_budget_counts_healthy_pods_and_allows_what_is_spare(core, api):
    for i in range(3):
        core.create_namespaced_pod("default", {**pod(f"p{i}"), "metadata": {"name": f"p{i}", "labels": {"app": "web"}}})
    policy = client.PolicyV1Api(api)
    policy.create_namespaced_pod_disruption_budget("default", {
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web"},
        "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}}})
    pdb = wait_until(policy.list_namespaced_pod_disruption_budget, lambda b: b.status.current_healthy == 3, "default")
    assert (pdb.status.expected_pods, pdb.status.desired_healthy, pdb.status.disruptions_allowed) == (3, 2, 1)
    assert [(c.type, c.status, c.reason) for c in pdb.status.conditions] == [("DisruptionAllowed", "True", "SufficientPods")]
    core.delete_namespaced_pod("p0", "default")
    pdb = wait_until(policy.list_namespaced_pod_disruption_budget, lambda b: b.status.current_healthy == 2, "default")
    assert pdb.status.disruptions_allowed == 0 and pdb.status.conditions[0].reason == "InsufficientPods"


def _anti(app: str, topology: str = "kubernetes.io/hostname") -> dict:
    return {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": [app]}]},
         "topologyKey": topology}]}}


def _labelled(name: str, app: str, **spec) -> dict:
    body = pod(name, **spec)
    body["metadata"]["labels"] = {"app": app}
    return body


def test_required_pod_anti_affinity_puts_each_replica_on_its_own_node_and_the_third_waits(core):
    for i in range(3):
        core.create_namespaced_pod("default", _labelled(f"zk-{i}", "zk", affinity=_anti("zk")))
    placed = {scheduled(core, f"zk-{i}").spec.node_name for i in range(2)}
    assert placed == {"k8s-worker1", "k8s-worker2"}
    assert unschedulable(core, "zk-2") == (
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
        "2 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: "
        "1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod..")
    # a pod whose own labels another pod's anti-affinity selects is kept off that pod's node (the symmetry)
    core.delete_namespaced_pod("zk-2", "default")
    core.create_namespaced_pod("default", _labelled("plain", "zk"))
    assert unschedulable(core, "plain").startswith(
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
        "2 node(s) didn't satisfy existing pods anti-affinity rules.")
    # deleting one replica frees its node
    core.delete_namespaced_pod("zk-0", "default", grace_period_seconds=0)
    assert scheduled(core, "plain").spec.node_name in placed


def test_required_pod_affinity_follows_its_target_and_the_first_of_a_series_may_start_anywhere(core):
    follow = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "cache"}}, "topologyKey": "kubernetes.io/hostname"}]}}
    core.create_namespaced_pod("default", pod("lonely", affinity=follow))
    assert unschedulable(core, "lonely").startswith(
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
        "2 node(s) didn't match pod affinity rules. preemption: 0/3 nodes are available: "
        "3 Preemption is not helpful for scheduling")
    # a pod that matches its own term starts the series; the waiting one then joins it on its node
    core.create_namespaced_pod("default", _labelled("cache", "cache", affinity=follow,
                                                     nodeSelector={"kubernetes.io/hostname": "k8s-worker2"}))
    assert scheduled(core, "cache").spec.node_name == "k8s-worker2"
    assert scheduled(core, "lonely").spec.node_name == "k8s-worker2"


def test_anti_affinity_in_another_namespace_does_not_apply_unless_the_term_names_it(core):
    core.create_namespace({"metadata": {"name": "other"}})
    for i in range(2):
        core.create_namespaced_pod("default", _labelled(f"a-{i}", "a", affinity=_anti("a")))
    scheduled(core, "a-0"), scheduled(core, "a-1")
    body = _labelled("b", "a", affinity=_anti("a"))
    core.create_namespaced_pod("other", body)  # its term selects only pods of its own namespace, and theirs only theirs
    p = wait_until(core.list_namespaced_pod, lambda p: p.metadata.name == "b" and bool(p.spec.node_name), "other")
    assert p.spec.node_name in ("k8s-worker1", "k8s-worker2")
