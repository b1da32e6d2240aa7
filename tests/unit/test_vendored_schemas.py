"""The API schemas ship inside stsnb (``api-schemas/``), written by tools/vendor_schemas.py.

They are kubernetes-validate's, stored as one full version and deltas; every version must rebuild
to exactly upstream's definitions, and stsnb must not need kubernetes-validate at run time.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import lzma
import subprocess
import sys
from pathlib import Path

import pytest

from stsnb.sandbox.apiserver.schemas import SCHEMA_DIR, Schemas, VendoredSchemas
from stsnb.sandbox.profile import SUPPORTED

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("vendor_schemas", ROOT / "tools" / "vendor_schemas.py")
vendor_schemas = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vendor_schemas)

CONTAINER = "io.k8s.api.core.v1.Container"
SOURCE = json.loads((SCHEMA_DIR / "SOURCE.json").read_text())


def canonical_sha256(defs: dict) -> str:
    return hashlib.sha256(json.dumps(defs, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def ordered_sha256(defs: dict) -> str:
    return hashlib.sha256(json.dumps(defs, separators=(",", ":")).encode()).hexdigest()


@pytest.mark.parametrize("version", sorted(SOURCE["versions"]))
def test_every_shipped_version_rebuilds_to_the_definitions_recorded_in_source_json(version):
    defs = VendoredSchemas(SCHEMA_DIR).definitions(version)  # a fresh reader: rebuilt from the full file
    assert canonical_sha256(defs) == SOURCE["versions"][version]["sha256"]
    assert ordered_sha256(defs) == SOURCE["versions"][version]["sha256_ordered"]  # upstream's key order too
    assert len(defs) == SOURCE["versions"][version]["definitions"]
    assert Schemas.for_version(version).definitions == defs


def test_the_shipped_versions_are_the_ones_the_sandbox_supports():
    assert Schemas.available_versions() == [f"1.{m}" for m in range(25, 38)]
    assert tuple(Schemas.available_versions()) == SUPPORTED


def test_the_source_names_the_release_and_its_licence():
    assert SOURCE["package"] == "kubernetes-validate"
    assert SOURCE["license"] == "Apache-2.0"
    assert SOURCE["url"] == "https://github.com/willthames/kubernetes-validate"
    assert (SCHEMA_DIR / "LICENSE").read_text().startswith("kubernetes-validate")
    assert "tools/vendor_schemas.py" in (SCHEMA_DIR / "README.md").read_text()  # how to regenerate


def test_the_oldest_version_is_stored_whole_and_each_later_one_as_a_delta_against_the_one_before():
    versions = Schemas.available_versions()
    with lzma.open(SCHEMA_DIR / "v1.25.json.xz") as fh:
        assert set(json.load(fh)) == {"$defs"}
    for before, version in zip(versions, versions[1:]):
        assert SOURCE["versions"][version]["base"] == before
        with lzma.open(SCHEMA_DIR / f"v{version}.json.xz") as fh:
            assert set(json.load(fh)) == {"base", "defs", "removed"}


def test_import_kubernetes_imports_neither_kubernetes_validate_nor_jsonschema():
    # kubernetes/dynamic/client.py imports kubernetes_validate whenever it is installed, and with it
    # jsonschema (1.6 CPU-s with JupyterLab's extras): the package must stay out of the environment.
    code = ("import sys, kubernetes, kubernetes.dynamic\n"
            "print(sorted(m for m in ('jsonschema', 'kubernetes_validate') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_later_version_built_on_an_earlier_one_leaves_the_earlier_one_as_it_was():
    files = VendoredSchemas(SCHEMA_DIR)
    v27 = files.definitions("1.27")
    v30 = files.definitions("1.30")
    # Container.restartPolicy (sidecars) appeared in 1.28.
    assert "restartPolicy" not in v27[CONTAINER]["properties"]
    assert "restartPolicy" in v30[CONTAINER]["properties"]
    assert v27[CONTAINER] is not v30[CONTAINER]
    assert "io.k8s.api.flowcontrol.v1beta2.FlowSchema" in v27  # removed in 1.29
    assert "io.k8s.api.flowcontrol.v1beta2.FlowSchema" not in v30
    assert v27 is not v30
    v30["io.example.v1.Added"] = {}  # the top-level dicts are separate
    assert "io.example.v1.Added" not in v27
    del v30["io.example.v1.Added"]
    assert canonical_sha256(v27) == SOURCE["versions"]["1.27"]["sha256"]
    assert canonical_sha256(files.definitions("1.28")) == SOURCE["versions"]["1.28"]["sha256"]


def test_a_version_is_built_from_the_nearest_older_one_already_built(monkeypatch):
    files = VendoredSchemas(SCHEMA_DIR)
    read = []
    original = files.read
    monkeypatch.setattr(files, "read", lambda minor: read.append(minor) or original(minor))
    v27 = files.definitions("1.27")
    assert read == ["1.25", "1.26", "1.27"]
    read.clear()
    v30 = files.definitions("1.30")
    assert read == ["1.28", "1.29", "1.30"]
    read.clear()
    assert files.definitions("1.27") is v27
    assert files.definitions("1.30") is v30
    assert read == []
    # Definitions no release in between changed are the same objects, not copies.
    unchanged = "io.k8s.api.apps.v1.StatefulSetUpdateStrategy"
    assert v30[unchanged] is v27[unchanged]


def test_schemas_point_at_the_vendored_file_of_their_version():
    schemas = Schemas.for_version("1.30")
    assert schemas.path == SCHEMA_DIR / "v1.30.json.xz"
    assert schemas.path.is_file()


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
