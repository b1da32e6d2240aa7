"""The ``stsnb`` command: the lessons (copy, open, run), the sandbox cluster, the docs site.

Each subcommand delegates to a library function; ``main(argv)`` is what the tests call.
Importing this package is cheap (argparse and the parsers only): everything heavy is
imported by the subcommand that needs it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import run
from .lessons import DEFAULT_DIR, add_lab_arguments, add_lessons_arguments
from .serve import DESCRIPTION as SERVE_DESCRIPTION
from .serve import add_arguments as add_serve_arguments

__all__ = ["main", "parser"]

DESCRIPTION = ("Kubernetes StatefulSets as executable notebooks (Korean and English), on an embedded sandbox "
               "cluster or a real one. Start with `stsnb lessons` and `stsnb lab`, or run them all with "
               "`stsnb run`.")


def _docs(args: argparse.Namespace) -> int:
    from ..errors import StsnbError
    from .docs import build_site

    try:
        report = build_site(Path(args.executed), Path(args.out), docs_dir=Path(args.docs) if args.docs else None,
                            allow_failed=args.allow_failed)
    except StsnbError as e:
        print(f"stsnb docs build: {e}", file=sys.stderr)
        return 2
    print(report)
    return 0


def _version() -> str:
    from .. import __version__

    return f"stsnb {__version__} (Python {sys.version.split()[0]}, {sys.executable})"


def parser() -> argparse.ArgumentParser:
    """The whole command line, with a description and defaults on every option."""
    p = argparse.ArgumentParser(prog="stsnb", description=DESCRIPTION)
    p.add_argument("--version", action="version", version=_version(), help="print the version and exit")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_lessons_arguments(sub.add_parser(
        "lessons", help="copy the lessons into a folder of your own",
        description=f"Copy the lessons of one language into a folder (default ./{DEFAULT_DIR}) to read and run "
                    "in JupyterLab. A copy you changed is kept unless --force."))
    add_lab_arguments(sub.add_parser(
        "lab", help="copy the lessons (as `stsnb lessons`) and open JupyterLab on them",
        description="Copy the lessons (as `stsnb lessons` does) and open JupyterLab in that folder. "
                    'Needs the lab extra: pip install "stsnb[lab]".'))
    run.add_arguments(sub.add_parser("run", help="execute the lessons headless with papermill",
                                     description=run.DESCRIPTION))
    sb = sub.add_parser("sandbox", help="the embedded sandbox cluster",
                        description="The embedded sandbox cluster: a miniature Kubernetes control plane on 127.0.0.1.")
    sbsub = sb.add_subparsers(dest="action", required=True, metavar="ACTION")
    add_serve_arguments(sbsub.add_parser("serve", help="serve a sandbox cluster on 127.0.0.1 until Ctrl-C",
                                         description=SERVE_DESCRIPTION))
    docs = sub.add_parser("docs", help="the documentation site",
                          description="The bilingual documentation site, built from executed notebooks.")
    dsub = docs.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = dsub.add_parser(
        "build", help="build the bilingual site from executed notebooks",
        description="Build the site (build/site/en, build/site/ko) from the notebooks `stsnb run` executed. "
                    "Refuses notebooks whose latest run failed or was interrupted. Needs the docs extra "
                    '(pip install "stsnb[docs]") and, for the first build only, npm (it fetches the widget '
                    "JavaScript once into docs/_vendor/).")
    build.add_argument("--executed", default="build/executed",
                       help="executed notebooks, from `stsnb run` (default: build/executed)")
    build.add_argument("--out", default="build/site", help="output folder (default: build/site)")
    build.add_argument("--docs", default=None,
                       help="the site's sources, a folder with conf.py, en/ and ko/ (default: the checkout's docs/)")
    build.add_argument("--allow-failed", action="store_true",
                       help="publish notebooks whose latest run failed or was interrupted, errors and all "
                            "(default: refuse and name them)")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    if args.command == "run":
        return run.command(args)
    if args.command == "lessons":
        from .lessons import lessons_command
        return lessons_command(args)
    if args.command == "lab":
        from .lessons import lab_command
        return lab_command(args)
    if args.command == "sandbox":
        from .serve import serve_command
        return serve_command(args)
    if args.command == "docs":
        return _docs(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
