"""The sandbox's server-side Tables print exactly what the guide's kubectl printed.

Each guide output is rebuilt from small object dicts, rendered the way kubectl
renders a Table (upper-cased headers, priority-1 columns only with ``-o wide``,
``kind/`` before names when several kinds are listed, a tabwriter with padding
3), and compared line by line. Creation times are set so that every AGE cell
reproduces the guide's value, so the comparison needs no masking.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from stsnb.sandbox import Sandbox
from stsnb.sandbox.apiserver import printers
from stsnb.sandbox.apiserver.printers import column_definitions, human_duration, table
from stsnb.sandbox.apiserver.schemas import Schemas

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def ago(age: str) -> str:
    """RFC 3339 time that is ``age`` (``"145m"``, ``"22h"``, ``"64s"``) before NOW."""
    seconds = sum(int(n) * _UNITS[u] for n, u in re.findall(r"(\d+)([smhd])", age))
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------
# kubectl's side: how a Table becomes text
# --------------------------------------------------------------------------


def _cell_text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    text = str(cell)
    return text[: text.index("\n")] + "..." if "\n" in text else text


def render(tbl: dict, *, wide: bool = False, kind: str | None = None) -> str:
    """kubectl's table printer: tabwriter (minwidth 6, padding 3), last column unpadded."""
    columns = [(i, c) for i, c in enumerate(tbl["columnDefinitions"]) if wide or c["priority"] == 0]
    lines = [[c["name"].upper() for _, c in columns]]
    for row in tbl["rows"]:
        line = []
        for i, column in columns:
            text = _cell_text(row["cells"][i])
            if kind and column["format"] == "name" and column["type"] == "string":
                text = f"{kind}/{text}"
            line.append(text)
        lines.append(line)
    widths = [max(6, max(len(line[j]) for line in lines) + 3) for j in range(len(columns) - 1)]
    return "\n".join(
        "".join(cell.ljust(width) for cell, width in zip(line, widths)) + line[-1] for line in lines
    )


# --------------------------------------------------------------------------
# Objects shaped like the guide's
# --------------------------------------------------------------------------


def pod(
    name: str,
    age: str,
    *,
    ip: str | None = None,
    node: str | None = None,
    labels: dict | None = None,
    phase: str = "Running",
    container_statuses: list | None = None,
    **extra: Any,
) -> dict:
    status: dict[str, Any] = {"phase": phase}
    if container_statuses is None:
        container_statuses = [
            {"name": "nginx", "ready": True, "restartCount": 0, "started": True, "state": {"running": {}}}
        ]
    status["containerStatuses"] = container_statuses
    status["conditions"] = [{"type": "Ready", "status": "True"}] if phase == "Running" else []
    if ip:
        status["podIP"] = ip
        status["podIPs"] = [{"ip": ip}]
    spec: dict[str, Any] = {"containers": [{"name": "nginx", "image": "nginx"}]}
    if node:
        spec["nodeName"] = node
    obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "default",
            "labels": labels or {},
            "creationTimestamp": ago(age),
        },
        "spec": spec,
        "status": status,
    }
    for key, value in extra.items():
        obj[key].update(value)
    return obj


def statefulset(name: str, age: str, *, replicas: int = 3, ready: int = 3) -> dict:
    return {
        "metadata": {"name": name, "namespace": "default", "creationTimestamp": ago(age)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "serviceName": name,
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx"}]},
            },
        },
        "status": {"replicas": replicas, "readyReplicas": ready},
    }


def deployment(name: str, age: str) -> dict:
    return {
        "metadata": {"name": name, "namespace": "default", "creationTimestamp": ago(age)},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx"}]},
            },
        },
        "status": {"replicas": 3, "readyReplicas": 3, "updatedReplicas": 3, "availableReplicas": 3},
    }


def service(name: str, age: str, *, cluster_ip: str, selector: dict | None = None) -> dict:
    return {
        "metadata": {"name": name, "namespace": "default", "creationTimestamp": ago(age)},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": cluster_ip,
            "clusterIPs": [cluster_ip],
            "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
            "selector": selector if selector is not None else {"app": name},
        },
        "status": {"loadBalancer": {}},
    }


def claim(name: str, age: str, *, volume: str, size: str = "2Gi", storage_class: str = "sc-nfs") -> dict:
    return {
        "metadata": {"name": name, "namespace": "default", "creationTimestamp": ago(age)},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": size}},
            "storageClassName": storage_class,
            "volumeMode": "Filesystem",
            "volumeName": volume,
        },
        "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": size}},
    }


# --------------------------------------------------------------------------
# HumanDuration
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0s"),
        (119, "119s"),
        (120, "2m"),
        (121, "2m1s"),
        (599, "9m59s"),
        (600, "10m"),
        (3 * 3600 - 1, "179m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 60, "3h1m"),
        (8 * 3600 - 1, "7h59m"),
        (8 * 3600, "8h"),
        (48 * 3600 - 1, "47h"),
        (48 * 3600, "2d"),
        (50 * 3600, "2d2h"),
        (8 * 86400 - 1, "7d23h"),
        (8 * 86400, "8d"),
        (2 * 365 * 86400 - 1, "729d"),
        (2 * 365 * 86400, "2y"),
        (2 * 365 * 86400 + 86400, "2y1d"),
        (8 * 365 * 86400 - 1, "7y364d"),
        (8 * 365 * 86400, "8y"),
        (20 * 365 * 86400, "20y"),
    ],
)
def test_human_duration_matches_apimachinery_at_every_boundary(seconds: int, expected: str) -> None:
    assert human_duration(seconds) == expected


