"""The guide's kubectl sequence, run by the real kubectl against a served sandbox, compared with the guide.

Every expected output below is copied from ``statefulset-guide.ko.md`` (its ``**bold**`` marks
removed), with the section it comes from. Tables are compared cell by cell after normalising the
columns a real cluster would print differently on every run: AGE (checked to be a kubectl duration),
IP and CLUSTER-IP (checked to be addresses), PVC volume names (``pvc-<uid>``), and the random parts
of Deployment pod names. Everything else (headers, names, READY, STATUS, RESTARTS, nodes, ports,
selectors) must be equal. kubectl's own layout (columns aligned with three spaces of padding) is
checked on what kubectl printed.

Texts that depend on kubectl's version follow the kubectl in use: from 1.34 ``kubectl delete``
prints ``… deleted from <ns> namespace`` where the guide's older kubectl printed ``… deleted``.
"""

from __future__ import annotations

import ipaddress
import json
import re

import pytest
import yaml

from .conftest import MANIFESTS

pytestmark = pytest.mark.kubectl

# ------------------------------------------------------------------------------------------ the guide

#: §02 "YAML로 생성": kubectl apply -f nginx-stateful.yaml
GUIDE_APPLY = "statefulset.apps/nginx-stateful created\n"
#: §02: kubectl get sts
GUIDE_GET_STS = """\
NAME             READY   AGE
nginx-stateful   3/3     14s
"""
#: §02: kubectl get pod -l app=nginx-stateful
GUIDE_GET_POD = """\
NAME               READY   STATUS    RESTARTS   AGE
nginx-stateful-0   1/1     Running   0          26s
nginx-stateful-1   1/1     Running   0          22s
nginx-stateful-2   1/1     Running   0          19s
"""
#: §01 "Pod의 고유성": kubectl get pod -l app=nginx-stateful -o jsonpath='{range .items[*]}{.metadata.labels}{"\n"}' | jq
GUIDE_LABELS = [
    {"app": "nginx-stateful", "controller-revision-hash": "nginx-stateful-7db594cfbd",
     "statefulset.kubernetes.io/pod-name": f"nginx-stateful-{i}"} for i in range(3)]
#: §01 "revision 변경 확인": kubectl set image sts nginx-stateful nginx=nginx:1.21.1
GUIDE_SET_IMAGE = "statefulset.apps/nginx-stateful image updated\n"
#: §01 "revision 변경 확인": the labels once the update has reached every pod
GUIDE_LABELS_UPDATED = [{**labels, "controller-revision-hash": "nginx-stateful-6c7d474cc"} for labels in GUIDE_LABELS]
#: §01 "네트워크 상태저장": kubectl expose sts nginx-stateful --port=80 --target-port=80 --type=NodePort --name=nginx-stateful-svc
GUIDE_EXPOSE = ["expose", "sts", "nginx-stateful", "--port=80", "--target-port=80", "--type=NodePort",
                "--name=nginx-stateful-svc"]
GUIDE_EXPOSE_ERROR = "error: cannot expose a StatefulSet.apps\n"
#: §03 "명령어로 생성": kubectl create service clusterip nginx-stateful --tcp=80:80 --clusterip=None
GUIDE_CREATE_SERVICE = "service/nginx-stateful created\n"
#: §03: kubectl get svc nginx-stateful
GUIDE_GET_SVC = """\
NAME             TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE
nginx-stateful   ClusterIP   None         <none>        80/TCP    24s
"""
#: §03: kubectl get svc nginx-stateful -o jsonpath='{.spec.selector}{"\n"}'
GUIDE_SELECTOR = '{"app":"nginx-stateful"}\n'
#: §03 "StatefulSet으로 생성된 Pod의 Service 연결 확인": kubectl get pod -l app=nginx-stateful -o wide
GUIDE_GET_POD_WIDE = """\
NAME               READY   STATUS    RESTARTS   AGE   IP              NODE          NOMINATED NODE   READINESS GATES
nginx-stateful-0   1/1     Running   0          27m   10.100.194.82   k8s-worker1   <none>           <none>
nginx-stateful-1   1/1     Running   0          27m   10.110.126.47   k8s-worker2   <none>           <none>
nginx-stateful-2   1/1     Running   0          27m   10.100.194.90   k8s-worker1   <none>           <none>
"""
#: §03: kubectl run dnsquery --image=busybox --rm -it --restart=Never -- nslookup 10.100.194.82 (busybox's part)
GUIDE_NSLOOKUP_STS = ("Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n"
                      "82.194.100.10.in-addr.arpa\tname = nginx-stateful-0.nginx-stateful.default.svc.cluster.local\n\n")
