"""The protobuf decoder for kubectl's request bodies (its field table derived from upstream's
generated.proto files) and the OpenAPI v2 protobuf encoder.

The ``*_HEX`` bodies are the exact bytes kubectl 1.37.1 sent to the sandbox for the command above
each (logged from the API server side); the expected dicts are what the same kubectl sends as JSON
(``--dry-run=client -o json``), less ``creationTimestamp: null``.
"""

from __future__ import annotations

import json
import struct

import pytest

from stsnb.sandbox.core import errors
from stsnb.sandbox.apiserver.openapi_protobuf import (
    OPENAPI_V2_ACCEPT, OPENAPI_V2_CONTENT_TYPE, encode_openapi_v2, openapi_v2_protobuf, wants_openapi_v2_protobuf,
)
from stsnb.sandbox.apiserver.protobuf import (
    MAGIC, POINTER_FIELDS, ProtobufError, decode, decode_message, decode_request_body, iter_fields, message_for,
    messages,
)

CORE, META = "k8s.io.api.core.v1.", "k8s.io.apimachinery.pkg.apis.meta.v1."

# kubectl create service clusterip nginx-stateful --tcp=80:80 --clusterip=None
HEADLESS_HEX = (
    "6b3873000a0d0a027631120753657276696365128b010a350a0e6e67696e782d737461746566756c12001a0022002a0032003800"
    "42005a150a03617070120e6e67696e782d737461746566756c124e0a180a0538302d3830120354435018502206080010501a0028"
    "0012150a03617070120e6e67696e782d737461746566756c1a044e6f6e652209436c757374657249503a00420052005a00600068"
    "001a020a001a002200")
# kubectl create service nodeport np --tcp=80:8080 --node-port=30080
NODEPORT_HEX = (
    "6b3873000a0d0a02763112075365727669636512670a1d0a026e7012001a0022002a003200380042005a090a0361707012026e70"
    "12420a1d0a0738302d38303830120354435018502207080010903f1a002880eb0112090a0361707012026e701a0022084e6f6465"
    "506f72743a00420052005a00600068001a020a001a002200")
# kubectl create service clusterip named --tcp=8080:http
NAMED_PORT_HEX = (
    "6b3873000a0d0a02763112075365727669636512750a230a056e616d656412001a0022002a003200380042005a0c0a0361707012"
    "056e616d6564124a0a210a09383038302d68747470120354435018903f220a080110001a04687474702800120c0a036170701205"
    "6e616d65641a002209436c757374657249503a00420052005a00600068001a020a001a002200")
# kubectl create service externalname ext --external-name=example.com
EXTERNAL_NAME_HEX = (
    "6b3873000a0d0a027631120753657276696365125a0a1f0a0365787412001a0022002a003200380042005a0a0a03617070120365"
    "78741233120a0a0361707012036578741a00220c45787465726e616c4e616d653a004200520b6578616d706c652e636f6d5a0060"
    "0068001a020a001a002200")
# kubectl create deployment test-deploy --image=nginx --replicas=3
DEPLOYMENT_HEX = (
    "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412cc010a2f0a0b746573742d6465706c6f7912001a0022002a"
    "003200380042005a120a03617070120b746573742d6465706c6f79128a01080312140a120a03617070120b746573742d6465706c"
    "6f791a680a240a0012001a0022002a003200380042005a120a03617070120b746573742d6465706c6f79124012220a056e67696e"
    "7812056e67696e782a0042006a007200800100880100900100a201001a00320042004a0052005800600068008201008a01009a01"
    "00c2010022020a00280038001a0c0800100018002000280038001a002200")


def _service(name: str, spec: dict) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": {"app": name}},
            "spec": spec, "status": {"loadBalancer": {}}}


# ---------------------------------------------------------------- a tiny encoder to build test bodies

def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    return bytes(out + bytes([n]))


def fld(num: int, value: int | bytes | str, wire: int | None = None) -> bytes:
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return varint(num << 3 | 2) + varint(len(value)) + value
    return varint(num << 3 | (0 if wire is None else wire)) + varint(value)


def envelope(kind: str, raw: bytes, api_version: str = "v1") -> bytes:
    return MAGIC + fld(1, fld(1, api_version) + fld(2, kind)) + fld(2, raw) + fld(3, "") + fld(4, "")


# ---------------------------------------------------------------- kubectl's own bodies

def test_kubectls_headless_service_body_decodes_to_the_json_kubectl_would_send():
    assert decode(bytes.fromhex(HEADLESS_HEX)) == _service("nginx-stateful", {
        "ports": [{"name": "80-80", "protocol": "TCP", "port": 80, "targetPort": 80}],
        "selector": {"app": "nginx-stateful"}, "clusterIP": "None", "type": "ClusterIP"})


