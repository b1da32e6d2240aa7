"""The ``stsnb`` command: serve the sandbox, run the notebooks, build the docs.

Each subcommand delegates to a library function; ``main(argv)`` is what the
tests call.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import run
from .serve import DESCRIPTION as SERVE_DESCRIPTION
from .serve import add_arguments as add_serve_arguments
from .serve import serve_command


def _docs(args: argparse.Namespace) -> int:
    from .docs import build_site
    report = build_site(Path(args.executed), Path(args.out))
    print(report)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="stsnb", description="Kubernetes StatefulSets as executable notebooks.")
    sub = parser.add_subparsers(dest="command", required=True)
    run.add_arguments(sub.add_parser("run", help="execute the notebooks with papermill", description=run.DESCRIPTION))
    sb = sub.add_parser("sandbox", help="the embedded sandbox cluster")
    sbsub = sb.add_subparsers(dest="action", required=True)
    add_serve_arguments(sbsub.add_parser("serve", help="serve a sandbox cluster on 127.0.0.1 until interrupted",
                                         description=SERVE_DESCRIPTION))
    docs = sub.add_parser("docs", help="the documentation site")
    dsub = docs.add_subparsers(dest="action", required=True)
    build = dsub.add_parser("build", help="build the bilingual site from executed notebooks")
    build.add_argument("--executed", default="build/executed", help="executed notebooks (from `stsnb run`)")
    build.add_argument("--out", default="build/site", help="output folder")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run.command(args)
    if args.command == "sandbox":
        return serve_command(args)
    if args.command == "docs":
        return _docs(args)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
