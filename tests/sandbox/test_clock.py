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


def test_background_timers_are_never_jumped_to_but_fire_when_time_passes_them():
    e = _engine(Clock.discrete(lag=1000))
    try:
        heartbeat, work = threading.Event(), threading.Event()
        e.call_later(100, heartbeat.set, background=True)
        with e.waiting():
            assert not heartbeat.wait(0.2), "nothing but a heartbeat: no jump"
            e.call_later(200, work.set)
            assert work.wait(5)
        assert heartbeat.is_set(), "the jump to 200 passed the heartbeat at 100"
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
