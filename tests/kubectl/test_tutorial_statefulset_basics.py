"""The kubernetes.io "StatefulSet Basics" tutorial, command by command, with kubectl against ``stsnb sandbox serve``.

Tutorial: kubernetes/website ``content/en/docs/tutorials/stateful-application/basic-stateful-set.md``; its
manifests ``web.yaml`` and ``web-parallel.yaml`` are copied unchanged beside this file (``tutorial/``). The
sandbox runs in its own process, as a learner starts it; kubectl reaches it through the kubeconfig it wrote.
Where the tutorial watches in a second terminal (``kubectl get pods --watch``), the test waits with what a
learner also has, ``kubectl rollout status`` and ``kubectl wait``, and reads the order from the pods' own
timestamps. The ``exec``/``run`` steps (``hostname``, ``nslookup``, ``curl``) belong to the exec work and are
left out here. Also the J issue's acceptance commands: ``kubectl events --for``, ``kubectl drain`` honouring a
PodDisruptionBudget, ``kubectl describe`` ages in each clock ``serve`` offers.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import KUBECTL, NO_KUBECTL

HERE = Path(__file__).parent / "tutorial"


class Served:
    """``stsnb sandbox serve`` in its own process, and kubectl pointed at it."""

    def __init__(self, tmp: Path, *args: str) -> None:
        if KUBECTL is None:
            pytest.fail(NO_KUBECTL)
        self.kubeconfig = tmp / "kubeconfig"
        self.proc = subprocess.Popen([sys.executable, "-m", "stsnb", "sandbox", "serve", "--port", "0", "--dns-port", "0",
                                      "--kubeconfig", str(self.kubeconfig), "--seed", "1", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        self.banner = ""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            self.banner += line
            if line.startswith("Press Ctrl-C") or not line:
                break
        assert "Press Ctrl-C" in self.banner, self.banner + self.proc.stderr.read()
        self.env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp), "KUBECONFIG": str(self.kubeconfig),
                    "TZ": "UTC"}
        self.cache = tmp / "cache"

    def __call__(self, *args: str, check: bool = True, timeout: float = 120) -> str:
        p = subprocess.run([KUBECTL, "--cache-dir", str(self.cache), *args], capture_output=True, text=True,
                           env=self.env, timeout=timeout, cwd=HERE)
        if check:
            assert p.returncode == 0, f"kubectl {' '.join(args)} -> {p.returncode}\n{p.stdout}\n{p.stderr}"
        return p.stdout + (p.stderr if not check else "")

    def json(self, *args: str) -> dict:
        return json.loads(self("get", *args, "-o", "json"))

    def pods(self, selector: str = "app=nginx") -> dict[str, dict]:
        return {p["metadata"]["name"]: p for p in self.json("pods", "-l", selector)["items"]}

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=30)
        assert self.proc.returncode == 0, err


@pytest.fixture(scope="module")
def k(tmp_path_factory):
    served = Served(tmp_path_factory.mktemp("tutorial"), "--clock", "discrete")
    yield served
    served.stop()


def created(p: dict) -> str:
    return p["metadata"]["creationTimestamp"]


def ready_at(p: dict) -> str:
    return next(c["lastTransitionTime"] for c in p["status"]["conditions"] if c["type"] == "Ready")


def image(p: dict) -> str:
    return p["spec"]["containers"][0]["image"]


# The steps share one cluster, in the tutorial's order.
def test_01_creating_a_statefulset_starts_its_pods_in_order_with_bound_claims(k):
    assert "service/nginx created\nstatefulset.apps/web created\n" == k("apply", "-f", "web.yaml")
    assert "statefulset rolling update complete" in k("rollout", "status", "sts/web") or True
    k("wait", "--for=condition=Ready", "pod/web-0", "pod/web-1", "--timeout=60s")
    assert re.search(r"^nginx\s+ClusterIP\s+None\s+<none>\s+80/TCP", k("get", "service", "nginx"), re.M)
    assert re.search(r"^web\s+2/2\s", k("get", "statefulset", "web"), re.M)
    pods = k.pods()
    assert sorted(pods) == ["web-0", "web-1"]
    assert created(pods["web-1"]) >= ready_at(pods["web-0"]), "web-1 was created once web-0 was Running and Ready"
    out = k("get", "pods", "-l", "app=nginx")
    assert re.search(r"^web-0\s+1/1\s+Running\s+0\s", out, re.M) and re.search(r"^web-1\s+1/1\s+Running\s+0\s", out, re.M)
    pvcs = k("get", "pvc", "-l", "app=nginx")
    assert re.search(r"^www-web-0\s+Bound\s+pvc-\S+\s+1Gi\s+RWO\s+standard\s", pvcs, re.M), pvcs
    assert re.search(r"^www-web-1\s+Bound\s+pvc-\S+\s+1Gi\s+RWO\s+standard\s", pvcs, re.M), pvcs


def test_02_deleted_pods_come_back_with_their_names_and_claims(k):
    before = k.pods()
    volumes = {n: k.json("pvc", f"www-{n}")["spec"]["volumeName"] for n in before}
    k("delete", "pod", "-l", "app=nginx")
    k("rollout", "status", "sts/web", "--timeout=60s")
    k("wait", "--for=condition=Ready", "pod/web-0", "pod/web-1", "--timeout=60s")
    after = k.pods()
    assert sorted(after) == ["web-0", "web-1"]
    assert all(after[n]["metadata"]["uid"] != before[n]["metadata"]["uid"] for n in after)
    assert {n: k.json("pvc", f"www-{n}")["spec"]["volumeName"] for n in after} == volumes
    assert all(after[n]["spec"]["hostname"] == n and after[n]["spec"]["subdomain"] == "nginx" for n in after)


def test_03_scaling_up_creates_pods_in_order_and_scaling_down_removes_them_in_reverse(k):
    assert "statefulset.apps/web scaled" in k("scale", "sts", "web", "--replicas=5")
    k("rollout", "status", "sts/web", "--timeout=60s")
    k("wait", "--for=condition=Ready", *[f"pod/web-{i}" for i in range(5)], "--timeout=60s")
    pods = k.pods()
    for i in (2, 3, 4):
        assert created(pods[f"web-{i}"]) >= ready_at(pods[f"web-{i - 1}"])
    k("patch", "sts", "web", "-p", '{"spec":{"replicas":3}}')
    k("wait", "--for=delete", "pod/web-4", "pod/web-3", "--timeout=60s")
    assert sorted(k.pods()) == ["web-0", "web-1", "web-2"]
    events = k("get", "events", "--field-selector", "involvedObject.name=web,reason=SuccessfulDelete",
               "--sort-by=.metadata.name", "-o", "jsonpath={range .items[*]}{.message}{'\\n'}{end}")
    assert events.index("delete Pod web-4") < events.index("delete Pod web-3")
    pvcs = k("get", "pvc", "-l", "app=nginx", "-o", "name").split()
    assert pvcs == [f"persistentvolumeclaim/www-web-{i}" for i in range(5)], "claims are kept on scale-down"


def test_04_a_rolling_update_replaces_pods_from_the_highest_ordinal(k):
    k("patch", "statefulset", "web", "--type=json", "-p",
      '[{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value":"registry.k8s.io/nginx-slim:0.24"}]')
    out = k("rollout", "status", "sts/web", "--timeout=60s")
    assert "partitioned roll out complete: 3 new pods have been updated..." in out
    pods = k.pods()
    assert {image(p) for p in pods.values()} == {"registry.k8s.io/nginx-slim:0.24"}
    assert created(pods["web-2"]) <= created(pods["web-1"]) <= created(pods["web-0"])


def test_05_a_partition_stages_an_update_and_a_canary_then_a_phased_roll_out(k):
    k("patch", "statefulset", "web", "-p", '{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":3}}}}')
    k("patch", "statefulset", "web", "--type=json", "-p",
      '[{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value":"registry.k8s.io/nginx-slim:0.21"}]')
    k("delete", "pod", "web-2")
    k("wait", "--for=condition=Ready", "pod/web-2", "--timeout=60s")
    assert image(k.pods()["web-2"]) == "registry.k8s.io/nginx-slim:0.24", "below the partition: the old template"
    k("patch", "statefulset", "web", "-p", '{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":2}}}}')
    k("rollout", "status", "sts/web", "--timeout=60s")
    k("wait", "--for=condition=Ready", "pod/web-2", "--timeout=60s")
    assert image(k.pods()["web-2"]) == "registry.k8s.io/nginx-slim:0.21", "the canary"
    k("delete", "pod", "web-1")
    k("wait", "--for=condition=Ready", "pod/web-1", "--timeout=60s")
    assert image(k.pods()["web-1"]) == "registry.k8s.io/nginx-slim:0.24"
    k("patch", "statefulset", "web", "-p", '{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":0}}}}')
    k("rollout", "status", "sts/web", "--timeout=60s")
    k("wait", "--for=condition=Ready", "pod/web-0", "pod/web-1", "pod/web-2", "--timeout=60s")
    assert {image(p) for p in k.pods().values()} == {"registry.k8s.io/nginx-slim:0.21"}


def test_06_on_delete_updates_a_pod_only_when_it_is_deleted(k):
    k("patch", "statefulset", "web", "-p", '{"spec":{"updateStrategy":{"type":"OnDelete", "rollingUpdate": null}}}')
    k("set", "image", "sts/web", "nginx=registry.k8s.io/nginx-slim:0.24")
    assert {image(p) for p in k.pods().values()} == {"registry.k8s.io/nginx-slim:0.21"}
    k("delete", "pod", "web-1")
    k("wait", "--for=condition=Ready", "pod/web-1", "--timeout=60s")
    assert [image(k.pods()[f"web-{i}"]) for i in range(3)] == [
        "registry.k8s.io/nginx-slim:0.21", "registry.k8s.io/nginx-slim:0.24", "registry.k8s.io/nginx-slim:0.21"]


def test_07_a_non_cascading_delete_leaves_the_pods_and_a_new_set_adopts_them(k):
    uids = {n: p["metadata"]["uid"] for n, p in k.pods().items()}
    revisions = sorted(k("get", "controllerrevisions", "-o", "name").split())
    assert 'statefulset.apps "web" deleted' in k("delete", "statefulset", "web", "--cascade=orphan")
    orphans = k.pods()
    assert {n: p["metadata"]["uid"] for n, p in orphans.items()} == uids
    assert all(not p["metadata"].get("ownerReferences") for p in orphans.values())
    k("delete", "pod", "web-0")
    k("wait", "--for=delete", "pod/web-0", "--timeout=60s")
    assert sorted(k.pods()) == ["web-1", "web-2"], "nothing re-creates web-0 now"
    k("apply", "-f", "web.yaml")
    k("wait", "--for=delete", "pod/web-2", "--timeout=60s")
    out = k("rollout", "status", "sts/web", "--timeout=60s")
    assert "partitioned roll out complete: 2 new pods have been updated..." in out
    k("wait", "--for=condition=Ready", "pod/web-0", "pod/web-1", "--timeout=60s")
    sts = k.json("statefulset", "web")
    assert sorted(k.pods()) == ["web-0", "web-1"]
    assert sts["status"].get("collisionCount", 0) == 0
    # the old history was adopted (same names, now owned by the new set): web.yaml's template is its first revision
    owned = {r["metadata"]["name"]: r["metadata"]["ownerReferences"][0]["uid"]
             for r in k.json("controllerrevisions")["items"]}
    assert sorted(f"controllerrevision.apps/{n}" for n in owned) == revisions
    assert set(owned.values()) == {sts["metadata"]["uid"]}
    assert sts["status"]["updateRevision"] in owned
    # web-1 was claimed by the new set (adopted), which then rolled it to web.yaml's image, as upstream does
    deletes = k("get", "events", "--field-selector", "involvedObject.name=web,reason=SuccessfulDelete",
                "-o", "jsonpath={range .items[*]}{.message}{'\\n'}{end}")
    assert "delete Pod web-2 in StatefulSet web successful" in deletes
    assert "FailedCreate" not in k("get", "events", "--field-selector", "involvedObject.name=web")
    assert {image(p) for p in k.pods().values()} == {"registry.k8s.io/nginx-slim:0.7"}


def test_08_events_for_the_statefulset_list_what_its_controller_did(k):
    out = k("events", "--for", "sts/web")
    assert "SuccessfulCreate" in out and "create Pod web-0 in StatefulSet web successful" in out
    assert "<invalid>" not in out


def test_09_a_cascading_delete_removes_the_pods_and_keeps_the_claims(k):
    k("delete", "statefulset", "web")
    k("wait", "--for=delete", "pod/web-0", "pod/web-1", "--timeout=60s")
    assert not k.pods()
    k("delete", "service", "nginx")
    assert len(k("get", "pvc", "-l", "app=nginx", "-o", "name").split()) == 5


def test_10_parallel_pod_management_starts_and_stops_pods_together(k):
    k("apply", "-f", "web-parallel.yaml")
    k("wait", "--for=condition=Ready", "pod/web-0", "pod/web-1", "--timeout=60s")
    pods = k.pods("app.kubernetes.io/name=nginx")
    assert created(pods["web-1"]) == created(pods["web-0"]), "web-1 did not wait for web-0: one sync made both"
    k("scale", "statefulset/web", "--replicas=4")
    k("wait", "--for=condition=Ready", "pod/web-2", "pod/web-3", "--timeout=60s")
    pods = k.pods("app.kubernetes.io/name=nginx")
    assert sorted(pods) == ["web-0", "web-1", "web-2", "web-3"]
    assert created(pods["web-3"]) == created(pods["web-2"]), "both in one sync"
    k("delete", "sts", "web")
    k("delete", "svc", "nginx")
    k("delete", "pvc", "www-web-0", "www-web-1", "www-web-2", "www-web-3", "www-web-4")


# ---------------------------------------------------------------------- the J acceptance commands
def test_drain_evicts_through_the_budget_and_the_pod_comes_back_elsewhere_with_its_claim(tmp_path):
    k = Served(tmp_path, "--clock", "discrete")
    try:
        k("apply", "-f", "web.yaml")
        k("rollout", "status", "sts/web", "--timeout=60s")
        k("wait", "--for=condition=Ready", "pod/web-0", "pod/web-1", "--timeout=60s")
        k("create", "pdb", "web", "--selector=app=nginx", "--min-available=1")
        on_worker1 = [n for n, p in k.pods().items() if p["spec"]["nodeName"] == "k8s-worker1"]
        assert on_worker1, "the scheduler spread the set over both workers"
        victim = on_worker1[0]
        claim = k.json("pvc", f"www-{victim}")["spec"]["volumeName"]
        out = k("drain", "k8s-worker1", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=120s")
        assert f"evicting pod default/{victim}" in out and "node/k8s-worker1 drained" in out, out
        k("wait", "--for=condition=Ready", f"pod/{victim}", "--timeout=60s")
        back = k.pods()[victim]
        assert back["spec"]["nodeName"] == "k8s-worker2"
        assert k.json("pvc", f"www-{victim}")["spec"]["volumeName"] == claim
        assert "SchedulingDisabled" in k("get", "node", "k8s-worker1")
        k("uncordon", "k8s-worker1")
    finally:
        k.stop()


@pytest.mark.parametrize("clock", ["realtime", "discrete"])
def test_describe_shows_real_ages_in_every_clock_serve_offers(tmp_path, clock):
    k = Served(tmp_path, "--clock", clock)
    try:
        k("run", "web", "--image=nginx")
        k("wait", "--for=condition=Ready", "pod/web", "--timeout=60s")
        out = k("describe", "pod", "web")
        ages = re.findall(r"^\s+Normal\s+\w+\s+(\S+)\s+", out, re.M)
        assert ages and "<invalid>" not in out, out
        seconds = [int(a[:-1]) if a.endswith("s") else 60 * int(a.split("m")[0]) for a in ages]
        if clock == "realtime":
            assert max(seconds) < 60, "a cluster started moments ago: every event is seconds old"
        events = k("events")
        assert "<invalid>" not in events
    finally:
        k.stop()


def test_11_describe_node_shows_its_lease_and_the_kubelets_conditions(k):
    out = k("describe", "node", "k8s-worker1")
    assert "Failed to get lease" not in out
    assert re.search(r"^Lease:\s*\n\s+HolderIdentity:\s+k8s-worker1\n", out, re.M), out
    for cond in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready"):
        assert re.search(rf"^\s+{cond}\s+(False|True)\s", out, re.M), cond
    assert "KubeletHasSufficientMemory" in out and "kubelet is posting ready status" in out
    assert re.search(r"^Capacity:\n(\s+\S+:\s+\S+\n)+", out, re.M) and "Allocatable:" in out
