"""Panels: small ipywidgets apps over a lab, drivable from a test.

Each panel is an ``ipywidgets.VBox`` subclass, so it displays by itself and its
state is saved with the notebook (what the docs site shows). Its controls are
attributes (``panel.slider``, ``panel.apply_button`` …): a test sets ``.value``
and calls ``.click()``, exactly what a reader does.

* :class:`ScalePanel` — replicas slider + apply; the identity table follows each pod event.
* :class:`ImagePanel` — a choice of image tags + update; progress bar, live table, timeline.
* :class:`IdentityTable` — the pods' names, ordinals, hostnames, pod-name labels, IPs, nodes and
  revisions; refreshes.
* :class:`Dashboard` — the three together, sharing one table and one timeline.

Rules they keep: no background threads — an action runs synchronously in the
click callback, and the table refreshes from the watch events the action's
wait already receives (so a live kernel sees it change); outputs are set on the
``Output`` widget's ``outputs`` trait directly, so the final table is part of the
widget state even without a kernel; errors are caught and shown inside the
panel (``panel.error``, ``panel.last_error``), never lost as a traceback in a log,
and an interrupted action (Kernel → Interrupt) leaves the panel usable, saying so.
Every text put into HTML is escaped. Labels come from :mod:`stsnb._labels` in the lab's ``lang``.

A panel's object may go away under it: a later step deletes it, or the notebook's last
step cleans up on a real cluster (:meth:`stsnb.lab.Lab.finish`). The panel then says which,
and its "Bring it back" button (:meth:`stsnb.lab.Lab.restore`) creates the object again.
"""

from __future__ import annotations

import base64
import html
import traceback
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

import ipywidgets as widgets

from . import _labels
from . import tables as _tables
from .errors import NotFound, StsnbError
from .k8s.pods import pod_owner, pod_ready, pod_revision
from .plots import png

if TYPE_CHECKING:
    import pandas as pd

    from .lab import ActionResult, Lab
    from .watching import Progress, View

__all__ = ["ScalePanel", "ImagePanel", "IdentityTable", "Dashboard", "show_frame", "show_figure"]

#: The identity table's columns.
IDENTITY_COLUMNS = _tables.IDENTITY_COLUMNS

_AUTO = {"width": "auto"}


def _bundle_frame(df: "pd.DataFrame", lang: str, colors: Any = None) -> dict:
    shown = _tables.translate(df, lang)
    return {"output_type": "display_data", "metadata": {},
            "data": {"text/plain": shown.to_string(index=False), "text/html": _tables.to_html(df, lang, colors)}}


def show_frame(output: widgets.Output, df: "pd.DataFrame", lang: str = "en", colors: Any = None) -> None:
    """Put a table into an ``Output`` widget's state (works with or without a kernel); every cell escaped."""
    output.outputs = (_bundle_frame(df, lang, colors),)


def show_text(output: widgets.Output, text: str) -> None:
    output.outputs = ({"output_type": "stream", "name": "stdout", "text": text if text.endswith("\n") else text + "\n"},)


def show_figure(output: widgets.Output, fig: Any) -> None:
    """Put a matplotlib figure into an ``Output`` widget's state as a PNG."""
    output.outputs = ({"output_type": "display_data", "metadata": {},
                       "data": {"image/png": base64.b64encode(png(fig, dpi=90)).decode("ascii"),
                                "text/plain": "<timeline figure>"}},)


def _error_html(e: BaseException, lang: str) -> str:
    if isinstance(e, StsnbError):
        msg, hint = e.message, e.hint
    else:
        msg, hint = f"{type(e).__name__}: {e}", "this is unexpected; the details are in panel.last_traceback"
    body = f"<b>{html.escape(_labels.text('error', lang))}:</b> {html.escape(msg)}"
    if hint:
        body += f"<br><span style='color:#374151'>→ {html.escape(hint)}</span>"
    return ("<div class='stsnb-error' style='border-left:4px solid #b91c1c;background:#fef2f2;padding:6px 10px;"
            f"margin:4px 0;color:#7f1d1d;white-space:pre-wrap'>{body}</div>")