@pytest.mark.parametrize(("seconds", "expected"), [(-0.5, "0s"), (-1, "0s"), (-1.9, "0s"), (-2, "<invalid>")])
def test_human_duration_tolerates_under_two_seconds_of_clock_skew(seconds: float, expected: str) -> None:
    assert human_duration(seconds) == expected


def test_an_object_without_creation_timestamp_is_of_unknown_age() -> None:
    obj = statefulset("web", "1m")
    del obj["metadata"]["creationTimestamp"]
    assert table("statefulsets", [obj], NOW)["rows"][0]["cells"][2] == "<unknown>"


# --------------------------------------------------------------------------
# The guide's outputs
# --------------------------------------------------------------------------

GUIDE_GET_POD = """\
NAME                           READY   STATUS    RESTARTS   AGE
nginx-stateful-0               1/1     Running   0          10m
nginx-stateful-1               1/1     Running   0          146m
nginx-stateful-2               1/1     Running   0          145m
test-deploy-584c765db4-2wv4w   1/1     Running   0          63m
test-deploy-584c765db4-724td   1/1     Running   0          63m
test-deploy-584c765db4-vwskk   1/1     Running   0          102m"""


def test_get_pod_lists_statefulset_and_deployment_pods_as_in_the_guide() -> None:
    pods = [
        pod("nginx-stateful-0", "10m"),
        pod("nginx-stateful-1", "146m"),
        pod("nginx-stateful-2", "145m"),
        pod("test-deploy-584c765db4-2wv4w", "63m"),
        pod("test-deploy-584c765db4-724td", "63m"),
        pod("test-deploy-584c765db4-vwskk", "102m"),
    ]
    assert render(table("pods", pods, NOW)) == GUIDE_GET_POD


GUIDE_GET_DEPLOY_SVC_PO_WIDE = """\
NAME                          READY   UP-TO-DATE   AVAILABLE   AGE   CONTAINERS   IMAGES   SELECTOR
deployment.apps/test-deploy   3/3     3            3           22h   nginx        nginx    app=test-deploy

NAME                  TYPE        CLUSTER-IP       EXTERNAL-IP   PORT(S)   AGE   SELECTOR
service/test-deploy   ClusterIP   10.110.169.181   <none>        80/TCP    52s   app=test-deploy

NAME                               READY   STATUS    RESTARTS   AGE   IP              NODE          NOMINATED NODE   READINESS GATES
pod/test-deploy-584c765db4-2wv4w   1/1     Running   0          21h   10.110.126.40   k8s-worker2   <none>           <none>
pod/test-deploy-584c765db4-724td   1/1     Running   0          21h   10.100.194.79   k8s-worker1   <none>           <none>
pod/test-deploy-584c765db4-vwskk   1/1     Running   0          22h   10.110.126.39   k8s-worker2   <none>           <none>"""


def test_get_deploy_svc_po_wide_shows_the_test_deploy_pods_as_in_the_guide() -> None:
    labels = {"app": "test-deploy", "pod-template-hash": "584c765db4"}
    pods = [
        pod("test-deploy-584c765db4-2wv4w", "21h", ip="10.110.126.40", node="k8s-worker2", labels=labels),
        pod("test-deploy-584c765db4-724td", "21h", ip="10.100.194.79", node="k8s-worker1", labels=labels),
        pod("test-deploy-584c765db4-vwskk", "22h", ip="10.110.126.39", node="k8s-worker2", labels=labels),
    ]
    output = "\n\n".join(
        [
            render(
                table("deployments", [deployment("test-deploy", "22h")], NOW), wide=True, kind="deployment.apps"
            ),
            render(
                table("services", [service("test-deploy", "52s", cluster_ip="10.110.169.181")], NOW),
                wide=True,
                kind="service",
            ),
            render(table("pods", pods, NOW), wide=True, kind="pod"),
        ]
    )
    assert output == GUIDE_GET_DEPLOY_SVC_PO_WIDE


GUIDE_GET_SVC_HEADLESS = """\
NAME             TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE
nginx-stateful   ClusterIP   None         <none>        80/TCP    24s"""


def test_get_svc_shows_none_as_the_cluster_ip_of_a_headless_service() -> None:
    svc = service("nginx-stateful", "24s", cluster_ip="None")
    assert render(table("services", [svc], NOW)) == GUIDE_GET_SVC_HEADLESS


GUIDE_GET_POD_WIDE = """\
NAME               READY   STATUS    RESTARTS   AGE   IP              NODE          NOMINATED NODE   READINESS GATES
nginx-stateful-0   1/1     Running   0          27m   10.100.194.82   k8s-worker1   <none>           <none>
nginx-stateful-1   1/1     Running   0          27m   10.110.126.47   k8s-worker2   <none>           <none>
nginx-stateful-2   1/1     Running   0          27m   10.100.194.90   k8s-worker1   <none>           <none>"""


def test_get_pod_wide_shows_each_statefulset_pod_ip_and_node_as_in_the_guide() -> None:
    pods = [
        pod("nginx-stateful-0", "27m", ip="10.100.194.82", node="k8s-worker1"),
        pod("nginx-stateful-1", "27m", ip="10.110.126.47", node="k8s-worker2"),
        pod("nginx-stateful-2", "27m", ip="10.100.194.90", node="k8s-worker1"),
    ]
    assert render(table("pods", pods, NOW), wide=True) == GUIDE_GET_POD_WIDE


