"""Validation with the API server's own texts.

Follows ``kubernetes/kubernetes:pkg/apis/apps/validation/validation.go``,
``pkg/apis/core/validation/validation.go`` and apimachinery's name
validators. Each check returns ``(field, reason, message)`` causes; the
registry turns them into one 422 ``Invalid`` Status.
"""

from __future__ import annotations

import json
import re

from ..profile import Profile
from ...k8s.selectors import selector_from_label_selector

Cause = tuple[str, str, str]

DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN = DNS1123_LABEL + r"(\." + DNS1123_LABEL + ")*"
DNS1035_LABEL = "[a-z]([-a-z0-9]*[a-z0-9])?"

SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 "validation is '" + DNS1123_SUBDOMAIN.replace(r"\.", "\\.") + "')")
LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
             "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '"
             + DNS1123_LABEL + "')")
DNS1035_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
               "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
               "validation is '" + DNS1035_LABEL + "')")


def go_value(v: object, profile: Profile) -> str:
    """Render a bad value the way field.Invalid does (Go ``%#v`` for maps before 1.34, JSON after)."""
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, dict) and profile.go_value_format == "go" and all(isinstance(x, str) for x in v.values()):
        inner = ", ".join(f"{json.dumps(k)}:{json.dumps(x)}" for k, x in sorted(v.items()))
        return "map[string]string{" + inner + "}"
    return json.dumps(v, separators=(",", ":"), sort_keys=True)


def invalid(field: str, value: object, msg: str, profile: Profile) -> Cause:
    return (field, "FieldValueInvalid", f"Invalid value: {go_value(value, profile)}: {msg}")


def required(field: str, msg: str = "") -> Cause:
    return (field, "FieldValueRequired", "Required value" + (f": {msg}" if msg else ""))


def not_supported(field: str, value: object, allowed: list[str]) -> Cause:
    vals = ", ".join(json.dumps(a) for a in allowed)
    return (field, "FieldValueNotSupported", f"Unsupported value: {json.dumps(value)}: supported values: {vals}")


def forbidden(field: str, msg: str) -> Cause:
    return (field, "FieldValueForbidden", f"Forbidden: {msg}")


def not_found(field: str, value: object) -> Cause:
    return (field, "FieldValueNotFound", f"Not found: {json.dumps(value)}")


def duplicate(field: str, value: object) -> Cause:
    return (field, "FieldValueDuplicate", f"Duplicate value: {json.dumps(value)}")


def name_causes(name: object, field: str, kind: str, profile: Profile) -> list[Cause]:
    if not isinstance(name, str) or not name:
        return [required(field, "name or generateName is required")]
    out: list[Cause] = []
    if kind == "dns1035":
        if len(name) > 63:
            out.append(invalid(field, name, "must be no more than 63 characters", profile))
        if not re.fullmatch(DNS1035_LABEL, name):
            out.append(invalid(field, name, DNS1035_MSG, profile))
    elif kind == "path":  # path.IsValidPathSegmentName (RBAC objects)
        if name in (".", ".."):
            out.append(invalid(field, name, f"may not be '{name}'", profile))
        for bad in ("/", "%"):
            if bad in name:
                out.append(invalid(field, name, f"may not contain '{bad}'", profile))
    elif kind == "label":
        if len(name) > 63:
            out.append(invalid(field, name, "must be no more than 63 characters", profile))
        if not re.fullmatch(DNS1123_LABEL, name):
            out.append(invalid(field, name, LABEL_MSG, profile))
    else:
        if len(name) > 253:
            out.append(invalid(field, name, "must be no more than 253 characters", profile))
        if not re.fullmatch(DNS1123_SUBDOMAIN, name):
            out.append(invalid(field, name, SUBDOMAIN_MSG, profile))
    return out


_LABEL_VALUE = r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
_QUALIFIED_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"


