"""Revision hashes and generated names, pinned to upstream's values (spec §4.10)."""

from __future__ import annotations

import random

import pytest

from stsnb.sandbox.hashing import (ALPHANUMS, controller_revision_name, fnv1_32, generate_name,
                                   hash_revision_data, pod_template_hash, revision_patch, safe_encode_string)


def guide_template(image: str, policy: str, null_timestamp: bool = True) -> dict:
    meta = {"labels": {"app": "nginx-stateful"}}
    if null_timestamp:
        meta["creationTimestamp"] = None
    return {"metadata": meta, "spec": {
        "containers": [{"image": image, "imagePullPolicy": policy, "name": "nginx", "resources": {},
                        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}],
        "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
        "securityContext": {}, "terminationGracePeriodSeconds": 30}}


@pytest.mark.parametrize("image, policy, null_ts, probe, expected", [
    ("nginx", "Always", True, 0, "7db594cfbd"),
    ("nginx:1.21.1", "Always", True, 0, "6c7d474cc"),
    ("nginx:1.21.1", "IfNotPresent", True, 0, "69ccf4dbf9"),
    ("nginx", "Always", False, 0, "6dcc97b6c4"),
    ("nginx:1.21.1", "Always", False, 0, "56857ddcd7"),
    ("nginx:1.21.1", "IfNotPresent", False, 0, "64688bd7cc"),
    ("nginx", "Always", True, 1, "7db594cfbf"),
])
def test_the_guides_template_hashes_to_the_upstream_values(image, policy, null_ts, probe, expected):
    data = revision_patch(guide_template(image, policy, null_ts))
    assert hash_revision_data(data, probe) == expected


def test_the_upstream_compatibility_fixtures_hash_as_in_kubernetes():
    tpl = {"metadata": {"annotations": {"test": "value"}, "creationTimestamp": None, "labels": {"app": "foo"}},
           "spec": {"containers": [{"image": "test", "imagePullPolicy": "Always", "name": "test", "resources": {},
                                    "terminationMessagePath": "/dev/termination-log",
                                    "terminationMessagePolicy": "File"}],
                    "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
                    "securityContext": {}, "terminationGracePeriodSeconds": 30}}
    data = revision_patch(tpl)
    assert data.startswith(b'{"spec":{"template":{"$patch":"replace","metadata":{"annotations"')
    assert controller_revision_name("test", hash_revision_data(data)) == "test-c77f6d978"
    assert hash_revision_data(data, None) == "6b48d6f566"
    del tpl["metadata"]["creationTimestamp"]
    assert controller_revision_name("test", hash_revision_data(revision_patch(tpl))) == "test-776999688b"


def test_fnv1_multiplies_before_xor():
    assert fnv1_32(b"") == 0x811C9DC5
    assert fnv1_32(b"a") == ((0x811C9DC5 * 0x01000193) & 0xFFFFFFFF) ^ ord("a")


def test_safe_encoding_maps_digits_to_456789bcdf():
    assert safe_encode_string("0123456789") == "456789bcdf"


def test_revision_names_cut_long_set_names_to_223_characters():
    assert controller_revision_name("x" * 300, "abc") == "x" * 223 + "-abc"


def test_generated_names_use_the_upstream_alphabet_and_five_characters():
    name = generate_name(random.Random(1), "test-deploy-584c765db4-")
    suffix = name.removeprefix("test-deploy-584c765db4-")
    assert len(suffix) == 5 and set(suffix) <= set(ALPHANUMS)


def test_pod_template_hashes_look_like_upstreams():
    h = pod_template_hash(guide_template("nginx", "Always"))
    assert 1 <= len(h) <= 10 and set(h) <= set("456789bcdf")
    assert h == pod_template_hash(guide_template("nginx", "Always"))