GUIDE_GET_STS_SVC_PO_PVC = """\
NAME                               READY   AGE
statefulset.apps/nginx-stateful2   3/3     64s

NAME                      TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE
service/nginx-stateful2   ClusterIP   None         <none>        80/TCP    64s

NAME                    READY   STATUS    RESTARTS   AGE
pod/nginx-stateful2-0   1/1     Running   0          64s
pod/nginx-stateful2-1   1/1     Running   0          59s
pod/nginx-stateful2-2   1/1     Running   0          54s

NAME                                                          STATUS   VOLUME                                     CAPACITY   ACCESS MODES   STORAGECLASS   AGE
persistentvolumeclaim/nginx-stateful2-pvc-nginx-stateful2-0   Bound    pvc-7ffabf9b-b35e-4e6b-bb52-cf5572e13d93   2Gi        RWO            sc-nfs         64s
persistentvolumeclaim/nginx-stateful2-pvc-nginx-stateful2-1   Bound    pvc-69f41388-2916-41de-b43d-c819ae62e243   2Gi        RWO            sc-nfs         59s
persistentvolumeclaim/nginx-stateful2-pvc-nginx-stateful2-2   Bound    pvc-a7e63014-d29f-4823-b125-9f8e2f507f04   2Gi        RWO            sc-nfs         54s"""

_GUIDE_VOLUMES = (
    "pvc-7ffabf9b-b35e-4e6b-bb52-cf5572e13d93",
    "pvc-69f41388-2916-41de-b43d-c819ae62e243",
    "pvc-a7e63014-d29f-4823-b125-9f8e2f507f04",
)


def _nginx_stateful2_claims() -> list[dict]:
    return [
        claim(f"nginx-stateful2-pvc-nginx-stateful2-{i}", age, volume=volume)
        for i, (age, volume) in enumerate(zip(("64s", "59s", "54s"), _GUIDE_VOLUMES))
    ]


def test_get_sts_svc_po_pvc_shows_the_claim_templates_pvcs_as_in_the_guide() -> None:
    pods = [pod(f"nginx-stateful2-{i}", age) for i, age in enumerate(("64s", "59s", "54s"))]
    output = "\n\n".join(
        [
            render(
                table("statefulsets", [statefulset("nginx-stateful2", "64s")], NOW), kind="statefulset.apps"
            ),
            render(
                table("services", [service("nginx-stateful2", "64s", cluster_ip="None")], NOW), kind="service"
            ),
            render(table("pods", pods, NOW), kind="pod"),
            render(
                table("persistentvolumeclaims", _nginx_stateful2_claims(), NOW, k8s_version="1.27"),
                kind="persistentvolumeclaim",
            ),
        ]
    )
    assert output == GUIDE_GET_STS_SVC_PO_PVC


@pytest.mark.parametrize(
    ("age", "line"), [("145m", "nginx-stateful   3/3     145m"), ("14s", "nginx-stateful   3/3     14s")]
)
def test_get_sts_shows_ready_over_desired_replicas(age: str, line: str) -> None:
    assert render(table("statefulsets", [statefulset("nginx-stateful", age)], NOW)) == (
        "NAME             READY   AGE\n" + line
    )


def test_a_statefulset_scaling_down_shows_more_ready_pods_than_desired() -> None:
    row = table("statefulsets", [statefulset("web", "5m", replicas=1, ready=3)], NOW)["rows"][0]
    assert row["cells"][1] == "3/1"


def test_a_statefulset_without_replicas_is_defaulted_to_one() -> None:
    obj = statefulset("web", "5m", ready=0)
    del obj["spec"]["replicas"]
    assert table("statefulsets", [obj], NOW)["rows"][0]["cells"][1] == "0/1"


# --------------------------------------------------------------------------
# Version-dependent columns
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "has_column"),
    [("1.27", False), ("v1.28.15", False), ("1.29", True), ("1.34", True), ("current", True)],
)
def test_the_volumeattributesclass_column_appears_from_1_29(version: str, has_column: bool) -> None:
    for plural in ("persistentvolumeclaims", "persistentvolumes"):
        names = [c["name"] for c in column_definitions(plural, version)]
        assert ("VolumeAttributesClass" in names) is has_column


def test_a_recent_cluster_prints_unset_volumeattributesclass_for_a_pvc() -> None:
    tbl = table("persistentvolumeclaims", _nginx_stateful2_claims()[:1], NOW, k8s_version="1.30")
    assert render(tbl, wide=True) == (
        "NAME                                    STATUS   VOLUME                                     "
        "CAPACITY   ACCESS MODES   STORAGECLASS   VOLUMEATTRIBUTESCLASS   AGE   VOLUMEMODE\n"
        "nginx-stateful2-pvc-nginx-stateful2-0   Bound    pvc-7ffabf9b-b35e-4e6b-bb52-cf5572e13d93   "
        "2Gi        RWO            sc-nfs         <unset>                 64s   Filesystem"
    )


