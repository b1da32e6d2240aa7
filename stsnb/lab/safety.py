"""What a StatefulSet would take over: pods and claims it would adopt, mount or come to own.

A StatefulSet named ``web`` owns the pods ``web-<ordinal>`` and, for each volume claim
template ``data``, the claims ``data-web-<ordinal>``. The controller does not create those
when they already exist: it *uses* them. An existing pod with a matching name and labels is
adopted (upstream ``ClaimPods``, kubernetes/kubernetes pkg/controller/statefulset/
stateful_set.go), an existing claim with the template's name is mounted as the pod's disk
(``createPersistentVolumeClaims`` in stateful_pod_control.go only creates the missing
ones), and with ``persistentVolumeClaimRetentionPolicy`` set to ``Delete`` the controller
writes an owner reference onto that claim (``updateClaimOwnerRefForSetAndPod`` in
stateful_set_utils.go), after which deleting the set or scaling it down deletes it.

So before the lab creates, scales or re-configures a StatefulSet on any cluster, it lists
the pods and claims in its namespace and refuses when one of those names belongs to an
object stsnb did not create (:func:`foreign_takeovers`): nothing is created or changed then.
"""

from __future__ import annotations

from typing import Callable

from .. import manifests as _manifests

__all__ = ["ordinals", "claimed_names", "foreign_takeovers", "takeover_message"]


def ordinals(sts: dict, *replicas: int | None) -> range:
    """The ordinals a StatefulSet uses with the largest of ``replicas`` (its own ``spec.replicas`` when none).

    ``spec.ordinals.start`` (1.27+) shifts them: start, start+1, … start+replicas-1.
    """
    spec = sts.get("spec") or {}
    counts = [r for r in replicas if r is not None] or [spec.get("replicas", 1)]
    start = int(((spec.get("ordinals") or {}).get("start")) or 0)
    return range(start, start + max(int(c) for c in counts))


def claimed_names(sts: dict, numbers: range) -> tuple[dict[str, int], dict[str, int]]:
    """``({pod name: ordinal}, {claim name: ordinal})`` the set would use for these ordinals."""
    name = sts["metadata"]["name"]
    pods = {f"{name}-{i}": i for i in numbers}
    claims = {f"{(t.get('metadata') or {}).get('name', '')}-{name}-{i}": i
              for t in (sts.get("spec") or {}).get("volumeClaimTemplates") or [] for i in numbers}
    return pods, claims


def _template_claim_ordinal(sts: dict, claim_name: str) -> int | None:
    name = sts["metadata"]["name"]
    for t in (sts.get("spec") or {}).get("volumeClaimTemplates") or []:
        prefix = f"{(t.get('metadata') or {}).get('name', '')}-{name}-"
        if claim_name.startswith(prefix) and claim_name[len(prefix):].isdigit():
            return int(claim_name[len(prefix):])
    return None


def foreign_takeovers(sts: dict, numbers: range, pods: list[dict], claims: list[dict],
                      is_ours: Callable[[dict], bool]) -> list[tuple[str, str, int]]:
    """``(kind, name, ordinal)`` of existing pods and claims, not created by stsnb, that ``sts`` would take over.

    Pods and claims of the ordinals in ``numbers`` count; with a retention policy of ``Delete``
    every existing claim named after a template counts, whatever its ordinal, because the
    controller may come to own it.
    """
    pod_names, claim_names = claimed_names(sts, numbers)
    policy = (sts.get("spec") or {}).get("persistentVolumeClaimRetentionPolicy") or {}
    deletes = "Delete" in (policy.get("whenDeleted"), policy.get("whenScaled"))
    found: list[tuple[str, str, int]] = []
    for p in pods:
        n = p["metadata"]["name"]
        if n in pod_names and not is_ours(p):
            found.append(("pod", n, pod_names[n]))
    for c in claims:
        n = c["metadata"]["name"]
        ordinal = claim_names.get(n)
        if ordinal is None and deletes:
            ordinal = _template_claim_ordinal(sts, n)
        if ordinal is not None and not is_ours(c):
            found.append(("persistentvolumeclaim", n, ordinal))
    return sorted(found, key=lambda f: (f[2], f[0]))


def takeover_message(sts: dict, found: list[tuple[str, str, int]], namespace: str, what: str) -> tuple[str, str]:
    """``(message, hint)`` for a refusal: names every object, what the set would do with it, and how to go on."""
    name = sts["metadata"]["name"]
    policy = (sts.get("spec") or {}).get("persistentVolumeClaimRetentionPolicy") or {}
    parts = []
    for kind, obj, ordinal in found:
        if kind == "pod":
            parts.append(f'pod "{obj}" (it would be adopted as pod {ordinal} of the set)')
        else:
            risk = " and its retention policy could delete it" if "Delete" in policy.values() else ""
            parts.append(f'persistentvolumeclaim "{obj}" (pod {name}-{ordinal} would mount it as its disk{risk})')
    message = (f"refusing to {what} statefulset {name}: {', '.join(parts)} already exist(s) in namespace "
               f"{namespace!r} and {'was' if len(found) == 1 else 'were'} not created by stsnb (no "
               f"{_manifests.MANAGED_SELECTOR} label); nothing was changed")
    first_kind, first, _ = found[0]
    short = "pvc" if first_kind == "persistentvolumeclaim" else "pod"
    hint = (f"if {'it is' if len(found) == 1 else 'they are'} not needed, delete {'it' if len(found) == 1 else 'them'} "
            f"yourself (`kubectl delete {short} {first} -n {namespace}`); otherwise give the lab a namespace of its "
            "own (`stsnb.connect(..., namespace='stsnb-lab-2')`)")
    return message, hint
