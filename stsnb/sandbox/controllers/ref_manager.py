"""Adoption and release through controller references: ``pkg/controller/controller_ref_manager.go``.

``ClaimObject`` decides, for each object a controller looks at:

* owned by another controller: ignored;
* owned by this one and matching: kept;
* owned by this one but no longer matching (its labels changed): **released**,
  its controller reference removed, unless the owner is being deleted;
* an orphan that matches: **adopted** (a controller reference added), unless
  the owner or the object is being deleted or they live in different
  namespaces; the owner is re-read (``RecheckDeletionTimestamp``), so a
  controller never adopts for an owner that is already going away.

  Upstream re-reads the owner just before its adoption patch. Here the re-read and
  the write are one step under the store lock. Take a sync that started before an
  orphaning delete (``kubectl delete --cascade=orphan``), working from its stale copy
  of the owner. Re-reading first and writing later, it could give back the controller
  reference the delete had just taken away. The owner would then be gone, so the
  garbage collector would delete the object the user asked to keep.

A StatefulSet uses it for its pods (``ClaimPods``: selector match plus the
pod's name naming the set, ``isMemberOf``) and for its ControllerRevisions
(``AdoptControllerRevision`` of orphans that match the selector); a ReplicaSet for
its pods and a Deployment for its ReplicaSets use :func:`adopt` and :func:`release`.
"""

from __future__ import annotations

from collections.abc import Callable

from ...k8s.selectors import selector_from_label_selector
from ..core.cluster import Cluster
from ..core.store import Event
from .common import controller_ref_of, edit, is_terminating, new_controller_ref

__all__ = ["claim", "adopt", "release", "owners_to_sync"]


def _can_adopt(sb: Cluster, owner: dict, plural: str) -> bool:
    fresh = sb.store.get(plural, owner["metadata"].get("namespace", ""), owner["metadata"]["name"])
    return fresh is not None and fresh["metadata"]["uid"] == owner["metadata"]["uid"] and not is_terminating(fresh)


def adopt(sb: Cluster, owner: dict, owner_plural: str, plural: str, obj: dict) -> dict | None:
    """Add ``owner``'s controller reference to an orphan; the stored object, or None if that was not possible.

    ``owner_plural`` is where the owner is stored: it is re-read in the same locked step as the write
    and must still exist, with the same uid, and not be going away (see the module docstring).
    """
    def add(new: dict) -> object:
        if controller_ref_of(new) is not None or not _can_adopt(sb, owner, owner_plural):
            return False
        new["metadata"]["ownerReferences"] = [*(new["metadata"].get("ownerReferences") or []), new_controller_ref(owner)]
        return None
    out = edit(sb, plural, obj["metadata"].get("namespace", ""), obj["metadata"]["name"], add, uid=obj["metadata"]["uid"])
    return out if out is not None and (controller_ref_of(out) or {}).get("uid") == owner["metadata"]["uid"] else None


def release(sb: Cluster, owner: dict, plural: str, obj: dict) -> None:
    """Remove ``owner``'s references from an object (a strategic ``$patch: delete`` of its ownerReference)."""
    def drop(new: dict) -> None:
        refs = [r for r in new["metadata"].get("ownerReferences") or [] if r.get("uid") != owner["metadata"]["uid"]]
        if refs:
            new["metadata"]["ownerReferences"] = refs
        else:
            new["metadata"].pop("ownerReferences", None)
    edit(sb, plural, obj["metadata"].get("namespace", ""), obj["metadata"]["name"], drop, uid=obj["metadata"]["uid"])


def claim(sb: Cluster, owner: dict, owner_plural: str, plural: str, objs: list[dict],
          match: Callable[[dict], bool]) -> list[dict]:
    """``ClaimObject`` over ``objs``: the objects ``owner`` controls after adopting and releasing."""
    uid = owner["metadata"]["uid"]
    owner_deleting = is_terminating(owner)
    claimed: list[dict] = []
    for obj in objs:
        ref = controller_ref_of(obj)
        if ref is not None:
            if ref.get("uid") != uid:
                continue
            if match(obj):
                claimed.append(obj)
            elif not owner_deleting:
                release(sb, owner, plural, obj)
            continue
        if owner_deleting or not match(obj) or is_terminating(obj):
            continue
        if (owner["metadata"].get("namespace") or "") != (obj["metadata"].get("namespace") or ""):
            continue
        adopted = adopt(sb, owner, owner_plural, plural, obj)
        if adopted is not None:
            claimed.append(adopted)
    return claimed


def owners_to_sync(sb: Cluster, ev: Event, kind: str, plural: str) -> list[tuple[str, str]]:
    """The owners of ``kind`` (stored as ``plural``) that a change of a controlled object concerns, as
    ``(namespace, name)`` keys, old and new state both considered (a controller-reference change concerns both
    owners): its controller if it has one (``resolveControllerRef``); if it is a living orphan, every owner whose
    selector matches its labels, so one may adopt it (``getPodStatefulSets``, ``getReplicaSetsForPod``...)."""
    ns = ev.obj["metadata"]["namespace"]
    keys = []
    for obj in (ev.obj, ev.old):
        if obj is None:
            continue
        ref = controller_ref_of(obj)
        if ref is not None:
            if ref.get("kind") == kind:
                keys.append((ns, ref["name"]))
        elif ev.type != "DELETED" and not is_terminating(obj):
            labels = obj["metadata"].get("labels") or {}
            keys += [(ns, o["metadata"]["name"]) for o in sb.store.list(plural, ns)
                     if selector_from_label_selector(o["spec"].get("selector")).matches(labels)]
    return list(dict.fromkeys(keys))
