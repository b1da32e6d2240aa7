"""Small mismatches with a real API server, each pinned to the upstream behaviour it follows (issue J point 8).

Exact bodies are compared with what kube-apiserver writes: Go's ``encoding/json`` encoder over
``metav1.Status`` (keys in struct order: kind, apiVersion, metadata, status, message, reason,
details, code) followed by a newline, e.g. the body a real 1.2x server answers to a duplicate
namespace::

    {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"namespaces \\"foo\\" already exists","reason":"AlreadyExists","details":{"name":"foo","kind":"namespaces"},"code":409}
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from .conftest import GUIDE_STS, sts_settled, wait_until


def body_of(sb, method: str, path: str, body: bytes | None = None, ctype: str = "application/json",
            accept: str = "application/json") -> tuple[int, dict, bytes]:
    req = urllib.request.Request(sb.url + path, data=body, method=method, headers={
        "Content-Type": ctype, "Accept": accept, "Authorization": f"Bearer {sb.token}"})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_an_existing_namespace_gets_the_exact_conflict_body_a_real_server_writes(sandbox):
    code, _, body = body_of(sandbox, "POST", "/api/v1/namespaces", json.dumps({"metadata": {"name": "foo"}}).encode())
    assert code == 201
    code, _, body = body_of(sandbox, "POST", "/api/v1/namespaces", json.dumps({"metadata": {"name": "foo"}}).encode())
    assert code == 409
    assert body == (b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"namespaces '
                    b'\\"foo\\" already exists","reason":"AlreadyExists","details":{"name":"foo","kind":"namespaces"},'
                    b'"code":409}\n')


def test_the_generic_not_found_has_empty_details_that_kubectl_debug_reads(sandbox):
    # apimachinery errors.NewGenericServerResponse(404, …): Details is a non-nil empty struct
    code, _, body = body_of(sandbox, "GET", "/apis/example.com/v1/widgets")
    assert code == 404
    assert body == (b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could '
                    b'not find the requested resource","reason":"NotFound","details":{},"code":404}\n')


def test_every_json_answer_ends_with_a_newline_as_gos_encoder_writes_it(sandbox):
    for path in ("/api/v1/namespaces/default", "/api/v1/namespaces", "/version", "/apis"):
        assert body_of(sandbox, "GET", path)[2].endswith(b"}\n"), path


def test_events_of_a_statefulset_are_selected_by_involved_object_api_version(sandbox, apps, core):
    # pkg/registry/core/event/strategy.go ToSelectableFields: what `kubectl events --for sts/NAME` sends
    apps.create_namespaced_stateful_set("default", GUIDE_STS)
    wait_until(apps.list_namespaced_stateful_set, sts_settled(3), "default")
    selector = ("involvedObject.kind=StatefulSet,involvedObject.name=nginx-stateful,"
                "involvedObject.namespace=default,involvedObject.apiVersion=apps/v1")
    events = core.list_namespaced_event("default", field_selector=selector).items
    assert events and {e.reason for e in events} >= {"SuccessfulCreate"}
    assert all(e.involved_object.kind == "StatefulSet" for e in events)


def test_event_names_are_the_object_name_and_hex_unix_nanoseconds_so_they_sort_in_time_order(sandbox, apps, core):
    # client-go tools/record/event.go makeEvent: fmt.Sprintf("%v.%x", ref.Name, t.UnixNano())
    apps.create_namespaced_stateful_set("default", GUIDE_STS)
    wait_until(apps.list_namespaced_stateful_set, sts_settled(3), "default")
    events = [e for e in core.list_namespaced_event("default").items
              if e.involved_object.name == "nginx-stateful"]
    assert len(events) >= 3
    for e in events:
        name, _, nanos = e.metadata.name.rpartition(".")
        assert name == "nginx-stateful" and re.fullmatch(r"[0-9a-f]+", nanos)
        assert abs(int(nanos, 16) / 1e9 - e.first_timestamp.timestamp()) < 1.0
    by_name = sorted(events, key=lambda e: e.metadata.name)
    assert [e.message for e in by_name] == [e.message for e in sorted(events, key=lambda e: int(
        e.metadata.name.rpartition(".")[2], 16))]


def test_an_unknown_field_comes_back_as_a_warning_header_as_field_validation_warn_does(sandbox):
    obj = {"metadata": {"name": "warned"}, "data": {"a": "b"}, "spec": {"foo": 1}}
    code, headers, _ = body_of(sandbox, "POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Warn",
                               json.dumps(obj).encode())
    assert code == 201
    assert headers["Warning"] == '299 - "unknown field \\"spec\\""'


def test_field_validation_ignore_sends_no_warning_and_strict_refuses(sandbox):
    obj = json.dumps({"metadata": {"name": "x"}, "bogus": 1}).encode()
    code, headers, _ = body_of(sandbox, "POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Ignore", obj)
    assert code == 201 and "Warning" not in headers
    code, _, body = body_of(sandbox, "POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict",
                            json.dumps({"metadata": {"name": "y"}, "bogus": 1}).encode())
    assert code == 400 and 'strict decoding error: unknown field "bogus"' in json.loads(body)["message"]


@pytest.mark.parametrize("endpoint", ["readyz", "livez", "healthz"])
def test_a_verbose_health_check_lists_each_check_then_says_it_passed(sandbox, endpoint):
    # apiserver pkg/server/healthz/healthz.go handleRootHealth
    code, _, body = body_of(sandbox, "GET", f"/{endpoint}?verbose")
    lines = body.decode().splitlines()
    assert code == 200 and lines[0] == "[+]ping ok" and lines[-1] == f"{endpoint} check passed"
    assert "[+]etcd ok" in lines and all(line.startswith("[+]") for line in lines[:-1])
    assert body_of(sandbox, "GET", f"/{endpoint}")[2] == b"ok"


def test_a_self_subject_access_review_answers_allowed(sandbox):
    review = client.AuthorizationV1Api(sandbox.api_client()).create_self_subject_access_review(
        {"spec": {"resourceAttributes": {"verb": "create", "resource": "pods", "namespace": "default"}}})
    assert review.status.allowed is True


def test_an_eviction_deletes_the_pod_unless_a_budget_forbids_it(sandbox, apps, core):
    apps.create_namespaced_stateful_set("default", GUIDE_STS)
    wait_until(apps.list_namespaced_stateful_set, sts_settled(3), "default")
    policy = client.PolicyV1Api(sandbox.api_client())
    policy.create_namespaced_pod_disruption_budget("default", {
        "metadata": {"name": "budget"},
        "spec": {"minAvailable": 3, "selector": {"matchLabels": {"app": "nginx-stateful"}}}})
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "nginx-stateful-1"}}
    with pytest.raises(ApiException) as e:
        core.create_namespaced_pod_eviction("nginx-stateful-1", "default", eviction)
    status = json.loads(e.value.body)
    # pkg/registry/core/pod/storage/eviction.go: a budget not yet processed by the disruption controller
    assert e.value.status == 429 and status["message"] == (
        "Cannot evict pod as it would violate the pod's disruption budget.")
    assert status["details"]["causes"][0]["reason"] == "DisruptionBudget"
    policy.delete_namespaced_pod_disruption_budget("budget", "default")
    out = core.create_namespaced_pod_eviction("nginx-stateful-1", "default", eviction)
    assert out is not None
    assert core.read_namespaced_pod("nginx-stateful-1", "default").metadata.deletion_timestamp is not None


def test_an_hpa_written_as_autoscaling_v1_reads_back_as_v2_and_as_v1(sandbox):
    v1 = client.AutoscalingV1Api(sandbox.api_client())
    v1.create_namespaced_horizontal_pod_autoscaler("default", {
        "metadata": {"name": "web"}, "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                                                  "name": "web"},
                                              "maxReplicas": 4, "targetCPUUtilizationPercentage": 60}})
    v2 = client.AutoscalingV2Api(sandbox.api_client()).read_namespaced_horizontal_pod_autoscaler("web", "default")
    assert v2.spec.min_replicas == 1
    assert v2.spec.metrics[0].resource.target.average_utilization == 60
    again = v1.read_namespaced_horizontal_pod_autoscaler("web", "default")
    assert again.spec.target_cpu_utilization_percentage == 60 and again.spec.max_replicas == 4


def test_secret_string_data_is_stored_as_base64_data_and_kinds_without_a_spec_get_none(sandbox, core):
    # Convert_v1_Secret_To_core_Secret: stringData is written over data; the stored Secret has no stringData
    core.create_namespaced_secret("default", {"metadata": {"name": "s"}, "data": {"a": "eA==", "c": "eQ=="},
                                              "stringData": {"a": "b"}})
    raw = json.loads(core.read_namespaced_secret("s", "default", _preload_content=False).data)
    assert raw["data"] == {"a": "Yg==", "c": "eQ=="} and "stringData" not in raw
    patched = core.patch_namespaced_secret("s", "default", {"metadata": {"labels": {"x": "y"}}},
                                           _preload_content=False)
    assert "spec" not in json.loads(patched.data) and patched.headers.get("Warning") is None
    assert "spec" not in json.loads(core.read_namespaced_service_account("default", "default",
                                                                         _preload_content=False).data)


@pytest.mark.parametrize("kind", ["configmap", "secret"])
def test_an_immutable_config_map_or_secret_refuses_new_data_and_losing_the_flag(sandbox, core, kind):
    # ValidateConfigMapUpdate / ValidateSecretUpdate
    create, patch = ((core.create_namespaced_config_map, core.patch_namespaced_config_map) if kind == "configmap"
                     else (core.create_namespaced_secret, core.patch_namespaced_secret))
    data = {"company_name": "ACME, Inc."} if kind == "configmap" else {"company_name": "QUNNRQ=="}
    create("default", {"metadata": {"name": "company"}, "data": data, "immutable": True})
    change = {"data": {"company_name": "Fiktivesunternehmen GmbH"}} if kind == "configmap" else \
        {"stringData": {"company_name": "Fiktivesunternehmen GmbH"}}
    for body, field in ((change, "data"), ({"immutable": False}, "immutable")):
        with pytest.raises(ApiException) as e:
            patch("company", "default", body)
        status = json.loads(e.value.body)
        assert e.value.status == 422 and status["details"]["causes"] == [{
            "reason": "FieldValueForbidden", "message": "Forbidden: field is immutable when `immutable` is set",
            "field": field}]
        assert status["message"] == (f'{"ConfigMap" if kind == "configmap" else "Secret"} "company" is invalid: '
                                     f"{field}: Forbidden: field is immutable when `immutable` is set")
    patch("company", "default", {"metadata": {"labels": {"still": "editable"}}})
