"""Merging the sandbox's context into a kubeconfig someone else owns, and taking it out again.

``stsnb sandbox serve --kubeconfig PATH`` must never destroy a file it did not
write (a production context and token were lost that way). So, as ``kind`` and
``minikube`` do, it *merges*: the ``stsnb-sandbox`` cluster, user and context
are added to (or replace their namesakes in) the file's lists, everything else
stays as it was, and ``current-context`` changes only when asked
(``--set-current``). When the sandbox stops, its three entries are taken out
again (and ``current-context`` restored if it was switched), so the file is back
to what it was; a file the sandbox created itself is removed when nothing else
was added to it.

Unlike kind (which re-serializes the file through client-go and drops comments),
the file is edited with ``ruamel.yaml``'s round-trip mode, so the other entries,
their order, quoting and comments are kept byte for byte. A file that is not a
kubeconfig is refused with a message saying so; writes are atomic (a temporary
file renamed over the original, with the original's permissions).
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["KubeconfigError", "Merged", "merge", "unmerge"]

_LISTS = (("clusters", "cluster"), ("users", "user"), ("contexts", "context"))


class KubeconfigError(ValueError):
    """The file cannot take the sandbox's entries; the message says why and what to do."""


@dataclass
class Merged:
    """What :func:`merge` did, so that :func:`unmerge` can undo exactly that."""

    path: Path
    name: str
    created: bool
    previous_current: str | None
    set_current: bool


def _yaml():
    from ruamel.yaml import YAML
    yaml = YAML()  # round-trip: keeps order, comments and quoting
    yaml.width = 1 << 20  # never fold long lines (certificate data is one long line)
    yaml.preserve_quotes = True
    return yaml


def _load(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if not text.strip():
        return None
    try:
        return _yaml().load(text)
    except Exception as e:  # noqa: BLE001 - any YAML error means: not a kubeconfig we can edit
        raise KubeconfigError(f"{path} is not valid YAML ({type(e).__name__}: {e}); choose another --kubeconfig "
                              "path or fix the file: stsnb never overwrites a file it cannot read") from None


def _check(doc: Any, path: Path) -> None:
    if not hasattr(doc, "get") or doc.get("kind", "Config") != "Config":
        raise KubeconfigError(f"{path} is not a kubeconfig (no `kind: Config` mapping); choose another --kubeconfig "
                              "path: stsnb never overwrites a file it did not write")
    for key, _ in _LISTS:
        if doc.get(key) is not None and not isinstance(doc.get(key), list):
            raise KubeconfigError(f"{path}: `{key}` is not a list, so this is not a kubeconfig stsnb can merge "
                                  "into; choose another --kubeconfig path")


def _dump(doc: Any, path: Path) -> None:
    buf = io.StringIO()
    _yaml().dump(doc, buf)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(buf.getvalue())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def merge(path: str | os.PathLike, config: dict, set_current: bool = False) -> Merged:
    """Add the entries of ``config`` (the sandbox's own kubeconfig) to the kubeconfig at ``path``."""
    path = Path(path)
    name = config["current-context"]
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        doc, created = None, True
    else:
        doc, created = _load(path), False
    if doc is None:  # a new or empty file: the sandbox's kubeconfig as it is
        from ruamel.yaml.comments import CommentedMap
        doc = CommentedMap()
        for key in ("apiVersion", "kind", "preferences", "clusters", "users", "contexts", "current-context"):
            doc[key] = config[key]
        _dump(doc, path)
        return Merged(path, name, created, None, True)
    _check(doc, path)
    for key, _ in _LISTS:
        items = doc.get(key)
        if items is None:
            doc[key] = items = []
        items[:] = [i for i in items if not (hasattr(i, "get") and i.get("name") == name)]
        items.extend(config[key])
    previous = doc.get("current-context")
    if set_current:
        doc["current-context"] = name
    _dump(doc, path)
    return Merged(path, name, False, previous, set_current)


def unmerge(merged: Merged, server: str) -> None:
    """Take the sandbox's entries out again (those still pointing at ``server``); restore current-context."""
    path = merged.path
    if not path.exists():
        return
    doc = _load(path)
    if doc is None or not hasattr(doc, "get"):
        return
    clusters = [c for c in doc.get("clusters") or [] if hasattr(c, "get") and c.get("name") == merged.name]
    if not clusters or (clusters[0].get("cluster") or {}).get("server") != server:
        return  # someone replaced our entries since: they are not ours to remove
    for key, _ in _LISTS:
        items = doc.get(key)
        if isinstance(items, list):
            items[:] = [i for i in items if not (hasattr(i, "get") and i.get("name") == merged.name)]
    if merged.set_current and doc.get("current-context") == merged.name:
        if merged.previous_current is None:
            doc.pop("current-context", None)
        else:
            doc["current-context"] = merged.previous_current
    if merged.created and not any(doc.get(key) for key, _ in _LISTS):
        path.unlink()
        return
    _dump(doc, path)
