"""Upstream's StatefulSet e2e tests, ported to the sandbox (kubernetes/kubernetes ``test/e2e/apps/statefulset.go``).

Each test names the upstream ``ConformanceIt``/``It`` it ports and keeps its steps and assertions, through the
official client. Readiness is broken and restored as upstream does it: ``exec`` moves the probed page away
(``mv -v /usr/local/apache2/htdocs/index.html /tmp/ || true``) and back, and the kubelet's HTTP probe, which
reads the container's own files, answers 404, then 200 again. Upstream's
"confirm the count stays N for 10 seconds" becomes "once nothing is pending, the count is N" (a discrete
clock has nothing left to happen).

The tests of "Basic StatefulSet functionality" build their set as upstream does: a claim template mounted at
``/data/`` and a hostPath volume at ``/home``, new pods paused by an exec readiness probe (``test -f
/data/statefulset-continue``) until ``ResumeNextPod`` writes that file with ``dd`` through ``exec``.

Not ported, and why:

* "Should recreate evicted statefulset": needs the kubelet to reject a pod bound by ``nodeName`` whose host
  port is taken (admission ``NodePorts``), which the sandbox's kubelet does not do.
"""

from __future__ import annotations

import copy

from kubernetes import client

from ..conftest import PodEvents, wait_until
from .conftest import (PAUSE, POD_MOUNTS, STATEFUL_POD_MOUNTS, break_http_probe, break_pod_http_probe, check_hostname,
                       check_mount, confirm_stateful_pod_count, delete_stateful_pod_at_index, exec_in_stateful_pods,
                       new_statefulset, ordinal, pause_new_pods, pods_of, restart, restore_http_probe,
                       restore_pod_http_probe, resume_next_pod, saturate, set_http_probe, update_replicas,
                       update_statefulset_with_retries, wait_for_pod_not_ready, wait_for_pod_ready,
                       wait_for_rolling_update, wait_for_running, wait_for_running_and_not_ready,
                       wait_for_running_and_ready, wait_for_status, wait_for_status_ready_replicas)

LABELS = {"foo": "bar", "baz": "blah"}


def test_scaling_should_happen_in_predictable_order_and_halt_if_any_stateful_pod_is_unhealthy(
        sandbox, apps, core, headless):
    """[Conformance] Scaling should happen in predictable order and halt if any stateful pod is unhealthy [Slow]."""
    ss = set_http_probe(new_statefulset("ss", 1, LABELS))
    apps.create_namespaced_stateful_set("default", ss)
    wait_for_running_and_ready(core, 1, ss)
    # Confirming that stateful set scale up will halt with unhealthy stateful pod
    break_http_probe(core, ss)
    wait_for_running_and_not_ready(core, 1, ss)
    wait_for_status_ready_replicas(apps, ss, 0)
    update_replicas(apps, ss, 3)
    confirm_stateful_pod_count(sandbox, core, 1, ss)
    # Scaling up stateful set ss to 3 replicas and waiting until all of them will be running
    rec = PodEvents(core)
    restore_http_probe(core, ss)
    wait_for_running_and_ready(core, 3, ss)
    # Verifying that stateful set ss was scaled up in order
    rec.stop()
    assert rec.first("ADDED") == ["ss-1", "ss-2"]
    # Scale down will halt with unhealthy stateful pod
    break_http_probe(core, ss)
    wait_for_status_ready_replicas(apps, ss, 0)
    wait_for_running_and_not_ready(core, 3, ss)
    update_replicas(apps, ss, 0)
    confirm_stateful_pod_count(sandbox, core, 3, ss)
    # Scaling down stateful set ss to 0 replicas: in reverse order
    rec = PodEvents(core)
    restore_http_probe(core, ss)
    wait_until(apps.list_namespaced_stateful_set, lambda s: (s.status.replicas or 0) == 0, "default")
    rec.stop()
    assert [n for t, n, _, _ in rec.events if t == "DELETED"] == ["ss-2", "ss-1", "ss-0"]