def test_every_row_has_exactly_one_cell_per_column_in_every_version() -> None:
    samples = {
        "pods": pod("p", "1m"),
        "statefulsets": statefulset("s", "1m"),
        "deployments": deployment("d", "1m"),
        "replicasets": {"metadata": {"name": "r"}, "spec": {}, "status": {}},
        "services": service("s", "1m", cluster_ip="10.0.0.1"),
        "endpoints": {"metadata": {"name": "e"}},
        "endpointslices": {"metadata": {"name": "e"}, "addressType": "IPv4"},
        "persistentvolumeclaims": claim("c", "1m", volume="v"),
        "persistentvolumes": {"metadata": {"name": "v"}, "spec": {}, "status": {}},
        "storageclasses": {"metadata": {"name": "s"}, "provisioner": "x"},
        "controllerrevisions": {"metadata": {"name": "c"}, "revision": 1},
        "namespaces": {"metadata": {"name": "n"}, "status": {"phase": "Active"}},
        "nodes": {"metadata": {"name": "n"}},
        "events": {"metadata": {"name": "e"}},
        "configmaps": {"metadata": {"name": "c"}},
        "secrets": {"metadata": {"name": "s"}},
        "serviceaccounts": {"metadata": {"name": "s"}},
        "jobs": {"metadata": {"name": "j"}, "spec": {}},
        "cronjobs": {"metadata": {"name": "c"}, "spec": {"schedule": "* * * * *"}},
        "ingresses": {"metadata": {"name": "i"}, "spec": {}},
        "poddisruptionbudgets": {"metadata": {"name": "p"}, "spec": {}},
        "horizontalpodautoscalers": {"metadata": {"name": "h"}, "spec": {"maxReplicas": 3}},
        "leases": {"metadata": {"name": "l"}, "spec": {}},
        "roles": {"metadata": {"name": "r"}},
        "clusterroles": {"metadata": {"name": "r"}},
        "rolebindings": {"metadata": {"name": "b"}, "roleRef": {"kind": "Role", "name": "r"}},
        "clusterrolebindings": {"metadata": {"name": "b"}, "roleRef": {"kind": "ClusterRole", "name": "r"}},
        "widgets": {"metadata": {"name": "w"}},
    }
    assert set(samples) - {"widgets"} == set(printers.PRINTED_RESOURCES)
    for version in ("1.27", "1.29", "current"):
        for plural, obj in samples.items():
            tbl = table(plural, [obj], NOW, k8s_version=version)
            assert len(tbl["rows"][0]["cells"]) == len(tbl["columnDefinitions"]), (plural, version)
            json.dumps(tbl)  # JSON-ready


# --------------------------------------------------------------------------
# Column definitions
# --------------------------------------------------------------------------


def test_pod_columns_are_printers_go_names_types_and_priorities() -> None:
    columns = column_definitions("pods", "1.27", Schemas.for_version("1.27").field_description)
    assert [(c["name"], c["type"], c["format"], c["priority"]) for c in columns] == [
        ("Name", "string", "name", 0),
        ("Ready", "string", "", 0),
        ("Status", "string", "", 0),
        ("Restarts", "string", "", 0),
        ("Age", "string", "", 0),
        ("IP", "string", "", 1),
        ("Node", "string", "", 1),
        ("Nominated Node", "string", "", 1),
        ("Readiness Gates", "string", "", 1),
    ]
    assert columns[0]["description"].startswith("Name must be unique within a namespace. Is required")
    assert columns[4]["description"].startswith("CreationTimestamp is a timestamp representing the server time")
    assert columns[1]["description"] == "The aggregate readiness state of this pod for accepting traffic."


META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
CORE = "io.k8s.api.core.v1."


@pytest.mark.parametrize(("version", "ip_doc"), [("1.27", "IP address allocated"), ("1.34", "podIP address allocated")])
def test_a_sandbox_serves_the_column_descriptions_of_the_version_it_imitates(version: str, ip_doc: str) -> None:
    schemas = Schemas.for_version(version)
    sb = Sandbox(k8s_version=version, dns_port=None)

    def descriptions(plural: str) -> dict[str, str]:
        return {c["name"]: c["description"] for c in sb.table(plural, [], "Metadata", {})["columnDefinitions"]}

    pods = descriptions("pods")
    assert pods["Name"] == schemas.field_description(META, "name")
    assert pods["Age"] == schemas.field_description(META, "creationTimestamp")
    assert pods["IP"] == schemas.field_description(CORE + "PodStatus", "podIP")
    assert pods["IP"].startswith(ip_doc)  # reworded between the two releases
    assert pods["Node"] == schemas.field_description(CORE + "PodSpec", "nodeName")
    assert pods["Ready"] == "The aggregate readiness state of this pod for accepting traffic."  # printers.go's own
    events = descriptions("events")
    assert events["Subobject"] == schemas.field_description(CORE + "ObjectReference", "fieldPath")
    desired = schemas.field_description("io.k8s.api.apps.v1.ReplicaSetSpec", "replicas")
    assert descriptions("replicasets")["Desired"] == desired


@pytest.mark.parametrize("version", Schemas.available_versions())
def test_every_described_column_finds_its_field_in_every_shipped_schema(version: str) -> None:
    describe = Schemas.for_version(version).field_description
    for plural in printers.PRINTED_RESOURCES:
        for column in column_definitions(plural, version, describe):
            assert column["description"], (plural, column["name"])


def test_without_a_lookup_field_descriptions_are_left_empty() -> None:
    columns = {c["name"]: c["description"] for c in column_definitions("pods", "1.27")}
    assert columns["IP"] == ""
    assert columns["Status"] == "The aggregate status of the containers in this pod."


