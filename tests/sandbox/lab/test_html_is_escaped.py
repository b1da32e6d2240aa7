"""Every piece of HTML the lab emits is escaped: an image named like a tag shows as text, never as a tag.

The sandbox accepts the image ``<img src=x onerror=alert(1)>`` (Kubernetes only validates that an image
is not empty); the lab then puts it into tables, panels, timelines and results. Each of those HTML
fragments must carry it escaped.
"""

from __future__ import annotations

import time

import ipywidgets as widgets
import pytest

from stsnb import manifests
from stsnb.panels import Dashboard, ImagePanel

EVIL = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"


def _widget_html(w: widgets.Widget) -> str:
    """Every HTML string a widget tree holds: HTML widgets' values and Output widgets' captured HTML."""
    out = []
    todo = [w]
    while todo:
        x = todo.pop()
        if isinstance(x, widgets.HTML):
            out.append(x.value)
        if isinstance(x, widgets.Output):
            out += [o.get("data", {}).get("text/html", "") for o in x.outputs]
        todo += list(getattr(x, "children", ()) or ())
    return "\n".join(out)


@pytest.fixture()
def evil(lab):
    """A StatefulSet whose image is named like an HTML tag, with its pods (stuck pulling it)."""
    sts = manifests.statefulset("evil", replicas=1, image=EVIL)
    lab.apply(sts)
    deadline = time.monotonic() + 30
    while len(lab.pods(selector="app=evil")) < 1 and time.monotonic() < deadline:  # the controller's pod
        time.sleep(0.05)
    return lab


def _assert_escaped(html: str, where: str) -> None:
    assert EVIL not in html, f"{where} emits the image name as raw HTML"
    assert ESCAPED in html, f"{where} does not show the image name at all"


def test_tables_escape_every_cell(evil):
    lab = evil
    _assert_escaped(lab.style(lab.pods(selector="app=evil")).to_html(), "lab.style(lab.pods())")
    _assert_escaped(lab.style(lab.revisions("evil")).to_html(), "lab.style(lab.revisions())")
    _assert_escaped(lab.pods(selector="app=evil")._repr_html_(), "a bare DataFrame")


def test_panels_escape_the_image_in_their_tables_and_texts(evil):
    lab = evil
    panel = ImagePanel(lab, "evil", tags=["nginx"])
    _assert_escaped(_widget_html(panel), "the image panel")
    panel.refresh_view()
    _assert_escaped(panel.status.value, "the image panel's status line")
    board = Dashboard(lab, "evil")
    assert EVIL not in _widget_html(board)


def test_results_and_timelines_escape_what_they_show(evil):
    lab = evil
    with lab.record("evil") as rec:
        result = lab.try_(lambda: lab.set_image("evil", nginx=EVIL + "2", timeout=10))
    assert EVIL not in result._repr_html_()
    html = rec._repr_html_()
    assert "<table" in html and EVIL not in html
    text = lab.kubectl_get("statefulsets", wide=True)
    _assert_escaped(text._repr_html_(), "lab.kubectl_get(..., wide=True)")
