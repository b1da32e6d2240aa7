"""The sandbox's other controllers: Deployments, ReplicaSets, endpoints, volumes, garbage collection."""

from __future__ import annotations


def all_for(sb) -> list:
    return []
