"""API-server defaulting, as ``SetObjectDefaults_*`` does before an object is stored.

The defaults decide the StatefulSet revision hash (the template is hashed as
stored), so the list is exactly upstream's: ``pkg/apis/core/v1/defaults.go``,
``pkg/apis/apps/v1/defaults.go`` and the generated ``zz_generated.defaults.go``
(see ``reference/kubernetes-semantics.md`` R4.8). Defaults fill empty fields
only; a stored default is never recomputed (R4.9).
"""

from __future__ import annotations

import re

from ..profile import Profile


def image_pull_policy(image: str) -> str:
    """``parsers.ParseImageName``: no tag and no digest means ``latest`` → Always."""
    name = image.split("@", 1)[0]
    has_digest = "@" in image
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    if not tag and not has_digest:
        tag = "latest"
    if not re.fullmatch(r"[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*)*",
                        name.rsplit(":", 1)[0] if tag and ":" in last else name):
        return "IfNotPresent"  # an unparsable image leaves the tag empty
    return "Always" if tag == "latest" else "IfNotPresent"


def _probe(p: dict | None) -> None:
    if not isinstance(p, dict):
        return
    p.setdefault("timeoutSeconds", 1)
    p.setdefault("periodSeconds", 10)
    p.setdefault("successThreshold", 1)
    p.setdefault("failureThreshold", 3)
    _http_get(p.get("httpGet"))
    if isinstance(p.get("grpc"), dict):
        p["grpc"].setdefault("service", "")


def _http_get(h: dict | None) -> None:
    if isinstance(h, dict):
        h.setdefault("path", "/")
        h.setdefault("scheme", "HTTP")


def container(c: dict) -> None:
    if not isinstance(c, dict):
        return
    if not c.get("imagePullPolicy") and isinstance(c.get("image"), str):
        c["imagePullPolicy"] = image_pull_policy(c["image"])
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    if c.get("resources") is None:
        c["resources"] = {}
    for port in c.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
    for env in c.get("env") or []:
        fr = (env.get("valueFrom") or {}).get("fieldRef") if isinstance(env, dict) else None
        if isinstance(fr, dict):
            fr.setdefault("apiVersion", "v1")
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        _probe(c.get(key))
    for hook in ((c.get("lifecycle") or {}).get("postStart"), (c.get("lifecycle") or {}).get("preStop")):
        if isinstance(hook, dict):
            _http_get(hook.get("httpGet"))


def volume(v: dict) -> None:
    if not isinstance(v, dict):
        return
    sources = set(v) - {"name"}
    if not sources:
        v["emptyDir"] = {}
    for key in ("secret", "configMap", "downwardAPI", "projected"):
        if isinstance(v.get(key), dict):
            v[key].setdefault("defaultMode", 420)
    if isinstance(v.get("hostPath"), dict):
        v["hostPath"].setdefault("type", "")
    for src in (v.get("projected") or {}).get("sources") or []:
        if isinstance(src, dict) and isinstance(src.get("serviceAccountToken"), dict):
            src["serviceAccountToken"].setdefault("expirationSeconds", 3600)


def pod_spec(spec: dict) -> None:
    """``SetDefaults_PodSpec`` plus container and volume defaults (templates and pods alike)."""
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("restartPolicy", "Always")
    if spec.get("securityContext") is None:
        spec["securityContext"] = {}
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("schedulerName", "default-scheduler")
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for c in spec.get(key) or []:
            container(c)
    for v in spec.get("volumes") or []:
        volume(v)


def embedded_meta(meta: dict | None, profile: Profile) -> dict:
    """ObjectMeta inside a template: ≤1.33 serialises ``creationTimestamp: null``."""
    meta = dict(meta or {})
    if profile.null_creation_timestamp:
        meta.setdefault("creationTimestamp", None)
    else:
        meta.pop("creationTimestamp", None) if meta.get("creationTimestamp") is None else None
    return meta


def pod_template(tpl: dict, profile: Profile) -> None:
    tpl["metadata"] = embedded_meta(tpl.get("metadata"), profile)
    if not isinstance(tpl.get("spec"), dict):
        tpl["spec"] = {}
    pod_spec(tpl["spec"])


