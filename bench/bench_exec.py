"""exec and the controllers' pace under runaway programs (numbers are reported, never asserted).

    python bench/bench_exec.py [--runs 5] [--execs 50] [--replicas 200]

1. ``kubectl exec``-style round trips through the official client's stream API
   (``hostname`` in an nginx pod): median and p95 of ``--execs`` calls;
2. a Parallel StatefulSet of ``--replicas`` from create to all Ready, alone and while
   four runaway pods run (two memory bombs ``a=$a$a``, two busy loops): median of
   ``--runs`` sandboxes each, and how long the runaway programs took to be stopped.
"""

from __future__ import annotations

import argparse
import statistics
import time

from kubernetes import client, watch
from kubernetes.stream import stream

from stsnb.sandbox import Sandbox

RUNAWAY = {"bomb": "a=0123456789abcdef; while true; do a=$a$a; done", "loop": "while true; do :; done"}


def sts(name: str, replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "podManagementPolicy": "Parallel",
                     "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}}


def pod(name: str, command: list[str] | None = None, image: str = "busybox") -> dict:
    c = {"name": "c", "image": image}
    if command:
        c["command"] = command
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"restartPolicy": "Never", "containers": [c]}}


def wait_pod(core: client.CoreV1Api, name: str, phases: tuple[str, ...]) -> None:
    w = watch.Watch()
    for ev in w.stream(core.list_namespaced_pod, "default", field_selector=f"metadata.name={name}",
                       timeout_seconds=120):
        if ev["object"].status.phase in phases:
            w.stop()


def bench_exec(n: int) -> list[float]:
    with Sandbox(dns_port=None, seed=1) as sb:
        core = client.CoreV1Api(sb.api_client())
        core.create_namespaced_pod("default", pod("web", image="nginx"))
        wait_pod(core, "web", ("Running",))
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            out = stream(core.connect_get_namespaced_pod_exec, "web", "default", command=["hostname"],
                         stdout=True, stderr=True, stdin=False, tty=False)
            times.append(time.perf_counter() - t0)
            assert out == "web\n", out
        return times


def bench_scale(replicas: int, runaway: bool) -> tuple[float, float | None]:
    with Sandbox(dns_port=None, seed=1) as sb:
        core = client.CoreV1Api(sb.api_client())
        apps = client.AppsV1Api(sb.api_client())
        t0 = time.perf_counter()
        names = []
        if runaway:
            for kind, script in RUNAWAY.items():
                for k in range(2):
                    names.append(f"{kind}-{k}")
                    core.create_namespaced_pod("default", pod(names[-1], ["sh", "-c", script]))
        apps.create_namespaced_stateful_set("default", sts("big", replicas))
        w = watch.Watch()
        for ev in w.stream(apps.list_namespaced_stateful_set, "default", timeout_seconds=300):
            if (ev["object"].status.ready_replicas or 0) == replicas:
                w.stop()
        ready = time.perf_counter() - t0
        stopped = None
        if runaway:
            for name in names:
                wait_pod(core, name, ("Failed", "Succeeded"))
            stopped = time.perf_counter() - t0
        return ready, stopped


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--execs", type=int, default=50)
    p.add_argument("--replicas", type=int, default=200)
    a = p.parse_args()
    t = sorted(bench_exec(a.execs))
    print(f"exec round trip (hostname), {a.execs} calls: median {statistics.median(t) * 1000:.1f} ms, "
          f"p95 {t[int(len(t) * 0.95) - 1] * 1000:.1f} ms")
    for runaway in (False, True):
        results = [bench_scale(a.replicas, runaway) for _ in range(a.runs)]
        ready = statistics.median(r[0] for r in results)
        line = (f"{a.replicas}-replica Parallel StatefulSet to Ready {'with' if runaway else 'without'} 4 runaway "
                f"pods: median {ready:.2f} s over {a.runs} runs")
        if runaway:
            line += f"; all runaway pods stopped after median {statistics.median(r[1] for r in results):.2f} s"
        print(line)


if __name__ == "__main__":
    main()
