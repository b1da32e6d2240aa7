#!/usr/bin/env python3
"""Derive the sandbox's protobuf field table from upstream ``generated.proto`` files.

Kubernetes' protobuf wire format is defined by the ``generated.proto`` files that
go-to-protobuf writes next to each API package (kubernetes/api ``core/v1``,
``apps/v1``, ``batch/v1`` …; kubernetes/apimachinery ``pkg/apis/meta/v1``,
``pkg/runtime``, ``pkg/util/intstr``, ``pkg/api/resource``). This script reads
such files and writes, for every message, its fields by number: JSON name, type
(fully qualified), and label (``optional``, ``repeated`` or ``map``). The
sandbox's decoder (``stsnb/sandbox/apiserver/protobuf.py``) reads only that table,
so no field number is typed by hand.

One more fact comes from the API schemas (``--schemas``: a Kubernetes minor
version, read from the schemas stsnb ships, or the path of a ``_definitions.json``
such as kubernetes-validate's): which message fields
are Go *embedded* structs whose fields JSON shows inline (``Volume.volumeSource``,
``Probe.handler``, ``ConfigMapKeySelector.localObjectReference`` …). A
message-typed field whose name is not a property of its message's schema is
marked ``inline``.

Usage::

    python tools/proto_fields.py --schemas 1.37 \\
        --out stsnb/sandbox/apiserver/proto_fields.json  path/to/*.proto

The parser covers the subset of proto2 that go-to-protobuf emits: ``syntax``,
``package``, ``import``, ``option``, top-level ``message`` blocks of
``optional``/``repeated`` fields and ``map<K, V>`` fields, with ``//`` and
``/* */`` comments. Anything else is an error naming the file and line.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

SCALARS = frozenset({"string", "bytes", "bool", "int32", "int64", "uint32", "uint64", "sint32", "sint64",
                     "fixed32", "fixed64", "sfixed32", "sfixed64", "double", "float"})

_FIELD = re.compile(r"^(optional|repeated|required)\s+([.\w]+)\s+(\w+)\s*=\s*(\d+)\s*(\[[^\]]*\])?\s*;$")
_MAP = re.compile(r"^map\s*<\s*(\w+)\s*,\s*([.\w]+)\s*>\s+(\w+)\s*=\s*(\d+)\s*;$")


class ProtoSyntaxError(ValueError):
    pass


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return "\n".join(line.split("//", 1)[0] for line in text.splitlines())


def parse(text: str, source: str = "<proto>") -> tuple[str, dict[str, dict[int, dict]]]:
    """``(package, {message name: {number: field}})`` of one ``.proto`` text (names not yet qualified)."""
    package = ""
    messages: dict[str, dict[int, dict]] = {}
    current: dict[int, dict] | None = None
    for lineno, raw in enumerate(_strip_comments(text).splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        where = f"{source}:{lineno}"
        if current is None:
            if line.startswith(("syntax", "import", "option")):
                continue
            m = re.fullmatch(r"package\s+([\w.]+)\s*;", line)
            if m:
                package = m.group(1)
                continue
            m = re.fullmatch(r"message\s+(\w+)\s*\{\s*(\})?", line)
            if m:
                current = messages.setdefault(m.group(1), {})
                if m.group(2):
                    current = None
                continue
            raise ProtoSyntaxError(f"{where}: unexpected {line!r} outside a message")
        if line == "}":
            current = None
            continue
        m = _FIELD.match(line)
        if m:
            label, type_, name, number = m.group(1), m.group(2), m.group(3), int(m.group(4))
            _add(current, number, {"name": name, "type": type_, "label": "repeated" if label == "repeated"
                                   else "optional"}, where)
            continue
        m = _MAP.match(line)
        if m:
            key, value, name, number = m.group(1), m.group(2), m.group(3), int(m.group(4))
            _add(current, number, {"name": name, "type": value, "label": "map", "key": key}, where)
            continue
        raise ProtoSyntaxError(f"{where}: not a field go-to-protobuf writes: {line!r}")
    if current is not None:
        raise ProtoSyntaxError(f"{source}: a message is not closed")
    if not package:
        raise ProtoSyntaxError(f"{source}: no package statement")
    return package, messages


def _add(message: dict[int, dict], number: int, field: dict, where: str) -> None:
    if number in message:
        raise ProtoSyntaxError(f"{where}: field number {number} is used twice")
    message[number] = field


def _qualify(type_: str, package: str) -> str:
    if type_ in SCALARS:
        return type_
    if type_.startswith("."):
        return type_[1:]
    if "." in type_:
        return type_
    return f"{package}.{type_}"


def _definition(message: str) -> str:
    """``k8s.io.api.core.v1.Probe`` → ``io.k8s.api.core.v1.Probe`` (the schemas' definition name)."""
    return "io.k8s." + message[len("k8s.io."):] if message.startswith("k8s.io.") else message


def build(paths: list[Path], schemas: dict | None) -> dict:
    """The table: every message of every file, types qualified, embedded fields marked ``inline``."""
    table: dict[str, dict[str, list]] = {}
    sources = []
    for path in paths:
        package, messages = parse(path.read_text(encoding="utf-8"), str(path))
        sources.append({"file": path.name, "package": package, "messages": len(messages)})
        for name, fields in messages.items():
            full = f"{package}.{name}"
            table[full] = {}
            for number, f in sorted(fields.items()):
                entry = [f["name"], _qualify(f["type"], package), f["label"]]
                table[full][str(number)] = entry
    if schemas is not None:
        for full, fields in table.items():
            props = (schemas.get(_definition(full)) or {}).get("properties")
            if props is None:
                continue
            for entry in fields.values():
                if entry[2] == "optional" and entry[1] not in SCALARS and entry[0] not in props:
                    entry.append("inline")
    return {"comment": "Generated by tools/proto_fields.py from upstream generated.proto files; do not edit.",
            "sources": sources, "messages": dict(sorted(table.items()))}


def dumps(table: dict) -> str:
    """The table as JSON with one message per line, so a diff shows which messages changed."""
    lines = [f'{{"comment":{json.dumps(table["comment"])},', f'"sources":{json.dumps(table["sources"])},',
             '"messages":{']
    items = list(table["messages"].items())
    for i, (name, fields) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"{json.dumps(name)}:{json.dumps(fields, separators=(',', ':'))}{comma}")
    lines.append("}}")
    return "\n".join(lines) + "\n"


