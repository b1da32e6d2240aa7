"""``stsnb sandbox serve``: a sandbox cluster on 127.0.0.1 for kubectl, until interrupted."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

__all__ = ["serve_command", "add_arguments", "DESCRIPTION"]

DESCRIPTION = ("Serve a sandbox Kubernetes cluster on 127.0.0.1 (API and DNS) and write a kubeconfig for it, "
               "so kubectl, the official client and dig can talk to it. Stops on Ctrl-C.")


def add_arguments(serve: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of ``stsnb sandbox serve``."""
    serve.add_argument("--port", type=int, default=0, help="API port on 127.0.0.1 (default: 0, any free port)")
    serve.add_argument("--dns-port", type=int, default=0,
                       help="DNS port on 127.0.0.1, UDP and TCP (default: 0, any free port)")
    serve.add_argument("--kubeconfig", metavar="PATH",
                       help="add the sandbox's context (stsnb-sandbox) to this kubeconfig, keeping everything else "
                            "in it, and take it out again on stop (default: a fresh temporary file; the path is "
                            "printed)")
    serve.add_argument("--set-current", action="store_true",
                       help="with --kubeconfig: also make stsnb-sandbox the file's current-context, restored on stop "
                            "(default: the file's current-context is left as it is)")
    serve.add_argument("--clock", choices=("realtime", "discrete"), default="realtime",
                       help="realtime (default): sandbox time is the wall clock, a pod takes its seconds to start "
                            "and every age kubectl prints is exact; discrete: simulated delays are skipped while "
                            "a client watches (kubectl get -w, rollout status, wait), and timestamps start --lag "
                            "seconds behind the wall clock so that none is ever ahead of it")
    serve.add_argument("--lag", type=float, default=3600.0,
                       help="discrete clock only: how far behind the wall clock sandbox time starts, the most "
                            "its skips may gain, in seconds (default: 3600)")
    serve.add_argument("--speed", type=float, default=1.0,
                       help="discrete clock only: sandbox time flows this many times faster between skips (default: 1)")
    serve.add_argument("--k8s-version", default="1.27",
                       help="Kubernetes version to imitate, 1.25 to 1.37 (default: 1.27, the guide's)")
    serve.add_argument("--workers", type=int, default=2,
                       help="worker nodes, k8s-worker1 to k8s-workerN, beside the control plane (default: 2, the "
                            "guide's cluster; the ZooKeeper tutorial wants 3, or 4 for its drain section; at most 16)")
    serve.add_argument("--seed", type=int, default=None,
                       help="make pod IPs, name suffixes and uids reproducible (default: random)")
    serve.add_argument("--data-dir", metavar="PATH", default=None,
                       help="keep each PersistentVolume's files on disk in PATH/<pv-uid>/ (PATH is created if "
                            "missing), so what a pod wrote to its claim can be looked at from the host; a PV "
                            "deleted with reclaim policy Delete takes its directory with it, Retain leaves it; "
                            "no path in a container reaches outside it (default: memory, the data ends with the "
                            "sandbox)")
    return serve


def serve_command(args: argparse.Namespace) -> int:
    from ..sandbox import Sandbox
    try:
        sb = Sandbox(port=args.port, dns_port=args.dns_port, k8s_version=args.k8s_version, clock=args.clock,
                     speed=args.speed, lag=args.lag, seed=args.seed, data_dir=args.data_dir,
                     workers=args.workers)
    except ValueError as e:
        print(f"stsnb: {e}", file=sys.stderr)
        return 2
    # The handlers go in before anything is started or written: a Ctrl-C or SIGTERM that arrives while the
    # sandbox starts or the kubeconfig is merged still stops it and takes its entries back out.
    done = threading.Event()

    def stop(signum, frame) -> None:  # noqa: ARG001
        done.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        sb.start()
    except OSError as e:
        print(f"stsnb: cannot listen on 127.0.0.1 (port {args.port}, DNS port {args.dns_port}): {e}. "
              "Choose free ports, or 0 to pick any.", file=sys.stderr)
        return 1
    merged = None
    if args.kubeconfig:
        from .kubeconfig import KubeconfigError, merge
        try:
            merged = merge(args.kubeconfig, sb.kubeconfig(), set_current=args.set_current)
        except (KubeconfigError, OSError) as e:
            sb.stop()
            print(f"stsnb: {e}", file=sys.stderr)
            return 2
        path = merged.path
    else:
        path = sb.write_kubeconfig()
    current = merged is None or merged.set_current
    print(f"stsnb sandbox (Kubernetes {sb.profile.version}, {sb.clock_description}) serving", flush=True)
    print(f"  API:        {sb.https_url}   (TLS; plain HTTP on the same port: {sb.url})")
    if sb.dns_port:
        print(f"  DNS:        127.0.0.1:{sb.dns_port} (udp+tcp)   e.g. dig @127.0.0.1 -p {sb.dns_port} -x <pod IP>")
    if sb.data_dir is not None:
        print(f"  PV data:    {sb.data_dir}/<pv-uid>/")
    print(f"  kubeconfig: {path}   (context stsnb-sandbox{'' if current else ', not the current one'})")
    print(f"  try:        KUBECONFIG={path} kubectl {'' if current else '--context stsnb-sandbox '}get nodes")
    print("Press Ctrl-C to stop.", flush=True)
    done.wait()
    if merged is not None:
        from .kubeconfig import unmerge
        try:
            unmerge(merged, sb.https_url)
        except Exception as e:  # noqa: BLE001 - stopping must not fail on a file someone edited meanwhile
            print(f"stsnb: could not take the stsnb-sandbox entries out of {merged.path}: {e}", file=sys.stderr)
    sb.stop()
    print("stsnb sandbox stopped.", flush=True)
    return 0
