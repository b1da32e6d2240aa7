"""Panels after Run All: the last step, objects that went away, interrupts, and two panels side by side.

A reader runs every cell and then uses the panels. On the sandbox the last step (``lab.finish()``)
leaves everything in place; on a real cluster it cleans up, the panels say so, and one click brings
the objects back. A panel whose object a later step deleted says that, not something about
``lab.reset()``. An interrupted action leaves the panel usable.
"""

from __future__ import annotations

import pytest

import stsnb
from stsnb.errors import NotFound
from stsnb.panels import Dashboard, ImagePanel, ScalePanel


def _kubeconfig_lab(sandbox, tmp_path, namespace: str):
    path = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
    return stsnb.connect(backend="kubeconfig", kubeconfig=str(path), namespace=namespace, timeout_s=60, env={})


def test_finish_on_the_sandbox_keeps_the_objects_and_the_panels_keep_working(lab):
    lab.apply("nginx-stateful", wait=True)
    board = Dashboard(lab, "nginx-stateful")
    result = lab.finish()
    assert "stays in place" in str(result) and "kernel stops" in str(result)
    assert lab.kube.find("statefulsets", "nginx-stateful") is not None
    board.scale.slider.value = 2
    board.scale.apply_button.click()
    assert board.errors == [], board.scale.error.value
    assert board.identity.frame["name"].tolist() == ["nginx-stateful-0", "nginx-stateful-1"]


def test_finish_on_a_real_cluster_cleans_up_tells_the_panels_and_one_click_brings_it_back(sandbox, tmp_path):
    lab = _kubeconfig_lab(sandbox, tmp_path, "finish-real")
    lab.apply("nginx-stateful", wait=True)
    board = Dashboard(lab, "nginx-stateful")
    result = lab.finish()
    assert lab.kube.find("statefulsets", "nginx-stateful") is None
    assert "StatefulSet" in result.frame["kind"].tolist() and "<table" in result._repr_html_()
    for panel in (board.scale, board.image):
        assert "the notebook&#x27;s clean-up step deleted it" in panel.error.value
        assert panel.restore_button.layout.display != "none", "the one-click way back is offered"
    assert board.identity.frame.empty
    board.scale.restore_button.click()
    assert board.scale.last_error is None, board.scale.error.value
    assert lab.kube.get("statefulsets", "nginx-stateful")["status"]["readyReplicas"] == 3
    assert board.image.error.value == "" and board.image.restore_button.layout.display == "none"
    assert board.identity.frame["name"].tolist() == [f"nginx-stateful-{i}" for i in range(3)]
    board.scale.slider.value = 1
    board.scale.apply_button.click()
    assert board.scale.last_error is None and lab.kube.get("statefulsets", "nginx-stateful")["spec"]["replicas"] == 1
    lab.cleanup()


def test_an_action_on_a_set_a_later_step_deleted_explains_it_and_offers_to_bring_it_back(lab):
    lab.apply("nginx-stateful", wait=True)
    panel = ScalePanel(lab, "nginx-stateful")
    lab.delete("statefulset/nginx-stateful")
    panel.slider.value = 2
    panel.apply_button.click()
    assert isinstance(panel.last_error, NotFound)
    assert "deleted after this panel was made" in panel.last_error.message
    assert "lab.reset()" not in panel.error.value
    assert panel.restore_button.layout.display != "none"
    panel.restore_button.click()
    assert panel.last_error is None, panel.error.value
    assert panel.slider.value == 3, "the slider shows the set as it came back"
    panel.slider.value = 2
    panel.apply_button.click()
    assert panel.last_error is None and lab.kube.get("statefulsets", "nginx-stateful")["spec"]["replicas"] == 2


def test_a_panel_for_a_set_never_created_says_so_and_offers_no_restore(lab):
    panel = ScalePanel(lab, "never-made")
    assert "has not been created yet" in panel.error.value
    assert panel.restore_button.layout.display == "none"
    assert "lab.apply(&#x27;never-made&#x27;)" in panel.error.value


