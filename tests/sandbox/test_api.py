"""The sandbox's REST API: wire format, errors with the API server's texts, watches, concurrency."""

from __future__ import annotations

import copy
import json
import threading
import time
import urllib.request

import pytest
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException

from stsnb.sandbox.apiserver.handler import Request

from ..unit.test_protobuf import DEPLOYMENT_HEX, HEADLESS_HEX
from .conftest import GUIDE_STS, sts_settled, wait_until


def raw(sandbox, method: str, path: str, body: bytes | None = None, ctype: str = "application/json"):
    """A plain HTTP request, for what the typed client cannot send (garbage bodies, odd paths)."""
    req = urllib.request.Request(sandbox.url + path, data=body, method=method,
                                 headers={"Content-Type": ctype, "Authorization": f"Bearer {sandbox.token}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def status_of(exc: ApiException) -> dict:
    return json.loads(exc.body)


def test_version_and_discovery_describe_the_imitated_cluster(api, sandbox):
    assert client.VersionApi(api).get_code().git_version.startswith("v1.27")
    groups = {g.name for g in client.ApisApi(api).get_api_versions().groups}
    assert {"apps", "storage.k8s.io", "discovery.k8s.io"} <= groups
    res = {r.name: r for r in client.AppsV1Api(api).get_api_resources().resources}
    assert res["statefulsets"].short_names == ["sts"] and "statefulsets/scale" in res


def test_a_kubeconfig_written_by_the_sandbox_works_with_load_kube_config(sandbox, tmp_path):
    path = sandbox.write_kubeconfig(tmp_path / "config")
    api = config.new_client_from_config(config_file=str(path), context="stsnb-sandbox")
    assert [n.metadata.name for n in client.CoreV1Api(api).list_node().items] == ["k8s-master", "k8s-worker1", "k8s-worker2"]


def test_the_cluster_starts_with_kubeadm_like_services(core):
    dns = core.read_namespaced_service("kube-dns", "kube-system")
    assert dns.spec.cluster_ip == "10.96.0.10"
    assert core.read_namespaced_service("kubernetes", "default").spec.cluster_ip == "10.96.0.1"


def test_negative_replicas_are_rejected_with_the_api_server_text(apps):
    body = copy.deepcopy(GUIDE_STS)
    body["spec"]["replicas"] = -1
    with pytest.raises(ApiException) as e:
        apps.create_namespaced_stateful_set("default", body)
    st = status_of(e.value)
    assert e.value.status == 422 and st["reason"] == "Invalid"
    assert st["message"] == ('StatefulSet.apps "nginx-stateful" is invalid: spec.replicas: '
                             'Invalid value: -1: must be greater than or equal to 0')
    assert st["details"]["causes"][0]["field"] == "spec.replicas"
    assert apps.list_namespaced_stateful_set("default").items == []  # nothing half-written


def test_a_selector_that_does_not_match_the_template_labels_is_invalid(apps):
    body = copy.deepcopy(GUIDE_STS)
    body["spec"]["selector"]["matchLabels"] = {"app": "other"}
    with pytest.raises(ApiException) as e:
        apps.create_namespaced_stateful_set("default", body)
    assert status_of(e.value)["message"] == (
        'StatefulSet.apps "nginx-stateful" is invalid: spec.template.metadata.labels: Invalid value: '
        'map[string]string{"app":"nginx-stateful"}: `selector` does not match template `labels`')


def test_a_bad_name_gets_the_rfc_1123_message(apps):
    body = copy.deepcopy(GUIDE_STS)
    body["metadata"]["name"] = "Nginx_Stateful"
    with pytest.raises(ApiException) as e:
        apps.create_namespaced_stateful_set("default", body)
    msg = status_of(e.value)["message"]
    assert msg.startswith('StatefulSet.apps "Nginx_Stateful" is invalid: metadata.name: Invalid value: '
                          '"Nginx_Stateful": a lowercase RFC 1123 subdomain must consist of')


def test_changing_an_immutable_field_is_forbidden_with_the_version_specific_list(apps):
    apps.create_namespaced_stateful_set("default", GUIDE_STS)
    with pytest.raises(ApiException) as e:
        apps.patch_namespaced_stateful_set("nginx-stateful", "default", {"spec": {"serviceName": "nginx-stateful"}})
    assert status_of(e.value)["message"] == (
        'StatefulSet.apps "nginx-stateful" is invalid: spec: Forbidden: updates to statefulset spec for fields '
        "other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' "
        "and 'minReadySeconds' are forbidden")


def test_creating_an_existing_object_gives_409_already_exists(apps):
    apps.create_namespaced_stateful_set("default", GUIDE_STS)
    with pytest.raises(ApiException) as e:
        apps.create_namespaced_stateful_set("default", GUIDE_STS)
    assert e.value.status == 409
    assert status_of(e.value)["message"] == 'statefulsets.apps "nginx-stateful" already exists'


def test_an_update_with_a_stale_resource_version_gets_409_conflict(apps):
    sts = apps.create_namespaced_stateful_set("default", GUIDE_STS)
    apps.patch_namespaced_stateful_set("nginx-stateful", "default", {"metadata": {"labels": {"x": "1"}}})
    sts.spec.replicas = 5
    with pytest.raises(ApiException) as e:
        apps.replace_namespaced_stateful_set("nginx-stateful", "default", sts)
    assert e.value.status == 409
    assert status_of(e.value)["message"] == (
        'Operation cannot be fulfilled on statefulsets.apps "nginx-stateful": the object has been modified; '
        "please apply your changes to the latest version and try again")


def test_generation_moves_on_spec_changes_only(apps):
    apps.create_namespaced_stateful_set("default", GUIDE_STS)
    after_label = apps.patch_namespaced_stateful_set("nginx-stateful", "default", {"metadata": {"labels": {"x": "1"}}})
    assert after_label.metadata.generation == 1
    after_scale = apps.patch_namespaced_stateful_set_scale("nginx-stateful", "default", {"spec": {"replicas": 2}})
    assert after_scale.spec.replicas == 2
    assert apps.read_namespaced_stateful_set("nginx-stateful", "default").metadata.generation == 2


def test_json_patch_and_merge_patch_are_applied(apps, api):
    apps.create_namespaced_stateful_set("default", GUIDE_STS)
    api.set_default_header("Content-Type", "application/json-patch+json")
    out = apps.patch_namespaced_stateful_set("nginx-stateful", "default",
                                             [{"op": "replace", "path": "/spec/replicas", "value": 1}])
    assert out.spec.replicas == 1


def test_scaling_to_negative_replicas_names_the_value(apps):
    apps.create_namespaced_stateful_set("default", GUIDE_STS)
    with pytest.raises(ApiException) as e:
        apps.patch_namespaced_stateful_set_scale("nginx-stateful", "default", {"spec": {"replicas": -3}})
    assert "Invalid value: -3: must be greater than or equal to 0" in status_of(e.value)["message"]


def test_an_unknown_resource_gets_a_404_status_and_the_server_keeps_serving(sandbox, apps):
    code, body = raw(sandbox, "GET", "/apis/apps/v1/namespaces/default/widgets")
    assert code == 404 and body["kind"] == "Status" and body["reason"] == "NotFound"
    assert apps.list_namespaced_stateful_set("default").items == []


def test_a_missing_object_gets_the_not_found_text(apps):
    with pytest.raises(ApiException) as e:
        apps.read_namespaced_stateful_set("nope", "default")
    assert status_of(e.value)["message"] == 'statefulsets.apps "nope" not found'


def test_a_garbage_body_gets_400_and_nothing_is_written(sandbox, apps):
    code, body = raw(sandbox, "POST", "/apis/apps/v1/namespaces/default/statefulsets", b"{not json")
    assert code == 400 and body["kind"] == "Status"
    code, body = raw(sandbox, "POST", "/apis/apps/v1/namespaces/default/statefulsets", b'["a list"]')
    assert code == 400
    assert apps.list_namespaced_stateful_set("default").items == []


def test_a_wrong_kind_for_the_endpoint_is_a_bad_request(sandbox):
    body = json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}}).encode()
    code, st = raw(sandbox, "POST", "/apis/apps/v1/namespaces/default/statefulsets", body)
    assert code == 400 and "does not match the expected" in st["message"]