GUIDE_NSLOOKUP_STS_IP = "10.100.194.82"
#: §03 "Deployment에서 생성된 Pod의 도메인주소": kubectl get deploy,svc,po -l app=test-deploy (wide columns shown)
GUIDE_GET_DEPLOY_SVC_PO = """\
NAME                          READY   UP-TO-DATE   AVAILABLE   AGE   CONTAINERS   IMAGES   SELECTOR
deployment.apps/test-deploy   3/3     3            3           22h   nginx        nginx    app=test-deploy

NAME                  TYPE        CLUSTER-IP       EXTERNAL-IP   PORT(S)   AGE   SELECTOR
service/test-deploy   ClusterIP   **10.110.169.181**   <none>        80/TCP    52s   app=test-deploy

NAME                               READY   STATUS    RESTARTS   AGE   IP              NODE          NOMINATED NODE   READINESS GATES
pod/test-deploy-584c765db4-2wv4w   1/1     Running   0          21h   **10.110.126.40**   k8s-worker2   <none>           <none>
pod/test-deploy-584c765db4-724td   1/1     Running   0          21h   **10.100.194.79**   k8s-worker1   <none>           <none>
pod/test-deploy-584c765db4-vwskk   1/1     Running   0          22h   **10.110.126.39**   k8s-worker2   <none>           <none>
""".replace("**", "")
#: §03: kubectl run dnsquery … -- nslookup 10.100.194.79 (busybox's part)
GUIDE_NSLOOKUP_DEPLOY = ("Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n"
                         "79.194.100.10.in-addr.arpa\tname = 10-100-194-79.test-deploy.default.svc.cluster.local\n\n")
GUIDE_NSLOOKUP_DEPLOY_IP = "10.100.194.79"
#: §04 "volumeClaimTemplates": kubectl apply -f nginx-stateful2.yaml
GUIDE_APPLY_2 = "service/nginx-stateful2 created\nstatefulset.apps/nginx-stateful2 created\n"
#: §04: kubectl get sts,svc,po,pvc -l app=nginx-stateful2
GUIDE_GET_ALL_2 = """\
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
persistentvolumeclaim/nginx-stateful2-pvc-nginx-stateful2-2   Bound    pvc-a7e63014-d29f-4823-b125-9f8e2f507f04   2Gi        RWO            sc-nfs         54s
"""

LABELS_JSONPATH = 'jsonpath={range .items[*]}{.metadata.labels}{"\\n"}{end}'

# ------------------------------------------------------------------------------------------ comparing

_AGE = re.compile(r"(\d+[smhdy]){1,2}")  # apimachinery duration.HumanDuration
_UID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Deployment names: pod-template-hash (alphabet 456789bcdf) and the 5-character generateName suffix
_DEPLOY_NAME = re.compile(r"\b(test-deploy)-[456789bcdf]{8,10}(-[bcdfghjklmnpqrstvwxz2456789]{5})?\b")


def _tables(text: str) -> list[list[list[str]]]:
    """kubectl's table output → tables → rows → cells (columns are at least three spaces apart)."""
    blocks = [b for b in text.strip("\n").split("\n\n") if b.strip()]
    return [[re.split(r" {3,}", line.strip()) for line in block.splitlines()] for block in blocks]


def _normalised(table: list[list[str]], loose: tuple[str, ...] = ()) -> list[list[str]]:
    header, *rows = table
    out = [header]
    for row in rows:
        assert len(row) == len(header), f"row {row} does not fit the header {header}"
        cells = []
        for column, cell in zip(header, row):
            if column == "AGE":
                assert _AGE.fullmatch(cell), f"AGE {cell!r} is not a kubectl duration"
                cell = "<age>"
            elif column in ("IP", "CLUSTER-IP") and cell not in ("None", "<none>"):
                ipaddress.IPv4Address(cell)  # raises if it is not an address
                cell = "<ip>"
            elif column == "VOLUME" and cell.startswith("pvc-"):
                assert _UID.fullmatch(cell[4:]), f"VOLUME {cell!r} is not pvc-<uid>"
                cell = "pvc-<uid>"
            elif column in loose:
                cell = f"<{column.lower()}>"
            cells.append(_DEPLOY_NAME.sub(lambda m: f"{m[1]}-<hash>" + ("-<suffix>" if m[2] else ""), cell))
        out.append(cells)
    return out


