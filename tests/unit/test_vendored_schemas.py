"""tools/vendor_schemas.py: the API schemas stored as one full version and deltas, rebuilt exactly."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import lzma
from pathlib import Path

import pytest

from stsnb.sandbox.apiserver.schemas import VendoredSchemas

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("vendor_schemas", ROOT / "tools" / "vendor_schemas.py")
vendor_schemas = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vendor_schemas)


def canonical_sha256(defs: dict) -> str:
    return hashlib.sha256(json.dumps(defs, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


# --- tools/vendor_schemas.py ------------------------------------------------------


def _fake_release(folder: Path) -> dict[str, dict]:
    """Three minor versions: one definition changed, one added, one removed, one reordered only."""
    widget = {"description": "A widget.", "type": "object", "properties": {"size": {"type": "integer"}}}
    kind = {"description": "kind", "type": "string", "enum": ["Gadget"]}
    versions = {
        "1.40": {"io.example.v1.Gadget": {"properties": {"kind": kind}}, "io.example.v1.Gone": {"type": "string"},
                 "io.example.v1.Widget": widget},
        "1.41": {"io.example.v1.Gadget": {"properties": {"kind": kind}},
                 "io.example.v1.Widget": {**widget, "properties": {"size": {"type": "integer"},
                                                                   "colour": {"type": "string"}}}},
        "1.42": {"io.example.v1.Gadget": {"properties": {"kind": {"enum": ["Gadget"], "type": "string",
                                                                  "description": "kind"}}},
                 "io.example.v1.New": {"type": "boolean"},
                 "io.example.v1.Widget": {**widget, "properties": {"size": {"type": "integer"},
                                                                   "colour": {"type": "string"}}}},
    }
    for version, defs in versions.items():
        target = folder / f"v{version}.0-local"
        target.mkdir(parents=True)
        (target / "_definitions.json").write_text(json.dumps({"$defs": defs, "$id": "x"}, indent=2))
        strict = folder / f"v{version}.0-local-strict"  # not vendored
        strict.mkdir()
        (strict / "_definitions.json").write_text("{}")
    return versions


def test_vendoring_a_folder_stores_deltas_that_rebuild_each_version_exactly(tmp_path, capsys):
    versions = _fake_release(tmp_path / "kubernetes-json-schema")
    out = tmp_path / "api-schemas"
    out.mkdir()
    (out / "v1.39.json.xz").write_bytes(b"stale")
    assert vendor_schemas.main(["9.9.9", "--from", str(tmp_path / "kubernetes-json-schema"), "--out", str(out)]) == 0
    assert "each rebuilt and checked" in capsys.readouterr().out

    source = json.loads((out / "SOURCE.json").read_text())
    assert source["version"] == "9.9.9"
    assert source["license"] == "Apache-2.0"
    assert sorted(p.name for p in out.iterdir()) == ["SOURCE.json", "v1.40.json.xz", "v1.41.json.xz", "v1.42.json.xz"]
    with lzma.open(out / "v1.41.json.xz") as fh:
        assert json.load(fh) == {"base": "1.40", "defs": {"io.example.v1.Widget": versions["1.41"]["io.example.v1.Widget"]},
                                 "removed": ["io.example.v1.Gone"]}
    with lzma.open(out / "v1.42.json.xz") as fh:
        delta = json.load(fh)
    assert sorted(delta["defs"]) == ["io.example.v1.Gadget", "io.example.v1.New"]  # a new key order is a change

    files = VendoredSchemas(out)
    assert files.versions() == ["1.40", "1.41", "1.42"]
    for version, defs in versions.items():
        rebuilt = files.definitions(version)
        assert json.dumps(rebuilt) == json.dumps(defs)  # the same definitions in the same key order
        assert source["versions"][version]["sha256"] == canonical_sha256(defs)


def test_vendoring_the_same_release_twice_writes_the_same_bytes(tmp_path):
    _fake_release(tmp_path / "kubernetes-json-schema")
    args = ["9.9.9", "--from", str(tmp_path / "kubernetes-json-schema")]
    vendor_schemas.main([*args, "--out", str(tmp_path / "a")])
    vendor_schemas.main([*args, "--out", str(tmp_path / "b")])
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes()


def test_vendoring_a_folder_needs_the_release_it_comes_from(tmp_path, capsys):
    _fake_release(tmp_path / "kubernetes-json-schema")
    with pytest.raises(SystemExit):
        vendor_schemas.main(["--from", str(tmp_path / "kubernetes-json-schema"), "--out", str(tmp_path / "out")])
    assert "give the kubernetes-validate release" in capsys.readouterr().err
