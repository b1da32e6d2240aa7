"""Where the lessons are, and ``stsnb lessons`` / ``stsnb lab``: a reader's own copies, opened in JupyterLab.

The lessons ship inside the package: the wheel carries ``stsnb/lessons/{en,ko}/*.ipynb``,
byte-identical copies of the repository's ``notebooks/`` (the source of truth, copied by
``setup.py`` when the wheel is built). In a checkout (an editable install) the package has
no ``lessons/`` folder and the lessons are the checkout's ``notebooks/``.
:func:`lessons_root` finds them in that order, after ``$STSNB_NOTEBOOKS``.

``stsnb lessons [DIR]`` copies one language's lessons into a working folder. A copy the
reader has changed is never replaced unless ``--force`` says so; an unchanged one is
refreshed when the package's lesson changed. ``stsnb lab [DIR]`` does the same and then
opens JupyterLab there.
"""

from __future__ import annotations

import argparse
import filecmp
import locale
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

__all__ = ["LANGS", "lessons_root", "find_notebooks", "default_lang", "copy_lessons", "CopyReport",
           "lessons_command", "lab_command", "add_lessons_arguments", "add_lab_arguments", "lab_argv"]

#: The languages the lessons exist in, in the order they run and are reported.
LANGS: tuple[str, ...] = ("en", "ko")
#: ``stsnb lessons`` and ``stsnb lab`` work here when no folder is named.
DEFAULT_DIR = "stsnb-lessons"
_PACKAGE = Path(__file__).resolve().parents[1]


def lessons_root(env: Mapping[str, str] | None = None) -> Path:
    """The folder holding ``en/`` and ``ko/``: ``$STSNB_NOTEBOOKS``, the package's lessons, or the checkout's notebooks."""
    env = os.environ if env is None else env
    if env.get("STSNB_NOTEBOOKS"):
        return Path(env["STSNB_NOTEBOOKS"])
    packaged = _PACKAGE / "lessons"
    if (packaged / "en").is_dir():
        return packaged
    checkout = _PACKAGE.parent / "notebooks"
    if (checkout / "en").is_dir():
        return checkout
    raise ConfigError(f"the lessons are not installed: neither {packaged} nor {checkout} holds en/",
                      hint="reinstall stsnb (pip install --force-reinstall stsnb), or pass --source DIR "
                           "(a folder with en/ and ko/)")


def find_notebooks(source_dir: str | Path, lang: str, select: Sequence[str] = ()) -> list[Path]:
    """The notebooks of one language, in name order; ``select`` keeps those whose name starts with or contains an entry.

    Raises:
        ConfigError: the folder is missing, or a ``select`` entry matches no notebook (the message lists the names).
    """
    folder = Path(source_dir) / lang
    if not folder.is_dir():
        raise ConfigError(f"no notebooks for language {lang!r}: {folder} is not a folder",
                          hint="pass --source DIR (a folder with en/ and ko/), or set STSNB_NOTEBOOKS")
    found = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    if not select:
        return found
    unmatched = [s for s in select if not any(p.name.startswith(s) or s in p.name for p in found)]
    if unmatched:
        raise ConfigError(f"no notebook in {folder} matches {', '.join(map(repr, unmatched))}",
                          hint="the notebooks are: " + ", ".join(p.name for p in found))
    return [p for p in found if any(p.name.startswith(s) or s in p.name for s in select)]


def default_lang(env: Mapping[str, str] | None = None) -> str:
    """``$STSNB_LANG`` if set, else Korean when the locale is Korean (``ko_KR…``), else English."""
    env = os.environ if env is None else env
    chosen = env.get("STSNB_LANG", "").strip().lower()
    if chosen:
        if chosen not in LANGS:
            raise ConfigError(f"STSNB_LANG={chosen!r} is not a lesson language", hint=f"use one of {', '.join(LANGS)}")
        return chosen
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(var):
            return "ko" if env[var].lower().startswith("ko") else "en"
    try:
        code = locale.getlocale()[0] or ""
    except ValueError:
        code = ""
    return "ko" if code.lower().startswith("ko") else "en"


