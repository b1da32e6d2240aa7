"""Panels: small ipywidgets apps over a lab, drivable from a test.

Each panel is an ``ipywidgets.VBox`` subclass, so it displays by itself and its
state is saved with the notebook (what the docs site shows). Its controls are
attributes (``panel.slider``, ``panel.apply_button`` …): a test sets ``.value``
and calls ``.click()``, exactly what a reader does.

* :class:`ScalePanel` — replicas slider + apply; the identity table follows each pod event.
* :class:`ImagePanel` — a choice of image tags + update; progress bar, live table, timeline.
* :class:`IdentityTable` — the pods' names, ordinals, IPs, nodes and revisions; refreshes.
* :class:`Dashboard` — the three together, sharing one table and one timeline.

Rules they keep: no background threads — an action runs synchronously in the
click callback, and the table refreshes from the watch events the action's
wait already receives (so a live kernel sees it change); outputs are set on the
``Output`` widget's ``outputs`` trait directly, so the final table is part of the
widget state even without a kernel; errors are caught and shown inside the
panel (``panel.error``, ``panel.last_error``), never lost as a traceback in a log.
Labels come from :mod:`stsnb._labels` in the lab's ``lang``.
"""

from __future__ import annotations

import base64
import html
import io
import traceback
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

import ipywidgets as widgets

from . import _labels
from . import tables as _tables
from .errors import StsnbError
from .k8s.pods import pod_owner, pod_ready, pod_revision

if TYPE_CHECKING:
    import pandas as pd

    from .lab import ActionResult, Lab
    from .watching import Progress, View

__all__ = ["ScalePanel", "ImagePanel", "IdentityTable", "Dashboard", "show_frame", "show_figure"]

#: The identity table's columns (a subset of :data:`stsnb.tables.POD_COLUMNS`).
IDENTITY_COLUMNS = ["name", "ordinal", "ready", "status", "ip", "node", "revision", "image"]


def _bundle_frame(df: "pd.DataFrame", lang: str) -> dict:
    shown = _tables.translate(df, lang)
    try:
        rich = _tables.style(df, lang).to_html()
    except Exception:  # noqa: BLE001 - styling is optional decoration
        rich = shown.to_html(index=False)
    return {"output_type": "display_data", "metadata": {},
            "data": {"text/plain": shown.to_string(index=False), "text/html": rich}}


def show_frame(output: widgets.Output, df: "pd.DataFrame", lang: str = "en") -> None:
    """Put a table into an ``Output`` widget's state (works with or without a kernel)."""
    output.outputs = (_bundle_frame(df, lang),)


def show_text(output: widgets.Output, text: str) -> None:
    output.outputs = ({"output_type": "stream", "name": "stdout", "text": text if text.endswith("\n") else text + "\n"},)


def show_figure(output: widgets.Output, fig: Any) -> None:
    """Put a matplotlib figure into an ``Output`` widget's state as a PNG."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    output.outputs = ({"output_type": "display_data", "metadata": {},
                       "data": {"image/png": base64.b64encode(buf.getvalue()).decode("ascii"),
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


class _Panel(widgets.VBox):
    """Shared plumbing: status line, error box, running an action safely."""

    def __init__(self, lab: "Lab", *, lang: str | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.lab = lab
        self.lang = lang or lab.lang
        self.status = widgets.HTML(value=_labels.text("idle", self.lang))
        self.error = widgets.HTML(value="")
        self.last_error: BaseException | None = None
        self.last_traceback: str | None = None
        self.result: "ActionResult | None" = None
        self._listeners: list[Callable[[], None]] = []

    def on_done(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` after each action (the dashboard refreshes its shared views)."""
        self._listeners.append(fn)

    def _run(self, action: Callable[[], Any]) -> Any:
        self.error.value = ""
        self.last_error = None
        self.last_traceback = None
        self.status.value = _labels.text("working", self.lang)
        try:
            out = action()
        except Exception as e:  # noqa: BLE001 - shown in the panel, never lost
            self.last_error = e
            self.last_traceback = traceback.format_exc()
            self.error.value = _error_html(e, self.lang)
            self.status.value = _labels.text("error", self.lang)
            out = None
        else:
            self.status.value = _labels.text("done", self.lang)
        for fn in self._listeners:
            try:
                fn()
            except Exception as e:  # noqa: BLE001
                if self.last_error is None:
                    self.last_error = e
                    self.error.value = _error_html(e, self.lang)
        return out


