"""The API server's schema machinery: decoding, patches and OpenAPI documents.

Expected texts are the upstream ones (sigs.k8s.io/json, apimachinery
strategicpatch and mergepatch, evanphx/json-patch v4, apiserver handlers).
"""

from __future__ import annotations

import copy
import hashlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stsnb.sandbox.apiserver.decoding import decode
from stsnb.sandbox.apiserver.openapi import SERVED_KINDS, openapi_v2, openapi_v3, openapi_v3_index
from stsnb.sandbox.apiserver.patches import apply_json_patch, json_merge_patch
from stsnb.sandbox.apiserver.schemas import SchemaError, Schemas
from stsnb.sandbox.apiserver.strategic import strategic_merge_patch

STS = "io.k8s.api.apps.v1.StatefulSet"


@pytest.fixture(scope="module")
def schemas() -> Schemas:
    return Schemas.for_version("1.27")


@pytest.fixture
def statefulset() -> dict:
    """The guide's StatefulSet, as the server stores it (imagePullPolicy defaulted)."""
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "nginx-stateful", "namespace": "default", "labels": {"app": "nginx"}},
        "spec": {
            "replicas": 3,
            "serviceName": "nginx-stateful",
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {
                    "containers": [
                        {
                            "name": "nginx",
                            "image": "nginx",
                            "imagePullPolicy": "Always",
                            "ports": [{"containerPort": 80, "name": "web"}],
                        },
                        {"name": "sidecar", "image": "busybox", "imagePullPolicy": "Always"},
                    ],
                    "volumes": [{"name": "scratch", "emptyDir": {}}],
                },
            },
        },
    }


def containers(obj: dict) -> list[dict]:
    return obj["spec"]["template"]["spec"]["containers"]


# --- loading and lookups -----------------------------------------------------


def test_schemas_are_cached_per_minor_version():
    schemas = Schemas.for_version("v1.30.2")
    assert schemas.type_for("v1", "Pod") == "io.k8s.api.core.v1.Pod"
    assert Schemas.for_version("1.30") is schemas
    assert Schemas.for_version("1.30.0") is schemas
    assert schemas.version == "1.30"
    assert schemas.definitions is schemas.definitions


def test_an_unknown_version_is_refused_with_the_available_ones():
    with pytest.raises(ValueError, match=r"available: 1\.25, .*1\.37$") as e:
        Schemas.for_version("1.20")
    assert "kubernetes-validate" not in str(e.value)


@pytest.mark.parametrize(("api_version", "kind"), SERVED_KINDS)
def test_every_served_kind_has_a_definition(schemas, api_version, kind):
    name = schemas.type_for(api_version, kind)
    assert name.endswith("." + kind)
    assert schemas.group_version_kind(name)[2] == kind


def test_type_lookup_refuses_an_unknown_kind(schemas):
    with pytest.raises(KeyError, match="Frobnicator"):
        schemas.type_for("apps/v1", "Frobnicator")


def test_field_description_follows_lists_and_references(schemas):
    text = schemas.field_description(STS, "spec.template.spec.containers[0].imagePullPolicy")
    assert "Image pull policy" in text
    with pytest.raises(KeyError, match="nope"):
        schemas.field_description(STS, "spec.nope")


# --- decoding ------------------------------------------------------------------


def test_a_valid_object_decodes_unchanged(schemas, statefulset):
    cleaned, warnings = decode(schemas, statefulset, STS, strict=True)
    assert cleaned == statefulset
    assert warnings == []


def test_a_string_for_an_int32_is_rejected_with_the_server_text(schemas, statefulset):
    statefulset["spec"]["replicas"] = "x"
    with pytest.raises(SchemaError) as caught:
        decode(schemas, statefulset, STS, strict=True)
    assert str(caught.value) == (
        'StatefulSet in version "v1" cannot be handled as a StatefulSet: json: cannot unmarshal string '
        "into Go struct field StatefulSetSpec.spec.replicas of type int32"
    )
    assert caught.value.field_path == "spec.replicas"
    assert caught.value.code == 400
    assert caught.value.to_status()["reason"] == "BadRequest"


