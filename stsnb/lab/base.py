"""The lab's core: the cluster, the namespace, the settings; waiting and recording."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Callable

from .. import tables as _tables
from ..errors import ConfigError, StsnbError
from ..k8s.selectors import label_selector_string
from ..kube import Kube, parse_target
from ..settings import Settings
from ..timeline import Recording
from ..watching import Progress, View, WatchSpec, deployment_rollout, statefulset_rollout, wait_for
from .results import ActionResult, ErrorText

if TYPE_CHECKING:
    import pandas as pd

    from ..sandbox import Sandbox

__all__ = ["LabBase", "same_object"]


class LabBase:
    """A cluster, a namespace and settings; every notebook step is a method call.

    Build it with :func:`connect`. Attributes: ``settings``, ``namespace``, ``why`` (which cluster
    and why), ``is_sandbox``, ``sandbox`` (the :class:`~stsnb.sandbox.Sandbox` or None), ``kube``
    (the API access), ``lang``.
    """

    def __init__(self, kube: Kube, settings: Settings, *, why: str, sandbox: "Sandbox | None" = None,
                 owns_sandbox: bool = False) -> None:
        self.kube = kube
        self.settings = settings
        self.why = why
        self.sandbox = sandbox
        self._owns_sandbox = owns_sandbox
        self._applied: dict[tuple[str, str], dict] = {}
        self._cleaned: list[tuple[str, dict]] = []
        self._panels: weakref.WeakSet = weakref.WeakSet()
        self.colors = _tables.RevisionColors()
        """One colour per revision hash, shared by every table and timeline this lab shows."""
        self._finalizer = weakref.finalize(self, sandbox.stop) if (sandbox is not None and owns_sandbox) else None

    @property
    def namespace(self) -> str:
        return self.settings.namespace

    @property
    def is_sandbox(self) -> bool:
        return self.sandbox is not None

    @property
    def lang(self) -> str:
        return self.settings.lang

    @property
    def timeout_s(self) -> float:
        return self.settings.timeout_s

    @property
    def core(self):
        """The official ``CoreV1Api`` bound to this cluster (for anything the lab does not wrap)."""
        from kubernetes.client import CoreV1Api
        return CoreV1Api(self.kube.api_client)

    @property
    def apps(self):
        """The official ``AppsV1Api`` bound to this cluster."""
        from kubernetes.client import AppsV1Api
        return AppsV1Api(self.kube.api_client)

    def __repr__(self) -> str:
        return f"<stsnb.Lab {'sandbox' if self.is_sandbox else 'kubeconfig'} namespace={self.namespace!r}: {self.why}>"

    def close(self) -> None:
        """Stop the sandbox this lab started (a real cluster is left as it is)."""
        if self._finalizer is not None:
            self._finalizer()

    def __enter__(self) -> "LabBase":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def t(self, df: "pd.DataFrame") -> "pd.DataFrame":
        """A display copy of a table with headers in the lab's language (keys stay English in ``df``)."""
        return _tables.translate(df, self.lang)

    def style(self, df: "pd.DataFrame"):
        """A styled display of a table: translated headers and phrases, one colour per revision hash (the
        same in every table and timeline of this lab), every cell escaped, no index, durations as ``1.2 s``."""
        return _tables.style(df, self.lang, self.colors)

    def try_(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn``; on a :class:`StsnbError` return its text as kubectl prints it (``error: …``) instead."""
        try:
            return fn()
        except StsnbError as e:
            return ErrorText(e)

    def record(self, target: str | None = None, *, selector: str | None = None, title: str | None = None) -> Recording:
        """A timeline of pod and StatefulSet events while a ``with`` block runs.

        ``target`` (a StatefulSet name or ``deployment/NAME``) limits it to that workload's pods;
        ``selector`` to pods with those labels. Use ``rec.frame``, ``rec.order("deleted")``, ``rec.plot()``.
        """
        statefulset = None
        if target:
            kind, name = parse_target(target)
            statefulset = name if kind.kind == "StatefulSet" else None
            title = title or name
            if not selector:
                obj = self.kube.find(kind, name)
                selector = label_selector_string((obj or {}).get("spec", {}).get("selector")) if obj else f"app={name}"
        return Recording(self.kube, self.namespace, label_selector=selector,
                         title=title, lang=self.lang, statefulset=statefulset, colors=self.colors)

    def _maybe_record(self, record: bool, target: str | None, fn: Callable[[], ActionResult], *,
                      selector: str | None = None) -> ActionResult:
        if not record:
            return fn()
        rec = self.record(target, selector=selector, title=parse_target(target)[1] if target else None)
        rec.start()
        try:
            result = fn()
        finally:
            rec.stop()
        result.recording = rec
        return result

    def _timeout(self, timeout: float | None) -> float:
        return float(timeout) if timeout is not None else self.settings.timeout_s

    def wait_ready(self, target: str, *, timeout: float | None = None,
                   on_change: Callable[[View, Progress], None] | None = None) -> ActionResult:
        """Wait until a StatefulSet (or ``deployment/NAME``) has all replicas Ready and its rollout is done.

        Raises:
            ConditionFailed: one of its pods is stuck (ImagePullBackOff …): names the pod and the reason.
            WaitTimeout: names the condition and the last state seen.
        """
        kind, name = parse_target(target)
        obj = self.kube.get(kind, name)
        sel = label_selector_string((obj.get("spec") or {}).get("selector"))
        ns = self.namespace
        if kind.kind == "StatefulSet":
            specs = [WatchSpec("statefulsets", ns, field_selector=f"metadata.name={name}"),
                     WatchSpec("pods", ns, label_selector=sel or None)]
            if obj["spec"].get("volumeClaimTemplates"):
                specs.append(WatchSpec("persistentvolumeclaims", ns, label_selector=sel or None))
            check = statefulset_rollout(name)
            what = f"statefulset {name} to have {obj['spec'].get('replicas', 1)} Ready pods and its rollout complete"
        elif kind.kind == "Deployment":
            specs = [WatchSpec("deployments", ns, field_selector=f"metadata.name={name}"),
                     WatchSpec("replicasets", ns, label_selector=sel or None),
                     WatchSpec("pods", ns, label_selector=sel or None)]
            check = deployment_rollout(name)
            what = f"deployment {name} to roll out ({obj['spec'].get('replicas', 1)} available replicas)"
        else:
            raise ConfigError(f"wait_ready works on a StatefulSet or a Deployment, got {target!r}")
        _, prog = wait_for(self.kube, specs, check, timeout=self._timeout(timeout), condition=what,
                           on_change=on_change)
        return ActionResult([prog.state])


def same_object(a: dict, b: dict) -> bool:
    """Whether a write left the object as it was (controllers' status writes and resourceVersion aside)."""
    def norm(o: dict) -> dict:
        o = {k: v for k, v in o.items() if k != "status"}
        o["metadata"] = {k: v for k, v in (o.get("metadata") or {}).items()
                         if k not in ("resourceVersion", "managedFields")}
        return o
    return norm(a) == norm(b)
