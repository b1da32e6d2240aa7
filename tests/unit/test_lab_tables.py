"""Tables are plain DataFrames with a fixed column order, built by pure functions from API objects."""

from __future__ import annotations

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from stsnb import tables
from stsnb.k8s.pods import pod_status
from stsnb.kube import parse_target
from stsnb.lab.results import parse_nslookup
from stsnb.lab.views import render_table as _render_table
from stsnb.watching import statefulset_reason

REV1, REV2 = "nginx-stateful-7db594cfbd", "nginx-stateful-6c7d474cc"


def sts_pod(i: int, *, rev: str = REV1, ready: bool = True, ip: str | None = None, node: str = "k8s-worker1",
            image: str = "nginx", subdomain: str | None = None, terminating: bool = False, waiting: str | None = None,
            name: str = "nginx-stateful", claims: tuple[str, ...] = ()) -> dict:
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": f"{name}-{i}", "namespace": "default", "uid": f"uid-{name}-{i}",
                        "labels": {"app": name, "controller-revision-hash": rev,
                                   "statefulset.kubernetes.io/pod-name": f"{name}-{i}"},
                        "ownerReferences": [{"kind": "StatefulSet", "name": name, "uid": f"sts-{name}",
                                             "controller": True}]},
           "spec": {"containers": [{"name": "nginx", "image": image}], "nodeName": node, "hostname": f"{name}-{i}",
                    "volumes": [{"name": c, "persistentVolumeClaim": {"claimName": c}} for c in claims]},
           "status": {"phase": "Running" if ready or waiting is None else "Pending", "podIP": ip or f"10.100.194.{80 + i}",
                      "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}
    if subdomain:
        pod["spec"]["subdomain"] = subdomain
    if terminating:
        pod["metadata"]["deletionTimestamp"] = "2024-05-01T12:00:00Z"
    if waiting:
        pod["status"]["containerStatuses"] = [{"name": "nginx", "state": {"waiting": {"reason": waiting,
                                                                                      "message": "not found"}}}]
    return pod


def deploy_pod(suffix: str, ip: str, node: str) -> dict:
    return {"metadata": {"name": f"test-deploy-584c765db4-{suffix}", "uid": f"uid-{suffix}",
                         "labels": {"app": "test-deploy", "pod-template-hash": "584c765db4"},
                         "ownerReferences": [{"kind": "ReplicaSet", "name": "test-deploy-584c765db4", "uid": "rs-1",
                                              "controller": True}]},
            "spec": {"containers": [{"name": "nginx", "image": "nginx"}], "nodeName": node},
            "status": {"phase": "Running", "podIP": ip, "conditions": [{"type": "Ready", "status": "True"}]}}


def sts(replicas: int = 3, *, update: str = REV1, current: str = REV1, partition: int = 0, generation: int = 1,
        observed: int = 1, ready: int = 3) -> dict:
    return {"kind": "StatefulSet", "metadata": {"name": "nginx-stateful", "uid": "sts-nginx-stateful",
                                                "generation": generation},
            "spec": {"replicas": replicas, "serviceName": "nginx-stateful",
                     "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": partition}}},
            "status": {"observedGeneration": observed, "readyReplicas": ready, "updatedReplicas": ready,
                       "currentRevision": current, "updateRevision": update}}


def test_pods_has_fixed_columns_and_rows_by_ordinal():
    df = tables.pods([sts_pod(2), sts_pod(0), sts_pod(1, rev=REV2, image="nginx:1.21.1", ready=False,
                                                      waiting="ContainerCreating")])
    expected = pd.DataFrame({
        "name": ["nginx-stateful-0", "nginx-stateful-1", "nginx-stateful-2"],
        "ordinal": pd.array([0, 1, 2], dtype="Int64"),
        "phase": ["Running", "Pending", "Running"],
        "ready": [True, False, True],
        "ip": ["10.100.194.80", "10.100.194.81", "10.100.194.82"],
        "node": ["k8s-worker1"] * 3,
        "revision": [REV1, REV2, REV1],
        "image": ["nginx", "nginx:1.21.1", "nginx"],
        "status": ["Running", "ContainerCreating", "Running"],
    })
    assert list(df.columns) == tables.POD_COLUMNS
    assert_frame_equal(df, expected)