@pytest.mark.parametrize(
    ("path", "value", "detail"),
    [
        (
            ("spec", "replicas"),
            1.5,
            "cannot unmarshal number 1.5 into Go struct field StatefulSetSpec.spec.replicas of type int32",
        ),
        (
            ("spec", "replicas"),
            2**31,
            "cannot unmarshal number 2147483648 into Go struct field StatefulSetSpec.spec.replicas of type int32",
        ),
        (
            ("metadata", "labels", "tier"),
            5,
            "cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string",
        ),
        (
            ("spec", "template", "spec", "containers"),
            "nginx",
            "cannot unmarshal string into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container",
        ),
        (
            ("spec", "template"),
            [],
            "cannot unmarshal array into Go struct field StatefulSetSpec.spec.template of type v1.PodTemplateSpec",
        ),
        (
            ("spec", "template", "spec", "hostNetwork"),
            "yes",
            "cannot unmarshal string into Go struct field PodSpec.spec.template.spec.hostNetwork of type bool",
        ),
        (
            ("metadata", "creationTimestamp"),
            5,
            "cannot unmarshal number into Go struct field ObjectMeta.metadata.creationTimestamp of type string",
        ),
    ],
)
def test_wrong_json_types_name_the_go_struct_field(schemas, statefulset, path, value, detail):
    target = statefulset
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(SchemaError) as caught:
        decode(schemas, statefulset, STS, strict=True)
    assert caught.value.detail == "json: " + detail


def test_type_errors_in_list_items_and_inline_structs_use_go_paths(schemas, statefulset):
    statefulset["spec"]["template"]["spec"]["volumes"][0]["configMap"] = "cm"
    with pytest.raises(SchemaError) as caught:
        decode(schemas, statefulset, STS)
    # Volume embeds VolumeSource inline; Go names the embedded struct in the path.
    assert caught.value.detail == (
        "json: cannot unmarshal string into Go struct field Volume.spec.template.spec.volumes.VolumeSource.configMap "
        "of type v1.ConfigMapVolumeSource"
    )
    assert caught.value.field_path == "spec.template.spec.volumes[0].configMap"


def test_int_or_string_accepts_both_and_rejects_the_rest(schemas):
    service = schemas.type_for("v1", "Service")
    ok = {
        "apiVersion": "v1",
        "kind": "Service",
        "spec": {"ports": [{"port": 80, "targetPort": "web"}, {"port": 81, "targetPort": 8081}]},
    }
    assert decode(schemas, ok, service)[0] == ok
    bad = copy.deepcopy(ok)
    bad["spec"]["ports"][0]["targetPort"] = True
    with pytest.raises(SchemaError) as caught:
        decode(schemas, bad, service)
    assert caught.value.detail == (
        "json: cannot unmarshal bool into Go struct field ServicePort.spec.ports.targetPort of type int32"
    )