class IdentityTable(_Panel):
    """The pods' identities (name, ordinal, Ready, status, IP, node, revision, image), refreshed on demand or live.

    ``table.frame`` is the last DataFrame shown; ``table.output`` the ``Output`` that shows it.
    """

    def __init__(self, lab: "Lab", selector: str | None = None, *, lang: str | None = None) -> None:
        super().__init__(lab, lang=lang)
        self.selector = selector
        self.output = widgets.Output()
        self.refresh_button = widgets.Button(description=_labels.text("refresh", self.lang), icon="refresh")
        self.refresh_button.on_click(lambda _b: self._run(self.refresh))
        self.frame: "pd.DataFrame | None" = None
        self.children = [widgets.HTML(f"<b>{html.escape(_labels.text('identity_title', self.lang))}</b>"),
                         self.output, widgets.HBox([self.refresh_button, self.status]), self.error]
        self._run(self.refresh)

    def refresh(self) -> "pd.DataFrame":
        """Read the pods again and show them."""
        df = self.lab.pods(self.selector)
        self.show(df)
        return df

    def show_pods(self, pods: Iterable[dict]) -> None:
        """Show pods already at hand (from a watch), without another request."""
        self.show(_tables.pods(pods))

    def show(self, df: "pd.DataFrame") -> None:
        self.frame = df[IDENTITY_COLUMNS].reset_index(drop=True)
        show_frame(self.output, self.frame, self.lang)


