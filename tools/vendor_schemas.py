#!/usr/bin/env python3
"""Vendor the per-version Kubernetes API schemas from a kubernetes-validate release into stsnb.

The sandbox's API server reads the OpenAPI-derived JSON schemas of each Kubernetes minor
version (``stsnb/sandbox/apiserver/schemas.py``). They come from the ``kubernetes-validate``
package (Apache-2.0), whose wheel holds ``kubernetes-json-schema/v1.MM.0-local/_definitions.json``
for every minor version it supports. stsnb does not depend on the package at run time: with it
installed, ``import kubernetes`` imports it, hence jsonschema (and, with JupyterLab, rfc3987-syntax's
Lark parsers: 1.6 CPU-s per kernel), and it takes 108 MB. This script copies the non-strict
``_definitions.json`` of every minor version into ``stsnb/sandbox/apiserver/api-schemas/``:

* the oldest version in full, ``v1.25.json.xz`` holding ``{"$defs": {...}}``;
* each later one as a delta against the minor before it, ``v1.26.json.xz`` holding
  ``{"base": "1.25", "defs": {name: schema, ...}, "removed": [name, ...]}``: every definition
  added or changed (whole), and the names gone;
* ``SOURCE.json``: the release, its licence and address, and per minor version its file, its
  base, its number of definitions and the sha256 of its definitions, both canonical
  (``json.dumps(defs, sort_keys=True, separators=(",", ":"))``) and in upstream's key order.

Files are JSON with upstream's key order and no spaces, compressed with ``lzma`` (xz, preset 9);
the output is byte for byte the same for the same input. After writing, every version is rebuilt
with stsnb's own reader and checked against both hashes. Files of versions the release no longer
ships are deleted. ``LICENSE`` (the package's notice) is copied from the wheel; ``README.md`` is
written by hand.

Usage (with the project's venv, so that ``pip`` and ``stsnb`` are the project's)::

    .venv/bin/python tools/vendor_schemas.py              # the release recorded in SOURCE.json
    .venv/bin/python tools/vendor_schemas.py 1.38.0       # another release, from the package index
    .venv/bin/python tools/vendor_schemas.py 1.37.0 --from .../kubernetes_validate/kubernetes-json-schema

``--from`` reads an unpacked ``kubernetes-json-schema`` folder instead of downloading the wheel
(offline); give the release it comes from unless the folder sits in an installed package whose
``kubernetes_validate-X.dist-info`` says it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "stsnb" / "sandbox" / "apiserver" / "api-schemas"
PACKAGE = "kubernetes-validate"
UPSTREAM = "https://github.com/willthames/kubernetes-validate"
LICENSE = "Apache-2.0"
#: The non-strict definitions of one minor version, inside the wheel or the folder.
MEMBER = re.compile(r"(?:^|/)v(\d+)\.(\d+)\.0-local/_definitions\.json$")


def canonical(defs: dict[str, Any]) -> bytes:
    """The JSON that ``sha256`` in SOURCE.json hashes: sorted keys, no spaces."""
    return json.dumps(defs, sort_keys=True, separators=(",", ":")).encode()


def ordered(obj: Any) -> bytes:
    """JSON in the object's own key order, no spaces: what the files hold, what ``sha256_ordered`` hashes."""
    return json.dumps(obj, separators=(",", ":")).encode()


def compress(obj: Any) -> bytes:
    return lzma.compress(ordered(obj), format=lzma.FORMAT_XZ, preset=9)


def _minor_key(minor: str) -> tuple[int, int]:
    major, _, rest = minor.partition(".")
    return int(major), int(rest)


# -- reading a release -------------------------------------------------------


def read_folder(folder: Path) -> dict[str, bytes]:
    """minor → raw ``_definitions.json`` of an unpacked ``kubernetes-json-schema`` folder."""
    found = {}
    for path in folder.glob("v*.0-local/_definitions.json"):
        match = MEMBER.search(path.relative_to(folder).as_posix())
        if match:
            found[f"{match.group(1)}.{match.group(2)}"] = path.read_bytes()
    if not found:
        raise SystemExit(f"vendor_schemas: no v1.MM.0-local/_definitions.json in {folder}")
    return found


def read_wheel(wheel: Path) -> tuple[dict[str, bytes], bytes | None]:
    """minor → raw ``_definitions.json`` from the wheel, and the package's licence text if it has one."""
    found = {}
    licence = None
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            match = MEMBER.search(name)
            if match and "/kubernetes-json-schema/" in "/" + name:
                found[f"{match.group(1)}.{match.group(2)}"] = zf.read(name)
            elif re.search(r"\.dist-info/(licenses/)?LICEN[CS]E(\.txt)?$", name):
                licence = zf.read(name)
    if not found:
        raise SystemExit(f"vendor_schemas: no kubernetes-json-schema/v1.MM.0-local/_definitions.json in {wheel}")
    return found, licence


def download(version: str, into: Path) -> Path:
    """``pip download kubernetes-validate==version --no-deps`` with this interpreter; the wheel's path."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
                    "-d", str(into), f"{PACKAGE}=={version}"], check=True)
    wheels = sorted(into.glob("*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"vendor_schemas: expected one wheel from pip download, got {[w.name for w in wheels]}")
    return wheels[0]


def installed_version(folder: Path) -> str | None:
    """The release of an installed package's ``kubernetes-json-schema`` folder, from its dist-info."""
    for meta in folder.resolve().parent.parent.glob("kubernetes_validate-*.dist-info/METADATA"):
        match = re.search(r"^Version: (\S+)$", meta.read_text(errors="replace"), re.M)
        if match:
            return match.group(1)
    return None