def test_quantities_are_strings_or_numbers_and_are_parsed(schemas):
    pvc = schemas.type_for("v1", "PersistentVolumeClaim")
    obj = {"spec": {"resources": {"requests": {"storage": "1Gi", "cpu": 0.5, "memory": 2}}}}
    cleaned, _ = decode(schemas, obj, pvc)
    assert cleaned["spec"]["resources"]["requests"] == {"storage": "1Gi", "cpu": "500m", "memory": "2"}
    obj["spec"]["resources"]["requests"]["storage"] = "1GG"
    with pytest.raises(SchemaError, match="unable to parse quantity's suffix"):
        decode(schemas, obj, pvc)
    obj["spec"]["resources"]["requests"]["storage"] = "lots"
    with pytest.raises(SchemaError) as caught:
        decode(schemas, obj, pvc)
    assert caught.value.message == (
        'PersistentVolumeClaim in version "v1" cannot be handled as a PersistentVolumeClaim: quantities must '
        "match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )


def test_timestamps_and_base64_are_checked_like_their_go_unmarshalers(schemas):
    configmap = schemas.type_for("v1", "ConfigMap")
    good = {"metadata": {"creationTimestamp": "2024-05-01T12:34:56Z"}, "binaryData": {"a": "aGVsbG8="}}
    assert decode(schemas, good, configmap)[0] == good
    bad_time = {"metadata": {"creationTimestamp": "2024-13-01T00:00:00Z"}}
    with pytest.raises(SchemaError, match=r'parsing time "2024-13-01T00:00:00Z": month out of range'):
        decode(schemas, bad_time, configmap)
    bad_time["metadata"]["creationTimestamp"] = "yesterday"
    with pytest.raises(SchemaError) as caught:
        decode(schemas, bad_time, configmap)
    assert caught.value.detail == (
        'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"'
    )
    with pytest.raises(SchemaError, match="illegal base64 data at input byte 4"):
        decode(schemas, {"binaryData": {"a": "aGVs!G8="}}, configmap)


def test_null_fields_disappear_and_null_map_values_become_zero(schemas, statefulset):
    statefulset["spec"]["replicas"] = None
    statefulset["metadata"]["labels"]["gone"] = None
    cleaned, _ = decode(schemas, statefulset, STS)
    assert "replicas" not in cleaned["spec"]
    assert cleaned["metadata"]["labels"]["gone"] == ""


def test_unknown_field_is_rejected_in_strict_mode_with_the_server_text(schemas, statefulset):
    statefulset["spec"]["foo"] = 1
    with pytest.raises(SchemaError) as caught:
        decode(schemas, statefulset, STS, strict=True)
    assert str(caught.value) == (
        'StatefulSet in version "v1" cannot be handled as a StatefulSet: strict decoding error: unknown field "spec.foo"'
    )
    assert caught.value.field_path == "spec.foo"


def test_several_unknown_fields_are_joined_in_document_order(schemas, statefulset):
    containers(statefulset)[1]["imagePullPolice"] = "Always"
    statefulset["spec"]["foo"] = 1
    with pytest.raises(SchemaError) as caught:
        decode(schemas, statefulset, STS, strict=True)
    assert caught.value.detail == (
        'strict decoding error: unknown field "spec.template.spec.containers[1].imagePullPolice", '
        'unknown field "spec.foo"'
    )


def test_unknown_field_is_dropped_with_a_warning_when_not_strict(schemas, statefulset):
    statefulset["spec"]["foo"] = {"bar": 1}
    cleaned, warnings = decode(schemas, statefulset, STS, strict=False)
    assert "foo" not in cleaned["spec"]
    assert warnings == ['unknown field "spec.foo"']


def test_type_errors_win_over_unknown_fields(schemas, statefulset):
    statefulset["spec"]["foo"] = 1
    statefulset["spec"]["replicas"] = "3"
    with pytest.raises(SchemaError, match="cannot unmarshal string"):
        decode(schemas, statefulset, STS, strict=True)


def test_a_body_that_is_not_an_object_is_unrecognized(schemas):
    with pytest.raises(SchemaError) as caught:
        decode(schemas, [1, 2], STS)
    assert caught.value.message.startswith(
        "the object provided is unrecognized (must be of type StatefulSet): couldn't get version/kind; "
        "json parse error: json: cannot unmarshal array into Go value of type struct { APIVersion string"
    )


def test_a_field_added_in_a_later_version_is_unknown_to_an_older_one(statefulset):
    # PersistentVolumeClaimSpec.volumeAttributesClassName appeared in 1.29 (the VOLUMEATTRIBUTESCLASS column).
    claim = {
        "metadata": {"name": "www"},
        "spec": {"accessModes": ["ReadWriteOnce"], "volumeAttributesClassName": "fast"},
    }
    statefulset["spec"]["volumeClaimTemplates"] = [claim]
    new = Schemas.for_version("1.35")
    cleaned, warnings = decode(new, statefulset, STS, strict=True)
    assert cleaned["spec"]["volumeClaimTemplates"][0]["spec"]["volumeAttributesClassName"] == "fast"
    old = Schemas.for_version("1.27")
    with pytest.raises(
        SchemaError, match=r'unknown field "spec\.volumeClaimTemplates\[0\]\.spec\.volumeAttributesClassName"'
    ):
        decode(old, statefulset, STS, strict=True)


# --- strategic merge patch ------------------------------------------------------


def test_set_image_patch_keeps_the_containers_other_fields(schemas, statefulset):
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.21.1"}]}}}}
    result = strategic_merge_patch(schemas, statefulset, patch, STS)
    assert containers(result)[0] == {
        "name": "nginx",
        "image": "nginx:1.21.1",
        "imagePullPolicy": "Always",
        "ports": [{"containerPort": 80, "name": "web"}],
    }
    assert containers(result)[1] == containers(statefulset)[1]
    assert containers(statefulset)[0]["image"] == "nginx"  # the input is not modified


def test_strategic_merge_merges_containers_by_name_and_adds_new_ones(schemas, statefulset):
    patch = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "extra", "image": "redis"}, {"name": "sidecar", "args": ["x"]}]}
            }
        }
    }
    result = strategic_merge_patch(schemas, statefulset, patch, STS)
    # patch items keep the patch's order; a server-only item goes before the first patch
    # item that follows it on the server (mergeSortedSlice), and "extra" is not on the server.
    assert [c["name"] for c in containers(result)] == ["extra", "nginx", "sidecar"]
    assert containers(result)[2] == {"name": "sidecar", "image": "busybox", "imagePullPolicy": "Always", "args": ["x"]}


