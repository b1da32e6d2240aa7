"""Volumes: the PersistentVolume binder, a dynamic provisioner, and PVC/PV protection.

Follows ``kubernetes/kubernetes:pkg/controller/volume/persistentvolume/pv_controller.go``
(``syncUnboundClaim``, ``syncVolume``, ``bind``, ``provisionClaim``,
``reclaimVolume``), ``index.go`` (``findBestMatchForClaim``), the external
provisioner library (``kubernetes-sigs/sig-storage-lib-external-provisioner``,
events ``Provisioning``/``ProvisioningSucceeded``) and
``pkg/controller/volume/pvcprotection`` / ``pvprotection``.

What a claim goes through:

1. ``kubernetes.io/pvc-protection`` is added (upstream: the StorageObjectInUseProtection
   admission plugin, at create time; here on the controller's first look).
2. No ``storageClassName`` at all: the default class (annotated
   ``storageclass.kubernetes.io/is-default-class: "true"``, the newest if several)
   is written into the claim. Upstream the DefaultStorageClass admission plugin
   does that at create time, and RetroactiveDefaultStorageClass (beta 1.26, GA
   1.28) later for claims created before a default existed; the sandbox does both
   here, when it first binds.
3. An Available PersistentVolume that fits (class, access modes, size, volume mode,
   selector) is bound, the smallest first. Otherwise:

   * no class → Pending, ``FailedBinding`` "no persistent volumes available for this
     claim and no storage class is set";
   * a class that does not exist → Pending, ``ProvisioningFailed``
     ``storageclass.storage.k8s.io "X" not found`` (Warning);
   * ``volumeBindingMode: WaitForFirstConsumer`` → ``WaitForFirstConsumer`` until the
     scheduler has chosen a node for the first pod that uses the claim and written it
     into ``volume.kubernetes.io/selected-node``;
   * otherwise the claim is annotated with the provisioner, ``ExternalProvisioning``
     and ``Provisioning`` are recorded, and after :attr:`PROVISION_SECONDS` a PV
     ``pvc-<claim uid>`` is created (``ProvisioningSucceeded``) and bound.
     ``kubernetes.io/no-provisioner`` classes never provision.

   Pending claims are looked at again every 15 sandbox seconds (the PV
   controller's resync), so the event counts grow as on a real cluster.
4. Deleting a claim: it stays ``Terminating`` while a scheduled pod names it, then
   the finalizer goes; its PV is ``Released``, and deleted when its reclaim policy is
   ``Delete`` (``Retain`` keeps it ``Released`` with its ``claimRef``).

The provisioned volume's source names the provisioner: an ``nfs`` source for
NFS provisioners (nfs-subdir-external-provisioner's path pattern
``<namespace>-<claim>-<pv>``), a ``csi`` source for anything else. What pods
write to a volume is kept by the kubelet's container runtime
(``node/containers.py``), keyed by the PV's uid, until the PV object is deleted.
"""

from __future__ import annotations

import re

from ..core import errors
from ..core.cluster import Cluster
from ..hashing import random_suffix
from ...k8s.quantity import parse_quantity
from ...k8s.selectors import selector_from_label_selector
from ..core.store import Event
from .common import delete_quietly, edit, is_terminating, pod_claim_names

COMPONENT = "persistentvolume-controller"
PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
BETA_DEFAULT_CLASS = "storageclass.beta.kubernetes.io/is-default-class"
BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
NO_PROVISIONER = "kubernetes.io/no-provisioner"