def labels_causes(labels: object, field: str, profile: Profile) -> list[Cause]:
    if labels is None:
        return []
    out: list[Cause] = []
    for k, v in labels.items():
        name = k.rsplit("/", 1)[-1]
        if not name or len(name) > 63 or not re.fullmatch(_QUALIFIED_NAME, name):
            out.append(invalid(field, k, "name part must consist of alphanumeric characters, '-', '_' or '.', and must "
                               "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
                               "'123-abc', regex used for validation is '" + _QUALIFIED_NAME + "')", profile))
        if not isinstance(v, str) or len(v) > 63 or not re.fullmatch(_LABEL_VALUE, v):
            out.append(invalid(field, v, "a valid label must be an empty string or consist of alphanumeric "
                               "characters, '-', '_' or '.', and must start and end with an alphanumeric character "
                               "(e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '"
                               + _LABEL_VALUE + "')", profile))
    return out


#: apimachinery ``TotalAnnotationSizeLimitB``: keys and values of all annotations together.
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024

#: The most replicas (and Job parallelism/completions) the sandbox accepts. Not an upstream limit
#: (a real cluster allows any int32): every pod is simulated in this process, so a set of 2147483647
#: would exhaust its memory. 20,000 leaves room for the 10,000-pod benchmark.
MAX_REPLICAS = 20_000


def annotations_causes(annotations: object, field: str) -> list[Cause]:
    """``ValidateAnnotationsSize`` (apimachinery pkg/api/validation/objectmeta.go)."""
    if not isinstance(annotations, dict):
        return []
    total = sum(len(str(k)) + len(str(v)) for k, v in annotations.items())
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        return [(field, "FieldValueTooLong", f"Too long: must have at most {TOTAL_ANNOTATION_SIZE_LIMIT} bytes")]
    return []


