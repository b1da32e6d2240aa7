"""Which Kubernetes version the sandbox imitates, and what changes with it.

Each switch names the feature gate or commit it follows (see
``reference/kubernetes-semantics.md`` §0.2). The default, "1.27", is the cluster
the guide was captured on, so its revision hashes come out exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SUPPORTED = tuple(f"1.{m}" for m in range(25, 38))


@dataclass(frozen=True)
class Profile:
    """Version-dependent behaviour of the imitated control plane."""

    version: str = "1.27"

    def __post_init__(self) -> None:
        if not re.fullmatch(r"1\.\d+", self.version) or self.version not in SUPPORTED:
            raise ValueError(
                f"unsupported k8s_version {self.version!r}: the sandbox imitates {SUPPORTED[0]} to {SUPPORTED[-1]} "
                f"(use e.g. \"1.27\" for the guide's cluster or \"1.34\" for a current one)")

    @property
    def minor(self) -> int:
        return int(self.version.split(".")[1])

    @property
    def git_version(self) -> str:
        return f"v{self.version}.0-stsnb"

    @property
    def pod_index_label(self) -> bool:
        """``apps.kubernetes.io/pod-index`` on StatefulSet pods (gate PodIndexLabel, beta in 1.28)."""
        return self.minor >= 28

    @property
    def null_creation_timestamp(self) -> bool:
        """``"creationTimestamp": null`` in embedded ObjectMeta (omitted from 1.34, apimachinery 503b9897)."""
        return self.minor <= 33

    @property
    def pvc_retention_policy(self) -> bool:
        """``persistentVolumeClaimRetentionPolicy`` defaulted and honoured (StatefulSetAutoDeletePVC, beta 1.27)."""
        return self.minor >= 27

    @property
    def start_ordinal(self) -> bool:
        """``spec.ordinals.start`` honoured (StatefulSetStartOrdinal, beta 1.27)."""
        return self.minor >= 27

    @property
    def max_unavailable(self) -> bool:
        """``rollingUpdate.maxUnavailable`` defaulted and honoured (MaxUnavailableStatefulSet, beta 1.35)."""
        return self.minor >= 35

    @property
    def watch_list(self) -> bool:
        """Watches with ``sendInitialEvents`` (WatchList, on by default from 1.34; UNCONFIRMED boundary).

        Before that the server answers 422, and kubectl falls back to list-then-watch.
        """
        return self.minor >= 34

    @property
    def volume_attributes_class_column(self) -> bool:
        """``get pvc`` prints VOLUMEATTRIBUTESCLASS (absent from the guide's 1.27 output)."""
        return self.minor >= 29

    @property
    def statefulset_mutable_fields(self) -> str:
        """The list in the 'updates to statefulset spec for fields other than ...' Forbidden error."""
        if self.minor >= 35:
            return ("'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', "
                    "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds'")
        if self.minor >= 26:
            return ("'replicas', 'ordinals', 'template', 'updateStrategy', "
                    "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds'")
        return "'replicas', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds'"

    @property
    def revision_history_limit_mutable(self) -> bool:
        return self.minor >= 35

    @property
    def go_value_format(self) -> str:
        """How field errors render values: Go ``%#v`` until 1.33, JSON-like from 1.34 (UNCONFIRMED boundary)."""
        return "go" if self.minor <= 33 else "json"