def _assert_kubectl_layout(text: str) -> None:
    """Each column starts where its header does, max(width + 3, 6) after the previous; no trailing blanks."""
    for block in text.strip("\n").split("\n\n"):
        lines = block.splitlines()
        starts = [m.start() for m in re.finditer(r"(?:^|(?<=   ))\S", lines[0])]
        for line in lines:
            assert line == line.rstrip(), f"trailing blanks in {line!r}"
            assert [m.start() for m in re.finditer(r"(?:^|(?<=   ))\S", line)] == starts, \
                f"misaligned:\n{block}"
        for i in range(len(starts) - 1):
            widest = max(len(line[starts[i]:starts[i + 1]].rstrip()) for line in lines)
            assert starts[i + 1] - starts[i] == max(widest + 3, 6), f"column {i} width in:\n{block}"


def assert_same_tables(actual: str, expected: str, loose: tuple[str, ...] = ()) -> None:
    """kubectl's output equals the guide's, table by table and cell by cell, after normalising."""
    _assert_kubectl_layout(actual)
    got = [_normalised(t, loose) for t in _tables(actual)]
    want = [_normalised(t, loose) for t in _tables(expected)]
    assert got == want, f"kubectl printed:\n{actual}\nthe guide shows:\n{expected}"


def _reverse(ip: str) -> str:
    return ipaddress.IPv4Address(ip).reverse_pointer


def _lookup_text(guide_text: str, guide_ip: str, ip: str) -> str:
    """The guide's busybox output for ``guide_ip``, as it reads for ``ip``."""
    return (guide_text.replace(_reverse(guide_ip), _reverse(ip))
            .replace(guide_ip.replace(".", "-"), ip.replace(".", "-")))


def _deleted(kubectl, what: str, namespace: str = "default") -> str:
    """What ``kubectl delete`` prints: ``pod "x" deleted`` (< 1.34) or ``… deleted from <ns> namespace``."""
    return f"{what} deleted" + (f" from {namespace} namespace" if kubectl.minor >= 34 else "") + "\n"


def _labels(kubectl, selector: str = "app=nginx-stateful") -> list[dict]:
    out = kubectl("get", "pod", "-l", selector, "-o", LABELS_JSONPATH).out
    return [json.loads(line) for line in out.splitlines()]


# ------------------------------------------------------------------------------------------ §02 creation

def test_apply_prints_created_then_unchanged_then_configured(kubectl, tmp_path):
    kubectl.needs("openapi")
    assert kubectl("apply", "-f", str(MANIFESTS / "nginx-stateful.yaml")).out == GUIDE_APPLY
    assert kubectl("apply", "-f", str(MANIFESTS / "nginx-stateful.yaml")).out == \
        "statefulset.apps/nginx-stateful unchanged\n"
    changed = yaml.safe_load((MANIFESTS / "nginx-stateful.yaml").read_text())
    changed["spec"]["replicas"] = 2
    (tmp_path / "two.yaml").write_text(yaml.safe_dump(changed))
    assert kubectl("apply", "-f", str(tmp_path / "two.yaml")).out == "statefulset.apps/nginx-stateful configured\n"
    assert kubectl.obj("statefulsets", "nginx-stateful")["spec"]["replicas"] == 2


def test_apply_of_servicename_onto_the_existing_statefulset_is_forbidden_as_on_a_1_27_cluster(kubectl):
    kubectl.apply("nginx-stateful")
    res = kubectl("apply", "-f", str(MANIFESTS / "nginx-stateful-with-service.yaml"),
                  check=False)
    assert res.code == 1
    assert res.err == (
        'The StatefulSet "nginx-stateful" is invalid: spec: Forbidden: updates to statefulset spec for fields '
        "other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' "
        "and 'minReadySeconds' are forbidden\n")


