"""The API server under load and at scale (numbers go in notes, never in tests).

    python bench/bench_api_load.py [--posts 640] [--gets 200] [--pods 10000] [--rounds 5]

1. ``--posts`` simultaneous POSTs, each on its own connection, released together: how many
   connections were reset (target 0; the standard library's listen backlog of 5 reset ~270 of 640);
2. ``--gets`` concurrent GETs, each on its own connection: latency p50/p99/max (target p99 ≤ 1 s);
3. LIST of ``--pods`` pods, first and second time, in process (``Api.handle``, the server's part)
   and over HTTP with the official client (``_preload_content=False``): the first LIST should cost
   what the second does, since objects are encoded when they are written.

Each figure is the median of ``--rounds`` runs (a fresh sandbox per run); min and max beside it.
Traffic goes to 127.0.0.1 only, bounded in count and time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import threading
import time

from kubernetes import client

from stsnb.sandbox import Sandbox


def _conn(sb: Sandbox) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", sb.port, timeout=60)


def _auth(sb: Sandbox) -> dict:
    """The bearer token (a sandbox from before authentication has none: the benchmark then runs without)."""
    token = getattr(sb, "token", "")
    return {"Authorization": f"Bearer {token}"} if token else {}


def simultaneous_posts(n: int) -> dict:
    with Sandbox(dns_port=None, seed=1) as sb:
        barrier = threading.Barrier(n)
        results: list[str] = []
        lock = threading.Lock()

        def post(i: int) -> None:
            body = json.dumps({"metadata": {"name": f"cm-{i}"}, "data": {"i": str(i)}})
            try:
                barrier.wait(timeout=60)
                c = _conn(sb)
                c.request("POST", "/api/v1/namespaces/default/configmaps", body,
                          {"Content-Type": "application/json", **_auth(sb)})
                outcome = str(c.getresponse().status)
                c.close()
            except ConnectionResetError:
                outcome = "reset"
            except Exception as e:  # noqa: BLE001 - counted and reported
                outcome = type(e).__name__
            with lock:
                results.append(outcome)

        threads = [threading.Thread(target=post, args=(i,)) for i in range(n)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.perf_counter() - t0
    counts = {k: results.count(k) for k in sorted(set(results))}
    return {"resets": counts.get("reset", 0), "created": counts.get("201", 0), "outcomes": counts, "seconds": took}


def concurrent_gets(n: int) -> dict:
    with Sandbox(dns_port=None, seed=1) as sb:
        for i in range(50):
            sb.registry.create("configmaps", "default", {"metadata": {"name": f"cm-{i}"}, "data": {"i": str(i)}})
        barrier = threading.Barrier(n)
        latencies: list[float] = []
        failures: list[str] = []
        lock = threading.Lock()

        def get() -> None:
            try:
                barrier.wait(timeout=60)
                t0 = time.perf_counter()
                c = _conn(sb)
                c.request("GET", "/api/v1/namespaces/default/configmaps", headers=_auth(sb))
                r = c.getresponse()
                r.read()
                c.close()
                took = time.perf_counter() - t0
                with lock:
                    (latencies if r.status == 200 else failures).append(took if r.status == 200 else str(r.status))
            except Exception as e:  # noqa: BLE001 - counted and reported
                with lock:
                    failures.append(type(e).__name__)

        threads = [threading.Thread(target=get) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    latencies.sort()
    return {"p50": latencies[len(latencies) // 2], "p99": latencies[max(0, int(len(latencies) * 0.99) - 1)],
            "max": latencies[-1], "failures": len(failures)}


def _pod(i: int) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": f"web-{i}", "namespace": "default", "labels": {"app": "web", "controller-revision-hash": "web-7db594cfbd",
                                                                "statefulset.kubernetes.io/pod-name": f"web-{i}"},
        "uid": f"00000000-0000-4000-8000-{i:012d}", "creationTimestamp": "2026-01-01T00:00:00Z",
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "controller": True,
                             "blockOwnerDeletion": True, "uid": "00000000-0000-4000-8000-000000000000"}]},
        "spec": {"containers": [{"name": "nginx", "image": "nginx", "imagePullPolicy": "Always", "resources": {},
                                 "terminationMessagePath": "/dev/termination-log",
                                 "terminationMessagePolicy": "File"}],
                 "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
                 "nodeName": "k8s-worker1", "hostname": f"web-{i}", "subdomain": "web", "schedulerName":
                 "default-scheduler", "enableServiceLinks": True, "priority": 0},
        "status": {"phase": "Running", "podIP": f"10.244.{i // 250}.{i % 250}", "hostIP": "192.168.1.11",
                   "qosClass": "BestEffort", "startTime": "2026-01-01T00:00:01Z",
                   "conditions": [{"type": t, "status": "True", "lastProbeTime": None,
                                   "lastTransitionTime": "2026-01-01T00:00:02Z"}
                                  for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
                   "containerStatuses": [{"name": "nginx", "ready": True, "restartCount": 0, "started": True,
                                          "image": "nginx:latest", "imageID": "docker.io/library/nginx@sha256:0",
                                          "containerID": f"containerd://{i:064x}",
                                          "state": {"running": {"startedAt": "2026-01-01T00:00:01Z"}}}]}}


def list_pods(n: int) -> dict:
    from stsnb.sandbox.apiserver.handler import Request
    with Sandbox(dns_port=None, seed=1) as sb:
        sb.engine.stop()  # only the API's part is measured: no controller reacts to the pods
        for i in range(n):
            sb.store.create("pods", _pod(i))
        req = Request("GET", "/api/v1/namespaces/default/pods", {})
        out = {}
        for label in ("in_process_first", "in_process_warm"):
            t0 = time.perf_counter()
            resp = sb.api.handle(req)
            out[label] = time.perf_counter() - t0
            assert resp.status == 200
        core = client.CoreV1Api(sb.api_client())
        for label in ("http_first", "http_warm"):
            t0 = time.perf_counter()
            r = core.list_namespaced_pod("default", _preload_content=False)
            r.read()
            out[label] = time.perf_counter() - t0
    return out


def _summary(values: list[float]) -> str:
    return f"median {statistics.median(values):.3f}  (min {min(values):.3f}, max {max(values):.3f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=640)
    parser.add_argument("--gets", type=int, default=200)
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    posts = [simultaneous_posts(args.posts) for _ in range(args.rounds)]
    print(f"{args.posts} simultaneous POSTs: resets per round {[p['resets'] for p in posts]}, "
          f"created per round {[p['created'] for p in posts]}, seconds {_summary([p['seconds'] for p in posts])}")
    gets = [concurrent_gets(args.gets) for _ in range(args.rounds)]
    print(f"{args.gets} concurrent GETs: p50 {_summary([g['p50'] for g in gets])} s; p99 "
          f"{_summary([g['p99'] for g in gets])} s; max {_summary([g['max'] for g in gets])} s; "
          f"failures per round {[g['failures'] for g in gets]}")
    lists = [list_pods(args.pods) for _ in range(args.rounds)]
    for key in ("in_process_first", "in_process_warm", "http_first", "http_warm"):
        print(f"LIST of {args.pods} pods, {key.replace('_', ' ')}: {_summary([x[key] for x in lists])} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
