"""The Deployment controller's helpers: ``pkg/controller/deployment/util/deployment_util.go``.

Pure functions of Deployment and ReplicaSet objects (plain dicts, as the API
serves them): replicas and the rolling-update fenceposts, revisions and their
annotations, the status predicates (``DeploymentComplete``,
``DeploymentProgressing``). :mod:`.deployment` drives them.
"""

from __future__ import annotations

import math

from ..apiserver.registry import deep_copy
from .common import int_or_percent, resolve_fenceposts

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
_SKIP_ANNOTATIONS = {"kubectl.kubernetes.io/last-applied-configuration", REVISION, REVISION_HISTORY,
                     DESIRED_REPLICAS, MAX_REPLICAS, "deprecated.deployment.rollback.to"}
_MAX_REV_HISTORY_CHARS = 2000
MAX_INT32 = 2**31 - 1


# ---------------------------------------------------------------------- pure helpers (deployment_util.go)
def replicas_of(obj: dict) -> int:
    r = (obj.get("spec") or {}).get("replicas")
    return 1 if r is None else int(r)


def is_rolling(d: dict) -> bool:
    return ((d["spec"].get("strategy") or {}).get("type") or "RollingUpdate") == "RollingUpdate"


def _rolling_params(d: dict) -> tuple[object, object]:
    ru = (d["spec"].get("strategy") or {}).get("rollingUpdate") or {}
    return ru.get("maxSurge", "25%"), ru.get("maxUnavailable", "25%")


def max_surge(d: dict) -> int:
    """``MaxSurge``: rounded up from a percentage."""
    if not is_rolling(d):
        return 0
    surge, unavailable = _rolling_params(d)
    return resolve_fenceposts(surge, unavailable, replicas_of(d))[0]


def max_unavailable(d: dict) -> int:
    """``MaxUnavailable``: rounded down from a percentage, at most ``replicas``."""
    replicas = replicas_of(d)
    if not is_rolling(d) or replicas == 0:
        return 0
    surge, unavailable = _rolling_params(d)
    return min(resolve_fenceposts(surge, unavailable, replicas)[1], replicas)


def revision_of(rs: dict) -> int | None:
    v = (rs["metadata"].get("annotations") or {}).get(REVISION)
    if v is None:
        return 0
    try:
        return int(v)
    except ValueError:
        return None


def max_revision(rss: list[dict]) -> int:
    return max([r for r in (revision_of(rs) for rs in rss) if r is not None], default=0)


def equal_ignore_hash(t1: dict, t2: dict) -> bool:
    """``EqualIgnoreHash``: pod templates equal once the ``pod-template-hash`` label is dropped."""
    a, b = deep_copy(t1 or {}), deep_copy(t2 or {})
    for t in (a, b):
        labels = (t.get("metadata") or {}).get("labels")
        if isinstance(labels, dict):
            labels.pop(HASH_LABEL, None)
    return a == b


def by_creation(rss: list[dict]) -> list[dict]:
    """``ReplicaSetsByCreationTimestamp``."""
    return sorted(rss, key=lambda r: (r["metadata"].get("creationTimestamp") or "", r["metadata"]["name"]))


def spec_replicas(rs: dict | None) -> int:
    return int((rs or {}).get("spec", {}).get("replicas") or 0)


def status_count(rs: dict | None, field: str) -> int:
    return int(((rs or {}).get("status") or {}).get(field) or 0)


def new_rs_new_replicas(d: dict, all_rss: list[dict], new_rs: dict) -> int:
    """``NewRSNewReplicas``: how far the new ReplicaSet may grow under ``maxSurge``."""
    replicas = replicas_of(d)
    if not is_rolling(d):
        return replicas
    surge, _ = _rolling_params(d)
    surge = int_or_percent(surge, replicas, True)
    current = sum(spec_replicas(rs) for rs in all_rss)
    max_total = replicas + surge
    if current >= max_total:
        return spec_replicas(new_rs)
    scale_up = min(max_total - current, replicas - spec_replicas(new_rs))
    return spec_replicas(new_rs) + scale_up


