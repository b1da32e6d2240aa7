"""The garbage collector: dependents whose owners are gone, and foreground deletion.

Follows ``kubernetes/kubernetes:pkg/controller/garbagecollector/garbagecollector.go``
(``attemptToDeleteItem``, ``processDeletingDependentsItem``) and the deletion rules of
the spec's R2.7:

* an object whose owner references all point at objects that no longer exist (same
  name and uid) is deleted with background propagation; dangling references next to
  a live owner are removed instead;
* an owner deleted with ``propagationPolicy: Foreground`` carries the
  ``foregroundDeletion`` finalizer: its dependents are deleted (in the foreground
  themselves when they have dependents), and the finalizer goes once no dependent
  with ``blockOwnerDeletion: true`` is left, so the owner disappears last;
* ``Orphan`` is done synchronously by the registry when the owner is deleted.

That covers pods of deleted StatefulSets and ReplicaSets, ReplicaSets of deleted
Deployments, ControllerRevisions, EndpointSlices of deleted Services, and claims
owned by a StatefulSet or a pod under the retention policy (the spec's R5.5).
Owner kinds the sandbox does not serve are never treated as gone.
"""

from __future__ import annotations


from ..core.store import Event
from .common import delete_quietly, edit, find_owner, is_terminating
from ..core.cluster import Cluster

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"
Coord = tuple[str, str, str]  # plural, namespace, name


class GarbageCollector:
    """Deletes what nothing owns any more."""

    name = "garbagecollector"

    def __init__(self, sb: Cluster) -> None:
        self.sb = sb
        self._dependents: dict[str, set[Coord]] = {}
        self._refs: dict[Coord, tuple[str, frozenset[str]]] = {}
        self._foreground: dict[str, Coord] = {}

    # ------------------------------------------------------------------ wiring (keeps the owner → dependents graph)
    def keys_for(self, ev: Event) -> list:
        if ev.plural == "events":
            return []
        meta = ev.obj["metadata"]
        coord: Coord = (ev.plural, meta.get("namespace", ""), meta["name"])
        uid = meta.get("uid", "")
        owners = frozenset(r.get("uid") for r in meta.get("ownerReferences") or [] if r.get("uid"))
        prev = self._refs.get(coord)
        keys: list = []
        if ev.type == "DELETED":
            if prev is not None:
                for o in prev[1]:
                    self._dependents.get(o, set()).discard(coord)
            self._refs.pop(coord, None)
            keys += [("check", *dep) for dep in sorted(self._dependents.get(uid, ()))]
            keys += [("fg", *self._foreground[o]) for o in owners if o in self._foreground]
            self._foreground.pop(uid, None)
            return keys
        if prev is None or prev != (uid, owners):
            if prev is not None:
                for o in prev[1]:
                    self._dependents.get(o, set()).discard(coord)
            for o in owners:
                self._dependents.setdefault(o, set()).add(coord)
            self._refs[coord] = (uid, owners)
            if owners:
                keys.append(("check", *coord))
            touched = owners | (prev[1] if prev is not None else frozenset())
            keys += [("fg", *self._foreground[o]) for o in touched if o in self._foreground]
        elif ev.old is not None and ev.old["metadata"].get("ownerReferences") != meta.get("ownerReferences"):
            keys += [("fg", *self._foreground[o]) for o in owners if o in self._foreground]
        if meta.get("deletionTimestamp") and FOREGROUND in (meta.get("finalizers") or []):
            if uid not in self._foreground:
                self._foreground[uid] = coord
                keys.append(("fg", *coord))
        else:
            self._foreground.pop(uid, None)
        return keys

    def sync(self, key) -> None:
        kind, plural, ns, name = key
        if kind == "check":
            obj = self.sb.store.get(plural, ns, name)
            if obj is not None:
                self._attempt_to_delete(plural, obj)
        elif kind == "fg":
            self._process_deleting_dependents(plural, ns, name)

    # ------------------------------------------------------------------ helpers
    def _live_dependents(self, owner: dict) -> list[tuple[str, dict, dict]]:
        """(plural, dependent, its reference to the owner) for dependents that still exist."""
        uid = owner["metadata"]["uid"]
        with self.sb.store.lock:
            coords = sorted(self._dependents.get(uid, ()))
        out = []
        for plural, ns, name in coords:
            dep = self.sb.store.get(plural, ns, name)
            if dep is None:
                continue
            ref = next((r for r in dep["metadata"].get("ownerReferences") or [] if r.get("uid") == uid), None)
            if ref is not None:
                out.append((plural, dep, ref))
        return out

    @staticmethod
    def _waiting_for_dependents(owner: dict) -> bool:
        return is_terminating(owner) and FOREGROUND in (owner["metadata"].get("finalizers") or [])

    # ------------------------------------------------------------------ attemptToDeleteItem
    def _attempt_to_delete(self, plural: str, obj: dict) -> None:
        refs = obj["metadata"].get("ownerReferences") or []
        if not refs or is_terminating(obj):
            return
        dangling, waiting, solid = [], [], []
        for ref in refs:
            state, owner = find_owner(self.sb, obj, ref)
            if state == "absent":
                dangling.append(ref)
            elif state == "present" and self._waiting_for_dependents(owner):
                waiting.append(ref)
            else:
                solid.append(ref)
        meta = obj["metadata"]
        ns, name, uid = meta.get("namespace", ""), meta["name"], meta["uid"]
        if solid:
            if not dangling and not any(r.get("blockOwnerDeletion") for r in waiting):
                return
            gone = {r.get("uid") for r in dangling}
            unblock = {r.get("uid") for r in waiting}

            def patch(new: dict) -> None:
                kept = []
                for r in new["metadata"].get("ownerReferences") or []:
                    if r.get("uid") in gone:
                        continue
                    if r.get("uid") in unblock and r.get("blockOwnerDeletion"):
                        r = {**r, "blockOwnerDeletion": False}
                    kept.append(r)
                new["metadata"]["ownerReferences"] = kept
            edit(self.sb, plural, ns, name, patch, uid=uid)
            return
        finalizers = meta.get("finalizers") or []
        with self.sb.store.lock:
            has_dependents = bool(self._dependents.get(uid))
        if waiting and has_dependents:
            policy = "Foreground"
        elif ORPHAN in finalizers:
            policy = "Orphan"
        elif FOREGROUND in finalizers:
            policy = "Foreground"
        else:
            policy = "Background"
        delete_quietly(self.sb, plural, ns, name, uid=uid, propagation=policy)

    # ------------------------------------------------------------------ processDeletingDependentsItem
    def _process_deleting_dependents(self, plural: str, ns: str, name: str) -> None:
        owner = self.sb.store.get(plural, ns, name)
        if owner is None or not self._waiting_for_dependents(owner):
            return
        for dep_plural, dep, _ in self._live_dependents(owner):
            self._attempt_to_delete(dep_plural, dep)
        blocking = [(p, d) for p, d, ref in self._live_dependents(owner) if ref.get("blockOwnerDeletion")]
        if blocking:
            return
        uid = owner["metadata"]["uid"]

        def drop(new: dict) -> None:
            fin = [f for f in new["metadata"].get("finalizers") or [] if f != FOREGROUND]
            if fin:
                new["metadata"]["finalizers"] = fin
            else:
                new["metadata"].pop("finalizers", None)
        stored = edit(self.sb, plural, ns, name, drop, uid=uid)
        if plural == "pods" and stored is not None and not stored["metadata"].get("finalizers"):
            if self.sb.kubelet.pod_stopped(uid) or not stored["spec"].get("nodeName"):
                self.sb.registry.finish_pod(stored)
