"""Validation of every served kind: the guide's kinds (:mod:`.validation`) and those learners add.

The checks of the kinds beyond the guide's follow, with their texts,
``kubernetes/kubernetes:pkg/apis/batch/validation/validation.go`` (Job, CronJob),
``pkg/apis/policy/validation/validation.go`` (PodDisruptionBudget),
``pkg/apis/autoscaling/validation/validation.go`` (HorizontalPodAutoscaler),
``pkg/apis/networking/validation/validation.go`` (Ingress),
``pkg/apis/rbac/validation/validation.go`` (Role/ClusterRole bindings) and
``pkg/apis/core/validation/validation.go`` (Secret and ConfigMap size). They are
the checks a learner meets first, not every rule upstream has; anything not
checked here is stored as sent.
"""

from __future__ import annotations

import json
import re

from ..profile import Profile
from . import validation as v
from .validation import Cause

__all__ = ["validate"]

#: core validation ``MaxSecretSize`` / ``MaxConfigMapSize`` (1 MiB of data).
MAX_DATA_SIZE = 1024 * 1024
_CONFIG_KEY = r"[-._a-zA-Z0-9]+"


def _data_causes(obj: dict, profile: Profile) -> list[Cause]:
    """Secret and ConfigMap: keys as ``IsConfigMapKey``, total size at most 1 MiB."""
    out = v.metadata_causes(obj, "subdomain", profile)
    total = 0
    for field in ("data", "binaryData", "stringData"):
        items = obj.get(field)
        if not isinstance(items, dict):
            continue
        for key, value in items.items():
            if not re.fullmatch(_CONFIG_KEY, key) or len(key) > 253:
                out.append(v.invalid(f"{field}[{key}]", key, "a valid config key must consist of alphanumeric "
                                     "characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or "
                                     "'key-name', regex used for validation is '[-._a-zA-Z0-9]+')", profile))
            total += len(key) + len(str(value))
    if total > MAX_DATA_SIZE:
        out.append(("data", "FieldValueTooLong", f"Too long: must have at most {MAX_DATA_SIZE} bytes"))
    return out


def _job_spec_causes(spec: object, field: str, profile: Profile) -> list[Cause]:
    if not isinstance(spec, dict):
        return [v.required(field)]
    out: list[Cause] = []
    for name in ("parallelism", "completions"):
        out += v.replicas_causes(spec.get(name), f"{field}.{name}", profile)
    if isinstance(spec.get("backoffLimit"), int) and spec["backoffLimit"] < 0:
        out.append(v.invalid(f"{field}.backoffLimit", spec["backoffLimit"], "must be greater than or equal to 0",
                             profile))
    tpl = spec.get("template") or {}
    tspec = tpl.get("spec") if isinstance(tpl, dict) else None
    out += v.pod_spec_causes(tspec, f"{field}.template.spec", profile)
    if isinstance(tspec, dict):
        rp = tspec.get("restartPolicy")
        if rp not in ("OnFailure", "Never"):
            out.append(v.not_supported(f"{field}.template.spec.restartPolicy", rp, ["OnFailure", "Never"]))
    return out


def job_causes(obj: dict, profile: Profile) -> list[Cause]:
    out = v.metadata_causes(obj, "subdomain", profile)
    spec = obj.get("spec") or {}
    if not spec.get("selector"):
        out.append(v.required("spec.selector"))
    return out + _job_spec_causes(spec, "spec", profile)


_CRON_MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


def _cron_error(schedule: str) -> str | None:
    """robfig/cron ``ParseStandard``'s first complaint about a schedule, or None (fields checked loosely)."""
    if schedule.startswith("@"):
        if schedule in _CRON_MACROS or schedule.startswith("@every "):
            return None
        return f"unrecognized descriptor: {schedule}"
    fields = schedule.split()
    if schedule.startswith(("TZ=", "CRON_TZ=")):
        fields = fields[1:]
    if len(fields) != 5:
        return f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]"
    for f in fields:
        if not re.fullmatch(r"[0-9A-Za-z*?/,\-]+", f):
            return f"failed to parse int from {f}: strconv.Atoi: parsing {json.dumps(f)}: invalid syntax"
    return None


