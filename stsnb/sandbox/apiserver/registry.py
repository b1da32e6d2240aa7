"""API semantics over the store: what kube-apiserver's registry strategies do.

Create, update, patch and delete with defaulting, validation, generation,
optimistic concurrency, graceful deletion, finalizers and owner-based
propagation. The HTTP API and the sandbox's own controllers both go through
this layer, exactly as real controllers go through the API server.
"""

from __future__ import annotations

import base64
import copy
import ipaddress
import json
import random
from typing import Any

from . import defaults
from ..core import errors
from ..core.cluster import Cluster
from .conversion import to_served, to_stored
from .kind_validation import validate
from .validation import replicas_causes
from ..core.resources import BY_KIND, BY_PLURAL, ResourceType
from ...k8s.selectors import (SelectorError, label_selector_string, parse_field_selector, parse_label_selector,
                              selector_from_label_selector)

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")


def deep_copy(obj: Any) -> Any:
    """Fast deep copy of JSON-shaped data."""
    return json.loads(json.dumps(obj))


class Registry:
    """Kubernetes object semantics for one sandbox."""

    def __init__(self, sandbox: Cluster) -> None:
        self.sb = sandbox
        self.store = sandbox.store
        self.profile = sandbox.profile
        self.rng: random.Random = sandbox.rng
        self._cluster_ips: set[str] = set()
        self._event_names: dict[tuple, str] = {}  # (uid, reason, message) -> Event name, for aggregation

    # ------------------------------------------------------------------ helpers
    def _rt(self, plural: str) -> ResourceType:
        return BY_PLURAL[plural]

    def _ns(self, rt: ResourceType, namespace: str | None) -> str:
        return (namespace or "") if rt.namespaced else ""

    def get(self, plural: str, namespace: str | None, name: str) -> dict:
        rt = self._rt(plural)
        obj = self.store.get(plural, self._ns(rt, namespace), name)
        if obj is None:
            raise errors.not_found(rt.group, plural, name)
        return obj

    def find(self, plural: str, namespace: str | None, name: str) -> dict | None:
        return self.store.get(plural, self._ns(self._rt(plural), namespace), name)

    def list(self, plural: str, namespace: str | None = None, label_selector: str | None = None,
             field_selector: str | None = None) -> list[dict]:
        rt = self._rt(plural)
        flt = self.filter_for(rt, label_selector, field_selector)
        return self.store.list(plural, namespace if rt.namespaced else None, flt)

    def filter_for(self, rt: ResourceType, label_selector: str | None, field_selector: str | None):
        try:
            sel = parse_label_selector(label_selector)
            fsel = parse_field_selector(field_selector, rt.field_selectors)
        except SelectorError as e:
            raise errors.bad_request(f"unable to parse requirement: {e}" if "unable" not in str(e) else str(e)) from None
        if sel.empty and not field_selector:
            return None
        return lambda o: sel.matches(o["metadata"].get("labels")) and fsel(o)

    # ------------------------------------------------------------------ create
    def create(self, plural: str, namespace: str | None, body: Any, *, strict: bool = False,
               dry_run: bool = False) -> tuple[dict, list[str]]:
        """Create an object; returns it with the warnings to send back."""
        rt = self._rt(plural)
        obj, warnings = self._decode(rt, body, strict)
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        ns = self._ns(rt, namespace)
        if rt.namespaced:
            if meta.get("namespace") not in (None, "", ns):
                raise errors.bad_request("the namespace of the provided object does not match the namespace sent on the request")
            meta["namespace"] = ns
            self._check_namespace_open(rt, ns, meta.get("name") or meta.get("generateName") or "")
        else:
            meta.pop("namespace", None)
        if not meta.get("name") and meta.get("generateName"):
            for _ in range(8):
                candidate = self._generate_name(meta["generateName"])
                if self.store.get(plural, ns, candidate) is None:
                    meta["name"] = candidate
                    break
        for key in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                    "generation", "selfLink"):
            meta.pop(key, None)
        defaults.apply_defaults(plural, obj, self.profile)
        self._prepare_create(rt, obj)
        causes = validate(plural, obj, self.profile)
        if causes:
            raise errors.invalid(rt.kind, rt.group, meta.get("name") or "", causes)
        if self.store.get(plural, ns, meta["name"]) is not None:
            raise errors.already_exists(rt.group, plural, meta["name"])
        self._allocate(rt, obj)
        meta["uid"] = meta.get("uid") or self.store.new_uid()
        meta["creationTimestamp"] = self.sb.clock.timestamp()
        if dry_run:
            return obj, warnings
        return self.store.create(plural, obj), warnings

    def _generate_name(self, base: str) -> str:
        from ..hashing import generate_name
        return generate_name(self.rng, base)

    def _check_namespace_open(self, rt: ResourceType, ns: str, name: str) -> None:
        nso = self.store.get("namespaces", "", ns)
        if nso is None:
            raise errors.not_found("", "namespaces", ns)
        if nso["metadata"].get("deletionTimestamp"):
            raise errors.forbidden(rt.group, rt.plural, name,
                                   f"unable to create new content in namespace {ns} because it is being terminated")

    def _decode(self, rt: ResourceType, body: Any, strict: bool) -> tuple[dict, list[str]]:
        if not isinstance(body, dict):
            raise errors.bad_request(f"{rt.kind} in version \"{rt.version}\" cannot be handled as a {rt.kind}: "
                                     "json: cannot unmarshal into Go value of type struct")
        api_version, kind = body.get("apiVersion"), body.get("kind")
        if kind and kind != rt.kind:
            raise errors.bad_request(
                f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})" if api_version
                else f"Object 'apiVersion' is missing in '{json.dumps(body)[:200]}'")
        if api_version and api_version != rt.api_version:
            raise errors.bad_request(
                f"the API version in the data ({api_version}) does not match the expected API version ({rt.api_version})")
        obj = deep_copy(body)
        obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
        obj, warnings = self.sb.schemas.decode(obj, strict=strict)
        for key in ("metadata", "spec"):  # Go decodes null into an empty struct (only kinds that have a spec)
            if obj.get(key) is None and (key == "metadata" or self._has_spec(rt)):
                obj[key] = {}
            elif not isinstance(obj[key], dict) if key in obj else False:
                raise errors.bad_request(f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
                                         f"json: cannot unmarshal {type(obj[key]).__name__} into Go struct field "
                                         f"{rt.kind}.{key}")
        if rt.plural == "secrets" and isinstance(obj.get("stringData"), dict):
            # Convert_v1_Secret_To_core_Secret: stringData is written over data, base64-encoded, and never stored
            obj["data"] = {**(obj.get("data") or {}), **{k: base64.b64encode(str(v).encode()).decode()
                                                         for k, v in obj.pop("stringData").items()}}
        return obj, warnings

    def _has_spec(self, rt: ResourceType) -> bool:
        """Whether the kind's schema has a ``spec`` (a Secret, a ConfigMap or a ServiceAccount has none)."""
        schemas = self.sb.schemas.schemas
        try:
            definition = schemas.definition(schemas.type_for(rt.api_version, rt.kind))
        except (KeyError, ValueError, LookupError, errors.ApiError):
            return True
        return "spec" in (definition.get("properties") or {})

    def _prepare_create(self, rt: ResourceType, obj: dict) -> None:
        p = rt.plural
        if p in ("statefulsets", "deployments", "replicasets"):
            obj["metadata"]["generation"] = 1
            obj["status"] = {"replicas": 0} | ({"availableReplicas": 0} if p == "statefulsets" else {})
        elif p == "pods":
            spec = obj["spec"]
            spec.setdefault("serviceAccountName", "default")
            spec["serviceAccount"] = spec["serviceAccountName"]
            spec.setdefault("tolerations", [])
            for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
                if not any(t.get("key") == key for t in spec["tolerations"]):
                    spec["tolerations"].append({"effect": "NoExecute", "key": key, "operator": "Exists",
                                                "tolerationSeconds": 300})
            if spec.get("automountServiceAccountToken", True) is not False:
                from ..hashing import random_suffix
                vol = f"kube-api-access-{random_suffix(self.rng)}"
                spec.setdefault("volumes", []).append({"name": vol, "projected": {"defaultMode": 420, "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
                    {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                                                "path": "namespace"}]}}]}})
                for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
                    c.setdefault("volumeMounts", []).append({"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                                                             "name": vol, "readOnly": True})
            obj["status"] = {"phase": "Pending", "qosClass": _qos(spec)}
        elif p == "persistentvolumeclaims":
            obj["status"] = {"phase": "Pending"}
        elif p == "persistentvolumes":
            obj["status"] = {"phase": "Pending"}
        elif p == "namespaces":
            obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
            obj["status"] = {"phase": "Active"}
            obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"].get("name", "")
        elif p == "services":
            obj["status"] = {"loadBalancer": {}}
        elif p == "jobs":
            obj["metadata"]["generation"] = 1
            obj["status"] = {}
            self._job_selector(obj)
        elif p in ("cronjobs", "horizontalpodautoscalers", "ingresses"):
            obj["metadata"]["generation"] = 1
            # Go's zero values of the status fields without omitempty (v2 HPA: desiredReplicas)
            obj["status"] = {"loadBalancer": {}} if p == "ingresses" else {"desiredReplicas": 0} if \
                p == "horizontalpodautoscalers" else {}
        elif p == "poddisruptionbudgets":
            obj["metadata"]["generation"] = 1
            obj["status"] = {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0}

    def _job_selector(self, job: dict) -> None:
        """The Job strategy's ``generateSelector``: a selector on the job's own uid, labels on its template.

        Upstream (pkg/registry/batch/job/strategy.go) labels the template with both the
        ``batch.kubernetes.io/`` keys and the legacy ``controller-uid``/``job-name`` ones.
        The uid is allocated here, before the store would, so the selector can name it.
        """
        spec = job["spec"]
        if spec.get("manualSelector") is True:
            return
        uid = job["metadata"].setdefault("uid", self.store.new_uid())
        name = job["metadata"].get("name", "")
        tpl = spec.get("template")
        if isinstance(tpl, dict):
            meta = tpl.setdefault("metadata", {}) or {}
            tpl["metadata"] = meta
            labels = meta.setdefault("labels", {}) or {}
            meta["labels"] = labels
            labels.update({"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name,
                           "controller-uid": uid, "job-name": name})
        spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}

    def _allocate(self, rt: ResourceType, obj: dict) -> None:
        if rt.plural != "services":
            return
        spec = obj["spec"]
        if spec.get("type") == "ExternalName":
            return
        ip = spec.get("clusterIP")
        if ip == "None":
            spec["clusterIPs"] = ["None"]
        else:
            if not ip:
                ip = self._free_cluster_ip()
            elif ip in self._cluster_ips:
                raise errors.invalid("Service", "", obj["metadata"]["name"], [
                    ("spec.clusterIPs", "FieldValueInvalid",
                     f"Invalid value: []string{{\"{ip}\"}}: failed to allocate IP {ip}: provided IP is already allocated")])
            self._cluster_ips.add(ip)
            spec["clusterIP"], spec["clusterIPs"] = ip, [ip]
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            spec.setdefault("externalTrafficPolicy", "Cluster")
            used = {p.get("nodePort") for s in self.store.list("services") for p in s["spec"].get("ports") or []}
            for port in spec.get("ports") or []:
                if not port.get("nodePort"):
                    free = [n for n in range(30000, 32768) if n not in used]
                    port["nodePort"] = self.rng.choice(free)
                    used.add(port["nodePort"])

    def _free_cluster_ip(self) -> str:
        """A free address of the Service range, never one a pod holds (the guide's pod ranges lie inside it)."""
        net = SERVICE_CIDR
        while True:
            ip = str(net.network_address + self.rng.randrange(2, net.num_addresses - 1))
            if ip not in self._cluster_ips and ip != "10.96.0.10" and not any(
                    ((p.get("status") or {}).get("podIP") == ip) for p in self.store.list("pods")):
                return ip

    # ------------------------------------------------------------------ update
    def update(self, plural: str, namespace: str | None, name: str, body: Any, *, subresource: str = "",
               strict: bool = False, dry_run: bool = False) -> tuple[dict, list[str]]:
        rt = self._rt(plural)
        obj, warnings = self._decode(rt, body, strict)
        meta = obj.setdefault("metadata", {})
        if meta.get("name") not in (None, name):
            raise errors.bad_request("the name of the object (%s) does not match the name on the URL (%s)"
                                     % (meta.get("name"), name))
        meta["name"] = name
        with self.store.lock:
            old = self.get(plural, namespace, name)
            expect = meta.get("resourceVersion") or None
            if expect and expect != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rt.group, plural, name, errors.STALE)
            new = self._merge_update(rt, old, obj, subresource)
            if new == old:
                return old, warnings  # a no-op update writes nothing, as the API server
            if dry_run:
                return new, warnings
            return self._store_update(plural, new, old), warnings

    def _merge_update(self, rt: ResourceType, old: dict, obj: dict, subresource: str) -> dict:
        """Apply the parts of ``obj`` this endpoint may change onto ``old``; validate."""
        if subresource == "status":
            new = deep_copy(old)
            new["status"] = obj.get("status", {})
            for key in ("labels", "annotations", "ownerReferences", "finalizers"):
                pass  # status updates keep metadata as is
            return new
        if subresource == "ephemeralcontainers":  # only spec.ephemeralContainers changes (kubectl debug)
            from .validation import ephemeral_update_causes
            new = deep_copy(old)
            added = deep_copy((obj.get("spec") or {}).get("ephemeralContainers") or [])
            for c in added:
                defaults.container(c)
            if added:
                new["spec"]["ephemeralContainers"] = added
            else:
                new["spec"].pop("ephemeralContainers", None)
            causes = ephemeral_update_causes(new, old, self.profile)
            if causes:
                raise errors.invalid(rt.kind, rt.group, old["metadata"]["name"], causes)
            return new
        new = obj
        meta, ometa = new["metadata"], old["metadata"]
        for key in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation",
                    "namespace", "generateName"):
            if key in ometa:
                meta[key] = ometa[key]
            else:
                meta.pop(key, None)
        meta["resourceVersion"] = ometa["resourceVersion"]
        if "status" in old:
            new["status"] = old["status"]
        defaults.apply_defaults(rt.plural, new, self.profile)
        if rt.plural == "services":
            for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
                if key in old.get("spec", {}) and not new.get("spec", {}).get(key):
                    new["spec"][key] = old["spec"][key]
        if rt.plural == "pods":
            for key in ("nodeName", "serviceAccount", "serviceAccountName", "priority", "preemptionPolicy",
                        "enableServiceLinks", "tolerations", "volumes", "hostname", "subdomain"):
                if key in old["spec"] and key not in new.get("spec", {}):
                    new["spec"][key] = old["spec"][key]
            for i, c in enumerate(new["spec"].get("containers") or []):
                oc = next((x for x in old["spec"].get("containers") or [] if x.get("name") == c.get("name")), None)
                if oc and "volumeMounts" in oc and "volumeMounts" not in c:
                    c["volumeMounts"] = oc["volumeMounts"]
        causes = validate(rt.plural, new, self.profile, old=old)
        if causes:
            raise errors.invalid(rt.kind, rt.group, meta["name"], causes)
        if "generation" in ometa and new.get("spec") != old.get("spec"):
            meta["generation"] = ometa["generation"] + 1
        return new

    def _store_update(self, plural: str, new: dict, old: dict) -> dict:
        meta = new["metadata"]
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and plural != "pods":
            self.store.update(plural, new)
            self.store.remove(plural, meta.get("namespace", ""), meta["name"])
            return new
        return self.store.update(plural, new, expect_rv=old["metadata"]["resourceVersion"])

    # ------------------------------------------------------------------ patch
    def patch(self, plural: str, namespace: str | None, name: str, patch: bytes, content_type: str, *,
              subresource: str = "", strict: bool = False, dry_run: bool = False,
              served_version: str | None = None) -> tuple[dict, list[str]]:
        """Patch an object; ``served_version`` (e.g. ``autoscaling/v1``) patches the object as that
        version shows it (:mod:`.conversion`), as the API server patches in the request's version."""
        rt = self._rt(plural)
        schemas = self.sb.schemas
        view = served_version if served_version and served_version != rt.api_version else None
        with self.store.lock:
            old = self.get(plural, namespace, name)
            current = deep_copy(old)
            if subresource == "scale":
                current = self.scale_of(rt, old)
            elif view:
                current = to_served(current, view)
            ctype = content_type.split(";")[0].strip()
            try:
                doc = json.loads(patch or b"null")
            except ValueError as e:
                raise errors.bad_request(f"error decoding patch: {e}") from None
            if ctype == "application/json-patch+json":
                patched = schemas.apply_json_patch(current, doc)
            elif ctype == "application/merge-patch+json":
                patched = schemas.json_merge_patch(current, doc)
            elif ctype == "application/strategic-merge-patch+json":
                patched = schemas.strategic_merge_patch(
                    current, doc, "autoscaling/v1" if subresource == "scale" else view or rt.api_version,
                    "Scale" if subresource == "scale" else rt.kind)
            elif ctype == "application/apply-patch+yaml":
                raise errors.unsupported_media_type(
                    "server-side apply is not supported by the stsnb sandbox; use client-side `kubectl apply` "
                    "(the default) or a strategic merge patch")
            else:
                raise errors.unsupported_media_type(
                    "the body of the request was in an unknown format - accepted media types include: "
                    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, "
                    "application/strategic-merge-patch+json")
            if not isinstance(patched, dict):
                raise errors.bad_request("the patch did not produce an object")
            if subresource == "scale":
                return self.update_scale(rt, namespace, name, patched, dry_run=dry_run), []
            if view:
                patched = to_stored(patched, view, rt.api_version)
            meta = patched.setdefault("metadata", {})
            if meta.get("resourceVersion") != old["metadata"]["resourceVersion"] and meta.get("resourceVersion"):
                # a patch that names a resourceVersion is a precondition
                raise errors.conflict(rt.group, plural, name, errors.STALE)
            meta["resourceVersion"] = ""
            return self.update(plural, namespace, name, patched, subresource=subresource, strict=strict,
                               dry_run=dry_run)

    # ------------------------------------------------------------------ reviews
    def review(self, plural: str, body: Any, strict: bool = False) -> tuple[dict, list[str]]:
        """``POST selfsubjectaccessreviews``: nothing is stored; the sandbox's one user may do anything.

        The answer is what upstream's authorizer chain gives a member of ``system:masters``
        (kind's and minikube's admin kubeconfig): ``allowed: true`` with no reason.
        """
        rt = self._rt(plural)
        obj, warnings = self._decode(rt, body, strict)
        spec = obj.get("spec") or {}
        if not spec.get("resourceAttributes") and not spec.get("nonResourceAttributes"):
            raise errors.invalid(rt.kind, rt.group, "", [(
                "spec.resourceAttributes", "FieldValueRequired",
                "Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified")])
        meta = obj.get("metadata") or {}
        obj["metadata"] = {**meta, "creationTimestamp": None}
        obj["status"] = {"allowed": True}
        return obj, warnings

    # ------------------------------------------------------------------ scale
    def scale_of(self, rt: ResourceType, obj: dict) -> dict:
        meta = obj["metadata"]
        sel = (obj.get("spec") or {}).get("selector")
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                             if k in meta},
                "spec": {"replicas": obj["spec"].get("replicas", 0)},
                "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                           "selector": label_selector_string(sel)}}

    def update_scale(self, rt: ResourceType, namespace: str | None, name: str, scale: Any, *,
                     dry_run: bool = False) -> dict:
        if not isinstance(scale, dict):
            raise errors.bad_request("Scale in version \"v1\" cannot be handled as a Scale")
        replicas = (scale.get("spec") or {}).get("replicas", 0)
        if not isinstance(replicas, int) or isinstance(replicas, bool):
            raise errors.bad_request(
                'Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal '
                f'{type(replicas).__name__.replace("str", "string")} into Go struct field ScaleSpec.spec.replicas of type int32')
        causes = replicas_causes(replicas, "spec.replicas", self.profile)
        if causes:
            raise errors.invalid("Scale", "autoscaling", name, causes)
        with self.store.lock:
            old = self.get(rt.plural, namespace, name)
            rv = (scale.get("metadata") or {}).get("resourceVersion")
            if rv and rv != old["metadata"]["resourceVersion"]:
                raise errors.conflict("autoscaling", "scale", name, errors.STALE)
            new = deep_copy(old)
            new["spec"]["replicas"] = replicas
            if new != old:
                new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
                if not dry_run:
                    new = self.store.update(rt.plural, new)
            return self.scale_of(rt, new)

    # ------------------------------------------------------------------ status (controllers)
    def write_status(self, plural: str, obj: dict, status: dict) -> dict:
        """Controllers: replace ``status`` if it differs (no validation, no generation bump)."""
        with self.store.lock:
            cur = self.store.get(plural, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
            if cur is None or cur.get("status") == status:
                return cur or obj
            new = {**cur, "status": status, "metadata": dict(cur["metadata"])}
            return self.store.update(plural, new)

    def replace(self, plural: str, new: dict) -> dict:
        """Controllers: store a modified copy of an object as is (metadata edits, bindings)."""
        with self.store.lock:
            cur = self.store.get(plural, new["metadata"].get("namespace", ""), new["metadata"]["name"])
            if cur is None:
                rt = self._rt(plural)
                raise errors.not_found(rt.group, plural, new["metadata"]["name"])
            if new == cur:
                return cur
            new["metadata"] = {**new["metadata"], "resourceVersion": cur["metadata"]["resourceVersion"]}
            meta = new["metadata"]
            if meta.get("deletionTimestamp") and not meta.get("finalizers") and plural != "pods":
                return self.store.remove(plural, meta.get("namespace", ""), meta["name"]) or new
            return self.store.update(plural, new)

    # ------------------------------------------------------------------ delete
    def delete(self, plural: str, namespace: str | None, name: str, *, grace: int | None = None,
               propagation: str | None = None, preconditions: dict | None = None,
               dry_run: bool = False) -> tuple[dict, bool]:
        """Delete; returns ``(object, gone)``: gone is False while graceful deletion or finalizers are pending."""
        rt = self._rt(plural)
        with self.store.lock:
            obj = self.get(plural, namespace, name)
            meta = obj["metadata"]
            pre = preconditions or {}
            if pre.get("uid") and pre["uid"] != meta["uid"]:
                raise errors.conflict(rt.group, plural, name,
                                      f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {meta['uid']}")
            if pre.get("resourceVersion") and pre["resourceVersion"] != meta["resourceVersion"]:
                raise errors.conflict(rt.group, plural, name,
                                      f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                                      f"ResourceVersion in object meta: {meta['resourceVersion']}")
            if dry_run:  # nothing changes; say whether the object would be gone at once
                return obj, not meta.get("finalizers") and plural not in ("pods", "namespaces")
            if propagation is None:
                propagation = "Background"
            if propagation not in ("Background", "Foreground", "Orphan"):
                raise errors.invalid("DeleteOptions", "meta.k8s.io", "", [
                    ("propagationPolicy", "FieldValueNotSupported",
                     f'Unsupported value: "{propagation}": supported values: "Foreground", "Background", "Orphan", "nil"')])
            if propagation == "Orphan":
                self._orphan_dependents(meta["uid"])
            new = deep_copy(obj)
            nmeta = new["metadata"]
            finalizers = list(nmeta.get("finalizers") or [])
            if propagation == "Foreground" and "foregroundDeletion" not in finalizers:
                finalizers.append("foregroundDeletion")
            if plural == "pods":
                return self._delete_pod(new, grace)
            if plural == "namespaces":
                if name in SYSTEM_NAMESPACES:
                    raise errors.forbidden("", "namespaces", name, "this namespace may not be deleted")
                if not nmeta.get("deletionTimestamp"):
                    nmeta["deletionTimestamp"] = self.sb.clock.timestamp()
                    new["status"] = {"phase": "Terminating"}
                    return self.store.update(plural, new), False
                return obj, False
            if finalizers:
                if not nmeta.get("deletionTimestamp"):
                    nmeta["deletionTimestamp"] = self.sb.clock.timestamp()
                    nmeta["deletionGracePeriodSeconds"] = 0
                    nmeta["finalizers"] = finalizers
                    return self.store.update(plural, new), False
                return obj, False
            self.store.remove(plural, nmeta.get("namespace", ""), name)
            if plural == "services":
                self._cluster_ips.discard(obj["spec"].get("clusterIP", ""))
            return obj, True

    def _delete_pod(self, pod: dict, grace: int | None) -> tuple[dict, bool]:
        meta, spec = pod["metadata"], pod["spec"]
        if grace is None:
            grace = spec.get("terminationGracePeriodSeconds", 30)
        terminal = pod.get("status", {}).get("phase") in ("Succeeded", "Failed")
        if grace == 0 or not spec.get("nodeName") or terminal:
            if meta.get("finalizers"):
                meta.setdefault("deletionTimestamp", self.sb.clock.timestamp())
                meta["deletionGracePeriodSeconds"] = 0
                return self.store.update("pods", pod), False
            self.store.remove("pods", meta["namespace"], meta["name"])
            return pod, True
        current = meta.get("deletionGracePeriodSeconds")
        if meta.get("deletionTimestamp") and current is not None and current <= grace:
            return pod, False
        meta["deletionTimestamp"] = self.sb.clock.timestamp(self.sb.clock.now() + grace)
        meta["deletionGracePeriodSeconds"] = grace
        return self.store.update("pods", pod), False

    def evict(self, namespace: str, name: str, grace: int | None = None, propagation: str | None = None,
              preconditions: dict | None = None, dry_run: bool = False) -> dict:
        """``POST pods/NAME/eviction``: delete the pod unless a PodDisruptionBudget forbids it.

        Follows kubernetes/kubernetes ``pkg/registry/core/pod/storage/eviction.go``: a pod that is
        Pending, finished or already being deleted ignores budgets; otherwise the one budget whose
        selector matches it must have been processed (``status.observedGeneration``) and allow a
        disruption, which this eviction then consumes (``disruptionsAllowed`` − 1, the pod noted
        in ``disruptedPods``). Budgets' status is the disruption controller's to keep current.
        """
        with self.store.lock:
            pod = self.get("pods", namespace, name)
            phase = (pod.get("status") or {}).get("phase")
            ignore = phase in ("Succeeded", "Failed", "Pending") or pod["metadata"].get("deletionTimestamp")
            budgets = [] if ignore else [
                b for b in self.store.list("poddisruptionbudgets", namespace)
                if self._selects(b, pod)]
            if len(budgets) > 1:
                raise errors.ApiError(500, "InternalError", "This pod has more than one PodDisruptionBudget, "
                                      "which the eviction subresource does not support.")
            if budgets and not self._unhealthy_pod_evictable(budgets[0], pod):
                self._consume_disruption(budgets[0], name, dry_run)
            if not ignore and not dry_run and self.profile.minor >= 26:
                self._mark_disruption_target(pod)
            obj, _ = self.delete("pods", namespace, name, grace=grace, propagation=propagation,
                                 preconditions=preconditions, dry_run=dry_run)
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}

    @staticmethod
    def _unhealthy_pod_evictable(budget: dict, pod: dict) -> bool:
        """A pod that is not Ready may go without spending a disruption (eviction.go): always under the
        ``AlwaysAllow`` policy, else (``IfHealthyBudget``) while the budget has its desired healthy pods."""
        ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                    for c in (pod.get("status") or {}).get("conditions") or [])
        if ready:
            return False
        if ((budget.get("spec") or {}).get("unhealthyPodEvictionPolicy") or "IfHealthyBudget") == "AlwaysAllow":
            return True
        st = budget.get("status") or {}
        return st.get("desiredHealthy", 0) > 0 and st.get("currentHealthy", 0) >= st.get("desiredHealthy", 0)

    def _mark_disruption_target(self, pod: dict) -> None:
        """``DisruptionTarget`` (PodDisruptionConditions, on from 1.26): why the pod is about to go."""
        new = deep_copy(pod)
        conds = [c for c in new["status"].get("conditions") or [] if c.get("type") != "DisruptionTarget"]
        conds.append({"type": "DisruptionTarget", "status": "True", "lastProbeTime": None,
                      "lastTransitionTime": self.sb.clock.timestamp(), "reason": "EvictionByEvictionAPI",
                      "message": "Eviction API: evicting"})
        new["status"]["conditions"] = conds
        self.store.update("pods", new)

    @staticmethod
    def _selects(budget: dict, pod: dict) -> bool:
        sel = (budget.get("spec") or {}).get("selector")
        if sel is None:
            return False
        try:
            return selector_from_label_selector(sel).matches(pod["metadata"].get("labels") or {})
        except ValueError:
            return False

    def _consume_disruption(self, budget: dict, pod_name: str, dry_run: bool) -> None:
        meta, status = budget["metadata"], budget.get("status") or {}
        bname = meta["name"]

        def refuse(why: str) -> errors.ApiError:
            return errors.ApiError(429, "TooManyRequests",
                                   "Cannot evict pod as it would violate the pod's disruption budget.",
                                   {"causes": [{"reason": "DisruptionBudget", "message": why}]})
        if status.get("observedGeneration", 0) < meta.get("generation", 0):
            raise refuse(f"The disruption budget {bname} is still being processed by the server.")
        allowed = status.get("disruptionsAllowed", 0)
        if allowed < 0:
            raise errors.ApiError(403, "Forbidden", "pdb disruptions allowed is negative")
        if allowed == 0:
            raise refuse(f"The disruption budget {bname} needs {status.get('desiredHealthy', 0)} healthy pods "
                         f"and has {status.get('currentHealthy', 0)} currently")
        if dry_run:
            return
        new = deep_copy(budget)
        new["status"]["disruptionsAllowed"] = allowed - 1
        new["status"].setdefault("disruptedPods", {})[pod_name] = self.sb.clock.timestamp()
        self.store.update("poddisruptionbudgets", new)

    def finish_pod(self, pod: dict) -> None:
        """The kubelet's last word: the pod's containers are gone, remove the object."""
        with self.store.lock:
            cur = self.store.get("pods", pod["metadata"]["namespace"], pod["metadata"]["name"])
            if cur is None or cur["metadata"]["uid"] != pod["metadata"]["uid"]:
                return
            if cur["metadata"].get("finalizers"):
                return
            self.store.remove("pods", cur["metadata"]["namespace"], cur["metadata"]["name"])

    def _orphan_dependents(self, owner_uid: str) -> None:
        for plural, obj in self.store.all_objects():
            refs = obj["metadata"].get("ownerReferences") or []
            if any(r.get("uid") == owner_uid for r in refs):
                new = deep_copy(obj)
                kept = [r for r in refs if r.get("uid") != owner_uid]
                if kept:
                    new["metadata"]["ownerReferences"] = kept
                else:
                    new["metadata"].pop("ownerReferences", None)
                self.store.update(plural, new)

    # ------------------------------------------------------------------ events
    def record_event(self, involved: dict, type_: str, reason: str, message: str, component: str,
                     host: str = "") -> None:
        """A core/v1 Event, aggregated like the event recorder (same reason and message → count+1)."""
        meta = involved["metadata"]
        ns = meta.get("namespace") or "default"
        ts = self.sb.clock.timestamp()
        key = (meta.get("uid"), reason, message)
        with self.store.lock:
            seen = self._event_names.get(key)
            ev = self.store.get("events", ns, seen) if seen else None
            if ev is not None:
                new = deep_copy(ev)
                new["count"] = ev.get("count", 1) + 1
                new["lastTimestamp"] = ts
                self.store.update("events", new)
                return
            rt = BY_KIND.get((involved.get("apiVersion"), involved.get("kind")))
            # client-go's recorder (tools/record/event.go makeEvent): "<involved>.<hex unix nanoseconds>",
            # so names sort in time order; a later event in the same nanosecond takes the next one
            nanos = int(self.sb.clock.datetime().timestamp() * 1e9)
            while self.store.get("events", ns, name := f"{meta['name']}.{nanos:x}") is not None:
                nanos += 1
            source = {"component": component} | ({"host": host} if host else {})
            ev = {"apiVersion": "v1", "kind": "Event",
                  "metadata": {"name": name, "namespace": ns, "uid": self.store.new_uid(), "creationTimestamp": ts},
                  "involvedObject": {"apiVersion": involved.get("apiVersion", rt.api_version if rt else "v1"),
                                     "kind": involved.get("kind"), "name": meta["name"], "namespace": ns,
                                     "uid": meta.get("uid"), "resourceVersion": meta.get("resourceVersion")},
                  "reason": reason, "message": message, "source": source, "type": type_,
                  "firstTimestamp": ts, "lastTimestamp": ts, "count": 1,
                  "eventTime": None, "reportingComponent": component, "reportingInstance": host}
            self.store.create("events", ev)
            self._event_names[key] = name


def _qos(spec: dict) -> str:
    containers = spec.get("containers") or []
    has_any = any((c.get("resources") or {}).get("requests") or (c.get("resources") or {}).get("limits")
                  for c in containers)
    if not has_any:
        return "BestEffort"
    guaranteed = all((c.get("resources") or {}).get("limits") and
                     (c["resources"].get("requests") or {}) == c["resources"]["limits"] for c in containers)
    return "Guaranteed" if guaranteed else "Burstable"


def copy_obj(obj: dict) -> dict:
    return copy.deepcopy(obj)