def _selector_of(lab: "Lab", name: str) -> str:
    from .kube import parse_target
    from .k8s.selectors import label_selector_string as _selector_string
    kind, obj_name = parse_target(name)
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
        from .kube import parse_target
        kind, obj_name = parse_target(name)
        self._obj_name = obj_name
        current = 0
        try:
            current = int((lab.kube.get(kind, obj_name).get("spec") or {}).get("replicas", 0))
        except StsnbError as e:
            self.last_error = e
            self.error.value = _error_html(e, self.lang)
        self.slider = widgets.IntSlider(value=min(current, max_replicas), min=0, max=max_replicas,
                                        description=_labels.text("replicas", self.lang), continuous_update=False)
        self.apply_button = widgets.Button(description=_labels.text("apply", self.lang), button_style="primary")
        self.apply_button.on_click(lambda _b: self.apply())
        self.identity = identity or IdentityTable(lab, _selector_of(lab, name), lang=self.lang)
        own_table = identity is None
        self.children = [widgets.HTML(f"<b>{html.escape(_labels.text('scale_title', self.lang, name=obj_name))}</b>"),
                         widgets.HBox([self.slider, self.apply_button]), self.status, self.error,
                         *([self.identity] if own_table else [])]

    def _progress(self, view: "View", prog: "Progress") -> None:
        self.status.value = html.escape(prog.state)
        self.identity.show_pods(_live_pods(view, self._obj_name))

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
        from .kube import parse_target
        kind, obj_name = parse_target(name)
        self.name, self._obj_name = name, obj_name
        replicas, current_image = 1, None
        self.container = container
        try:
            obj = lab.kube.get(kind, obj_name)
            replicas = int(obj["spec"].get("replicas", 1))
            ctrs = obj["spec"]["template"]["spec"]["containers"]
            c = next((x for x in ctrs if x["name"] == container), ctrs[0]) if container else ctrs[0]
            self.container, current_image = c["name"], c.get("image")
        except StsnbError as e:
            self.last_error = e
            self.error.value = _error_html(e, self.lang)
        options = list(tags)
        if current_image and current_image not in options:
            options.insert(0, current_image)
        self.dropdown = widgets.Dropdown(options=options, value=current_image if current_image in options else
                                         (options[0] if options else None),
                                         description=_labels.text("image", self.lang))
        self.update_button = widgets.Button(description=_labels.text("update", self.lang), button_style="warning")
        self.update_button.on_click(lambda _b: self.update())
        self.progress = widgets.IntProgress(value=0, min=0, max=max(1, replicas), bar_style="info")
        self.progress_text = widgets.HTML("")
        self.identity = identity or IdentityTable(lab, _selector_of(lab, name), lang=self.lang)
        self.timeline = timeline if timeline is not None else widgets.Output()
        if timeline is None:  # until the first update, say what will appear (a static page shows this too)
            show_text(self.timeline, _labels.text("timeline_hint", self.lang))
        self.recording = None
        own = identity is None
        self.children = [widgets.HTML(f"<b>{html.escape(_labels.text('image_title', self.lang, name=obj_name))}</b>"),
                         widgets.HBox([self.dropdown, self.update_button]),
                         widgets.HBox([self.progress, self.progress_text]), self.status, self.error,
                         *([self.identity, self.timeline] if own else [])]

    def _progress(self, view: "View", prog: "Progress") -> None:
        sts = view.get("statefulsets", self._obj_name)
        pods = _live_pods(view, self._obj_name)
        if sts is not None:
            spec, st = sts.get("spec") or {}, sts.get("status") or {}
            replicas = int(spec.get("replicas", 1))
            update = st.get("updateRevision")
            updated = sum(1 for p in pods if pod_revision(p) == update and pod_ready(p)
                          and not p["metadata"].get("deletionTimestamp"))
            ready = sum(1 for p in pods if pod_ready(p))
            self.progress.max = max(1, replicas)
            self.progress.value = min(updated, self.progress.max)
            self.progress_text.value = html.escape(_labels.text("progress", self.lang, updated=updated,
                                                                replicas=replicas, ready=ready))
        self.status.value = html.escape(prog.state)
        self.identity.show_pods(pods)

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
    """Scale and image panels over one StatefulSet, sharing one identity table and one timeline."""

    def __init__(self, lab: "Lab", name: str = "nginx-stateful", tags: Sequence[str] = ("nginx", "nginx:1.21.1"), *,
                 max_replicas: int = 6, lang: str | None = None) -> None:
        super().__init__(lab, lang=lang)
        self.name = name
        self.identity = IdentityTable(lab, _selector_of(lab, name), lang=self.lang)
        self.timeline = widgets.Output()
        self.scale = ScalePanel(lab, name, max_replicas=max_replicas, lang=self.lang, identity=self.identity)
        self.image = ImagePanel(lab, name, tags, lang=self.lang, identity=self.identity, timeline=self.timeline)
        self.scale.on_done(self._sync)
        self.image.on_done(self._sync)
        from .kube import parse_target
        self.children = [widgets.HTML("<h4 style='margin:4px 0'>" + html.escape(
            _labels.text("dashboard_title", self.lang, name=parse_target(name)[1])) + "</h4>"),
                         widgets.HBox([self.scale, self.image]), self.identity, self.timeline]

    def _sync(self) -> None:
        try:
            obj = self.lab.kube.find(*_target(self.name))
            if obj is not None:
                replicas = int(obj["spec"].get("replicas", 0))
                if replicas <= self.scale.slider.max:
                    self.scale.slider.value = replicas
                self.image.progress.max = max(1, replicas)
        except StsnbError:
            pass

    @property
    def errors(self) -> list[BaseException]:
        return [e for e in (self.scale.last_error, self.image.last_error, self.identity.last_error) if e]


def _target(name: str) -> tuple:
    from .kube import parse_target
    return parse_target(name)