def test_burst_scaling_should_run_to_completion_even_with_unhealthy_pods(sandbox, apps, core, headless):
    """[Conformance] Burst scaling should run to completion even with unhealthy pods [Slow]."""
    ss = set_http_probe(new_statefulset("ss", 1, LABELS))
    ss["spec"]["podManagementPolicy"] = "Parallel"
    apps.create_namespaced_stateful_set("default", ss)
    wait_for_running_and_ready(core, 1, ss)
    # Confirming that stateful set scale up will not halt with unhealthy stateful pod
    break_http_probe(core, ss)
    wait_for_running_and_not_ready(core, 1, ss)
    wait_for_status_ready_replicas(apps, ss, 0)
    update_replicas(apps, ss, 3)
    confirm_stateful_pod_count(sandbox, core, 3, ss)
    # Scaling up to 3 replicas and waiting until all of them will be running
    restore_http_probe(core, ss)
    wait_for_running_and_ready(core, 3, ss)
    # Scale down will not halt with unhealthy stateful pod
    break_http_probe(core, ss)
    wait_for_status_ready_replicas(apps, ss, 0)
    wait_for_running_and_not_ready(core, 3, ss)
    update_replicas(apps, ss, 0)
    confirm_stateful_pod_count(sandbox, core, 0, ss)
    wait_until(apps.list_namespaced_stateful_set, lambda s: (s.status.replicas or 0) == 0, "default")


def test_should_have_a_working_scale_subresource(apps, core, headless):
    """[Conformance] should have a working scale subresource."""
    ss = set_http_probe(new_statefulset("ss", 1, LABELS))
    apps.create_namespaced_stateful_set("default", ss)
    wait_for_running_and_ready(core, 1, ss)
    wait_until(apps.list_namespaced_stateful_set, lambda s: s.status.observed_generation == s.metadata.generation,
               "default")
    scale = apps.read_namespaced_stateful_set_scale("ss", "default")
    assert scale.spec.replicas == 1 and scale.status.replicas == 1
    scale.metadata.resource_version = ""  # an unconditional update
    scale.spec.replicas = 2
    result = apps.replace_namespaced_stateful_set_scale("ss", "default", scale)
    assert result.spec.replicas == 2
    assert apps.read_namespaced_stateful_set("ss", "default").spec.replicas == 2
    apps.patch_namespaced_stateful_set_scale("ss", "default", {"spec": {"replicas": 4}})
    assert apps.read_namespaced_stateful_set("ss", "default").spec.replicas == 4


def test_should_list_patch_and_delete_a_collection_of_statefulsets(apps, core, headless):
    """[Conformance] should list, patch and delete a collection of StatefulSets."""
    labels = {"name": "sample-pod", "pod": "httpd"}
    ss = set_http_probe(new_statefulset("test-ss", 1, labels))
    apps.create_namespaced_stateful_set("default", ss)
    wait_for_running_and_ready(core, 1, ss)
    apps.patch_namespaced_stateful_set("test-ss", "default", {
        "metadata": {"labels": {"test-ss": "patched"}},
        "spec": {"replicas": 2, "template": {"spec": {"TerminationGracePeriodSeconds": 1,
                                                      "containers": [{"name": "test-ss", "image": PAUSE}]}}}})
    got = apps.read_namespaced_stateful_set("test-ss", "default")
    assert got.spec.replicas == 2
    assert got.spec.template.spec.containers[0].image == PAUSE, "the patch merges a container named test-ss first"
    wait_for_running_and_ready(core, 2, ss)
    assert len(apps.list_stateful_set_for_all_namespaces(label_selector="test-ss=patched").items) == 1
    apps.delete_collection_namespaced_stateful_set("default", grace_period_seconds=1, label_selector="test-ss=patched")
    assert len(apps.list_stateful_set_for_all_namespaces(label_selector="test-ss=patched").items) == 0


