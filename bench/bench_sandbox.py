"""Sandbox speed, measured through the official client (numbers go in notes, never in tests).

    python bench/bench_sandbox.py [--replicas 1000] [--pods 10000] [--patches 200]

1. a Parallel StatefulSet of N replicas from create to all Ready (target ≤ 2 s for 1,000);
2. LIST of M pods through ``CoreV1Api.list_namespaced_pod`` (target ≤ 0.5 s for 10,000);
3. watch latency: PATCH returned → the watch event arrives (target ≤ 50 ms).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

from kubernetes import client, watch

from dataclasses import replace

from stsnb.sandbox import Sandbox
from stsnb.sandbox.node.scheduler import DEFAULT_NODES

#: kind's nodes take 110 pods each (the sandbox's default, as upstream's); the benchmarks need more room
ROOMY_NODES = tuple(replace(n, pods=50_000) for n in DEFAULT_NODES)


def sts(name: str, replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "podManagementPolicy": "Parallel",
                     "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}}


def bench_parallel(replicas: int) -> float:
    with Sandbox(dns_port=None, seed=1, nodes=ROOMY_NODES) as sb:
        apps = client.AppsV1Api(sb.api_client())
        t0 = time.perf_counter()
        apps.create_namespaced_stateful_set("default", sts("big", replicas))
        w = watch.Watch()
        for ev in w.stream(apps.list_namespaced_stateful_set, "default", timeout_seconds=120):
            if (ev["object"].status.ready_replicas or 0) == replicas:
                w.stop()
        return time.perf_counter() - t0


def bench_list(pods: int) -> tuple[float, float]:
    with Sandbox(dns_port=None, seed=2, nodes=ROOMY_NODES) as sb:
        for i in range(pods):  # set-up in-process: the measured part is the LIST over HTTP
            sb.registry.create("pods", "default", {"apiVersion": "v1", "kind": "Pod", "metadata": {
                "name": f"p-{i:05d}", "labels": {"app": "bench"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
        sb.wait_idle(timeout=600)
        core = client.CoreV1Api(sb.api_client())
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            items = core.list_namespaced_pod("default").items
            times.append(time.perf_counter() - t0)
            assert len(items) == pods
        t0 = time.perf_counter()
        raw = core.list_namespaced_pod("default", _preload_content=False).data
        raw_t = time.perf_counter() - t0
        del raw
        return min(times), raw_t


def bench_watch(patches: int) -> list[float]:
    with Sandbox(dns_port=None, seed=3) as sb:
        apps = client.AppsV1Api(sb.api_client())
        apps.create_namespaced_stateful_set("default", sts("w", 0))
        arrived: dict[str, float] = {}
        ready = threading.Event()

        def watcher() -> None:
            w = watch.Watch()
            ready.set()
            for ev in w.stream(client.AppsV1Api(sb.api_client()).list_namespaced_stateful_set, "default",
                               timeout_seconds=60):
                mark = (ev["object"].metadata.labels or {}).get("mark")
                if mark:
                    arrived.setdefault(mark, time.perf_counter())
                if mark == str(patches - 1):
                    w.stop()

        t = threading.Thread(target=watcher, daemon=True)
        t.start()
        ready.wait()
        time.sleep(0.3)  # let the watch connect before the first patch (set-up, not measured)
        sent = {}
        for i in range(patches):
            apps.patch_namespaced_stateful_set("w", "default", {"metadata": {"labels": {"mark": str(i)}}})
            sent[str(i)] = time.perf_counter()
            time.sleep(0.005)
        t.join(timeout=30)
        return [arrived[k] - sent[k] for k in sent if k in arrived]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicas", type=int, default=1000)
    ap.add_argument("--pods", type=int, default=10000)
    ap.add_argument("--patches", type=int, default=200)
    a = ap.parse_args()
    t = bench_parallel(a.replicas)
    print(f"parallel statefulset, {a.replicas} replicas to all Ready: {t:.2f} s (target <= 2 s)")
    typed, raw = bench_list(a.pods)
    print(f"LIST {a.pods} pods, official client typed models: {typed:.2f} s; raw JSON: {raw:.3f} s (target <= 0.5 s)")
    lat = [x * 1000 for x in bench_watch(a.patches)]
    lat.sort()
    print(f"watch latency over {len(lat)} patches: median {statistics.median(lat):.1f} ms, "
          f"p95 {lat[int(len(lat) * 0.95) - 1]:.1f} ms (target <= 50 ms)")


if __name__ == "__main__":
    main()
