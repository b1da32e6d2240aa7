"""The sandbox's other controllers: Deployments, ReplicaSets, endpoints, volumes, garbage collection, namespaces.

Each is an object with ``name``, ``keys_for(event) -> keys`` and ``sync(key)``, run
by :class:`stsnb.sandbox.engine.Engine` on its one thread, writing through
``sb.registry`` exactly as kube-controller-manager writes through the API server:

=========================  =====================================================
:mod:`.deployment`         Deployment → ReplicaSet (``<deploy>-<pod-template-hash>``),
                           rolling update (maxSurge/maxUnavailable), Recreate,
                           status, conditions, revisions
:mod:`.replicaset`         ReplicaSet → pods (``<rs>-<5 chars>``), status
:mod:`.endpoints`          EndpointSlices and Endpoints of Services with a selector
:mod:`.volumes`            PV binding, dynamic provisioning ``pvc-<uid>``, reclaim,
                           pvc-/pv-protection
:mod:`.gc`                 owner references: background and foreground deletion
:mod:`.namespace`          deleting the content of a Terminating namespace
:mod:`.serviceaccounts`    each namespace's ``default`` ServiceAccount and
                           ``kube-root-ca.crt`` ConfigMap
:mod:`.nodelifecycle`      the ``unschedulable`` taint of cordoned nodes, eviction by
                           ``NoExecute`` taints
:mod:`.disruption`         PodDisruptionBudget status (what evictions consult)
:mod:`.job`, :mod:`.cronjob`  Jobs' pods to completion; Jobs on a cron schedule
:mod:`.ref_manager`        adoption and release through controller references
=========================  =====================================================
"""

from __future__ import annotations


from .cronjob import CronJobController
from .deployment import DeploymentController
from .disruption import DisruptionController
from .endpoints import EndpointsController, EndpointSliceController
from .gc import GarbageCollector
from .job import JobController
from .namespace import NamespaceController
from .nodelifecycle import NodeLifecycleController
from .replicaset import ReplicaSetController
from .serviceaccounts import ServiceAccountsController
from .volumes import VolumeController
from ..core.cluster import Cluster

__all__ = ["all_for", "DeploymentController", "ReplicaSetController", "EndpointSliceController",
           "EndpointsController", "VolumeController", "GarbageCollector", "NamespaceController",
           "ServiceAccountsController", "NodeLifecycleController", "DisruptionController", "JobController",
           "CronJobController"]


def all_for(sb: Cluster, defaults: object = None) -> list:
    """The controllers the Sandbox runs besides its scheduler, kubelet and StatefulSet controller.

    ``defaults`` (a :class:`~stsnb.sandbox.bootstrap.ClusterDefaults`) switches the
    serviceaccounts controller off when its ``service_accounts`` is false.
    """
    out = [DeploymentController(sb), ReplicaSetController(sb), EndpointSliceController(sb),
           EndpointsController(sb), VolumeController(sb), GarbageCollector(sb), NamespaceController(sb),
           NodeLifecycleController(sb), DisruptionController(sb), JobController(sb), CronJobController(sb)]
    if getattr(defaults, "service_accounts", True):
        out.append(ServiceAccountsController(sb))
    return out
