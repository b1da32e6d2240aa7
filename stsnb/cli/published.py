"""Which executed copy each docs page is built from, and the refusal to publish a run that did not pass.

``stsnb run`` keeps, per notebook, the last complete copy (``NN-name.ipynb``) and, beside it, the
copy of a run that failed or was interrupted (``NN-name.failed.ipynb``,
``NN-name.interrupted.ipynb``); ``run.json`` records the latest run of each (see
:mod:`stsnb.cli.report`). A page is publishable when that latest run passed. Without a record
(copies made some other way), a notebook counts as failed when a marked copy newer than its
complete copy exists, or when the copy itself holds an error output or papermill's exception flag.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from ..errors import StsnbError
from .report import MARKED, read_record

__all__ = ["page_name", "is_marked", "choose_copies", "NotPublishable"]

_MARK = re.compile(r"\.(" + "|".join(sorted(set(MARKED.values()))) + r")\.ipynb$")


class NotPublishable(StsnbError):
    """The latest run of some notebooks did not pass."""


def is_marked(path: Path) -> bool:
    """``NN-name.failed.ipynb`` / ``NN-name.interrupted.ipynb``."""
    return bool(_MARK.search(path.name))


def page_name(path: Path) -> str:
    """The page a copy belongs to: ``NN-name.ipynb`` for any of its copies."""
    return _MARK.sub(".ipynb", path.name)


def _copy_failed(path: Path) -> str | None:
    """Why a complete-looking copy is not publishable on its own evidence (an error in it), or None."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return f"unreadable ({e})"
    if (nb.get("metadata", {}).get("papermill", {}) or {}).get("exception"):
        return "papermill recorded an exception"
    for i, cell in enumerate(nb.get("cells", [])):
        for out in cell.get("outputs", []) or []:
            if out.get("output_type") == "error":
                return f"cell {i} ended in {out.get('ename')}: {out.get('evalue')}"
    return None


def _latest(folder: Path, name: str, record: dict, label: str) -> tuple[str, Path | None, str]:
    """``(status, copy of the latest run, detail)`` for one page."""
    base = folder / name
    entry = record.get(label)
    if entry:
        status = str(entry.get("status"))
        copy = folder.parent / entry["file"] if entry.get("file") else None
        detail = f"{entry.get('error') or ''}".strip()
        if status == "passed" and copy is not None and copy.exists():
            why = _copy_failed(copy)
            return ("failed", copy, why) if why else ("passed", copy, "")
        return status, copy if copy is not None and copy.exists() else None, detail
    marked = sorted((p for p in folder.glob(f"{Path(name).stem}.*.ipynb") if is_marked(p)),
                    key=lambda p: p.stat().st_mtime)
    newest = marked[-1] if marked else None
    if newest is not None and (not base.exists() or newest.stat().st_mtime >= base.stat().st_mtime):
        meta = json.loads(newest.read_text(encoding="utf-8")).get("metadata", {}).get("stsnb", {})
        return str(meta.get("status", "failed")), newest, str(meta.get("error", ""))
    why = _copy_failed(base)
    return ("failed", base, why) if why else ("passed", base, "")


def choose_copies(executed_dir: Path, names: dict[str, Sequence[str]], *, allow_failed: bool,
                  warnings: list[str]) -> dict[str, list[Path]]:
    """For each language, the copy each page is built from, in page order.

    Raises:
        NotPublishable: a page's latest run failed, timed out or was interrupted (each one named),
            unless ``allow_failed``; then its latest copy is used and a warning says so.
    """
    record = read_record(executed_dir)
    chosen: dict[str, list[Path]] = {}
    refused: list[str] = []
    for lang, pages in names.items():
        chosen[lang] = []
        for name in pages:
            label = f"{lang}/{name}"
            status, copy, detail = _latest(executed_dir / lang, name, record, label)
            if status == "passed" and copy is not None:
                chosen[lang].append(copy)
                continue
            line = f"{label}: its latest run {status}" + (f" ({detail})" if detail else "")
            if not allow_failed or copy is None:
                refused.append(line + ("" if copy is not None else "; no copy of it to publish"))
                continue
            warnings.append(f"published anyway (--allow-failed): {line}")
            chosen[lang].append(copy)
    if refused:
        raise NotPublishable(
            "refusing to publish notebooks whose latest run did not pass:\n  " + "\n  ".join(refused),
            hint="fix them and `stsnb run` them again (e.g. `stsnb run 03`), or publish them errors and all "
                 "with `stsnb docs build --allow-failed`")
    return chosen