def test_a_nodeport_body_keeps_the_requested_node_port():
    assert decode(bytes.fromhex(NODEPORT_HEX)) == _service("np", {
        "ports": [{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080, "nodePort": 30080}],
        "selector": {"app": "np"}, "type": "NodePort"})


def test_a_named_target_port_decodes_as_a_string():
    assert decode(bytes.fromhex(NAMED_PORT_HEX))["spec"]["ports"] == [
        {"name": "8080-http", "protocol": "TCP", "port": 8080, "targetPort": "http"}]


def test_an_external_name_body_has_no_ports_and_keeps_the_name():
    assert decode(bytes.fromhex(EXTERNAL_NAME_HEX))["spec"] == {
        "selector": {"app": "ext"}, "type": "ExternalName", "externalName": "example.com"}


def test_kubectls_deployment_body_decodes_with_its_pod_template():
    assert decode(bytes.fromhex(DEPLOYMENT_HEX)) == {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "test-deploy", "labels": {"app": "test-deploy"}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "test-deploy"}},
                 "template": {"metadata": {"labels": {"app": "test-deploy"}},
                              "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": {}}]}},
                 "strategy": {}},
        "status": {}}


def test_a_kind_without_a_message_is_refused_with_415_naming_the_json_way():
    with pytest.raises(ProtobufError) as e:
        decode(envelope("StorageClass", b"", "storage.k8s.io/v1"))
    assert (e.value.code, e.value.reason) == (415, "UnsupportedMediaType")
    assert "StorageClass (storage.k8s.io/v1)" in e.value.message
    assert "-o json | kubectl create -f -" in e.value.message


KUBECTL_CREATE_KINDS = [("v1", "Service"), ("v1", "ConfigMap"), ("v1", "Secret"), ("v1", "Namespace"),
                        ("v1", "ServiceAccount"), ("v1", "Pod"), ("apps/v1", "Deployment"), ("batch/v1", "Job"),
                        ("batch/v1", "CronJob"), ("networking.k8s.io/v1", "Ingress"),
                        ("policy/v1", "PodDisruptionBudget"), ("policy/v1", "Eviction"),
                        ("rbac.authorization.k8s.io/v1", "Role"), ("rbac.authorization.k8s.io/v1", "RoleBinding"),
                        ("rbac.authorization.k8s.io/v1", "ClusterRole"),
                        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"), ("coordination.k8s.io/v1", "Lease"),
                        ("authorization.k8s.io/v1", "SelfSubjectAccessReview"), ("meta.k8s.io/v1", "DeleteOptions")]


def test_every_kind_kubectl_creates_has_a_message_and_all_it_reaches_is_in_the_table():
    table = messages()
    stack = [message_for(api_version, kind) for api_version, kind in KUBECTL_CREATE_KINDS]
    assert None not in stack
    seen, missing = set(), set()
    while stack:
        m = stack.pop()
        if m in seen:
            continue
        seen.add(m)
        if m not in table:
            missing.add(m)
            continue
        stack += [f[1] for f in table[m].values() if "." in f[1]]
    # metav1.Condition (status conditions, which kubectl never sends) postdates the meta .proto the table
    # was derived from; a body carrying one is refused with a 415 that names it.
    assert missing <= {META + "Condition"}, missing


def test_the_table_keeps_upstreams_numbers_and_marks_embedded_structs():
    table = messages()
    assert table[CORE + "ServiceSpec"][18][:3] == ("clusterIPs", "string", "repeated")
    assert table[META + "ObjectMeta"][13][:3] == ("ownerReferences", META + "OwnerReference", "repeated")
    assert table[CORE + "Volume"][2] == ("volumeSource", CORE + "VolumeSource", "optional", True)
    assert table[CORE + "Probe"][1][3] is True and table[CORE + "Container"][8][3] is False
    assert all(name.split(".")[0] in {m.rsplit(".", 1)[-1] for m in table} for name in POINTER_FIELDS)


# ---------------------------------------------------------------- Go semantics in JSON form