# -- writing ------------------------------------------------------------------


def build(raw: dict[str, bytes]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """``(minor, its definitions, what its file holds)``, oldest first: the first in full, then deltas."""
    previous: tuple[str, dict[str, Any]] | None = None
    for minor in sorted(raw, key=_minor_key):
        defs = json.loads(raw[minor])["$defs"]
        if list(defs) != sorted(defs):
            # The reader rebuilds a version's definitions in name order, as upstream lists them.
            raise SystemExit(f"vendor_schemas: the definitions of {minor} are not listed by name")
        if previous is None:
            doc: dict[str, Any] = {"$defs": defs}
        else:
            base, before = previous
            doc = {
                "base": base,
                # Compared as text in key order, so a change of order alone counts as a change.
                "defs": {name: schema for name, schema in defs.items()
                         if name not in before or ordered(before[name]) != ordered(schema)},
                "removed": sorted(set(before) - set(defs)),
            }
        yield minor, defs, doc
        previous = minor, defs


def write(raw: dict[str, bytes], out: Path, source: dict[str, Any], licence: bytes | None) -> dict[str, Any]:
    """Write the files and SOURCE.json into ``out``; return SOURCE.json's content."""
    out.mkdir(parents=True, exist_ok=True)
    versions = {}
    written = set()
    for minor, defs, doc in build(raw):
        name = f"v{minor}.json.xz"
        (out / name).write_bytes(compress(doc))
        written.add(name)
        versions[minor] = {
            "file": name,
            "base": doc.get("base"),
            "definitions": len(defs),
            "sha256": hashlib.sha256(canonical(defs)).hexdigest(),
            "sha256_ordered": hashlib.sha256(ordered(defs)).hexdigest(),
        }
    for stale in out.glob("v*.json.xz"):
        if stale.name not in written:
            stale.unlink()
    source = {**source, "versions": versions}
    (out / "SOURCE.json").write_text(json.dumps(source, indent=2, ensure_ascii=False) + "\n")
    if licence is not None:
        (out / "LICENSE").write_bytes(licence)
    return source


def verify(out: Path) -> None:
    """Rebuild every version with stsnb's reader and compare both hashes with SOURCE.json."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # this checkout's stsnb, also when run from elsewhere
    from stsnb.sandbox.apiserver.schemas import VendoredSchemas

    files = VendoredSchemas(out)  # a fresh reader: nothing cached from before this run
    for minor in files.versions():
        defs = files.definitions(minor)
        entry = files.index[minor]
        if hashlib.sha256(canonical(defs)).hexdigest() != entry["sha256"]:
            raise SystemExit(f"vendor_schemas: {minor} does not rebuild to its definitions")
        if hashlib.sha256(ordered(defs)).hexdigest() != entry["sha256_ordered"]:
            raise SystemExit(f"vendor_schemas: {minor} rebuilds with another key order than upstream's")


def description(version: str) -> str:
    return (f"The non-strict v1.MM.0-local/_definitions.json of every Kubernetes minor version shipped by "
            f"{PACKAGE} {version} ({LICENSE}, {UPSTREAM}), the oldest in full, each later one as a delta "
            f"against the minor before it, xz-compressed; written by tools/vendor_schemas.py, read by "
            f"stsnb/sandbox/apiserver/schemas.py. sha256: of json.dumps(defs, sort_keys=True, "
            f"separators=(',', ':')); sha256_ordered: the same in upstream's key order.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("version", nargs="?",
                        help="the kubernetes-validate release (default: the one SOURCE.json records)")
    parser.add_argument("--from", dest="folder", type=Path, metavar="DIR",
                        help="read this kubernetes-json-schema folder instead of downloading the wheel")
    parser.add_argument("--out", type=Path, default=OUT, help=f"where to write (default: {OUT.relative_to(ROOT)})")
    args = parser.parse_args(argv)

    version = args.version
    if args.folder is not None:
        version = version or installed_version(args.folder)
        if not version:
            parser.error("give the kubernetes-validate release the --from folder comes from")
        raw, licence = read_folder(args.folder), None
        origin: dict[str, Any] = {"from": "folder"}
    else:
        if not version:
            recorded = args.out / "SOURCE.json"
            if not recorded.is_file():
                parser.error(f"no {recorded}: give the kubernetes-validate release to vendor")
            version = json.loads(recorded.read_text())["version"]
        with tempfile.TemporaryDirectory(prefix="vendor-schemas-") as tmp:
            wheel = download(version, Path(tmp))
            raw, licence = read_wheel(wheel)
            origin = {"from": "wheel", "wheel": wheel.name, "wheel_sha256": hashlib.sha256(wheel.read_bytes()).hexdigest()}

    source = write(raw, args.out, {
        "description": description(version),
        "package": PACKAGE,
        "version": version,
        "license": LICENSE,
        "url": UPSTREAM,
        **origin,
    }, licence)
    verify(args.out)
    total = sum(p.stat().st_size for p in args.out.glob("v*.json.xz"))
    print(f"vendor_schemas: {PACKAGE} {version}: {', '.join(source['versions'])} "
          f"into {args.out} ({total / 1e6:.2f} MB), each rebuilt and checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