def test_deployment_pods_have_no_ordinal_and_sort_after_statefulset_pods():
    df = tables.pods([deploy_pod("2wv4w", "10.110.126.40", "k8s-worker2"), sts_pod(0)])
    assert list(df["name"]) == ["nginx-stateful-0", "test-deploy-584c765db4-2wv4w"]
    assert df["ordinal"].isna().tolist() == [False, True]
    assert df["revision"].tolist() == [REV1, "584c765db4"]


def test_pod_status_is_kubectls_status_column():
    assert pod_status(sts_pod(0, terminating=True)) == "Terminating"
    assert pod_status(sts_pod(0, ready=False, waiting="ImagePullBackOff")) == "ImagePullBackOff"
    assert tables.pod_failure(sts_pod(0, ready=False, waiting="ImagePullBackOff"))[1] == "ImagePullBackOff"
    assert tables.pod_failure(sts_pod(0, ready=False, waiting="ContainerCreating")) is None


def test_labels_puts_the_guides_keys_first_one_row_per_pod():
    df = tables.labels([sts_pod(1), sts_pod(0)])
    assert list(df.columns) == ["pod", "app", "controller-revision-hash", "statefulset.kubernetes.io/pod-name"]
    assert df.to_dict("records")[0] == {"pod": "nginx-stateful-0", "app": "nginx-stateful",
                                         "controller-revision-hash": REV1,
                                         "statefulset.kubernetes.io/pod-name": "nginx-stateful-0"}


