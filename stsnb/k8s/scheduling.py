"""Which node a pod may run on: tolerations, node selectors and affinity, host ports, resources.

Pure functions after kube-scheduler's filter plugins and the helpers they call:
``k8s.io/api/core/v1`` ``Toleration.ToleratesTaint``, ``component-helpers``
``scheduling/corev1/nodeaffinity`` (``GetRequiredNodeAffinity``: ``nodeSelector``
AND any one required term; a term's expressions all hold), the ``NodePorts`` and
``NodeResourcesFit`` plugins, and ``InterPodAffinity``'s filter (required pod affinity and
anti-affinity, ``interpodaffinity/filtering.go``). The sandbox's scheduler and its taint manager use them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from .quantity import parse_quantity

__all__ = ["tolerates", "untolerated_taint", "node_matches", "host_ports_conflict", "insufficient_resources",
           "pod_requests", "inter_pod_affinity"]


def tolerates(tolerations: Iterable[dict] | None, taint: dict) -> bool:
    """``ToleratesTaint`` for any of ``tolerations``: same effect (or none), key (or empty with Exists), value."""
    for t in tolerations or []:
        if t.get("effect") and t.get("effect") != taint.get("effect"):
            continue
        if t.get("key") and t.get("key") != taint.get("key"):
            continue
        op = t.get("operator") or "Equal"
        if op == "Exists":
            return True
        if op == "Equal" and t.get("key") and (t.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def untolerated_taint(node: dict, tolerations: Iterable[dict] | None,
                      effects: Sequence[str] = ("NoSchedule", "NoExecute")) -> dict | None:
    """The first taint of ``effects`` on the node that ``tolerations`` do not tolerate."""
    tolerations = list(tolerations or [])
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") in effects and not tolerates(tolerations, taint):
            return taint
    return None


def _expression(expr: dict, values: dict[str, str]) -> bool:
    key, op, want = expr.get("key"), expr.get("operator"), expr.get("values") or []
    have = values.get(key)
    if op == "In":
        return have is not None and have in want
    if op == "NotIn":
        return have is None or have not in want
    if op == "Exists":
        return have is not None
    if op == "DoesNotExist":
        return have is None
    if op in ("Gt", "Lt") and have is not None and len(want) == 1:
        try:
            a, b = int(have), int(want[0])
        except ValueError:
            return False
        return a > b if op == "Gt" else a < b
    return False


def _term(term: dict, labels: dict[str, str], fields: dict[str, str]) -> bool:
    exprs, field_exprs = term.get("matchExpressions") or [], term.get("matchFields") or []
    if not exprs and not field_exprs:
        return False  # an empty term matches no objects
    return all(_expression(e, labels) for e in exprs) and all(_expression(e, fields) for e in field_exprs)


def node_matches(pod: dict, node: dict) -> bool:
    """``NodeAffinity`` filter: the pod's ``nodeSelector`` and its required node affinity both hold."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    spec = pod.get("spec") or {}
    for k, v in (spec.get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms")
    if terms is None:
        return True
    fields = {"metadata.name": (node.get("metadata") or {}).get("name", "")}
    return any(_term(t, labels, fields) for t in terms)


def _host_ports(pod: dict) -> set[tuple[str, str, int]]:
    out = set()
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("hostPort"):
                out.add((p.get("hostIP") or "0.0.0.0", p.get("protocol") or "TCP", int(p["hostPort"])))
    return out


def host_ports_conflict(pod: dict, others: Iterable[dict]) -> bool:
    """``NodePorts``: a wanted (IP, protocol, port) is taken; ``0.0.0.0`` overlaps every IP."""
    wanted = _host_ports(pod)
    if not wanted:
        return False
    used = set().union(*(_host_ports(o) for o in others))
    for ip, proto, port in wanted:
        for uip, uproto, uport in used:
            if uport == port and uproto == proto and (ip == uip or "0.0.0.0" in (ip, uip)):
                return True
    return False


def pod_requests(pod: dict) -> tuple[float, float]:
    """(cpu cores, memory bytes) the pod requests: its containers summed (init containers: the largest)."""
    def of(containers: Iterable[dict]) -> list[tuple[float, float]]:
        out = []
        for c in containers or []:
            req = (c.get("resources") or {}).get("requests") or (c.get("resources") or {}).get("limits") or {}
            out.append((parse_quantity(req.get("cpu", 0)), parse_quantity(req.get("memory", 0))))
        return out
    spec = pod.get("spec") or {}
    main = of(spec.get("containers"))
    init = of(spec.get("initContainers"))
    cpu = max(sum(c for c, _ in main), max((c for c, _ in init), default=0.0))
    mem = max(sum(m for _, m in main), max((m for _, m in init), default=0.0))
    return cpu, mem


def insufficient_resources(pod: dict, others: Sequence[dict], node: dict) -> list[str]:
    """``NodeResourcesFit``: ``Too many pods``, ``Insufficient cpu``, ``Insufficient memory``."""
    alloc = (node.get("status") or {}).get("allocatable") or {}
    reasons = []
    if len(others) + 1 > int(parse_quantity(alloc.get("pods", 110))):
        reasons.append("Too many pods")
    cpu, mem = pod_requests(pod)
    if not cpu and not mem:
        return reasons
    used = [pod_requests(o) for o in others]
    used_cpu, used_mem = sum(c for c, _ in used), sum(m for _, m in used)
    if cpu and cpu + used_cpu > parse_quantity(alloc.get("cpu", 0)) + 1e-9:
        reasons.append("Insufficient cpu")
    if mem and mem + used_mem > parse_quantity(alloc.get("memory", 0)):
        reasons.append("Insufficient memory")
    return reasons


# ------------------------------------------------------------------ InterPodAffinity (required terms)
#: ``interpodaffinity/filtering.go``'s reasons, in the order its Filter checks them.
AFFINITY_NOT_MATCH = "node(s) didn't match pod affinity rules"
ANTI_AFFINITY_NOT_MATCH = "node(s) didn't match pod anti-affinity rules"
EXISTING_ANTI_AFFINITY_NOT_MATCH = "node(s) didn't satisfy existing pods anti-affinity rules"


def _required(pod: dict, kind: str) -> list[dict]:
    return list((((pod.get("spec") or {}).get("affinity") or {}).get(kind) or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or [])


def _term_selects(term: dict, owner_namespace: str, other: dict, ns_labels: Callable[[str], dict]) -> bool:
    """Whether a pod (anti-)affinity term of a pod in ``owner_namespace`` selects ``other``: its namespaces
    (the owner's own when neither ``namespaces`` nor ``namespaceSelector`` is given) and its label selector."""
    from .selectors import selector_from_label_selector
    meta = other.get("metadata") or {}
    ns = meta.get("namespace") or ""
    namespaces = term.get("namespaces") or []
    ns_selector = term.get("namespaceSelector")
    if not namespaces and ns_selector is None:
        in_scope = ns == owner_namespace
    else:
        in_scope = ns in namespaces or (ns_selector is not None and
                                        selector_from_label_selector(ns_selector).matches(ns_labels(ns)))
    return in_scope and selector_from_label_selector(term.get("labelSelector")).matches(meta.get("labels"))


def inter_pod_affinity(pod: dict, node: dict, placed: Iterable[tuple[dict, dict]],
                       ns_labels: Callable[[str], dict] = lambda ns: {}) -> str | None:
    """The ``InterPodAffinity`` filter for one node: why ``pod`` may not go there, or None.

    ``placed`` is every pod already on a node, with that node (the scheduler's snapshot). As upstream:
    each required affinity term needs a matching pod in the node's topology domain (or, when no pod in
    the cluster matches, a pod that matches its own terms may start the series); no required
    anti-affinity term may match a pod in the domain; and no placed pod's required anti-affinity term
    may match this pod in that pod's domain (the symmetry).
    """
    ns = (pod.get("metadata") or {}).get("namespace") or ""
    labels = (node.get("metadata") or {}).get("labels") or {}
    affinity, anti = _required(pod, "podAffinity"), _required(pod, "podAntiAffinity")
    placed = list(placed)
    if affinity:
        # affinityCounts: a placed pod counts, in its node's domain of each term, only if it matches every term
        counts: dict[tuple[str, str], int] = {}
        for other, other_node in placed:
            if all(_term_selects(t, ns, other, ns_labels) for t in affinity):
                other_labels = (other_node.get("metadata") or {}).get("labels") or {}
                for t in affinity:
                    key = t.get("topologyKey") or ""
                    if key in other_labels:
                        counts[(key, other_labels[key])] = counts.get((key, other_labels[key]), 0) + 1
        pods_exist = True
        for t in affinity:
            key = t.get("topologyKey") or ""
            if key not in labels:
                return AFFINITY_NOT_MATCH  # all topology labels must exist on the node
            if counts.get((key, labels[key]), 0) <= 0:
                pods_exist = False
        # the first of a series: allowed when no pod anywhere matches and the pod matches its own terms
        if not pods_exist and (counts or not all(_term_selects(t, ns, pod, ns_labels) for t in affinity)):
            return AFFINITY_NOT_MATCH
    for term in anti:
        key = term.get("topologyKey") or ""
        if key in labels and any(((n.get("metadata") or {}).get("labels") or {}).get(key) == labels[key]
                                 for p, n in placed if _term_selects(term, ns, p, ns_labels)):
            return ANTI_AFFINITY_NOT_MATCH
    for other, other_node in placed:
        other_ns = (other.get("metadata") or {}).get("namespace") or ""
        other_labels = (other_node.get("metadata") or {}).get("labels") or {}
        for term in _required(other, "podAntiAffinity"):
            key = term.get("topologyKey") or ""
            if key in other_labels and labels.get(key) == other_labels[key] and \
                    _term_selects(term, other_ns, pod, ns_labels):
                return EXISTING_ANTI_AFFINITY_NOT_MATCH
    return None
