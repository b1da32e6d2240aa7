"""The API schemas of each Kubernetes version, and the Go view of their nodes.

Why this module exists
----------------------
A real kube-apiserver knows every field of every kind through Go structs. The
sandbox has no Go structs, but it ships the OpenAPI-derived JSON schemas of
every Kubernetes minor version from 1.25 on, taken from the ``kubernetes-validate``
package (Apache-2.0; its ``kubernetes-json-schema/v1.XX.0-local/_definitions.json``)
by ``tools/vendor_schemas.py`` into ``api-schemas/`` beside this module.
Everything in the API server that needs field knowledge reads them through
:class:`Schemas`, so nothing keeps a hand-written list of fields:

* :mod:`.decoding` turns a request body into a cleaned object the way the API
  server's JSON decoder does, with the server's exact error texts;
* :mod:`.strategic` applies strategic merge patches, with merge keys and
  strategies from the schema's ``x-kubernetes-patch-*`` extensions;
* :mod:`.patches` applies JSON patches and JSON merge patches (no schema needed);
* :mod:`.openapi` rebuilds the OpenAPI v2 and v3 documents kubectl fetches;
* :mod:`.printers` takes its column descriptions from the field descriptions here
  (:meth:`Schemas.field_description`), so each version serves its own wording.

This module holds what they share: loading a version's definitions, looking up
kinds and fields, the :class:`Shape` (the Go type a schema node stands for, as
apimachinery's messages name it) and :class:`SchemaError`, the error all of them
raise with the server's words, status code and reason.

How the schemas are stored
--------------------------
``api-schemas/`` holds the oldest minor version in full (``v1.25.json.xz``,
``{"$defs": {...}}``) and every later one as a delta against the minor before it
(``v1.26.json.xz``: ``{"base": "1.25", "defs": {...}, "removed": [...]}``, the
definitions added or changed and the names removed), lzma-compressed: 0.6 MB for
thirteen versions that take 17 MB as plain files. ``SOURCE.json`` indexes them and
records where they came from and the sha256 of each version's definitions; its
README says how to regenerate them. The definitions keep upstream's key order, so
the OpenAPI documents list fields as before.

A version is rebuilt lazily, on first use, by applying the deltas to the nearest
older version already rebuilt (or to the full file): each step copies the previous
version's top-level dict and replaces whole definitions, so versions share the
definitions that did not change and no step modifies another version's objects.

Only the non-strict variant is vendored: the ``-strict`` variant differs only by
``additionalProperties: false`` on every object with properties, which the
decoder applies itself (checked for 1.27 and 1.35 when this code was written).

Known difference from a real server: Go type names of named string types
(``v1.PullPolicy``) and named maps (``v1.ResourceList``) are not in the schema;
shapes name them ``string`` and ``map[string]resource.Quantity`` instead.
"""

from __future__ import annotations

import json
import lzma
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

__all__ = [
    "INT_OR_STRING",
    "QUANTITY",
    "SchemaError",
    "Schemas",
    "Shape",
    "VendoredSchemas",
    "internal_error",
]

T = TypeVar("T")

#: Definitions the decoder and the OpenAPI documents treat specially (custom Go marshalling).
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_VOLUME = "io.k8s.api.core.v1.Volume"