@pytest.mark.parametrize(
    ("plural", "headers"),
    [
        ("statefulsets", ["NAME", "READY", "AGE", "CONTAINERS*", "IMAGES*"]),
        (
            "deployments",
            ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS*", "IMAGES*", "SELECTOR*"],
        ),
        ("replicasets", ["NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS*", "IMAGES*", "SELECTOR*"]),
        ("services", ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR*"]),
        ("endpoints", ["NAME", "ENDPOINTS", "AGE"]),
        ("endpointslices", ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]),
        (
            "persistentvolumeclaims",
            ["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS", "AGE", "VOLUMEMODE*"],
        ),
        (
            "persistentvolumes",
            [
                "NAME", "CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS",
                "REASON", "AGE", "VOLUMEMODE*",
            ],
        ),
        (
            "storageclasses",
            ["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"],
        ),
        ("controllerrevisions", ["NAME", "CONTROLLER", "REVISION", "AGE"]),
        ("namespaces", ["NAME", "STATUS", "AGE"]),
        (
            "nodes",
            [
                "NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP*", "EXTERNAL-IP*", "OS-IMAGE*",
                "KERNEL-VERSION*", "CONTAINER-RUNTIME*",
            ],
        ),
        (
            "events",
            [
                "LAST SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT*", "SOURCE*", "MESSAGE", "FIRST SEEN*",
                "COUNT*", "NAME*",
            ],
        ),
        ("configmaps", ["NAME", "DATA", "AGE"]),
        ("secrets", ["NAME", "TYPE", "DATA", "AGE"]),
        ("serviceaccounts", ["NAME", "SECRETS", "AGE"]),
    ],
)
def test_each_resource_has_the_upstream_headers_with_wide_ones_at_priority_one(
    plural: str, headers: list
) -> None:
    shown = [c["name"].upper() + ("*" if c["priority"] else "") for c in column_definitions(plural, "1.27")]
    assert shown == headers


def test_replicaset_counts_are_integer_columns() -> None:
    types = {c["name"]: c["type"] for c in column_definitions("replicasets")}
    assert (types["Desired"], types["Current"], types["Ready"]) == ("integer", "integer", "integer")


# --------------------------------------------------------------------------
# Pods
# --------------------------------------------------------------------------


def _container(state: dict, *, ready: bool = False, restarts: int = 0, **extra: Any) -> dict:
    return {"name": "c", "ready": ready, "restartCount": restarts, "state": state, **extra}


@pytest.mark.parametrize(
    ("phase", "statuses", "expected"),
    [
        ("Pending", [], "Pending"),
        ("Pending", [_container({"waiting": {"reason": "ContainerCreating"}})], "ContainerCreating"),
        ("Pending", [_container({"waiting": {"reason": "ErrImagePull"}})], "ErrImagePull"),
        ("Pending", [_container({"waiting": {"reason": "ImagePullBackOff"}})], "ImagePullBackOff"),
        ("Running", [_container({"waiting": {"reason": "CrashLoopBackOff"}}, restarts=1)], "CrashLoopBackOff"),
        ("Running", [_container({"running": {}}, ready=True)], "Running"),
        ("Succeeded", [_container({"terminated": {"reason": "Completed", "exitCode": 0}})], "Completed"),
        ("Failed", [_container({"terminated": {"reason": "Error", "exitCode": 1}})], "Error"),
        ("Failed", [_container({"terminated": {"exitCode": 137}})], "ExitCode:137"),
        ("Failed", [_container({"terminated": {"exitCode": 0, "signal": 9}})], "Signal:9"),
    ],
)
def test_pod_status_follows_the_container_states(phase: str, statuses: list, expected: str) -> None:
    obj = pod("p", "1m", phase=phase, container_statuses=statuses)
    assert table("pods", [obj], NOW)["rows"][0]["cells"][2] == expected


@pytest.mark.parametrize(
    ("version", "finished_status"), [("1.27", "Terminating"), ("1.30", "Terminating"), ("1.31", "Completed")]
)
def test_a_pod_being_deleted_is_terminating_and_from_1_31_only_until_it_has_finished(
    version: str, finished_status: str
) -> None:
    running = pod("p", "1m", metadata={"deletionTimestamp": ago("5s")})
    finished = pod(
        "q",
        "1m",
        phase="Succeeded",
        container_statuses=[_container({"terminated": {"reason": "Completed", "exitCode": 0}})],
        metadata={"deletionTimestamp": ago("5s")},
    )
    lost = pod("r", "1m", metadata={"deletionTimestamp": ago("5s")}, status={"reason": "NodeLost"})
    rows = table("pods", [running, finished, lost], NOW, k8s_version=version)["rows"]
    assert [row["cells"][2] for row in rows] == ["Terminating", finished_status, "Unknown"]


@pytest.mark.parametrize(
    ("init_state", "expected"),
    [
        ({"waiting": {"reason": "PodInitializing"}}, "Init:0/1"),
        ({"running": {}}, "Init:0/1"),
        ({"waiting": {"reason": "ErrImagePull"}}, "Init:ErrImagePull"),
        ({"terminated": {"reason": "Error", "exitCode": 1}}, "Init:Error"),
        ({"terminated": {"exitCode": 2}}, "Init:ExitCode:2"),
        ({"terminated": {"reason": "Completed", "exitCode": 0}}, "PodInitializing"),
    ],
)
def test_a_pod_with_an_init_container_shows_its_progress(init_state: dict, expected: str) -> None:
    obj = pod(
        "p",
        "1m",
        phase="Pending",
        container_statuses=[_container({"waiting": {"reason": "PodInitializing"}})],
        spec={"initContainers": [{"name": "init", "image": "busybox"}]},
        status={"initContainerStatuses": [{"name": "init", "restartCount": 0, "state": init_state}]},
    )
    assert table("pods", [obj], NOW)["rows"][0]["cells"][2] == expected