def load_schemas(source: str) -> dict:
    """The definitions named by ``--schemas``: a ``_definitions.json`` file, or a minor version stsnb ships."""
    path = Path(source)
    if path.is_file():
        return json.loads(path.read_text())["$defs"]
    if not re.fullmatch(r"v?\d+\.\d+(\.\d+)?", source):
        raise SystemExit(f"proto_fields: --schemas {source!r} is neither a file nor a Kubernetes version such as 1.37")
    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)  # this checkout's stsnb
    from stsnb.sandbox.apiserver.schemas import Schemas

    try:
        return Schemas.for_version(source).definitions
    except ValueError as e:
        raise SystemExit(f"proto_fields: {e}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("protos", nargs="+", type=Path, help="generated.proto files")
    parser.add_argument("--schemas", metavar="VERSION|FILE",
                        help="a minor version of the schemas stsnb ships, or a _definitions.json (marks inline fields)")
    parser.add_argument("--out", type=Path, help="write the table here (default: standard output)")
    args = parser.parse_args(argv)
    schemas = load_schemas(args.schemas) if args.schemas else None
    try:
        table = build(args.protos, schemas)
    except (ProtoSyntaxError, OSError) as e:
        print(f"proto_fields: {e}", file=sys.stderr)
        return 1
    text = dumps(table)
    if args.out:
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