def named(*names: str, **extra: dict) -> list[dict]:
    return [{"name": n, "image": "i", **extra.get(n, {})} for n in names]


# Cases of apimachinery's customStrategicMergePatchTestCaseData (patch_test.go), with containers
# standing in for "mergingList" (merge key name) and finalizers for "mergingIntList".
@pytest.mark.parametrize(
    ("original", "patch", "expected"),
    [
        # preserve the order from the patch in a merging list
        (
            named("1", "2", "3"),
            [{"name": "3", "args": ["c"]}, {"name": "1", "args": ["a"]}, {"name": "2", "args": ["x"]}],
            named("3", "1", "2", **{"3": {"args": ["c"]}, "1": {"args": ["a"]}, "2": {"args": ["x"]}}),
        ),
        # preserve the order from the patch in a merging list 2
        (
            named("1", "2", "3"),
            [{"name": "3", "args": ["c"]}, {"name": "1", "args": ["a"]}],
            named("2", "3", "1", **{"3": {"args": ["c"]}, "1": {"args": ["a"]}}),
        ),
        # delete all items from merging list
        (named("1", "2"), [{"$patch": "replace"}], []),
        # delete all duplicate entries in a merging list
        (
            named("1", "1", "2", "3", "3"),
            [{"name": "1", "$patch": "delete"}, {"name": "3", "$patch": "delete"}],
            named("2"),
        ),
    ],
)
def test_merge_lists_follow_upstream_test_cases(schemas, statefulset, original, patch, expected):
    statefulset["spec"]["template"]["spec"]["containers"] = original
    containers_patch = {"spec": {"template": {"spec": {"containers": patch}}}}
    result = strategic_merge_patch(schemas, statefulset, containers_patch, STS)
    assert containers(result) == expected


@pytest.mark.parametrize(
    ("original", "patch", "expected"),
    [
        (["1", "2"], ["2", "3"], ["1", "2", "3"]),  # unique scalars when merging lists
        (["1", "2", "3"], ["3", "1", "2"], ["3", "1", "2"]),  # preserve the order from the patch
        (["1", "2", "3"], ["3", "1"], ["2", "3", "1"]),
    ],
)
def test_primitive_merge_lists_follow_upstream_test_cases(schemas, statefulset, original, patch, expected):
    statefulset["metadata"]["finalizers"] = original
    result = strategic_merge_patch(schemas, statefulset, {"metadata": {"finalizers": patch}}, STS)
    assert result["metadata"]["finalizers"] == expected


def test_ports_merge_by_container_port(schemas, statefulset):
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "nginx", "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443}]}
                    ]
                }
            }
        }
    }
    result = strategic_merge_patch(schemas, statefulset, patch, STS)
    assert containers(result)[0]["ports"] == [
        {"containerPort": 80, "name": "web", "protocol": "TCP"},
        {"containerPort": 443},
    ]


def test_patch_replace_on_the_template_replaces_it_whole(schemas, statefulset):
    # what kubectl rollout undo sends: a ControllerRevision's data
    template = {"metadata": {"labels": {"app": "nginx"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}
    patch = {"spec": {"template": {**template, "$patch": "replace"}}}
    result = strategic_merge_patch(schemas, statefulset, patch, STS)
    assert result["spec"]["template"] == template
    assert result["spec"]["replicas"] == 3


def test_patch_delete_in_containers_removes_that_container(schemas, statefulset):
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}}
    result = strategic_merge_patch(schemas, statefulset, patch, STS)
    assert [c["name"] for c in containers(result)] == ["nginx"]


def test_patch_delete_in_a_map_empties_it(schemas, statefulset):
    result = strategic_merge_patch(schemas, statefulset, {"metadata": {"labels": {"$patch": "delete"}}}, STS)
    assert result["metadata"]["labels"] == {}


def test_set_element_order_reorders_the_merged_list(schemas, statefulset):
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "nginx"}],
                    "containers": [{"name": "nginx", "image": "nginx:2"}],
                }
            }
        }
    }
    result = strategic_merge_patch(schemas, statefulset, patch, STS)
    assert [c["name"] for c in containers(result)] == ["sidecar", "nginx"]
    assert containers(result)[1]["image"] == "nginx:2"