def test_a_scheduling_gated_pod_says_so() -> None:
    obj = pod(
        "p",
        "1m",
        phase="Pending",
        container_statuses=[],
        status={"conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]},
    )
    assert table("pods", [obj], NOW)["rows"][0]["cells"][2] == "SchedulingGated"


def test_a_completed_container_beside_a_running_one_reads_running_or_not_ready() -> None:
    statuses = [
        _container({"running": {}}, ready=True),
        _container({"terminated": {"reason": "Completed", "exitCode": 0}}),
    ]
    ready = pod("p", "1m", container_statuses=statuses)
    not_ready = pod("q", "1m", container_statuses=statuses, status={"conditions": []})
    rows = table("pods", [ready, not_ready], NOW)["rows"]
    assert [(r["cells"][1], r["cells"][2]) for r in rows] == [("1/1", "Running"), ("1/1", "NotReady")]


def test_restarts_say_when_the_last_container_restarted() -> None:
    restarted = _container(
        {"running": {}},
        ready=True,
        restarts=2,
        lastState={"terminated": {"exitCode": 1, "finishedAt": ago("5m")}},
    )
    never_finished = _container({"running": {}}, ready=True, restarts=1)
    rows = table(
        "pods",
        [pod("p", "1h", container_statuses=[restarted]), pod("q", "1h", container_statuses=[never_finished])],
        NOW,
    )["rows"]
    assert [r["cells"][3] for r in rows] == ["2 (5m ago)", "1"]


def test_a_sidecar_counts_towards_ready_and_total() -> None:
    obj = pod(
        "p",
        "1m",
        spec={"initContainers": [{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}]},
        status={
            "initContainerStatuses": [
                {"name": "proxy", "ready": True, "started": True, "restartCount": 0, "state": {"running": {}}}
            ]
        },
    )
    assert table("pods", [obj], NOW)["rows"][0]["cells"][1:3] == ["2/2", "Running"]


def test_finished_pods_carry_a_completed_row_condition() -> None:
    done = pod("a", "1m", phase="Succeeded", container_statuses=[])
    failed = pod("b", "1m", phase="Failed", container_statuses=[])
    running = pod("c", "1m")
    rows = table("pods", [done, failed, running], NOW)["rows"]
    assert rows[0]["conditions"] == [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }
    ]
    assert rows[1]["conditions"][0]["reason"] == "Failed"
    assert "conditions" not in rows[2]


def test_readiness_gates_count_the_true_conditions() -> None:
    obj = pod(
        "p",
        "1m",
        spec={"readinessGates": [{"conditionType": "example.com/a"}, {"conditionType": "example.com/b"}]},
        status={"conditions": [{"type": "example.com/a", "status": "True"}]},
    )
    assert table("pods", [obj], NOW)["rows"][0]["cells"][-1] == "1/2"


def test_a_pod_ip_known_only_from_pod_ips_is_printed() -> None:
    obj = pod("p", "1m", status={"podIPs": [{"ip": "10.0.0.7"}]})
    assert table("pods", [obj], NOW)["rows"][0]["cells"][5] == "10.0.0.7"


# --------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------


def test_statefulset_wide_columns_join_containers_and_images_with_commas() -> None:
    obj = statefulset("web", "1m")
    obj["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "busybox:1.36"})
    assert table("statefulsets", [obj], NOW)["rows"][0]["cells"][3:] == ["nginx,sidecar", "nginx,busybox:1.36"]


def test_selectors_are_sorted_by_key_with_set_based_requirements() -> None:
    selector = {
        "matchLabels": {"tier": "web", "app": "shop"},
        "matchExpressions": [
            {"key": "env", "operator": "In", "values": ["prod", "dev"]},
            {"key": "canary", "operator": "DoesNotExist"},
        ],
    }
    deploy = deployment("d", "1m")
    deploy["spec"]["selector"] = selector
    rs = {"metadata": {"name": "r"}, "spec": {"replicas": 2, "selector": selector}, "status": {"replicas": 2}}
    expected = "app=shop,!canary,env in (dev,prod),tier=web"
    assert table("deployments", [deploy], NOW)["rows"][0]["cells"][-1] == expected
    assert table("replicasets", [rs], NOW)["rows"][0]["cells"][1:4] == [2, 2, 0]
    assert table("replicasets", [rs], NOW)["rows"][0]["cells"][-1] == expected


def test_an_empty_selector_prints_none_for_a_replicaset_but_nothing_for_a_deployment() -> None:
    deploy = deployment("d", "1m")
    deploy["spec"]["selector"] = {}
    rs = {"metadata": {"name": "r"}, "spec": {"selector": {}}}
    assert table("deployments", [deploy], NOW)["rows"][0]["cells"][-1] == ""
    assert table("replicasets", [rs], NOW)["rows"][0]["cells"][-1] == "<none>"


def test_controllerrevision_names_its_controller_with_kind_and_group() -> None:
    revision = {
        "metadata": {
            "name": "nginx-stateful-7db594cfbd",
            "creationTimestamp": ago("3m"),
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "nginx-stateful", "controller": True}
            ],
        },
        "revision": 2,
    }
    orphan = {"metadata": {"name": "orphan", "creationTimestamp": ago("3m")}, "revision": 1}
    assert render(table("controllerrevisions", [revision, orphan], NOW)) == (
        "NAME                        CONTROLLER                        REVISION   AGE\n"
        "nginx-stateful-7db594cfbd   statefulset.apps/nginx-stateful   2          3m\n"
        "orphan                      <none>                            1          3m"
    )


# --------------------------------------------------------------------------
# Networking
# --------------------------------------------------------------------------


def test_service_ports_show_node_ports_and_default_to_tcp() -> None:
    svc = service("web", "1m", cluster_ip="10.96.0.20", selector={})
    svc["spec"]["type"] = "NodePort"
    svc["spec"]["ports"] = [
        {"port": 80, "nodePort": 30080, "protocol": "TCP"},
        {"port": 53, "protocol": "UDP"},
        {"port": 8080},
    ]
    cells = table("services", [svc], NOW)["rows"][0]["cells"]
    assert cells[1:5] == ["NodePort", "10.96.0.20", "<none>", "80:30080/TCP,53/UDP,8080/TCP"]
    assert cells[-1] == "<none>"


