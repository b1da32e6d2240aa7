"""The lab and its panels on a sandbox: one sandbox per test module, a namespace per test (``lab``)."""

from __future__ import annotations

import pytest

from ...conftest import _start_sandbox


@pytest.fixture(scope="module")
def sandbox():
    """A started sandbox shared by one test module (seeded, discrete clock)."""
    sb = _start_sandbox(seed=7, dns_port=None)
    yield sb
    sb.stop()
    assert not sb.internal_errors, sb.internal_errors
    assert not sb.engine.errors, sb.engine.errors
