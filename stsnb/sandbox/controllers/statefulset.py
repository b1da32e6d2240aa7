"""The StatefulSet controller, step by step as upstream's ``updateStatefulSet``.

Follows ``kubernetes/kubernetes:pkg/controller/statefulset/stateful_set_control.go``,
``stateful_set_utils.go`` and ``stateful_pod_control.go`` (the spec's §1–§5):
ordinal identity, OrderedReady and Parallel management, RollingUpdate from the
highest ordinal with ``partition`` (and ``maxUnavailable`` where the version
has it), OnDelete, ControllerRevisions with upstream's exact hash and name,
per-pod claims and their retention policy, and the status fields. Each sync
that has to wait stops with the reason ("waiting for nginx-stateful-1 to be Running and
Ready") as the message of an internal stop; the sandbox keeps no log of them: the lab infers
the same reasons from the objects (``stsnb.watching.statefulset_reason``), which works on real
clusters too.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..core import errors
from ..core.cluster import Cluster
from ..hashing import controller_revision_name, go_json, hash_revision_data, revision_patch
from ..apiserver.registry import deep_copy
from ...k8s.selectors import selector_from_label_selector
from ..core.store import Event
from .common import controller_ref_of
from .ref_manager import adopt, claim as claim_objects, owners_to_sync

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
REVISION_LABEL = "controller-revision-hash"
HASH_LABEL = "controller.kubernetes.io/hash"
_ORDINAL = re.compile(r"^(.*)-([0-9]+)$")


def parent_and_ordinal(name: str) -> tuple[str, int]:
    m = _ORDINAL.match(name)
    return (m.group(1), int(m.group(2))) if m else ("", -1)


def is_created(p: dict) -> bool:
    return bool(p.get("status", {}).get("phase"))


def is_running_and_ready(p: dict) -> bool:
    st = p.get("status", {})
    return st.get("phase") == "Running" and any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in st.get("conditions") or [])


def is_terminating(p: dict) -> bool:
    return bool(p["metadata"].get("deletionTimestamp"))


def is_healthy(p: dict) -> bool:
    return is_running_and_ready(p) and not is_terminating(p)


def is_failed(p: dict) -> bool:
    return p.get("status", {}).get("phase") == "Failed"


def is_succeeded(p: dict) -> bool:
    return p.get("status", {}).get("phase") == "Succeeded"


def revision_of(p: dict) -> str:
    return (p["metadata"].get("labels") or {}).get(REVISION_LABEL, "")


def owned_by(obj: dict, uid: str) -> bool:
    return any(r.get("controller") and r.get("uid") == uid for r in obj["metadata"].get("ownerReferences") or [])


def controller_ref(sts: dict) -> dict:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": sts["metadata"]["name"],
            "uid": sts["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


class _Stop(Exception):
    """Ends one sync early: the monotonic controller waits for something (the reason is logged)."""


class StatefulSetController:
    name = "statefulset"

    def __init__(self, sb: Cluster) -> None:
        self.sb = sb
        self._requeues: dict[tuple[str, str], float] = {}

    # ------------------------------------------------------------------ wiring
    def keys_for(self, ev: Event) -> list:
        """``addPod``/``updatePod``/``deletePod``: the set that controls a pod (before and after the change),
        or, for an orphan, every set whose selector matches it (it may be adopted)."""
        meta = ev.obj["metadata"]
        if ev.plural == "statefulsets":
            return [(meta["namespace"], meta["name"])]
        if ev.plural in ("pods", "controllerrevisions"):
            return owners_to_sync(self.sb, ev, "StatefulSet", "statefulsets")
        if ev.plural == "persistentvolumeclaims" and ev.type == "DELETED":
            return [(meta["namespace"], s["metadata"]["name"]) for s in self.sb.store.list("statefulsets", meta["namespace"])]
        return []

    # ------------------------------------------------------------------ sync
    def sync(self, key) -> None:
        ns, name = key
        sts = self.sb.store.get("statefulsets", ns, name)
        if sts is None:
            return
        pods = self._claim_pods(sts)
        revisions = self._list_revisions(sts)
        current, update, collision_count = self._revisions(sts, revisions)
        status = self._compute_status(sts, pods, current, update, collision_count)
        try:
            if not sts["metadata"].get("deletionTimestamp"):
                self._update_pods(sts, pods, current, update, status)
        except _Stop:
            pass  # waiting for a pod (the message says which); the next event resumes the sync
        self._complete_rolling_update(sts, status)
        self.sb.registry.write_status("statefulsets", sts, status)
        self._truncate_history(sts, revisions, pods, current, update)
        self._requeue_for_availability(sts, pods, status)

    # ------------------------------------------------------------------ adoption
    def _claim_pods(self, sts: dict) -> list[dict]:
        """``getPodsForStatefulSet``: ``ClaimPods`` with the selector and ``isMemberOf`` (the name names the set)."""
        name = sts["metadata"]["name"]
        sel = selector_from_label_selector(sts["spec"].get("selector"))
        return claim_objects(self.sb, sts, "statefulsets", "pods", self.sb.store.list("pods", sts["metadata"]["namespace"]),
                     lambda p: sel.matches(p["metadata"].get("labels")) and
                     parent_and_ordinal(p["metadata"]["name"])[0] == name)

    def _list_revisions(self, sts: dict) -> list[dict]:
        """``adoptOrphanRevisions`` then ``ListControllerRevisions``: the revisions the selector matches that the
        set controls, orphans adopted first (a set re-created after an orphaning delete gets its history back)."""
        sel = selector_from_label_selector(sts["spec"].get("selector"))
        uid = sts["metadata"]["uid"]
        out = []
        for r in self.sb.store.list("controllerrevisions", sts["metadata"]["namespace"]):
            if not sel.matches(r["metadata"].get("labels")):
                continue
            ref = controller_ref_of(r)
            if ref is None and not is_terminating(sts):
                r = adopt(self.sb, sts, "statefulsets", "controllerrevisions", r) or r
                ref = controller_ref_of(r)
            if ref is not None and ref.get("uid") == uid:
                out.append(r)
        return out

    # ------------------------------------------------------------------ revisions
    def _revisions(self, sts: dict, revisions: list[dict]) -> tuple[dict, dict, int]:
        """``getStatefulSetRevisions``: find or create the update revision; reuse an equal older one."""
        reg = self.sb.registry
        revisions.sort(key=lambda r: (r.get("revision", 0), r["metadata"]["creationTimestamp"], r["metadata"]["name"]))
        collision_count = int(sts.get("status", {}).get("collisionCount") or 0)
        data = revision_patch(sts["spec"]["template"])
        next_number = (revisions[-1].get("revision", 0) + 1) if revisions else 1
        equal = [r for r in revisions if go_json(r.get("data")) == data]
        if equal and equal[-1] is revisions[-1]:
            update = revisions[-1]
        elif equal:
            update = deep_copy(equal[-1])
            update["revision"] = next_number
            update = reg.replace("controllerrevisions", update)
        else:
            while True:
                h = hash_revision_data(data, collision_count)
                name = controller_revision_name(sts["metadata"]["name"], h)
                existing = self.sb.store.get("controllerrevisions", sts["metadata"]["namespace"], name)
                if existing is not None:
                    if go_json(existing.get("data")) == data and owned_by(existing, sts["metadata"]["uid"]):
                        update = existing
                        break
                    collision_count += 1
                    continue
                labels = dict((sts["spec"]["template"].get("metadata") or {}).get("labels") or {})
                labels[HASH_LABEL] = h
                cr = {"apiVersion": "apps/v1", "kind": "ControllerRevision",
                      "metadata": {"name": name, "namespace": sts["metadata"]["namespace"], "labels": labels,
                                   "ownerReferences": [controller_ref(sts)]},
                      "data": __import__("json").loads(data), "revision": next_number}
                if sts["metadata"].get("annotations"):
                    cr["metadata"]["annotations"] = dict(sts["metadata"]["annotations"])
                update, _ = reg.create("controllerrevisions", sts["metadata"]["namespace"], cr)
                break
        cur_name = sts.get("status", {}).get("currentRevision")
        current = update
        if cur_name:
            found = self.sb.store.get("controllerrevisions", sts["metadata"]["namespace"], cur_name)
            if found is not None:
                current = found
        return current, update, collision_count

    def _set_from_revision(self, sts: dict, revision: dict) -> dict:
        """``ApplyRevision``: the set with the revision's template."""
        out = deep_copy(sts)
        tpl = deep_copy(revision["data"]["spec"]["template"])
        tpl.pop("$patch", None)
        out["spec"]["template"] = tpl
        return out

    # ------------------------------------------------------------------ status
    def _compute_status(self, sts: dict, pods: list[dict], current: dict, update: dict, cc: int) -> dict:
        min_ready = sts["spec"].get("minReadySeconds") or 0
        st = {"observedGeneration": sts["metadata"].get("generation", 1), "replicas": 0, "readyReplicas": 0,
              "currentReplicas": 0, "updatedReplicas": 0, "availableReplicas": 0,
              "currentRevision": current["metadata"]["name"], "updateRevision": update["metadata"]["name"],
              "collisionCount": cc}
        for p in pods:
            if is_created(p):
                st["replicas"] += 1
            if is_running_and_ready(p):
                st["readyReplicas"] += 1
                if self._available(p, min_ready):
                    st["availableReplicas"] += 1
            if is_created(p) and not is_terminating(p):
                if revision_of(p) == st["currentRevision"]:
                    st["currentReplicas"] += 1
                if revision_of(p) == st["updateRevision"]:
                    st["updatedReplicas"] += 1
        return st

    def _available(self, p: dict, min_ready: int) -> bool:
        """``podutil.IsPodAvailable``: Ready, and Ready since more than ``minReadySeconds`` ago."""
        if not is_running_and_ready(p):
            return False
        if min_ready <= 0:
            return True
        since = self._ready_since(p)
        return since is not None and since + min_ready < self.sb.clock.now()

    def _complete_rolling_update(self, sts: dict, st: dict) -> None:
        strategy = sts["spec"].get("updateStrategy") or {}
        if strategy.get("type") == "RollingUpdate" and \
                st["updatedReplicas"] == st["readyReplicas"] == st["replicas"] == sts["spec"]["replicas"]:
            st["currentReplicas"] = st["updatedReplicas"]
            st["currentRevision"] = st["updateRevision"]

    # ------------------------------------------------------------------ pods
    def _update_pods(self, sts: dict, pods: list[dict], current: dict, update: dict, st: dict) -> None:
        """``updateStatefulSet`` steps 7-11: replicas up in order, condemned pods down, then the update strategy.

        Raises:
            _Stop: when a monotonic (OrderedReady) StatefulSet has to wait, or an update step was taken.
        """
        spec = sts["spec"]
        start = (spec.get("ordinals") or {}).get("start", 0) if self.sb.profile.start_ordinal else 0
        monotonic = spec.get("podManagementPolicy", "OrderedReady") != "Parallel"
        strategy = spec.get("updateStrategy") or {}
        rolling = strategy.get("rollingUpdate")
        partition = (rolling or {}).get("partition", 0) or 0
        cur_set, upd_set = self._set_from_revision(sts, current), self._set_from_revision(sts, update)
        cur_name, upd_name = current["metadata"]["name"], update["metadata"]["name"]
        replicas, condemned = self._replicas_and_condemned(sts, pods, start)

        def versioned(ordinal: int) -> dict:
            use_current = strategy.get("type") == "RollingUpdate" and (
                (rolling is None and ordinal < start + st["currentReplicas"]) or
                (rolling is not None and ordinal < start + partition))
            base, rev = (cur_set, cur_name) if use_current else (upd_set, upd_name)
            return self._new_pod(base, rev, ordinal)

        first_unavailable = self._first_unavailable(sts, replicas, condemned)
        self._sync_replicas(sts, replicas, start, monotonic, versioned, st, cur_name, upd_name)  # 7.
        for pod in condemned:  # 8. claim owner references for condemned pods (retention policy)
            self._set_claim_owner_for_condemned(sts, pod)
        self._scale_down(sts, condemned, monotonic, first_unavailable)  # 9.
        # 10./11. updates
        if strategy.get("type") == "OnDelete":
            outdated = [p for p in replicas if p is not None and revision_of(p) != upd_name]
            if outdated:
                raise _Stop(f"OnDelete: {len(outdated)} pod(s) keep the old revision until you delete them")
            return
        if self.sb.profile.max_unavailable and rolling is not None:
            self._rolling_max_unavailable(sts, replicas, partition, upd_name, st, rolling)
            return
        self._rolling_update(sts, replicas, partition, upd_name, st)

    @staticmethod
    def _replicas_and_condemned(sts: dict, pods: list[dict], start: int) -> tuple[list[dict | None], list[dict]]:
        """The pods by ordinal (``None`` where one is missing) and those outside the range, highest first."""
        name, replica_count = sts["metadata"]["name"], sts["spec"]["replicas"]
        replicas: list[dict | None] = [None] * replica_count
        condemned: list[dict] = []
        for p in pods:
            parent, ordinal = parent_and_ordinal(p["metadata"]["name"])
            if parent != name or ordinal < 0:
                continue
            if start <= ordinal < start + replica_count:
                replicas[ordinal - start] = p
            else:
                condemned.append(p)
        condemned.sort(key=lambda p: -parent_and_ordinal(p["metadata"]["name"])[1])
        return replicas, condemned

    def _sync_replicas(self, sts: dict, replicas: list[dict | None], start: int, monotonic: bool,
                       versioned: Callable[[int], dict], st: dict, cur_name: str, upd_name: str) -> None:
        """Step 7, ascending: re-create failed pods, create missing ones, wait for each to be ready."""
        min_ready = sts["spec"].get("minReadySeconds") or 0
        for i in range(len(replicas)):
            ordinal = start + i
            pod = replicas[i]
            if pod is not None and (is_failed(pod) or is_succeeded(pod)):
                if not is_terminating(pod):
                    meta, pod_name = sts["metadata"], pod["metadata"]["name"]
                    if is_failed(pod):
                        self.sb.registry.record_event(sts, "Warning", "RecreatingFailedPod",
                                                      f"StatefulSet {meta['namespace']}/{meta['name']} is recreating "
                                                      f"failed Pod {pod_name}", "statefulset-controller")
                    else:
                        self.sb.registry.record_event(sts, "Normal", "RecreatingTerminatedPod",
                                                      f"StatefulSet {meta['namespace']}/{meta['name']} is recreating "
                                                      f"terminated Pod {pod_name}", "statefulset-controller")
                    self._delete_pod(sts, pod, f"it {pod['status']['phase'].lower()}; it will be re-created with the same name")
                    if monotonic:
                        raise _Stop(f"re-creating {pod['metadata']['name']} after it {pod['status']['phase'].lower()}")
                continue
            if pod is None:
                new = versioned(ordinal)
                if self._stale_claims(sts, new):
                    raise _Stop(f"waiting for the old claims of {new['metadata']['name']} to be released")
                self._create_pod(sts, new, st, cur_name, upd_name)
                replicas[i] = new
                if monotonic:
                    raise _Stop(f"waiting for {new['metadata']['name']} to be Running and Ready")
                continue
            if pod.get("status", {}).get("phase") == "Pending":
                self._create_claims(sts, pod)
            if is_terminating(pod) and monotonic:
                raise _Stop(f"waiting for {pod['metadata']['name']} to finish terminating")
            if not is_running_and_ready(pod) and monotonic:
                raise _Stop(f"waiting for {pod['metadata']['name']} to be Running and Ready")
            if min_ready and not self._available(pod, min_ready) and monotonic:
                self._requeue_at_available(sts, pod, min_ready)
                raise _Stop(f"waiting for {pod['metadata']['name']} to be available for {min_ready}s")
            self._repair_identity(sts, pod, ordinal)

    def _unavailable(self, sts: dict, pod: dict | None) -> bool:
        """``isUnavailable``: not created yet, not Running and Ready for ``minReadySeconds``, or terminating."""
        min_ready = sts["spec"].get("minReadySeconds") or 0
        return pod is None or not is_running_and_ready(pod) or not self._available(pod, min_ready) or \
            is_terminating(pod)

    def _first_unavailable(self, sts: dict, replicas: list[dict | None], condemned: list[dict]) -> object:
        """The first unhealthy pod: the lowest replica (a missing ordinal counts), else the lowest condemned pod.

        A missing ordinal is returned as a sentinel that no condemned pod is; upstream builds a
        placeholder pod for it (``newVersionedStatefulSetPod``) before it looks.
        """
        for i, pod in enumerate(replicas):
            if self._unavailable(sts, pod):
                return pod if pod is not None else ("missing", i)
        for pod in reversed(condemned):
            if self._unavailable(sts, pod):
                return pod
        return None

    def _scale_down(self, sts: dict, condemned: list[dict], monotonic: bool, first_unavailable: object) -> None:
        """Step 9, ``processCondemned``, descending: delete condemned pods; when monotonic one at a time, and
        only while every one of them is healthy except, at most, the first unhealthy pod of the whole set."""
        min_ready = sts["spec"].get("minReadySeconds") or 0
        for pod in condemned:
            pname = pod["metadata"]["name"]
            if is_terminating(pod):
                if monotonic:
                    raise _Stop(f"scaling down: waiting for {pname} to finish terminating")
                continue
            if monotonic and pod is not first_unavailable and \
                    (not is_running_and_ready(pod) or not self._available(pod, min_ready)):
                blocker = first_unavailable["metadata"]["name"] if isinstance(first_unavailable, dict) else \
                    f"{sts['metadata']['name']}-{first_unavailable[1]}" if first_unavailable else pname
                raise _Stop(f"scaling down: waiting for {blocker} to be Running and Ready")
            self._delete_pod(sts, pod, "scale down")
            if monotonic:
                raise _Stop(f"scaling down: waiting for {pname} to terminate")

    def _rolling_update(self, sts: dict, replicas: list[dict | None], partition: int, upd_name: str,
                        st: dict) -> None:
        """Step 11, RollingUpdate: from the highest ordinal down to ``partition``, one pod at a time."""
        for target in range(len(replicas) - 1, partition - 1, -1):
            pod = replicas[target]
            if pod is None:
                continue
            if revision_of(pod) != upd_name and not is_terminating(pod):
                self._delete_pod(sts, pod, f"rolling update to {upd_name}")
                st["currentReplicas"] -= 1
                raise _Stop(f"rolling update: replacing {pod['metadata']['name']}")
            if not is_healthy(pod):
                raise _Stop(f"rolling update: waiting for {pod['metadata']['name']} to be Running and Ready")
        if partition > 0 and any(p is not None and revision_of(p) != upd_name for p in replicas[:partition]):
            raise _Stop(f"rolling update paused: ordinals below partition {partition} keep the current revision")

    def _rolling_max_unavailable(self, sts: dict, replicas: list, partition: int, upd_name: str, st: dict,
                                 rolling: dict) -> None:
        raw = rolling.get("maxUnavailable", 1)
        n = len(replicas)
        if isinstance(raw, str) and raw.endswith("%"):
            max_unavailable = max(1, int(n * int(raw[:-1]) / 100))
        else:
            max_unavailable = max(1, int(raw or 1))
        unavailable = sum(1 for p in replicas if p is None or not is_healthy(p))
        if unavailable >= max_unavailable:
            raise _Stop(f"rolling update: {unavailable} pod(s) unavailable, maxUnavailable is {max_unavailable}")
        budget = max_unavailable - unavailable
        deleted = []
        for target in range(n - 1, partition - 1, -1):
            pod = replicas[target]
            if budget <= 0:
                break
            if pod is not None and revision_of(pod) != upd_name and not is_terminating(pod):
                self._delete_pod(sts, pod, f"rolling update to {upd_name}")
                st["currentReplicas"] -= 1
                budget -= 1
                deleted.append(pod["metadata"]["name"])
        if deleted:
            raise _Stop(f"rolling update: replacing {', '.join(deleted)}")

    def _requeue_at_available(self, sts: dict, pod: dict, min_ready: int) -> None:
        since = self._ready_since(pod)
        if since is not None:
            self._requeue_at(sts, since + min_ready)

    def _requeue_for_availability(self, sts: dict, pods: list[dict], st: dict) -> None:
        """With ``minReadySeconds``, look again when the next ready pod becomes available (both policies;
        upstream requeues the set after ``minReadySeconds`` while ready and available replicas differ)."""
        min_ready = sts["spec"].get("minReadySeconds") or 0
        if not min_ready or st["readyReplicas"] == st["availableReplicas"]:
            return
        due = [since + min_ready for p in pods if is_running_and_ready(p) and not self._available(p, min_ready)
               for since in [self._ready_since(p)] if since is not None]
        if due:
            self._requeue_at(sts, min(due))

    def _requeue_at(self, sts: dict, at: float) -> None:
        """Sync the set again just after sandbox second ``at`` (once per distinct moment)."""
        key = (sts["metadata"]["namespace"], sts["metadata"]["name"])
        now = self.sb.clock.now()
        at += 0.01
        pending = self._requeues.get(key)
        if pending is not None and now < pending <= at:
            return
        self._requeues[key] = at
        self.sb.engine.call_later(max(0.0, at - now), lambda: self.sb.engine.enqueue(self.name, key))

    def _ready_since(self, pod: dict) -> float | None:
        for c in pod["status"].get("conditions") or []:
            if c.get("type") == "Ready" and c.get("status") == "True":
                try:
                    return self.sb.clock.parse(c["lastTransitionTime"])
                except (KeyError, TypeError, ValueError):
                    return None
        return None

    # ------------------------------------------------------------------ building pods and claims
    def _new_pod(self, base: dict, revision_name: str, ordinal: int) -> dict:
        """``newVersionedStatefulSetPod``: template + identity + storage + revision label."""
        set_name = base["metadata"]["name"]
        tpl = base["spec"]["template"]
        pod_name = f"{set_name}-{ordinal}"
        tmeta = tpl.get("metadata") or {}
        labels = dict(tmeta.get("labels") or {})
        labels[POD_NAME_LABEL] = pod_name
        if self.sb.profile.pod_index_label:
            labels[POD_INDEX_LABEL] = str(ordinal)
        labels[REVISION_LABEL] = revision_name
        meta = {"name": pod_name, "generateName": f"{set_name}-", "namespace": base["metadata"]["namespace"],
                "labels": labels, "ownerReferences": [controller_ref(base)]}
        if tmeta.get("annotations"):
            meta["annotations"] = dict(tmeta["annotations"])
        if tmeta.get("finalizers"):
            meta["finalizers"] = list(tmeta["finalizers"])
        spec = deep_copy(tpl.get("spec") or {})
        spec["hostname"] = pod_name
        if base["spec"].get("serviceName"):
            spec["subdomain"] = base["spec"]["serviceName"]
        claim_volumes = [{"name": c["metadata"]["name"],
                          "persistentVolumeClaim": {"claimName": f"{c['metadata']['name']}-{set_name}-{ordinal}"}}
                         for c in base["spec"].get("volumeClaimTemplates") or []]
        names = {v["name"] for v in claim_volumes}
        volumes = claim_volumes + [v for v in spec.get("volumes") or [] if v.get("name") not in names]
        if volumes:
            spec["volumes"] = volumes
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}

    def _claims_for(self, sts: dict, ordinal: int) -> list[dict]:
        """``getPersistentVolumeClaims``: one claim per template, labelled with the selector."""
        set_name = sts["metadata"]["name"]
        match = (sts["spec"].get("selector") or {}).get("matchLabels") or {}
        out = []
        for tpl in sts["spec"].get("volumeClaimTemplates") or []:
            claim_meta = tpl.get("metadata") or {}
            meta = {"name": f"{claim_meta['name']}-{set_name}-{ordinal}", "namespace": sts["metadata"]["namespace"],
                    "labels": {**(claim_meta.get("labels") or {}), **match}}
            if claim_meta.get("annotations"):
                meta["annotations"] = dict(claim_meta["annotations"])
            out.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta,
                        "spec": deep_copy(tpl.get("spec") or {})})
        return out

    def _retention(self, sts: dict) -> tuple[str, str]:
        if not self.sb.profile.pvc_retention_policy:
            return "Retain", "Retain"
        p = sts["spec"].get("persistentVolumeClaimRetentionPolicy") or {}
        return p.get("whenDeleted", "Retain"), p.get("whenScaled", "Retain")

    def _create_claims(self, sts: dict, pod: dict) -> None:
        ordinal = parent_and_ordinal(pod["metadata"]["name"])[1]
        when_deleted, _ = self._retention(sts)
        for claim in self._claims_for(sts, ordinal):
            existing = self.sb.store.get("persistentvolumeclaims", claim["metadata"]["namespace"], claim["metadata"]["name"])
            if existing is not None:
                if existing["metadata"].get("deletionTimestamp"):
                    raise _Stop(f"pvc {claim['metadata']['name']} is being deleted")
                continue
            if when_deleted == "Delete":
                claim["metadata"]["ownerReferences"] = [controller_ref(sts)]
            self.sb.registry.create("persistentvolumeclaims", claim["metadata"]["namespace"], claim)
            self.sb.registry.record_event(
                sts, "Normal", "SuccessfulCreate",
                f"create Claim {claim['metadata']['name']} Pod {pod['metadata']['name']} in StatefulSet "
                f"{sts['metadata']['name']} success", "statefulset-controller")

    def _stale_claims(self, sts: dict, pod: dict) -> bool:
        """``PodClaimIsStale``: a claim still owned by an old pod (whenScaled: Delete) blocks creation."""
        _, when_scaled = self._retention(sts)
        if when_scaled != "Delete":
            return False
        ordinal = parent_and_ordinal(pod["metadata"]["name"])[1]
        for claim in self._claims_for(sts, ordinal):
            existing = self.sb.store.get("persistentvolumeclaims", claim["metadata"]["namespace"], claim["metadata"]["name"])
            if existing is not None and any(r.get("kind") == "Pod" for r in existing["metadata"].get("ownerReferences") or []):
                return True
        return False

    def _create_pod(self, sts: dict, pod: dict, st: dict, cur_name: str, upd_name: str) -> None:
        self._create_claims(sts, pod)
        try:
            self.sb.registry.create("pods", pod["metadata"]["namespace"], pod)
        except errors.ApiError as e:
            self.sb.registry.record_event(sts, "Warning", "FailedCreate",
                                          f"create Pod {pod['metadata']['name']} in StatefulSet {sts['metadata']['name']} "
                                          f"failed error: {e.message}", "statefulset-controller")
            raise _Stop(f"creating {pod['metadata']['name']} failed: {e.message}") from None
        self.sb.registry.record_event(sts, "Normal", "SuccessfulCreate",
                                      f"create Pod {pod['metadata']['name']} in StatefulSet {sts['metadata']['name']} successful",
                                      "statefulset-controller")
        rev = revision_of(pod)
        st["replicas"] += 1
        if rev == cur_name:
            st["currentReplicas"] += 1
        if rev == upd_name:
            st["updatedReplicas"] += 1

    def _delete_pod(self, sts: dict, pod: dict, why: str) -> None:
        self.sb.registry.delete("pods", pod["metadata"]["namespace"], pod["metadata"]["name"],
                                preconditions={"uid": pod["metadata"]["uid"]})
        self.sb.registry.record_event(sts, "Normal", "SuccessfulDelete",
                                      f"delete Pod {pod['metadata']['name']} in StatefulSet {sts['metadata']['name']} successful",
                                      "statefulset-controller")

    def _repair_identity(self, sts: dict, pod: dict, ordinal: int) -> None:
        """``identityMatches``/``storageMatches``: put back a removed pod-name label, recreate missing claims."""
        labels = pod["metadata"].get("labels") or {}
        if labels.get(POD_NAME_LABEL) != pod["metadata"]["name"]:
            new = deep_copy(pod)
            new["metadata"].setdefault("labels", {})[POD_NAME_LABEL] = pod["metadata"]["name"]
            if self.sb.profile.pod_index_label:
                new["metadata"]["labels"][POD_INDEX_LABEL] = str(ordinal)
            self.sb.registry.replace("pods", new)
        when_deleted, _ = self._retention(sts)
        for claim in self._claims_for(sts, ordinal):
            existing = self.sb.store.get("persistentvolumeclaims", claim["metadata"]["namespace"], claim["metadata"]["name"])
            if existing is None:
                self._create_claims(sts, pod)
                break
            self._sync_claim_owner(sts, existing, None, when_deleted, in_range=True)

    def _set_claim_owner_for_condemned(self, sts: dict, pod: dict) -> None:
        when_deleted, when_scaled = self._retention(sts)
        ordinal = parent_and_ordinal(pod["metadata"]["name"])[1]
        for claim in self._claims_for(sts, ordinal):
            existing = self.sb.store.get("persistentvolumeclaims", claim["metadata"]["namespace"], claim["metadata"]["name"])
            if existing is not None:
                self._sync_claim_owner(sts, existing, pod if when_scaled == "Delete" else None, when_deleted, in_range=False)

    def _sync_claim_owner(self, sts: dict, claim: dict, condemned_pod: dict | None, when_deleted: str, *,
                          in_range: bool) -> None:
        """``updateClaimOwnerRefForSetAndPod``: owner refs that make the GC honour the retention policy."""
        refs = [r for r in claim["metadata"].get("ownerReferences") or []
                if r.get("uid") not in (sts["metadata"]["uid"],) and r.get("kind") != "Pod"]
        if when_deleted == "Delete":
            refs.append(controller_ref(sts) if condemned_pod is None else {**controller_ref(sts), "controller": False})
        if condemned_pod is not None and not in_range:
            refs.append({"apiVersion": "v1", "kind": "Pod", "name": condemned_pod["metadata"]["name"],
                         "uid": condemned_pod["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True})
        if refs != (claim["metadata"].get("ownerReferences") or []):
            new = deep_copy(claim)
            if refs:
                new["metadata"]["ownerReferences"] = refs
            else:
                new["metadata"].pop("ownerReferences", None)
            self.sb.registry.replace("persistentvolumeclaims", new)

    # ------------------------------------------------------------------ history
    def _truncate_history(self, sts: dict, revisions: list[dict], pods: list[dict], current: dict, update: dict) -> None:
        live = {current["metadata"]["name"], update["metadata"]["name"]} | {revision_of(p) for p in pods}
        ns = sts["metadata"]["namespace"]
        fresh = [r for r in self.sb.store.list("controllerrevisions", ns) if owned_by(r, sts["metadata"]["uid"])]
        history = sorted((r for r in fresh if r["metadata"]["name"] not in live), key=lambda r: r.get("revision", 0))
        limit = sts["spec"].get("revisionHistoryLimit", 10)
        for r in history[: max(0, len(history) - limit)]:
            try:
                self.sb.registry.delete("controllerrevisions", ns, r["metadata"]["name"])
            except errors.ApiError:
                pass


def selector_matches(sts: dict, labels: dict) -> bool:
    return selector_from_label_selector(sts["spec"].get("selector")).matches(labels)
