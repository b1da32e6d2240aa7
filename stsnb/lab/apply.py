"""``kubectl apply`` for the lab: create or update each object, refusing what stsnb did not create.

Before anything is sent, a StatefulSet is checked for pods and claims it would take over
(:mod:`.safety`), and a guide StorageClass that this lab does not need (its claims use the
``storage_class`` setting) is skipped. A cluster-scoped object the lab creates is annotated
with the lab's namespace (:data:`CREATED_FOR`), so that lab's cleanup can remove it again.
"""

from __future__ import annotations

import json
from typing import Any

from .. import manifests as _manifests
from ..errors import Forbidden, NotFound
from ..k8s.selectors import label_selector_string
from ..kube import kind_of, ref as _ref
from .base import same_object
from .ownership import APPLY_KINDS, CLUSTER_KINDS, CREATED_FOR, Ownership
from .results import ActionResult

__all__ = ["Applying"]


class Applying(Ownership):
    """:meth:`apply` and what it needs."""

    def apply(self, source: Any, *, storage_class: str | None = None, wait: bool = False, record: bool = False,
              timeout: float | None = None) -> ActionResult:
        """``kubectl apply``: create each object, or update it; lines say ``created``/``configured``/``unchanged``.

        Args:
            source: a guide manifest name (:func:`stsnb.manifests.names`), YAML text, a path, a dict or a list.
            storage_class: replaces the claim templates' ``sc-nfs`` (default: the ``storage_class`` setting).
            wait: wait until applied StatefulSets/Deployments are ready.
            record: attach a timeline of what happened (``result.recording``).
        """
        objs = _manifests.parse(source)
        sc = storage_class or self.settings.storage_class
        skipped: list[str] = []
        if sc:
            objs = _manifests.with_storage_class(objs, sc)
            # the guide's class is not needed when the claims use another one: never create it then
            skipped = [f"{_manifests.object_ref(o)} skipped: the claims of this lab use storage_class={sc!r}"
                       for o in objs if o.get("kind") == "StorageClass" and o["metadata"].get("name") != sc]
            objs = [o for o in objs if not (o.get("kind") == "StorageClass" and o["metadata"].get("name") != sc)]
        objs = _manifests.with_namespace(_manifests.managed(objs), self.namespace, cluster_scoped=CLUSTER_KINDS)
        for o in objs:
            kind_of(o, APPLY_KINDS)
        self._check_storage_classes(objs)
        for o in objs:
            if o["kind"] == "StatefulSet":
                current = self.kube.find("statefulsets", o["metadata"]["name"])
                self._refuse_takeovers(o, "apply", (current or {}).get("spec", {}).get("replicas"))

        def run() -> ActionResult:
            result = ActionResult(list(skipped))
            for o in objs:
                line, out = self._apply_one(o)
                result.lines.append(line)
                result.objects.append(out)
                result.warnings.extend(getattr(self.kube, "last_warnings", []) or [])
            if wait:
                for o in objs:
                    if o["kind"] in ("StatefulSet", "Deployment"):
                        self.wait_ready(f"{o['kind'].lower()}/{o['metadata']['name']}", timeout=timeout)
            return result

        first = next((o for o in objs if o["kind"] in ("StatefulSet", "Deployment")), None)
        selector = label_selector_string((first or {}).get("spec", {}).get("selector")) or None if first else None
        return self._maybe_record(record, f"{first['kind'].lower()}/{first['metadata']['name']}" if first else None,
                                  run, selector=selector)

    def _check_storage_classes(self, objs: list[dict]) -> None:
        wanted = {}
        for o in objs:
            for vct in (o.get("spec") or {}).get("volumeClaimTemplates") or []:
                sc = (vct.get("spec") or {}).get("storageClassName")
                if sc:
                    wanted[sc] = o["metadata"]["name"]
        applied = {o["metadata"]["name"] for o in objs if o["kind"] == "StorageClass"}
        for sc, owner in wanted.items():
            try:
                if sc in applied or self.kube.find("storageclasses", sc) is not None:
                    continue
                existing = self.kube.list("storageclasses")
            except Forbidden:
                return  # this user may not read StorageClasses: the cluster will say it, as PVC events
            default = [s["metadata"]["name"] for s in existing if (s["metadata"].get("annotations") or {}).get(
                "storageclass.kubernetes.io/is-default-class") == "true"]
            names = ", ".join(s["metadata"]["name"] for s in existing) or "none"
            if self.is_sandbox:
                hint = f"apply it first: lab.apply({sc!r})" if sc in _manifests.names() else \
                    f"create it first (stsnb.manifests.storage_class({sc!r}))"
            else:
                hint = (f"{sc!r} needs a dynamic provisioner on this cluster. Either pass "
                        f"storage_class={default[0] if default else 'NAME'!r} (classes here: {names}), or create "
                        f"{sc!r} with your cluster's provisioner (kind: rancher.io/local-path; see "
                        "docs 'Run it yourself')")
            raise NotFound(f"StorageClass {sc!r}, named by the volumeClaimTemplates of {owner}, does not exist: "
                           "its PersistentVolumeClaims would stay Pending and its pods unscheduled", hint=hint)

    def _apply_one(self, obj: dict) -> tuple[str, dict]:
        k = kind_of(obj, APPLY_KINDS)
        name = obj["metadata"]["name"]
        ref = _ref(k, name)
        body = {key: v for key, v in obj.items() if key != "status"}
        applied = json.dumps(body, separators=(",", ":"), sort_keys=True)
        meta = body["metadata"]
        meta["annotations"] = {**(meta.get("annotations") or {}),
                               "kubectl.kubernetes.io/last-applied-configuration": applied + "\n"}
        self._remember(k.plural, obj)
        current = self.kube.find(k, name)
        if not k.namespaced:  # the lab that first created a cluster-scoped object is the one to remove it
            meta["annotations"][CREATED_FOR] = ((current or {}).get("metadata", {}).get("annotations") or {}).get(
                CREATED_FOR) or self.namespace
        if current is None:
            out = self.kube.create(body)
            return f"{ref} created", out
        if not _manifests.is_managed(current):
            if not k.namespaced:
                return f"{ref} unchanged (it exists and was not created by stsnb: left as it is)", current
            raise Forbidden(f"{ref} already exists in namespace {self.namespace!r} and was not created by stsnb "
                            "(it has no app.kubernetes.io/managed-by=stsnb label): stsnb leaves it alone",
                            hint=f"delete it yourself (`kubectl delete {k.ref} {name} -n {self.namespace}`) or "
                                 "connect to another namespace=...")
        old_applied = (current["metadata"].get("annotations") or {}).get("kubectl.kubernetes.io/last-applied-configuration")
        patch = json.loads(json.dumps(body))
        if old_applied:
            try:
                _merge_deletions(patch, _deletions(json.loads(old_applied), json.loads(applied)))
            except ValueError:
                pass
        out = self.kube.patch(k, name, patch)
        return f"{ref} {'unchanged' if same_object(out, current) else 'configured'}", out


def _deletions(old: Any, new: Any) -> dict:
    """Keys present in the previous last-applied configuration and absent now, as ``null`` patch entries."""
    out: dict[str, Any] = {}
    if not isinstance(old, dict) or not isinstance(new, dict):
        return out
    for key, value in old.items():
        if key not in new:
            out[key] = None
        elif isinstance(value, dict) and isinstance(new[key], dict):
            sub = _deletions(value, new[key])
            if sub:
                out[key] = sub
    return out


def _merge_deletions(patch: dict, deletions: dict) -> None:
    for key, value in deletions.items():
        if value is None:
            patch.setdefault(key, None)
        elif isinstance(patch.get(key), dict):
            _merge_deletions(patch[key], value)