def test_should_validate_statefulset_status_endpoints(apps, core, headless):
    """[Conformance] should validate Statefulset Status endpoints."""
    ss = set_http_probe(new_statefulset("ss", 1, LABELS))
    apps.create_namespaced_stateful_set("default", ss)
    wait_for_running_and_ready(core, 1, ss)
    apps.patch_namespaced_stateful_set("ss", "default", {"metadata": {"labels": {"e2e": "testing"}}})
    status = apps.read_namespaced_stateful_set_status("ss", "default")
    assert status.metadata.labels["e2e"] == "testing"
    status.status.conditions = [client.V1StatefulSetCondition(type="StatusUpdate", status="True", reason="E2E",
                                                              message="Set from e2e test")]
    updated = apps.replace_namespaced_stateful_set_status("ss", "default", status)
    assert [(c.type, c.reason) for c in updated.status.conditions or []] == [("StatusUpdate", "E2E")]
    patched = apps.patch_namespaced_stateful_set_status("ss", "default", {"status": {"conditions": [
        {"type": "StatusPatched", "status": "True"}]}})
    assert "StatusPatched" in [c.type for c in patched.status.conditions or []]


def test_should_adopt_matching_orphans_and_release_non_matching_pods(sandbox, apps, core, headless):
    """should adopt matching orphans and release non-matching pods."""
    ss = pause_new_pods(new_statefulset("ss", 1, LABELS, stateful_pod_mounts=STATEFUL_POD_MOUNTS,
                                        pod_mounts=POD_MOUNTS))
    created = apps.create_namespaced_stateful_set("default", ss)
    # Saturating stateful set ss
    saturate(core, ss)
    assert len(pods_of(core, ss)) == 1
    pod = pods_of(core, ss)[0]
    ref = next(r for r in pod.metadata.owner_references if r.controller)
    assert (ref.kind, ref.name, ref.uid) == ("StatefulSet", "ss", created.metadata.uid)
    # Orphaning one of the stateful set's pods
    core.patch_namespaced_pod(pod.metadata.name, "default", {"metadata": {"ownerReferences": None}})
    # Checking that the stateful set readopts the pod
    wait_until(core.list_namespaced_pod, lambda p: p.metadata.name == pod.metadata.name and any(
        r.controller and r.uid == created.metadata.uid for r in p.metadata.owner_references or []), "default")
    # Removing the labels from one of the stateful set's pods
    prev = dict(pod.metadata.labels)
    core.replace_namespaced_pod(pod.metadata.name, "default", _without_labels(core, pod.metadata.name))
    # Checking that the stateful set releases the pod
    wait_until(core.list_namespaced_pod, lambda p: p.metadata.name == pod.metadata.name and not any(
        r.controller for r in p.metadata.owner_references or []), "default")
    # Readding labels to the stateful set's pod
    core.patch_namespaced_pod(pod.metadata.name, "default", {"metadata": {"labels": prev}})
    wait_until(core.list_namespaced_pod, lambda p: p.metadata.name == pod.metadata.name and any(
        r.controller and r.uid == created.metadata.uid for r in p.metadata.owner_references or []), "default")


def _without_labels(core, name: str):
    pod = core.read_namespaced_pod(name, "default")
    pod.metadata.labels = None
    return pod