def claim_request(pvc: dict) -> object:
    return (((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")


def is_default_class(sc: dict) -> bool:
    ann = sc["metadata"].get("annotations") or {}
    return ann.get(DEFAULT_CLASS) == "true" or ann.get(BETA_DEFAULT_CLASS) == "true"


class VolumeController:
    """Binds claims to volumes, provisions volumes, and guards both against early deletion."""

    name = "volumes"
    #: sandbox seconds from "Provisioning" to the PV being created and bound
    PROVISION_SECONDS = 1.0
    #: the PV controller's resync period: pending claims are looked at again (and their event re-counted)
    RESYNC_SECONDS = 15.0
    #: sandbox seconds a Delete-policy volume stays Released before its PV is removed
    RECLAIM_SECONDS = 0.5

    def __init__(self, sb: Cluster) -> None:
        self.sb = sb
        self._provisioning: set[str] = set()
        self._reclaiming: set[str] = set()
        self._last_event: dict[str, tuple[str, str, float]] = {}
        self._resync_at: dict[str, float] = {}
        self._identities: dict[str, str] = {}
        self._waiting: dict[str, str] = {}

    # ------------------------------------------------------------------ wiring
    def keys_for(self, ev: Event) -> list:
        meta = ev.obj["metadata"]
        if ev.plural == "persistentvolumeclaims":
            keys: list = [("pvc", meta["namespace"], meta["name"])]
            if ev.type == "DELETED":
                uid = meta.get("uid")
                keys += [("pv", pv["metadata"]["name"]) for pv in self.sb.store.list("persistentvolumes")
                         if ((pv.get("spec") or {}).get("claimRef") or {}).get("uid") == uid]
            return keys
        if ev.plural == "persistentvolumes":
            keys = [("pv", meta["name"])]
            if ev.type != "DELETED" and not (ev.obj.get("spec") or {}).get("claimRef"):
                keys += self._pending_claim_keys()
            return keys
        if ev.plural == "storageclasses" and ev.type != "DELETED":
            return self._pending_claim_keys()
        if ev.plural == "pods":
            if ev.type == "MODIFIED" and ev.old is not None and \
                    ev.old["spec"].get("nodeName") == ev.obj["spec"].get("nodeName") and \
                    bool(ev.old["metadata"].get("deletionTimestamp")) == bool(meta.get("deletionTimestamp")):
                return []
            return [("pvc", meta["namespace"], c) for c in pod_claim_names(ev.obj)]
        return []

    def _pending_claim_keys(self) -> list:
        return [("pvc", c["metadata"]["namespace"], c["metadata"]["name"])
                for c in self.sb.store.list("persistentvolumeclaims")
                if (c.get("status") or {}).get("phase", "Pending") == "Pending"]

    def sync(self, key) -> None:
        if key[0] == "pvc":
            self._sync_claim(key[1], key[2])
        elif key[0] == "pv":
            self._sync_volume(key[1])

    # ------------------------------------------------------------------ claims
    def _sync_claim(self, ns: str, name: str) -> None:
        pvc = self.sb.store.get("persistentvolumeclaims", ns, name)
        if pvc is None:
            return
        if is_terminating(pvc):
            self._protect_claim(pvc)
            return
        if PVC_PROTECTION not in (pvc["metadata"].get("finalizers") or []):
            def add(new: dict) -> None:
                new["metadata"]["finalizers"] = list(new["metadata"].get("finalizers") or []) + [PVC_PROTECTION]
            pvc = edit(self.sb, "persistentvolumeclaims", ns, name, add, uid=pvc["metadata"]["uid"]) or pvc
        phase = (pvc.get("status") or {}).get("phase", "Pending")
        volume_name = (pvc.get("spec") or {}).get("volumeName")
        if volume_name:
            pv = self.sb.store.get("persistentvolumes", "", volume_name)
            if phase == "Bound":
                if pv is None:
                    self._lose(pvc)
                return
            if pv is not None and not is_terminating(pv) and \
                    ((pv["spec"].get("claimRef") or {}).get("uid") in (None, pvc["metadata"]["uid"])):
                self._bind(pv, pvc, set_claim_ref=not pv["spec"].get("claimRef"))
            else:
                self._pending(pvc, "Normal", "FailedBinding", f'volume "{volume_name}" not found' if pv is None
                              else f'volume "{volume_name}" already bound to a different claim.')
            return
        if phase == "Bound":
            return
        cls = (pvc.get("spec") or {}).get("storageClassName")
        if cls is None:
            default = self._default_class()
            if default is not None:
                cls = default["metadata"]["name"]

                def put(new: dict) -> object:
                    if new["spec"].get("storageClassName") is not None:
                        return False
                    new["spec"]["storageClassName"] = cls
                    return None
                pvc = edit(self.sb, "persistentvolumeclaims", ns, name, put, uid=pvc["metadata"]["uid"]) or pvc
        match = self._find_volume(pvc, cls or "")
        if match is not None:
            self._bind(match, pvc, set_claim_ref=True)
            return
        if not cls:
            self._pending(pvc, "Normal", "FailedBinding",
                          "no persistent volumes available for this claim and no storage class is set")
            return
        sc = self.sb.store.get("storageclasses", "", cls)
        if sc is None:
            self._pending(pvc, "Warning", "ProvisioningFailed", f'storageclass.storage.k8s.io "{cls}" not found')
            return
        ann = pvc["metadata"].get("annotations") or {}
        if sc.get("volumeBindingMode") == "WaitForFirstConsumer" and not ann.get(SELECTED_NODE):
            # the scheduler picks the node for the first pod that uses the claim and writes it here
            self._pending(pvc, "Normal", "WaitForFirstConsumer", "waiting for first consumer to be created before binding")
            return
        self._provision(pvc, sc)

    def _default_class(self) -> dict | None:
        """``GetDefaultClass``: the newest class annotated as default."""
        defaults = [sc for sc in self.sb.store.list("storageclasses") if is_default_class(sc)]
        if not defaults:
            return None
        return sorted(defaults, key=lambda s: (s["metadata"].get("creationTimestamp") or "", s["metadata"]["name"]))[-1]

    def _find_volume(self, pvc: dict, cls: str) -> dict | None:
        """``findBestMatchForClaim``: the smallest Available volume that fits (pre-bound ones first)."""
        spec = pvc.get("spec") or {}
        want = parse_quantity(claim_request(pvc))
        modes = set(spec.get("accessModes") or [])
        mode = spec.get("volumeMode") or "Filesystem"
        sel = selector_from_label_selector(spec["selector"]) if spec.get("selector") else None
        best = None
        for pv in self.sb.store.list("persistentvolumes"):
            ps = pv.get("spec") or {}
            ref = ps.get("claimRef")
            if is_terminating(pv):
                continue
            if ref and not (ref.get("name") == pvc["metadata"]["name"] and
                            ref.get("namespace") == pvc["metadata"]["namespace"] and
                            ref.get("uid") in (None, "", pvc["metadata"]["uid"])):
                continue
            if (pv.get("status") or {}).get("phase") in ("Released", "Failed"):
                continue
            if (ps.get("storageClassName") or "") != cls or (ps.get("volumeMode") or "Filesystem") != mode:
                continue
            if not modes <= set(ps.get("accessModes") or []):
                continue
            size = parse_quantity((ps.get("capacity") or {}).get("storage"))
            if size < want:
                continue
            if sel is not None and not sel.matches(pv["metadata"].get("labels")):
                continue
            rank = (0 if ref else 1, size, pv["metadata"]["name"])
            if best is None or rank < best[0]:
                best = (rank, pv)
        return best[1] if best else None

    def _pending(self, pvc: dict, type_: str, reason: str, message: str) -> None:
        """Record why a claim waits (again after each resync period) and look at it again later."""
        uid = pvc["metadata"]["uid"]
        now = self.sb.clock.now()
        last = self._last_event.get(uid)
        if last is None or last[:2] != (reason, message) or now - last[2] >= self.RESYNC_SECONDS - 0.01:
            self.sb.registry.record_event(pvc, type_, reason, message, COMPONENT)
            self._last_event[uid] = (reason, message, now)
        key = ("pvc", pvc["metadata"]["namespace"], pvc["metadata"]["name"])
        if self._resync_at.get(uid, -1.0) > now:
            return
        self._resync_at[uid] = now + self.RESYNC_SECONDS
        self.sb.engine.call_later(self.RESYNC_SECONDS, lambda: self.sb.engine.enqueue(self.name, key), background=True)

    def _lose(self, pvc: dict) -> None:
        if (pvc.get("status") or {}).get("phase") == "Lost":
            return
        self.sb.registry.write_status("persistentvolumeclaims", pvc, {**(pvc.get("status") or {}), "phase": "Lost"})
        self.sb.registry.record_event(pvc, "Warning", "ClaimLost",
                                      "Bound claim has lost its PersistentVolume. Data on the volume is lost!", COMPONENT)

    # ------------------------------------------------------------------ provisioning
    def _external_message(self, provisioner: str) -> str:
        if self.sb.profile.minor >= 28:  # kubernetes#118262
            return (f"Waiting for a volume to be created either by the external provisioner '{provisioner}' or "
                    "manually by the system administrator. If volume creation is delayed, please verify that the "
                    "provisioner is running and correctly registered.")
        return (f'waiting for a volume to be created, either by external provisioner "{provisioner}" or manually '
                "created by system administrator")

    def _identity(self, provisioner: str) -> str:
        """The provisioner's event source: ``<provisioner>_<pod>_<uuid>``, as the external provisioner writes it."""
        if provisioner not in self._identities:
            short = re.sub(r"[^a-z0-9-]+", "-", provisioner.rsplit("/", 1)[-1].lower()).strip("-") or "provisioner"
            self._identities[provisioner] = (f"{provisioner}_{short}-{random_suffix(self.sb.rng, 10)}-"
                                             f"{random_suffix(self.sb.rng, 5)}_{self.sb.store.new_uid()}")
        return self._identities[provisioner]

    def _provision(self, pvc: dict, sc: dict) -> None:
        ns, name, uid = pvc["metadata"]["namespace"], pvc["metadata"]["name"], pvc["metadata"]["uid"]
        provisioner = sc.get("provisioner") or ""
        ann = pvc["metadata"].get("annotations") or {}
        first = ann.get(STORAGE_PROVISIONER) != provisioner
        if first:
            def put(new: dict) -> None:
                a = new["metadata"].setdefault("annotations", {})
                a[BETA_STORAGE_PROVISIONER] = provisioner
                a[STORAGE_PROVISIONER] = provisioner
            pvc = edit(self.sb, "persistentvolumeclaims", ns, name, put, uid=uid) or pvc
        if provisioner == NO_PROVISIONER:
            self._pending(pvc, "Normal", "ExternalProvisioning", self._external_message(provisioner))
            return
        if uid in self._provisioning:
            return
        self._provisioning.add(uid)
        self.sb.registry.record_event(pvc, "Normal", "ExternalProvisioning", self._external_message(provisioner),
                                      COMPONENT)
        self.sb.registry.record_event(pvc, "Normal", "Provisioning",
                                      f'External provisioner is provisioning volume for claim "{ns}/{name}"',
                                      self._identity(provisioner))
        self.sb.engine.call_later(self.PROVISION_SECONDS, lambda: self._provisioned(ns, name, uid))

    def _provisioned(self, ns: str, name: str, uid: str) -> None:
        self._provisioning.discard(uid)
        pvc = self.sb.store.get("persistentvolumeclaims", ns, name)
        if pvc is None or pvc["metadata"]["uid"] != uid or is_terminating(pvc) or pvc["spec"].get("volumeName"):
            return
        cls = pvc["spec"].get("storageClassName") or ""
        sc = self.sb.store.get("storageclasses", "", cls)
        if sc is None:
            self._pending(pvc, "Warning", "ProvisioningFailed", f'storageclass.storage.k8s.io "{cls}" not found')
            return
        provisioner = sc.get("provisioner") or ""
        pv_name = f"pvc-{uid}"
        existing = self.sb.store.get("persistentvolumes", "", pv_name)
        if existing is not None:
            self._sync_volume(pv_name)
            return
        try:
            self.sb.registry.create("persistentvolumes", None, self._new_volume(pvc, sc, pv_name))
        except errors.ApiError as e:
            self.sb.registry.record_event(pvc, "Warning", "ProvisioningFailed",
                                          f'failed to provision volume with StorageClass "{cls}": {e.message}',
                                          self._identity(provisioner))
            return
        self.sb.registry.record_event(pvc, "Normal", "ProvisioningSucceeded", f"Successfully provisioned volume {pv_name}",
                                      self._identity(provisioner))

    def _new_volume(self, pvc: dict, sc: dict, pv_name: str) -> dict:
        """The PV an external provisioner creates: ``pvc-<uid>``, pre-bound to the claim."""
        spec = pvc.get("spec") or {}
        provisioner = sc.get("provisioner") or ""
        params = sc.get("parameters") or {}
        ns, name = pvc["metadata"]["namespace"], pvc["metadata"]["name"]
        pv_spec: dict = {"capacity": {"storage": claim_request(pvc)}}
        if "nfs" in provisioner.lower() and not provisioner.endswith("csi.k8s.io"):
            base = (params.get("path") or params.get("share") or "/srv/nfs").rstrip("/")
            pv_spec["nfs"] = {"server": params.get("server") or f"nfs-server.{self.sb.zone}",
                              "path": f"{base}/{ns}-{name}-{pv_name}"}
        else:
            attrs = {k: v for k, v in params.items() if not k.startswith("csi.storage.k8s.io/")}
            attrs.update({"csi.storage.k8s.io/pv/name": pv_name, "csi.storage.k8s.io/pvc/name": name,
                          "csi.storage.k8s.io/pvc/namespace": ns,
                          "storage.kubernetes.io/csiProvisionerIdentity": self._identity(provisioner).split("_")[1]})
            csi: dict = {"driver": provisioner, "volumeHandle": pv_name}
            if spec.get("volumeMode", "Filesystem") == "Filesystem":
                csi["fsType"] = params.get("csi.storage.k8s.io/fstype") or "ext4"
            csi["volumeAttributes"] = attrs
            pv_spec["csi"] = csi
        pv_spec["accessModes"] = list(spec.get("accessModes") or [])
        pv_spec["claimRef"] = {"kind": "PersistentVolumeClaim", "namespace": ns, "name": name,
                               "uid": pvc["metadata"]["uid"], "apiVersion": "v1",
                               "resourceVersion": pvc["metadata"]["resourceVersion"]}
        pv_spec["persistentVolumeReclaimPolicy"] = sc.get("reclaimPolicy") or "Delete"
        pv_spec["storageClassName"] = sc["metadata"]["name"]
        if sc.get("mountOptions"):
            pv_spec["mountOptions"] = list(sc["mountOptions"])
        pv_spec["volumeMode"] = spec.get("volumeMode") or "Filesystem"
        return {"apiVersion": "v1", "kind": "PersistentVolume",
                "metadata": {"name": pv_name, "annotations": {PROVISIONED_BY: provisioner},
                             "finalizers": [PV_PROTECTION]},
                "spec": pv_spec}

    # ------------------------------------------------------------------ binding
    def _phase_status(self, phase: str, old: dict | None) -> dict:
        st = {"phase": phase}
        if self.sb.profile.minor >= 29:  # PersistentVolumeLastPhaseTransitionTime, beta 1.29
            st["lastPhaseTransitionTime"] = (old or {}).get("lastPhaseTransitionTime") \
                if (old or {}).get("phase") == phase else self.sb.clock.timestamp()
        return st

    def _bind(self, pv: dict, pvc: dict, *, set_claim_ref: bool) -> None:
        """``bind``: the volume to the claim (claimRef, phase Bound), then the claim to the volume."""
        ns, name, uid = pvc["metadata"]["namespace"], pvc["metadata"]["name"], pvc["metadata"]["uid"]

        def bind_volume(new: dict) -> None:
            new["spec"]["claimRef"] = {"kind": "PersistentVolumeClaim", "namespace": ns, "name": name, "uid": uid,
                                       "apiVersion": "v1", "resourceVersion": pvc["metadata"]["resourceVersion"]}
            if set_claim_ref:
                new["metadata"].setdefault("annotations", {})[BOUND_BY_CONTROLLER] = "yes"
            new["status"] = self._phase_status("Bound", new.get("status"))
        stored_pv = edit(self.sb, "persistentvolumes", "", pv["metadata"]["name"], bind_volume,
                         uid=pv["metadata"]["uid"])
        if stored_pv is None:
            return

        def bind_claim(new: dict) -> None:
            new["spec"]["volumeName"] = stored_pv["metadata"]["name"]
            a = new["metadata"].setdefault("annotations", {})
            a[BIND_COMPLETED] = "yes"
            a[BOUND_BY_CONTROLLER] = "yes"
            new["status"] = {"phase": "Bound", "accessModes": list(stored_pv["spec"].get("accessModes") or []),
                             "capacity": dict(stored_pv["spec"].get("capacity") or {})}
        if edit(self.sb, "persistentvolumeclaims", ns, name, bind_claim, uid=uid) is not None:
            self._last_event.pop(uid, None)

    # ------------------------------------------------------------------ volumes
    def _sync_volume(self, name: str) -> None:
        pv = self.sb.store.get("persistentvolumes", "", name)
        if pv is None:
            return
        spec, phase = pv.get("spec") or {}, (pv.get("status") or {}).get("phase", "Pending")
        ref = spec.get("claimRef")
        if not ref:
            if phase not in ("Available", "Released", "Failed"):
                self._set_phase(pv, "Available")
        else:
            claim = self.sb.store.get("persistentvolumeclaims", ref.get("namespace", ""), ref.get("name", ""))
            if claim is None or (ref.get("uid") and claim["metadata"]["uid"] != ref["uid"]):
                self._release(pv)
            elif (claim.get("spec") or {}).get("volumeName") == name:
                if phase != "Bound" or (claim.get("status") or {}).get("phase") != "Bound":
                    self._bind(pv, claim, set_claim_ref=False)
            elif not (claim.get("spec") or {}).get("volumeName") and not is_terminating(claim) and phase != "Released":
                self._bind(pv, claim, set_claim_ref=False)
            elif (claim.get("spec") or {}).get("volumeName") and \
                    (pv["metadata"].get("annotations") or {}).get(BOUND_BY_CONTROLLER) == "yes":
                def unbind(new: dict) -> None:  # the claim went to another volume: this one is free again
                    new["spec"].pop("claimRef", None)
                    new["metadata"].get("annotations", {}).pop(BOUND_BY_CONTROLLER, None)
                    new["status"] = self._phase_status("Available", new.get("status"))
                edit(self.sb, "persistentvolumes", "", name, unbind, uid=pv["metadata"]["uid"])
        pv = self.sb.store.get("persistentvolumes", "", name)
        if pv is not None and is_terminating(pv):
            self._protect_volume(pv)

    def _set_phase(self, pv: dict, phase: str) -> dict | None:
        def put(new: dict) -> None:
            new["status"] = self._phase_status(phase, new.get("status"))
        return edit(self.sb, "persistentvolumes", "", pv["metadata"]["name"], put, uid=pv["metadata"]["uid"])

    def _release(self, pv: dict) -> None:
        """``reclaimVolume``: the claim is gone; Retain keeps the volume, Delete removes it."""
        name = pv["metadata"]["name"]
        if (pv.get("status") or {}).get("phase") not in ("Released", "Failed"):
            pv = self._set_phase(pv, "Released") or pv
        if pv["spec"].get("persistentVolumeReclaimPolicy") == "Delete" and not is_terminating(pv) and \
                pv["metadata"]["uid"] not in self._reclaiming:
            uid = pv["metadata"]["uid"]
            self._reclaiming.add(uid)

            def reclaim() -> None:
                self._reclaiming.discard(uid)
                cur = self.sb.store.get("persistentvolumes", "", name)
                if cur is None or cur["metadata"]["uid"] != uid or (cur.get("status") or {}).get("phase") != "Released":
                    return
                delete_quietly(self.sb, "persistentvolumes", "", name, uid=uid)
            self.sb.engine.call_later(self.RECLAIM_SECONDS, reclaim)

    # ------------------------------------------------------------------ protection
    def _protect_claim(self, pvc: dict) -> None:
        """``pvcprotection``: drop the finalizer once no scheduled pod names the claim."""
        if PVC_PROTECTION not in (pvc["metadata"].get("finalizers") or []):
            return
        ns, name = pvc["metadata"]["namespace"], pvc["metadata"]["name"]
        users = [p["metadata"]["name"] for p in self.sb.store.list("pods", ns)
                 if p["spec"].get("nodeName") and name in pod_claim_names(p)]
        uid = pvc["metadata"]["uid"]
        if users:
            why = f"in use by {', '.join(users)}"
            if self._waiting.get(uid) != why:
                self._waiting[uid] = why
            return
        self._waiting.pop(uid, None)

        def drop(new: dict) -> None:
            new["metadata"]["finalizers"] = [f for f in new["metadata"].get("finalizers") or [] if f != PVC_PROTECTION]
            if not new["metadata"]["finalizers"]:
                new["metadata"].pop("finalizers")
        edit(self.sb, "persistentvolumeclaims", ns, name, drop, uid=uid)
        self._last_event.pop(uid, None)
        self._resync_at.pop(uid, None)

    def _protect_volume(self, pv: dict) -> None:
        """``pvprotection``: drop the finalizer once the volume is not Bound."""
        if PV_PROTECTION not in (pv["metadata"].get("finalizers") or []):
            return
        if (pv.get("status") or {}).get("phase") == "Bound":
            return

        def drop(new: dict) -> None:
            new["metadata"]["finalizers"] = [f for f in new["metadata"].get("finalizers") or [] if f != PV_PROTECTION]
            if not new["metadata"]["finalizers"]:
                new["metadata"].pop("finalizers")
        edit(self.sb, "persistentvolumes", "", pv["metadata"]["name"], drop, uid=pv["metadata"]["uid"])