def test_null_deletes_a_key_and_labels_merge(schemas, statefulset):
    patch = {"metadata": {"labels": {"app": None, "tier": "web"}}, "spec": {"replicas": None}}
    result = strategic_merge_patch(schemas, statefulset, patch, STS)
    assert result["metadata"]["labels"] == {"tier": "web"}
    assert "replicas" not in result["spec"]


def test_primitive_merge_lists_are_unioned_and_can_be_deleted_from(schemas, statefulset):
    statefulset["metadata"]["finalizers"] = ["a", "b"]
    result = strategic_merge_patch(schemas, statefulset, {"metadata": {"finalizers": ["c", "a"]}}, STS)
    assert result["metadata"]["finalizers"] == ["c", "a", "b"]
    result = strategic_merge_patch(schemas, 
        statefulset, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}, STS
    )
    assert result["metadata"]["finalizers"] == ["b"]


def test_lists_without_a_merge_strategy_are_replaced(schemas, statefulset):
    containers(statefulset)[0]["args"] = ["a", "b"]
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "args": ["c"]}]}}}}
    assert containers(strategic_merge_patch(schemas, statefulset, patch, STS))[0]["args"] == ["c"]


def test_retain_keys_clears_the_fields_it_does_not_list(schemas, statefulset):
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "volumes": [{"name": "scratch", "$retainKeys": ["name", "configMap"], "configMap": {"name": "cm"}}]
                }
            }
        }
    }
    result = strategic_merge_patch(schemas, statefulset, patch, STS)
    assert result["spec"]["template"]["spec"]["volumes"] == [{"name": "scratch", "configMap": {"name": "cm"}}]


def test_a_missing_merge_key_is_reported_like_the_server(schemas, statefulset):
    patch = {"spec": {"template": {"spec": {"containers": [{"image": "httpd"}]}}}}
    with pytest.raises(SchemaError) as caught:
        strategic_merge_patch(schemas, statefulset, patch, STS)
    assert caught.value.message == "map: map[image:httpd] does not contain declared merge key: name"
    assert caught.value.code == 500


@pytest.mark.parametrize(
    ("patch", "code", "message"),
    [
        ({"spec": {"template": {"$patch": "bogus"}}}, 500, "unknown patch type: bogus in map: map[$patch:bogus]"),
        ({"metadata": {"$setElementOrder": []}}, 400, "invalid patch format of setElementOrder list"),
        ({"metadata": {"$deleteFromPrimitiveList": ["a"]}}, 400, "invalid patch format of primitive list"),
        ({"metadata": {"$retainKeys": "name"}}, 400, "invalid patch format of retainKeys"),
        ({"metadata": {"$retainKeys": ["name"], "labels": {}}}, 400, "invalid patch format of retainKeys"),
        ([1], 400, "json: cannot unmarshal array into Go value of type map[string]interface {}"),
    ],
)
def test_malformed_strategic_patches_get_the_server_errors(schemas, statefulset, patch, code, message):
    with pytest.raises(SchemaError) as caught:
        strategic_merge_patch(schemas, statefulset, patch, STS)
    assert (caught.value.code, caught.value.message) == (code, message)


def test_a_strategic_patch_of_the_wrong_type_fails_in_decoding_as_on_the_server(schemas, statefulset):
    patch = {"spec": {"replicas": "x"}}
    result = strategic_merge_patch(schemas, statefulset, patch, STS)
    with pytest.raises(SchemaError) as caught:
        decode(schemas, result, STS, patch_type="strategic", patch=patch)
    assert caught.value.code == 422
    assert (
        caught.value.message
        == ' "" is invalid: patch: Invalid value: "map[spec:map[replicas:x]]": unrecognized type: int32'
    )
    # a list patched with a map
    patch = {"spec": {"template": {"spec": {"containers": {"name": "nginx"}}}}}
    result = strategic_merge_patch(schemas, statefulset, patch, STS)
    with pytest.raises(SchemaError, match="cannot restore slice from map"):
        decode(schemas, result, STS, patch_type="strategic", patch=patch)


def test_unknown_fields_from_a_strategic_patch_are_strict_errors_or_warnings(schemas, statefulset):
    patch = {"spec": {"foo": 1}}
    result = strategic_merge_patch(schemas, statefulset, patch, STS)
    with pytest.raises(SchemaError) as caught:
        decode(schemas, result, STS, strict=True, patch_type="strategic", patch=patch)
    assert caught.value.detail == 'strict decoding error: unknown field "spec.foo"'
    assert caught.value.to_status()["details"]["causes"][0]["field"] == "patch"
    assert decode(schemas, result, STS, strict=False, patch_type="strategic", patch=patch)[1] == [
        'unknown field "spec.foo"'
    ]