@dataclass
class CopyReport:
    """What :func:`copy_lessons` did with each lesson."""

    folder: Path
    written: list[str]
    refreshed: list[str]
    unchanged: list[str]
    kept: list[str]
    """Copies the reader changed, left alone (``force`` replaces them)."""

    def __str__(self) -> str:
        lines = [f"lessons in {self.folder}:"]
        for label, names in (("written", self.written), ("updated", self.refreshed), ("unchanged", self.unchanged),
                             ("kept (you changed them; --force replaces them)", self.kept)):
            if names:
                lines.append(f"  {label}: {', '.join(names)}")
        return "\n".join(lines)


def copy_lessons(folder: str | Path, lang: str, *, force: bool = False, source_dir: str | Path | None = None
                 ) -> CopyReport:
    """Copy the lessons of ``lang`` into ``folder`` (created if needed), never replacing a changed copy unless ``force``.

    A copy is "changed" when it differs from both the package's lesson and the copy stsnb last
    wrote there (kept in ``folder/.stsnb/``), so an unchanged copy of an older version is refreshed.
    """
    if lang not in LANGS:
        raise ConfigError(f"unknown language {lang!r}", hint=f"use one of {', '.join(LANGS)}")
    folder = Path(folder)
    sources = find_notebooks(Path(source_dir) if source_dir else lessons_root(), lang)
    pristine = folder / ".stsnb" / lang
    pristine.mkdir(parents=True, exist_ok=True)
    report = CopyReport(folder, [], [], [], [])
    for src in sources:
        target, last = folder / src.name, pristine / src.name
        if not target.exists():
            report.written.append(src.name)
        elif filecmp.cmp(src, target, shallow=False):
            report.unchanged.append(src.name)
            shutil.copyfile(src, last)
            continue
        elif force or (last.exists() and filecmp.cmp(last, target, shallow=False)):
            report.refreshed.append(src.name)
        else:
            report.kept.append(src.name)
            continue
        _copy_atomically(src, target)
        shutil.copyfile(src, last)
    return report


def _copy_atomically(src: Path, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    shutil.copyfile(src, tmp)
    os.replace(tmp, target)


def add_lessons_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of ``stsnb lessons``."""
    p.add_argument("folder", nargs="?", default=DEFAULT_DIR,
                   help=f"where the copies go (default: ./{DEFAULT_DIR})")
    p.add_argument("--lang", choices=LANGS, default=None,
                   help="which language (default: $STSNB_LANG, else ko for a Korean locale, else en)")
    p.add_argument("--force", action="store_true",
                   help="replace copies you changed (default: keep them and say so)")
    p.add_argument("--source", default=None,
                   help="folder with en/ and ko/ to copy from (default: the lessons installed with stsnb)")
    return p


def add_lab_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of ``stsnb lab``."""
    add_lessons_arguments(p)
    p.add_argument("jupyter_args", nargs=argparse.REMAINDER, metavar="-- JUPYTER ARGS",
                   help="anything after -- goes to `jupyter lab` (e.g. -- --no-browser --port 8899)")
    return p


def lessons_command(args: argparse.Namespace) -> int:
    """``stsnb lessons``: copy, then say what happened."""
    try:
        lang = args.lang or default_lang()
        report = copy_lessons(args.folder, lang, force=args.force, source_dir=args.source)
    except ConfigError as e:
        print(f"stsnb lessons: {e}", file=sys.stderr)
        return 2
    print(report)
    print(f"open them with: stsnb lab {args.folder}   (or: jupyter lab {args.folder})")
    return 0


def lab_argv(folder: str | Path, extra: Sequence[str] = ()) -> list[str]:
    """The command ``stsnb lab`` runs: this environment's JupyterLab, rooted at ``folder``."""
    extra = [a for a in extra if a != "--"]
    return [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={Path(folder).resolve()}", *extra]


def lab_command(args: argparse.Namespace) -> int:
    """``stsnb lab``: copy the lessons (as ``stsnb lessons`` does), then replace this process with JupyterLab."""
    import importlib.util

    if importlib.util.find_spec("jupyterlab") is None:
        print('stsnb lab: JupyterLab is not installed in this environment.\n'
              '  next: pip install "stsnb[lab]"   (or, in a checkout: pip install -e ".[lab]")', file=sys.stderr)
        return 2
    code = lessons_command(args)
    if code:
        return code
    argv = lab_argv(args.folder, args.jupyter_args)
    sys.stdout.flush()
    os.execv(argv[0], argv)
    return 0  # not reached
