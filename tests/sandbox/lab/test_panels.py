"""Panels driven headlessly, as a reader drives them: set .value, call .click(), read what they show."""

from __future__ import annotations

import ipywidgets as widgets

import stsnb
from stsnb.errors import ConditionFailed, NotFound
from stsnb.panels import Dashboard, IdentityTable, ImagePanel, ScalePanel


def _html(output: widgets.Output) -> str:
    return "".join(o.get("data", {}).get("text/html", "") for o in output.outputs)


def test_the_scale_panel_scales_and_its_final_table_is_in_the_widget_state(lab):
    lab.apply("nginx-stateful", wait=True)
    panel = ScalePanel(lab, "nginx-stateful")
    assert isinstance(panel, widgets.VBox)
    assert panel.slider.value == 3 and panel.slider.description == "replicas"
    panel.slider.value = 5
    panel.apply_button.click()
    assert panel.last_error is None, panel.error.value
    assert str(panel.result) == "statefulset.apps/nginx-stateful scaled"
    assert panel.identity.frame["name"].tolist() == [f"nginx-stateful-{i}" for i in range(5)]
    assert panel.identity.frame["ready"].all()
    state = panel.identity.output.get_state()
    html = "".join(o["data"]["text/html"] for o in state["outputs"])
    assert "nginx-stateful-4" in html
    assert "5" in panel.status.value


def test_the_image_panel_follows_the_rollout_and_draws_its_timeline(lab):
    lab.apply("nginx-stateful", wait=True)
    panel = ImagePanel(lab, "nginx-stateful", tags=["nginx", "nginx:1.21.1", "nginx:does-not-exist"])
    assert panel.dropdown.value == "nginx"
    panel.dropdown.value = "nginx:1.21.1"
    panel.update_button.click()
    assert panel.last_error is None, panel.error.value
    assert (panel.progress.value, panel.progress.max, panel.progress.bar_style) == (3, 3, "success")
    assert set(panel.identity.frame["revision"]) == {"nginx-stateful-6c7d474cc"}
    assert panel.recording.order("updated") == [2, 1, 0]
    assert "image/png" in panel.timeline.outputs[0]["data"]


def test_a_broken_image_shows_its_error_inside_the_panel(lab):
    lab.apply("nginx-stateful", wait=True)
    panel = ImagePanel(lab, "nginx-stateful", tags=["nginx", "nginx:does-not-exist"])
    panel.dropdown.value = "nginx:does-not-exist"
    panel.update_button.click()  # no exception escapes the callback
    assert isinstance(panel.last_error, ConditionFailed)
    assert "nginx-stateful-2" in panel.error.value and "stsnb-error" in panel.error.value
    assert panel.progress.bar_style == "danger"
    assert "nginx-stateful-2" in _html(panel.identity.output)


def test_a_panel_for_a_missing_statefulset_shows_the_error_instead_of_raising(lab):
    panel = ScalePanel(lab, "nope")
    assert isinstance(panel.last_error, NotFound)
    assert "nope" in panel.error.value
    panel.apply_button.click()
    assert isinstance(panel.last_error, NotFound)


def test_the_identity_table_refreshes_on_click(lab):
    table = IdentityTable(lab, "app=nginx-stateful")
    assert table.frame.empty
    lab.apply("nginx-stateful", wait=True)
    table.refresh_button.click()
    assert table.frame["ordinal"].tolist() == [0, 1, 2]
    assert list(table.frame.columns) == ["name", "ordinal", "hostname", "pod_name_label", "ready", "status", "ip",
                                         "node", "revision", "image"]
    assert table.frame["name"].tolist() == table.frame["hostname"].tolist() == table.frame["pod_name_label"].tolist()


def test_the_dashboard_combines_the_panels_in_korean(sandbox, lab):
    lab.apply("nginx-stateful", wait=True)
    ko = stsnb.connect(sandbox=sandbox, namespace=lab.namespace, lang="ko", env={})
    board = Dashboard(ko, "nginx-stateful", tags=["nginx", "nginx:1.21.1"])
    assert board.scale.slider.description == "레플리카"
    assert board.scale.apply_button.description == "적용"
    assert board.image.update_button.description == "이미지 업데이트"
    assert "서수" in _html(board.identity.output)
    board.scale.slider.value = 2
    board.scale.apply_button.click()
    assert board.identity.frame["name"].tolist() == ["nginx-stateful-0", "nginx-stateful-1"]
    board.image.dropdown.value = "nginx:1.21.1"
    board.image.update_button.click()
    assert board.errors == []
    assert board.image.progress.value == 2
    assert set(board.identity.frame["revision"]) == {"nginx-stateful-6c7d474cc"}
    assert "image/png" in board.timeline.outputs[0]["data"]