def test_revisions_marks_current_and_update_and_counts_pods():
    revs = [{"metadata": {"name": REV2, "labels": {"controller.kubernetes.io/hash": "6c7d474cc"}}, "revision": 2,
             "data": {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.21.1"}]}}}}},
            {"metadata": {"name": REV1, "labels": {"controller.kubernetes.io/hash": "7db594cfbd"}}, "revision": 1,
             "data": {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}}}]
    df = tables.revisions(revs, sts(update=REV2, current=REV1), [sts_pod(0), sts_pod(1), sts_pod(2, rev=REV2)])
    expected = pd.DataFrame({"name": [REV1, REV2], "revision": pd.array([1, 2], dtype="Int64"),
                             "hash": ["7db594cfbd", "6c7d474cc"], "image": ["nginx", "nginx:1.21.1"],
                             "current": [True, False], "update": [False, True],
                             "pods": pd.array([2, 1], dtype="Int64")})
    assert_frame_equal(df, expected)


def test_dns_names_follow_the_three_ptr_cases_of_the_guide():
    services = [{"metadata": {"name": "nginx-stateful", "namespace": "default"},
                 "spec": {"clusterIP": "None", "selector": {"app": "nginx-stateful"}}},
                {"metadata": {"name": "test-deploy", "namespace": "default"},
                 "spec": {"clusterIP": "10.110.169.181", "selector": {"app": "test-deploy"}}}]
    pods = [sts_pod(0, ip="10.100.194.82", subdomain="nginx-stateful"),
            deploy_pod("724td", "10.100.194.79", "k8s-worker1"),
            sts_pod(1, ip="10.110.126.47", subdomain="nginx-stateful", ready=False)]
    df = tables.dns_names(pods, services, "default",
                          reverse={"10.100.194.82": ["nginx-stateful-0.nginx-stateful.default.svc.cluster.local"]})
    assert list(df.columns) == tables.DNS_COLUMNS
    rows = {r["pod"]: r for r in df.to_dict("records")}
    assert rows["nginx-stateful-0"]["fqdn"] == "nginx-stateful-0.nginx-stateful.default.svc.cluster.local"
    assert rows["nginx-stateful-0"]["reverse"] == rows["nginx-stateful-0"]["fqdn"]
    assert rows["test-deploy-584c765db4-724td"]["fqdn"] == "10-100-194-79.test-deploy.default.svc.cluster.local"
    assert pd.isna(rows["nginx-stateful-1"]["fqdn"]), "a pod that is not Ready has no DNS record"
    assert pd.isna(rows["test-deploy-584c765db4-724td"]["reverse"]), "not looked up"
    no_subdomain = sts_pod(0, ip="10.100.194.82")
    assert tables.expected_dns_names(no_subdomain, services, "default") == [
        "10-100-194-82.nginx-stateful.default.svc.cluster.local"]


def test_pvcs_show_the_kubectl_columns_and_belong_to_pods_by_name():
    def claim(i: int, bound: bool = True) -> dict:
        c = {"metadata": {"name": f"nginx-stateful2-pvc-nginx-stateful2-{i}"},
             "spec": {"storageClassName": "sc-nfs", "accessModes": ["ReadWriteOnce"]},
             "status": {"phase": "Pending"}}
        if bound:
            c["spec"]["volumeName"] = f"pvc-{i}"
            c["status"] = {"phase": "Bound", "capacity": {"storage": "2Gi"}, "accessModes": ["ReadWriteOnce"]}
        return c
    statefulset = {"metadata": {"name": "nginx-stateful2"},
                   "spec": {"volumeClaimTemplates": [{"metadata": {"name": "nginx-stateful2-pvc"}}]}}
    pods = [sts_pod(0, name="nginx-stateful2", claims=("nginx-stateful2-pvc-nginx-stateful2-0",))]
    df = tables.pvcs([claim(2, bound=False), claim(0), claim(1)], pods, [statefulset])
    assert list(df.columns) == tables.PVC_COLUMNS
    assert df.to_dict("records")[0] == {
        "claim": "nginx-stateful2-pvc-nginx-stateful2-0", "pod": "nginx-stateful2-0", "volume": "pvc-0",
        "capacity": "2Gi", "access_modes": "RWO", "storage_class": "sc-nfs", "status": "Bound", "ordinal": 0,
        "in_use": True}
    assert df["pod"].tolist() == ["nginx-stateful2-0", "nginx-stateful2-1", "nginx-stateful2-2"]
    assert df.loc[2, "volume"] == "" and df.loc[2, "status"] == "Pending"


def test_translate_renames_headers_for_display_and_keeps_the_data():
    df = tables.pods([sts_pod(0)])
    ko = tables.translate(df, "ko")
    assert list(ko.columns)[:4] == ["이름", "서수", "단계", "Ready"]
    assert ko.iloc[0].tolist() == df.iloc[0].tolist()
    assert list(tables.translate(df, "en").columns)[:2] == ["name", "ordinal"]
    assert list(df.columns) == tables.POD_COLUMNS, "translate must not change the frame it is given"


def test_style_colours_revisions_without_changing_the_data():
    df = tables.pods([sts_pod(0), sts_pod(1, rev=REV2)])
    styler = tables.style(df, "ko")
    assert_frame_equal(styler.data, tables.translate(df, "ko"))
    html = styler.to_html()
    assert "background-color" in html and "리비전" in html


def test_compare_puts_a_deployment_beside_a_statefulset():
    deployment = {"kind": "Deployment", "metadata": {"name": "test-deploy"},
                  "spec": {"replicas": 3, "template": {"metadata": {"labels": {"app": "test-deploy"}}}},
                  "status": {"readyReplicas": 3}}
    rs = {"metadata": {"name": "test-deploy-584c765db4"}, "spec": {"replicas": 3}}
    df = tables.compare([
        {"ref": "deployment/test-deploy", "object": deployment, "replicasets": [rs],
         "pods": [deploy_pod("2wv4w", "10.110.126.40", "k8s-worker2")], "services": []},
        {"ref": "statefulset/nginx-stateful", "object": sts(), "pods": [sts_pod(0)], "services": []}])
    assert list(df.columns) == ["aspect", "deployment/test-deploy", "statefulset/nginx-stateful"]
    facts = df.set_index("aspect")
    assert facts.loc["manages_pods_through", "deployment/test-deploy"] == "ReplicaSet test-deploy-584c765db4"
    assert "no ReplicaSet" in facts.loc["manages_pods_through", "statefulset/nginx-stateful"]
    assert facts.loc["pod_name_pattern", "statefulset/nginx-stateful"] == "nginx-stateful-<ordinal>"
    assert facts.loc["revision_label", "deployment/test-deploy"] == "pod-template-hash=584c765db4"
    assert tables.translate(df, "ko")["항목"].iloc[0] == "종류"


@pytest.mark.parametrize("statefulset, pods, reason", [
    (sts(), [sts_pod(0), sts_pod(1)], "creating pod 2"),
    (sts(), [sts_pod(0), sts_pod(1, ready=False)], "pod 1 not Ready yet"),
    (sts(generation=2, observed=1), [sts_pod(0)], "spec change not observed yet"),
    (sts(1), [sts_pod(0), sts_pod(1), sts_pod(2)], "scaling down: removing pod 2"),
    (sts(update=REV2), [sts_pod(0), sts_pod(1), sts_pod(2)], "updating pod 2"),
    (sts(update=REV2), [sts_pod(0), sts_pod(1), sts_pod(2, rev=REV2)], "updating pod 1"),
    (sts(update=REV2, partition=2), [sts_pod(0), sts_pod(1), sts_pod(2, rev=REV2)],
     "below partition 2: pods keep the old revision"),
    (sts(update=REV2), [sts_pod(0), sts_pod(1), sts_pod(2, rev=REV2, ready=False, waiting="ImagePullBackOff")],
     "pod 2 failing: ImagePullBackOff"),
    (sts(), [sts_pod(0), sts_pod(1), sts_pod(2)], "steady"),
])
def test_the_controllers_reason_is_derived_from_the_set_and_its_pods(statefulset, pods, reason):
    assert statefulset_reason(statefulset, pods) == reason


def test_nslookup_output_is_parsed_into_answers():
    ptr = ("Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n"
           "79.194.100.10.in-addr.arpa\tname = 10-100-194-79.test-deploy.default.svc.cluster.local\n\n")
    assert parse_nslookup(ptr, "10.100.194.79") == ("10.96.0.10", ["10-100-194-79.test-deploy.default.svc.cluster.local"])
    fwd = ("Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n"
           "Name:\tnginx-stateful-0.nginx-stateful.default.svc.cluster.local\nAddress: 10.100.194.82\n\n")
    assert parse_nslookup(fwd, "nginx-stateful-0.nginx-stateful.default.svc.cluster.local")[1] == ["10.100.194.82"]
    nx = ("Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n"
          "** server can't find 1.0.0.10.in-addr.arpa: NXDOMAIN\n\n")
    assert parse_nslookup(nx, "10.0.0.1")[1] == []
    old = ("Server:    10.96.0.10\nAddress 1: 10.96.0.10 kube-dns.kube-system.svc.cluster.local\n\n"
           "Name:      10.244.1.6\nAddress 1: 10.244.1.6 web-0.nginx.default.svc.cluster.local\n")
    assert parse_nslookup(old, "10.244.1.6")[1] == ["web-0.nginx.default.svc.cluster.local"]


def test_server_side_tables_print_like_kubectl():
    tbl = {"columnDefinitions": [{"name": "Name", "format": "name", "priority": 0, "type": "string"},
                                 {"name": "Ready", "format": "", "priority": 0, "type": "string"},
                                 {"name": "Age", "format": "", "priority": 0, "type": "string"},
                                 {"name": "Containers", "format": "", "priority": 1, "type": "string"}],
           "rows": [{"cells": ["nginx-stateful", "3/3", "14s", "nginx"]}]}
    assert _render_table(tbl) == "NAME             READY   AGE\nnginx-stateful   3/3     14s"
    assert _render_table(tbl, prefix="statefulset.apps/").splitlines()[1].startswith("statefulset.apps/nginx-stateful")
    assert _render_table(tbl, wide=True).splitlines()[0].endswith("CONTAINERS")


@pytest.mark.parametrize("target, kind, name", [
    ("nginx-stateful", "StatefulSet", "nginx-stateful"), ("sts/x", "StatefulSet", "x"),
    ("deployment/test-deploy", "Deployment", "test-deploy"), ("statefulset.apps/x", "StatefulSet", "x"),
    ("svc/nginx-stateful", "Service", "nginx-stateful"), ("pod/dnsquery", "Pod", "dnsquery"),
])
def test_targets_name_a_kind_and_an_object_like_kubectl(target, kind, name):
    k, n = parse_target(target)
    assert (k.kind, n) == (kind, name)