def test_creating_in_a_missing_namespace_says_which_namespace(apps):
    with pytest.raises(ApiException) as e:
        apps.create_namespaced_stateful_set("nowhere", GUIDE_STS)
    assert e.value.status == 404 and status_of(e.value)["message"] == 'namespaces "nowhere" not found'


def test_label_and_field_selectors_filter_lists(apps, core):
    apps.create_namespaced_stateful_set("default", GUIDE_STS)
    wait_until(apps.list_namespaced_stateful_set, sts_settled(3), "default")
    assert len(core.list_namespaced_pod("default", label_selector="app=nginx-stateful").items) == 3
    assert len(core.list_namespaced_pod("default", label_selector="app in (nginx-stateful),"
                                        "statefulset.kubernetes.io/pod-name!=nginx-stateful-0").items) == 2
    names = [p.metadata.name for p in core.list_namespaced_pod("default", field_selector="metadata.name=nginx-stateful-1").items]
    assert names == ["nginx-stateful-1"]
    with pytest.raises(ApiException) as e:
        core.list_namespaced_pod("default", field_selector="spec.bogus=1")
    assert e.value.status == 400


def test_a_watch_from_a_resource_version_sees_every_change_in_order(apps):
    rv = apps.list_namespaced_stateful_set("default").metadata.resource_version
    apps.create_namespaced_stateful_set("default", GUIDE_STS)
    for n in (1, 2, 3):
        apps.patch_namespaced_stateful_set("nginx-stateful", "default", {"metadata": {"labels": {"step": str(n)}}})
    apps.delete_namespaced_stateful_set("nginx-stateful", "default")
    seen = []
    w = watch.Watch()
    for ev in w.stream(apps.list_namespaced_stateful_set, "default", resource_version=rv, timeout_seconds=5):
        seen.append((ev["type"], (ev["object"].metadata.labels or {}).get("step")))
        if ev["type"] == "DELETED":
            w.stop()
    steps = [s for t, s in seen if t == "MODIFIED" and s]
    assert seen[0][0] == "ADDED" and seen[-1][0] == "DELETED"
    assert [s for i, s in enumerate(steps) if i == 0 or s != steps[i - 1]] == ["1", "2", "3"]


