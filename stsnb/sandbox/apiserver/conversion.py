"""Versions served by conversion: objects stored in one version, read and written in another.

Kubernetes stores a resource in one version and converts on the way in and
out for every other version it serves. The sandbox has one such pair:
HorizontalPodAutoscalers are stored as ``autoscaling/v2`` and also served as
``autoscaling/v1``, which is what ``kubectl autoscale`` sends. The mapping
follows ``kubernetes/kubernetes:pkg/apis/autoscaling/v1/conversion.go``:

* v1 ``spec.targetCPUUtilizationPercentage`` is the v2 ``Resource`` metric
  ``cpu`` with an ``Utilization`` target; v1 ``status.currentCPUUtilizationPercentage``
  the matching current metric;
* the v2 fields v1 has no place for (other metrics, current metrics,
  conditions, behavior) travel in v1 as the annotations
  ``autoscaling.alpha.kubernetes.io/metrics``, ``…/current-metrics``,
  ``…/conditions`` and ``…/behavior``, so a v1 round trip loses nothing.

Known difference: upstream writes those annotations with the v1 (v2beta1-shaped)
metric types; the sandbox writes the v2 JSON of the same data. Only another
v1 client reading the annotations would see the difference.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["to_served", "to_stored"]

_HPA_V1 = ("autoscaling/v1", "HorizontalPodAutoscaler")
_ANN = "autoscaling.alpha.kubernetes.io/"


def _is_cpu_utilization(metric: Any) -> bool:
    return (isinstance(metric, dict) and metric.get("type") == "Resource"
            and (metric.get("resource") or {}).get("name") == "cpu"
            and ((metric.get("resource") or {}).get("target") or {}).get("type") == "Utilization")


def to_served(obj: dict, api_version: str) -> dict:
    """The stored object as the served version ``api_version`` shows it (a new dict)."""
    if (api_version, obj.get("kind")) != _HPA_V1:
        return obj
    out = {k: v for k, v in obj.items() if k not in ("spec", "status")}
    out["apiVersion"] = api_version
    meta = dict(obj.get("metadata") or {})
    annotations = dict(meta.get("annotations") or {})
    spec = dict(obj.get("spec") or {})
    metrics = list(spec.pop("metrics", None) or [])
    cpu = next((m for m in metrics if _is_cpu_utilization(m)), None)
    others = [m for m in metrics if m is not cpu]
    behavior = spec.pop("behavior", None)
    v1_spec = {k: spec[k] for k in ("scaleTargetRef", "minReplicas", "maxReplicas") if k in spec}
    if cpu is not None:
        v1_spec["targetCPUUtilizationPercentage"] = cpu["resource"]["target"].get("averageUtilization")
    if others:
        annotations[_ANN + "metrics"] = json.dumps(others, separators=(",", ":"))
    if behavior:
        annotations[_ANN + "behavior"] = json.dumps(behavior, separators=(",", ":"))
    status = dict(obj.get("status") or {})
    v1_status = {k: status[k] for k in ("observedGeneration", "lastScaleTime") if k in status}
    # v1's currentReplicas and desiredReplicas have no omitempty: Go always writes them
    v1_status["currentReplicas"] = status.get("currentReplicas", 0)
    v1_status["desiredReplicas"] = status.get("desiredReplicas", 0)
    current = list(status.get("currentMetrics") or [])
    cpu_now = next((m for m in current if isinstance(m, dict) and m.get("type") == "Resource"
                    and (m.get("resource") or {}).get("name") == "cpu"), None)
    if cpu_now is not None and ((cpu_now["resource"].get("current") or {}).get("averageUtilization") is not None):
        v1_status["currentCPUUtilizationPercentage"] = cpu_now["resource"]["current"]["averageUtilization"]
    if [m for m in current if m is not cpu_now]:
        annotations[_ANN + "current-metrics"] = json.dumps([m for m in current if m is not cpu_now],
                                                          separators=(",", ":"))
    if status.get("conditions"):
        annotations[_ANN + "conditions"] = json.dumps(status["conditions"], separators=(",", ":"))
    if annotations:
        meta["annotations"] = annotations
    out["metadata"] = meta
    out["spec"] = v1_spec
    out["status"] = v1_status
    return out


def _annotation(annotations: dict, name: str) -> Any:
    raw = annotations.pop(_ANN + name, None)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def to_stored(obj: Any, api_version: str, stored_api_version: str) -> Any:
    """A body sent in the served version ``api_version``, in the stored version (a new dict)."""
    if not isinstance(obj, dict) or (api_version, obj.get("kind", "HorizontalPodAutoscaler")) != _HPA_V1:
        return obj
    out = {k: v for k, v in obj.items() if k not in ("spec", "status")}
    out["apiVersion"] = stored_api_version
    meta = dict(obj.get("metadata") or {}) if isinstance(obj.get("metadata"), dict) else obj.get("metadata")
    annotations = dict(meta.get("annotations") or {}) if isinstance(meta, dict) else {}
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    v2_spec = {k: spec[k] for k in ("scaleTargetRef", "minReplicas", "maxReplicas") if k in spec}
    metrics = []
    if spec.get("targetCPUUtilizationPercentage") is not None:
        metrics.append({"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": spec["targetCPUUtilizationPercentage"]}}})
    metrics += _annotation(annotations, "metrics") or []
    if metrics:
        v2_spec["metrics"] = metrics
    behavior = _annotation(annotations, "behavior")
    if behavior:
        v2_spec["behavior"] = behavior
    status = obj.get("status") if isinstance(obj.get("status"), dict) else {}
    v2_status = {k: status[k] for k in ("observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas")
                 if k in status}
    current = []
    if status.get("currentCPUUtilizationPercentage") is not None:
        current.append({"type": "Resource", "resource": {"name": "cpu", "current": {
            "averageUtilization": status["currentCPUUtilizationPercentage"]}}})
    current += _annotation(annotations, "current-metrics") or []
    if current:
        v2_status["currentMetrics"] = current
    conditions = _annotation(annotations, "conditions")
    if conditions:
        v2_status["conditions"] = conditions
    if isinstance(meta, dict):
        if annotations:
            meta["annotations"] = annotations
        else:
            meta.pop("annotations", None)
        out["metadata"] = meta
    out["spec"] = v2_spec
    if status:
        out["status"] = v2_status
    return out
