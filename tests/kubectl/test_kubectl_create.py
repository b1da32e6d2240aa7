"""kubectl's typed commands against a served sandbox: protobuf bodies, TLS with a token, dry runs, debug.

kubectl 1.37 sends the object of ``kubectl create <kind>``, ``kubectl autoscale``, ``kubectl auth
can-i`` and ``kubectl drain``'s evictions as protobuf; the sandbox decodes them with the field table
derived from upstream's generated.proto files. Each test runs the command as a reader types it and
then reads the object the sandbox stored.
"""

from __future__ import annotations

import base64
import json

import pytest

pytestmark = pytest.mark.kubectl

CREATES = [
    (["create", "configmap", "settings", "--from-literal=mode=fast", "--from-literal=size=3"],
     "configmaps", "settings", lambda o: o["data"] == {"mode": "fast", "size": "3"}),
    (["create", "secret", "generic", "creds", "--from-literal=password=s3cret"],
     "secrets", "creds", lambda o: o["type"] == "Opaque" and base64.b64decode(o["data"]["password"]) == b"s3cret"),
    (["create", "deployment", "web", "--image=nginx:1.25", "--replicas=2", "--port=80"],
     "deployments", "web", lambda o: o["spec"]["replicas"] == 2
     and o["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"
     and o["spec"]["template"]["spec"]["containers"][0]["ports"] == [{"containerPort": 80, "protocol": "TCP"}]),
    (["create", "deployment", "idle", "--image=nginx", "--replicas=0"],
     "deployments", "idle", lambda o: o["spec"]["replicas"] == 0),  # a pointer field sent as zero stays zero
    (["create", "serviceaccount", "robot"], "serviceaccounts", "robot", lambda o: o["metadata"]["name"] == "robot"),
    (["create", "job", "once", "--image=busybox", "--", "echo", "hi"],
     "jobs", "once", lambda o: o["spec"]["template"]["spec"]["containers"][0]["command"] == ["echo", "hi"]
     and o["spec"]["template"]["spec"]["restartPolicy"] == "Never"
     and o["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"] == o["metadata"]["uid"]),
    (["create", "cronjob", "tick", "--image=busybox", "--schedule=*/5 * * * *", "--", "date"],
     "cronjobs", "tick", lambda o: o["spec"]["schedule"] == "*/5 * * * *"
     and o["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"] == ["date"]),
    (["create", "ingress", "front", "--rule=shop.example.com/api*=web:80"],
     "ingresses", "front", lambda o: o["spec"]["rules"][0]["host"] == "shop.example.com"
     and o["spec"]["rules"][0]["http"]["paths"][0] == {
         "path": "/api", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}}),
    (["create", "pdb", "keep-two", "--selector=app=web", "--min-available=2"],
     "poddisruptionbudgets", "keep-two", lambda o: o["spec"]["minAvailable"] == 2
     and o["spec"]["selector"] == {"matchLabels": {"app": "web"}}),
    (["create", "role", "reader", "--verb=get,list", "--resource=pods"],
     "roles", "reader", lambda o: o["rules"] == [{"verbs": ["get", "list"], "apiGroups": [""],
                                                  "resources": ["pods"]}]),
    (["create", "rolebinding", "read-it", "--role=reader", "--user=alice", "--serviceaccount=default:robot"],
     "rolebindings", "read-it", lambda o: o["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                                           "name": "reader"}
     and {(s["kind"], s["name"]) for s in o["subjects"]} == {("User", "alice"), ("ServiceAccount", "robot")}),
]


@pytest.mark.parametrize("args, plural, name, check", CREATES, ids=[" ".join(c[0][:2]) for c in CREATES])
def test_kubectl_create_sends_protobuf_and_the_object_is_stored_as_sent(kubectl, args, plural, name, check,
                                                                       monkeypatch):
    from stsnb.sandbox.apiserver import protobuf
    decoded: list[str] = []

    def recording(body: bytes, default_kind: str = "") -> dict:
        obj = real(body, default_kind)
        decoded.append(obj.get("kind", ""))
        return obj

    real = protobuf.decode_request_body
    monkeypatch.setattr(protobuf, "decode_request_body", recording)
    out = kubectl(*args)
    assert out.out.strip().endswith("created"), out
    assert decoded, "kubectl sent no protobuf body"
    obj = kubectl.obj(plural, name)
    assert obj is not None and check(obj), json.dumps(obj)


def test_kubectl_create_namespace_makes_a_namespace(kubectl):
    assert kubectl("create", "namespace", "team-a").out == "namespace/team-a created\n"
    assert kubectl.sb.registry.find("namespaces", None, "team-a")["status"] == {"phase": "Active"}


def test_kubectl_auth_can_i_says_yes(kubectl):
    assert kubectl("auth", "can-i", "create", "pods").out == "yes\n"


def test_kubectl_autoscale_creates_an_hpa_shown_with_its_target(kubectl):
    kubectl("create", "deployment", "web", "--image=nginx")
    kubectl("autoscale", "deployment", "web", "--max=5", "--cpu=60%")
    hpa = kubectl.obj("horizontalpodautoscalers", "web")
    assert hpa["spec"]["maxReplicas"] == 5
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 60
    lines = kubectl("get", "hpa").out.splitlines()
    assert lines[0].split() == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]
    assert lines[1].split()[:5] == ["web", "Deployment/web", "<unknown>/60%", "1", "5"]