def test_an_interrupted_action_leaves_the_panel_usable_and_says_so(lab, monkeypatch):
    lab.apply("nginx-stateful", wait=True)
    panel = ScalePanel(lab, "nginx-stateful")
    real_scale = lab.scale

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(lab, "scale", interrupted)
    panel.slider.value = 4
    panel.apply_button.click()  # Kernel → Interrupt during the wait
    assert "interrupted" in panel.status.value and "working" not in panel.status.value
    assert not panel.apply_button.disabled
    monkeypatch.setattr(lab, "scale", real_scale)
    panel.apply_button.click()
    assert panel.last_error is None and "4" in panel.status.value


def test_scaling_down_before_the_retention_policy_then_continuing_waits_only_for_claims_that_go(lab):
    """Notebook 05: the panel scales 5 → 3 (claims kept), then whenScaled: Delete, then the lesson goes on."""
    lab.apply("sc-nfs")
    lab.apply("nginx-stateful2", wait=True)
    lab.scale("nginx-stateful2", 5)
    panel = ScalePanel(lab, "nginx-stateful2")
    panel.slider.value = 3
    panel.apply_button.click()
    assert panel.last_error is None
    lab.patch("statefulset/nginx-stateful2", {"spec": {"persistentVolumeClaimRetentionPolicy": {"whenScaled": "Delete"}}})
    lab.scale("nginx-stateful2", 3, timeout=20)  # used to wait for claims 3 and 4, which never go
    lab.scale("nginx-stateful2", 2, timeout=20)  # claim 2's pod is condemned now: that claim does go
    claims = lab.pvcs(selector="app=nginx-stateful2")["claim"].tolist()
    assert claims == [f"nginx-stateful2-pvc-nginx-stateful2-{i}" for i in (0, 1, 3, 4)]


def test_a_slider_the_reader_moved_during_an_image_update_is_not_reset(lab, monkeypatch):
    lab.apply("nginx-stateful", wait=True)
    board = Dashboard(lab, "nginx-stateful")
    real_set_image = lab.set_image

    def moved_meanwhile(*args, **kwargs):
        board.scale.slider.value = 5  # the reader drags the slider while the rollout runs
        return real_set_image(*args, **kwargs)
    monkeypatch.setattr(lab, "set_image", moved_meanwhile)
    board.image.dropdown.value = "nginx:1.21.1"
    board.image.update_button.click()
    assert board.image.last_error is None
    assert board.scale.slider.value == 5


def test_texts_and_errors_follow_the_cluster_after_the_other_panel_acts(lab):
    lab.apply("nginx-stateful", wait=True)
    board = Dashboard(lab, "nginx-stateful", tags=["nginx", "nginx:1.21.1", "nginx:does-not-exist"])
    board.image.dropdown.value = "nginx:1.21.1"
    board.image.update_button.click()
    assert "3/3" in board.image.progress_text.value or "3개 중 3개" in board.image.progress_text.value
    board.scale.slider.value = 0
    board.scale.apply_button.click()
    assert board.scale.last_error is None
    assert board.image.progress_text.value == "updated 0/0 pods, 0 Ready", "no stale 'updated 3/3'"
    board.image.dropdown.value = "nginx:does-not-exist"
    board.scale.slider.value = 1
    board.scale.apply_button.click()
    board.image.update_button.click()
    assert board.image.last_error is not None and "stsnb-error" in board.image.error.value
    lab.rollback("nginx-stateful", wait=False)
    lab.delete_pod("nginx-stateful-0")
    board.scale.slider.value = 2
    board.scale.apply_button.click()
    assert board.scale.last_error is None, board.scale.error.value
    assert board.image.error.value == "", "the image panel's red error is gone once the set is healthy again"


@pytest.mark.parametrize("cls", [ScalePanel, ImagePanel])
def test_buttons_are_as_wide_as_their_labels(lab, cls):
    lab.apply("nginx-stateful", wait=True)
    ko = stsnb.connect(sandbox=lab.sandbox, namespace=lab.namespace, lang="ko", env={})
    panel = cls(ko, "nginx-stateful")
    button = panel.apply_button if cls is ScalePanel else panel.update_button
    assert button.layout.width == "auto", "a fixed width cut 'Update image' to 'Update…'"