def has_progress_deadline(d: dict) -> bool:
    pds = d["spec"].get("progressDeadlineSeconds")
    return pds is not None and pds != MAX_INT32


def deployment_complete(d: dict, st: dict) -> bool:
    replicas = replicas_of(d)
    return (st.get("updatedReplicas", 0) == replicas and st.get("replicas", 0) == replicas
            and st.get("availableReplicas", 0) == replicas
            and st.get("observedGeneration", 0) >= d["metadata"].get("generation", 1))


def deployment_progressing(d: dict, st: dict) -> bool:
    old = d.get("status") or {}
    old_old = old.get("replicas", 0) - old.get("updatedReplicas", 0)
    new_old = st.get("replicas", 0) - st.get("updatedReplicas", 0)
    return (st.get("updatedReplicas", 0) > old.get("updatedReplicas", 0) or new_old < old_old
            or st.get("readyReplicas", 0) > old.get("readyReplicas", 0)
            or st.get("availableReplicas", 0) > old.get("availableReplicas", 0))


def get_condition(st: dict, type_: str) -> dict | None:
    return next((c for c in st.get("conditions") or [] if c.get("type") == type_), None)


def round_half_away(x: float) -> int:
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def set_new_replicaset_annotations(d: dict, rs: dict, new_revision: str, exists: bool) -> bool:
    """``SetNewReplicaSetAnnotations``: copy the deployment's annotations, move the revision forward."""
    changed = False
    ann = rs["metadata"].setdefault("annotations", {})
    for k, v in (d["metadata"].get("annotations") or {}).items():
        if k in _SKIP_ANNOTATIONS or ann.get(k) == v:
            continue
        ann[k] = v
        changed = True
    old_revision = ann.get(REVISION)
    try:
        old_int = int(old_revision) if old_revision not in (None, "") else 0
    except ValueError:
        return changed
    new_int = int(new_revision)
    if old_int < new_int:
        ann[REVISION] = new_revision
        changed = True
        if old_revision is not None:  # rolling back to this ReplicaSet: keep the history
            history = ann.get(REVISION_HISTORY, "")
            if not history:
                ann[REVISION_HISTORY] = old_revision
            else:
                parts = history.split(",")
                total = len(history) + len(old_revision) + 1
                start = 0
                while total > _MAX_REV_HISTORY_CHARS and start < len(parts):
                    total -= len(parts[start]) + 1
                    start += 1
                if total <= _MAX_REV_HISTORY_CHARS:
                    ann[REVISION_HISTORY] = ",".join(parts[start:] + [old_revision])
    if not exists:
        changed = set_replicas_annotations(rs, replicas_of(d), replicas_of(d) + max_surge(d)) or changed
    return changed

def set_replicas_annotations(rs: dict, desired: int, max_replicas: int) -> bool:
    """``SetReplicasAnnotations``: record the deployment's replicas and its replicas + maxSurge."""
    ann = rs["metadata"].setdefault("annotations", {})
    changed = False
    for k, v in ((DESIRED_REPLICAS, str(desired)), (MAX_REPLICAS, str(max_replicas))):
        if ann.get(k) != v:
            ann[k] = v
            changed = True
    return changed

def replicas_annotations_need_update(rs: dict, desired: int, max_replicas: int) -> bool:
    """``ReplicasAnnotationsNeedUpdate``."""
    ann = rs["metadata"].get("annotations") or {}
    return ann.get(DESIRED_REPLICAS) != str(desired) or ann.get(MAX_REPLICAS) != str(max_replicas)


def desc_timestamp(stamp: str) -> tuple:
    """A sort key that orders RFC 3339 timestamps newest first."""
    return tuple(-ord(c) for c in stamp)