def test_a_load_balancer_without_an_address_is_pending() -> None:
    svc = service("web", "1m", cluster_ip="10.96.0.20")
    svc["spec"]["type"] = "LoadBalancer"
    assert table("services", [svc], NOW)["rows"][0]["cells"][3] == "<pending>"
    svc["status"] = {"loadBalancer": {"ingress": [{"ip": "203.0.113.9"}]}}
    assert table("services", [svc], NOW)["rows"][0]["cells"][3] == "203.0.113.9"


def test_endpoints_list_at_most_three_addresses() -> None:
    addresses = [{"ip": f"10.0.0.{i}"} for i in range(1, 6)]
    eps = {
        "metadata": {"name": "web", "creationTimestamp": ago("2m")},
        "subsets": [{"addresses": addresses, "ports": [{"port": 80, "protocol": "TCP"}]}],
    }
    headless = {
        "metadata": {"name": "h", "creationTimestamp": ago("2m")},
        "subsets": [{"addresses": addresses[:2]}],
    }
    empty = {"metadata": {"name": "none", "creationTimestamp": ago("2m")}}
    rows = table("endpoints", [eps, headless, empty], NOW)["rows"]
    assert [r["cells"][1] for r in rows] == [
        "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more...",
        "10.0.0.1,10.0.0.2",
        "<none>",
    ]


def test_endpointslices_show_address_type_ports_and_endpoints() -> None:
    slice_ = {
        "metadata": {"name": "nginx-stateful-abcde", "creationTimestamp": ago("30s")},
        "addressType": "IPv4",
        "ports": [{"name": "", "port": 80, "protocol": "TCP"}],
        "endpoints": [{"addresses": [f"10.100.194.{i}"]} for i in (82, 90, 91, 92)],
    }
    bare = {"metadata": {"name": "bare", "creationTimestamp": ago("30s")}, "addressType": "IPv6"}
    rows = table("endpointslices", [slice_, bare], NOW)["rows"]
    assert rows[0]["cells"][1:4] == ["IPv4", "80", "10.100.194.82,10.100.194.90,10.100.194.91 + 1 more..."]
    assert rows[1]["cells"][1:4] == ["IPv6", "<unset>", "<unset>"]


# --------------------------------------------------------------------------
# Storage
# --------------------------------------------------------------------------


def test_an_unbound_pvc_leaves_volume_capacity_and_modes_empty() -> None:
    pending = claim("www-web-0", "3s", volume="")
    pending["status"] = {"phase": "Pending"}
    deleting = claim("www-web-1", "3s", volume="pvc-1")
    deleting["metadata"]["deletionTimestamp"] = ago("1s")
    rows = table("persistentvolumeclaims", [pending, deleting], NOW)["rows"]
    assert rows[0]["cells"][1:6] == ["Pending", "", "", "", "sc-nfs"]
    assert rows[1]["cells"][1] == "Terminating"


