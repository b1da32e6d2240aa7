"""Quantities are stored as the API server stores them: ``resource.Quantity``'s canonical form."""

from __future__ import annotations

import pytest

from stsnb.k8s.quantity import canonical_quantity, parse_quantity


@pytest.mark.parametrize("sent, stored", [
    ("0.5", "500m"), (".5", "500m"), ("1.5", "1500m"), ("0.3", "300m"), ("1000m", "1"), ("500m", "500m"),
    ("2000", "2k"), ("1500", "1500"), ("1.5k", "1500"), ("100M", "100M"), ("12e6", "12e6"), ("1e3", "1e3"),
    ("1E3", "1e3"), ("1.5e3", "1500"), ("1e-3", "1e-3"),
    ("1Gi", "1Gi"), ("1.5Gi", "1536Mi"), ("0.25Gi", "256Mi"), ("2048Mi", "2Gi"), ("0.5Ki", "512"), ("1024", "1024"),
    ("4022568Ki", "4022568Ki"), ("0.1n", "1n"), ("0", "0"), ("0.0", "0"), ("0Gi", "0"), ("-0.5", "-500m"),
])
def test_a_quantity_is_stored_in_the_form_resource_quantity_marshals_back(sent, stored):
    assert canonical_quantity(sent) == stored
    assert parse_quantity(stored) == pytest.approx(parse_quantity(sent), abs=1e-9)

