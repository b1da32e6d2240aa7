"""Helpers the sandbox's controllers share: owner references, pod predicates, int-or-percent, edits.

Each helper names the upstream function it follows (``kubernetes/kubernetes``
unless said otherwise).
"""

from __future__ import annotations

import math
from typing import Callable

from ..core import errors
from ..core.cluster import Cluster
from ..apiserver.registry import deep_copy
from ..core.resources import BY_KIND


# ---------------------------------------------------------------------- owner references
def controller_ref_of(obj: dict) -> dict | None:
    """``metav1.GetControllerOf``: the owner reference with ``controller: true``."""
    for r in obj["metadata"].get("ownerReferences") or []:
        if r.get("controller"):
            return r
    return None


def controlled_by(obj: dict, owner: dict) -> bool:
    """``metav1.IsControlledBy``."""
    ref = controller_ref_of(obj)
    return ref is not None and ref.get("uid") == owner["metadata"]["uid"]


def new_controller_ref(owner: dict) -> dict:
    """``metav1.NewControllerRef``: controller and blockOwnerDeletion set."""
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def owner_plural(ref: dict) -> str | None:
    rt = BY_KIND.get((ref.get("apiVersion"), ref.get("kind")))
    return rt.plural if rt else None


def find_owner(sb: Cluster, dependent: dict, ref: dict) -> tuple[str, dict | None]:
    """Look an owner up by its coordinates, as the garbage collector does (``attemptToDeleteItem``).

    Returns ``("unknown", None)`` for kinds the sandbox does not serve (never treated as gone),
    ``("absent", None)`` when no object with that name and uid exists, else ``("present", owner)``.
    """
    rt = BY_KIND.get((ref.get("apiVersion"), ref.get("kind")))
    if rt is None:
        return "unknown", None
    ns = dependent["metadata"].get("namespace", "") if rt.namespaced else ""
    owner = sb.store.get(rt.plural, ns, ref.get("name", ""))
    if owner is None or owner["metadata"].get("uid") != ref.get("uid"):
        return "absent", None
    return "present", owner


# ---------------------------------------------------------------------- pods
def is_pod_ready(pod: dict) -> bool:
    """``podutil.IsPodReady``: the Ready condition is True."""
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def ready_since(sb: Cluster, pod: dict) -> float | None:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready" and c.get("status") == "True":
            try:
                return sb.clock.parse(c["lastTransitionTime"])
            except (KeyError, TypeError, ValueError):
                return None
    return None


def is_pod_available(sb: Cluster, pod: dict, min_ready_seconds: int) -> bool:
    """``podutil.IsPodAvailable``: ready, and ready for at least ``minReadySeconds``."""
    if not is_pod_ready(pod):
        return False
    if not min_ready_seconds:
        return True
    since = ready_since(sb, pod)
    return since is not None and since + min_ready_seconds <= sb.clock.now()


def is_terminating(obj: dict) -> bool:
    return bool(obj["metadata"].get("deletionTimestamp"))


def is_pod_active(pod: dict) -> bool:
    """``controller.IsPodActive``: not Succeeded, not Failed, not being deleted."""
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not is_terminating(pod)


def pod_claim_names(pod: dict) -> list[str]:
    return [v["persistentVolumeClaim"]["claimName"] for v in (pod.get("spec") or {}).get("volumes") or []
            if isinstance(v, dict) and (v.get("persistentVolumeClaim") or {}).get("claimName")]


# ---------------------------------------------------------------------- int-or-percent
def int_or_percent(value: object, total: int, round_up: bool) -> int:
    """``intstr.GetScaledValueFromIntOrPercent``: ``"25%"`` of ``total``, rounded up or down."""
    if value is None:
        return 0
    if isinstance(value, str):
        if value.endswith("%"):
            pct = int(value[:-1])
            exact = pct * total / 100
            return int(math.ceil(exact)) if round_up else int(math.floor(exact))
        return int(value)
    return int(value)


def resolve_fenceposts(max_surge: object, max_unavailable: object, desired: int) -> tuple[int, int]:
    """``deploymentutil.ResolveFenceposts``: surge rounds up, unavailable rounds down, never both 0."""
    surge = int_or_percent(0 if max_surge is None else max_surge, desired, True)
    unavailable = int_or_percent(0 if max_unavailable is None else max_unavailable, desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


# ---------------------------------------------------------------------- writing
def edit(sb: Cluster, plural: str, namespace: str, name: str, fn: Callable[[dict], object],
         *, uid: str | None = None) -> dict | None:
    """Read the current object, apply ``fn`` to a copy and store it (under the store lock).

    ``fn`` may return ``False`` to skip the write. Returns the stored object, or ``None``
    if the object is gone (or no longer has ``uid``).
    """
    with sb.store.lock:
        cur = sb.store.get(plural, namespace or "", name)
        if cur is None or (uid is not None and cur["metadata"].get("uid") != uid):
            return None
        new = deep_copy(cur)
        if fn(new) is False or new == cur:
            return cur
        try:
            return sb.registry.replace(plural, new)
        except errors.ApiError:
            return None


def edit_spec(sb: Cluster, plural: str, namespace: str, name: str, fn: Callable[[dict], object],
              *, uid: str | None = None) -> dict | None:
    """Like :func:`edit`, for spec changes: bumps ``metadata.generation`` as the API server does."""
    def apply(new: dict) -> object:
        before = deep_copy(new.get("spec"))
        if fn(new) is False:
            return False
        if new.get("spec") != before and "generation" in new["metadata"]:
            new["metadata"]["generation"] += 1
        return None
    return edit(sb, plural, namespace, name, apply, uid=uid)


def delete_quietly(sb: Cluster, plural: str, namespace: str, name: str, *, uid: str | None = None,
                   propagation: str | None = None) -> bool:
    """Delete if it still exists (with a uid precondition); API errors mean someone else got there first."""
    try:
        sb.registry.delete(plural, namespace, name, propagation=propagation,
                           preconditions={"uid": uid} if uid else None)
        return True
    except errors.ApiError:
        return False


def set_condition(conditions: list[dict], new: dict, *, keep_if_same_reason: bool = True) -> list[dict]:
    """``SetDeploymentCondition``-style update.

    An existing condition with the same status and reason is kept as is; an existing one with
    the same status keeps its ``lastTransitionTime``; the new one goes to the end.
    """
    cur = next((c for c in conditions if c.get("type") == new["type"]), None)
    if keep_if_same_reason and cur is not None and cur.get("status") == new["status"] \
            and cur.get("reason") == new.get("reason"):
        return conditions
    if cur is not None and cur.get("status") == new["status"] and "lastTransitionTime" in cur:
        new = {**new, "lastTransitionTime": cur["lastTransitionTime"]}
    return [c for c in conditions if c.get("type") != new["type"]] + [new]