class SchemaError(ValueError):
    """A request the API server would reject, with the server's own words.

    Attributes:
        message: The ``Status.message`` the real server sends.
        field_path: Where the problem is, as ``spec.template.spec.containers[0].image``
            (empty when the whole document is at fault).
        code: The HTTP status code (400, 413, 422 or 500).
        reason: The ``Status.reason`` (``BadRequest``, ``Invalid``, ... or ``""``).
        detail: The inner Go error text, without the server's wrapping.
        causes: ``Status.details.causes`` entries, if the server sends any.
    """

    def __init__(
        self,
        message: str,
        field_path: str = "",
        *,
        code: int = 400,
        reason: str = "BadRequest",
        detail: str | None = None,
        causes: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field_path = field_path
        self.code = code
        self.reason = reason
        self.detail = message if detail is None else detail
        self.causes = list(causes or [])

    def to_status(self) -> dict[str, Any]:
        """Render as the ``metav1.Status`` body the API server sends with this error."""
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.causes:
            status["details"] = {"causes": self.causes}
        if not self.reason:
            del status["reason"]
        return status


def internal_error(message: str, field_path: str = "") -> SchemaError:
    """An error the server reports as a plain (non-Status) error: 500, no reason."""
    return SchemaError(message, field_path, code=500, reason="")


# ---------------------------------------------------------------------------
# Schema shapes: what Go type a schema node stands for.
# ---------------------------------------------------------------------------


class Shape:
    """The Go view of one schema node: its kind, Go type name and children."""

    __slots__ = ("kind", "name", "target", "go_type", "props", "elem", "struct_name", "typemeta", "volume")

    def __init__(self, kind: str, name: str | None, target: dict[str, Any]) -> None:
        self.kind = kind  # struct map free list string bytes time int32 int64 float bool intstr quantity
        self.name = name  # definition name when the node is a $ref
        self.target = target  # the resolved schema
        self.go_type = ""
        self.props: dict[str, Any] = target.get("properties") or {}
        self.elem: Shape | None = None
        self.struct_name = name.rsplit(".", 1)[-1] if name else ""
        # Kinds embed metav1.TypeMeta inline; Volume embeds VolumeSource inline. Go puts the
        # embedded struct's name into the field path of type errors.
        self.typemeta = "x-kubernetes-group-version-kind" in target
        self.volume = name == _VOLUME

    @property
    def go_kind(self) -> str:
        """``reflect.Kind`` of the Go type, as apimachinery's messages print it."""
        return {
            "struct": "struct",
            "intstr": "struct",
            "quantity": "struct",
            "time": "struct",
            "free": "interface",
            "map": "map",
            "list": "slice",
            "bytes": "slice",
            "float": "float64",
        }.get(self.kind, self.kind)


def _short_go_name(definition: str) -> str:
    """``io.k8s.api.apps.v1.StatefulSetSpec`` → ``v1.StatefulSetSpec`` (package.Type)."""
    parts = definition.split(".")
    return ".".join(parts[-2:]) if len(parts) >= 2 else definition


# ---------------------------------------------------------------------------
# The per-version schema set.
# ---------------------------------------------------------------------------


#: The vendored schemas (see "How the schemas are stored" above).
SCHEMA_DIR = Path(__file__).resolve().with_name("api-schemas")


class VendoredSchemas:
    """A folder of vendored schemas: ``SOURCE.json``, a full oldest version and deltas.

    One instance per folder (:meth:`at`); it rebuilds the versions asked for and keeps
    them. :class:`Schemas` reads :data:`SCHEMA_DIR` through it, ``tools/vendor_schemas.py``
    checks a folder it has just written.
    """

    _folders: ClassVar[dict[Path, VendoredSchemas]] = {}
    _folders_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, folder: Path) -> None:
        """Prefer :meth:`at`, which shares one instance per folder."""
        self.folder = folder
        self._lock = threading.Lock()
        self._index: dict[str, dict[str, Any]] | None = None
        self._built: dict[str, dict[str, Any]] = {}

    @classmethod
    def at(cls, folder: Path) -> VendoredSchemas:
        """The (shared) reader of ``folder``."""
        with cls._folders_lock:
            found = cls._folders.get(folder)
            if found is None:
                found = cls._folders[folder] = cls(folder)
            return found

    @property
    def source(self) -> dict[str, Any]:
        """``SOURCE.json``: provenance, and per minor version its file, base and sha256."""
        with (self.folder / "SOURCE.json").open("rb") as fh:
            return json.load(fh)

    @property
    def index(self) -> dict[str, dict[str, Any]]:
        """``SOURCE.json``'s ``versions``: minor → ``{"file", "base", "sha256", ...}``."""
        if self._index is None:
            self._index = self.source["versions"]
        return self._index

    def versions(self) -> list[str]:
        """The minor versions held, oldest first."""
        return sorted(self.index, key=lambda v: tuple(map(int, v.split("."))))

    def path(self, minor: str) -> Path:
        """The file holding ``minor``: the full definitions, or a delta against its base."""
        return self.folder / self.index[minor]["file"]

    def read(self, minor: str) -> dict[str, Any]:
        """The decompressed content of ``minor``'s file (a full file or a delta), uncached."""
        with lzma.open(self.path(minor), "rb") as fh:
            return json.load(fh)

    def definitions(self, minor: str) -> dict[str, Any]:
        """Every definition of ``minor`` by name (cached; read-only: do not modify it).

        Raises:
            KeyError: if the folder has no such version.
        """
        with self._lock:
            found = self._built.get(minor)
            if found is not None:
                return found
            steps = []  # the files to apply, newest first
            version: str | None = minor
            while version is not None and version not in self._built:
                steps.append(version)
                version = self.index[version]["base"]
            defs = self._built[version] if version is not None else None
            for step in reversed(steps):
                doc = self.read(step)
                if "$defs" in doc:
                    defs = doc["$defs"]
                    continue
                if defs is None:
                    raise ValueError(f"{self.path(step)} is a delta but no version before it is a full file")
                # A new top-level dict; definitions are replaced whole, never modified in place.
                merged = dict(defs)
                merged.update(doc["defs"])
                for name in doc["removed"]:
                    del merged[name]
                defs = {name: merged[name] for name in sorted(merged)}  # upstream lists them by name
            assert defs is not None
            self._built[minor] = defs
            return defs