def test_should_perform_canary_updates_and_phased_rolling_updates_of_template_modifications(apps, core, headless):
    """[Conformance] should perform canary updates and phased rolling updates of template modifications."""
    ss = new_statefulset("ss2", 3, LABELS)
    ss["spec"]["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {"partition": 3}}
    apps.create_namespaced_stateful_set("default", ss)
    wait_for_running_and_ready(core, 3, ss)
    first = wait_until(apps.list_namespaced_stateful_set, lambda s: s.status.current_revision is not None,
                       "default").status.current_revision
    new_image = "registry.k8s.io/e2e-test-images/httpd:2.4.39-4"
    # Updating stateful set template: a partition over the replicas updates nothing
    apps.patch_namespaced_stateful_set("ss2", "default", {"spec": {"template": {"spec": {"containers": [
        {"name": "webserver", "image": new_image}]}}}})
    sts = wait_until(apps.list_namespaced_stateful_set, lambda s: s.status.update_revision != first, "default")
    update = sts.status.update_revision
    assert all(p.metadata.labels["controller-revision-hash"] == first for p in pods_of(core, ss))
    # Performing a canary update: partition 2 updates ss2-2 only
    apps.patch_namespaced_stateful_set("ss2", "default", {"spec": {"updateStrategy": {
        "type": "RollingUpdate", "rollingUpdate": {"partition": 2}}}})
    wait_until(core.list_namespaced_pod, lambda p: p.metadata.name == "ss2-2" and
               p.metadata.labels.get("controller-revision-hash") == update and
               p.status.phase == "Running" and any(c.type == "Ready" and c.status == "True"
                                                   for c in p.status.conditions or []), "default")
    revs = [p.metadata.labels["controller-revision-hash"] for p in pods_of(core, ss)]
    assert revs == [first, first, update]
    # Restoring pods to the correct revision when they are deleted
    core.delete_namespaced_pod("ss2-0", "default")
    core.delete_namespaced_pod("ss2-2", "default")
    wait_for_running_and_ready(core, 3, ss)
    assert [p.metadata.labels["controller-revision-hash"] for p in pods_of(core, ss)] == [first, first, update]
    # Performing a phased rolling update: partition 1, then 0
    for partition in (1, 0):
        apps.patch_namespaced_stateful_set("ss2", "default", {"spec": {"updateStrategy": {
            "type": "RollingUpdate", "rollingUpdate": {"partition": partition}}}})
        wait_until(apps.list_namespaced_stateful_set, lambda s: (s.status.updated_replicas or 0) == 3 - partition and
                   (s.status.ready_replicas or 0) == 3, "default")
    sts = wait_until(apps.list_namespaced_stateful_set, lambda s: s.status.current_revision == update, "default")
    assert [p.spec.containers[0].image for p in pods_of(core, ss)] == [new_image] * 3
    assert sts.status.current_revision == sts.status.update_revision == update


def test_should_implement_legacy_replacement_when_the_update_strategy_is_on_delete(apps, core, headless):
    """[Conformance] should implement legacy replacement when the update strategy is OnDelete."""
    ss = new_statefulset("ss2", 3, LABELS)
    ss["spec"]["updateStrategy"] = {"type": "OnDelete"}
    apps.create_namespaced_stateful_set("default", ss)
    wait_for_running_and_ready(core, 3, ss)
    first = apps.read_namespaced_stateful_set("ss2", "default").status.current_revision
    # Restoring pods to the current revision: deleted pods come back at it
    for p in pods_of(core, ss):
        core.delete_namespaced_pod(p.metadata.name, "default")
    wait_for_running_and_ready(core, 3, ss)
    assert {p.metadata.labels["controller-revision-hash"] for p in pods_of(core, ss)} == {first}
    new_image = "registry.k8s.io/e2e-test-images/httpd:2.4.39-4"
    apps.patch_namespaced_stateful_set("ss2", "default", {"spec": {"template": {"spec": {"containers": [
        {"name": "webserver", "image": new_image}]}}}})
    update = wait_until(apps.list_namespaced_stateful_set, lambda s: s.status.update_revision != first,
                        "default").status.update_revision
    assert {p.metadata.labels["controller-revision-hash"] for p in pods_of(core, ss)} == {first}, "nothing moves"
    # Recreating pods at the new revision
    for p in pods_of(core, ss):
        core.delete_namespaced_pod(p.metadata.name, "default")
    wait_until(core.list_namespaced_pod, lambda _: [x.metadata.labels.get("controller-revision-hash")
                                                    for x in pods_of(core, ss)] == [update] * 3 and
               all(x.status.phase == "Running" for x in pods_of(core, ss)), "default")
    assert [p.spec.containers[0].image for p in pods_of(core, ss)] == [new_image] * 3


def test_min_ready_seconds_should_be_honored_when_enabled(apps, core, headless):
    """MinReadySeconds should be honored when enabled."""
    ss = copy.deepcopy(new_statefulset("test-ss", 1, LABELS))
    ss["spec"]["minReadySeconds"] = 30
    apps.create_namespaced_stateful_set("default", ss)
    ready = wait_until(apps.list_namespaced_stateful_set, lambda s: (s.status.ready_replicas or 0) == 1, "default")
    assert (ready.status.available_replicas or 0) == 0, "ready, not yet available"
    wait_until(apps.list_namespaced_stateful_set, lambda s: (s.status.available_replicas or 0) == 1, "default")


def test_available_replicas_should_get_updated_accordingly_when_min_ready_seconds_is_enabled(apps, core, headless):
    """AvailableReplicas should get updated accordingly when MinReadySeconds is enabled."""
    ss = new_statefulset("test-ss", 2, LABELS)
    ss["spec"]["minReadySeconds"] = 30
    apps.create_namespaced_stateful_set("default", ss)
    wait_until(apps.list_namespaced_stateful_set, lambda s: (s.status.available_replicas or 0) == 2, "default")
    apps.patch_namespaced_stateful_set("test-ss", "default", {"spec": {"minReadySeconds": 3600}})
    wait_until(apps.list_namespaced_stateful_set, lambda s: s.status.observed_generation == s.metadata.generation
               and (s.status.available_replicas or 0) == 0, "default")
    apps.patch_namespaced_stateful_set("test-ss", "default", {"spec": {"minReadySeconds": 0}})
    wait_until(apps.list_namespaced_stateful_set, lambda s: (s.status.available_replicas or 0) == 2, "default")


# ---------------------------------------------------------------------- the exec-based tests
NEW_WEBSERVER_IMAGE = "registry.k8s.io/e2e-test-images/httpd:2.4.39-4"
REVISION = "controller-revision-hash"  # appsv1.StatefulSetRevisionLabel


def test_should_provide_basic_identity(sandbox, apps, core, headless):
    """should provide basic identity."""
    ss = new_statefulset("ss", 3, LABELS, stateful_pod_mounts=STATEFUL_POD_MOUNTS, pod_mounts=POD_MOUNTS)
    ss = pause_new_pods(ss)
    apps.create_namespaced_stateful_set("default", ss)
    # Saturating stateful set ss
    saturate(core, ss)
    # Verifying statefulset mounted data directory is usable
    check_mount(core, ss, "/data")
    # Verifying statefulset provides a stable hostname for each pod
    check_hostname(core, ss)
    # Verifying statefulset set proper service name
    assert apps.read_namespaced_stateful_set("ss", "default").spec.service_name == "test"
    exec_in_stateful_pods(core, ss, "echo $(hostname) | dd of=/data/hostname conv=fsync")
    exec_in_stateful_pods(core, ss, "ln -s /data/hostname /data/hostname-symlink")
    # Restarting statefulset ss
    uids = {p.metadata.name: p.metadata.uid for p in pods_of(core, ss)}
    restart(apps, core, ss)
    wait_for_running_and_ready(core, 3, ss)
    assert not set(uids.values()) & {p.metadata.uid for p in pods_of(core, ss)}, "new pods, the same claims"
    # Verifying statefulset mounted data directory is usable
    check_mount(core, ss, "/data")
    exec_in_stateful_pods(core, ss, 'if [ "$(cat /data/hostname)" = "$(hostname)" ]; then exit 0; else exit 1; fi')
    exec_in_stateful_pods(core, ss,
                          'if [ "$(cat /data/hostname-symlink)" = "$(hostname)" ]; then exit 0; else exit 1; fi')


def test_should_not_deadlock_when_a_pods_predecessor_fails(apps, core, headless):
    """should not deadlock when a pod's predecessor fails."""
    ss = new_statefulset("ss", 2, LABELS, stateful_pod_mounts=STATEFUL_POD_MOUNTS, pod_mounts=POD_MOUNTS)
    ss = pause_new_pods(ss)
    apps.create_namespaced_stateful_set("default", ss)
    wait_for_running(core, 1, 0, ss)
    # Resuming stateful pod at index 0.
    resume_next_pod(core, ss)
    # Waiting for stateful pod at index 1 to enter running.
    wait_for_running(core, 2, 1, ss)
    # Deleting healthy stateful pod at index 0.
    old = core.read_namespaced_pod("ss-0", "default").metadata.uid
    delete_stateful_pod_at_index(core, 0, ss)
    # Confirming stateful pod at index 0 is recreated (ready: its claim keeps the file that resumed it).
    wait_for_running(core, 2, 1, ss)
    assert core.read_namespaced_pod("ss-0", "default").metadata.uid != old
    # Resuming stateful pod at index 1.
    resume_next_pod(core, ss)
    # Confirming all stateful pods in statefulset are created.
    wait_for_running_and_ready(core, 2, ss)


def _rollback_test(apps, core, ss: dict) -> None:
    """``rollbackTest``: a rolling update and a roll back, each held up by an unready pod until it is restored."""
    ss = set_http_probe(ss)
    name = ss["metadata"]["name"]
    apps.create_namespaced_stateful_set("default", ss)
    replicas = ss["spec"]["replicas"]
    wait_for_running_and_ready(core, replicas, ss)
    sts = wait_for_status(apps, core, ss)
    current, update = sts.status.current_revision, sts.status.update_revision
    assert current == update, f"StatefulSet default/{name} created with update revision {update} not equal to " \
                              f"current revision {current}"
    pods = sorted(pods_of(core, ss), key=ordinal)
    for p in pods:
        assert p.metadata.labels[REVISION] == current
    break_pod_http_probe(core, pods[1].metadata.name)
    wait_for_pod_not_ready(apps, core, ss, pods[1].metadata.name)
    new_image, old_image = NEW_WEBSERVER_IMAGE, ss["spec"]["template"]["spec"]["containers"][0]["image"]
    # Updating StatefulSet template: update image from old_image to new_image
    assert old_image != new_image, "Incorrect test setup: should update to a different image"
    update_statefulset_with_retries(apps, ss, lambda s: setattr(s.spec.template.spec.containers[0], "image",
                                                                new_image))
    # Creating a new revision
    sts = wait_for_status(apps, core, ss)
    current, update = sts.status.current_revision, sts.status.update_revision
    assert current != update, "Current revision should not equal update revision during rolling update"
    # Updating Pods in reverse ordinal order
    pods = sorted(pods_of(core, ss), key=ordinal)
    restore_pod_http_probe(core, pods[1].metadata.name)
    wait_for_pod_ready(apps, core, ss, pods[1].metadata.name)
    sts, pods = wait_for_rolling_update(apps, core, ss)
    assert sts.status.current_revision == update
    for p in pods:
        assert p.spec.containers[0].image == new_image
        assert p.metadata.labels[REVISION] == update
    # Rolling back to a previous revision
    break_pod_http_probe(core, pods[1].metadata.name)
    wait_for_pod_not_ready(apps, core, ss, pods[1].metadata.name)
    prior = current
    update_statefulset_with_retries(apps, ss, lambda s: setattr(s.spec.template.spec.containers[0], "image",
                                                                old_image))
    sts = wait_for_status(apps, core, ss)
    current, update = sts.status.current_revision, sts.status.update_revision
    assert prior == update, "Prior revision should equal update revision during roll back"
    assert current != update, "Current revision should not equal update revision during roll back"
    # Rolling back update in reverse ordinal order
    pods = sorted(pods_of(core, ss), key=ordinal)
    restore_pod_http_probe(core, pods[1].metadata.name)
    wait_for_pod_ready(apps, core, ss, pods[1].metadata.name)
    sts, pods = wait_for_rolling_update(apps, core, ss)
    assert sts.status.current_revision == prior
    for p in pods:
        assert p.spec.containers[0].image == old_image
        assert p.metadata.labels[REVISION] == prior


def test_should_perform_rolling_updates_and_roll_backs_of_template_modifications(apps, core, headless):
    """[Conformance] should perform rolling updates and roll backs of template modifications."""
    _rollback_test(apps, core, new_statefulset("ss2", 3, LABELS))


def test_should_perform_rolling_updates_and_roll_backs_of_template_modifications_with_pvcs(apps, core, headless):
    """should perform rolling updates and roll backs of template modifications with PVCs."""
    _rollback_test(apps, core, new_statefulset("ss", 3, LABELS, stateful_pod_mounts=STATEFUL_POD_MOUNTS,
                                               pod_mounts=POD_MOUNTS))