def test_a_watch_ends_after_timeout_seconds(apps):
    t0 = time.monotonic()
    events = list(watch.Watch().stream(apps.list_namespaced_stateful_set, "default", timeout_seconds=1))
    assert events == [] and time.monotonic() - t0 < 5


def test_a_watch_from_a_compacted_resource_version_gets_410(sandbox):
    from stsnb.sandbox.core.store import Store
    store = Store(history=2)
    for i in range(5):
        store.create("namespaces", {"metadata": {"name": f"n{i}"}})
    from stsnb.sandbox.core import errors
    with pytest.raises(errors.ApiError) as e:
        store.watch("namespaces", None, lambda o: True, "2")
    assert e.value.code == 410


def test_orphan_deletion_keeps_the_pods_and_drops_their_owner_reference(apps, core):
    apps.create_namespaced_stateful_set("default", GUIDE_STS)
    wait_until(apps.list_namespaced_stateful_set, sts_settled(3), "default")
    apps.delete_namespaced_stateful_set("nginx-stateful", "default", propagation_policy="Orphan")
    pods = core.list_namespaced_pod("default", label_selector="app=nginx-stateful").items
    assert len(pods) == 3 and all(not p.metadata.owner_references for p in pods)


def test_concurrent_clients_are_served_without_errors(sandbox, apps):
    apps.create_namespaced_stateful_set("default", GUIDE_STS)
    failures = []

    def reader() -> None:
        try:
            api = client.AppsV1Api(sandbox.api_client())
            for _ in range(30):
                api.read_namespaced_stateful_set("nginx-stateful", "default")
        except Exception as e:  # collected and asserted below
            failures.append(e)

    threads = [threading.Thread(target=reader) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_logs_of_a_pod_that_is_not_running_yet_say_it_is_waiting(core):
    core.create_namespaced_pod("default", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "early"},
                                           "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
    with pytest.raises(ApiException) as e:
        core.read_namespaced_pod_log("early", "default")
    assert e.value.status == 400
    assert status_of(e.value)["message"] == 'container "c" in pod "early" is waiting to start: ContainerCreating'


def test_exec_is_refused_with_a_clear_message(sandbox):
    code, st = raw(sandbox, "POST", "/api/v1/namespaces/default/pods/x/exec")
    assert code == 404 and st["message"] == 'pods "x" not found'  # exec is served (tests/sandbox/test_exec.py)


def test_a_seed_makes_uids_ips_and_cluster_ips_reproducible():
    from stsnb.sandbox import Sandbox

    def run() -> tuple:
        with Sandbox(dns_port=None, seed=3) as sb:
            apps, core = client.AppsV1Api(sb.api_client()), client.CoreV1Api(sb.api_client())
            body = copy.deepcopy(GUIDE_STS)
            body["spec"]["replicas"] = 1
            apps.create_namespaced_stateful_set("default", body)
            wait_until(apps.list_namespaced_stateful_set, sts_settled(1), "default")
            pod = core.read_namespaced_pod("nginx-stateful-0", "default")
            svc = core.create_namespaced_service("default", {"metadata": {"name": "s"}, "spec": {
                "selector": {"app": "x"}, "ports": [{"port": 80}]}})
            return pod.metadata.uid, pod.status.pod_ip, svc.spec.cluster_ip

    assert run() == run()


def test_the_api_creates_a_service_from_kubectls_protobuf_and_answers_json(new_sandbox):
    sb = new_sandbox(seed=1)
    resp = sb.api.handle(Request("POST", "/api/v1/namespaces/default/services?fieldManager=kubectl-create&"
                                 "fieldValidation=Strict",
                                 {"content-type": "application/vnd.kubernetes.protobuf",
                                  "accept": "application/vnd.kubernetes.protobuf,application/json"},
                                 bytes.fromhex(HEADLESS_HEX)))
    assert resp.status == 201 and resp.content_type == "application/json"
    svc = json.loads(resp.body)
    assert svc["metadata"]["name"] == "nginx-stateful"
    assert (svc["spec"]["clusterIP"], svc["spec"]["clusterIPs"], svc["spec"]["sessionAffinity"]) == \
        ("None", ["None"], "None")
    deploy = sb.api.handle(Request("POST", "/apis/apps/v1/namespaces/default/deployments",
                                   {"content-type": "application/vnd.kubernetes.protobuf"},
                                   bytes.fromhex(DEPLOYMENT_HEX)))
    assert deploy.status == 201
    created = json.loads(deploy.body)
    assert created["spec"]["replicas"] == 3
    assert created["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx"


def test_the_api_server_stores_a_pods_requests_canonically(core):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "q"},
           "spec": {"containers": [{"name": "c", "image": "nginx", "resources": {
               "requests": {"cpu": "0.5", "memory": "1.5Gi"}, "limits": {"cpu": "1.0", "memory": "2048Mi"}}}]}}
    core.create_namespaced_pod("default", pod)
    stored = core.read_namespaced_pod("q", "default").spec.containers[0].resources
    assert stored.requests == {"cpu": "500m", "memory": "1536Mi"} and stored.limits == {"cpu": "1", "memory": "2Gi"}