def test_access_modes_are_abbreviated_in_a_fixed_order() -> None:
    pv = {
        "metadata": {"name": "pv-1", "creationTimestamp": ago("1h")},
        "spec": {
            "capacity": {"storage": "2Gi"},
            "accessModes": ["ReadWriteOncePod", "ReadWriteMany", "ReadOnlyMany", "ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": "sc-nfs",
            "claimRef": {"namespace": "default", "name": "www-web-0"},
            "volumeMode": "Filesystem",
        },
        "status": {"phase": "Bound"},
    }
    assert table("persistentvolumes", [pv], NOW)["rows"][0]["cells"] == [
        "pv-1", "2Gi", "RWO,ROX,RWX,RWOP", "Delete", "Bound", "default/www-web-0", "sc-nfs", "", "60m",
        "Filesystem",
    ]


def test_the_default_storage_class_is_marked_and_defaults_are_filled_in() -> None:
    default = {
        "metadata": {
            "name": "sc-nfs",
            "creationTimestamp": ago("2d"),
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "nfs.csi.k8s.io",
        "reclaimPolicy": "Retain",
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": True,
    }
    plain = {"metadata": {"name": "slow", "creationTimestamp": ago("2d")}, "provisioner": "example.com/slow"}
    assert render(table("storageclasses", [default, plain], NOW)) == (
        "NAME               PROVISIONER        RECLAIMPOLICY   VOLUMEBINDINGMODE      ALLOWVOLUMEEXPANSION   AGE\n"
        "sc-nfs (default)   nfs.csi.k8s.io     Retain          WaitForFirstConsumer   true                   2d\n"
        "slow               example.com/slow   Delete          Immediate              false                  2d"
    )


# --------------------------------------------------------------------------
# Cluster objects
# --------------------------------------------------------------------------


def test_nodes_show_readiness_roles_and_kubelet_version() -> None:
    node = {
        "metadata": {
            "name": "k8s-master",
            "creationTimestamp": ago("30d"),
            "labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "master"},
        },
        "spec": {"unschedulable": True},
        "status": {
            "conditions": [{"type": "Ready", "status": "True"}],
            "addresses": [{"type": "InternalIP", "address": "192.168.0.10"}],
            "nodeInfo": {"kubeletVersion": "v1.27.3", "osImage": "Ubuntu 22.04.2 LTS"},
        },
    }
    worker = {"metadata": {"name": "k8s-worker1", "creationTimestamp": ago("30d")}, "status": {}}
    rows = table("nodes", [node, worker], NOW)["rows"]
    assert rows[0]["cells"] == [
        "k8s-master", "Ready,SchedulingDisabled", "control-plane,master", "30d", "v1.27.3",
        "192.168.0.10", "<none>", "Ubuntu 22.04.2 LTS", "<unknown>", "<unknown>",
    ]
    assert rows[1]["cells"][1:3] == ["Unknown", "<none>"]


def test_namespaces_show_their_phase() -> None:
    ns = {"metadata": {"name": "default", "creationTimestamp": ago("30d")}, "status": {"phase": "Active"}}
    assert render(table("namespaces", [ns], NOW)) == "NAME      STATUS   AGE\ndefault   Active   30d"


def test_events_show_last_seen_object_and_message() -> None:
    event = {
        "metadata": {"name": "web-0.17a", "creationTimestamp": ago("2m")},
        "involvedObject": {"kind": "Pod", "name": "web-0", "fieldPath": "spec.containers{nginx}"},
        "reason": "Pulled",
        "message": 'Successfully pulled image "nginx"\n',
        "source": {"component": "kubelet", "host": "k8s-worker1"},
        "firstTimestamp": ago("2m"),
        "lastTimestamp": ago("30s"),
        "count": 3,
        "type": "Normal",
    }
    new_api = {
        "metadata": {"name": "web.17b", "creationTimestamp": ago("10s")},
        "involvedObject": {"kind": "StatefulSet", "name": "web"},
        "reason": "SuccessfulCreate",
        "message": "create Pod web-1 in StatefulSet web successful",
        "eventTime": "2024-05-01T11:59:50.000000Z",
        "reportingComponent": "statefulset-controller",
        "type": "Normal",
    }
    rows = table("events", [event, new_api], NOW)["rows"]
    assert rows[0]["cells"] == [
        "30s", "Normal", "Pulled", "pod/web-0", "spec.containers{nginx}", "kubelet, k8s-worker1",
        'Successfully pulled image "nginx"', "2m", 3, "web-0.17a",
    ]
    assert rows[1]["cells"] == [
        "10s", "Normal", "SuccessfulCreate", "statefulset/web", "", "statefulset-controller",
        "create Pod web-1 in StatefulSet web successful", "10s", 1, "web.17b",
    ]


def test_configmaps_secrets_and_service_accounts_count_their_entries() -> None:
    cm = {"metadata": {"name": "kube-root-ca.crt", "creationTimestamp": ago("1d")}, "data": {"ca.crt": "..."}}
    secret = {
        "metadata": {"name": "s", "creationTimestamp": ago("1d")},
        "type": "Opaque",
        "data": {"a": "", "b": ""},
    }
    sa = {"metadata": {"name": "default", "creationTimestamp": ago("1d")}}
    assert table("configmaps", [cm], NOW)["rows"][0]["cells"] == ["kube-root-ca.crt", 1, "24h"]
    assert table("secrets", [secret], NOW)["rows"][0]["cells"] == ["s", "Opaque", 2, "24h"]
    assert table("serviceaccounts", [sa], NOW)["rows"][0]["cells"] == ["default", 0, "24h"]


def test_a_resource_without_a_printer_gets_name_and_a_date_typed_age() -> None:
    widget = {"metadata": {"name": "w", "creationTimestamp": ago("3h")}}
    undated = {"metadata": {"name": "x"}}
    tbl = table("widgets", [widget, undated], NOW)
    assert [(c["name"], c["type"], c["format"]) for c in tbl["columnDefinitions"]] == [
        ("Name", "string", "name"),
        ("Age", "date", ""),
    ]
    assert [r["cells"] for r in tbl["rows"]] == [["w", "3h"], ["x", None]]
    assert render(tbl) == "NAME   AGE\nw      3h\nx      "


# --------------------------------------------------------------------------
# The Table envelope
# --------------------------------------------------------------------------


def test_rows_carry_partial_object_metadata_by_default() -> None:
    obj = statefulset("web", "1m")
    obj["metadata"]["labels"] = {"app": "web"}
    tbl = table("statefulsets", [obj], NOW, list_meta={"resourceVersion": "42", "continue": ""})
    assert (tbl["kind"], tbl["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert tbl["metadata"] == {"resourceVersion": "42"}
    assert tbl["rows"][0]["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj["metadata"],
    }
    tbl["rows"][0]["object"]["metadata"]["labels"]["app"] = "changed"
    assert obj["metadata"]["labels"]["app"] == "web"


def test_include_object_selects_the_whole_object_or_none() -> None:
    obj = statefulset("web", "1m")
    full = table("statefulsets", [obj], NOW, include_object="Object")["rows"][0]["object"]
    assert (full["kind"], full["apiVersion"], full["spec"]) == ("StatefulSet", "apps/v1", obj["spec"])
    assert table("statefulsets", [obj], NOW, include_object="None")["rows"][0]["object"] is None
    with pytest.raises(ValueError, match="unrecognized includeObject value"):
        table("statefulsets", [obj], NOW, include_object="Everything")


def test_list_metadata_keeps_a_zero_remaining_item_count_and_drops_empty_strings() -> None:
    tbl = table("pods", [], NOW, list_meta={"resourceVersion": "", "continue": "abc", "remainingItemCount": 0})
    assert tbl["metadata"] == {"continue": "abc", "remainingItemCount": 0}
    assert tbl["rows"] == []
    assert table("pods", [], NOW)["metadata"] == {}


def test_no_headers_leaves_out_the_column_definitions() -> None:
    assert table("pods", [pod("p", "1m")], NOW, no_headers=True)["columnDefinitions"] is None


def test_a_malformed_version_is_rejected() -> None:
    with pytest.raises(ValueError, match="k8s_version"):
        table("pods", [], NOW, k8s_version="twenty-seven")


def test_a_naive_now_is_taken_as_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    assert table("statefulsets", [statefulset("web", "145m")], naive)["rows"][0]["cells"][2] == "145m"
