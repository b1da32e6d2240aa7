"""Random manifests and patches never make the sandbox answer 500 or stop serving."""

from __future__ import annotations

import json
import urllib.request

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stsnb.sandbox import Sandbox

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(allow_nan=False),
                      st.text(max_size=30))
json_value = st.recursive(json_leaf, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(max_size=12), inner, max_size=4)),
                          max_leaves=25)
names = st.one_of(st.text(max_size=300), st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True))

manifest = st.fixed_dictionaries({
    "apiVersion": st.sampled_from(["apps/v1", "v1", "apps/v2", ""]),
    "kind": st.sampled_from(["StatefulSet", "Deployment", "Pod", "Widget"]),
    "metadata": st.fixed_dictionaries({"name": names}, optional={"labels": json_value, "namespace": names}),
    "spec": st.one_of(json_value, st.fixed_dictionaries({
        "replicas": st.one_of(st.integers(-5, 5), json_leaf),
        "selector": json_value,
        "template": st.one_of(json_value, st.just({"metadata": {"labels": {"app": "x"}},
                                                   "spec": {"containers": [{"name": "c", "image": "nginx"}]}})),
        "updateStrategy": json_value,
        "podManagementPolicy": st.sampled_from(["OrderedReady", "Parallel", "Sometimes"]),
    })),
})

PATHS = ["/apis/apps/v1/namespaces/default/statefulsets", "/apis/apps/v1/namespaces/default/deployments",
         "/api/v1/namespaces/default/pods", "/api/v1/namespaces/default/services"]
PATCH_TYPES = ["application/merge-patch+json", "application/strategic-merge-patch+json",
               "application/json-patch+json", "text/plain"]


def send(url: str, method: str, body: bytes, ctype: str = "application/json") -> int:
    req = urllib.request.Request(url, data=body, method=method,
                                 headers={"Content-Type": ctype, "Authorization": f"Bearer {served().token}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        payload = json.loads(e.read())
        assert payload["kind"] == "Status" and payload["code"] == e.code, payload
        return e.code


SANDBOX = None


def served() -> Sandbox:
    global SANDBOX
    if SANDBOX is None:
        SANDBOX = Sandbox(dns_port=None, seed=5).start()
        sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "target"},
               "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "x"}},
                        "template": {"metadata": {"labels": {"app": "x"}},
                                     "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
        send(SANDBOX.url + PATHS[0], "POST", json.dumps(sts).encode())
    return SANDBOX


def teardown_module() -> None:
    if SANDBOX is not None:
        SANDBOX.stop()
        assert not SANDBOX.internal_errors, SANDBOX.internal_errors[0]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=manifest, path=st.sampled_from(PATHS))
def test_random_manifests_never_get_a_500(body, path):
    sb = served()
    code = send(sb.url + path, "POST", json.dumps(body).encode())
    assert code < 500
    assert send(sb.url + "/version", "GET", None) == 200


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patch=st.one_of(json_value, st.lists(st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "remove", "replace", "test", "move", "bogus"]),
     "path": st.sampled_from(["/spec/replicas", "/spec", "/metadata/labels/a", "/x/y", ""]),
     "value": json_value}), max_size=3)), ctype=st.sampled_from(PATCH_TYPES))
def test_random_patches_never_get_a_500(patch, ctype):
    sb = served()
    code = send(sb.url + PATHS[0] + "/target", "PATCH", json.dumps(patch).encode(), ctype)
    assert code < 500
    assert send(sb.url + PATHS[0] + "/target", "GET", None) == 200


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=200))
def test_random_bytes_never_get_a_500(body):
    sb = served()
    assert send(sb.url + PATHS[2], "POST", body) < 500