def test_get_sts_and_get_pod_print_the_guides_tables(kubectl):
    assert kubectl.apply("nginx-stateful").out == GUIDE_APPLY
    kubectl.settled("nginx-stateful", 3)
    assert_same_tables(kubectl("get", "sts").out, GUIDE_GET_STS)
    assert_same_tables(kubectl("get", "pod", "-l", "app=nginx-stateful").out, GUIDE_GET_POD)
    assert_same_tables(kubectl("get", "pod").out, GUIDE_GET_POD)  # §01 "kubectl get pod": only these pods exist


def test_labels_jsonpath_prints_the_guides_labels(kubectl):
    kubectl.apply("nginx-stateful")
    kubectl.settled("nginx-stateful", 3)
    assert _labels(kubectl) == GUIDE_LABELS


def test_get_sts_yaml_and_json_show_the_same_object_with_the_guides_revision(kubectl):
    kubectl.apply("nginx-stateful")
    kubectl.settled("nginx-stateful", 3)
    as_json = json.loads(kubectl("get", "sts", "nginx-stateful", "-o", "json").out)
    as_yaml = yaml.safe_load(kubectl("get", "sts", "nginx-stateful", "-o", "yaml").out)
    assert as_json == as_yaml
    assert (as_json["apiVersion"], as_json["kind"]) == ("apps/v1", "StatefulSet")
    assert as_json["status"]["currentRevision"] == as_json["status"]["updateRevision"] == "nginx-stateful-7db594cfbd"
    assert "kubectl.kubernetes.io/last-applied-configuration" in as_json["metadata"]["annotations"]
    pods = json.loads(kubectl("get", "pod", "-l", "app=nginx-stateful", "-o", "json").out)
    assert [p["metadata"]["name"] for p in pods["items"]] == [f"nginx-stateful-{i}" for i in range(3)]


# ------------------------------------------------------------------------------------------ §01 revisions

def test_set_image_prints_the_guides_line_and_moves_every_pod_to_the_new_revision(kubectl):
    kubectl.apply("nginx-stateful")
    kubectl.settled("nginx-stateful", 3)
    assert kubectl("set", "image", "sts", "nginx-stateful", "nginx=nginx:1.21.1").out == GUIDE_SET_IMAGE
    kubectl.settled("nginx-stateful", 3)
    assert _labels(kubectl) == GUIDE_LABELS_UPDATED
    again = kubectl("set", "image", "sts", "nginx-stateful", "nginx=nginx:1.21.1")
    assert (again.out, again.code) == ("", 0)  # an unchanged image: empty patch, nothing printed


def test_rollout_status_ends_with_partitioned_roll_out_complete(kubectl):
    kubectl.apply("nginx-stateful")
    kubectl.settled("nginx-stateful", 3)
    kubectl("set", "image", "sts", "nginx-stateful", "nginx=nginx:1.21.1")
    kubectl.needs("watchlist")
    lines = kubectl("rollout", "status", "sts/nginx-stateful", "--timeout=60s").out.splitlines()
    assert lines[-1] == "partitioned roll out complete: 3 new pods have been updated..."
    allowed = re.compile(r"Waiting for statefulset spec update to be observed\.\.\."
                         r"|Waiting for \d+ pods to be ready\.\.\."
                         r"|Waiting for partitioned roll out to finish: \d out of 3 new pods have been updated\.\.\.")
    assert all(allowed.fullmatch(line) for line in lines[:-1]), lines


