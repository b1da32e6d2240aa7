"""kubernetes.io "StatefulSet Basics", the steps that enter pods: hostnames, writing to stable storage, curl again.

The manifest is the tutorial's own ``web.yaml`` (kubernetes/website
``content/en/examples/application/web/web.yaml``), unchanged; the commands are the
tutorial's (``content/en/docs/tutorials/stateful-application/basic-stateful-set.md``),
one ``kubectl`` per loop iteration of its ``for i in 0 1`` lines.
"""

from __future__ import annotations

import pexpect
import pytest

WEB_YAML = """\
apiVersion: v1
kind: Service
metadata:
  name: nginx
  labels:
    app: nginx
spec:
  ports:
  - port: 80
    name: web
  clusterIP: None
  selector:
    app: nginx
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: "nginx"
  replicas: 2
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: registry.k8s.io/nginx-slim:0.8
        ports:
        - containerPort: 80
          name: web
        volumeMounts:
        - name: www
          mountPath: /usr/share/nginx/html
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      accessModes: [ "ReadWriteOnce" ]
      resources:
        requests:
          storage: 1Gi
"""
#: What every learner cluster has (kind: "standard"); created only when the sandbox has no default class.
DEFAULT_CLASS = """\
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: rancher.io/local-path
reclaimPolicy: Delete
volumeBindingMode: Immediate
"""


@pytest.fixture
def web(kubectl):
    classes = kubectl.sb.registry.list("storageclasses", None)
    if not any((c["metadata"].get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class") == "true"
               for c in classes):
        (kubectl.workdir / "standard.yaml").write_text(DEFAULT_CLASS)
        kubectl.apply(kubectl.workdir / "standard.yaml")
    (kubectl.workdir / "web.yaml").write_text(WEB_YAML)
    kubectl.apply(kubectl.workdir / "web.yaml")
    kubectl.settled("web", 2)
    return kubectl


def _uids(k) -> dict[str, str]:
    return {p["metadata"]["name"]: p["metadata"]["uid"] for p in k.objs("pods", "app=nginx")}


def test_each_pod_prints_its_own_hostname(web):
    for i in (0, 1):
        assert web("exec", f"web-{i}", "--", "sh", "-c", "hostname").out == f"web-{i}\n"
    assert web("exec", "web-0", "--", "hostname").out == "web-0\n"


def test_what_a_pod_wrote_to_its_claim_is_served_again_after_the_pods_are_re_created(web):
    for i in (0, 1):
        web("exec", f"web-{i}", "--", "sh", "-c", 'echo "$(hostname)" > /usr/share/nginx/html/index.html')
    before = [web("exec", "-i", "-t", f"web-{i}", "--", "curl", "http://localhost/") for i in (0, 1)]
    assert [r.out for r in before] == ["web-0\n", "web-1\n"]
    assert all("Unable to use a TTY - input is not a terminal" in r.err for r in before)  # kubectl's own note
    fetched = web("run", "-i", "--rm", "--restart=Never", "--image=busybox:1.28", "probe", "--",
                  "wget", "-qO-", "http://web-0.nginx")
    assert fetched.out.startswith("web-0\n") and 'pod "probe" deleted' in fetched.out
    old = _uids(web)
    deleted = web("delete", "pod", "-l", "app=nginx")
    assert deleted.out.startswith('pod "web-0" deleted')
    web.wait("both pods re-created", lambda: (lambda now: len(now) == 2 and set(now.values()).isdisjoint(
        old.values()))(_uids(web)))
    web.settled("web", 2)
    after = [web("exec", "-i", "-t", f"web-{i}", "--", "curl", "http://localhost/").out for i in (0, 1)]
    assert after == ["web-0\n", "web-1\n"]
    again = web("run", "-i", "--rm", "--restart=Never", "--image=busybox:1.28", "probe", "--",
                "wget", "-qO-", "http://web-1.nginx")
    assert again.out.startswith("web-1\n")
    assert not web.objs("pods", "run=probe")


def test_an_index_written_over_a_fresh_claim_replaces_nginxs_403(web):
    first = web("exec", "web-0", "--", "curl", "-s", "http://localhost/")
    assert "<center><h1>403 Forbidden</h1></center>" in first.out  # an empty volume hides the image's index.html
    web("exec", "web-0", "--", "sh", "-c", "echo hello > /usr/share/nginx/html/index.html")
    assert web("exec", "web-0", "--", "curl", "-s", "http://localhost/").out == "hello\n"


def test_the_dns_test_shell_of_the_tutorial_accepts_typed_commands_and_leaves_no_pod(web):
    child = pexpect.spawn(web.binary, ["--cache-dir", str(web.cache_dir), "run", "-i", "--tty", "--image",
                                       "busybox:1.28", "dns-test", "--restart=Never", "--rm"],
                          env=web.env, cwd=str(web.workdir), timeout=30, encoding="utf-8")
    try:
        child.expect("If you don't see a command prompt, try pressing enter.")
        child.sendline("")
        child.expect_exact("/ # ")
        child.sendline("nslookup web-0.nginx")
        child.expect_exact("Name:      web-0.nginx\r\nAddress 1: ")
        child.expect_exact("web-0.nginx.default.svc.cluster.local\r\n")
        child.expect_exact("/ # ")
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert 'pod "dns-test" deleted' in child.before
    assert child.exitstatus == 0
    web.wait("the dns-test pod to be gone", lambda: web.obj("pods", "dns-test") is None)