# --- JSON merge patch and JSON patch ---------------------------------------------


def test_json_merge_patch_merges_maps_and_replaces_lists(statefulset):
    patch = {
        "metadata": {"labels": {"app": None, "tier": "web"}},
        "spec": {"template": {"spec": {"containers": [{"name": "only"}]}}},
    }
    result = json_merge_patch(statefulset, patch)
    assert result["metadata"]["labels"] == {"tier": "web"}
    assert containers(result) == [{"name": "only"}]
    assert result["spec"]["replicas"] == 3
    assert statefulset["metadata"]["labels"] == {"app": "nginx"}


def test_json_merge_patch_prunes_nulls_in_new_objects_only(statefulset):
    result = json_merge_patch(
        statefulset, {"metadata": {"annotations": {"a": None, "b": "1"}}, "spec": {"x": [None, {"y": None}]}}
    )
    assert result["metadata"]["annotations"] == {"b": "1"}
    assert result["spec"]["x"] == [None, {}]


@pytest.mark.parametrize("patch", ["x", 3, None])
def test_json_merge_patch_rejects_a_patch_that_is_not_an_object(statefulset, patch):
    with pytest.raises(SchemaError) as caught:
        json_merge_patch(statefulset, patch)
    assert (caught.value.code, caught.value.message) == (400, "Invalid JSON Patch")


def test_json_patch_applies_operations_in_order(statefulset):
    ops = [
        {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "nginx:1.21.1"},
        {"op": "add", "path": "/metadata/labels/tier", "value": "web"},
        {"op": "remove", "path": "/spec/template/spec/containers/1"},
        {"op": "test", "path": "/spec/replicas", "value": 3},
        {"op": "copy", "from": "/metadata/labels/tier", "path": "/metadata/labels/copy"},
        {"op": "move", "from": "/metadata/labels/copy", "path": "/metadata/labels/moved"},
        {"op": "add", "path": "/spec/template/spec/containers/-", "value": {"name": "last"}},
    ]
    result = apply_json_patch(statefulset, ops)
    assert containers(result)[0]["image"] == "nginx:1.21.1"
    assert [c["name"] for c in containers(result)] == ["nginx", "last"]
    assert result["metadata"]["labels"] == {"app": "nginx", "tier": "web", "moved": "web"}
    assert len(containers(statefulset)) == 2


def test_json_patch_keeps_the_server_library_quirks(statefulset):
    # evanphx/json-patch v4: replace of a missing object key adds it; negative indices count from the end.
    result = apply_json_patch(
        statefulset,
        [
            {"op": "replace", "path": "/spec/minReadySeconds", "value": 5},
            {"op": "replace", "path": "/spec/template/spec/containers/-1/image", "value": "busybox:1.36"},
        ],
    )
    assert result["spec"]["minReadySeconds"] == 5
    assert containers(result)[1]["image"] == "busybox:1.36"


@pytest.mark.parametrize(
    ("op", "message"),
    [
        ({"op": "test", "path": "/spec/replicas", "value": 4}, "testing value /spec/replicas failed: test failed"),
        (
            {"op": "replace", "path": "/spec/foo/bar", "value": 1},
            "replace operation does not apply: doc is missing path: /spec/foo/bar: missing value",
        ),
        (
            {"op": "replace", "path": "/spec/template/spec/containers/5", "value": {}},
            "replace operation does not apply: doc is missing key: /spec/template/spec/containers/5: missing value",
        ),
        (
            {"op": "remove", "path": "/metadata/labels/zz"},
            "error in remove for path: '/metadata/labels/zz': Unable to remove nonexistent key: zz: missing value",
        ),
        (
            {"op": "add", "path": "/spec/nothing/here", "value": 1},
            'add operation does not apply: doc is missing path: "/spec/nothing/here": missing value',
        ),
        (
            {"op": "add", "path": "/spec/template/spec/containers/9", "value": {}},
            "error in add for path: '/spec/template/spec/containers/9': Unable to access invalid index: 9: invalid index referenced",
        ),
        (
            {"op": "add", "path": "/spec/template/spec/containers/x", "value": {}},
            "error in add for path: '/spec/template/spec/containers/x': value was not a proper array index: 'x': strconv.Atoi: parsing \"x\": invalid syntax",
        ),
        (
            {"op": "move", "from": "/spec/nope", "path": "/spec/x"},
            "error in move for path: 'nope': Unable to remove nonexistent key: nope: missing value",
        ),
        ({"op": "frob", "path": "/spec"}, "Unexpected kind: frob"),
        ({"op": "add"}, "add operation failed to decode path: missing value"),
    ],
)
def test_json_patch_failures_carry_the_upstream_texts(statefulset, op, message):
    with pytest.raises(SchemaError) as caught:
        apply_json_patch(statefulset, [op])
    assert caught.value.message == message
    assert caught.value.code == 422


