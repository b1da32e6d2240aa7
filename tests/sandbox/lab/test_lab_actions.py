"""The lab's actions against the sandbox, through the official client, as a notebook calls them."""

from __future__ import annotations

import contextlib
import threading

import pytest

from stsnb import manifests
from stsnb.errors import (AlreadyExists, CannotExpose, ConditionFailed, ConfigError, Forbidden, Invalid, NotFound,
                          WaitTimeout)

REV1, REV2 = "nginx-stateful-7db594cfbd", "nginx-stateful-6c7d474cc"


def test_apply_reports_created_then_unchanged_then_configured(lab):
    assert str(lab.apply("nginx-stateful")) == "statefulset.apps/nginx-stateful created"
    assert str(lab.apply("nginx-stateful")) == "statefulset.apps/nginx-stateful unchanged"
    changed = manifests.load("nginx-stateful")
    changed[0]["spec"]["replicas"] = 2
    assert str(lab.apply(changed)) == "statefulset.apps/nginx-stateful configured"
    assert lab.kube.get("statefulsets", "nginx-stateful")["spec"]["replicas"] == 2


def test_applied_objects_carry_the_managed_by_label_but_the_pod_template_does_not(lab):
    lab.apply("sc-nfs")
    lab.apply("nginx-stateful2")
    sts = lab.kube.get("statefulsets", "nginx-stateful2")
    assert sts["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "stsnb"
    assert sts["spec"]["template"]["metadata"]["labels"] == {"app": "nginx-stateful2"}
    assert sts["spec"]["volumeClaimTemplates"][0]["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "stsnb"
    svc = lab.kube.get("services", "nginx-stateful2")
    assert svc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "stsnb"
    lab.wait_ready("nginx-stateful2")
    assert set(lab.pvcs()["status"]) == {"Bound"}
    claims = lab.kube.list("persistentvolumeclaims")
    assert all(c["metadata"]["labels"].get("app.kubernetes.io/managed-by") == "stsnb" for c in claims)


def test_the_guides_statefulset_comes_up_with_the_guides_names_and_revision(guide_lab):
    lab = guide_lab
    lab.apply("nginx-stateful")
    assert "3 new pods" in str(lab.wait_ready("nginx-stateful"))
    pods = lab.pods("app=nginx-stateful")
    assert pods["name"].tolist() == ["nginx-stateful-0", "nginx-stateful-1", "nginx-stateful-2"]
    assert pods["ordinal"].tolist() == [0, 1, 2]
    assert pods["ready"].all() and set(pods["revision"]) == {REV1}
    assert set(pods["node"]) <= {"k8s-worker1", "k8s-worker2"}
    labels = lab.labels("app=nginx-stateful")
    assert labels.iloc[0][["app", "controller-revision-hash", "statefulset.kubernetes.io/pod-name"]].tolist() == [
        "nginx-stateful", REV1, "nginx-stateful-0"]
    sts = lab.statefulsets()
    assert sts.loc[0, "ready"] == "3/3" and sts.loc[0, "update_revision"] == REV1


def test_set_image_sends_only_the_image_and_rolls_from_the_highest_ordinal(guide_lab):
    lab = guide_lab
    lab.apply("nginx-stateful", wait=True)
    with lab.record("nginx-stateful") as rec:
        result = lab.set_image("nginx-stateful", nginx="nginx:1.21.1")
    assert str(result) == "statefulset.apps/nginx-stateful image updated"
    assert rec.order("deleted") == [2, 1, 0]
    assert rec.order("updated") == [2, 1, 0]
    container = lab.kube.get("statefulsets", "nginx-stateful")["spec"]["template"]["spec"]["containers"][0]
    assert (container["image"], container["imagePullPolicy"]) == ("nginx:1.21.1", "Always")
    assert set(lab.pods()["revision"]) == {REV2}
    revs = lab.revisions("nginx-stateful")
    assert revs[["name", "revision", "current", "update"]].values.tolist() == [[REV1, 1, False, False],
                                                                              [REV2, 2, True, True]]
    assert str(lab.set_image("nginx-stateful", nginx="nginx:1.21.1")) == "", "kubectl prints nothing for no change"


def test_set_image_names_a_missing_container_like_kubectl(lab):
    lab.apply("nginx-stateful")
    with pytest.raises(NotFound, match='unable to find container named "web"') as e:
        lab.set_image("nginx-stateful", web="nginx:1.21.1")
    assert "nginx" in e.value.hint


def test_a_broken_image_ends_the_rollout_wait_early_naming_the_pod_and_the_reason(lab):
    lab.apply("nginx-stateful", wait=True)
    with pytest.raises(ConditionFailed) as e:
        lab.set_image("nginx-stateful", nginx="nginx:does-not-exist", timeout=60)
    assert e.value.pod == "nginx-stateful-2"
    assert e.value.reason in ("ImagePullBackOff", "ErrImagePull")
    assert "nginx-stateful-2" in e.value.message and "nginx:does-not-exist" in e.value.message
    assert "delete the stuck pod" in e.value.hint


def test_a_wait_that_times_out_names_the_condition_and_the_last_state(lab):
    claim = manifests.volume_claim_template("data", storage_class="no-provisioner-here")
    sts = manifests.managed(manifests.statefulset("stuck", replicas=2, volume_claim_templates=[claim],
                                                  mount_path="/data"))[0]
    sts["metadata"]["namespace"] = lab.namespace
    lab.kube.create(sts)  # past apply's StorageClass check: its claims stay Pending, its pods unscheduled
    with pytest.raises(WaitTimeout) as e:
        lab.wait_ready("stuck", timeout=1)
    assert "statefulset stuck to have 2 Ready pods" in e.value.condition
    assert "0/2 Ready" in e.value.last_state and "stuck-0" in e.value.last_state
    assert e.value.condition in str(e.value) and e.value.last_state in str(e.value)


def test_rollback_reuses_the_old_revision_like_kubectl_rollout_undo(guide_lab):
    lab = guide_lab
    lab.apply("nginx-stateful", wait=True)
    lab.set_image("nginx-stateful", nginx="nginx:1.21.1")
    assert str(lab.rollback("nginx-stateful")) == "statefulset.apps/nginx-stateful rolled back"
    revs = lab.revisions("nginx-stateful")
    assert revs[["name", "revision", "update"]].values.tolist() == [[REV2, 2, False], [REV1, 3, True]]
    assert set(lab.pods()["revision"]) == {REV1}
    assert "skipped rollback" in str(lab.rollback("nginx-stateful", to_revision=3))
    with pytest.raises(NotFound, match="unable to find specified revision 9 in history"):
        lab.rollback("nginx-stateful", to_revision=9)


def test_rollback_without_history_says_there_is_nothing_to_roll_back_to(lab):
    lab.apply("nginx-stateful")
    lab.wait_ready("nginx-stateful")
    with pytest.raises(NotFound, match="no last revision to roll back to"):
        lab.rollback("nginx-stateful")


def test_restart_sets_the_restarted_at_annotation_and_rolls_the_pods(lab):
    lab.apply("nginx-stateful", wait=True)
    before = set(lab.pods()["revision"])
    assert str(lab.restart("nginx-stateful")) == "statefulset.apps/nginx-stateful restarted"
    tpl = lab.kube.get("statefulsets", "nginx-stateful")["spec"]["template"]
    assert "kubectl.kubernetes.io/restartedAt" in tpl["metadata"]["annotations"]
    after = set(lab.pods()["revision"])
    assert len(after) == 1 and after != before


def test_scale_up_and_down_keeps_ordinals_and_claims(lab):
    lab.apply("sc-nfs")
    lab.apply("nginx-stateful2", wait=True)
    assert str(lab.scale("nginx-stateful2", 5)) == "statefulset.apps/nginx-stateful2 scaled"
    assert lab.pods("app=nginx-stateful2")["ordinal"].tolist() == [0, 1, 2, 3, 4]
    with lab.record("nginx-stateful2") as rec:
        lab.scale("nginx-stateful2", 2)
    assert rec.order("deleted") == [4, 3, 2]
    assert lab.pods("app=nginx-stateful2")["ordinal"].tolist() == [0, 1]
    pvcs = lab.pvcs("app=nginx-stateful2")
    assert pvcs["ordinal"].tolist() == [0, 1, 2, 3, 4], "claims stay after a scale-down (Retain)"
    assert pvcs["in_use"].tolist() == [True, True, False, False, False]
    with pytest.raises(ConfigError):
        lab.scale("nginx-stateful2", -1)


def test_a_deleted_statefulset_pod_comes_back_with_its_name(lab):
    lab.apply("nginx-stateful", wait=True)
    result = lab.delete_pod("nginx-stateful-0")
    assert str(result) == 'pod "nginx-stateful-0" deleted'
    assert result.new_name == result.old_name == "nginx-stateful-0"
    assert result.new_uid and result.new_uid != result.old_uid
    assert result.frame["when"].tolist() == ["before", "after"]
    assert result.frame["name"].tolist() == ["nginx-stateful-0", "nginx-stateful-0"]


def test_a_deleted_deployment_pod_is_replaced_by_a_new_name(lab):
    lab.apply("test-deploy")
    lab.wait_ready("deployment/test-deploy")
    victim = lab.pods("app=test-deploy")["name"].iloc[0]
    result = lab.delete_pod(victim)
    assert result.new_name and result.new_name != victim
    assert result.new_name.startswith("test-deploy-")


def test_the_headless_service_the_imperative_way_selects_by_its_own_name(lab):
    assert str(lab.create_headless_service("nginx-stateful")) == "service/nginx-stateful created"
    svc = lab.kube.get("services", "nginx-stateful")
    assert svc["spec"]["clusterIP"] == "None"
    assert svc["spec"]["selector"] == {"app": "nginx-stateful"}
    assert svc["spec"]["ports"][0]["name"] == "80-80"
    assert svc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "stsnb"
    with pytest.raises(AlreadyExists, match='services "nginx-stateful" already exists'):
        lab.create_headless_service("nginx-stateful")
    assert str(lab.apply("nginx-stateful-headless-svc")) == "service/nginx-stateful configured"
    text = lab.kubectl_get("svc", "app=nginx-stateful")
    assert text.splitlines()[1].split()[:3] == ["nginx-stateful", "ClusterIP", "None"]


def test_expose_refuses_a_statefulset_with_kubectls_text(lab):
    lab.apply("nginx-stateful")
    with pytest.raises(CannotExpose) as e:
        lab.expose("statefulset/nginx-stateful")
    assert str(e.value) == "cannot expose a StatefulSet.apps"
    assert lab.try_(lambda: lab.expose("statefulset/nginx-stateful")) == "error: cannot expose a StatefulSet.apps"
    assert lab.try_(lambda: 42) == 42


def test_expose_works_for_a_deployment(lab):
    lab.apply("test-deploy")
    result = lab.expose("deployment/test-deploy", name="test-deploy-2")
    assert str(result) == "service/test-deploy-2 exposed"
    assert lab.kube.get("services", "test-deploy-2")["spec"]["selector"] == {"app": "test-deploy"}


def test_nslookup_runs_busybox_once_and_returns_the_answer_as_data(guide_lab):
    lab = guide_lab
    lab.apply("test-deploy")
    lab.wait_ready("deployment/test-deploy")
    ip = lab.pods("app=test-deploy")["ip"].iloc[0]
    answer = lab.nslookup(ip)
    dashed = ip.replace(".", "-")
    assert answer.answers == [f"{dashed}.test-deploy.default.svc.cluster.local"]
    assert answer.server == "10.96.0.10" and answer.exit_code == 0
    assert answer.output.startswith("Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n")
    assert lab.kube.find("pods", "dnsquery") is None, "the lookup pod is deleted afterwards"
    assert lab.nslookup(ip).answers == answer.answers, "the pod name can be reused at once"


def test_dns_names_show_a_deployment_beside_a_statefulset(guide_lab):
    lab = guide_lab
    lab.apply("test-deploy")
    lab.create_headless_service("nginx-stateful")
    lab.apply("nginx-stateful-with-service")
    lab.wait_ready("deployment/test-deploy")
    lab.wait_ready("nginx-stateful")
    df = lab.dns_names("app in (test-deploy, nginx-stateful)")
    sts_rows = df[df["owner"] == "statefulset/nginx-stateful"]
    assert sts_rows["reverse"].tolist() == [f"nginx-stateful-{i}.nginx-stateful.default.svc.cluster.local"
                                            for i in range(3)]
    assert (sts_rows["reverse"] == sts_rows["fqdn"]).all()
    deploy_rows = df[df["owner"] == "deployment/test-deploy"]
    assert len(deploy_rows) == 3
    for ip, reverse in zip(deploy_rows["ip"], deploy_rows["reverse"]):
        assert reverse == f"{ip.replace('.', '-')}.test-deploy.default.svc.cluster.local"


def test_pvcs_of_the_guides_storage_example(guide_lab):
    lab = guide_lab
    lab.apply("sc-nfs")
    assert str(lab.apply("nginx-stateful2")) == ("service/nginx-stateful2 created\n"
                                                 "statefulset.apps/nginx-stateful2 created")
    lab.wait_ready("nginx-stateful2")
    df = lab.pvcs("app=nginx-stateful2")
    assert df["claim"].tolist() == [f"nginx-stateful2-pvc-nginx-stateful2-{i}" for i in range(3)]
    assert set(df["status"]) == {"Bound"} and set(df["capacity"]) == {"2Gi"}
    assert set(df["access_modes"]) == {"RWO"} and set(df["storage_class"]) == {"sc-nfs"}
    assert all(v.startswith("pvc-") for v in df["volume"])
    text = lab.kubectl_get("sts,svc,po,pvc", "app=nginx-stateful2")
    assert "statefulset.apps/nginx-stateful2   3/3" in text
    assert "persistentvolumeclaim/nginx-stateful2-pvc-nginx-stateful2-0   Bound" in text


def test_a_claim_template_naming_a_missing_storage_class_is_refused_before_anything_is_created(lab):
    with pytest.raises(NotFound) as e:
        lab.apply("nginx-stateful2", storage_class="no-such-class")
    assert "'no-such-class'" in e.value.message and "nginx-stateful2" in e.value.message
    assert lab.kube.find("services", "nginx-stateful2") is None


def test_changing_an_immutable_field_says_how_to_start_over(lab):
    lab.apply("nginx-stateful")
    with pytest.raises(Invalid) as e:
        lab.apply("nginx-stateful-with-service")
    assert "lab.delete('statefulset/nginx-stateful'" in e.value.hint


def test_the_lab_never_changes_objects_it_did_not_create(lab):
    foreign = manifests.load("nginx-stateful")[0]
    foreign["metadata"]["namespace"] = lab.namespace
    lab.kube.create(foreign)
    with pytest.raises(Forbidden, match="not created by stsnb"):
        lab.apply("nginx-stateful")
    with pytest.raises(Forbidden, match="not created by stsnb"):
        lab.delete("statefulset/nginx-stateful")
    with pytest.raises(Forbidden, match="not created by stsnb"):
        lab.scale("nginx-stateful", 1)
    assert lab.kube.get("statefulsets", "nginx-stateful")["spec"]["replicas"] == 3


def test_apply_refuses_a_manifest_for_another_namespace(lab):
    obj = manifests.load("nginx-stateful")[0]
    obj["metadata"]["namespace"] = "kube-system"
    with pytest.raises(ConfigError, match="kube-system"):
        lab.apply(obj)


def test_delete_waits_until_the_set_and_its_pods_are_gone(lab):
    lab.apply("nginx-stateful", wait=True)
    assert str(lab.delete("statefulset/nginx-stateful")) == 'statefulset.apps "nginx-stateful" deleted'
    assert lab.kube.list("pods") == []
    assert lab.kube.list("controllerrevisions") == []


def test_compare_and_events_are_tables(lab):
    lab.apply("test-deploy")
    lab.apply("nginx-stateful")
    lab.wait_ready("deployment/test-deploy")
    lab.wait_ready("nginx-stateful")
    df = lab.compare("deployment/test-deploy", "statefulset/nginx-stateful")
    facts = df.set_index("aspect")
    assert facts.loc["pod_names", "statefulset/nginx-stateful"] == "nginx-stateful-0, nginx-stateful-1, nginx-stateful-2"
    assert facts.loc["manages_pods_through", "deployment/test-deploy"].startswith("ReplicaSet test-deploy-")
    ev = lab.events("nginx-stateful")
    assert list(ev.columns) == ["last_seen", "type", "reason", "object", "message", "count"]
    assert "SuccessfulCreate" in set(ev["reason"]) or "Scheduled" in set(ev["reason"])


def test_translated_tables_keep_english_keys_in_code(sandbox, lab):
    import stsnb
    lab.apply("nginx-stateful", wait=True)
    ko = stsnb.connect(sandbox=sandbox, namespace=lab.namespace, lang="ko", env={})
    df = ko.pods()
    assert list(df.columns) == list(lab.pods().columns) == ["name", "ordinal", "phase", "ready", "ip", "node",
                                                             "revision", "image", "status"]
    assert list(ko.t(df).columns)[:3] == ["이름", "서수", "단계"]
    assert list(lab.t(df).columns)[:3] == ["name", "ordinal", "phase"]
    assert "리비전" in ko.style(df).to_html()


def test_patch_is_kubectl_patch_and_a_partition_wait_stops_at_the_partition(lab):
    lab.apply("nginx-stateful", wait=True)
    patch = {"spec": {"updateStrategy": {"rollingUpdate": {"partition": 2}}}}
    assert str(lab.patch("statefulset/nginx-stateful", patch)) == "statefulset.apps/nginx-stateful patched"
    assert str(lab.patch("statefulset/nginx-stateful", patch)) == "statefulset.apps/nginx-stateful patched (no change)"
    lab.set_image("nginx-stateful", nginx="nginx:1.21.1")
    assert lab.pods()["image"].tolist() == ["nginx", "nginx", "nginx:1.21.1"]
    lab.patch("statefulset/nginx-stateful", {"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}},
              wait=True)
    assert lab.pods()["image"].tolist() == ["nginx:1.21.1"] * 3
    refused = lab.try_(lambda: lab.patch("statefulset/nginx-stateful", {"spec": {"podManagementPolicy": "Parallel"}}))
    assert "Forbidden" in refused and "updates to statefulset spec for fields other than" in refused
    assert isinstance(refused.error, Invalid)


def test_services_and_volumes_are_tables(lab):
    lab.create_headless_service("nginx-stateful")
    lab.apply("test-deploy")
    svc = lab.services().set_index("name")
    assert svc.loc["nginx-stateful", "cluster_ip"] == "None" and svc.loc["nginx-stateful", "ports"] == "80/TCP"
    assert svc.loc["nginx-stateful", "selector"] == {"app": "nginx-stateful"}
    assert svc.loc["test-deploy", "type"] == "ClusterIP" and svc.loc["test-deploy", "cluster_ip"] != "None"
    lab.apply("sc-nfs")
    lab.apply("nginx-stateful2", wait=True)
    vols = lab.volumes("app=nginx-stateful2")
    claims = vols[vols["source"] == "persistentVolumeClaim"]
    assert claims["pod"].tolist() == [f"nginx-stateful2-{i}" for i in range(3)]
    assert claims["claim"].tolist() == [f"nginx-stateful2-pvc-nginx-stateful2-{i}" for i in range(3)]
    assert claims["mount_path"].tolist() == ["/usr/share/nginx/html"] * 3


def test_scale_and_delete_wait_for_the_claims_the_retention_policy_deletes(lab):
    lab.apply("sc-nfs")
    lab.apply("nginx-stateful2", wait=True)
    lab.patch("statefulset/nginx-stateful2", {"spec": {"persistentVolumeClaimRetentionPolicy": {"whenScaled": "Delete"}}})
    lab.scale("nginx-stateful2", 1)
    assert lab.pvcs("app=nginx-stateful2")["ordinal"].tolist() == [0]
    lab.patch("statefulset/nginx-stateful2", {"spec": {"persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete"}}})
    lab.delete("statefulset/nginx-stateful2")
    assert lab.pvcs("app=nginx-stateful2").empty


@contextlib.contextmanager
def _controller_held_back(sandbox, namespace: str, name: str, *, after: float = 0.3):
    """The StatefulSet controller takes up ``name``'s next change, then waits: ``after`` seconds once
    the test says go (``go()``), so what the lab does meanwhile meets a controller that has not acted."""
    controller = next(c for c in sandbox.engine.controllers if c.name == "statefulset")
    gate, held = threading.Event(), threading.Event()
    sync = controller.sync

    def gated(key):
        if key == (namespace, name) and not gate.is_set():
            held.set()
            gate.wait(30)
        return sync(key)

    def go() -> None:
        assert held.wait(10), "the controller took up the change"
        threading.Timer(after, gate.set).start()
    controller.sync = gated
    try:
        yield go
    finally:
        gate.set()
        controller.sync = sync


def test_delete_right_after_a_retention_patch_waits_for_the_controller_to_own_the_claims(lab, sandbox):
    """The controller makes the set its claims' owner only when it acts on the patch; deleting the set
    before that would keep them (on any cluster). The patch comes from elsewhere (kubectl in a terminal),
    so nothing of the lab's has waited for the controller yet."""
    lab.apply("sc-nfs")
    lab.apply("nginx-stateful2", wait=True)
    with _controller_held_back(sandbox, lab.namespace, "nginx-stateful2") as go:
        lab.kube.patch("statefulsets", "nginx-stateful2",
                       {"spec": {"persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete"}}})
        go()
        lab.delete("statefulset/nginx-stateful2")
    assert lab.pvcs("app=nginx-stateful2").empty


def test_a_change_without_wait_returns_once_the_controller_has_acted_on_it(lab, sandbox):
    lab.apply("nginx-stateful", wait=True)
    lab.patch("statefulset/nginx-stateful", {"spec": {"updateStrategy": {"type": "OnDelete", "rollingUpdate": None}}})
    with _controller_held_back(sandbox, lab.namespace, "nginx-stateful") as go:
        threading.Thread(target=go, daemon=True).start()
        lab.set_image("nginx-stateful", nginx="nginx:1.21.1", wait=False)
        sts = lab.statefulsets().set_index("name").loc["nginx-stateful"]
    assert sts["update_revision"] == REV2 and sts["current_revision"] == REV1


def test_a_wait_whose_condition_already_holds_is_answered_from_a_list_without_opening_a_watch(lab, sandbox,
                                                                                              monkeypatch):
    lab.apply("nginx-stateful", wait=True)
    opened: list[str] = []
    watch = sandbox.store.watch
    monkeypatch.setattr(sandbox.store, "watch", lambda plural, *a, **kw: opened.append(plural) or watch(plural, *a, **kw))
    lab.wait_ready("nginx-stateful")
    assert opened == []
    lab.scale("nginx-stateful", 4, wait=True)  # not yet true when listed: followed from the list's resourceVersion
    assert "pods" in opened
    pods = lab.pods("app=nginx-stateful")
    assert pods["name"].tolist() == [f"nginx-stateful-{i}" for i in range(4)] and pods["ready"].all()