def test_zero_values_are_left_out_but_present_pointer_fields_are_kept():
    spec = (fld(7, "") + fld(12, 0) + fld(13, 0)          # sessionAffinity "", healthCheckNodePort 0, false
            + fld(20, 0) + fld(17, "") + fld(14, fld(1, fld(1, 0))))  # *bool, *string, *int32 at zero
    obj = decode(envelope("Service", fld(2, spec)))
    assert obj["spec"] == {"allocateLoadBalancerNodePorts": False, "ipFamilyPolicy": "",
                           "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 0}}}


def test_the_zero_time_is_left_out_and_a_time_is_rfc3339():
    meta = fld(1, "a") + fld(8, b"") + fld(9, fld(1, 1_700_000_000) + fld(2, 5))
    obj = decode(envelope("Service", fld(1, meta)))
    assert obj["metadata"] == {"name": "a", "deletionTimestamp": "2023-11-14T22:13:20Z"}


def test_negative_and_large_integers_follow_go():
    port = fld(3, -1) + fld(5, 2**31 + 7)  # int32 from a 10-byte varint; int32 overflow wraps as Go's cast
    assert decode_message(CORE + "ServicePort", port) == {"port": -1, "nodePort": -(2**31) + 7}
    assert decode_message(META + "ObjectMeta", fld(7, 2**40)) == {"generation": 2**40}


def test_unknown_fields_of_every_wire_type_are_skipped():
    unknown = (fld(90, 5) + varint(91 << 3 | 1) + struct.pack("<d", 1.5) + varint(92 << 3 | 5) + b"\0\0\0\0"
               + fld(93, b"\x01\x02") + varint(94 << 3 | 3) + fld(1, "in a group") + varint(94 << 3 | 4)
               + fld(16, "removed initializers"))
    assert decode_message(META + "ObjectMeta", unknown + fld(1, "kept")) == {"name": "kept"}


def test_a_singular_message_sent_twice_is_merged_and_a_scalar_sent_twice_keeps_the_last():
    raw = fld(1, fld(1, "first") + fld(11, fld(1, "a") + fld(2, "1"))) + fld(1, fld(1, "second"))
    assert decode(envelope("Service", raw))["metadata"] == {"name": "second", "labels": {"a": "1"}}


def test_invalid_utf8_becomes_the_replacement_character():
    assert decode_message(META + "ObjectMeta", fld(1, b"a\xffb")) == {"name": "a\ufffdb"}


def test_map_entries_and_repeated_messages_decode():
    meta = (fld(11, fld(1, "k") + fld(2, "v")) + fld(11, fld(1, "k2") + fld(2, ""))
            + fld(13, fld(5, "apps/v1") + fld(1, "StatefulSet") + fld(3, "web") + fld(4, "u1") + fld(6, 1))
            + fld(14, "f1") + fld(14, "f2"))
    assert decode_message(META + "ObjectMeta", meta) == {
        "labels": {"k": "v", "k2": ""}, "finalizers": ["f1", "f2"],
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "u1",
                             "controller": True}]}


# ---------------------------------------------------------------- malformed bodies

@pytest.mark.parametrize("body, words", [
    (b'{"kind":"Service"}', "magic bytes"),
    (MAGIC + b"\x0a\x05ab", "only 2 remain"),
    (MAGIC + b"\x08\xff", "end of data inside a varint"),
    (MAGIC + b"\x0f", "invalid wire type 7"),
    (MAGIC + b"\x00", "invalid number 0"),
    (envelope("Service", fld(2, fld(1, 5))), "Service.spec.ports: expected a length-delimited ServicePort message"),
    (envelope("Service", fld(1, fld(1, 7))), "Service.metadata.name: expected wire type length-delimited for a string"),
    (MAGIC + fld(2, b""), "no kind"),
])
def test_malformed_bodies_are_a_400_that_says_what_is_wrong(body, words):
    with pytest.raises(ProtobufError) as e:
        decode(body)
    assert e.value.code == 400 and words in e.value.message


def test_protobuf_nested_a_thousand_deep_is_a_400_not_a_recursion_error():
    fields = b""
    for _ in range(1000):  # meta.v1.Fields is map<string, Fields>: the one recursive message in the table
        fields = fld(1, fld(1, "f:a") + fld(2, fields))
    body = envelope("ConfigMap", fld(1, fld(1, "deep") + fld(17, fld(1, "kubectl") + fld(5, fields))))
    with pytest.raises(ProtobufError) as e:
        decode(body)
    assert e.value.code == 400 and "nest more than 100 levels deep" in e.value.message


def test_decode_request_body_answers_with_api_errors():
    with pytest.raises(errors.ApiError) as e:
        decode_request_body(MAGIC + b"\x0f")
    assert (e.value.code, e.value.reason) == (400, "BadRequest")
    assert e.value.message.startswith("the protobuf request body could not be decoded: ")
    with pytest.raises(errors.ApiError) as e:
        decode_request_body(envelope("StorageClass", b"", "storage.k8s.io/v1"))
    assert e.value.code == 415


# ---------------------------------------------------------------- OpenAPI v2 as protobuf

def _fields(data: bytes) -> dict[int, list]:
    out: dict[int, list] = {}
    for num, _, value in iter_fields(data):
        out.setdefault(num, []).append(value)
    return out


