"""Schema-driven fuzzing of the served OpenAPI: every operation, random input, never a 5xx.

The documents come from the sandbox itself (``/openapi/v3`` and each group-version's
document, over HTTP, as a tool reads them). They must pass ``openapi-spec-validator``;
then, for every operation they declare, Hypothesis draws path parameters, query
parameters from their declared types (and junk of the wrong type), and a request
body from the operation's schema (a small walker over the same OpenAPI schemas,
which sometimes puts a wrong type or an unknown field in), or random JSON.
Every answer must be below 500, and every error a JSON ``Status`` with the
response's code. Watches and followed logs are left out (they would wait for
``timeoutSeconds``); everything else is in. The run is derandomized, so it is the
same run every time.

``hypothesis-jsonschema`` would be the off-the-shelf generator, but 0.23.1 fails on
this Hypothesis (``AttributeError: 'many' object has no attribute 'more'``), hence
the walker (:func:`from_openapi`).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate

from stsnb.sandbox import Sandbox

_SANDBOX: Sandbox | None = None
_DOCS: dict[str, dict] = {}
_SKIPPED_QUERY = {"watch", "follow", "sendInitialEvents", "allowWatchBookmarks"}
_METHODS = ("get", "post", "put", "patch", "delete")


def _request(sb: Sandbox, method: str, path: str, body: bytes | None = None,
             ctype: str = "application/json") -> tuple[int, bytes]:
    req = urllib.request.Request(sb.url + path, data=body, method=method.upper(),
                                 headers={"Content-Type": ctype, "Authorization": f"Bearer {sb.token}"})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def served() -> Sandbox:
    """One sandbox for the module, with a few objects named ``target`` for the operations to find."""
    global _SANDBOX
    if _SANDBOX is None:
        _SANDBOX = sb = Sandbox(dns_port=None, seed=9, speed=50).start()
        for path, obj in (
            ("/api/v1/namespaces/default/configmaps", {"metadata": {"name": "target"}, "data": {"a": "b"}}),
            ("/apis/apps/v1/namespaces/default/statefulsets", {"metadata": {"name": "target"}, "spec": {
                "replicas": 1, "selector": {"matchLabels": {"app": "x"}}, "template": {
                    "metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}),
            ("/apis/coordination.k8s.io/v1/namespaces/default/leases", {"metadata": {"name": "target"}, "spec": {}}),
        ):
            assert _request(sb, "post", path, json.dumps(obj).encode())[0] == 201
    return _SANDBOX


def teardown_module() -> None:
    if _SANDBOX is not None:
        _SANDBOX.stop()
        assert not _SANDBOX.internal_errors, _SANDBOX.internal_errors[0]


def documents() -> dict[str, dict]:
    if not _DOCS:
        sb = served()
        code, body = _request(sb, "get", "/openapi/v3")
        assert code == 200
        for gv, entry in json.loads(body)["paths"].items():
            code, doc = _request(sb, "get", entry["serverRelativeURL"])
            assert code == 200
            _DOCS[gv] = json.loads(doc)
    return _DOCS


def operations() -> list[tuple[str, str, str, list, dict | None]]:
    """``(group version, method, path template, parameters, request body)`` of every served operation."""
    ops = []
    for gv, doc in documents().items():
        for path, item in doc["paths"].items():
            for method in _METHODS:
                if method in item:
                    op = item[method]
                    params = (item.get("parameters") or []) + (op.get("parameters") or [])
                    ops.append((gv, method, path, params, op.get("requestBody")))
    return ops


# ---------------------------------------------------------------- a strategy from an OpenAPI schema

_leaf = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63), st.text(max_size=12))
_junk = st.recursive(_leaf, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                    st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                     max_leaves=8)


def from_openapi(node: dict, components: dict, depth: int = 0) -> st.SearchStrategy:
    """Values for an OpenAPI schema node; one draw in ten is of the wrong shape, deep nodes are cut short."""
    if depth > 6:
        return st.just({}) if node.get("type") == "object" or "$ref" in node else _leaf
    if "$ref" in node:
        target = components.get(node["$ref"].rsplit("/", 1)[-1], {})
        return st.deferred(lambda: from_openapi(target, components, depth + 1))
    if node.get("allOf"):
        return from_openapi(node["allOf"][0], components, depth)
    if "enum" in node:
        good = st.sampled_from(node["enum"])
    elif node.get("format") == "int-or-string":
        good = st.one_of(st.integers(-5, 70000), st.sampled_from(["http", "25%", "", "x" * 70]))
    elif node.get("type") == "integer":
        good = st.one_of(st.integers(-3, 30), st.integers(-2**63, 2**63))
    elif node.get("type") == "number":
        good = st.floats(allow_nan=False, allow_infinity=False)
    elif node.get("type") == "boolean":
        good = st.booleans()
    elif node.get("type") == "string":
        good = st.one_of(st.sampled_from(["default", "target", "nginx", "a-b", "", "TCP", "Always"]),
                         st.text(max_size=20))
    elif node.get("type") == "array":
        good = st.lists(from_openapi(node.get("items") or {}, components, depth + 1), max_size=2)
    elif node.get("properties"):
        props = node["properties"]
        good = st.fixed_dictionaries({}, optional={k: from_openapi(v, components, depth + 1)
                                                   for k, v in props.items() if k not in ("apiVersion", "kind")})
    elif isinstance(node.get("additionalProperties"), dict):
        good = st.dictionaries(st.text(max_size=10), from_openapi(node["additionalProperties"], components,
                                                                   depth + 1), max_size=2)
    else:
        good = _junk
    return st.one_of(good, good, good, good, good, good, good, good, good, _junk)


def _query_value(param: dict) -> st.SearchStrategy:
    kind = (param.get("schema") or {}).get("type")
    junk = st.sampled_from(["nan", "inf", "-1", "1e99", "99999999999999999999", "", "All", "true", "garbage"])
    if kind == "integer":
        return st.one_of(st.integers(-5, 10).map(str), junk)
    if kind == "boolean":
        return st.one_of(st.sampled_from(["true", "false"]), junk)
    return st.one_of(st.sampled_from(["All", "Strict", "Warn", "Ignore", "Metadata", "app=x", "metadata.name=target",
                                      "Foreground", "Orphan"]), st.text(max_size=15), junk)


_path_value = st.one_of(st.sampled_from(["default", "target", "nope", "kube-system"]),
                        st.text(st.characters(codec="utf-8", exclude_characters="/"), min_size=1, max_size=30))


@st.composite
def requests(draw) -> tuple[str, str, bytes | None, str]:
    gv, method, template, params, body = draw(st.sampled_from(operations()))
    path = template
    query = []
    for p in params:
        if p["in"] == "path":
            path = path.replace("{" + p["name"] + "}", urllib.parse.quote(draw(_path_value), safe=""))
        elif p["in"] == "query" and p["name"] not in _SKIPPED_QUERY and draw(st.integers(0, 3)) == 0:
            query.append((p["name"], draw(_query_value(p))))
    if method == "get" and "{name}" not in template and "/log" not in path:
        query.append(("timeoutSeconds", "1"))  # a list never becomes a long watch
    target = path + ("?" + urllib.parse.urlencode(query) if query else "")
    if body is None:
        return method, target, None, "application/json"
    content = body.get("content") or {}
    ctype = draw(st.sampled_from(sorted(content)))
    schema = content[ctype].get("schema") or {}
    components = documents()[gv]["components"]["schemas"]
    if ctype == "application/json" and "$ref" in schema:
        value = draw(from_openapi(schema, components))
    else:
        value = draw(_junk)
    return method, target, json.dumps(value).encode(), ctype


def test_the_served_openapi_documents_are_valid_openapi_3():
    for gv, doc in documents().items():
        validate(doc)  # raises, naming the problem, when a tool would reject the document


def test_every_group_version_document_declares_the_verbs_it_serves():
    ops = {(gv, method, path) for gv, method, path, _, _ in operations()}
    base = "/api/v1/namespaces/{namespace}/pods"
    assert {("api/v1", m, base) for m in ("get", "post", "delete")} <= ops
    assert {("api/v1", m, base + "/{name}") for m in ("get", "put", "patch", "delete")} <= ops
    assert ("api/v1", "post", base + "/{name}/eviction") in ops
    sts = "/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}/scale"
    assert {("apis/apps/v1", m, sts) for m in ("get", "put", "patch")} <= ops


@settings(max_examples=400, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(request=requests())
def test_every_operation_answers_random_input_below_500_with_a_status(request):
    method, target, body, ctype = request
    sb = served()
    code, payload = _request(sb, method, target, body, ctype)
    assert code < 500, (method, target, body, payload[:500])
    if code >= 400:
        status = json.loads(payload)
        assert status["kind"] == "Status" and status["code"] == code, payload[:300]
    assert _request(sb, "get", "/version")[0] == 200


@pytest.mark.parametrize("line", [b"GARBAGE\r\n\r\n", b"GET\r\n\r\n", b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
                                  b"BREW /api HTTP/1.1\r\nHost: x\r\n\r\n",
                                  b"GET /version HTTP/1.1\r\nX-Big: " + b"b" * 70000 + b"\r\n\r\n",
                                  b"GET /version HTTP/1.1\r\n" + b"X-H: 1\r\n" * 120 + b"\r\n"])
def test_malformed_requests_get_a_json_status_never_html(line):
    import socket
    sb = served()
    with socket.create_connection(("127.0.0.1", sb.port), timeout=10) as s:
        s.sendall(line)
        data = b""
        while b"\r\n\r\n" not in data or len(data) < data.find(b"\r\n\r\n") + 10:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    code = int(head.split()[1])
    assert 400 <= code < 500 and b"application/json" in head, head
    status = json.loads(body)
    assert status["kind"] == "Status" and status["code"] == code and b"<html" not in body.lower()
