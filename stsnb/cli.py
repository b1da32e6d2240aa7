"""The ``stsnb`` command: serve the sandbox, run the notebooks, build the docs.

Each subcommand delegates to a library function; ``main(argv)`` is what the
tests call.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path


def _serve(args: argparse.Namespace) -> int:
    from .sandbox import Sandbox
    try:
        sb = Sandbox(port=args.port, dns_port=args.dns_port, k8s_version=args.k8s_version, speed=args.speed,
                     seed=args.seed)
    except ValueError as e:
        print(f"stsnb: {e}", file=sys.stderr)
        return 2
    try:
        sb.start()
    except OSError as e:
        print(f"stsnb: cannot listen on 127.0.0.1 (port {args.port}, DNS port {args.dns_port}): {e}. "
              "Choose free ports, or 0 to pick any.", file=sys.stderr)
        return 1
    path = sb.write_kubeconfig(args.kubeconfig) if args.kubeconfig else sb.write_kubeconfig()
    print(f"stsnb sandbox (Kubernetes {sb.profile.version}, speed x{sb.clock.speed:g}) serving", flush=True)
    print(f"  API:        {sb.url}")
    if sb.dns_port:
        print(f"  DNS:        127.0.0.1:{sb.dns_port} (udp+tcp)   e.g. dig @127.0.0.1 -p {sb.dns_port} -x <pod IP>")
    print(f"  kubeconfig: {path}   (context stsnb-sandbox)")
    print(f"  try:        KUBECONFIG={path} kubectl get nodes")
    print("Press Ctrl-C to stop.", flush=True)
    done = threading.Event()

    def stop(signum, frame) -> None:  # noqa: ARG001
        done.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    done.wait()
    sb.stop()
    print("stsnb sandbox stopped.", flush=True)
    return 0


def _run(argv: list[str]) -> int:
    from .runner import main_run
    return main_run(argv)


def _docs(args: argparse.Namespace) -> int:
    from .docs import build_site
    report = build_site(Path(args.executed), Path(args.out))
    print(report)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["run"]:
        return _run(argv[1:])
    parser = argparse.ArgumentParser(prog="stsnb", description="Kubernetes StatefulSets as executable notebooks.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="execute the notebooks with papermill (see `stsnb run --help`)")
    sb = sub.add_parser("sandbox", help="the embedded sandbox cluster")
    sbsub = sb.add_subparsers(dest="action", required=True)
    serve = sbsub.add_parser("serve", help="serve a sandbox cluster on 127.0.0.1 until interrupted")
    serve.add_argument("--port", type=int, default=0, help="API port (0: any free port)")
    serve.add_argument("--dns-port", type=int, default=0, help="DNS port, UDP and TCP (0: any free port)")
    serve.add_argument("--kubeconfig", help="write a kubeconfig for the sandbox here (default: a temporary file)")
    serve.add_argument("--speed", type=float, default=20.0, help="sandbox time runs this many times faster")
    serve.add_argument("--k8s-version", default="1.27", help='Kubernetes version to imitate (default "1.27", the guide\'s)')
    serve.add_argument("--seed", type=int, default=None, help="make IPs, names and uids reproducible")
    docs = sub.add_parser("docs", help="the documentation site")
    dsub = docs.add_subparsers(dest="action", required=True)
    build = dsub.add_parser("build", help="build the bilingual site from executed notebooks")
    build.add_argument("--executed", default="build/executed", help="executed notebooks (from `stsnb run`)")
    build.add_argument("--out", default="build/site", help="output folder")
    args = parser.parse_args(argv)
    if args.command == "sandbox":
        return _serve(args)
    if args.command == "docs":
        return _docs(args)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
