"""Nothing lost, no one let in: dry runs, authentication, limits and bad input on the served API.

Each test drives the sandbox over HTTP as a client would (the official client, or raw
requests for what it cannot send) and cites the upstream behaviour it checks.
"""

from __future__ import annotations

import copy
import json
import socket
import time
import urllib.error
import urllib.request

import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from stsnb.sandbox.core.store import HISTORY

from .conftest import GUIDE_STS, sts_settled, wait_until
from .test_exec import run_exec


def raw(sb, method: str, path: str, body: bytes | None = None, ctype: str = "application/json",
        token: str | None = "", headers: dict | None = None) -> tuple[int, dict, dict]:
    """A plain request; ``token=""`` means the sandbox's own, ``None`` none at all."""
    hdrs = {"Content-Type": ctype, **(headers or {})}
    if token is not None:
        hdrs["Authorization"] = f"Bearer {token or sb.token}"
    req = urllib.request.Request(sb.url + path, data=body, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            data = r.read()
            return r.status, dict(r.headers), (json.loads(data) if data[:1] in (b"{", b"[") else {"text": data})
    except urllib.error.HTTPError as e:
        data = e.read()
        return e.code, dict(e.headers), (json.loads(data) if data[:1] == b"{" else {"text": data})


def settled_sts(apps, replicas: int = 2) -> None:
    body = copy.deepcopy(GUIDE_STS)
    body["spec"]["replicas"] = replicas
    apps.create_namespaced_stateful_set("default", body)
    wait_until(apps.list_namespaced_stateful_set, sts_settled(replicas), "default")


# ------------------------------------------------------------------ authentication (issue H point 10)

def test_a_request_without_a_token_is_401_with_upstreams_status(sandbox):
    code, _, body = raw(sandbox, "GET", "/api/v1/namespaces", token=None)
    assert code == 401
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


def test_a_wrong_token_is_401_and_nothing_is_written(sandbox, core):
    body = json.dumps({"metadata": {"name": "intruder"}}).encode()
    code, _, _ = raw(sandbox, "POST", "/api/v1/namespaces/default/configmaps", body, token="not-the-token")
    assert code == 401
    assert "intruder" not in [c.metadata.name for c in core.list_namespaced_config_map("default").items]


@pytest.mark.parametrize("path", ["/healthz", "/livez", "/readyz", "/readyz/ping", "/version"])
def test_health_and_version_stay_open_as_system_public_info_viewer_allows(sandbox, path):
    assert raw(sandbox, "GET", path, token=None)[0] == 200


def test_every_sandbox_starts_with_its_own_token_unrelated_to_the_seed(new_sandbox):
    a, b = new_sandbox(seed=1), new_sandbox(seed=1)
    assert a.token != b.token and len(a.token) >= 40
    assert raw(a, "GET", "/api", token=b.token)[0] == 401


# ------------------------------------------------------------------ dry runs are dry (issue H point 1)

def test_a_delete_with_dry_run_in_its_body_keeps_the_statefulset_and_its_pods(sandbox, apps, core):
    settled_sts(apps)
    before = apps.read_namespaced_stateful_set("nginx-stateful", "default")
    body = json.dumps({"kind": "DeleteOptions", "apiVersion": "v1", "dryRun": ["All"],
                       "propagationPolicy": "Background"}).encode()
    code, _, answer = raw(sandbox, "DELETE", "/apis/apps/v1/namespaces/default/statefulsets/nginx-stateful", body)
    assert code == 200 and answer["details"]["name"] == "nginx-stateful"
    after = apps.read_namespaced_stateful_set("nginx-stateful", "default")
    assert after.metadata.resource_version == before.metadata.resource_version
    assert after.metadata.deletion_timestamp is None
    assert len(core.list_namespaced_pod("default", label_selector="app=nginx-stateful").items) == 2


def test_a_body_decides_the_delete_options_and_the_query_is_ignored_as_upstream(sandbox, core):
    # handlers/delete.go: with a body, DeleteOptions come from it alone
    core.create_namespaced_config_map("default", {"metadata": {"name": "kept"}})
    code, _, _ = raw(sandbox, "DELETE", "/api/v1/namespaces/default/configmaps/kept?dryRun=All",
                     json.dumps({"dryRun": ["All"]}).encode())
    assert code == 200
    assert core.read_namespaced_config_map("kept", "default").metadata.name == "kept"


@pytest.mark.parametrize("verb", ["create", "replace", "patch", "delete", "deletecollection", "scale", "evict"])
def test_a_dry_run_query_changes_nothing_for_every_verb(sandbox, apps, core, verb):
    settled_sts(apps, 1)
    core.create_namespaced_config_map("default", {"metadata": {"name": "cm"}, "data": {"a": "1"}})
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    sts_rv = apps.read_namespaced_stateful_set("nginx-stateful", "default").metadata.resource_version
    dry = {"dry_run": "All"}
    if verb == "create":
        out = core.create_namespaced_config_map("default", {"metadata": {"name": "new"}}, **dry)
        assert out.metadata.uid  # the object as it would be stored
    elif verb == "replace":
        core.replace_namespaced_config_map("cm", "default", {"metadata": {"name": "cm"}, "data": {"a": "2"}}, **dry)
    elif verb == "patch":
        core.patch_namespaced_config_map("cm", "default", {"data": {"a": "3"}}, **dry)
    elif verb == "delete":
        core.delete_namespaced_config_map("cm", "default", **dry)
    elif verb == "deletecollection":
        core.delete_collection_namespaced_config_map("default", **dry)
        core.delete_collection_namespaced_pod("default", **dry)
    elif verb == "scale":
        apps.patch_namespaced_stateful_set_scale("nginx-stateful", "default", {"spec": {"replicas": 5}}, **dry)
    elif verb == "evict":
        core.create_namespaced_pod_eviction("nginx-stateful-0", "default", {
            "apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "nginx-stateful-0"}}, **dry)
    assert core.list_namespaced_config_map("default").metadata.resource_version == rv or verb in ("scale", "evict")
    assert core.read_namespaced_config_map("cm", "default").data == {"a": "1"}
    assert [c.metadata.name for c in core.list_namespaced_config_map("default").items
            if c.metadata.name != "kube-root-ca.crt"] == ["cm"]
    assert apps.read_namespaced_stateful_set("nginx-stateful", "default").metadata.resource_version == sts_rv
    assert [p.metadata.name for p in core.list_namespaced_pod("default").items
            if not p.metadata.deletion_timestamp] == ["nginx-stateful-0"]


def test_a_dry_run_value_other_than_all_is_refused_with_upstreams_words(sandbox, core):
    # apimachinery pkg/apis/meta/v1/validation ValidateDryRun, as the delete and create handlers
    # report it: a 422 Invalid on DeleteOptions/CreateOptions (never a silent real delete)
    core.create_namespaced_config_map("default", {"metadata": {"name": "cm"}})
    code, _, body = raw(sandbox, "DELETE", "/api/v1/namespaces/default/configmaps/cm?dryRun=true")
    assert code == 422
    assert body["message"] == ('DeleteOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: '
                               '[]string{"true"}: supported values: "All"')
    code, _, body = raw(sandbox, "POST", "/api/v1/namespaces/default/configmaps?dryRun=yes",
                        json.dumps({"metadata": {"name": "x"}}).encode())
    assert code == 422 and body["message"].startswith('CreateOptions.meta.k8s.io "" is invalid: dryRun:')
    assert [c.metadata.name for c in core.list_namespaced_config_map("default").items
            if c.metadata.name != "kube-root-ca.crt"] == ["cm"]


# ------------------------------------------------------------------ limits (issue H point 7)

def test_a_10_mb_body_is_413_and_the_sandbox_keeps_serving(sandbox, core):
    body = json.dumps({"metadata": {"name": "big"}, "data": {"a": "x" * (10 * 1024 * 1024)}}).encode()
    code, _, status = raw(sandbox, "POST", "/api/v1/namespaces/default/configmaps", body)
    assert code == 413
    assert status["reason"] == "RequestEntityTooLarge"
    assert status["message"] == "Request entity too large: limit is 3145728"
    assert [c.metadata.name for c in core.list_namespaced_config_map("default").items] == ["kube-root-ca.crt"]


def test_a_content_length_announcing_gigabytes_is_refused_without_reading_it(sandbox):
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=10) as s:
        s.sendall(b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\n"
                  b"Authorization: Bearer " + sandbox.token.encode() + b"\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 2000000000\r\n\r\n{")
        s.shutdown(socket.SHUT_WR)
        head = s.recv(4096)
    assert head.startswith(b"HTTP/1.1 413")


def test_an_object_over_etcds_1_5_mib_is_413_and_nothing_is_stored(sandbox, core):
    env = [{"name": f"V{i}", "value": "x" * 1000} for i in range(2000)]  # ~2 MiB: under the body limit
    pod = {"metadata": {"name": "heavy"}, "spec": {"containers": [{"name": "c", "image": "busybox", "env": env}]}}
    with pytest.raises(ApiException) as e:
        core.create_namespaced_pod("default", pod)
    st = json.loads(e.value.body)
    assert e.value.status == 413
    assert st["message"] == "Request entity too large: etcdserver: request is too large"
    assert core.list_namespaced_pod("default").items == []


def test_an_update_growing_past_the_limit_keeps_the_old_object_and_version(sandbox, apps):
    # an orphan ControllerRevision: no controller writes it, and its data has no size rule of its own,
    # so its resourceVersion moves only if the patch is stored
    apps.create_namespaced_controller_revision("default", {"metadata": {"name": "grow"}, "revision": 1,
                                                           "data": {"small": "x"}})
    before = apps.read_namespaced_controller_revision("grow", "default")
    patch = {"metadata": {"labels": {"grown": "yes"}}, "data": {f"V{i}": "x" * 1000 for i in range(2000)}}
    with pytest.raises(ApiException) as e:
        apps.patch_namespaced_controller_revision("grow", "default", patch)
    assert e.value.status == 413
    after = apps.read_namespaced_controller_revision("grow", "default")
    assert after.metadata.resource_version == before.metadata.resource_version
    assert after.metadata.labels is None and after.data == {"small": "x"}


def test_300_kb_of_annotations_are_422_with_upstreams_message(sandbox, core):
    obj = {"metadata": {"name": "noted", "annotations": {"a": "x" * 300_000}}}
    with pytest.raises(ApiException) as e:
        core.create_namespaced_config_map("default", obj)
    st = json.loads(e.value.body)
    assert e.value.status == 422
    assert st["message"] == 'ConfigMap "noted" is invalid: metadata.annotations: Too long: must have at most 262144 bytes'


def test_replicas_beyond_what_the_sandbox_simulates_are_a_clear_422_and_it_stays_healthy(sandbox, apps):
    body = copy.deepcopy(GUIDE_STS)
    body["spec"]["replicas"] = 2147483647
    with pytest.raises(ApiException) as e:
        apps.create_namespaced_stateful_set("default", body)
    message = json.loads(e.value.body)["message"]
    assert e.value.status == 422 and "spec.replicas: Invalid value: 2147483647: must be no more than 20000" in message
    settled_sts(apps, 1)
    with pytest.raises(ApiException) as e:
        apps.patch_namespaced_stateful_set_scale("nginx-stateful", "default", {"spec": {"replicas": 2147483647}})
    assert e.value.status == 422
    assert raw(sandbox, "GET", "/readyz")[0] == 200


def test_watch_history_is_bounded_and_an_older_watch_gets_410_then_a_relist_works(new_sandbox):
    sb = new_sandbox(seed=2)
    core = client.CoreV1Api(sb.api_client())
    old = core.list_namespaced_config_map("default").metadata.resource_version
    for i in range(HISTORY + 50):  # churn: create and delete, as a busy cluster does
        sb.registry.create("configmaps", "default", {"metadata": {"name": f"c{i % 7}-{i}"}})
        sb.registry.delete("configmaps", "default", f"c{i % 7}-{i}")
    assert len(sb.store._history) == HISTORY
    assert len(sb.store._json) == sb.store.count("configmaps") + sum(sb.store.count(p) for p in sb.store._objects
                                                                     if p != "configmaps")
    with pytest.raises(ApiException) as e:
        list(watch.Watch().stream(core.list_namespaced_config_map, "default", resource_version=old,
                                  timeout_seconds=2))
    assert e.value.status == 410 and "too old resource version" in e.value.reason
    fresh = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", {"metadata": {"name": "after"}})
    seen = [ev["object"].metadata.name for ev in watch.Watch().stream(
        core.list_namespaced_config_map, "default", resource_version=fresh, timeout_seconds=1)]
    assert seen == ["after"]


# ------------------------------------------------------------------ bad input (issue H point 8)

@pytest.mark.parametrize("query, body, words", [
    ("?gracePeriodSeconds=abc", None, 'strconv.ParseInt: parsing "abc": invalid syntax'),
    ("", b"[1, 2]", "json: cannot unmarshal array into Go value of type v1.DeleteOptions"),
    ("", b'{"gracePeriodSeconds": "soon"}', "cannot unmarshal string into Go struct field "
                                            "DeleteOptions.gracePeriodSeconds of type int64"),
    ("", b'{"propagationPolicy": "Sideways"}', 'Unsupported value: "Sideways"'),
])
def test_bad_delete_options_are_4xx_that_name_the_problem(sandbox, core, query, body, words):
    core.create_namespaced_config_map("default", {"metadata": {"name": "cm"}})
    code, _, status = raw(sandbox, "DELETE", "/api/v1/namespaces/default/configmaps/cm" + query, body)
    assert 400 <= code < 500 and words in status["message"]
    assert core.read_namespaced_config_map("cm", "default").metadata.name == "cm"


def test_a_huge_grace_period_is_accepted_without_breaking_the_clock(sandbox, apps, core):
    settled_sts(apps, 1)
    code, _, _ = raw(sandbox, "DELETE", "/api/v1/namespaces/default/pods/nginx-stateful-0?gracePeriodSeconds="
                     + str(10 ** 18))
    assert code == 200
    assert core.read_namespaced_pod("nginx-stateful-0", "default").metadata.deletion_timestamp is not None


@pytest.mark.parametrize("value", ["nan", "inf", "1.5", "99999999999999999999"])
def test_a_watch_timeout_that_is_not_an_int64_is_a_400(sandbox, value):
    code, _, status = raw(sandbox, "GET", f"/api/v1/namespaces/default/pods?watch=true&timeoutSeconds={value}")
    assert code == 400 and status["message"].startswith("strconv.ParseInt: parsing")


def test_a_negative_watch_timeout_ends_the_watch_at_once(sandbox):
    code, _, body = raw(sandbox, "GET", "/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=-1")
    assert code == 200 and body == {"text": b""}


def test_a_deeply_nested_patch_is_a_400_not_a_500(sandbox, apps):
    settled_sts(apps, 1)
    deep = b'{"metadata":{"labels":' + b"[" * 900 + b"]" * 900 + b"}}"
    code, _, status = raw(sandbox, "PATCH", "/apis/apps/v1/namespaces/default/statefulsets/nginx-stateful", deep,
                          "application/merge-patch+json")
    assert code == 400 and "nests more than 200 levels" in status["message"]


def test_an_unknown_include_object_is_refused_not_a_500(sandbox):
    code, _, status = raw(sandbox, "GET", "/api/v1/namespaces/default/pods?includeObject=Garbage",
                          headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"})
    assert code == 422 and "includeObject" in status["message"]


def _exchange(sb, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", sb.port), timeout=10) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out


def test_a_chunked_body_is_decoded_and_never_read_as_the_next_request(sandbox, core):
    core.create_namespaced_config_map("default", {"metadata": {"name": "victim"}})
    smuggled = (b"DELETE /api/v1/namespaces/default/configmaps/victim HTTP/1.1\r\nHost: x\r\n"
                b"Authorization: Bearer " + sandbox.token.encode() + b"\r\n\r\n")
    obj = json.dumps({"metadata": {"name": "chunked"}, "data": {"note": smuggled.decode()}}).encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(obj[i:i + 40]), obj[i:i + 40]) for i in range(0, len(obj), 40))
    reply = _exchange(sandbox, b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\n"
                      b"Authorization: Bearer " + sandbox.token.encode() + b"\r\nContent-Type: application/json\r\n"
                      b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks + b"0\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 201")
    assert core.read_namespaced_config_map("chunked", "default").data == {"note": smuggled.decode()}
    assert core.read_namespaced_config_map("victim", "default").metadata.name == "victim"


def test_a_malformed_chunked_body_is_a_400_and_what_follows_is_not_served(sandbox, core):
    core.create_namespaced_config_map("default", {"metadata": {"name": "victim"}})
    reply = _exchange(sandbox, b"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\n"
                      b"Authorization: Bearer " + sandbox.token.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"zz\r\n{}\r\n0\r\n\r\n"
                      b"DELETE /api/v1/namespaces/default/configmaps/victim HTTP/1.1\r\nHost: x\r\n"
                      b"Authorization: Bearer " + sandbox.token.encode() + b"\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400") and reply.count(b"HTTP/1.1") == 1
    assert b'"reason":"BadRequest"' in reply and b"malformed chunked encoding" in reply
    assert core.read_namespaced_config_map("victim", "default").metadata.name == "victim"


def test_an_abandoned_quiet_watch_releases_its_thread(sandbox):
    s = socket.create_connection(("127.0.0.1", sandbox.port), timeout=10)
    s.sendall(b"GET /api/v1/namespaces/default/configmaps?watch=true HTTP/1.1\r\nHost: x\r\n"
              b"Authorization: Bearer " + sandbox.token.encode() + b"\r\n\r\n")
    assert s.recv(4096).startswith(b"HTTP/1.1 200")
    assert len(sandbox.store._watches["configmaps"]) == 1
    s.close()
    deadline = time.monotonic() + 10
    while sandbox.store._watches["configmaps"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sandbox.store._watches["configmaps"] == []


def test_client_mistakes_and_dropped_connections_leave_no_traceback_on_stderr(sandbox, capfd):
    import struct
    for data in (b"GARBAGE\r\n\r\n", b"BREW / HTTP/1.1\r\n\r\n", b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n"):
        assert _exchange(sandbox, data).startswith(b"HTTP/1.1 4")
    for _ in range(5):  # a client that resets the connection halfway through its request line
        s = socket.create_connection(("127.0.0.1", sandbox.port), timeout=10)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.sendall(b"GET /api/v1/namespaces/default/pods HTTP/1.1\r\nHost")
        s.close()
    raw(sandbox, "GET", "/version")  # the server is still there after all that
    time.sleep(0.5)
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize("token", [None, "not-the-token"])
def test_a_websocket_exec_upgrade_without_the_token_is_401_and_runs_nothing(sandbox, core, token):
    """The streaming subresources go through the same authentication as every other request."""
    core.create_namespaced_pod("default", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "box"},
                                           "spec": {"containers": [{"name": "c", "image": "busybox",
                                                                    "command": ["sleep", "3600"]}]}})
    wait_until(core.list_namespaced_pod, lambda p: p.metadata.name == "box" and p.status.phase == "Running",
               "default", timeout=30)
    upgrade = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol": "v5.channel.k8s.io"}
    code, _, body = raw(sandbox, "GET", "/api/v1/namespaces/default/pods/box/exec?command=touch&command=/pwned"
                        "&stdout=true", token=token, headers=upgrade)
    assert code == 401 and body["reason"] == "Unauthorized"
    _, err, exit_code = run_exec(core, "box", ["ls", "/pwned"])
    assert exit_code != 0 and "No such file or directory" in err