def _normalise_version(version: str) -> str:
    match = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", version.strip())
    if not match:
        raise ValueError(f"not a Kubernetes version: {version!r}; use a minor version such as '1.27'")
    return f"{match.group(1)}.{match.group(2)}"


class Schemas:
    """The API schemas of one Kubernetes minor version.

    Get instances with :meth:`for_version`; they are shared (the data is
    read-only) and load their file on first use.

    Example:
        >>> s = Schemas.for_version("1.27")
        >>> s.type_for("apps/v1", "StatefulSet")
        'io.k8s.api.apps.v1.StatefulSet'
    """

    # One instance per minor version for the whole process: the schemas are
    # immutable, so sharing them is safe and saves rebuilding ~1 MB of definitions.
    _instances: ClassVar[dict[str, Schemas]] = {}
    _instances_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, minor: str, path: Path) -> None:
        """Prefer :meth:`for_version`; this takes a normalised minor and its vendored file.

        ``path`` is the file in a folder of vendored schemas (:data:`SCHEMA_DIR`) that holds
        this version, in full or as a delta against the minor before it; the definitions are
        rebuilt from that folder (:class:`VendoredSchemas`).
        """
        self.version = minor
        self.path = path
        self._lock = threading.RLock()
        self._definitions: dict[str, Any] | None = None
        self._gvk_index: dict[tuple[str, str, str], str] | None = None
        self._shapes: dict[int, Shape] = {}
        self._memo: dict[str, Any] = {}
        # Shapes are cached by node identity, so every node handed to shape() must stay alive.
        self._refs: dict[str, dict[str, Any]] = {}

    # -- construction -------------------------------------------------------

    @classmethod
    def for_version(cls, version: str) -> Schemas:
        """The (cached) schemas of a Kubernetes minor version.

        Args:
            version: ``"1.27"``, ``"v1.27"`` or ``"1.27.3"``.

        Raises:
            ValueError: if no schemas are shipped for that version.
        """
        minor = _normalise_version(version)
        with cls._instances_lock:
            found = cls._instances.get(minor)
            if found is None:
                files = VendoredSchemas.at(SCHEMA_DIR)
                if minor not in files.index:
                    raise ValueError(
                        f"no API schemas for Kubernetes {minor}; available: {', '.join(files.versions())}"
                    )
                found = cls._instances[minor] = cls(minor, files.path(minor))
            return found

    @staticmethod
    def available_versions() -> list[str]:
        """The minor versions whose schemas are shipped, oldest first."""
        return VendoredSchemas.at(SCHEMA_DIR).versions()

    @property
    def definitions(self) -> dict[str, Any]:
        """Every definition by name, as upstream's ``$defs`` (read-only: do not modify it).

        Versions share the definitions that did not change between them, so a change
        made here would show in other versions too.
        """
        defs = self._definitions
        if defs is None:
            with self._lock:
                if self._definitions is None:
                    self._definitions = VendoredSchemas.at(self.path.parent).definitions(self.version)
                defs = self._definitions
        return defs

    # -- lookups --------------------------------------------------------------

    def type_for(self, api_version: str, kind: str) -> str:
        """The definition name of a kind, e.g. ``io.k8s.api.apps.v1.StatefulSet``.

        Raises:
            KeyError: if this Kubernetes version has no such kind.
        """
        index = self._gvk_index
        if index is None:
            with self._lock:
                index = {}
                for name, schema in self.definitions.items():
                    for gvk in schema.get("x-kubernetes-group-version-kind", ()):
                        index.setdefault((gvk["group"], gvk["version"], gvk["kind"]), name)
                self._gvk_index = index
        group, _, version = api_version.rpartition("/")
        try:
            return index[(group, version, kind)]
        except KeyError:
            raise KeyError(f"no schema for {kind} in {api_version} in Kubernetes {self.version}") from None

    def group_version_kind(self, kind_def: str) -> tuple[str, str, str]:
        """(group, version, kind) of a definition that is a kind; the first listed if several."""
        gvks = self.definition(kind_def).get("x-kubernetes-group-version-kind") or []
        if not gvks:
            raise KeyError(f"{kind_def} is not a kind in Kubernetes {self.version}")
        return gvks[0]["group"], gvks[0]["version"], gvks[0]["kind"]

    def definition(self, kind_def: str) -> dict[str, Any]:
        """The raw JSON schema of a definition (read-only: do not modify it)."""
        try:
            return self.definitions[kind_def]
        except KeyError:
            raise KeyError(f"no definition {kind_def} in Kubernetes {self.version}") from None

    def field_description(self, kind_def: str, path: str) -> str:
        """The description ``kubectl explain`` shows for ``path`` (``spec.template.spec.containers.image``).

        Raises:
            KeyError: if a path segment is not a field.
        """
        shape = self.kind_shape(kind_def)
        description = shape.target.get("description", "")
        for part in filter(None, re.sub(r"\[\d*\]", "", path).split(".")):
            while shape.kind in ("list", "map") and shape.elem is not None:
                shape = shape.elem
            prop = shape.props.get(part)
            if prop is None:
                raise KeyError(f'field "{part}" does not exist in {shape.name or shape.go_type} ({path})')
            shape = self.shape(prop)
            description = prop.get("description") or shape.target.get("description", "")
        return description

    def kind_shape(self, kind_def: str) -> Shape:
        """The shape of a definition (a kind or any other named type).

        Raises:
            KeyError: if this Kubernetes version has no such definition.
        """
        if kind_def not in self.definitions:
            raise KeyError(f"no definition {kind_def} in Kubernetes {self.version}")
        return self.shape(self._kind_ref(kind_def))

    def shape(self, node: dict[str, Any]) -> Shape:
        """The shape of a schema node, cached by node identity (nodes live as long as ``self``)."""
        shape = self._shapes.get(id(node))
        if shape is None:
            shape = self._build_shape(node)
            self._shapes[id(node)] = shape
        return shape

    def _build_shape(self, node: dict[str, Any]) -> Shape:
        name = None
        target = node
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            target = self.definitions.get(name, {})
        if name == INT_OR_STRING or node.get("x-kubernetes-int-or-string"):
            shape = Shape("intstr", name, target)
            shape.go_type = "intstr.IntOrString"
            return shape
        if name == QUANTITY:
            shape = Shape("quantity", name, target)
            shape.go_type = "resource.Quantity"
            return shape
        kind_of_type = target.get("type")
        if isinstance(kind_of_type, list):
            kind_of_type = next((t for t in kind_of_type if t != "null"), None)
        fmt = target.get("format")
        if kind_of_type == "object" or (kind_of_type is None and "properties" in target):
            if target.get("properties"):
                kind = "struct"
            elif isinstance(target.get("additionalProperties"), dict):
                kind = "map"
            else:
                kind = "free"
        elif kind_of_type == "array":
            kind = "list"
        elif kind_of_type == "string":
            kind = {"byte": "bytes", "date-time": "time"}.get(fmt, "string")
        elif kind_of_type == "integer":
            kind = "int64" if fmt == "int64" else "int32"
        elif kind_of_type == "number":
            kind = "float"
        elif kind_of_type == "boolean":
            kind = "bool"
        else:
            kind = "free"
        shape = Shape(kind, name, target)
        if kind == "list":
            items = target.get("items")
            shape.elem = self.shape(items) if isinstance(items, dict) else Shape("free", None, {})
            shape.go_type = "[]" + (shape.elem.go_type or "interface {}")
        elif kind == "map":
            shape.elem = self.shape(target["additionalProperties"])
            shape.go_type = "map[string]" + (shape.elem.go_type or "interface {}")
        elif name:
            shape.go_type = _short_go_name(name)
        elif kind == "time":
            shape.go_type = "v1.Time"
        else:
            shape.go_type = {
                "string": "string",
                "bytes": "[]uint8",
                "int32": "int32",
                "int64": "int64",
                "float": "float64",
                "bool": "bool",
            }.get(kind, "interface {}")
        return shape

    def _kind_ref(self, kind_def: str) -> dict[str, Any]:
        """A ``$ref`` node to a definition that stays alive, so its shape can be cached."""
        node = self._refs.get(kind_def)
        if node is None:
            node = self._refs.setdefault(kind_def, {"$ref": "#/$defs/" + kind_def})
        return node

    # -- derived data -----------------------------------------------------------

    def memo(self, key: str, build: Callable[[], T]) -> T:
        """``build()``, computed once per ``key`` for this version (thread-safe; ``build`` may nest).

        The OpenAPI documents (:mod:`.openapi`) are cached here, so they are
        encoded once per process, like the schemas themselves.
        """
        with self._lock:
            if key not in self._memo:
                self._memo[key] = build()
            return self._memo[key]