def test_json_patch_that_is_not_a_list_of_operations_is_a_bad_request(statefulset):
    with pytest.raises(SchemaError) as caught:
        apply_json_patch(statefulset, {"op": "add"})
    assert (caught.value.code, caught.value.message) == (
        400,
        "json: cannot unmarshal object into Go value of type jsonpatch.Patch",
    )
    with pytest.raises(SchemaError, match="jsonPatchOp.path of type string"):
        apply_json_patch(statefulset, [{"op": "add", "path": 3}])


def test_a_json_patch_result_of_the_wrong_type_is_invalid(schemas, statefulset):
    result = apply_json_patch(statefulset, [{"op": "replace", "path": "/spec/replicas", "value": "x"}])
    with pytest.raises(SchemaError) as caught:
        decode(schemas, result, STS, patch_type="json")
    assert caught.value.code == 422
    assert caught.value.message.startswith(' "" is invalid: patch: Invalid value: "{\\"apiVersion\\":\\"apps/v1\\"')
    assert caught.value.detail == (
        "json: cannot unmarshal string into Go struct field StatefulSetSpec.spec.replicas of type int32"
    )


# --- OpenAPI documents --------------------------------------------------------------


def test_openapi_v2_is_swagger_with_group_version_kinds(schemas):
    document = json.loads(openapi_v2(schemas))
    assert document["swagger"] == "2.0"
    sts = document["definitions"][STS]
    assert sts["x-kubernetes-group-version-kind"] == [{"group": "apps", "kind": "StatefulSet", "version": "v1"}]
    assert sts["type"] == "object"
    assert sts["properties"]["spec"]["$ref"] == "#/definitions/io.k8s.api.apps.v1.StatefulSetSpec"
    assert "enum" not in sts["properties"]["kind"]
    pod_spec = document["definitions"]["io.k8s.api.core.v1.PodSpec"]
    assert pod_spec["properties"]["containers"]["x-kubernetes-patch-merge-key"] == "name"
    assert document["definitions"]["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] == {
        "type": "string",
        "format": "int-or-string",
    }
    assert openapi_v2(schemas) is openapi_v2(schemas)  # encoded once


def test_openapi_v3_index_points_at_per_group_version_documents_by_hash(schemas):
    index = json.loads(openapi_v3_index(schemas))
    assert {
        "api/v1",
        "apis/apps/v1",
        "apis/storage.k8s.io/v1",
        "apis/discovery.k8s.io/v1",
        "apis/autoscaling/v1",
    } <= set(index["paths"])
    url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
    body = openapi_v3(schemas, "apis/apps/v1")
    assert url == "/openapi/v3/apis/apps/v1?hash=" + hashlib.sha512(body).hexdigest().upper()


def test_openapi_v3_documents_hold_the_kinds_and_what_they_reference(schemas):
    document = json.loads(openapi_v3(schemas, "apis/apps/v1"))
    assert document["openapi"] == "3.0.0"
    found = document["components"]["schemas"]
    assert STS in found and "io.k8s.api.core.v1.PodSpec" in found and "io.k8s.api.core.v1.Pod" not in found
    spec = found[STS]["properties"]["spec"]
    assert spec["allOf"] == [{"$ref": "#/components/schemas/io.k8s.api.apps.v1.StatefulSetSpec"}]
    with pytest.raises(KeyError):
        openapi_v3(schemas, "apis/nope.example.com/v1")


