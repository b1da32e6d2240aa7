"""The Deployment controller: ReplicaSets per pod template, rolling updates, status and conditions.

Follows ``kubernetes/kubernetes:pkg/controller/deployment/`` step by step:
``deployment_controller.go`` (``syncDeployment``), ``sync.go``
(``getNewReplicaSet``, ``scale``, ``cleanupDeployment``, ``calculateStatus``),
``rolling.go`` (``rolloutRolling``, ``reconcileOldReplicaSets``), ``recreate.go``,
``progress.go`` (``syncRolloutStatus``) and ``util/deployment_util.go``
(``ResolveFenceposts``, ``GetProportion`` here; ``NewRSNewReplicas``,
``SetNewReplicaSetAnnotations``, ``DeploymentComplete``, ``DeploymentProgressing``
and the other pure helpers in :mod:`.deployment_util`).

The ReplicaSet is named ``<deployment>-<pod-template-hash>``; the hash has
upstream's alphabet and length but not its value (see
:func:`stsnb.sandbox.hashing.pod_template_hash`). The ``ScalingReplicaSet``
event text follows the imitated version: "Scaled up replica set X to 3" when the
ReplicaSet is created, then "... to 2 from 1" (kubernetes#101142, 1.22) or, from
1.31, "... from 1 to 2" (kubernetes#125118).
"""

from __future__ import annotations

from ...k8s.selectors import selector_from_label_selector
from ..apiserver.registry import deep_copy
from ..core import errors
from ..core.cluster import Cluster
from ..core.engine import Timer
from ..core.store import Event
from ..hashing import pod_template_hash
from .common import controller_ref_of, controlled_by, edit, edit_spec, is_terminating, new_controller_ref, set_condition
from .ref_manager import adopt, owners_to_sync, release
from .deployment_util import (DESIRED_REPLICAS, HASH_LABEL, MAX_INT32, MAX_REPLICAS, REVISION, by_creation,
                              deployment_complete, deployment_progressing, desc_timestamp, equal_ignore_hash,
                              get_condition, has_progress_deadline, is_rolling, max_revision, max_surge,
                              max_unavailable, new_rs_new_replicas, replicas_annotations_need_update, replicas_of,
                              revision_of, round_half_away, set_new_replicaset_annotations, set_replicas_annotations,
                              spec_replicas, status_count)

COMPONENT = "deployment-controller"