def cronjob_causes(obj: dict, profile: Profile) -> list[Cause]:
    out = v.metadata_causes(obj, "subdomain", profile)
    spec = obj.get("spec") or {}
    schedule = spec.get("schedule")
    if not schedule:
        out.append(v.required("spec.schedule"))
    elif isinstance(schedule, str) and (err := _cron_error(schedule)):
        out.append(v.invalid("spec.schedule", schedule, err, profile))
    policy = spec.get("concurrencyPolicy")
    if policy not in ("Allow", "Forbid", "Replace"):
        out.append(v.not_supported("spec.concurrencyPolicy", policy, ["Allow", "Forbid", "Replace"]))
    tpl = spec.get("jobTemplate")
    if not isinstance(tpl, dict):
        out.append(v.required("spec.jobTemplate"))
    else:
        out += _job_spec_causes(tpl.get("spec") or {}, "spec.jobTemplate.spec", profile)
    return out


def pdb_causes(obj: dict, profile: Profile) -> list[Cause]:
    out = v.metadata_causes(obj, "subdomain", profile)
    spec = obj.get("spec") or {}
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        out.append(v.invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set", profile))
    for field in ("minAvailable", "maxUnavailable"):
        value = spec.get(field)
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            out.append(v.invalid(f"spec.{field}", value, "must be greater than or equal to 0", profile))
        elif isinstance(value, str) and not re.fullmatch(r"\d+%", value):
            out.append(v.invalid(f"spec.{field}", value, "a valid percent string must be a numeric string followed "
                                 "by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
                                 profile))
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy is not None and policy not in ("IfHealthyBudget", "AlwaysAllow"):
        out.append(v.not_supported("spec.unhealthyPodEvictionPolicy", policy, ["AlwaysAllow", "IfHealthyBudget"]))
    return out


def hpa_causes(obj: dict, profile: Profile) -> list[Cause]:
    out = v.metadata_causes(obj, "subdomain", profile)
    spec = obj.get("spec") or {}
    ref = spec.get("scaleTargetRef") or {}
    if not ref.get("kind"):
        out.append(v.required("spec.scaleTargetRef.kind"))
    if not ref.get("name"):
        out.append(v.required("spec.scaleTargetRef.name"))
    low, high = spec.get("minReplicas"), spec.get("maxReplicas")
    if isinstance(low, int) and low < 1:
        out.append(v.invalid("spec.minReplicas", low, "must be greater than or equal to 1", profile))
    if not isinstance(high, int) or high < 1:
        out.append(v.invalid("spec.maxReplicas", high, "must be greater than 0", profile))
    elif isinstance(low, int) and high < low:
        out.append(v.invalid("spec.maxReplicas", high, "must be greater than or equal to `minReplicas`", profile))
    else:
        out += v.replicas_causes(high, "spec.maxReplicas", profile)
    return out


def ingress_causes(obj: dict, profile: Profile) -> list[Cause]:
    out = v.metadata_causes(obj, "subdomain", profile)
    spec = obj.get("spec") or {}
    if not spec.get("defaultBackend") and not spec.get("rules"):
        out.append(v.invalid("spec", spec, "either `defaultBackend` or `rules` must be specified", profile))
    for i, rule in enumerate(spec.get("rules") or []):
        for j, path in enumerate(((rule or {}).get("http") or {}).get("paths") or []):
            ptype = (path or {}).get("pathType")
            where = f"spec.rules[{i}].http.paths[{j}].pathType"
            if ptype is None:
                out.append(v.required(where, "pathType must be specified"))
            elif ptype not in ("Exact", "Prefix", "ImplementationSpecific"):
                out.append(v.not_supported(where, ptype, ["Exact", "ImplementationSpecific", "Prefix"]))
    return out


def _binding_causes(obj: dict, profile: Profile, namespaced: bool) -> list[Cause]:
    out = v.metadata_causes(obj, "path", profile)
    ref = obj.get("roleRef") or {}
    allowed = ["Role", "ClusterRole"] if namespaced else ["ClusterRole"]
    if ref.get("apiGroup") != "rbac.authorization.k8s.io":
        out.append(v.not_supported("roleRef.apiGroup", ref.get("apiGroup", ""), ["rbac.authorization.k8s.io"]))
    if ref.get("kind") not in allowed:
        out.append(v.not_supported("roleRef.kind", ref.get("kind", ""), allowed))
    if not ref.get("name"):
        out.append(v.required("roleRef.name"))
    for i, subject in enumerate(obj.get("subjects") or []):
        subject = subject or {}
        if subject.get("kind") not in ("ServiceAccount", "User", "Group"):
            out.append(v.not_supported(f"subjects[{i}].kind", subject.get("kind", ""),
                                       ["ServiceAccount", "User", "Group"]))
        if not subject.get("name"):
            out.append(v.required(f"subjects[{i}].name"))
    return out


def _role_causes(obj: dict, profile: Profile) -> list[Cause]:
    out = v.metadata_causes(obj, "path", profile)
    for i, rule in enumerate(obj.get("rules") or []):
        rule = rule or {}
        if not rule.get("verbs"):
            out.append(v.required(f"rules[{i}].verbs", "verbs must contain at least one value"))
        if not rule.get("nonResourceURLs") and rule.get("apiGroups") is None:
            out.append(v.required(f"rules[{i}].apiGroups",
                                  "resource rules must supply at least one api group"))
    return out


_CREATE = {
    "secrets": _data_causes,
    "configmaps": _data_causes,
    "jobs": job_causes,
    "cronjobs": cronjob_causes,
    "poddisruptionbudgets": pdb_causes,
    "horizontalpodautoscalers": hpa_causes,
    "ingresses": ingress_causes,
    "roles": _role_causes,
    "clusterroles": _role_causes,
    "rolebindings": lambda o, p: _binding_causes(o, p, True),
    "clusterrolebindings": lambda o, p: _binding_causes(o, p, False),
}


def validate(plural: str, obj: dict, profile: Profile, old: dict | None = None) -> list[Cause]:
    """The causes of a 422 for ``obj`` (and, on update, against ``old``); empty when valid."""
    check = _CREATE.get(plural)
    if check is None:
        return v.validate(plural, obj, profile, old)
    causes = check(obj, profile)
    if old is not None:
        if plural == "jobs" and (obj.get("spec") or {}).get("selector") != (old.get("spec") or {}).get("selector"):
            causes.append(v.invalid("spec.selector", (obj.get("spec") or {}).get("selector"), "field is immutable",
                                    profile))
        if plural in ("rolebindings", "clusterrolebindings") and obj.get("roleRef") != old.get("roleRef"):
            causes.append(v.invalid("roleRef", obj.get("roleRef"), "cannot change roleRef", profile))
        if plural == "secrets" and obj.get("type") != old.get("type"):
            causes.append(v.invalid("type", obj.get("type"), "field is immutable", profile))
        if plural in ("configmaps", "secrets") and old.get("immutable") is True:
            # ValidateConfigMapUpdate / ValidateSecretUpdate: an immutable object keeps its flag and its data
            fixed = "field is immutable when `immutable` is set"
            if obj.get("immutable") is not True:
                causes.append(v.forbidden("immutable", fixed))
            for key in ("data", "binaryData") if plural == "configmaps" else ("data",):
                if (obj.get(key) or {}) != (old.get(key) or {}):
                    causes.append(v.forbidden(key, fixed))
    return causes
