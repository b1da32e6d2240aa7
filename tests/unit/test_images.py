"""Which image references the sandbox's registries have."""

from __future__ import annotations

import pytest

from stsnb.sandbox.node import images


@pytest.mark.parametrize("image, missing", [
    ("gcr.io/google-samples/kubernetes-bootcamp:v1", False),
    ("docker.io/jocatalin/kubernetes-bootcamp:v2", False),
    ("gcr.io/google-samples/kubernetes-bootcamp:v10", True),  # the Basics tutorial's broken update
    ("gcr.io/google-samples/kubernetes-bootcamp@sha256:" + "a" * 64, False),  # a digest names what it pulls
    ("nginx:1.21.1", False),  # an image without a list of tags: any tag
    ("nginx:does-not-exist", True),
    ("example.com/any/image:v10", False),
    ("registry.invalid/x:1", True),
])
def test_a_reference_is_unresolvable_only_where_its_registry_lacks_it(image, missing):
    assert images.unresolvable(images.parse(image)) is missing
