"""The StatefulSet controller off the guide's path: adoption and release, health-gated scaling, finalizers,
minReadySeconds; through the official client, as ``kubernetes-semantics.md`` R2.7 and upstream's controller say."""

from __future__ import annotations

import copy

from kubernetes import client

from .conftest import GUIDE_STS, wait_until

PROBE = {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 1, "successThreshold": 1, "failureThreshold": 1}


def web(replicas: int = 3, *, probe: bool = False, **spec) -> dict:
    body = copy.deepcopy(GUIDE_STS)
    body["spec"]["replicas"] = replicas
    body["spec"].update(spec)
    if probe:
        body["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] = PROBE
    return body


def sts_where(apps, predicate, name="nginx-stateful", timeout: float = 30):
    return wait_until(apps.list_namespaced_stateful_set, lambda s: s.metadata.name == name and predicate(s),
                      "default", timeout=timeout)


def settled(apps, replicas: int, name="nginx-stateful"):
    return sts_where(apps, lambda s: (s.status.ready_replicas or 0) == replicas == (s.status.replicas or 0) and
                     s.status.observed_generation == s.metadata.generation, name)


def pods(core, selector="app=nginx-stateful") -> dict:
    return {p.metadata.name: p for p in core.list_namespaced_pod("default", label_selector=selector).items}


def controller_uid(obj) -> str | None:
    return next((r.uid for r in obj.metadata.owner_references or [] if r.controller), None)


def set_ready(core, name: str, ready: bool) -> None:
    core.patch_namespaced_pod(name, "default", {"metadata": {"annotations": {
        "readiness.probe.sandbox.stsnb.io/nginx": None if ready else "fail"}}})


def events(core, reason: str) -> list:
    return [e for e in core.list_namespaced_event("default").items if e.reason == reason]


# ---------------------------------------------------------------------- adoption and release
def test_a_set_recreated_after_an_orphaning_delete_adopts_its_pods_and_revision(apps, core, sandbox):
    apps.create_namespaced_stateful_set("default", web(3))
    first = settled(apps, 3)
    before = {n: p.metadata.uid for n, p in pods(core).items()}
    revision = first.status.update_revision
    apps.delete_namespaced_stateful_set("nginx-stateful", "default", propagation_policy="Orphan")
    assert sandbox.wait_idle(10)
    assert all(controller_uid(p) is None for p in pods(core).values()), "orphaned"
    again = apps.create_namespaced_stateful_set("default", web(2))
    sts = settled(apps, 2)
    after = pods(core)
    assert {n: p.metadata.uid for n, p in after.items()} == {n: u for n, u in before.items() if n != "nginx-stateful-2"}
    assert all(controller_uid(p) == again.metadata.uid for p in after.values()), "adopted"
    assert sts.status.update_revision == sts.status.current_revision == revision
    assert sts.status.collision_count == 0
    revisions = apps.list_namespaced_controller_revision("default").items
    assert [r.metadata.name for r in revisions] == [revision] and controller_uid(revisions[0]) == again.metadata.uid
    assert not events(core, "FailedCreate")


def test_a_pod_orphaned_by_hand_is_adopted_again(apps, core):
    created = apps.create_namespaced_stateful_set("default", web(1))
    settled(apps, 1)
    core.patch_namespaced_pod("nginx-stateful-0", "default", {"metadata": {"ownerReferences": None}})
    wait_until(core.list_namespaced_pod, lambda p: controller_uid(p) == created.metadata.uid, "default")


def test_a_pod_whose_labels_stop_matching_is_released_not_deleted(apps, core):
    created = apps.create_namespaced_stateful_set("default", web(1))
    settled(apps, 1)
    uid = pods(core)["nginx-stateful-0"].metadata.uid
    core.patch_namespaced_pod("nginx-stateful-0", "default", {"metadata": {"labels": {"app": "elsewhere"}}})
    released = wait_until(core.list_namespaced_pod, lambda p: p.metadata.name == "nginx-stateful-0" and
                          controller_uid(p) is None, "default")
    assert released.metadata.uid == uid and released.metadata.deletion_timestamp is None
    # upstream then tries to create the missing ordinal, whose name the released pod still holds
    wait_until(core.list_namespaced_event, lambda e: e.reason == "FailedCreate", "default")
    failed = events(core, "FailedCreate")[0]
    assert failed.message == ('create Pod nginx-stateful-0 in StatefulSet nginx-stateful failed error: '
                              'pods "nginx-stateful-0" already exists')
    core.patch_namespaced_pod("nginx-stateful-0", "default", {"metadata": {"labels": {"app": "nginx-stateful"}}})
    wait_until(core.list_namespaced_pod, lambda p: p.metadata.name == "nginx-stateful-0" and
               controller_uid(p) == created.metadata.uid, "default")
    assert pods(core)["nginx-stateful-0"].metadata.uid == uid


# ---------------------------------------------------------------------- health-gated scaling
def test_ordered_scale_down_halts_while_any_pod_is_unhealthy(apps, core, sandbox):
    apps.create_namespaced_stateful_set("default", web(3, probe=True))
    settled(apps, 3)
    for i in range(3):
        set_ready(core, f"nginx-stateful-{i}", False)
    sts_where(apps, lambda s: (s.status.ready_replicas or 0) == 0)
    apps.patch_namespaced_stateful_set_scale("nginx-stateful", "default", {"spec": {"replicas": 0}})
    assert sandbox.wait_idle(10)
    assert sorted(pods(core)) == ["nginx-stateful-0", "nginx-stateful-1", "nginx-stateful-2"]
    assert all(p.metadata.deletion_timestamp is None for p in pods(core).values()), "nothing deleted"
    deleted = []
    watcher = client.CoreV1Api(core.api_client)
    for i in range(3):
        set_ready(core, f"nginx-stateful-{i}", True)
    from .conftest import PodEvents
    rec = PodEvents(watcher)
    sts_where(apps, lambda s: (s.status.replicas or 0) == 0)
    rec.stop()
    deleted = [name for t, name, _, _ in rec.events if t == "DELETED"]
    assert deleted == ["nginx-stateful-2", "nginx-stateful-1", "nginx-stateful-0"]


def test_ordered_scale_up_waits_for_an_unhealthy_pod(apps, core, sandbox):
    apps.create_namespaced_stateful_set("default", web(1, probe=True))
    settled(apps, 1)
    set_ready(core, "nginx-stateful-0", False)
    sts_where(apps, lambda s: (s.status.ready_replicas or 0) == 0)
    apps.patch_namespaced_stateful_set_scale("nginx-stateful", "default", {"spec": {"replicas": 3}})
    assert sandbox.wait_idle(10)
    assert sorted(pods(core)) == ["nginx-stateful-0"]
    set_ready(core, "nginx-stateful-0", True)
    settled(apps, 3)


def test_a_terminating_pod_held_by_a_finalizer_stays_counted_until_the_finalizer_goes(apps, core, sandbox):
    body = web(1)
    body["spec"]["template"]["metadata"]["finalizers"] = ["example.com/hold"]
    apps.create_namespaced_stateful_set("default", body)
    settled(apps, 1)
    apps.patch_namespaced_stateful_set_scale("nginx-stateful", "default", {"spec": {"replicas": 0}})
    held = wait_until(core.list_namespaced_pod, lambda p: p.metadata.deletion_timestamp is not None and
                      p.metadata.deletion_grace_period_seconds == 0, "default")
    assert not any(c.type == "Ready" and c.status == "True" for c in held.status.conditions)
    sts = sts_where(apps, lambda s: (s.status.ready_replicas or 0) == 0)
    assert sts.status.replicas == 1, "a terminating pod is still a replica"
    core.patch_namespaced_pod("nginx-stateful-0", "default", {"metadata": {"finalizers": None}})
    sts = sts_where(apps, lambda s: (s.status.replicas or 0) == 0)
    assert not pods(core)


# ---------------------------------------------------------------------- minReadySeconds
def test_min_ready_seconds_counts_pods_available_in_a_parallel_set(apps, core):
    apps.create_namespaced_stateful_set("default", web(3, podManagementPolicy="Parallel", minReadySeconds=20))
    ready = sts_where(apps, lambda s: (s.status.ready_replicas or 0) == 3)
    assert (ready.status.available_replicas or 0) < 3
    sts_where(apps, lambda s: (s.status.available_replicas or 0) == 3)


def test_min_ready_seconds_makes_ordered_creation_wait_for_availability(apps, core):
    apps.create_namespaced_stateful_set("default", web(2, minReadySeconds=15))
    sts_where(apps, lambda s: (s.status.available_replicas or 0) == 2)
    p0, p1 = pods(core)["nginx-stateful-0"], pods(core)["nginx-stateful-1"]
    ready0 = next(c.last_transition_time for c in p0.status.conditions if c.type == "Ready")
    assert (p1.metadata.creation_timestamp - ready0).total_seconds() >= 15