def _note_html(text: str) -> str:
    return ("<div class='stsnb-note' style='border-left:4px solid #2563eb;background:#eff6ff;padding:6px 10px;"
            f"margin:4px 0;color:#1e3a8a;white-space:pre-wrap'>{html.escape(text)}</div>")


def _target(name: str) -> tuple:
    from .kube import parse_target
    return parse_target(name)


class _Panel(widgets.VBox):
    """Shared plumbing: status line, error box, running an action safely, a missing object explained."""

    #: The panel's object (``statefulset/NAME``), or None for a panel over a selector.
    name: str | None = None

    def __init__(self, lab: "Lab", *, lang: str | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.lab = lab
        self.lang = lang or lab.lang
        self.status = widgets.HTML(value=html.escape(_labels.text("idle", self.lang)))
        self.error = widgets.HTML(value="")
        self.restore_button = widgets.Button(description=_labels.text("bring_back", self.lang), icon="undo",
                                             button_style="info", layout=widgets.Layout(width="auto", display="none", align_self="flex-start"))
        self.restore_button.on_click(lambda _b: self.bring_back())
        self.last_error: BaseException | None = None
        self.last_traceback: str | None = None
        self.result: "ActionResult | None" = None
        self._listeners: list[Callable[[], None]] = []
        self._seen_uid: str | None = None
        self._buttons: list[widgets.Button] = []
        registry = getattr(lab, "_panels", None)
        if registry is not None:
            registry.add(self)

    def on_done(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` after each action (the dashboard refreshes its shared views)."""
        self._listeners.append(fn)

    # ---- the panel's object
    def _find(self) -> dict | None:
        if not self.name:
            return None
        obj = self.lab.kube.find(*_target(self.name))
        if obj is not None:
            self._seen_uid = obj["metadata"].get("uid")
        return obj

    def _missing(self) -> NotFound:
        """Why the panel's object is not there, and what to do: the reader sees this, not a bare 404."""
        kind, obj_name = _target(self.name)
        from .kube import ref
        cleaned = {(p, o["metadata"].get("name")) for p, o in getattr(self.lab, "_cleaned", [])}
        if (kind.plural, obj_name) in cleaned:
            why = _labels.text("missing_cleaned", self.lang)
        elif self._seen_uid or (kind.plural, obj_name) in getattr(self.lab, "_applied", {}):
            why = _labels.text("missing_deleted", self.lang)
        else:
            why = _labels.text("missing_never", self.lang)
        restorable = bool(getattr(self.lab, "restorable", lambda _t: [])(self.name))
        hint = (_labels.text("bring_back_hint", self.lang, button=_labels.text("bring_back", self.lang)) if restorable
                else f"lab.apply({obj_name!r})")
        self.restore_button.layout.display = None if restorable else "none"
        return NotFound(_labels.text("missing", self.lang, ref=ref(kind, obj_name), why=why), hint=hint)

    def _require(self) -> dict:
        obj = self._find()
        if obj is None:
            raise self._missing()
        self.restore_button.layout.display = "none"
        return obj

    def lab_changed(self, event: str) -> None:
        """Called by the lab when its cleanup deleted objects (``"cleaned"``) or restore made them again."""
        if not self.name:
            if event in ("cleaned", "restored"):
                self._safely(self.refresh_view)
            return
        if event == "cleaned" and self._find() is None:
            self._show_error(self._missing())
            self.status.value = html.escape(_labels.text("error", self.lang))
        elif event == "restored" and self._find() is not None:
            self.error.value = ""
            self.last_error = None
            self.restore_button.layout.display = "none"
            self._safely(self.refresh_view)

    def refresh_view(self) -> None:
        """Bring the panel's own controls and texts in line with the cluster (no action)."""

    def bring_back(self) -> "ActionResult | None":
        """Create the panel's object again (:meth:`stsnb.lab.Lab.restore`) and show it."""
        def act() -> "ActionResult":
            result = self.lab.restore(self.name)
            self.restore_button.layout.display = "none"
            self.refresh_view()
            return result
        out = self._run(act, require=False)
        if out is not None:
            self.status.value = html.escape(_labels.text("brought_back", self.lang, refs=", ".join(out.lines)))
        return out

    # ---- running an action
    def _show_error(self, e: BaseException) -> None:
        self.last_error = e
        self.error.value = _error_html(e, self.lang)

    def _safely(self, fn: Callable[[], Any]) -> None:
        try:
            fn()
        except StsnbError as e:
            self._show_error(e)

    def _run(self, action: Callable[[], Any], *, require: bool = True) -> Any:
        self.error.value = ""
        self.last_error = None
        self.last_traceback = None
        self.status.value = html.escape(_labels.text("working", self.lang))
        for b in self._buttons:
            b.disabled = True
        try:
            if require and self.name:
                self._require()
            out = action()
        except KeyboardInterrupt:  # Kernel → Interrupt: the cluster goes on, the panel stays usable
            self.status.value = html.escape(_labels.text("interrupted", self.lang))
            out = None
        except Exception as e:  # noqa: BLE001 - shown in the panel, never lost
            self.last_traceback = traceback.format_exc()
            self._show_error(e)
            self.status.value = html.escape(_labels.text("error", self.lang))
            out = None
        else:
            self.status.value = html.escape(_labels.text("done", self.lang))
        finally:
            for b in self._buttons:
                b.disabled = False
        for fn in self._listeners:
            try:
                fn()
            except Exception as e:  # noqa: BLE001
                if self.last_error is None:
                    self._show_error(e)
        return out

    def _live_status(self, view: "View", obj_name: str) -> None:
        """The status line while an action waits: Ready pods and what the controller waits for."""
        from .watching import owned_pods, statefulset_reason
        sts = view.get("statefulsets", obj_name)
        if sts is None:
            return
        pods = owned_pods(view.items("pods"), "StatefulSet", obj_name, sts["metadata"].get("uid"))
        replicas = int((sts.get("spec") or {}).get("replicas", 1))
        ready = sum(1 for p in pods if pod_ready(p) and not p["metadata"].get("deletionTimestamp"))
        reason = statefulset_reason(sts, pods)
        if reason and reason != "steady":
            text = _labels.text("live_reason", self.lang, ready=ready, replicas=replicas,
                                reason=_labels.reason(reason, self.lang))
        else:
            text = _labels.text("live", self.lang, ready=ready, replicas=replicas)
        self.status.value = html.escape(text)


class IdentityTable(_Panel):
    """The pods' identities (name, ordinal, hostname, pod-name label, Ready, status, IP, node, revision, image).

    For a StatefulSet's pod, name, hostname and ``statefulset.kubernetes.io/pod-name`` label are the
    same string. ``table.frame`` is the last DataFrame shown; ``table.output`` the ``Output`` that shows it.
    """

    def __init__(self, lab: "Lab", selector: str | None = None, *, lang: str | None = None) -> None:
        super().__init__(lab, lang=lang)
        self.selector = selector
        self.output = widgets.Output()
        self.refresh_button = widgets.Button(description=_labels.text("refresh", self.lang), icon="refresh",
                                             layout=widgets.Layout(**_AUTO))
        self.refresh_button.on_click(lambda _b: self._run(self.refresh))
        self._buttons = [self.refresh_button]
        self.frame: "pd.DataFrame | None" = None
        self.children = [widgets.HTML(f"<b>{html.escape(_labels.text('identity_title', self.lang))}</b>"),
                         self.output, widgets.HBox([self.refresh_button, self.status]), self.error]
        self._run(self.refresh)

    def refresh(self) -> "pd.DataFrame":
        """Read the pods again and show them."""
        items = self.lab.kube.list("pods", label_selector=self.selector)
        self.show_pods(items)
        return self.frame

    refresh_view = refresh

    def show_pods(self, pods: Iterable[dict]) -> None:
        """Show pods already at hand (from a watch), without another request."""
        self.show(_tables.identities(pods))

    def show(self, df: "pd.DataFrame") -> None:
        if list(df.columns) != IDENTITY_COLUMNS:
            df = df.reindex(columns=IDENTITY_COLUMNS)
        self.frame = df.reset_index(drop=True)
        show_frame(self.output, self.frame, self.lang, getattr(self.lab, "colors", None))


def _selector_of(lab: "Lab", name: str) -> str:
    from .k8s.selectors import label_selector_string as _selector_string
    kind, obj_name = _target(name)
    obj = lab.kube.find(kind, obj_name)
    if obj is None:
        return f"app={obj_name}"
    return _selector_string((obj.get("spec") or {}).get("selector")) or f"app={obj_name}"


def _live_pods(view: "View", name: str) -> list[dict]:
    return [p for p in view.items("pods") if (pod_owner(p) or {}).get("name") == name
            or (pod_owner(p) or {}).get("kind") == "ReplicaSet"]


class ScalePanel(_Panel):
    """Scale a StatefulSet: a replicas slider and an apply button; the pod table follows the scaling live.

    Drive it like a reader: ``panel.slider.value = 5; panel.apply_button.click()``.
    """

    def __init__(self, lab: "Lab", name: str = "nginx-stateful", *, max_replicas: int = 6, lang: str | None = None,
                 identity: IdentityTable | None = None) -> None:
        super().__init__(lab, lang=lang)
        self.name = name
        self._obj_name = _target(name)[1]
        current = 0
        try:
            obj = self._find()
            if obj is None:
                raise self._missing()
            current = int((obj.get("spec") or {}).get("replicas", 0))
        except StsnbError as e:
            self._show_error(e)
        self.slider = widgets.IntSlider(value=min(current, max_replicas), min=0, max=max_replicas,
                                        description=_labels.text("replicas", self.lang), continuous_update=False,
                                        style={"description_width": "initial"})
        self.apply_button = widgets.Button(description=_labels.text("apply", self.lang), button_style="primary",
                                           layout=widgets.Layout(**_AUTO))
        self.apply_button.on_click(lambda _b: self.apply())
        self._buttons = [self.apply_button, self.restore_button]
        self.identity = identity or IdentityTable(lab, _selector_of(lab, name), lang=self.lang)
        own_table = identity is None
        self.children = [widgets.HTML(f"<b>{html.escape(_labels.text('scale_title', self.lang, name=self._obj_name))}</b>"),
                         widgets.HBox([self.slider, self.apply_button]), self.status, self.error, self.restore_button,
                         *([self.identity] if own_table else [])]

    def _progress(self, view: "View", prog: "Progress") -> None:
        self._live_status(view, self._obj_name)
        self.identity.show_pods(_live_pods(view, self._obj_name))

    def refresh_view(self) -> None:
        obj = self._find()
        if obj is not None:
            replicas = int((obj.get("spec") or {}).get("replicas", 0))
            self.slider.value = min(replicas, self.slider.max)
            self.status.value = html.escape(_labels.text("scaled", self.lang, name=self._obj_name, replicas=replicas))
        self.identity.refresh()

    def apply(self) -> "ActionResult | None":
        """Scale to ``slider.value`` and wait; the final table ends in the identity table's Output."""
        replicas = self.slider.value

        def act() -> "ActionResult":
            self.result = self.lab.scale(self.name, replicas, on_change=self._progress)
            self.identity.refresh()
            return self.result
        out = self._run(act)
        if out is not None:
            self.status.value = html.escape(_labels.text("scaled", self.lang, name=self._obj_name, replicas=replicas))
        return out


class ImagePanel(_Panel):
    """Update the image of a StatefulSet from a list of tags; progress, live table and timeline.

    Drive it like a reader: ``panel.dropdown.value = "nginx:1.21.1"; panel.update_button.click()``.
    A tag that cannot be pulled ends the rollout early, and the error shows in the panel.
    """

    def __init__(self, lab: "Lab", name: str = "nginx-stateful", tags: Sequence[str] = ("nginx", "nginx:1.21.1"), *,
                 container: str | None = None, lang: str | None = None, identity: IdentityTable | None = None,
                 timeline: widgets.Output | None = None) -> None:
        super().__init__(lab, lang=lang)
        self.name, self._obj_name = name, _target(name)[1]
        replicas, current_image = 1, None
        self.container = container
        try:
            obj = self._find()
            if obj is None:
                raise self._missing()
            replicas = int(obj["spec"].get("replicas", 1))
            self.container, current_image = self._container_image(obj)
        except StsnbError as e:
            self._show_error(e)
        options = list(tags)
        if current_image and current_image not in options:
            options.insert(0, current_image)
        self.dropdown = widgets.Dropdown(options=options, value=current_image if current_image in options else
                                         (options[0] if options else None),
                                         description=_labels.text("image", self.lang),
                                         style={"description_width": "initial"})
        self.update_button = widgets.Button(description=_labels.text("update", self.lang), button_style="warning",
                                            layout=widgets.Layout(**_AUTO))
        self.update_button.on_click(lambda _b: self.update())
        self._buttons = [self.update_button, self.restore_button]
        self.progress = widgets.IntProgress(value=0, min=0, max=max(1, replicas), bar_style="info")
        self.progress_text = widgets.HTML("")
        self.identity = identity or IdentityTable(lab, _selector_of(lab, name), lang=self.lang)
        self.timeline = timeline if timeline is not None else widgets.Output()
        if timeline is None:  # until the first update, say what will appear (a static page shows this too)
            show_text(self.timeline, _labels.text("timeline_hint", self.lang))
        self.recording = None
        own = identity is None
        self.children = [widgets.HTML(f"<b>{html.escape(_labels.text('image_title', self.lang, name=self._obj_name))}</b>"),
                         widgets.HBox([self.dropdown, self.update_button]),
                         widgets.HBox([self.progress, self.progress_text]), self.status, self.error,
                         self.restore_button, *([self.identity, self.timeline] if own else [])]

    def _container_image(self, obj: dict) -> tuple[str, str | None]:
        ctrs = obj["spec"]["template"]["spec"]["containers"]
        c = next((x for x in ctrs if x["name"] == self.container), ctrs[0]) if self.container else ctrs[0]
        return c["name"], c.get("image")

    def _progress(self, view: "View", prog: "Progress") -> None:
        sts = view.get("statefulsets", self._obj_name)
        pods = _live_pods(view, self._obj_name)
        if sts is not None:
            self._show_progress(sts, pods)
        self._live_status(view, self._obj_name)
        self.identity.show_pods(pods)

    def _show_progress(self, sts: dict, pods: list[dict]) -> None:
        replicas = int((sts.get("spec") or {}).get("replicas", 1))
        update = (sts.get("status") or {}).get("updateRevision")
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        updated = sum(1 for p in live if pod_revision(p) == update and pod_ready(p))
        ready = sum(1 for p in live if pod_ready(p))
        self.progress.max = max(1, replicas)
        self.progress.value = min(updated, self.progress.max)
        self.progress_text.value = html.escape(_labels.text("progress", self.lang, updated=updated,
                                                            replicas=replicas, ready=ready))

    def refresh_view(self) -> None:
        """Progress bar, texts and chosen image as the cluster has them now (after another panel acted)."""
        obj = self._find()
        if obj is None:
            return
        from .k8s.selectors import label_selector_string
        pods = [p for p in self.lab.kube.list("pods", label_selector=label_selector_string(obj["spec"]["selector"]))
                if (pod_owner(p) or {}).get("uid") == obj["metadata"]["uid"]]
        self._show_progress(obj, pods)
        self.progress.bar_style = "success" if self.progress.value >= int(obj["spec"].get("replicas", 1)) else "info"
        _, image = self._container_image(obj)  # the reader's choice in the dropdown is left as it is
        self.status.value = html.escape(_labels.text("image_now", self.lang, name=self._obj_name, image=image))

    def update(self) -> "ActionResult | None":
        """Set the chosen image and follow the rollout; the timeline of what happened is drawn below."""
        image = self.dropdown.value
        self.progress.bar_style = "info"

        def act() -> "ActionResult":
            rec = self.lab.record(self.name)
            rec.start()
            try:
                self.result = self.lab.set_image(self.name, on_change=self._progress, **{self.container: image})
            finally:
                rec.stop()
                self.recording = rec
                if rec.rows:
                    show_figure(self.timeline, rec.plot(lang=self.lang))
                self.identity.refresh()
            return self.result
        out = self._run(act)
        self.progress.bar_style = "success" if out is not None else "danger"
        if out is not None:
            self.progress.value = self.progress.max
        return out


class Dashboard(_Panel):
    """Scale and image panels over one StatefulSet, sharing one identity table and one timeline.

    After either panel acts, the other is brought in line with the cluster: the slider shows the
    replicas (unless the reader moved it meanwhile), the image panel's texts the current state, and
    an error left by the other panel is cleared once an action succeeded.
    """

    def __init__(self, lab: "Lab", name: str = "nginx-stateful", tags: Sequence[str] = ("nginx", "nginx:1.21.1"), *,
                 max_replicas: int = 6, lang: str | None = None) -> None:
        super().__init__(lab, lang=lang)
        self.name = name
        self.identity = IdentityTable(lab, _selector_of(lab, name), lang=self.lang)
        self.timeline = widgets.Output()
        show_text(self.timeline, _labels.text("timeline_hint", self.lang))
        self.scale = ScalePanel(lab, name, max_replicas=max_replicas, lang=self.lang, identity=self.identity)
        self.image = ImagePanel(lab, name, tags, lang=self.lang, identity=self.identity, timeline=self.timeline)
        self._slider_synced = self.scale.slider.value
        self.scale.on_done(lambda: self._sync(self.scale))
        self.image.on_done(lambda: self._sync(self.image))
        self.children = [widgets.HTML("<h4 style='margin:4px 0'>" + html.escape(
            _labels.text("dashboard_title", self.lang, name=_target(name)[1])) + "</h4>"),
                         widgets.HBox([self.scale, self.image]), self.identity, self.timeline]

    def lab_changed(self, event: str) -> None:
        """The sub-panels are told by the lab themselves; the board has nothing of its own to show."""

    def _sync(self, source: _Panel) -> None:
        other = self.image if source is self.scale else self.scale
        try:
            obj = self.lab.kube.find(*_target(self.name))
        except StsnbError:
            return
        if obj is None:
            return
        replicas = int(obj["spec"].get("replicas", 0))
        user_moved = self.scale.slider.value != self._slider_synced and source is not self.scale
        if not user_moved and replicas <= self.scale.slider.max:
            self.scale.slider.value = replicas
        self._slider_synced = self.scale.slider.value
        if source.last_error is None and other.last_error is not None:
            other.error.value = ""
            other.last_error = None
        if source is self.scale:
            self.image._safely(self.image.refresh_view)
        elif source.last_error is None:
            self.scale.status.value = html.escape(_labels.text("scaled", self.lang, name=self.scale._obj_name,
                                                               replicas=replicas))

    @property
    def errors(self) -> list[BaseException]:
        return [e for e in (self.scale.last_error, self.image.last_error, self.identity.last_error) if e]
