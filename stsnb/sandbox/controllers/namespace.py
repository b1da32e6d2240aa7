"""The namespace controller: a Terminating namespace loses all its content, then goes away.

Follows ``kubernetes/kubernetes:pkg/controller/namespace/deletion/namespaced_resources_deleter.go``
(``Delete``, ``deleteAllContent``, ``updateNamespaceStatusFunc``): every namespaced
object is deleted (pods gracefully, claims held by their protection finalizer
until no pod uses them), the namespace's status conditions say what remains, and
once nothing is left the ``kubernetes`` finalizer is removed and the namespace
object disappears. Objects whose finalizers nobody removes keep the namespace
Terminating, as on a real cluster.
"""

from __future__ import annotations


from ..core.resources import RESOURCES
from ..core.store import Event
from .common import delete_quietly, edit, is_terminating
from ..core.cluster import Cluster

class NamespaceController:
    """Deletes the content of namespaces that are being deleted."""

    name = "namespace"
    #: look again at a Terminating namespace at least this often (sandbox seconds)
    RESYNC_SECONDS = 5.0

    def __init__(self, sb: Cluster) -> None:
        self.sb = sb
        self._resync_at: dict[str, float] = {}

    def keys_for(self, ev: Event) -> list:
        meta = ev.obj["metadata"]
        if ev.plural == "namespaces":
            return [meta["name"]] if meta.get("deletionTimestamp") and ev.type != "DELETED" else []
        ns = meta.get("namespace")
        if ns and (ev.type == "DELETED" or meta.get("deletionTimestamp")) and ev.plural != "events":
            nso = self.sb.store.get("namespaces", "", ns)
            if nso is not None and nso["metadata"].get("deletionTimestamp"):
                return [ns]
        return []

    def sync(self, name: str) -> None:
        nso = self.sb.store.get("namespaces", "", name)
        if nso is None or not is_terminating(nso):
            self._resync_at.pop(name, None)
            return
        remaining: dict[str, int] = {}
        finalizers: dict[str, int] = {}
        for rt in RESOURCES:
            if not rt.namespaced or rt.plural == "events":
                continue
            for obj in self.sb.store.list(rt.plural, name):
                if not is_terminating(obj):
                    delete_quietly(self.sb, rt.plural, name, obj["metadata"]["name"], uid=obj["metadata"]["uid"])
            left = self.sb.store.list(rt.plural, name)
            if left:
                remaining[rt.group_resource] = len(left)
                for obj in left:
                    for f in obj["metadata"].get("finalizers") or []:
                        finalizers[f] = finalizers.get(f, 0) + 1
        if remaining:
            self._write_conditions(nso, remaining, finalizers)
            self._resync(name)
            return
        for ev in self.sb.store.list("events", name):
            delete_quietly(self.sb, "events", name, ev["metadata"]["name"])

        def finalize(new: dict) -> None:
            fin = [f for f in (new.get("spec") or {}).get("finalizers") or [] if f != "kubernetes"]
            new["spec"] = {**(new.get("spec") or {}), "finalizers": fin} if fin else {}
            new["status"] = {**(new.get("status") or {}), "phase": "Terminating"}
        edit(self.sb, "namespaces", "", name, finalize, uid=nso["metadata"]["uid"])
        with self.sb.store.lock:  # finalized already (no spec.finalizers): the last delete removes it
            cur = self.sb.store.get("namespaces", "", name)
            if cur is not None and cur["metadata"]["uid"] == nso["metadata"]["uid"] and \
                    not cur["metadata"].get("finalizers") and not (cur.get("spec") or {}).get("finalizers"):
                self.sb.store.remove("namespaces", "", name)
        self._resync_at.pop(name, None)

    def _resync(self, name: str) -> None:
        now = self.sb.clock.now()
        if self._resync_at.get(name, -1.0) > now:
            return
        self._resync_at[name] = now + self.RESYNC_SECONDS
        self.sb.engine.call_later(self.RESYNC_SECONDS, lambda: self.sb.engine.enqueue(self.name, name))

    def _write_conditions(self, nso: dict, remaining: dict[str, int], finalizers: dict[str, int]) -> None:
        """``updateNamespaceStatusFunc``: the five deletion conditions, as ``kubectl describe ns`` shows them."""
        now = self.sb.clock.timestamp()
        wanted = [
            ("NamespaceDeletionDiscoveryFailure", "False", "ResourcesDiscovered", "All resources successfully discovered"),
            ("NamespaceDeletionGroupVersionParsingFailure", "False", "ParsedGroupVersions",
             "All legacy kube types successfully parsed"),
            ("NamespaceDeletionContentFailure", "False", "ContentDeleted",
             "All content successfully deleted, may be waiting on finalization"),
            ("NamespaceContentRemaining", "True", "SomeResourcesRemain",
             "Some resources are remaining: " + ", ".join(f"{r} has {n} resource instances"
                                                          for r, n in sorted(remaining.items()))),
            ("NamespaceFinalizersRemaining", "True", "SomeFinalizersRemain",
             "Some content in the namespace has finalizers remaining: " +
             ", ".join(f"{f} in {n} resource instances" for f, n in sorted(finalizers.items())))
            if finalizers else
            ("NamespaceFinalizersRemaining", "False", "ContentHasNoFinalizers", "All content-preserving finalizers finished"),
        ]
        old = {c.get("type"): c for c in (nso.get("status") or {}).get("conditions") or []}
        conds = []
        for type_, status, reason, message in wanted:
            prev = old.get(type_)
            same = prev is not None and (prev.get("status"), prev.get("reason"), prev.get("message")) == (status, reason, message)
            conds.append(prev if same else {"type": type_, "status": status, "lastTransitionTime": now,
                                             "reason": reason, "message": message})
        status = {**(nso.get("status") or {}), "phase": "Terminating", "conditions": conds}
        if status != nso.get("status"):
            self.sb.registry.write_status("namespaces", nso, status)