def statefulset(obj: dict, profile: Profile) -> None:
    spec = obj.setdefault("spec", {})
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    spec.setdefault("podManagementPolicy", "OrderedReady")
    strategy = spec.get("updateStrategy")
    if not strategy or not strategy.get("type"):
        spec["updateStrategy"] = strategy = {"type": "RollingUpdate", "rollingUpdate": (strategy or {}).get("rollingUpdate") or {}}
    ru = strategy.get("rollingUpdate")
    if strategy.get("type") == "RollingUpdate" and isinstance(ru, dict):
        ru.setdefault("partition", 0)
        if profile.max_unavailable:
            ru.setdefault("maxUnavailable", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    if profile.pvc_retention_policy:
        policy = spec.setdefault("persistentVolumeClaimRetentionPolicy", {})
        policy.setdefault("whenDeleted", "Retain")
        policy.setdefault("whenScaled", "Retain")
    if isinstance(spec.get("template"), dict):
        pod_template(spec["template"], profile)
    for i, claim in enumerate(spec.get("volumeClaimTemplates") or []):
        if not isinstance(claim, dict):
            continue
        claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", **claim}
        claim["metadata"] = embedded_meta(claim.get("metadata"), profile)
        persistent_volume_claim(claim)
        claim.setdefault("status", {"phase": "Pending"})
        spec["volumeClaimTemplates"][i] = claim


def deployment(obj: dict, profile: Profile) -> None:
    spec = obj.setdefault("spec", {})
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        ru = strategy.setdefault("rollingUpdate", {})
        ru.setdefault("maxSurge", "25%")
        ru.setdefault("maxUnavailable", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    if isinstance(spec.get("template"), dict):
        pod_template(spec["template"], profile)


def replicaset(obj: dict, profile: Profile) -> None:
    spec = obj.setdefault("spec", {})
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    if isinstance(spec.get("template"), dict):
        pod_template(spec["template"], profile)


def service(obj: dict, profile: Profile) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            if port.get("targetPort") in (None, 0, ""):
                port["targetPort"] = port.get("port")
    if spec["type"] in ("ClusterIP", "NodePort", "LoadBalancer"):
        spec.setdefault("internalTrafficPolicy", "Cluster")


def persistent_volume_claim(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("volumeMode", "Filesystem")


def pod(obj: dict, profile: Profile) -> None:
    """``SetDefaults_Pod`` (pods only, never templates) on top of the pod-spec defaults."""
    spec = obj.setdefault("spec", {})
    pod_spec(spec)
    spec.setdefault("enableServiceLinks", True)
    for c in spec.get("containers") or []:
        limits = (c.get("resources") or {}).get("limits")
        if limits:
            requests = c["resources"].setdefault("requests", {})
            for k, v in limits.items():
                requests.setdefault(k, v)
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")


def storage_class(obj: dict) -> None:
    obj.setdefault("reclaimPolicy", "Delete")
    obj.setdefault("volumeBindingMode", "Immediate")


def secret(obj: dict) -> None:
    if not obj.get("type"):
        obj["type"] = "Opaque"


def job_spec(spec: dict, profile: Profile) -> None:
    """batch/v1 ``SetDefaults_Job`` (pkg/apis/batch/v1/defaults.go)."""
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    if spec.get("parallelism") is None:
        spec["parallelism"] = 1
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = 6
    if not spec.get("completionMode"):
        spec["completionMode"] = "NonIndexed"
    if spec.get("suspend") is None:
        spec["suspend"] = False
    if profile.minor >= 29 and not spec.get("podReplacementPolicy") and not spec.get("podFailurePolicy"):
        spec["podReplacementPolicy"] = "TerminatingOrFailed"
    if isinstance(spec.get("template"), dict):
        pod_template(spec["template"], profile)


def job(obj: dict, profile: Profile) -> None:
    job_spec(obj.setdefault("spec", {}), profile)


def cronjob(obj: dict, profile: Profile) -> None:
    """batch/v1 ``SetDefaults_CronJob``; the job template gets only the pod-template defaults."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("concurrencyPolicy", "Allow")
    if spec.get("suspend") is None:
        spec["suspend"] = False
    if spec.get("successfulJobsHistoryLimit") is None:
        spec["successfulJobsHistoryLimit"] = 3
    if spec.get("failedJobsHistoryLimit") is None:
        spec["failedJobsHistoryLimit"] = 1
    tpl = spec.get("jobTemplate")
    if isinstance(tpl, dict):
        tpl["metadata"] = embedded_meta(tpl.get("metadata"), profile)
        jspec = tpl.get("spec")
        if isinstance(jspec, dict) and isinstance(jspec.get("template"), dict):
            pod_template(jspec["template"], profile)


def horizontal_pod_autoscaler(obj: dict) -> None:
    """autoscaling/v2 ``SetDefaults_HorizontalPodAutoscaler``: 1 replica at least, 80 % CPU by default."""
    spec = obj.setdefault("spec", {})
    if spec.get("minReplicas") is None:
        spec["minReplicas"] = 1
    if not spec.get("metrics"):
        spec["metrics"] = [{"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": 80}}}]


def binding_subjects(obj: dict) -> None:
    """rbac/v1 ``SetDefaults_Subject``: users and groups live in the RBAC API group."""
    for subject in obj.get("subjects") or []:
        if isinstance(subject, dict) and not subject.get("apiGroup") and subject.get("kind") in ("User", "Group"):
            subject["apiGroup"] = "rbac.authorization.k8s.io"


DEFAULTERS = {
    "statefulsets": statefulset,
    "deployments": deployment,
    "replicasets": replicaset,
    "services": service,
    "pods": pod,
    "persistentvolumeclaims": lambda o, p: persistent_volume_claim(o),
    "storageclasses": lambda o, p: storage_class(o),
    "secrets": lambda o, p: secret(o),
    "jobs": job,
    "cronjobs": cronjob,
    "horizontalpodautoscalers": lambda o, p: horizontal_pod_autoscaler(o),
    "rolebindings": lambda o, p: binding_subjects(o),
    "clusterrolebindings": lambda o, p: binding_subjects(o),
}


def apply_defaults(plural: str, obj: dict, profile: Profile) -> None:
    fn = DEFAULTERS.get(plural)
    if fn is not None:
        fn(obj, profile)
