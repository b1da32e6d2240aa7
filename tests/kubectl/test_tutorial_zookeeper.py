"""kubernetes.io's *Running ZooKeeper, A Distributed System Coordinator*, step by step with kubectl, on a served sandbox.

The tutorial asks for a cluster of at least four nodes: the sandbox here has four workers
(``stsnb sandbox serve --workers 4``). Its manifest as the page gives it: the ``zk-hs`` and ``zk-cs``
Services, the ``zk-pdb`` PodDisruptionBudget, and the ``zk`` StatefulSet of
``registry.k8s.io/kubernetes-zookeeper:1.0-3.4.10`` spread one server a node by required pod
anti-affinity, started by ``start-zookeeper`` and probed by ``zookeeper-ready 2181``. Each section
of the page is a test: the ensemble's ids, names and configuration; a value written on one server
and read on another, which survives deleting the set; a rolling update and its undo; ``ps -ef`` and
``pkill java``; the liveness probe after ``rm /usr/bin/zookeeper-ready``; and draining nodes under the
disruption budget.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .conftest import Kubectl

TUTORIAL = Path(__file__).parent / "tutorial"
WATCHER = "Connecting to localhost:2181\n\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\n"


@pytest.fixture
def kubectl(new_sandbox, kubectl_binary, kubectl_minor, tmp_path) -> Kubectl:
    """kubectl against a fresh sandbox with four workers, as the tutorial asks."""
    sb = new_sandbox(seed=1, workers=4)
    yield Kubectl(sb, kubectl_binary, kubectl_minor, tmp_path)
    assert not sb.internal_errors, sb.internal_errors
    assert not sb.engine.errors, sb.engine.errors


def _ensemble(kubectl) -> None:
    out = kubectl("apply", "-f", str(TUTORIAL / "zookeeper.yaml")).out
    assert out.splitlines()[:3] == ["service/zk-hs created", "service/zk-cs created",
                                   "poddisruptionbudget.policy/zk-pdb created"]
    kubectl.settled("zk", 3)


def _node(kubectl, pod: str) -> str:
    return kubectl("get", "pod", pod, "--template", "{{.spec.nodeName}}").out


def test_the_ensemble_comes_up_one_server_a_node_with_its_ids_names_and_configuration(kubectl):
    _ensemble(kubectl)
    assert len({_node(kubectl, f"zk-{i}") for i in range(3)}) == 3  # the anti-affinity spreads them
    assert [kubectl("exec", f"zk-{i}", "--", "hostname").out for i in range(3)] == ["zk-0\n", "zk-1\n", "zk-2\n"]
    assert [kubectl("exec", f"zk-{i}", "--", "cat", "/var/lib/zookeeper/data/myid").out for i in range(3)] == [
        "1\n", "2\n", "3\n"]
    assert kubectl("exec", "zk-1", "--", "hostname", "-f").out == "zk-1.zk-hs.default.svc.cluster.local\n"
    cfg = kubectl("exec", "zk-0", "--", "cat", "/opt/zookeeper/conf/zoo.cfg").out.splitlines()
    assert {"clientPort=2181", "dataDir=/var/lib/zookeeper/data", "dataLogDir=/var/lib/zookeeper/data/log",
            "tickTime=2000", "initLimit=10", "syncLimit=5", "maxClientCnxns=60", "minSessionTimeout=4000",
            "maxSessionTimeout=40000", "autopurge.snapRetainCount=3"} <= set(cfg)
    assert cfg[-3:] == [f"server.{i + 1}=zk-{i}.zk-hs.default.svc.cluster.local:2888:3888" for i in range(3)]
    # runAsUser 1000, fsGroup 1000: the server's data directory is its own, setgid to the volume's group
    data = kubectl("exec", "zk-0", "--", "ls", "-ld", "/var/lib/zookeeper/data").out.split()
    assert data[0] == "drwxr-sr-x" and data[2:4] == ["zookeeper", "zookeeper"]
    log4j = kubectl("exec", "zk-0", "--", "cat", "/opt/zookeeper/conf/log4j.properties").out
    assert log4j.startswith("zookeeper.root.logger=CONSOLE\nzookeeper.console.threshold=INFO\n")
    # the probes' ruok, as `kubectl logs zk-0 --tail 20` shows them
    tail = kubectl("logs", "zk-0", "--tail", "3").out.splitlines()
    assert [line.split(" - ", 2)[2] for line in tail][1].startswith("Processing ruok command from /127.0.0.1:")
    assert tail[0].split(" ", 3)[2] == "[myid:1]"


def test_a_value_written_on_one_server_is_read_on_another_and_survives_deleting_the_set(kubectl):
    _ensemble(kubectl)
    created = kubectl("exec", "zk-0", "--", "zkCli.sh", "create", "/hello", "world")
    assert (created.out, created.err) == (WATCHER, "Created /hello\n")
    got = kubectl("exec", "zk-1", "--", "zkCli.sh", "get", "/hello")
    assert got.out == WATCHER + "world\n"
    stat = got.err.splitlines()
    assert stat[0] == "cZxid = 0x100000002" and stat[2] == "mZxid = 0x100000002" and stat[4] == "pZxid = 0x100000002"
    assert stat[5:] == ["cversion = 0", "dataVersion = 0", "aclVersion = 0", "ephemeralOwner = 0x0", "dataLength = 5",
                        "numChildren = 0"]
    assert re.fullmatch(r"ctime = (Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d UTC \d{4}", stat[1])
    again = kubectl("exec", "zk-2", "--", "zkCli.sh", "create", "/hello", "again", check=False)
    assert (again.code, again.err) == (1, "Node already exists: /hello\ncommand terminated with exit code 1\n")
    assert kubectl("exec", "zk-2", "--", "zkCli.sh", "ls", "/").out == WATCHER + "[hello, zookeeper]\n"

    kubectl("delete", "statefulset", "zk")
    kubectl.wait("the servers to go", lambda: not kubectl.objs("pods", "app=zk"))
    kubectl("apply", "-f", str(TUTORIAL / "zookeeper.yaml"))
    kubectl.settled("zk", 3)
    after = kubectl("exec", "zk-2", "--", "zkCli.sh", "get", "/hello")
    assert after.out == WATCHER + "world\n" and after.err.splitlines() == stat
    claims = [line.split()[:2] for line in kubectl("get", "pvc", "-l", "app=zk", "--no-headers").out.splitlines()]
    assert claims == [[f"datadir-zk-{i}", "Bound"] for i in range(3)]
    # the new ensemble began a new epoch; its servers keep it beside their data
    assert kubectl("exec", "zk-0", "--", "cat", "/var/lib/zookeeper/data/version-2/currentEpoch").out == "2"


def test_a_rolling_update_and_its_undo_replace_the_servers_one_at_a_time_and_the_data_stays(kubectl):
    _ensemble(kubectl)
    kubectl("exec", "zk-0", "--", "zkCli.sh", "create", "/hello", "world")
    patch = [{"op": "replace", "path": "/spec/template/spec/containers/0/resources/requests/cpu", "value": "0.3"}]
    assert kubectl("patch", "sts", "zk", "--type=json", "-p", json.dumps(patch)).out == "statefulset.apps/zk patched\n"
    status = kubectl("rollout", "status", "sts/zk", timeout=120).out
    assert status.splitlines()[-1].startswith("statefulset rolling update complete 3 pods at revision zk-")
    history = kubectl("rollout", "history", "sts/zk").out.split()
    assert history[history.index("REVISION"):] == ["REVISION", "CHANGE-CAUSE", "1", "<none>", "2", "<none>"]
    assert kubectl("rollout", "undo", "sts/zk").out == "statefulset.apps/zk rolled back\n"
    kubectl("rollout", "status", "sts/zk", timeout=120)
    assert kubectl("get", "pod", "zk-0", "-o", "jsonpath={.spec.containers[0].resources.requests.cpu}").out == "500m"
    assert kubectl("exec", "zk-1", "--", "zkCli.sh", "get", "/hello").out == WATCHER + "world\n"


def test_removing_zookeeper_ready_fails_the_liveness_probe_and_the_restarted_server_has_it_again(kubectl):
    _ensemble(kubectl)
    kubectl("exec", "zk-0", "--", "rm", "/usr/bin/zookeeper-ready")
    kubectl.wait("zk-0 to be restarted and Ready", lambda: (lambda s: s.get("restartCount") == 1 and s.get("ready"))(
        kubectl.obj("pods", "zk-0")["status"]["containerStatuses"][0]), timeout=60)
    last = kubectl.obj("pods", "zk-0")["status"]["containerStatuses"][0]["lastState"]["terminated"]
    assert (last["exitCode"], last["reason"]) == (143, "Error")  # the JVM, stopped by SIGTERM
    described = kubectl("describe", "pod", "zk-0").out
    assert "Liveness probe failed: sh: 1: zookeeper-ready: not found" in described
    assert "Container kubernetes-zookeeper failed liveness probe, will be restarted" in described
    assert kubectl("exec", "zk-0", "--", "ls", "/usr/bin/zookeeper-ready").out == "/usr/bin/zookeeper-ready\n"


def test_ps_shows_the_jvm_under_pid_1_and_pkill_java_restarts_the_container(kubectl):
    _ensemble(kubectl)
    ps = kubectl("exec", "zk-0", "--", "ps", "-ef").out.splitlines()
    assert ps[0] == "UID        PID  PPID  C STIME TTY          TIME CMD"
    assert ps[1].startswith("zookeep+     1     0  0 ") and " ?        00:00:00 sh -c start-zookeeper --servers=3 " in ps[1]
    java = next(line for line in ps if line.split()[1] == "27")
    assert java.split()[2] == "1" and java.split()[7] == "/usr/lib/jvm/java-8-openjdk-amd64/bin/java"
    assert java.endswith("org.apache.zookeeper.server.quorum.QuorumPeerMain /opt/zookeeper/conf/zoo.cfg")
    assert " -Xmx512M -Xms512M " in java
    assert kubectl("exec", "zk-0", "--", "ps", "-elf").out.startswith(
        "F S UID        PID  PPID  C PRI  NI ADDR SZ WCHAN  STIME TTY          TIME CMD\n4 S zookeep+     1     0  0  80")

    assert kubectl("exec", "zk-0", "--", "pkill", "java").code == 0
    kubectl.wait("zk-0 to be restarted and Ready", lambda: (lambda s: s.get("restartCount") == 1 and s.get("ready"))(
        kubectl.obj("pods", "zk-0")["status"]["containerStatuses"][0]), timeout=60)
    last = kubectl.obj("pods", "zk-0")["status"]["containerStatuses"][0]["lastState"]["terminated"]
    assert (last["exitCode"], last["reason"]) == (143, "Error")
    assert kubectl("exec", "zk-0", "--", "pkill", "nothing-like-it", check=False).code == 1


def test_draining_nodes_respects_the_disruption_budget_and_the_anti_affinity(kubectl):
    _ensemble(kubectl)
    kubectl("exec", "zk-0", "--", "zkCli.sh", "create", "/hello", "world")
    assert kubectl("get", "pdb", "zk-pdb", "--no-headers").out.split()[:4] == ["zk-pdb", "N/A", "1", "1"]
    drain = ("--ignore-daemonsets", "--force", "--delete-emptydir-data")
    first = _node(kubectl, "zk-0")
    out = kubectl("drain", first, *drain, timeout=60).out
    assert f"node/{first} cordoned" in out and "pod/zk-0 evicted" in out and f"node/{first} drained" in out
    kubectl.settled("zk", 3)
    assert _node(kubectl, "zk-0") not in (first, _node(kubectl, "zk-1"), _node(kubectl, "zk-2"))

    second = _node(kubectl, "zk-1")
    kubectl("drain", second, *drain, timeout=60)
    kubectl.wait("zk-1 to wait for a node", lambda: any(
        c.get("reason") == "Unschedulable" for c in (kubectl.obj("pods", "zk-1") or {}).get("status", {}).get(
            "conditions", [])))
    message = next(c["message"] for c in kubectl.obj("pods", "zk-1")["status"]["conditions"]
                   if c["type"] == "PodScheduled")
    assert "2 node(s) didn't match pod anti-affinity rules, 2 node(s) were unschedulable" in message

    third = _node(kubectl, "zk-2")
    blocked = kubectl("drain", third, *drain, "--timeout=6s", check=False, timeout=60)
    assert blocked.code == 1
    assert "Cannot evict pod as it would violate the pod's disruption budget." in blocked.err
    # two of three servers still make a quorum
    assert kubectl("exec", "zk-0", "--", "zkCli.sh", "get", "/hello").out == WATCHER + "world\n"

    kubectl("uncordon", first)
    kubectl.settled("zk", 3)
    assert _node(kubectl, "zk-1") == first
    assert "pod/zk-2 evicted" in kubectl("drain", third, *drain, timeout=60).out
    kubectl("uncordon", second)


def test_without_a_quorum_zkcli_fails_with_connection_loss(kubectl):
    _ensemble(kubectl)
    kubectl("scale", "sts", "zk", "--replicas=1")
    kubectl.settled("zk", 1)
    lost = kubectl("exec", "zk-0", "--", "zkCli.sh", "get", "/hello", check=False)
    assert lost.code == 1
    assert lost.err == ('Exception in thread "main" org.apache.zookeeper.KeeperException$ConnectionLossException: '
                        "KeeperErrorCode = ConnectionLoss for /hello\ncommand terminated with exit code 1\n")
