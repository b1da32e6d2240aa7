"""Timelines: what happened, recorded from watch events, as a DataFrame and as a figure."""

from __future__ import annotations

import io

from matplotlib.figure import Figure
from PIL import Image

from stsnb import manifests, plots

COLUMNS = ["time", "event", "pod", "ordinal", "phase", "status", "ready", "revision", "reason"]


def test_ordered_creation_is_recorded_as_0_then_1_then_2(lab):
    with lab.record("nginx-stateful") as rec:
        lab.apply("nginx-stateful", wait=True)
    df = rec.frame
    assert list(df.columns) == COLUMNS
    assert rec.order("created") == [0, 1, 2]
    assert rec.order("ready") == [0, 1, 2]
    assert df["time"].is_monotonic_increasing
    reasons = [r["reason"] for r in rec.reasons]
    assert "pod 0 not Ready yet" in reasons and "pod 1 not Ready yet" in reasons
    created_1 = df[(df["pod"] == "nginx-stateful-1") & (df["event"] == "ADDED")]["time"].iloc[0]
    ready_0 = df[(df["pod"] == "nginx-stateful-0") & df["ready"]]["time"].iloc[0]
    assert created_1 >= ready_0, "pod 1 is created only once pod 0 is Ready (OrderedReady)"


def test_a_rolling_update_is_recorded_from_the_highest_ordinal_down(lab):
    lab.apply("nginx-stateful", wait=True)
    result = lab.set_image("nginx-stateful", nginx="nginx:1.21.1", record=True)
    rec = result.recording
    assert rec.order("terminating") == [2, 1, 0]
    assert rec.order("updated") == [2, 1, 0]
    existing = rec.frame[rec.frame["event"] == "EXISTING"]
    assert existing["ordinal"].tolist() == [0, 1, 2] and set(existing["revision"]) == {"nginx-stateful-7db594cfbd"}
    last = rec.frame.groupby("pod").tail(1)
    assert set(last["revision"]) == {"nginx-stateful-6c7d474cc"} and last["ready"].all()
    assert {"updating pod 1", "updating pod 0"} <= {r["reason"] for r in rec.reasons}


def test_a_partitioned_update_stops_below_the_partition_and_says_so(lab):
    sts = manifests.statefulset("canary", partition=2)
    lab.apply(sts, wait=True)
    with lab.record("canary") as rec:
        lab.set_image("canary", nginx="nginx:1.21.1")
    assert rec.order("updated") == [2]
    assert rec.reasons[-1]["reason"] == "below partition 2: pods keep the old revision"
    revisions = lab.pods("app=canary")["revision"].tolist()
    assert revisions[0] == revisions[1] != revisions[2]


def test_the_plot_has_one_lane_per_ordinal_coloured_by_revision(lab):
    lab.apply("nginx-stateful", wait=True)
    with lab.record("nginx-stateful") as rec:
        lab.set_image("nginx-stateful", nginx="nginx:1.21.1")
    fig = rec.plot()
    assert isinstance(fig, Figure)
    lanes, controller = fig.axes
    assert [t.get_text() for t in lanes.get_yticklabels()] == ["nginx-stateful-2", "nginx-stateful-1",
                                                               "nginx-stateful-0"]
    legend = [t.get_text() for t in lanes.get_legend().get_texts()]
    assert legend[:2] == ["nginx-stateful-7db594cfbd", "nginx-stateful-6c7d474cc"]
    colours = {tuple(p.get_facecolor()[:3]) for p in lanes.patches}
    assert len(colours) >= 2
    assert any("not Ready yet" in t.get_text() for t in controller.texts)


def test_the_notebook_png_of_a_timeline_is_matplotlibs_own_drawing_without_an_alpha_channel(lab):
    with lab.record("nginx-stateful") as rec:
        lab.apply("nginx-stateful", wait=True)
    fig = rec.plot()
    shown = Image.open(io.BytesIO(fig._repr_png_()))
    own = io.BytesIO()
    fig.savefig(own, format="png", dpi=100)
    drawn = Image.open(own)
    assert (shown.format, shown.mode, shown.size) == ("PNG", "RGB", (1000, drawn.size[1]))
    assert drawn.mode == "RGBA" and drawn.getextrema()[3] == (255, 255)
    assert shown.tobytes() == drawn.convert("RGB").tobytes()


