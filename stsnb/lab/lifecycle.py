"""The end of a lesson, and the way back: :meth:`Lifecycle.finish` and :meth:`Lifecycle.restore`.

A notebook is read top to bottom with Run All, and its panels are meant to be used after
that. So the last step does not pull the objects from under the panels on the sandbox: the
sandbox lives in the kernel and goes away with it. On a real cluster the last step does
clean up (a learner's cluster must not keep the lab's objects), tells the panels, and
:meth:`restore` (the panels' "Bring it back" button) creates the objects again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _labels
from ..errors import NotFound
from ..kube import parse_target, ref as _ref, resolve_kind
from .apply import Applying
from .results import ActionResult

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Lifecycle"]

#: The order objects are created in again: what others need first.
_RESTORE_ORDER = ("StorageClass", "ConfigMap", "Service", "PersistentVolumeClaim", "StatefulSet", "Deployment", "Pod")


class Lifecycle(Applying):
    """``finish`` (the last step of a notebook) and ``restore``."""

    def finish(self, *, timeout: float | None = None) -> ActionResult:
        """The last step of a lesson.

        On the sandbox nothing is deleted: the panels above keep controlling live objects, and the
        sandbox with everything in it stops with the kernel (``lab.cleanup()`` deletes now). On a
        real cluster this is :meth:`cleanup`: what stsnb created is deleted, the panels are told
        (they say so, and offer to bring the objects back), and the table lists what went.
        """
        if self.is_sandbox:
            return ActionResult([_labels.text("kept_sandbox", self.lang)], lang=self.lang, colors=self.colors)
        df = self.cleanup(timeout=timeout)
        line = _labels.text("cleaned_real", self.lang, ns=self.namespace,
                            button=_labels.text("bring_back", self.lang))
        return ActionResult([line], frame=df, lang=self.lang, colors=self.colors)

    def restorable(self, target: str | None = None) -> list[tuple[str, dict]]:
        """What :meth:`restore` would create: ``(plural, manifest)`` pairs (empty when nothing is known)."""
        if target is None:
            return list(self._cleaned)
        kind, name = parse_target(target)
        if any(p == kind.plural and o["metadata"].get("name") == name for p, o in self._cleaned):
            return list(self._cleaned)
        body = self._applied.get((kind.plural, name))
        if body is None:
            return []
        out = [(kind.plural, body)]
        for vct in (body.get("spec") or {}).get("volumeClaimTemplates") or []:
            sc = (vct.get("spec") or {}).get("storageClassName")
            if sc and ("storageclasses", sc) in self._applied:
                out.insert(0, ("storageclasses", self._applied[("storageclasses", sc)]))
        return out

    def restore(self, target: str | None = None, *, wait: bool = True, timeout: float | None = None) -> ActionResult:
        """Create again what the last :meth:`cleanup` deleted (or, for ``target``, the manifest this lab applied).

        Claims that a StatefulSet makes from its templates are not created here: the controller
        makes them again. With ``wait`` the StatefulSets and Deployments are awaited until Ready.

        Raises:
            NotFound: the lab neither deleted nor applied anything it could bring back.
        """
        todo = list(self.restorable(target))
        if not todo:
            what = f"{_ref(*parse_target(target))}" if target else "anything"
            raise NotFound(f"this lab has not deleted or applied {what} that it could create again",
                           hint="apply it yourself: lab.apply('nginx-stateful') (or the manifest the notebook used)")
        todo.sort(key=lambda po: _RESTORE_ORDER.index(po[1].get("kind")) if po[1].get("kind") in _RESTORE_ORDER
                  else len(_RESTORE_ORDER))
        result = self.apply([o for _, o in todo])
        if wait:
            for plural, o in todo:
                if resolve_kind(plural).kind in ("StatefulSet", "Deployment"):
                    self.wait_ready(f"{resolve_kind(plural).kind.lower()}/{o['metadata']['name']}", timeout=timeout)
        self._cleaned = [(p, o) for p, o in self._cleaned if (p, o["metadata"].get("name")) not in
                         {(q, x["metadata"].get("name")) for q, x in todo}]
        self._notify_panels("restored")
        result.lang, result.colors = self.lang, self.colors
        return result

    def cleaned(self) -> "pd.DataFrame":
        """What the last cleanup deleted and :meth:`restore` would bring back: ``kind, name``."""
        import pandas as pd
        return pd.DataFrame([{"kind": resolve_kind(p).kind, "name": o["metadata"].get("name")} for p, o in self._cleaned],
                            columns=["kind", "name"])