def test_kubectl_get_lists_the_new_kinds_with_upstreams_columns(kubectl):
    kubectl("create", "job", "once", "--image=busybox")
    kubectl("create", "role", "reader", "--verb=get", "--resource=pods")
    kubectl("create", "pdb", "keep", "--selector=app=x", "--max-unavailable=1")
    assert kubectl("get", "jobs").out.splitlines()[0].split() == ["NAME", "COMPLETIONS", "DURATION", "AGE"]
    assert kubectl("get", "roles").out.splitlines()[0].split() == ["NAME", "CREATED", "AT"]
    pdb = kubectl("get", "pdb").out.splitlines()
    assert pdb[0].split() == ["NAME", "MIN", "AVAILABLE", "MAX", "UNAVAILABLE", "ALLOWED", "DISRUPTIONS", "AGE"]
    assert pdb[1].split()[:4] == ["keep", "N/A", "1", "0"]


def test_kubectl_delete_dry_run_server_leaves_the_statefulset_and_its_pods(kubectl):
    kubectl.apply("nginx-stateful")
    before = kubectl.settled("nginx-stateful", 3)
    out = kubectl("delete", "sts", "nginx-stateful", "--dry-run=server")
    assert "(server dry run)" in out.out
    after = kubectl.obj("statefulsets", "nginx-stateful")
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert len(kubectl.objs("pods", "app=nginx-stateful")) == 3


def test_kubectl_apply_validate_warn_prints_the_unknown_field_warning(kubectl, tmp_path):
    path = tmp_path / "cm.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: noted\ndata:\n  a: b\nspec:\n  foo: 1\n")
    out = kubectl("apply", "--validate=warn", "-f", str(path))
    assert 'Warning: unknown field "spec"' in out.err, out