DOC = {
    "swagger": "2.0", "info": {"title": "Kubernetes", "version": "v1.27.0"},
    "paths": {"/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}": {
        "patch": {"operationId": "patchAppsV1NamespacedStatefulSet",
                  "parameters": [{"name": "body", "in": "body", "required": True,
                                  "schema": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"}},
                                 {"name": "fieldValidation", "in": "query", "type": "string", "uniqueItems": True}],
                  "responses": {"200": {"description": "OK"}},
                  "x-kubernetes-group-version-kind": {"group": "apps", "kind": "StatefulSet", "version": "v1"}},
        "parameters": [{"$ref": "#/parameters/name-x"}]}},
    "definitions": {"io.k8s.api.apps.v1.StatefulSetSpec": {
        "type": "object", "required": ["selector"], "additionalProperties": False,
        "properties": {"replicas": {"type": "integer", "format": "int32", "minimum": 0},
                       "template": {"$ref": "#/definitions/io.k8s.api.core.v1.PodTemplateSpec"},
                       "ports": {"type": "array", "items": {"type": "string"},
                                 "x-kubernetes-patch-merge-key": "port", "x-kubernetes-patch-strategy": "merge"}}}},
}


def test_the_openapi_document_starts_as_a_real_servers_does():
    pb = encode_openapi_v2(DOC)
    assert pb.startswith(bytes.fromhex("0a03322e3012")) and b"\x0a\x0aKubernetes\x12\x07v1.27.0" in pb[:30]


def test_the_openapi_document_keeps_what_kubectl_reads():
    doc = _fields(encode_openapi_v2(DOC))
    path = _fields(_fields(doc[8][0])[2][0])                     # Paths.path[0]: NamedPathItem
    assert path[1] == [b"/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}"]
    item = _fields(path[2][0])
    assert _fields(_fields(item[9][0])[2][0]) == {1: [b"#/parameters/name-x"]}  # $ref parameter: JsonReference
    op = _fields(item[8][0])                                     # PathItem.patch
    body, query = (_fields(p) for p in op[8])                    # ParametersItem
    assert _fields(_fields(body[1][0])[1][0])[3] == [b"body"]    # Parameter.body_parameter.in
    query_sub = _fields(_fields(_fields(query[1][0])[2][0])[3][0])  # non_body → query_parameter_sub_schema
    assert query_sub[4] == [b"fieldValidation"] and query_sub[2] == [b"query"] and query_sub[20] == [1]
    ext = _fields(op[13][0])                                     # vendor_extension: NamedAny
    assert ext[1] == [b"x-kubernetes-group-version-kind"]
    assert json.loads(_fields(ext[2][0])[2][0]) == {"group": "apps", "kind": "StatefulSet", "version": "v1"}
    named = _fields(_fields(doc[9][0])[1][0])                    # Definitions → NamedSchema
    schema = _fields(named[2][0])
    assert named[1] == [b"io.k8s.api.apps.v1.StatefulSetSpec"]
    assert schema[19] == [b"selector"] and _fields(schema[22][0]) == {1: [b"object"]}
    assert schema[21] == [b"\x10\x00"]                           # additionalProperties: false, written
    props = {p[1][0]: _fields(p[2][0]) for p in (_fields(x) for x in _fields(schema[25][0])[1])}
    assert props[b"template"][1] == [b"#/definitions/io.k8s.api.core.v1.PodTemplateSpec"]
    assert props[b"replicas"][2] == [b"int32"] and 9 not in props[b"replicas"]   # minimum 0: proto3 default
    assert _fields(_fields(props[b"ports"][23][0])[1][0])[22]                    # items → [Schema{type}]
    merge = {_fields(x)[1][0]: json.loads(_fields(_fields(x)[2][0])[2][0]) for x in props[b"ports"][31]}
    assert merge == {b"x-kubernetes-patch-merge-key": "port", b"x-kubernetes-patch-strategy": "merge"}


def test_the_real_1_27_document_encodes_once_and_is_cached():
    from stsnb.sandbox.apiserver.openapi import openapi_v2
    from stsnb.sandbox.apiserver.schemas import Schemas
    document = openapi_v2(Schemas.for_version("1.27"))
    pb = openapi_v2_protobuf(document)
    assert openapi_v2_protobuf(document) is pb
    top = _fields(pb)
    names = {_fields(x)[1][0] for x in _fields(top[9][0])[1]}
    assert b"io.k8s.api.apps.v1.StatefulSet" in names and len(names) == len(json.loads(document)["definitions"])


@pytest.mark.parametrize("accept, wanted", [
    (f"{OPENAPI_V2_ACCEPT}", True),
    (f"{OPENAPI_V2_CONTENT_TYPE}", True),
    (f"{OPENAPI_V2_ACCEPT}, application/json", True),
    ("application/json, */*", False),
    (f"application/json, {OPENAPI_V2_ACCEPT}", False),
    ("", False),
])
def test_openapi_v2_is_protobuf_only_when_asked_first(accept, wanted):
    assert wants_openapi_v2_protobuf(accept) is wanted
