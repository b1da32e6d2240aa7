"""The lab's actions: kubectl's verbs for workloads (patch, scale, set image, roll back, delete …)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Callable

from .. import manifests as _manifests
from ..errors import AlreadyExists, CannotExpose, ConfigError, Conflict, NotFound
from ..k8s.pods import pod_owner, pod_ready, pod_status
from ..k8s.selectors import label_selector_string, map_selector_string
from ..kube import parse_target, ref as _ref, resolve_kind
from ..watching import (Progress, View, WatchSpec, all_gone, generation_observed, pod_finished, pod_replaced,
                        wait_for)
from .base import same_object
from .ownership import Ownership
from .results import ActionResult, DnsLookup, PodReplacement, parse_nslookup, replacement_frame

#: Kinds whose controller reports ``status.observedGeneration`` and owns what is deleted with them.
_CONTROLLED = frozenset({"statefulsets", "deployments", "replicasets"})

__all__ = ["Actions"]


class Actions(Ownership):
    """Workload verbs; each returns an :class:`~stsnb.lab.results.ActionResult`."""

    def patch(self, target: str, patch: Any, *, type: str = "strategic", wait: bool = False, record: bool = False,
              timeout: float | None = None, on_change: Callable | None = None) -> ActionResult:
        """``kubectl patch KIND/NAME -p PATCH`` (strategic merge by default; ``None`` deletes a key).

        Prints ``…/NAME patched`` or ``…/NAME patched (no change)``. With ``wait`` a StatefulSet or
        Deployment is awaited like :meth:`wait_ready` (a partitioned rollout is done once the pods at
        or above the partition are updated, as ``kubectl rollout status`` says). Without it, a
        StatefulSet, Deployment or ReplicaSet is patched once its controller has acted on the change
        (``status.observedGeneration``), so the next table already shows the new ``updateRevision``;
        so do :meth:`scale`, :meth:`set_image`, :meth:`rollback` and :meth:`restart` with ``wait=False``.

        Args:
            type: ``"strategic"``, ``"merge"`` (RFC 7386) or ``"json"`` (RFC 6902, a list of operations).
        """
        types = {"strategic": "application/strategic-merge-patch+json", "merge": "application/merge-patch+json",
                 "json": "application/json-patch+json"}
        if type not in types:
            raise ConfigError(f"patch type {type!r} is not allowed", hint="choose 'strategic', 'merge' or 'json'")
        if isinstance(patch, str):
            try:
                patch = json.loads(patch)
            except ValueError:
                import yaml
                patch = yaml.safe_load(patch)
        kind, name = parse_target(target)
        obj = self._require_ours(kind, name)
        if kind.kind == "StatefulSet" and isinstance(patch, dict) and type != "json":
            # a retention policy of Delete makes the set owner of its claims: never of one stsnb did not create
            after = _merged(obj, patch)
            self._refuse_takeovers(after, "patch", obj["spec"].get("replicas"))

        def run() -> ActionResult:
            out = self.kube.patch(kind, name, patch, content_type=types[type])
            same = same_object(out, obj)
            result = ActionResult([f"{_ref(kind, name)} patched{' (no change)' if same else ''}"], [out])
            if wait and kind.kind in ("StatefulSet", "Deployment"):
                self.wait_ready(_ref(kind, name), timeout=timeout, on_change=on_change)
            elif kind.plural in _CONTROLLED:
                self._observed(kind, name, out, timeout)
            return result
        return self._maybe_record(record, _ref(kind, name) if kind.kind in ("StatefulSet", "Deployment") else None,
                                  run)

    def scale(self, target: str, replicas: int, *, wait: bool = True, record: bool = False,
              timeout: float | None = None, on_change: Callable | None = None) -> ActionResult:
        """``kubectl scale sts NAME --replicas=N`` (through the scale subresource), then wait for it."""
        if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
            raise ConfigError(f"replicas must be a whole number ≥ 0, got {replicas!r}")
        kind, name = parse_target(target)
        obj = self._require_ours(kind, name)
        if kind.kind == "StatefulSet" and replicas > int(obj["spec"].get("replicas", 1)):
            self._refuse_takeovers(obj, "scale", replicas)

        def run() -> ActionResult:
            self.kube.patch(kind, name, {"spec": {"replicas": replicas}},
                            content_type="application/merge-patch+json", sub="scale")
            result = ActionResult([f"{_ref(kind, name)} scaled"])
            self._settle(kind, name, None, wait, timeout, on_change)
            return result
        return self._maybe_record(record, _ref(kind, name), run)

    def set_image(self, target: str, *, wait: bool = True, record: bool = False, timeout: float | None = None,
                  on_change: Callable | None = None, **images: str) -> ActionResult:
        """``kubectl set image sts/NAME CONTAINER=IMAGE``: patches only ``image`` (``imagePullPolicy`` stays).

        Prints nothing when the image is already set (kubectl's empty patch). Waits for the rollout,
        which ends early with :class:`~stsnb.errors.ConditionFailed` if a new pod cannot pull its image.
        """
        if not images:
            raise ConfigError("set_image needs CONTAINER=IMAGE, e.g. lab.set_image('nginx-stateful', nginx='nginx:1.21.1')")
        kind, name = parse_target(target)
        obj = self._require_ours(kind, name)
        pod_spec = obj["spec"]["template"]["spec"]
        patch_spec: dict[str, list] = {}
        changed = False
        for container, image in images.items():
            for field_ in ("initContainers", "containers"):
                found = next((c for c in pod_spec.get(field_) or [] if c.get("name") == container), None)
                if found is not None:
                    patch_spec.setdefault(field_, []).append({"image": image, "name": container})
                    changed = changed or found.get("image") != image
                    break
            else:
                raise NotFound(f'unable to find container named "{container}"',
                               hint="the containers are: " + ", ".join(c["name"] for c in pod_spec.get("containers") or []))
        if not changed:
            return ActionResult([])

        def run() -> ActionResult:
            out = self.kube.patch(kind, name, {"spec": {"template": {"spec": patch_spec}}})
            result = ActionResult([f"{_ref(kind, name)} image updated"])
            self._settle(kind, name, out, wait, timeout, on_change)
            return result
        return self._maybe_record(record, _ref(kind, name), run)

    def rollback(self, target: str, to_revision: int | None = None, *, wait: bool = True, record: bool = False,
                 timeout: float | None = None, on_change: Callable | None = None) -> ActionResult:
        """``kubectl rollout undo [--to-revision=N]``.

        For a StatefulSet: pick the revision (the second-highest when ``to_revision`` is None) and
        strategic-merge-patch the set with that ControllerRevision's ``data``; the controller then
        reuses the old revision (its hash comes back, its number becomes the highest).
        """
        kind, name = parse_target(target)
        obj = self._require_ours(kind, name)
        if kind.kind == "StatefulSet":
            revs = self._owned("controllerrevisions", obj)
            revs.sort(key=lambda r: r.get("revision", 0))
            if to_revision in (None, 0):
                if len(revs) < 2:
                    raise NotFound("no last revision to roll back to",
                                   hint=f"statefulset {name} has {len(revs)} revision(s); change its template first")
                chosen = revs[-2]
            else:
                chosen = next((r for r in revs if r.get("revision") == to_revision), None)
                if chosen is None:
                    raise NotFound(f"unable to find specified revision {to_revision} in history",
                                   hint="see lab.revisions(" + repr(name) + ") for the revision numbers")
            data = chosen.get("data")
            if isinstance(data, str):
                data = json.loads(data)
            tpl = dict(((data or {}).get("spec") or {}).get("template") or {})
            tpl.pop("$patch", None)
            if _same_template(tpl, obj["spec"]["template"]):
                return ActionResult([f"{_ref(kind, name)} skipped rollback (current template already matches "
                                     f"revision {chosen.get('revision')})"])
            body = data
        elif kind.kind == "Deployment":
            rss = self._owned("replicasets", obj)
            def rnum(r: dict) -> int:
                return int((r["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", 0))
            rss.sort(key=rnum)
            if to_revision in (None, 0):
                if len(rss) < 2:
                    raise NotFound("no rollout history found", hint=f"deployment {name} has not been updated yet")
                chosen = rss[-2]
            else:
                chosen = next((r for r in rss if rnum(r) == to_revision), None)
                if chosen is None:
                    raise NotFound(f"unable to find specified revision {to_revision} in history")
            tpl = json.loads(json.dumps(chosen["spec"]["template"]))
            (tpl.get("metadata") or {}).get("labels", {}).pop("pod-template-hash", None)
            if _same_template(tpl, obj["spec"]["template"]):
                return ActionResult([f"{_ref(kind, name)} skipped rollback (current template already matches "
                                     f"revision {rnum(chosen)})"])
            body = {"spec": {"template": {**tpl, "$patch": "replace"}}}
        else:
            raise ConfigError(f"rollback works on a StatefulSet or a Deployment, got {target!r}")

        def run() -> ActionResult:
            out = self.kube.patch(kind, name, body)
            result = ActionResult([f"{_ref(kind, name)} rolled back"])
            self._settle(kind, name, out, wait, timeout, on_change)
            return result
        return self._maybe_record(record, _ref(kind, name), run)

    def restart(self, target: str, *, wait: bool = True, record: bool = False, timeout: float | None = None,
                on_change: Callable | None = None) -> ActionResult:
        """``kubectl rollout restart``: set the template annotation ``kubectl.kubernetes.io/restartedAt``."""
        kind, name = parse_target(target)
        obj = self._require_ours(kind, name)
        now = datetime.now().astimezone().replace(microsecond=0)
        stamp = now.isoformat().replace("+00:00", "Z") if now.utcoffset() == timezone.utc.utcoffset(None) \
            else now.isoformat()
        anns = ((obj["spec"]["template"].get("metadata") or {}).get("annotations") or {})
        if anns.get("kubectl.kubernetes.io/restartedAt") == stamp:
            raise Conflict(f"failed to create patch for {name}: if restart has already been triggered within the past "
                           "second, please wait before attempting to trigger another",
                           hint="run the step again in a second")

        def run() -> ActionResult:
            out = self.kube.patch(kind, name, {"spec": {"template": {"metadata": {"annotations": {
                "kubectl.kubernetes.io/restartedAt": stamp}}}}})
            result = ActionResult([f"{_ref(kind, name)} restarted"])
            self._settle(kind, name, out, wait, timeout, on_change)
            return result
        return self._maybe_record(record, _ref(kind, name), run)

    def delete_pod(self, name: str, *, wait_recreated: bool = True, grace: int | None = None, record: bool = False,
                   timeout: float | None = None) -> PodReplacement:
        """Delete a pod and (by default) wait for its controller to replace it; compare old and new.

        A StatefulSet brings back a pod with the same name (and claims); a Deployment's ReplicaSet
        makes one with a new random name. ``result.frame`` shows both side by side.
        """
        pod = self._require_ours(resolve_kind("pod"), name)
        owner = pod_owner(pod) or {}
        labels = pod["metadata"].get("labels") or {}
        siblings = map_selector_string(labels)
        before = {p["metadata"]["uid"] for p in self.kube.list("pods", label_selector=siblings)} \
            if owner.get("kind") == "ReplicaSet" else set()

        def run() -> PodReplacement:
            self.kube.delete("pods", name, grace=grace)
            res = PodReplacement([f'pod "{name}" deleted'], old_name=name, old_uid=pod["metadata"]["uid"],
                                 old_ip=(pod.get("status") or {}).get("podIP"), old_node=pod["spec"].get("nodeName"))
            new = None
            if wait_recreated and owner.get("kind") == "StatefulSet":
                view, _ = wait_for(self.kube, [WatchSpec("pods", self.namespace, field_selector=f"metadata.name={name}")],
                                   pod_replaced(name, res.old_uid), timeout=self._timeout(timeout),
                                   condition=f"pod {name} to be re-created by statefulset {owner.get('name')} and Ready")
                new = view.get("pods", name)
            elif wait_recreated and owner.get("kind") == "ReplicaSet":
                new = self._wait_replacement_in_replicaset(pod, owner, before, siblings, timeout)
            elif wait_recreated:
                wait_for(self.kube, [WatchSpec("pods", self.namespace, field_selector=f"metadata.name={name}")],
                         all_gone({"pods": {res.old_uid}}), timeout=self._timeout(timeout),
                         condition=f"pod {name} to be gone")
            if new is not None:
                res.new_name, res.new_uid = new["metadata"]["name"], new["metadata"]["uid"]
                res.new_ip, res.new_node = (new.get("status") or {}).get("podIP"), new["spec"].get("nodeName")
            res.frame = replacement_frame(pod, new)
            res.lang, res.colors = self.lang, self.colors
            return res
        return self._maybe_record(record, f"{owner.get('kind', 'statefulset').lower()}/{owner.get('name', '')}"
                                  if owner.get("kind") == "StatefulSet" else None, run)  # type: ignore[return-value]

    def _wait_replacement_in_replicaset(self, pod: dict, owner: dict, before: set[str], sel: str,
                                        timeout: float | None) -> dict | None:
        rs_uid = owner.get("uid")

        def check(view: View) -> Progress:
            fresh = [p for p in view.items("pods") if p["metadata"]["uid"] not in before
                     and (pod_owner(p) or {}).get("uid") == rs_uid]
            if fresh and all(pod_ready(p) for p in fresh):
                return Progress(True, f"pod {fresh[0]['metadata']['name']} replaced it")
            return Progress(False, f"replicaset {owner.get('name')}: " + (
                f"new pod {fresh[0]['metadata']['name']} is {pod_status(fresh[0])}" if fresh
                else "no replacement pod yet"))
        view, _ = wait_for(self.kube, [WatchSpec("pods", self.namespace, label_selector=sel)], check,
                           timeout=self._timeout(timeout),
                           condition=f"replicaset {owner.get('name')} to replace pod {pod['metadata']['name']}")
        fresh = [p for p in view.items("pods") if p["metadata"]["uid"] not in before
                 and (pod_owner(p) or {}).get("uid") == rs_uid]
        return fresh[0] if fresh else None

    def create_headless_service(self, name: str, tcp: str = "80:80") -> ActionResult:
        """``kubectl create service clusterip NAME --tcp=80:80 --clusterip=None`` (selector ``app=NAME``)."""
        obj = _manifests.managed(_manifests.clusterip_service(name, tcp=tcp, cluster_ip="None"))[0]
        obj["metadata"]["namespace"] = self.namespace
        try:
            out = self.kube.create(obj)
            self._remember("services", obj)
        except AlreadyExists as e:
            raise AlreadyExists(f'failed to create ClusterIP service: services "{name}" already exists',
                                hint="it was created before: `lab.delete('service/" + name + "')` or `lab.reset()`") from e
        return ActionResult([f"service/{name} created"], [out])

    def expose(self, target: str, *, port: int = 80, target_port: int | None = None, name: str | None = None,
               type: str = "ClusterIP") -> ActionResult:
        """``kubectl expose``: a Service for a Deployment, ReplicaSet, Pod or Service; refuses other kinds.

        Raises:
            CannotExpose: for a StatefulSet, with kubectl's exact text ``cannot expose a StatefulSet.apps``.
        """
        kind, obj_name = parse_target(target)
        if kind.kind not in ("Deployment", "ReplicaSet", "Pod", "Service"):
            group_kind = f"{kind.kind}.{kind.group}" if kind.group else kind.kind
            raise CannotExpose(f"cannot expose a {group_kind}", hint=(
                "a StatefulSet's pods can still sit behind a Service: create one whose selector matches "
                f"them, e.g. lab.create_headless_service({obj_name!r}) or lab.apply('nginx-stateful-headless-svc')"))
        obj = self.kube.get(kind, obj_name)
        svc = _manifests.managed(_manifests.expose_service(obj, port=port, target_port=target_port, name=name,
                                                           type=type))[0]
        svc["metadata"]["namespace"] = self.namespace
        out = self.kube.create(svc)
        self._remember("services", svc)
        return ActionResult([f"service/{svc['metadata']['name']} exposed"], [out])

    def delete(self, target: str, *, cascade: str = "background", wait: bool = True, record: bool = False,
               timeout: float | None = None) -> ActionResult:
        """``kubectl delete KIND/NAME [--cascade=background|orphan|foreground]``, waiting until it is gone."""
        policies = {"background": "Background", "orphan": "Orphan", "foreground": "Foreground"}
        if cascade not in policies:
            raise ConfigError(f"cascade={cascade!r} is not allowed", hint="choose 'background', 'orphan' or 'foreground'")
        kind, name = parse_target(target)
        obj = self._require_ours(kind, name)
        if record:
            sel = label_selector_string((obj.get("spec") or {}).get("selector")) or None
            return self._maybe_record(True, None, lambda: self.delete(target, cascade=cascade, wait=wait,
                                                                     timeout=timeout), selector=sel)
        if kind.plural in _CONTROLLED and cascade != "orphan":
            obj = self._observed(kind, name, obj, timeout)
        dependents = self._dependents([(kind.plural, obj)]) if cascade != "orphan" and kind.namespaced else []
        self.kube.delete(kind, name, propagation=policies[cascade])
        if wait:
            uids: dict[str, set[str]] = {kind.plural: {obj["metadata"]["uid"]}}
            for plural, o, _ in dependents:
                uids.setdefault(plural, set()).add(o["metadata"]["uid"])
            wait_for(self.kube, [WatchSpec(p, self.namespace if resolve_kind(p).namespaced else None) for p in uids],
                     all_gone(uids), timeout=self._timeout(timeout),
                     condition=f"{_ref(kind, name)} to be deleted"
                               f"{' with its ' + ', '.join(sorted(p for p in uids if p != kind.plural)) if len(uids) > 1 else ''}")
        return ActionResult([f'{kind.ref} "{name}" deleted'], [obj])

    def _settle(self, kind: Any, name: str, out: dict | None, wait: bool, timeout: float | None,
                on_change: Callable | None) -> None:
        """After a change: with ``wait``, until it has rolled out (:meth:`wait_ready`); without, until the
        controller has acted on it (its ``updateRevision``, its claims' owners), so the next table shows that."""
        if wait:
            self.wait_ready(_ref(kind, name), timeout=timeout, on_change=on_change)
        elif kind.plural in _CONTROLLED:
            self._observed(kind, name, out, timeout)

    def _observed(self, kind: Any, name: str, obj: dict | None, timeout: float | None) -> dict | None:
        """``obj`` once its controller has acted on its latest spec (at once if it has already; ``obj``
        None: look). With ``wait=False``, a change returns only then, so what a learner looks at next (the
        set's ``updateRevision``, its claims) already follows from it.

        What the cluster deletes with a StatefulSet depends on what its controller last did: with
        ``persistentVolumeClaimRetentionPolicy.whenDeleted: Delete`` it makes the set the claims' owner,
        and only then does the garbage collector take them along. Deleting the set before its controller
        has seen that policy (a patch a moment before) would keep the claims, on any cluster.
        """
        if obj is not None and ((obj.get("status") or {}).get("observedGeneration") or 0) >= \
                (obj["metadata"].get("generation") or 0):
            return obj
        view, _ = wait_for(self.kube, [WatchSpec(kind.plural, self.namespace, field_selector=f"metadata.name={name}")],
                           generation_observed(kind.plural, name), timeout=self._timeout(timeout),
                           condition=f"the controller of {_ref(kind, name)} to act on its latest change")
        return next((o for o in view.items(kind.plural) if o["metadata"]["name"] == name), obj)

    def nslookup(self, query: str, *, image: str = "busybox", timeout: float | None = None) -> DnsLookup:
        """Run ``nslookup QUERY`` in a busybox pod, as the guide's ``kubectl run dnsquery …`` does.

        The pod (``restartPolicy: Never``, labelled managed-by) runs once; its log is read, the pod is
        deleted, and the answer is parsed: ``result.answers`` holds the names (reverse lookup of an
        IP) or addresses (forward lookup), ``result.output`` busybox's own text.
        """
        pod_name = "dnsquery"
        old = self.kube.find("pods", pod_name)
        if old is not None:
            self._require_ours(resolve_kind("pod"), pod_name, obj=old)
            self.kube.delete("pods", pod_name, grace=0)
            wait_for(self.kube, [WatchSpec("pods", self.namespace, field_selector=f"metadata.name={pod_name}")],
                     all_gone({"pods": {old["metadata"]["uid"]}}), timeout=self._timeout(timeout),
                     condition=f"the previous pod {pod_name} to be gone")
        obj = _manifests.managed(_manifests.dns_query_pod(query, image=image, name=pod_name))[0]
        obj["metadata"]["namespace"] = self.namespace
        created = self.kube.create(obj)
        try:
            view, _ = wait_for(self.kube, [WatchSpec("pods", self.namespace, field_selector=f"metadata.name={pod_name}")],
                               pod_finished(pod_name), timeout=self._timeout(timeout),
                               condition=f"pod {pod_name} (nslookup {query}) to finish")
            pod = view.get("pods", pod_name) or created
            output = self.kube.log(pod_name)
        finally:
            try:
                self.kube.delete("pods", pod_name, grace=0)
                wait_for(self.kube, [WatchSpec("pods", self.namespace, field_selector=f"metadata.name={pod_name}")],
                         all_gone({"pods": {created["metadata"]["uid"]}}), timeout=self._timeout(timeout),
                         condition=f"pod {pod_name} to be deleted")
            except NotFound:
                pass
        code = None
        for s in (pod.get("status") or {}).get("containerStatuses") or []:
            term = (s.get("state") or {}).get("terminated")
            if term is not None:
                code = term.get("exitCode")
        server, answers = parse_nslookup(output, query)
        return DnsLookup(query=query, answers=answers, output=output, exit_code=code, server=server, pod=pod_name)


def _merged(obj: dict, patch: dict) -> dict:
    """``obj`` with a merge patch applied (``None`` deletes a key): what the set will look like afterwards."""
    def merge(a: Any, b: Any) -> Any:
        if not isinstance(a, dict) or not isinstance(b, dict):
            return b
        out = dict(a)
        for k, v in b.items():
            if v is None:
                out.pop(k, None)
            else:
                out[k] = merge(a.get(k), v)
        return out
    return merge(obj, patch)


def _same_template(a: dict, b: dict) -> bool:
    def norm(t: dict) -> dict:
        t = json.loads(json.dumps(t))
        t.pop("$patch", None)
        meta = t.get("metadata") or {}
        if meta.get("creationTimestamp") is None:
            meta.pop("creationTimestamp", None)
        t["metadata"] = meta
        return t
    return norm(a) == norm(b)