def test_kubectl_debug_adds_an_ephemeral_container_and_attaches_to_its_shell(kubectl):
    """kubernetes.io's *Debug Running Pods*: an ephemeral busybox beside a pause container that has no shell."""
    kubectl("run", "ephemeral-demo", "--image=registry.k8s.io/pause:3.1", "--restart=Never")
    kubectl.wait("the pod to run", lambda: kubectl.pod_phase("ephemeral-demo", ("Running",)))
    out = kubectl("debug", "-i", "ephemeral-demo", "--image=busybox:1.28", "--target=ephemeral-demo",
                  stdin="echo hello from the debugger\nhostname\nexit\n", timeout=60)
    assert out.out.endswith("hello from the debugger\nephemeral-demo\n"), out
    assert "Defaulting debug container name to debugger-" in out.out and "panic" not in out.err
    pod = kubectl.obj("pods", "ephemeral-demo")
    [debugger] = pod["spec"]["ephemeralContainers"]
    assert debugger["name"].startswith("debugger-") and debugger["targetContainerName"] == "ephemeral-demo"
    kubectl.wait("the debugger to end", lambda: "terminated" in (
        (kubectl.obj("pods", "ephemeral-demo")["status"].get("ephemeralContainerStatuses") or [{}])[0].get("state") or {}))
    logs = kubectl("logs", "ephemeral-demo", "-c", debugger["name"]).out
    assert logs == "hello from the debugger\nephemeral-demo\n"
    assert kubectl("get", "pod", "ephemeral-demo", "--no-headers").out.split()[1:3] == ["1/1", "Running"]


def test_kubectl_debug_of_a_node_runs_a_host_network_pod_that_answers_as_the_node(kubectl):
    out = kubectl("debug", "node/k8s-worker1", "-i", "--image=busybox", stdin="hostname\nexit\n", timeout=60)
    assert out.out.endswith("k8s-worker1\n"), out
    [pod] = [p for p in kubectl.objs("pods") if p["metadata"]["name"].startswith("node-debugger-k8s-worker1-")]
    assert pod["spec"]["hostNetwork"] is True
    node_ip = next(a["address"] for a in kubectl.obj("nodes", "k8s-worker1", namespace="")["status"]["addresses"]
                   if a["type"] == "InternalIP")
    assert pod["status"]["podIP"] == node_ip


def test_kubectl_debug_with_a_copy_and_ubuntu_attaches_to_bash_in_the_copy(kubectl):
    kubectl("run", "myapp", "--image=busybox:1.28", "--restart=Never", "--", "sleep", "1d")
    kubectl.wait("myapp to run", lambda: kubectl.pod_phase("myapp", ("Running",)))
    out = kubectl("debug", "myapp", "-i", "--image=ubuntu", "--share-processes", "--copy-to=myapp-debug",
                  stdin="hostname\nexit\n", timeout=60)
    assert out.out.endswith("myapp-debug\n"), out
    copy = kubectl.obj("pods", "myapp-debug")
    assert [c["image"] for c in copy["spec"]["containers"]] == ["busybox:1.28", "ubuntu"]
    assert copy["spec"]["shareProcessNamespace"] is True


def test_kubectl_get_raw_readyz_verbose_lists_the_checks(kubectl):
    out = kubectl("get", "--raw", "/readyz?verbose").out.splitlines()
    assert out[0] == "[+]ping ok" and out[-1] == "readyz check passed"


def test_kubectl_without_the_kubeconfigs_token_is_refused(kubectl, tmp_path):
    import yaml
    cfg = yaml.safe_load(kubectl.kubeconfig.read_text())
    cfg["users"][0]["user"]["token"] = "wrong"
    bad = tmp_path / "bad-kubeconfig"
    bad.write_text(yaml.safe_dump(cfg))
    out = kubectl("--kubeconfig", str(bad), "get", "pods", check=False)
    assert out.code != 0 and "Unauthorized" in out.err + out.out or "provide credentials" in out.err


def test_kubectl_events_for_a_statefulset_lists_its_events_in_order(kubectl):
    kubectl.apply("nginx-stateful")
    kubectl.settled("nginx-stateful", 3)
    out = kubectl("events", "--for", "sts/nginx-stateful").out.splitlines()
    assert out[0].split()[:4] == ["LAST", "SEEN", "TYPE", "REASON"]
    creates = [line for line in out[1:] if "SuccessfulCreate" in line]
    pods = [w for line in creates for w in line.split() if w.startswith("nginx-stateful-")]
    assert [p for p in pods if not p.startswith("nginx-stateful-pvc")][:3] == [
        "nginx-stateful-0", "nginx-stateful-1", "nginx-stateful-2"], out
