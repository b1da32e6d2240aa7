"""The StatefulSet controller, driven through the official client against a served sandbox."""

from __future__ import annotations

import copy

import pytest
from kubernetes import client

from .conftest import GUIDE_STS, PodEvents, sts_settled, wait_until

SET_IMAGE = {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.21.1"}]}}}}


def create(apps, body=GUIDE_STS, **spec):
    body = copy.deepcopy(body)
    body["spec"].update(spec)
    return apps.create_namespaced_stateful_set("default", body)


def settle(apps, replicas=3, name="nginx-stateful"):
    return wait_until(apps.list_namespaced_stateful_set, lambda s: s.metadata.name == name and sts_settled(replicas)(s),
                      "default")


def revision_labels(core, selector="app=nginx-stateful") -> dict[str, str]:
    return {p.metadata.name: p.metadata.labels["controller-revision-hash"]
            for p in core.list_namespaced_pod("default", label_selector=selector).items}


def test_pods_are_created_in_ordinal_order_each_after_the_previous_is_ready(apps, core):
    rec = PodEvents(core)
    create(apps)
    settle(apps)
    rec.stop()
    assert rec.first("ADDED") == ["nginx-stateful-0", "nginx-stateful-1", "nginx-stateful-2"]
    # pod k+1 appears only after pod k was seen Ready
    for k in (1, 2):
        added_at = next(i for i, e in enumerate(rec.events) if e[0] == "ADDED" and e[1] == f"nginx-stateful-{k}")
        assert any(e[1] == f"nginx-stateful-{k - 1}" and e[3] for e in rec.events[:added_at])


def test_pods_carry_the_guides_labels_and_revision_hash_on_1_27(apps, core):
    create(apps)
    sts = settle(apps)
    pods = core.list_namespaced_pod("default", label_selector="app=nginx-stateful").items
    assert [p.metadata.labels for p in pods] == [
        {"app": "nginx-stateful", "controller-revision-hash": "nginx-stateful-7db594cfbd",
         "statefulset.kubernetes.io/pod-name": f"nginx-stateful-{i}"} for i in range(3)]
    assert sts.status.current_revision == sts.status.update_revision == "nginx-stateful-7db594cfbd"
    assert [p.spec.hostname for p in pods] == [p.metadata.name for p in pods]
    assert all(p.spec.subdomain is None for p in pods)  # the §02 manifest has no serviceName


def test_set_image_replaces_pods_from_the_highest_ordinal_and_changes_the_hash(apps, core):
    create(apps)
    settle(apps)
    rec = PodEvents(core)
    apps.patch_namespaced_stateful_set("nginx-stateful", "default", SET_IMAGE)
    sts = settle(apps)
    rec.stop()
    assert rec.first("DELETED") == ["nginx-stateful-2", "nginx-stateful-1", "nginx-stateful-0"]
    assert sts.status.update_revision == "nginx-stateful-6c7d474cc"
    assert set(revision_labels(core).values()) == {"nginx-stateful-6c7d474cc"}
    # kubectl set image patches only the image: the stored pull policy stays Always
    assert sts.spec.template.spec.containers[0].image_pull_policy == "Always"
    # at most one pod was being replaced at any time: each deletion waited for the previous re-creation to be Ready
    deletions = [i for i, e in enumerate(rec.events) if e[0] == "DELETED"]
    for a, b in zip(deletions, deletions[1:]):
        replaced = rec.events[a][1]
        assert any(e[1] == replaced and e[3] and e[2] == "nginx-stateful-6c7d474cc" for e in rec.events[a:b])


def test_status_counts_follow_the_reference_trace_during_an_update(apps, core):
    create(apps)
    settle(apps)
    apps.patch_namespaced_stateful_set("nginx-stateful", "default", SET_IMAGE)
    first = wait_until(apps.list_namespaced_stateful_set,
                       lambda s: s.status.update_revision == "nginx-stateful-6c7d474cc", "default")
    assert first.metadata.generation == 2
    assert first.status.current_revision == "nginx-stateful-7db594cfbd"
    settled = settle(apps)
    assert (settled.status.current_replicas, settled.status.updated_replicas) == (3, 3)
    assert settled.status.observed_generation == 2


def test_rollback_reuses_the_old_revision_name_with_a_new_revision_number(apps, core):
    create(apps)
    settle(apps)
    apps.patch_namespaced_stateful_set("nginx-stateful", "default", SET_IMAGE)
    settle(apps)
    revs = {r.metadata.name: r for r in apps.list_namespaced_controller_revision("default").items}
    old = revs["nginx-stateful-7db594cfbd"]
    # what kubectl rollout undo sends: the old revision's data as a strategic merge patch
    apps.patch_namespaced_stateful_set("nginx-stateful", "default", old.data)
    sts = settle(apps)
    revs = {r.metadata.name: r.revision for r in apps.list_namespaced_controller_revision("default").items}
    assert revs == {"nginx-stateful-7db594cfbd": 3, "nginx-stateful-6c7d474cc": 2}
    assert sts.status.update_revision == "nginx-stateful-7db594cfbd"
    assert set(revision_labels(core).values()) == {"nginx-stateful-7db594cfbd"}


def test_scaling_down_removes_the_highest_ordinal_first_and_scaling_up_adds_in_order(apps, core):
    create(apps, replicas=4)
    settle(apps, 4)
    rec = PodEvents(core)
    apps.patch_namespaced_stateful_set_scale("nginx-stateful", "default", {"spec": {"replicas": 1}})
    settle(apps, 1)
    apps.patch_namespaced_stateful_set_scale("nginx-stateful", "default", {"spec": {"replicas": 3}})
    settle(apps, 3)
    rec.stop()
    assert rec.first("DELETED") == ["nginx-stateful-3", "nginx-stateful-2", "nginx-stateful-1"]
    assert [n for t, n, _, _ in rec.events if t == "ADDED"] == ["nginx-stateful-1", "nginx-stateful-2"]


def test_scale_subresource_reports_replicas_and_selector(apps):
    create(apps)
    settle(apps)
    scale = apps.read_namespaced_stateful_set_scale("nginx-stateful", "default")
    assert (scale.spec.replicas, scale.status.replicas, scale.status.selector) == (3, 3, "app=nginx-stateful")


def test_partition_keeps_ordinals_below_it_at_the_current_revision(apps, core):
    create(apps, updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 2}})
    settle(apps)
    apps.patch_namespaced_stateful_set("nginx-stateful", "default", SET_IMAGE)
    wait_until(apps.list_namespaced_stateful_set, lambda s: (s.status.updated_replicas or 0) == 1
               and (s.status.ready_replicas or 0) == 3, "default")
    assert revision_labels(core) == {"nginx-stateful-0": "nginx-stateful-7db594cfbd",
                                     "nginx-stateful-1": "nginx-stateful-7db594cfbd",
                                     "nginx-stateful-2": "nginx-stateful-6c7d474cc"}
    # a pod below the partition that is deleted comes back at the current revision
    core.delete_namespaced_pod("nginx-stateful-0", "default")
    wait_until(core.list_namespaced_pod, lambda p: p.metadata.name == "nginx-stateful-0" and
               p.metadata.deletion_timestamp is None and p.status.phase == "Running", "default")
    assert revision_labels(core)["nginx-stateful-0"] == "nginx-stateful-7db594cfbd"
    # lowering the partition finishes the rollout
    apps.patch_namespaced_stateful_set("nginx-stateful", "default",
                                       {"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}})
    settle(apps)
    assert set(revision_labels(core).values()) == {"nginx-stateful-6c7d474cc"}


def test_on_delete_replaces_a_pod_only_when_it_is_deleted(apps, core):
    create(apps, updateStrategy={"type": "OnDelete"})
    settle(apps)
    apps.patch_namespaced_stateful_set("nginx-stateful", "default", SET_IMAGE)
    wait_until(apps.list_namespaced_stateful_set,
               lambda s: s.status.update_revision == "nginx-stateful-6c7d474cc", "default")
    assert set(revision_labels(core).values()) == {"nginx-stateful-7db594cfbd"}
    core.delete_namespaced_pod("nginx-stateful-1", "default")
    sts = wait_until(apps.list_namespaced_stateful_set,
                     lambda s: (s.status.updated_replicas or 0) == 1 and (s.status.ready_replicas or 0) == 3, "default")
    assert revision_labels(core)["nginx-stateful-1"] == "nginx-stateful-6c7d474cc"
    # before ~1.36 OnDelete never promotes currentRevision (issue #73492)
    assert sts.status.current_revision == "nginx-stateful-7db594cfbd"


def test_parallel_creates_every_pod_without_waiting(apps, core, sandbox):
    rec = PodEvents(core)
    create(apps, replicas=4, podManagementPolicy="Parallel")
    settle(apps, 4)
    rec.stop()
    added = [i for i, e in enumerate(rec.events) if e[0] == "ADDED"]
    first_ready = next(i for i, e in enumerate(rec.events) if e[3])
    assert len(added) == 4 and max(added) < first_ready


def test_a_deleted_pod_comes_back_with_the_same_name_and_a_new_uid(apps, core):
    create(apps)
    settle(apps)
    old = core.read_namespaced_pod("nginx-stateful-1", "default")
    core.delete_namespaced_pod("nginx-stateful-1", "default")
    new = wait_until(core.list_namespaced_pod, lambda p: p.metadata.name == "nginx-stateful-1" and
                     p.metadata.uid != old.metadata.uid and p.status.phase == "Running", "default")
    assert new.spec.hostname == "nginx-stateful-1"
    assert new.metadata.labels["controller-revision-hash"] == "nginx-stateful-7db594cfbd"


def test_a_deleted_pod_is_terminating_for_its_grace_period(apps, core):
    create(apps, replicas=1)
    settle(apps, 1)
    pod = core.delete_namespaced_pod("nginx-stateful-0", "default")
    assert isinstance(pod, client.V1Pod) and pod.metadata.deletion_timestamp is not None
    assert pod.metadata.deletion_grace_period_seconds == 30


def test_history_keeps_at_most_revision_history_limit_old_revisions(apps):
    create(apps, replicas=1, revisionHistoryLimit=1)
    settle(apps, 1)
    for tag in ("1.21.1", "1.22", "1.23"):
        apps.patch_namespaced_stateful_set("nginx-stateful", "default", {"spec": {"template": {"spec": {
            "containers": [{"name": "nginx", "image": f"nginx:{tag}"}]}}}})
        settle(apps, 1)
    revs = sorted(r.revision for r in apps.list_namespaced_controller_revision("default").items)
    assert revs == [3, 4]


@pytest.mark.parametrize("version, hashes, index_label", [
    ("1.27", ("7db594cfbd", "6c7d474cc"), False),
    ("1.28", ("7db594cfbd", "6c7d474cc"), True),
    ("1.34", ("6dcc97b6c4", "56857ddcd7"), True),
])
def test_the_version_profile_decides_hashes_and_the_pod_index_label(version, hashes, index_label):
    from stsnb.sandbox import Sandbox
    with Sandbox(dns_port=None, k8s_version=version, seed=1) as sb:
        apps, core = client.AppsV1Api(sb.api_client()), client.CoreV1Api(sb.api_client())
        create(apps, replicas=1)
        sts = settle(apps, 1)
        assert sts.status.update_revision == f"nginx-stateful-{hashes[0]}"
        pod = core.read_namespaced_pod("nginx-stateful-0", "default")
        assert ("apps.kubernetes.io/pod-index" in pod.metadata.labels) is index_label
        apps.patch_namespaced_stateful_set("nginx-stateful", "default", SET_IMAGE)
        sts = settle(apps, 1)
        assert sts.status.update_revision == f"nginx-stateful-{hashes[1]}"