def test_rollout_history_undo_and_restart_print_kubectls_texts(kubectl):
    kubectl.apply("nginx-stateful")
    kubectl.settled("nginx-stateful", 3)
    kubectl("set", "image", "sts", "nginx-stateful", "nginx=nginx:1.21.1")
    kubectl.settled("nginx-stateful", 3)
    history = "statefulset.apps/nginx-stateful \nREVISION  CHANGE-CAUSE\n{}         <none>\n{}         <none>\n\n"
    assert kubectl("rollout", "history", "sts/nginx-stateful").out == history.format(1, 2)
    undo = kubectl("rollout", "undo", "sts/nginx-stateful")
    assert undo.out == "statefulset.apps/nginx-stateful rolled back\n"
    assert undo.err in ("", (  # kubectl >= 1.36 warns about objects it applied
        "Warning: resource statefulsets/nginx-stateful was previously managed with 'kubectl apply'. Rolling back "
        "will not update the kubectl.kubernetes.io/last-applied-configuration annotation, which may cause "
        "unexpected behavior on future 'kubectl apply' operations. Consider using 'kubectl apply' with your "
        "previous configuration file instead.\n"))
    kubectl.settled("nginx-stateful", 3)
    assert kubectl("rollout", "history", "sts/nginx-stateful").out == history.format(2, 3)
    assert _labels(kubectl) == GUIDE_LABELS  # the old revision, revived under its old name
    assert kubectl("rollout", "restart", "sts/nginx-stateful").out == "statefulset.apps/nginx-stateful restarted\n"
    sts = kubectl.settled("nginx-stateful", 3)
    assert "kubectl.kubernetes.io/restartedAt" in sts["spec"]["template"]["metadata"]["annotations"]
    assert sts["status"]["updateRevision"] not in ("nginx-stateful-7db594cfbd", "nginx-stateful-6c7d474cc")


def test_scale_prints_scaled_and_get_sts_follows(kubectl):
    kubectl.apply("nginx-stateful")
    kubectl.settled("nginx-stateful", 3)
    assert kubectl("scale", "sts", "nginx-stateful", "--replicas=2").out == "statefulset.apps/nginx-stateful scaled\n"
    kubectl.settled("nginx-stateful", 2)
    assert_same_tables(kubectl("get", "sts").out, GUIDE_GET_STS.replace("3/3", "2/2"))
    assert_same_tables(kubectl("get", "pod").out, "\n".join(GUIDE_GET_POD.splitlines()[:3]))


# ------------------------------------------------------------------------------------------ §01/§03 services

def test_expose_statefulset_fails_with_kubectls_own_error(kubectl):
    kubectl.apply("nginx-stateful")
    res = kubectl(*GUIDE_EXPOSE, check=False)
    assert (res.code, res.out, res.err) == (1, "", GUIDE_EXPOSE_ERROR)
    assert kubectl.obj("services", "nginx-stateful-svc") is None


def test_create_service_clusterip_makes_the_guides_headless_service(kubectl):
    # kubectl sends this object as protobuf (application/vnd.kubernetes.protobuf)
    res = kubectl("create", "service", "clusterip", "nginx-stateful", "--tcp=80:80", "--clusterip=None")
    assert (res.out, res.err) == (GUIDE_CREATE_SERVICE, "")
    assert_same_tables(kubectl("get", "svc", "nginx-stateful").out, GUIDE_GET_SVC)
    assert kubectl("get", "svc", "nginx-stateful", "-o", 'jsonpath={.spec.selector}{"\\n"}').out == GUIDE_SELECTOR
    svc = kubectl.obj("services", "nginx-stateful")
    assert svc["spec"]["ports"] == [{"name": "80-80", "port": 80, "protocol": "TCP", "targetPort": 80}]
    assert (svc["spec"]["clusterIP"], svc["spec"]["type"], svc["spec"]["sessionAffinity"]) == \
        ("None", "ClusterIP", "None")


def test_statefulset_pods_resolve_to_their_stable_names_as_in_the_guide(kubectl):
    kubectl("create", "service", "clusterip", "nginx-stateful", "--tcp=80:80", "--clusterip=None")
    kubectl.apply("nginx-stateful-with-service")
    kubectl.settled("nginx-stateful", 3)
    assert_same_tables(kubectl("get", "pod", "-l", "app=nginx-stateful", "-o", "wide").out, GUIDE_GET_POD_WIDE)
    ip = kubectl.obj("pods", "nginx-stateful-0")["status"]["podIP"]
    run = kubectl("run", "dnsquery", "--image=busybox", "--restart=Never", "--", "nslookup", ip)
    assert run.out == "pod/dnsquery created\n"
    assert kubectl.pod_phase("dnsquery") == "Succeeded"
    assert kubectl("logs", "dnsquery").out == _lookup_text(GUIDE_NSLOOKUP_STS, GUIDE_NSLOOKUP_STS_IP, ip)