def replicas_causes(value: object, field: str, profile: Profile) -> list[Cause]:
    """A count the sandbox can simulate: ≥ 0 (upstream) and ≤ :data:`MAX_REPLICAS` (the sandbox's own bound)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return []
    if value < 0:
        return [invalid(field, value, "must be greater than or equal to 0", profile)]
    if value > MAX_REPLICAS:
        return [invalid(field, value, f"must be no more than {MAX_REPLICAS} in the stsnb sandbox, which simulates "
                        "every pod in one process (a real cluster accepts any 32-bit value)", profile)]
    return []


def metadata_causes(obj: dict, name_kind: str, profile: Profile) -> list[Cause]:
    meta = obj.get("metadata") or {}
    out = name_causes(meta.get("name"), "metadata.name", name_kind, profile)
    out += labels_causes(meta.get("labels"), "metadata.labels", profile)
    out += annotations_causes(meta.get("annotations"), "metadata.annotations")
    return out


def pod_spec_causes(spec: object, field: str, profile: Profile, extra_volume_names: set[str] = frozenset()) -> list[Cause]:
    if not isinstance(spec, dict):
        return [required(field)]
    out: list[Cause] = []
    containers = spec.get("containers")
    if not containers:
        out.append(required(f"{field}.containers"))
    volumes = {v.get("name") for v in spec.get("volumes") or [] if isinstance(v, dict)} | set(extra_volume_names)
    seen: set[str] = set()
    for i, c in enumerate(containers or []):
        cf = f"{field}.containers[{i}]"
        name = c.get("name")
        if not name:
            out.append(required(f"{cf}.name"))
        else:
            out += name_causes(name, f"{cf}.name", "label", profile)
            if name in seen:
                out.append(duplicate(f"{cf}.name", name))
            seen.add(name)
        if not c.get("image"):
            out.append(required(f"{cf}.image"))
        for j, m in enumerate(c.get("volumeMounts") or []):
            if m.get("name") not in volumes:
                out.append(not_found(f"{cf}.volumeMounts[{j}].name", m.get("name")))
            if not m.get("mountPath"):
                out.append(required(f"{cf}.volumeMounts[{j}].mountPath"))
        policy = c.get("imagePullPolicy")
        if policy not in (None, "Always", "IfNotPresent", "Never"):
            out.append(not_supported(f"{cf}.imagePullPolicy", policy, ["Always", "IfNotPresent", "Never"]))
    rp = spec.get("restartPolicy")
    if rp not in (None, "Always", "OnFailure", "Never"):
        out.append(not_supported(f"{field}.restartPolicy", rp, ["Always", "OnFailure", "Never"]))
    return out


def workload_causes(obj: dict, kind: str, profile: Profile) -> list[Cause]:
    """Checks shared by StatefulSets, Deployments and ReplicaSets."""
    spec = obj.get("spec") or {}
    out: list[Cause] = []
    out += replicas_causes(spec.get("replicas"), "spec.replicas", profile)
    sel = spec.get("selector")
    tpl = spec.get("template") or {}
    tlabels = (tpl.get("metadata") or {}).get("labels") or {}
    if sel is None:
        out.append(required("spec.selector"))
    elif not (sel.get("matchLabels") or sel.get("matchExpressions")):
        pretty = "v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"
        out.append(("spec.selector", "FieldValueInvalid",
                    f"Invalid value: {pretty}: empty selector is invalid for {kind.lower()}"))
    else:
        try:
            matches = selector_from_label_selector(sel).matches(tlabels)
        except ValueError as e:
            out.append(invalid("spec.selector", sel, str(e), profile))
        else:
            if not matches:
                out.append(invalid("spec.template.metadata.labels", tlabels,
                                   "`selector` does not match template `labels`", profile))
    out += labels_causes(tlabels, "spec.template.metadata.labels", profile)
    return out


def statefulset_causes(obj: dict, profile: Profile) -> list[Cause]:
    spec = obj.get("spec") or {}
    out = metadata_causes(obj, "subdomain", profile)
    policy = spec.get("podManagementPolicy")
    if policy not in ("OrderedReady", "Parallel"):
        out.append(invalid("spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'", profile))
    strategy = spec.get("updateStrategy") or {}
    stype = strategy.get("type")
    if stype not in ("RollingUpdate", "OnDelete"):
        out.append(invalid("spec.updateStrategy", stype,
                           "must be 'RollingUpdate' or 'OnDelete'", profile))
    if stype == "OnDelete" and strategy.get("rollingUpdate") is not None:
        out.append(invalid("spec.updateStrategy.rollingUpdate", strategy.get("rollingUpdate"),
                           "only allowed for updateStrategy 'RollingUpdate'", profile))
    ru = strategy.get("rollingUpdate") or {}
    if isinstance(ru.get("partition"), int) and ru["partition"] < 0:
        out.append(invalid("spec.updateStrategy.rollingUpdate.partition", ru["partition"],
                           "must be greater than or equal to 0", profile))
    ordinals = spec.get("ordinals") or {}
    if isinstance(ordinals.get("start"), int) and ordinals["start"] < 0:
        out.append(invalid("spec.ordinals.start", ordinals["start"], "must be greater than or equal to 0", profile))
    retention = spec.get("persistentVolumeClaimRetentionPolicy") or {}
    for key in ("whenDeleted", "whenScaled"):
        if key in retention and retention[key] not in ("Retain", "Delete"):
            out.append(not_supported(f"spec.persistentVolumeClaimRetentionPolicy.{key}", retention[key],
                                     ["Retain", "Delete"]))
    out += workload_causes(obj, "statefulset", profile)
    claims = {(c.get("metadata") or {}).get("name") for c in spec.get("volumeClaimTemplates") or []}
    tpl_spec = (spec.get("template") or {}).get("spec")
    out += pod_spec_causes(tpl_spec, "spec.template.spec", profile, claims)
    if isinstance(tpl_spec, dict):
        rp = tpl_spec.get("restartPolicy")
        if rp not in (None, "Always"):
            out.append(not_supported("spec.template.spec.restartPolicy", rp, ["Always"]))
        if tpl_spec.get("activeDeadlineSeconds") is not None:
            out.append(forbidden("spec.template.spec.activeDeadlineSeconds",
                                 "activeDeadlineSeconds in StatefulSet is not Supported"))
    return out


def statefulset_update_causes(new: dict, old: dict, profile: Profile) -> list[Cause]:
    """``ValidateStatefulSetUpdate``: only some spec fields may change."""
    mutable = ["replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy",
               "minReadySeconds"]
    if profile.revision_history_limit_mutable:
        mutable.append("revisionHistoryLimit")
    a = {k: v for k, v in (new.get("spec") or {}).items() if k not in mutable}
    b = {k: v for k, v in (old.get("spec") or {}).items() if k not in mutable}
    if a != b:
        return [forbidden("spec", "updates to statefulset spec for fields other than "
                          f"{profile.statefulset_mutable_fields} are forbidden")]
    return []


def deployment_causes(obj: dict, profile: Profile) -> list[Cause]:
    out = metadata_causes(obj, "subdomain", profile)
    out += workload_causes(obj, "deployment", profile)
    out += pod_spec_causes((obj.get("spec") or {}).get("template", {}).get("spec"), "spec.template.spec", profile)
    return out


def replicaset_causes(obj: dict, profile: Profile) -> list[Cause]:
    out = metadata_causes(obj, "subdomain", profile)
    out += workload_causes(obj, "replicaset", profile)
    out += pod_spec_causes((obj.get("spec") or {}).get("template", {}).get("spec"), "spec.template.spec", profile)
    return out


def selector_update_causes(new: dict, old: dict, profile: Profile) -> list[Cause]:
    ns, os_ = (new.get("spec") or {}).get("selector"), (old.get("spec") or {}).get("selector")
    if ns != os_:
        return [("spec.selector", "FieldValueInvalid",
                 f"Invalid value: {go_value(ns, profile)}: field is immutable")]
    return []


def pod_causes(obj: dict, profile: Profile) -> list[Cause]:
    out = metadata_causes(obj, "subdomain", profile)
    spec = obj.get("spec") or {}
    out += pod_spec_causes(spec, "spec", profile)
    if spec.get("hostname"):
        out += name_causes(spec["hostname"], "spec.hostname", "label", profile)
    if spec.get("subdomain"):
        out += name_causes(spec["subdomain"], "spec.subdomain", "label", profile)
    return out


def pod_update_causes(new: dict, old: dict, profile: Profile) -> list[Cause]:
    """Pods may change only images and a few fields once created."""
    def strip(spec: dict) -> dict:
        s = json.loads(json.dumps(spec))
        for c in s.get("containers") or []:
            c.pop("image", None)
        for c in s.get("initContainers") or []:
            c.pop("image", None)
        for k in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds", "nodeName"):
            s.pop(k, None)
        return s
    if strip(new.get("spec") or {}) != strip(old.get("spec") or {}):
        return [forbidden("spec", "pod updates may not change fields other than `spec.containers[*].image`, "
                          "`spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` "
                          "(only additions to existing tolerations) or `spec.terminationGracePeriodSeconds` "
                          "(allow it to be set to 1 if it was previously negative)")]
    return []


#: What an ephemeral container may not have (``EphemeralContainerCommon``'s fields a debugging container lacks)
EPHEMERAL_FORBIDDEN = ("ports", "livenessProbe", "readinessProbe", "startupProbe", "lifecycle", "resources")


def ephemeral_update_causes(new: dict, old: dict, profile: Profile) -> list[Cause]:
    """``ValidatePodEphemeralContainersUpdate`` and ``validateEphemeralContainers``: new ones are complete,
    named uniquely in the pod, without what only a long-lived container has; existing ones stay as they are."""
    out: list[Cause] = []
    spec, ospec = new.get("spec") or {}, old.get("spec") or {}
    taken = {c.get("name") for key in ("containers", "initContainers") for c in spec.get(key) or []}
    seen: set = set()
    for i, c in enumerate(spec.get("ephemeralContainers") or []):
        f = f"spec.ephemeralContainers[{i}]"
        name = c.get("name")
        if not name:
            out.append(required(f"{f}.name"))
        else:
            out += name_causes(name, f"{f}.name", "label", profile)
            if name in taken or name in seen:
                out.append(duplicate(f"{f}.name", name))
            seen.add(name)
        if not c.get("image"):
            out.append(required(f"{f}.image"))
        for key in EPHEMERAL_FORBIDDEN:
            if c.get(key):
                out.append(forbidden(f"{f}.{key}", "cannot be set for an Ephemeral Container"))
        target = c.get("targetContainerName")
        if target and target not in {x.get("name") for x in spec.get("containers") or []}:
            out.append(not_found(f"{f}.targetContainerName", target))
    by_name = {c.get("name"): c for c in spec.get("ephemeralContainers") or []}
    for oc in ospec.get("ephemeralContainers") or []:
        if oc.get("name") not in by_name:
            out.append(forbidden("spec.ephemeralContainers", f'existing ephemeral containers "{oc.get("name")}" '
                                                              "may not be removed\n"))
        elif by_name[oc.get("name")] != oc:
            out.append(forbidden("spec.ephemeralContainers", f'existing ephemeral containers "{oc.get("name")}" '
                                                              "may not be changed\n"))
    return out


def service_causes(obj: dict, profile: Profile) -> list[Cause]:
    out = metadata_causes(obj, "dns1035", profile)
    spec = obj.get("spec") or {}
    stype = spec.get("type")
    if stype not in ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"):
        out.append(not_supported("spec.type", stype, ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]))
    if spec.get("clusterIP") == "None" and stype not in ("ClusterIP", None):
        out.append(invalid("spec.clusterIPs[0]", "None", "may only be set to 'None' for ClusterIP services", profile))
    ports = spec.get("ports") or []
    if not ports and spec.get("clusterIP") != "None" and stype != "ExternalName":
        out.append(required("spec.ports"))
    names: set[str] = set()
    for i, p in enumerate(ports):
        port = p.get("port")
        if not isinstance(port, int) or not 1 <= port <= 65535:
            out.append(invalid(f"spec.ports[{i}].port", port, "must be between 1 and 65535, inclusive", profile))
        if len(ports) > 1 and not p.get("name"):
            out.append(required(f"spec.ports[{i}].name"))
        if p.get("name"):
            if p["name"] in names:
                out.append(duplicate(f"spec.ports[{i}].name", p["name"]))
            names.add(p["name"])
        proto = p.get("protocol")
        if proto not in ("TCP", "UDP", "SCTP"):
            out.append(not_supported(f"spec.ports[{i}].protocol", proto, ["SCTP", "TCP", "UDP"]))
    return out


def pvc_causes(obj: dict, profile: Profile) -> list[Cause]:
    out = metadata_causes(obj, "subdomain", profile)
    spec = obj.get("spec") or {}
    if not spec.get("accessModes"):
        out.append(required("spec.accessModes", "at least 1 access mode is required"))
    for i, m in enumerate(spec.get("accessModes") or []):
        if m not in ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"):
            out.append(not_supported(f"spec.accessModes[{i}]", m,
                                     ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]))
    if not ((spec.get("resources") or {}).get("requests") or {}).get("storage") and not spec.get("volumeName"):
        out.append(required("spec.resources[storage]"))
    return out


def generic_causes(obj: dict, profile: Profile) -> list[Cause]:
    return metadata_causes(obj, "subdomain", profile)


def namespace_causes(obj: dict, profile: Profile) -> list[Cause]:
    return metadata_causes(obj, "label", profile)


CREATE = {
    "statefulsets": statefulset_causes,
    "deployments": deployment_causes,
    "replicasets": replicaset_causes,
    "pods": pod_causes,
    "services": service_causes,
    "persistentvolumeclaims": pvc_causes,
    "namespaces": namespace_causes,
}


def validate(plural: str, obj: dict, profile: Profile, old: dict | None = None) -> list[Cause]:
    causes = CREATE.get(plural, generic_causes)(obj, profile)
    if old is not None:
        if plural == "statefulsets":
            causes += statefulset_update_causes(obj, old, profile)
        elif plural in ("deployments", "replicasets"):
            causes += selector_update_causes(obj, old, profile)
        elif plural == "pods":
            causes += pod_update_causes(obj, old, profile)
        elif plural == "services" and (old.get("spec") or {}).get("clusterIP") not in (None, "") and \
                (obj.get("spec") or {}).get("clusterIP") not in (None, "", old["spec"]["clusterIP"]):
            causes.append(invalid("spec.clusterIPs[0]", obj["spec"]["clusterIP"], "field is immutable", profile))
    return causes