def test_openapi_v3_paths_let_kubectl_explain_find_each_served_resource(schemas):
    # kubectl explain looks up GET /apis/<g>/<v>[/namespaces/{namespace}]/<plural>[/{name}] and reads
    # the operation's x-kubernetes-group-version-kind (kubectl pkg/explain/v2 plaintext template).
    table = [("apps/v1", "StatefulSet", "statefulsets", True), ("v1", "Namespace", "namespaces", False)]
    apps = json.loads(openapi_v3(schemas, "apis/apps/v1", table))
    get = apps["paths"]["/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}"]["get"]
    assert get["x-kubernetes-group-version-kind"] == {"group": "apps", "version": "v1", "kind": "StatefulSet"}
    ref = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.rsplit("/", 1)[-1] in apps["components"]["schemas"]
    core = json.loads(openapi_v3(schemas, "api/v1", table))
    assert "/api/v1/namespaces" in core["paths"] and "/api/v1/namespaces/{namespace}/namespaces" not in core["paths"]
    index = json.loads(openapi_v3_index(schemas, ["v1", "apps/v1"], table))
    expected = hashlib.sha512(openapi_v3(schemas, "apis/apps/v1", table)).hexdigest().upper()
    assert index["paths"]["apis/apps/v1"]["serverRelativeURL"].endswith("?hash=" + expected)


def test_openapi_v3_guesses_plurals_like_kubectl_without_a_resource_table(schemas):
    paths = json.loads(openapi_v3(schemas, "apis/storage.k8s.io/v1"))["paths"]
    assert "/apis/storage.k8s.io/v1/storageclasses/{name}" in paths
    assert "/apis/storage.k8s.io/v1/namespaces/{namespace}/storageclasses/{name}" in paths  # scope unknown: both


# --- robustness --------------------------------------------------------------------

_KEYS = st.sampled_from(
    [
        "spec",
        "metadata",
        "template",
        "containers",
        "name",
        "image",
        "ports",
        "containerPort",
        "replicas",
        "labels",
        "finalizers",
        "volumes",
        "emptyDir",
        "args",
        "$patch",
        "$retainKeys",
        "$setElementOrder/containers",
        "$deleteFromPrimitiveList/finalizers",
        "$setElementOrder/finalizers",
        "selector",
        "matchLabels",
        "x",
    ]
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["delete", "replace", "merge", "nginx", "name", "", "1Gi", "a"]),
)
_JSON = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=5), max_leaves=25
)
_PATHS = st.lists(
    st.sampled_from(["spec", "template", "containers", "0", "-", "1", "metadata", "labels", "x", "-1", ""]), max_size=5
).map(lambda p: "/" + "/".join(p))
_OPS = st.lists(
    st.fixed_dictionaries(
        {"op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test", "nope"])},
        optional={"path": _PATHS, "from": _PATHS, "value": _JSON},
    ),
    max_size=4,
)


# Patches anchored where the merge lists are, so the directives meet real merge keys.
_ITEMS = st.lists(
    st.one_of(
        st.dictionaries(
            st.sampled_from(["name", "image", "$patch", "ports", "args", "containerPort", "emptyDir"]),
            _JSON,
            max_size=4,
        ),
        _SCALARS,
    ),
    max_size=4,
)
_ANCHORED = st.builds(
    lambda pod, meta: {"metadata": meta, "spec": {"template": {"spec": pod}}},
    st.dictionaries(
        st.sampled_from(
            [
                "containers",
                "volumes",
                "$setElementOrder/containers",
                "$deleteFromPrimitiveList/containers",
                "$retainKeys",
                "$patch",
            ]
        ),
        st.one_of(_ITEMS, _JSON),
        max_size=3,
    ),
    st.dictionaries(
        st.sampled_from(
            [
                "finalizers",
                "labels",
                "$setElementOrder/finalizers",
                "$deleteFromPrimitiveList/finalizers",
                "$retainKeys",
            ]
        ),
        st.one_of(_ITEMS, _JSON),
        max_size=3,
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(patch=st.one_of(st.dictionaries(_KEYS, _JSON, max_size=5), _ANCHORED), ops=_OPS, strict=st.booleans())
def test_random_patches_never_raise_anything_but_schema_error(schemas, statefulset, patch, ops, strict):
    statefulset["metadata"]["finalizers"] = ["a", "b"]
    before = copy.deepcopy(statefulset)
    for apply, patch_type in (
        (lambda: strategic_merge_patch(schemas, statefulset, patch, STS), "strategic"),
        (lambda: json_merge_patch(statefulset, patch), "merge"),
        (lambda: apply_json_patch(statefulset, ops), "json"),
    ):
        try:
            result = apply()
            decode(schemas, result, STS, strict, patch_type=patch_type, patch=patch)
        except SchemaError:
            pass
    assert statefulset == before