def test_run_with_rm_and_it_prints_the_lookup_then_deletes_the_pod(kubectl):
    kubectl.apply("nginx-stateful-headless-svc", "nginx-stateful-with-service")
    kubectl.settled("nginx-stateful", 3)
    ip = kubectl.obj("pods", "nginx-stateful-0")["status"]["podIP"]
    kubectl.needs("watchlist")
    res = kubectl("run", "dnsquery", "--image=busybox", "--rm", "-it", "--restart=Never", "--", "nslookup", ip,
                  stdin="", timeout=60)
    assert res.out == _lookup_text(GUIDE_NSLOOKUP_STS, GUIDE_NSLOOKUP_STS_IP, ip) + _deleted(kubectl, 'pod "dnsquery"')
    assert kubectl.obj("pods", "dnsquery") is None


def test_deployment_pods_resolve_to_dashed_ip_names_as_in_the_guide(kubectl):
    out = kubectl.apply("test-deploy").out
    assert out == "deployment.apps/test-deploy created\nservice/test-deploy created\n"
    kubectl.settled("test-deploy", 3, plural="deployments")
    table = kubectl("get", "deploy,svc,po", "-l", "app=test-deploy", "-o", "wide").out
    assert_same_tables(table, GUIDE_GET_DEPLOY_SVC_PO, loose=("NODE",))  # which pod lands where is random
    ip = kubectl.objs("pods", "app=test-deploy")[0]["status"]["podIP"]
    kubectl("run", "dnsquery", "--image=busybox", "--restart=Never", "--", "nslookup", ip)
    kubectl.pod_phase("dnsquery")
    assert kubectl("logs", "dnsquery").out == _lookup_text(GUIDE_NSLOOKUP_DEPLOY, GUIDE_NSLOOKUP_DEPLOY_IP, ip)


def test_get_deploy_rs_prints_both_tables(kubectl):
    kubectl.apply("test-deploy")
    kubectl.settled("test-deploy", 3, plural="deployments")
    assert_same_tables(kubectl("get", "deploy,rs").out, """\
NAME                          READY   UP-TO-DATE   AVAILABLE   AGE
deployment.apps/test-deploy   3/3     3            3           22h

NAME                                     DESIRED   CURRENT   READY   AGE
replicaset.apps/test-deploy-584c765db4   3         3         3       22h
""")


def test_delete_pod_brings_the_same_name_back(kubectl):
    kubectl.apply("nginx-stateful")
    kubectl.settled("nginx-stateful", 3)
    old_uid = kubectl.obj("pods", "nginx-stateful-0")["metadata"]["uid"]
    kubectl.needs("watchlist")
    assert kubectl("delete", "pod", "nginx-stateful-0").out == _deleted(kubectl, 'pod "nginx-stateful-0"')
    kubectl.settled("nginx-stateful", 3)
    assert kubectl.obj("pods", "nginx-stateful-0")["metadata"]["uid"] != old_uid
    assert_same_tables(kubectl("get", "pod").out, GUIDE_GET_POD)


# ------------------------------------------------------------------------------------------ §04 storage

def test_volume_claim_templates_give_the_guides_tables(kubectl):
    assert kubectl.apply("sc-nfs").out == "storageclass.storage.k8s.io/sc-nfs created\n"
    assert kubectl.apply("nginx-stateful2").out == GUIDE_APPLY_2
    kubectl.settled("nginx-stateful2", 3)
    kubectl.wait("three Bound claims", lambda: [
        (c.get("status") or {}).get("phase") for c in kubectl.objs("persistentvolumeclaims")] == ["Bound"] * 3)
    assert_same_tables(kubectl("get", "sts,svc,po,pvc", "-l", "app=nginx-stateful2").out, GUIDE_GET_ALL_2)


# ------------------------------------------------------------------------------------------ explain

def test_explain_statefulset_spec_servicename_prints_the_1_27_field_doc(kubectl):
    kubectl.needs("explain")
    out = kubectl("explain", "statefulset.spec.serviceName").out
    assert out.startswith("GROUP:      apps\nKIND:       StatefulSet\nVERSION:    v1\n\nFIELD: serviceName <string>\n")
    description = out.split("DESCRIPTION:\n", 1)[1]
    assert " ".join(description.split()).startswith(
        "serviceName is the name of the service that governs this StatefulSet. This service must exist before "
        "the StatefulSet, and is responsible for the network identity of the set.")
