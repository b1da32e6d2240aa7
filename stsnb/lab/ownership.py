"""What stsnb may touch: objects it created (labelled), what they own, and cleanup of exactly that."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import manifests as _manifests
from ..errors import ConfigError, Forbidden, NotFound
from ..k8s.pods import pod_owner
from ..k8s.selectors import label_selector_string
from ..kube import KindInfo, ref as _ref, resolve_kind
from ..watching import WatchSpec, all_gone, wait_for
from .base import LabBase
from .results import ActionResult
from .safety import foreign_takeovers, ordinals, takeover_message

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Ownership", "APPLY_KINDS", "CLEANUP_KINDS", "DEPENDENT_KINDS", "CLUSTER_KINDS", "CREATED_FOR"]

#: Kinds stsnb creates from manifests (and may therefore clean up).
APPLY_KINDS = ("StatefulSet", "Deployment", "Service", "Pod", "PersistentVolumeClaim", "ConfigMap", "StorageClass")
#: Namespaced kinds cleanup lists by label, in deletion order (workloads first, claims last).
CLEANUP_KINDS = ("statefulsets", "deployments", "replicasets", "pods", "services", "configmaps",
                 "persistentvolumeclaims")
#: Kinds the cluster deletes along with their owners, which cleanup waits for.
DEPENDENT_KINDS = ("replicasets", "pods", "controllerrevisions", "persistentvolumeclaims")
#: Cluster-scoped kinds among those stsnb applies.
CLUSTER_KINDS = tuple(k for k in APPLY_KINDS if not resolve_kind(k).namespaced)
#: Annotation on a cluster-scoped object stsnb created: the namespace of the lab that created it,
#: whose cleanup removes it again (when nothing else uses it).
CREATED_FOR = "stsnb/lab-namespace"


class Ownership(LabBase):
    """Ownership checks and cleanup."""

    def _require_ours(self, kind: KindInfo, name: str, obj: dict | None = None) -> dict:
        obj = obj or self.kube.get(kind, name)
        if self._is_ours(obj):
            return obj
        raise Forbidden(f"{_ref(kind, name)} was not created by stsnb (no app.kubernetes.io/managed-by=stsnb label, "
                        "and no owner with it): the lab does not change it",
                        hint="act on it with kubectl yourself if you mean to")

    def _is_ours(self, obj: dict, depth: int = 0) -> bool:
        if _manifests.is_managed(obj):
            return True
        if depth >= 3:
            return False
        for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
            try:
                kind = resolve_kind(ref.get("kind", ""))
            except ConfigError:
                continue
            owner = self.kube.find(kind, ref.get("name", ""))
            if owner is not None and owner["metadata"].get("uid") == ref.get("uid") and self._is_ours(owner, depth + 1):
                return True
        return False

    def _remember(self, plural: str, obj: dict) -> None:
        """Keep the manifest the lab sent for an object, so :meth:`restore` can send it again."""
        meta = obj.get("metadata") or {}
        body = {k: v for k, v in obj.items() if k != "status"}
        self._applied[(plural, meta.get("name", ""))] = body

    def _refuse_takeovers(self, sts: dict, what: str, *replicas: int | None) -> None:
        """Raise :class:`Forbidden` when ``sts`` would adopt, mount or own a pod or claim stsnb did not create.

        ``replicas`` are further counts the set will run with (the current one, a scale target); the
        largest one decides which ordinals count. See :mod:`stsnb.lab.safety`.
        """
        pods = self.kube.list("pods")
        claims = self.kube.list("persistentvolumeclaims")
        ours = {o["metadata"]["uid"] for o in self.kube.list("statefulsets", label_selector=_manifests.MANAGED_SELECTOR)
                if _manifests.is_managed(o)}

        def is_ours(obj: dict) -> bool:
            return _manifests.is_managed(obj) or any(r.get("uid") in ours
                                                     for r in obj["metadata"].get("ownerReferences") or [])
        found = foreign_takeovers(sts, ordinals(sts, (sts.get("spec") or {}).get("replicas", 1), *replicas),
                                  pods, claims, is_ours)
        if found:
            message, hint = takeover_message(sts, found, self.namespace, what)
            raise Forbidden(message, hint=hint)

    def _owned(self, plural: str, owner: dict) -> list[dict]:
        sel = label_selector_string((owner.get("spec") or {}).get("selector"))
        uid = owner["metadata"]["uid"]
        return [o for o in self.kube.list(plural, label_selector=sel or None)
                if any(r.get("uid") == uid for r in o["metadata"].get("ownerReferences") or [])]

    def _workload_pods(self, obj: dict) -> list[dict]:
        sel = label_selector_string((obj.get("spec") or {}).get("selector"))
        pods = self.kube.list("pods", label_selector=sel or None)
        if obj.get("kind") == "StatefulSet":
            return [p for p in pods if (pod_owner(p) or {}).get("uid") == obj["metadata"]["uid"]]
        rs_uids = {r["metadata"]["uid"] for r in self._owned("replicasets", obj)}
        return [p for p in pods if (pod_owner(p) or {}).get("uid") in rs_uids]

    def _dependents(self, owners_: list[tuple[str, dict]]) -> list[tuple[str, dict, str]]:
        """What the cluster garbage-collects with these objects: ``(plural, object, owner ref)``, transitively."""
        owners = {o["metadata"]["uid"]: f"{resolve_kind(p).ref}/{o['metadata']['name']}" for p, o in owners_}
        out: list[tuple[str, dict, str]] = []
        if not owners:
            return out
        pool = {p: self.kube.list(p, self.namespace) for p in DEPENDENT_KINDS}
        changed = True
        while changed:
            changed = False
            for plural, items in pool.items():
                for o in items:
                    uid = o["metadata"]["uid"]
                    if uid in owners:
                        continue
                    for ref in o["metadata"].get("ownerReferences") or []:
                        if ref.get("uid") in owners:
                            owners[uid] = owners[ref["uid"]]
                            out.append((plural, o, owners[ref["uid"]]))
                            changed = True
                            break
        return out

    def cleanup(self, *, timeout: float | None = None, wait: bool = True) -> "pd.DataFrame":
        """Delete what stsnb created in this namespace, and wait until it is gone.

        Only objects labelled ``app.kubernetes.io/managed-by=stsnb`` in the lab's namespace are
        deleted (background propagation: the cluster removes their pods, ReplicaSets and
        ControllerRevisions, and the wait covers those too). Nothing else is touched: not other
        namespaces, not unlabelled objects. A cluster-scoped object (the StorageClass ``sc-nfs``) is
        deleted only when this lab created it (labelled, and annotated with this namespace, see
        :data:`CREATED_FOR`) and no claim in any namespace still names it; if the claims of other
        namespaces cannot be listed (RBAC), it is left in place.

        What was deleted is remembered: :meth:`restore` (and the panels' "Bring it back" button)
        creates it again.

        Returns:
            A DataFrame ``kind, name, via``: one row per deleted object; ``via`` names the labelled
            owner for what went with it.
        """
        import pandas as pd
        ns = self.namespace
        labelled: list[tuple[str, dict]] = []
        for plural in CLEANUP_KINDS:
            for o in self.kube.list(plural, ns, label_selector=_manifests.MANAGED_SELECTOR):
                meta = o.get("metadata") or {}
                if meta.get("namespace") == ns and _manifests.is_managed(o):
                    labelled.append((plural, o))
        dependents = self._dependents(labelled)
        rows = []
        for plural, o in labelled:
            try:
                self.kube.delete(plural, o["metadata"]["name"], propagation="Background")
            except NotFound:
                pass
            rows.append({"kind": resolve_kind(plural).kind, "name": o["metadata"]["name"], "via": None})
        for plural, o, via in dependents:
            rows.append({"kind": resolve_kind(plural).kind, "name": o["metadata"]["name"], "via": via})
        if wait and (labelled or dependents):
            uids: dict[str, set[str]] = {}
            for plural, o in labelled:
                uids.setdefault(plural, set()).add(o["metadata"]["uid"])
            for plural, o, _ in dependents:
                uids.setdefault(plural, set()).add(o["metadata"]["uid"])
            wait_for(self.kube, [WatchSpec(p, ns) for p in uids], all_gone(uids), timeout=self._timeout(timeout),
                     condition=f"what stsnb created in namespace {ns!r} to be deleted",
                     hint="something holds on to it (a finalizer, or a pod that does not terminate): see "
                          "`lab.events()`; run `lab.cleanup()` again to retry")
        for plural, o in self._unused_cluster_objects():
            try:
                self.kube.delete(plural, o["metadata"]["name"])
            except NotFound:
                pass
            labelled.append((plural, o))
            rows.append({"kind": resolve_kind(plural).kind, "name": o["metadata"]["name"], "via": None})
        if labelled:
            self._cleaned = [(plural, r) for plural, o in labelled if (r := _restorable(plural, o)) is not None]
            self._notify_panels("cleaned")
        return pd.DataFrame(rows, columns=["kind", "name", "via"])

    def _unused_cluster_objects(self) -> list[tuple[str, dict]]:
        """The StorageClasses this lab created that no claim in the cluster names any more."""
        mine = [o for o in self.kube.list("storageclasses", label_selector=_manifests.MANAGED_SELECTOR)
                if _manifests.is_managed(o)
                and ((o["metadata"].get("annotations") or {}).get(CREATED_FOR) == self.namespace)]
        if not mine:
            return []
        try:
            doc = self.kube.call("GET", "/api/v1/persistentvolumeclaims", action="list claims in all namespaces")
        except Forbidden:
            return []  # cannot tell whether another namespace still uses it: leave it
        used = {(c.get("spec") or {}).get("storageClassName") for c in doc.get("items") or []}
        return [("storageclasses", o) for o in mine if o["metadata"]["name"] not in used]

    def _notify_panels(self, event: str) -> None:
        for panel in list(self._panels):
            try:
                panel.lab_changed(event)
            except Exception:  # noqa: BLE001 - a panel's trouble never breaks the lab step
                pass

    def reset(self, *, timeout: float | None = None) -> ActionResult:
        """A clean start: :meth:`cleanup`, with kubectl-like lines (``statefulset.apps "x" deleted``)."""
        import pandas as pd
        df = self.cleanup(timeout=timeout)
        lines = [f'{resolve_kind(r.kind).ref} "{r.name}" deleted' for r in df.itertuples() if pd.isna(r.via)]
        if not lines:
            lines = [f"clean: nothing created by stsnb in namespace {self.namespace!r}"]
        return ActionResult(lines, frame=None)


_SERVER_FIELDS = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink",
                  "deletionTimestamp", "deletionGracePeriodSeconds", "ownerReferences", "finalizers")


def _restorable(plural: str, obj: dict) -> dict | None:
    """The manifest to create ``obj`` again: what was applied (kubectl's last-applied annotation) when
    known, else the object without the fields the server fills in. None for what a controller or a
    lab step makes by itself (claims from volumeClaimTemplates, the ``dnsquery`` pod)."""
    import json
    applied = ((obj.get("metadata") or {}).get("annotations") or {}).get(
        "kubectl.kubernetes.io/last-applied-configuration")
    if applied:
        try:
            return json.loads(applied)
        except ValueError:
            pass
    if plural in ("persistentvolumeclaims", "pods", "replicasets"):
        return None
    out = {k: v for k, v in obj.items() if k != "status"}
    out["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _SERVER_FIELDS}
    spec = dict(out.get("spec") or {})
    if obj.get("kind") == "Service":  # the cluster allocates these again
        for key in ("clusterIP", "clusterIPs") if spec.get("clusterIP") not in ("None",) else ():
            spec.pop(key, None)
        out["spec"] = spec
    return out
