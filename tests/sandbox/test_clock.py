"""Sandbox time: a discrete-event clock that skips simulated delays, never ahead of the wall clock."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest
from kubernetes import client, watch

from stsnb.sandbox import Sandbox
from stsnb.sandbox.core.clock import Clock
from stsnb.sandbox.core.engine import Engine

STAMPED = ("creationTimestamp", "lastTransitionTime", "startTime", "startedAt", "finishedAt", "lastTimestamp",
           "firstTimestamp", "lastHeartbeatTime", "lastProbeTime", "renewTime", "acquireTime")


def _wall() -> datetime:
    return datetime.now(timezone.utc)


def _stamps(obj: object, path: str = ""):
    """Every timestamp field in an object, with its path (deletionTimestamp is excluded: see below)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in STAMPED and isinstance(v, str):
                yield f"{path}.{k}", v
            else:
                yield from _stamps(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _stamps(v, f"{path}[{i}]")


def test_a_realtime_clock_is_the_wall_clock_once_its_bootstrap_settled():
    c = Clock.realtime(bootstrap=30)
    assert c.datetime() < _wall() and c.advance(c.now() + 5) > 0, "the bootstrap may skip, stamped in the past"
    c.settle()
    assert abs((_wall() - c.datetime()).total_seconds()) < 0.5
    before = _wall().replace(microsecond=0)
    stamp = datetime.strptime(c.timestamp(), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert before <= stamp <= _wall()
    assert c.mode == "realtime" and not c.jumps
    with pytest.raises(RuntimeError, match="does not jump"):
        c.advance(100)


def test_a_discrete_clock_starts_its_lag_behind_the_wall_clock_and_jumps_no_further_than_it():
    c = Clock.discrete(lag=50)
    start = c.now()
    assert 0 <= start < 1
    assert (_wall() - c.datetime()).total_seconds() == pytest.approx(50, abs=1)
    assert c.advance(start + 30) == pytest.approx(start + 30, abs=0.01)
    reached = c.advance(start + 1000)
    assert 50 <= reached < 52 and c.datetime(reached) <= _wall(), "capped by the wall clock"
    assert c.headroom() == pytest.approx(0, abs=0.01)
    assert c.datetime() <= _wall()


def test_a_clock_that_jumps_or_runs_fast_needs_a_lag():
    with pytest.raises(ValueError, match="needs a lag > 0"):
        Clock(1.0, jumps=True, lag=0)
    with pytest.raises(ValueError, match="needs a lag > 0"):
        Clock(20.0)
    with pytest.raises(ValueError, match="speed must be a positive"):
        Clock(0)


def test_a_fast_clock_is_capped_by_the_wall_clock_and_never_goes_back():
    c = Clock(1000.0, lag=0.05)
    seen = [c.now() for _ in range(200)]
    assert seen == sorted(seen)
    time.sleep(0.01)
    assert c.datetime() <= _wall()


def test_stamps_parse_back_to_the_whole_second():
    c = Clock.discrete(lag=100)
    t = c.advance(42.7)
    assert c.parse(c.timestamp(t)) == int(t)
    assert c.parse(c.micro_timestamp(t)) == pytest.approx(t, abs=1e-5)


# ---------------------------------------------------------------------- the engine's jumps
def _engine(clock: Clock) -> Engine:
    e = Engine(clock)
    e.start()
    return e


def test_a_waiter_lets_the_engine_jump_to_the_next_foreground_timer():
    e = _engine(Clock.discrete(lag=1000))
    try:
        fired = threading.Event()
        e.call_later(300, fired.set)
        with e.waiting():
            assert fired.wait(5), "the engine skipped the 300 simulated seconds"
        assert e.clock.now() >= 300 and e.jumps >= 1
    finally:
        e.stop()


def test_nobody_waiting_means_no_jump():
    e = _engine(Clock.discrete(lag=1000))
    try:
        fired = threading.Event()
        e.call_later(300, fired.set)
        assert not fired.wait(0.2)
        assert e.jumps == 0 and e.clock.now() < 300
    finally:
        e.stop()


def test_background_timers_are_never_jumped_to_but_a_jump_stops_at_each_on_its_way():
    e = _engine(Clock.discrete(lag=1000))
    try:
        heartbeat, work = threading.Event(), threading.Event()
        at: list[float] = []
        t0 = e.clock.now()
        e.call_later(100, lambda: (at.append(e.clock.now() - t0), heartbeat.set()), background=True)
        with e.waiting():
            assert not heartbeat.wait(0.2), "nothing but a heartbeat: no jump"
            e.call_later(200, lambda: (at.append(e.clock.now() - t0), work.set()))
            assert work.wait(5)
        assert heartbeat.is_set(), "the jump to 200 passed the heartbeat at 100"
        assert 100 <= at[0] < 101 and 200 <= at[1] < 201, f"each fired at its own time, not at the jump's end: {at}"
    finally:
        e.stop()


def test_a_cancelled_timer_neither_runs_nor_draws_a_jump():
    e = _engine(Clock.discrete(lag=1000))
    try:
        ran = threading.Event()
        e.call_later(500, ran.set).cancel()
        with e.waiting():
            assert e.idle.wait(2)
        assert not ran.is_set() and e.jumps == 0
    finally:
        e.stop()


def test_once_the_lag_is_spent_timers_fall_due_in_real_time():
    e = _engine(Clock.discrete(lag=1))
    try:
        fired = threading.Event()
        e.call_later(60, fired.set)
        with e.waiting():
            assert not fired.wait(1.5), "only 1 s of lag to spend: the 60 s delay is not skipped"
        assert e.clock.datetime() <= _wall()
    finally:
        e.stop()


def test_a_request_in_flight_holds_the_jump_until_it_is_answered():
    e = _engine(Clock.discrete(lag=1000))
    try:
        fired = threading.Event()
        with e.waiting():
            with e.client_request():
                e.call_later(300, fired.set)
                assert not fired.wait(0.2)
            assert fired.wait(5)
    finally:
        e.stop()


# ---------------------------------------------------------------------- the sandbox
@pytest.mark.parametrize("clock", ["realtime", "discrete"])
def test_no_timestamp_the_sandbox_writes_is_ahead_of_the_wall_clock(clock):
    """Every stamp but deletionTimestamp, which upstream sets to the end of the grace period."""
    with Sandbox(dns_port=None, seed=2, clock=clock) as sb:
        api = sb.api_client()
        core = client.CoreV1Api(api)
        core.create_namespaced_pod("default", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                                               "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
        w = watch.Watch()
        for ev in w.stream(core.list_namespaced_pod, "default", timeout_seconds=30):
            if ev["object"].status.phase == "Running":
                w.stop()
        core.delete_namespaced_pod("p", "default")
        assert sb.wait_idle(30)
        now = _wall()
        late = [(plural, path, v) for plural, obj in sb.store.all_objects() for path, v in _stamps(obj)
                if datetime.fromisoformat(v.replace("Z", "+00:00")) > now]
        assert not late


def test_the_discrete_sandbox_skips_delays_only_while_somebody_watches():
    with Sandbox(dns_port=None, seed=2) as sb:
        core = client.CoreV1Api(sb.api_client())
        core.create_namespaced_pod("default", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                                               "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
        time.sleep(0.2)
        assert core.read_namespaced_pod("p", "default").status.phase == "Pending", "nobody waits: no skip"
        w = watch.Watch()
        for ev in w.stream(core.list_namespaced_pod, "default", timeout_seconds=30):
            if ev["object"].status.phase == "Running":
                w.stop()
        assert sb.engine.jumps >= 1


def test_work_off_the_engine_thread_holds_the_jump_until_it_comes_back():
    e = _engine(Clock.discrete(lag=1000))
    try:
        fired = threading.Event()
        with e.waiting():
            done = e.holding()  # e.g. a container's programs starting on the runtime's workers
            e.call_later(300, fired.set)
            assert not fired.wait(0.2) and e.jumps == 0, "the start is under way: no jump"
            assert not e.idle.is_set()
            done()
            done()  # idempotent
            assert fired.wait(5)
    finally:
        e.stop()


# ---------------------------------------------------------------------- acknowledging streams
def _pod(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


def _phases(sb: Sandbox, *, token: str | None, ack: bool, until: str = "Running", seconds: int = 3) -> list[str]:
    """Watch pod ``p`` as the lab does (``token``: an acknowledging stream) until ``until`` or the
    server ends the watch after ``seconds``; the phases seen."""
    from stsnb.kube import Kube
    from stsnb.watching import RawWatch

    kube = Kube(sb.api_client(), "default")
    kube.waiter = sb if token else None
    seen, n = [], 0
    w = RawWatch()
    try:
        for _type, obj in kube.stream("pods", "default", watcher=w, field_selector="metadata.name=p",
                                      timeout_seconds=seconds, waiter_token=token):
            n += 1
            seen.append((obj.get("status") or {}).get("phase"))
            if seen[-1] == until:
                break
            if ack:
                sb.acknowledge(token, n)
    finally:
        w.stop()
    return seen


def test_a_stream_that_acknowledges_what_it_acted_on_lets_the_clock_jump_at_once():
    with Sandbox(dns_port=None, seed=2) as sb:
        sb.engine.react = 3600.0  # the time window alone would never let the clock move on
        client.CoreV1Api(sb.api_client()).create_namespaced_pod("default", _pod("p"))
        bootstrap = sb.engine.jumps  # CoreDNS's start
        seen = _phases(sb, token="lab-1", ack=True)
        assert seen[-1] == "Running" and sb.engine.jumps > bootstrap


def test_a_stream_that_does_not_acknowledge_keeps_the_time_window():
    with Sandbox(dns_port=None, seed=2) as sb:
        sb.engine.react = 3600.0
        client.CoreV1Api(sb.api_client()).create_namespaced_pod("default", _pod("p"))
        bootstrap = sb.engine.jumps
        silent = _phases(sb, token="lab-1", ack=False, seconds=1)
        plain = _phases(sb, token=None, ack=False, seconds=1)
        assert "Running" not in silent + plain and sb.engine.jumps == bootstrap


def test_a_released_stream_no_longer_counts_as_a_waiter():
    with Sandbox(dns_port=None, seed=2) as sb:
        core = client.CoreV1Api(sb.api_client())
        core.create_namespaced_pod("default", _pod("p"))
        released = threading.Event()

        def release_soon() -> None:
            while not sb.engine._acking:  # the stream is registered once the server started it
                time.sleep(0.01)
            sb.release("lab-1")
            released.set()
        threading.Thread(target=release_soon, daemon=True).start()
        seen = _phases(sb, token="lab-1", ack=True, seconds=1)
        assert released.is_set()
        assert "Running" not in seen, "released before any jump: nobody waits, nothing jumps"
        assert core.read_namespaced_pod("p", "default").status.phase == "Pending"


def test_the_lab_on_the_sandbox_acknowledges_its_watches_and_releases_them_when_done():
    import stsnb

    with Sandbox(dns_port=None, seed=2) as sb:
        sb.engine.react = 3600.0  # only the lab's acknowledgements can move the clock on
        lab = stsnb.connect(sandbox=sb, env={}, timeout_s=60)
        before = sb.engine.jumps
        with lab.record("nginx-stateful") as rec:
            lab.apply("nginx-stateful", wait=True)
        assert lab.pods(selector="app=nginx-stateful")["ready"].tolist() == [True, True, True]
        assert rec.order("created") == [0, 1, 2]
        assert sb.engine.jumps > before, "the pods' delays were skipped, not waited through in real time"
        jumps = sb.engine.jumps
        time.sleep(0.3)
        assert sb.engine.jumps == jumps and sb.engine._waiters == 0, "the watches were released and closed"
