"""kubernetes.io's *Example: Deploying Cassandra with a StatefulSet*, step by step with kubectl, on a served sandbox.

The page's commands and manifests as they are: the headless Service, the StatefulSet of
``gcr.io/google-samples/cassandra:v13`` with its ``/ready-probe.sh`` readiness probe and ``nodetool
drain`` preStop hook, a StorageClass ``fast`` for ``k8s.io/minikube-hostpath``. The ring forms one
node at a time (``OrderedReady``: each pod waits until the one before it is Ready, which its probe
says once ``nodetool status`` shows it ``UN``); ``kubectl edit`` grows it to four; the cleanup deletes
the set and then its claims by label.
"""

from __future__ import annotations

import re
from pathlib import Path

TUTORIAL = Path(__file__).parent / "tutorial"
HEADER = ("Datacenter: DC1-K8Demo\n======================\nStatus=Up/Down\n|/ State=Normal/Leaving/Joining/Moving\n")


def _ring(kubectl, pod: str) -> list[list[str]]:
    """``nodetool status`` in ``pod``, as the page runs it: its rows, split into columns (Load is two words)."""
    out = kubectl("exec", pod, "--", "nodetool", "status").out
    assert out.startswith(HEADER), out
    lines = out[len(HEADER):].splitlines()
    assert re.fullmatch(r"--  Address +Load       Tokens       Owns \(effective\)  Host ID {31}Rack", lines[0]), lines[0]
    return [line.split() for line in lines[1:]]


def _pod_ips(kubectl) -> dict[str, str]:
    return {p["metadata"]["name"]: p["status"]["podIP"] for p in kubectl.objs("pods", "app=cassandra")}


def test_the_cassandra_ring_forms_node_by_node_and_nodetool_shows_it(kubectl):
    kubectl.apply(TUTORIAL / "cassandra-service.yaml")
    assert kubectl("get", "svc", "cassandra", "--no-headers").out.split()[:5] == [
        "cassandra", "ClusterIP", "None", "<none>", "9042/TCP"]
    kubectl.apply(TUTORIAL / "cassandra-statefulset.yaml")

    # the first node is not Ready until it has joined: its probe fails at first, and nodetool cannot connect
    kubectl.wait("cassandra-0 to run", lambda: (kubectl.obj("pods", "cassandra-0") or {}).get("status", {})
                 .get("containerStatuses", [{}])[0].get("state", {}).get("running"))
    early = kubectl("exec", "cassandra-0", "--", "nodetool", "status", check=False)
    assert early.code == 1
    assert "nodetool: Failed to connect to '127.0.0.1:7199' - ConnectException: 'Connection refused" in early.err
    assert kubectl("get", "pods", "-l", "app=cassandra", "--no-headers").out.split()[:3] == [
        "cassandra-0", "0/1", "Running"]

    kubectl.settled("cassandra", 3)
    events = kubectl("get", "events", "--field-selector", "involvedObject.name=cassandra-0", "-o",
                     "jsonpath={range .items[*]}{.reason}:{.message}{'\\n'}{end}").out
    assert "Unhealthy:Readiness probe failed:\n" in events
    assert "GenericContainer" not in events  # the image is one the sandbox knows

    ips = _pod_ips(kubectl)
    rows = _ring(kubectl, "cassandra-0")
    assert sorted(r[1] for r in rows) == sorted(ips.values())
    for state, _address, load, unit, tokens, owns, host_id, rack in rows:
        assert (state, unit, tokens, rack) == ("UN", "KiB", "32", "Rack1-K8Demo")
        assert re.fullmatch(r"\d+(\.\d{1,2})?", load)
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", host_id)
    # system_traces' replication factor 2: the effective ownerships add up to 200 %
    assert abs(sum(float(r[5].rstrip("%")) for r in rows) - 200.0) < 0.3
    assert len({r[6] for r in rows}) == 3
    # every node sees the same ring
    assert _ring(kubectl, "cassandra-2") == rows

    log = kubectl("logs", "cassandra-1").out
    assert log.startswith(f"Starting Cassandra on {ips['cassandra-1']}\nCASSANDRA_CONF_DIR /etc/cassandra\n")
    assert "CASSANDRA_SEEDS cassandra-0.cassandra.default.svc.cluster.local\n" in log
    assert f"Node /{ips['cassandra-1']} state jump to NORMAL" in log
    assert kubectl("exec", "cassandra-1", "--", "cat", "/etc/cassandra/cassandra-rackdc.properties").out == (
        "dc=DC1-K8Demo\nrack=Rack1-K8Demo\n")


def test_kubectl_edit_grows_the_ring_to_four_and_the_cleanup_deletes_the_claims_by_label(kubectl):
    kubectl.apply(TUTORIAL / "cassandra-service.yaml", TUTORIAL / "cassandra-statefulset.yaml")
    kubectl.settled("cassandra", 3)
    host_ids = {r[1]: r[6] for r in _ring(kubectl, "cassandra-0")}

    kubectl.env["KUBE_EDITOR"] = "sed -i s/replicas:\\ 3/replicas:\\ 4/"
    kubectl("edit", "statefulset", "cassandra")
    kubectl.settled("cassandra", 4)
    assert kubectl("get", "statefulset", "cassandra", "--no-headers").out.split()[:2] == ["cassandra", "4/4"]
    rows = _ring(kubectl, "cassandra-3")
    assert sorted(r[1] for r in rows) == sorted(_pod_ips(kubectl).values())
    assert abs(sum(float(r[5].rstrip("%")) for r in rows) - 200.0) < 0.4
    # the three first nodes kept their host IDs
    assert {ip: h for ip, h in ((r[1], r[6]) for r in rows) if ip in host_ids} == host_ids

    grace = kubectl("get", "pod", "cassandra-0", "-o=jsonpath={.spec.terminationGracePeriodSeconds}").out
    assert grace == "500"
    kubectl("delete", "statefulset", "-l", "app=cassandra")
    kubectl.wait("the pods to go", lambda: not kubectl.objs("pods", "app=cassandra"))
    events = kubectl("get", "events", "-o", "jsonpath={range .items[*]}{.reason}{'\\n'}{end}").out
    assert "FailedPreStopHook" not in events  # `nodetool drain` succeeded
    claims = kubectl("get", "pvc", "-l", "app=cassandra", "--no-headers").out.split("\n")
    assert sorted(line.split()[0] for line in claims if line) == [f"cassandra-data-cassandra-{i}" for i in range(4)]
    kubectl("delete", "persistentvolumeclaim", "-l", "app=cassandra")
    kubectl.wait("the claims to go", lambda: not kubectl.objs("persistentvolumeclaims", "app=cassandra"))
    kubectl("delete", "service", "-l", "app=cassandra")
    assert kubectl("get", "svc", "cassandra", check=False).code == 1