class DeploymentController:
    """Deployments → ReplicaSets, one sync at a time as ``syncDeployment``."""

    name = "deployment"
    def __init__(self, sb: Cluster) -> None:
        self.sb = sb
        self._requeue_at: dict[tuple[str, str], float] = {}
        self._stuck_timers: dict[tuple[str, str], Timer] = {}

    # ------------------------------------------------------------------ wiring
    def keys_for(self, ev: Event) -> list:
        meta = ev.obj["metadata"]
        if ev.plural == "deployments":
            return [(meta["namespace"], meta["name"])]
        if ev.plural == "replicasets":
            return owners_to_sync(self.sb, ev, "Deployment", "deployments")
        if ev.plural == "pods" and ev.type == "DELETED":  # Recreate waits for old pods to be gone
            ref = controller_ref_of(ev.obj)
            if ref is not None and ref.get("kind") == "ReplicaSet":
                rs = self.sb.store.get("replicasets", meta["namespace"], ref["name"])
                dref = controller_ref_of(rs) if rs is not None else None
                if dref is not None and dref.get("kind") == "Deployment":
                    return [(meta["namespace"], dref["name"])]
        return []

    # ------------------------------------------------------------------ sync
    def sync(self, key) -> None:
        ns, name = key
        cur = self.sb.store.get("deployments", ns, name)
        if cur is None:
            self._requeue_at.pop(key, None)
            return
        d = deep_copy(cur)
        d.setdefault("status", {})
        sel = d["spec"].get("selector") or {}
        if not (sel.get("matchLabels") or sel.get("matchExpressions")):
            self.sb.registry.record_event(d, "Warning", "SelectingAll",
                                          "This deployment is selecting all pods. A non-empty selector is required.",
                                          COMPONENT)
            if d["status"].get("observedGeneration") != d["metadata"].get("generation"):
                st = dict(d["status"], observedGeneration=d["metadata"].get("generation", 1))
                self.sb.registry.write_status("deployments", d, st)
            return
        self._claim_replicasets(d)
        if is_terminating(d):
            self._sync_status_only(d)
            return
        self._check_paused_conditions(d)
        if d["spec"].get("paused"):
            self._sync(d)
            return
        if self._is_scaling_event(d):
            self._sync(d)
            return
        if is_rolling(d):
            self._rollout_rolling(d)
        else:
            self._rollout_recreate(d)

    # ------------------------------------------------------------------ ReplicaSets of a deployment
    def _rs_list(self, d: dict) -> list[dict]:
        return [rs for rs in self.sb.store.list("replicasets", d["metadata"]["namespace"]) if controlled_by(rs, d)]

    def _claim_replicasets(self, d: dict) -> None:
        """``ClaimReplicaSets``: adopt orphans that match the selector, release owned ones that do not."""
        sel = selector_from_label_selector(d["spec"].get("selector"))
        uid = d["metadata"]["uid"]
        for rs in self.sb.store.list("replicasets", d["metadata"]["namespace"]):
            ref = controller_ref_of(rs)
            labels = rs["metadata"].get("labels") or {}
            if ref is not None and ref.get("uid") == uid and not sel.matches(labels) and not is_terminating(d):
                release(self.sb, d, "replicasets", rs)
            elif ref is None and sel.matches(labels) and not is_terminating(d) and not is_terminating(rs):
                adopt(self.sb, d, "deployments", "replicasets", rs)

    def _find_new(self, d: dict, rss: list[dict]) -> dict | None:
        """``FindNewReplicaSet``: the oldest ReplicaSet whose template equals the deployment's."""
        for rs in by_creation(rss):
            if equal_ignore_hash(rs["spec"].get("template"), d["spec"].get("template")):
                return rs
        return None

    def _get_all(self, d: dict, create: bool) -> tuple[dict | None, list[dict]]:
        """``getAllReplicaSetsAndSyncRevision``: the new ReplicaSet (revision synced) and all old ones."""
        rss = self._rs_list(d)
        new = self._find_new(d, rss)
        olds = [rs for rs in rss if new is None or rs["metadata"]["uid"] != new["metadata"]["uid"]]
        new = self._get_new_replicaset(d, rss, olds, new, create)
        return new, olds

    def _set_deployment_revision(self, d: dict, revision: str | None) -> bool:
        if revision is None or (d["metadata"].get("annotations") or {}).get(REVISION) == revision:
            return False
        d["metadata"].setdefault("annotations", {})[REVISION] = revision

        def put(new: dict) -> None:
            new["metadata"].setdefault("annotations", {})[REVISION] = revision
        stored = edit(self.sb, "deployments", d["metadata"]["namespace"], d["metadata"]["name"], put,
                      uid=d["metadata"]["uid"])
        if stored is not None:
            d["metadata"]["resourceVersion"] = stored["metadata"]["resourceVersion"]
        return True

    def _write_status(self, d: dict) -> None:
        self.sb.registry.write_status("deployments", d, d["status"])

    def _get_new_replicaset(self, d: dict, rss: list[dict], olds: list[dict], existing: dict | None,
                            create: bool) -> dict | None:
        """``getNewReplicaSet``: bring the existing new ReplicaSet up to date, or create it if ``create``."""
        new_revision = str(max_revision(olds) + 1)
        if existing is not None:
            return self._update_new_replicaset(d, existing, new_revision)
        if not create:
            return None
        return self._create_new_replicaset(d, olds, new_revision)

    def _update_new_replicaset(self, d: dict, existing: dict, new_revision: str) -> dict:
        """The existing new ReplicaSet: its annotations and minReadySeconds follow the deployment."""
        ns = d["metadata"]["namespace"]
        rs_copy = deep_copy(existing)
        changed = set_new_replicaset_annotations(d, rs_copy, new_revision, True)
        min_ready = d["spec"].get("minReadySeconds") or 0
        if int(rs_copy["spec"].get("minReadySeconds") or 0) != int(min_ready):
            if min_ready:
                rs_copy["spec"]["minReadySeconds"] = min_ready
            else:
                rs_copy["spec"].pop("minReadySeconds", None)
            changed = True
        if changed:
            def put(new: dict) -> None:
                new["metadata"]["annotations"] = rs_copy["metadata"].get("annotations") or {}
                if "minReadySeconds" in rs_copy["spec"]:
                    new["spec"]["minReadySeconds"] = rs_copy["spec"]["minReadySeconds"]
                else:
                    new["spec"].pop("minReadySeconds", None)
            stored = edit_spec(self.sb, "replicasets", ns, existing["metadata"]["name"], put,
                               uid=existing["metadata"]["uid"])
            return stored or existing
        needs = self._set_deployment_revision(d, (existing["metadata"].get("annotations") or {}).get(REVISION))
        if has_progress_deadline(d) and get_condition(d["status"], "Progressing") is None:
            d["status"]["conditions"] = set_condition(d["status"].get("conditions") or [], self._condition(
                "Progressing", "True", "FoundNewReplicaSet", f'Found new replica set "{existing["metadata"]["name"]}"'))
            needs = True
        if needs:
            self._write_status(d)
        return existing

    def _create_new_replicaset(self, d: dict, olds: list[dict], new_revision: str) -> dict | None:
        """A ReplicaSet for the deployment's current template, named by its hash (a collision bumps the count)."""
        ns, dname = d["metadata"]["namespace"], d["metadata"]["name"]
        collision = d["status"].get("collisionCount")
        template = deep_copy(d["spec"]["template"])
        h = pod_template_hash(d["spec"]["template"], collision)
        template.setdefault("metadata", {})
        template["metadata"]["labels"] = {**(template["metadata"].get("labels") or {}), HASH_LABEL: h}
        selector = deep_copy(d["spec"]["selector"])
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), HASH_LABEL: h}
        rs_name = f"{dname}-{h}"
        rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "metadata": {"name": rs_name, "namespace": ns, "labels": dict(template["metadata"]["labels"]),
                           "ownerReferences": [new_controller_ref(d)]},
              "spec": {"replicas": 0, "selector": selector, "template": template}}
        if d["spec"].get("minReadySeconds"):
            rs["spec"]["minReadySeconds"] = d["spec"]["minReadySeconds"]
        new_replicas = new_rs_new_replicas(d, olds + [rs], rs)
        rs["spec"]["replicas"] = new_replicas
        set_new_replicaset_annotations(d, rs, new_revision, False)
        already = False
        try:
            created, _ = self.sb.registry.create("replicasets", ns, rs)
        except errors.ApiError as e:
            if e.code == 409:
                found = self.sb.store.get("replicasets", ns, rs_name)
                if found is not None and controlled_by(found, d) and \
                        equal_ignore_hash(found["spec"].get("template"), d["spec"]["template"]):
                    created, already = found, True
                else:
                    d["status"]["collisionCount"] = int(collision or 0) + 1
                    self._write_status(d)
                    self.sb.engine.enqueue(self.name, (ns, dname))
                    return None
            else:
                msg = f'Failed to create new replica set "{rs_name}": {e.message}'
                if has_progress_deadline(d):
                    d["status"]["conditions"] = set_condition(d["status"].get("conditions") or [], self._condition(
                        "Progressing", "False", "ReplicaSetCreateError", msg))
                    self._write_status(d)
                self.sb.registry.record_event(d, "Warning", "ReplicaSetCreateError", msg, COMPONENT)
                return None
        if not already:
            if new_replicas > 0:
                self.sb.registry.record_event(d, "Normal", "ScalingReplicaSet",
                                              f"Scaled up replica set {rs_name} to {new_replicas}", COMPONENT)
        needs = self._set_deployment_revision(d, new_revision)
        if not already and has_progress_deadline(d):
            d["status"]["conditions"] = set_condition(d["status"].get("conditions") or [], self._condition(
                "Progressing", "True", "NewReplicaSetCreated", f'Created new replica set "{rs_name}"'))
            needs = True
        if needs:
            self._write_status(d)
        return created

    def _condition(self, type_: str, status: str, reason: str, message: str) -> dict:
        now = self.sb.clock.timestamp()
        return {"type": type_, "status": status, "lastUpdateTime": now, "lastTransitionTime": now,
                "reason": reason, "message": message}

    # ------------------------------------------------------------------ scaling
    def _scaled_message(self, op: str, name: str, old: int, new: int) -> str:
        if self.sb.profile.minor >= 31:
            return f"Scaled {op} replica set {name} from {old} to {new}"
        return f"Scaled {op} replica set {name} to {new} from {old}"

    def _scale_rs(self, rs: dict, new_scale: int, d: dict, op: str) -> tuple[bool, dict]:
        """``scaleReplicaSet``: set replicas and the desired/max annotations; one event per size change."""
        size_changes = spec_replicas(rs) != new_scale
        desired, maxr = replicas_of(d), replicas_of(d) + max_surge(d)
        if not size_changes and not replicas_annotations_need_update(rs, desired, maxr):
            return False, rs
        old = spec_replicas(rs)

        def put(new: dict) -> None:
            new["spec"]["replicas"] = new_scale
            set_replicas_annotations(new, desired, maxr)
        stored = edit_spec(self.sb, "replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"], put,
                           uid=rs["metadata"]["uid"])
        if stored is None:
            return False, rs
        if size_changes:
            self.sb.registry.record_event(d, "Normal", "ScalingReplicaSet",
                                          self._scaled_message(op, rs["metadata"]["name"], old, new_scale), COMPONENT)
        return size_changes, stored

    def _scale_and_record(self, rs: dict, new_scale: int, d: dict) -> tuple[bool, dict]:
        """``scaleReplicaSetAndRecordEvent``."""
        if spec_replicas(rs) == new_scale:
            return False, rs
        return self._scale_rs(rs, new_scale, d, "up" if spec_replicas(rs) < new_scale else "down")

    def _scale(self, d: dict, new: dict | None, olds: list[dict]) -> None:
        """``scale``: proportional scaling of every active ReplicaSet during a rollout or while paused."""
        replicas = replicas_of(d)
        active_or_latest = self._find_active_or_latest(new, olds)
        if active_or_latest is not None:
            if spec_replicas(active_or_latest) != replicas:
                self._scale_and_record(active_or_latest, replicas, d)
            return
        if self._is_saturated(d, new):
            for old in [rs for rs in olds if spec_replicas(rs) > 0]:
                self._scale_and_record(old, 0, d)
            return
        if not is_rolling(d):
            return
        all_rss = [rs for rs in olds + ([new] if new else []) if spec_replicas(rs) > 0]
        total = sum(spec_replicas(rs) for rs in all_rss)
        allowed = replicas + max_surge(d) if replicas > 0 else 0
        to_add = allowed - total
        op = ""
        if to_add > 0:  # ReplicaSetsBySizeNewer
            all_rss.sort(key=lambda r: (-spec_replicas(r), desc_timestamp(r["metadata"].get("creationTimestamp") or "")))
            op = "up"
        elif to_add < 0:  # ReplicaSetsBySizeOlder
            all_rss.sort(key=lambda r: (-spec_replicas(r), r["metadata"].get("creationTimestamp") or ""))
            op = "down"
        added = 0
        sizes: dict[str, int] = {}
        for rs in all_rss:
            if to_add != 0:
                prop = self._proportion(rs, d, to_add, added)
                sizes[rs["metadata"]["name"]] = spec_replicas(rs) + prop
                added += prop
            else:
                sizes[rs["metadata"]["name"]] = spec_replicas(rs)
        for i, rs in enumerate(all_rss):
            n = rs["metadata"]["name"]
            if i == 0 and to_add != 0:
                sizes[n] = max(0, sizes[n] + to_add - added)
            self._scale_rs(rs, sizes[n], d, op)

    def _proportion(self, rs: dict, d: dict, to_add: int, added: int) -> int:
        """``GetProportion`` and ``getReplicaSetFraction``."""
        if spec_replicas(rs) == 0 or to_add == 0 or to_add == added:
            return 0
        replicas = replicas_of(d)
        if replicas == 0:
            fraction = -spec_replicas(rs)
        else:
            deployment_replicas = replicas + max_surge(d)
            try:
                annotated = int((rs["metadata"].get("annotations") or {})[MAX_REPLICAS])
            except (KeyError, ValueError):
                annotated = int((d.get("status") or {}).get("replicas") or 0)
            if annotated == 0:
                fraction = 0
            else:
                fraction = round_half_away(spec_replicas(rs) * deployment_replicas / annotated) - spec_replicas(rs)
        allowed = to_add - added
        return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)

    @staticmethod
    def _find_active_or_latest(new: dict | None, olds: list[dict]) -> dict | None:
        """``FindActiveOrLatest``: the one active ReplicaSet, or the newest when none is active."""
        if new is None and not olds:
            return None
        olds_desc = list(reversed(by_creation(olds)))
        active = [rs for rs in olds_desc + ([new] if new else []) if spec_replicas(rs) > 0]
        if not active:
            return new if new is not None else olds_desc[0]
        if len(active) == 1:
            return active[0]
        return None

    @staticmethod
    def _is_saturated(d: dict, rs: dict | None) -> bool:
        if rs is None:
            return False
        try:
            desired = int((rs["metadata"].get("annotations") or {})[DESIRED_REPLICAS])
        except (KeyError, ValueError):
            return False
        replicas = replicas_of(d)
        return spec_replicas(rs) == replicas and desired == replicas and status_count(rs, "availableReplicas") == replicas

    def _is_scaling_event(self, d: dict) -> bool:
        new, olds = self._get_all(d, False)
        for rs in [r for r in olds + ([new] if new else []) if spec_replicas(r) > 0]:
            try:
                desired = int((rs["metadata"].get("annotations") or {})[DESIRED_REPLICAS])
            except (KeyError, ValueError):
                continue
            if desired != replicas_of(d):
                return True
        return False

    # ------------------------------------------------------------------ sync paths
    def _sync(self, d: dict) -> None:
        """``sync``: scaling events and paused deployments."""
        new, olds = self._get_all(d, False)
        self._scale(d, new, olds)
        if d["spec"].get("paused"):
            self._cleanup(d, self._get_all(d, False)[1])
        new, olds = self._get_all(d, False)
        self._sync_deployment_status(d, olds + ([new] if new else []), new)

    def _sync_status_only(self, d: dict) -> None:
        new, olds = self._get_all(d, False)
        self._sync_deployment_status(d, olds + ([new] if new else []), new)

    def _check_paused_conditions(self, d: dict) -> None:
        if not has_progress_deadline(d):
            return
        cond = get_condition(d["status"], "Progressing")
        if cond is not None and cond.get("reason") == "ProgressDeadlineExceeded":
            return
        paused_exists = cond is not None and cond.get("reason") == "DeploymentPaused"
        if d["spec"].get("paused") and not paused_exists:
            c = self._condition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused")
        elif not d["spec"].get("paused") and paused_exists:
            c = self._condition("Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed")
        else:
            return
        d["status"]["conditions"] = set_condition(d["status"].get("conditions") or [], c)
        self._write_status(d)

    def _rollout_rolling(self, d: dict) -> None:
        """``rolloutRolling``: scale the new ReplicaSet up, then old ones down, within the fenceposts."""
        new, olds = self._get_all(d, True)
        if new is None:
            return
        all_rss = olds + [new]
        if self._reconcile_new(d, all_rss, new):
            self._sync_rollout_status(d)
            return
        if self._reconcile_olds(d, all_rss, [rs for rs in olds if spec_replicas(rs) > 0], new):
            self._sync_rollout_status(d)
            return
        if deployment_complete(d, d["status"]):
            self._cleanup(d, olds)
        self._sync_rollout_status(d)

    def _reconcile_new(self, d: dict, all_rss: list[dict], new: dict) -> bool:
        replicas = replicas_of(d)
        if spec_replicas(new) == replicas:
            return False
        if spec_replicas(new) > replicas:
            return self._scale_and_record(new, replicas, d)[0]
        return self._scale_and_record(new, new_rs_new_replicas(d, all_rss, new), d)[0]

    def _reconcile_olds(self, d: dict, all_rss: list[dict], olds: list[dict], new: dict) -> bool:
        old_count = sum(spec_replicas(rs) for rs in olds)
        if old_count == 0:
            return False
        all_count = sum(spec_replicas(rs) for rs in all_rss)
        min_available = replicas_of(d) - max_unavailable(d)
        new_unavailable = spec_replicas(new) - status_count(new, "availableReplicas")
        max_scaled_down = all_count - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        olds, cleaned = self._cleanup_unhealthy(d, olds, max_scaled_down)
        scaled = self._scale_down_olds(d, olds + [new], olds)
        return cleaned + scaled > 0

    def _cleanup_unhealthy(self, d: dict, olds: list[dict], max_cleanup: int) -> tuple[list[dict], int]:
        """``cleanupUnhealthyReplicas``: old pods that are not available go first."""
        olds = by_creation(olds)
        total = 0
        for i, rs in enumerate(olds):
            if total >= max_cleanup:
                break
            if spec_replicas(rs) == 0 or spec_replicas(rs) == status_count(rs, "availableReplicas"):
                continue
            count = min(max_cleanup - total, spec_replicas(rs) - status_count(rs, "availableReplicas"))
            _, olds[i] = self._scale_and_record(rs, spec_replicas(rs) - count, d)
            total += count
        return olds, total

    def _scale_down_olds(self, d: dict, all_rss: list[dict], olds: list[dict]) -> int:
        """``scaleDownOldReplicaSetsForRollingUpdate``: keep at least replicas - maxUnavailable available."""
        min_available = replicas_of(d) - max_unavailable(d)
        available = sum(status_count(rs, "availableReplicas") for rs in all_rss)
        if available <= min_available:
            return 0
        total, target = 0, available - min_available
        for rs in by_creation(olds):
            if total >= target:
                break
            if spec_replicas(rs) == 0:
                continue
            count = min(spec_replicas(rs), target - total)
            self._scale_and_record(rs, spec_replicas(rs) - count, d)
            total += count
        return total

    def _rollout_recreate(self, d: dict) -> None:
        """``rolloutRecreate``: every old pod gone before the new ReplicaSet is scaled up."""
        new, olds = self._get_all(d, False)
        scaled_down = False
        for rs in olds:
            if spec_replicas(rs) > 0:
                scaled_down = self._scale_and_record(rs, 0, d)[0] or scaled_down
        if scaled_down:
            self._sync_rollout_status(d)
            return
        if self._old_pods_running(new, olds):
            self._sync_rollout_status(d)
            return
        if new is None:
            new, olds = self._get_all(d, True)
            if new is None:
                return
        self._scale_and_record(new, replicas_of(d), d)
        if deployment_complete(d, d["status"]):
            self._cleanup(d, olds)
        self._sync_rollout_status(d)

    def _old_pods_running(self, new: dict | None, olds: list[dict]) -> bool:
        if sum(status_count(rs, "replicas") for rs in olds) > 0:
            return True
        old_uids = {rs["metadata"]["uid"] for rs in olds}
        if not old_uids:
            return False
        for p in self.sb.store.list("pods", (olds[0]["metadata"]["namespace"])):
            ref = controller_ref_of(p)
            if ref is not None and ref.get("uid") in old_uids and \
                    (p.get("status") or {}).get("phase") not in ("Failed", "Succeeded"):
                return True
        return False

    def _cleanup(self, d: dict, olds: list[dict]) -> None:
        """``cleanupDeployment``: keep ``revisionHistoryLimit`` old ReplicaSets."""
        limit = d["spec"].get("revisionHistoryLimit")
        if limit is None or limit == MAX_INT32:
            return
        alive = [rs for rs in olds if not is_terminating(rs)]
        diff = len(alive) - int(limit)
        if diff <= 0:
            return
        alive.sort(key=lambda r: (revision_of(r) or 0, r["metadata"].get("creationTimestamp") or "", r["metadata"]["name"]))
        for rs in alive[:diff]:
            if status_count(rs, "replicas") != 0 or spec_replicas(rs) != 0 or \
                    rs["metadata"].get("generation", 1) > status_count(rs, "observedGeneration"):
                continue
            try:
                self.sb.registry.delete("replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"])
            except errors.ApiError:
                continue

    # ------------------------------------------------------------------ status
    def _calculate_status(self, all_rss: list[dict], new: dict | None, d: dict) -> dict:
        """``calculateStatus``; zero counts omitted as Go's ``omitempty`` does."""
        available = sum(status_count(rs, "availableReplicas") for rs in all_rss)
        total = sum(spec_replicas(rs) for rs in all_rss)
        counts = {"observedGeneration": d["metadata"].get("generation", 1),
                  "replicas": sum(status_count(rs, "replicas") for rs in all_rss),
                  "updatedReplicas": status_count(new, "replicas") if new else 0,
                  "readyReplicas": sum(status_count(rs, "readyReplicas") for rs in all_rss),
                  "availableReplicas": available,
                  "unavailableReplicas": max(0, total - available)}
        st: dict = {k: v for k, v in counts.items() if v}
        conditions = list(d["status"].get("conditions") or [])
        if available >= replicas_of(d) - max_unavailable(d):
            c = self._condition("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
        else:
            c = self._condition("Available", "False", "MinimumReplicasUnavailable",
                                "Deployment does not have minimum availability.")
        st["conditions"] = set_condition(conditions, c)
        if d["status"].get("collisionCount") is not None:
            st["collisionCount"] = d["status"]["collisionCount"]
        return st

    def _sync_deployment_status(self, d: dict, all_rss: list[dict], new: dict | None) -> None:
        st = self._calculate_status(all_rss, new, d)
        if st != d["status"]:
            d["status"] = st
            self._write_status(d)

    def _sync_rollout_status(self, d: dict) -> None:
        """``syncRolloutStatus``: status plus the Progressing condition (complete, progressing, timed out)."""
        new, olds = self._get_all(d, False)
        all_rss = olds + ([new] if new else [])
        st = self._calculate_status(all_rss, new, d)
        if not has_progress_deadline(d):
            st["conditions"] = [c for c in st["conditions"] if c.get("type") != "Progressing"]
        cur = get_condition(d["status"], "Progressing")
        complete_before = st.get("replicas", 0) == st.get("updatedReplicas", 0) and cur is not None and \
            cur.get("reason") == "NewReplicaSetAvailable"
        rs_name = new["metadata"]["name"] if new else None
        if has_progress_deadline(d) and not complete_before:
            if deployment_complete(d, st):
                msg = f'ReplicaSet "{rs_name}" has successfully progressed.' if rs_name else \
                    f'Deployment "{d["metadata"]["name"]}" has successfully progressed.'
                st["conditions"] = set_condition(st["conditions"], self._condition(
                    "Progressing", "True", "NewReplicaSetAvailable", msg))
            elif deployment_progressing(d, st):
                msg = f'ReplicaSet "{rs_name}" is progressing.' if rs_name else \
                    f'Deployment "{d["metadata"]["name"]}" is progressing.'
                c = self._condition("Progressing", "True", "ReplicaSetUpdated", msg)
                if cur is not None:
                    if cur.get("status") == "True":
                        c["lastTransitionTime"] = cur.get("lastTransitionTime", c["lastTransitionTime"])
                    st["conditions"] = [x for x in st["conditions"] if x.get("type") != "Progressing"]
                st["conditions"] = set_condition(st["conditions"], c)
            elif self._timed_out(d, st):
                msg = f'ReplicaSet "{rs_name}" has timed out progressing.' if rs_name else \
                    f'Deployment "{d["metadata"]["name"]}" has timed out progressing.'
                st["conditions"] = set_condition(st["conditions"], self._condition(
                    "Progressing", "False", "ProgressDeadlineExceeded", msg))
        st["conditions"] = [c for c in st["conditions"] if c.get("type") != "ReplicaFailure"]
        if st == d["status"]:
            self._requeue_stuck(d, st)
            return
        d["status"] = st
        self._write_status(d)

    def _timed_out(self, d: dict, st: dict) -> bool:
        """``DeploymentTimedOut``."""
        if not has_progress_deadline(d):
            return False
        cond = get_condition(st, "Progressing")
        if cond is None or cond.get("reason") == "NewReplicaSetAvailable":
            return False
        if cond.get("reason") == "ProgressDeadlineExceeded":
            return True
        try:
            since = self.sb.clock.parse(cond["lastUpdateTime"])
        except (KeyError, TypeError, ValueError):
            return False
        return since + int(d["spec"]["progressDeadlineSeconds"]) < self.sb.clock.now()

    def _requeue_stuck(self, d: dict, st: dict) -> None:
        """``requeueStuckDeployment``: look again when the progress deadline passes.

        The timer is cancelled once the rollout completes, so a finished rollout leaves nothing
        for a discrete clock to jump to.
        """
        key = (d["metadata"]["namespace"], d["metadata"]["name"])
        cur = get_condition(d["status"], "Progressing")
        if not has_progress_deadline(d) or cur is None or deployment_complete(d, st) or \
                cur.get("reason") == "ProgressDeadlineExceeded":
            timer = self._stuck_timers.pop(key, None)
            if timer is not None:
                timer.cancel()
                self._requeue_at.pop(key, None)
            return
        try:
            since = self.sb.clock.parse(cur["lastUpdateTime"])
        except (KeyError, TypeError, ValueError):
            return
        now = self.sb.clock.now()
        at = since + int(d["spec"]["progressDeadlineSeconds"]) + 1.0
        if self._requeue_at.get(key, -1.0) > now and self._requeue_at[key] <= at:
            return
        self._requeue_at[key] = at
        old = self._stuck_timers.pop(key, None)
        if old is not None:
            old.cancel()
        self._stuck_timers[key] = self.sb.engine.call_later(max(1.0, at - now),
                                                            lambda: self.sb.engine.enqueue(self.name, key))