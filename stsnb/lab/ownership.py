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

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Ownership", "APPLY_KINDS", "CLEANUP_KINDS", "DEPENDENT_KINDS", "CLUSTER_KINDS"]

#: Kinds stsnb creates from manifests (and may therefore clean up).
APPLY_KINDS = ("StatefulSet", "Deployment", "Service", "Pod", "PersistentVolumeClaim", "ConfigMap", "StorageClass")
#: Namespaced kinds cleanup lists by label, in deletion order (workloads first, claims last).
CLEANUP_KINDS = ("statefulsets", "deployments", "replicasets", "pods", "services", "configmaps",
                 "persistentvolumeclaims")
#: Kinds the cluster deletes along with their owners, which cleanup waits for.
DEPENDENT_KINDS = ("replicasets", "pods", "controllerrevisions", "persistentvolumeclaims")
#: Cluster-scoped kinds among those stsnb applies.
CLUSTER_KINDS = tuple(k for k in APPLY_KINDS if not resolve_kind(k).namespaced)


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
        namespaces, not unlabelled objects, not cluster-scoped objects such as a StorageClass.

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
        return pd.DataFrame(rows, columns=["kind", "name", "via"])

    def reset(self, *, timeout: float | None = None) -> ActionResult:
        """A clean start: :meth:`cleanup`, with kubectl-like lines (``statefulset.apps "x" deleted``)."""
        import pandas as pd
        df = self.cleanup(timeout=timeout)
        lines = [f'{resolve_kind(r.kind).ref} "{r.name}" deleted' for r in df.itertuples() if pd.isna(r.via)]
        if not lines:
            lines = [f"clean: nothing created by stsnb in namespace {self.namespace!r}"]
        return ActionResult(lines, frame=None)