def test_a_figure_with_transparent_pixels_keeps_its_alpha_channel_in_png():
    fig = Figure(figsize=(2, 1))
    fig.patch.set_alpha(0.0)
    fig.text(0.5, 0.5, "x")
    shown = Image.open(io.BytesIO(plots.png(fig)))
    assert shown.mode == "RGBA" and shown.size == (200, 100)
    assert shown.getextrema()[3][0] == 0


def test_the_plot_speaks_korean_when_asked(lab):
    with lab.record("nginx-stateful") as rec:
        lab.apply("nginx-stateful", wait=True)
    fig = rec.plot(lang="ko")
    lanes, controller = fig.axes
    assert "시간에 따른" in lanes.get_title()
    assert controller.get_xlabel() == "시간 (초)"
    assert any("아직 Ready 아님" in t.get_text() for t in controller.texts)


def test_a_recording_with_nothing_happening_is_empty_but_plots(lab):
    with lab.record() as rec:
        pass
    assert rec.frame.empty and rec.order("created") == []
    assert isinstance(rec.plot(), Figure)


def test_every_action_can_attach_its_own_timeline(lab):
    created = lab.apply("nginx-stateful", wait=True, record=True)
    assert created.recording.order("created") == [0, 1, 2]
    scaled = lab.scale("nginx-stateful", 1, record=True)
    assert scaled.recording.order("deleted") == [2, 1]
    replaced = lab.delete_pod("nginx-stateful-0", record=True)
    assert replaced.recording.order("deleted") == [0] and replaced.recording.order("created") == [0]
    gone = lab.delete("statefulset/nginx-stateful", record=True)
    assert gone.recording.order("deleted") == [0]


def test_recorded_start_to_ready_durations_are_the_kubelets_configured_delays(lab):
    """Times come from the pods' own timestamps (whole seconds), not from when the events arrived.

    The sandbox's discrete clock skips the delays, yet each pod's recorded creation-to-Ready time is
    what its kubelet takes: pulling the image, then starting the container (PULL + START seconds,
    truncated to whole seconds by the timestamps), and ordered creation adds them up.
    """
    from stsnb.sandbox.node.kubelet import Kubelet
    configured = Kubelet.PULL_SECONDS + Kubelet.START_SECONDS
    with lab.record("nginx-stateful") as rec:
        lab.apply("nginx-stateful", wait=True)
    df = rec.frame
    created = df[df["event"] == "ADDED"].groupby("ordinal")["time"].min()
    ready = df[df["ready"]].groupby("ordinal")["time"].min()
    durations = (ready - created).tolist()
    assert len(durations) == 3
    assert all(abs(d - configured) < 1 for d in durations), (durations, configured)
    assert abs(ready[2] - created[0] - 3 * configured) < 1.5
    assert lab.sandbox.engine.jumps >= 3, "the delays were skipped, not waited through"


def test_a_change_made_long_after_creation_starts_the_timeline_when_it_was_made(lab):
    """A StatefulSet's spec change carries no timestamp; its time is its controller's first answer, not the
    set's creation (a reader who waits two minutes before pressing "Update image" sees the rollout, not
    two minutes of "spec change not observed yet")."""
    lab.apply("nginx-stateful", wait=True)
    clock = lab.sandbox.clock
    clock.advance(clock.now() + 120)
    rec = lab.set_image("nginx-stateful", nginx="nginx:1.21.1", record=True).recording
    times = [r["time"] for r in rec.reasons] + rec.frame["time"].tolist()
    assert min(times) == 0 and max(times) < 60, (rec.reasons, rec.frame)
    first_change = rec.frame[rec.frame["event"] != "EXISTING"].iloc[0]
    assert first_change["pod"] == "nginx-stateful-2" and first_change["time"] == 0
