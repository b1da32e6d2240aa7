"""The lab's tables: what is in the namespace, as DataFrames and as kubectl prints it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import tables as _tables
from ..kube import parse_target, resolve_kind
from .ownership import Ownership
from .results import Text

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Views", "render_table"]


class Views(Ownership):
    """Tables of pods, revisions, DNS names, claims, events …"""

    def pods(self, selector: str | None = None) -> "pd.DataFrame":
        """Pods: ``name, ordinal, phase, ready, ip, node, revision, image, status``, rows by ordinal."""
        return _tables.pods(self.kube.list("pods", label_selector=selector))

    def labels(self, selector: str | None = None) -> "pd.DataFrame":
        """Every pod's labels: one row per pod, one column per label key."""
        return _tables.labels(self.kube.list("pods", label_selector=selector))

    def revisions(self, target: str = "nginx-stateful") -> "pd.DataFrame":
        """A StatefulSet's ControllerRevisions: ``name, revision, hash, image, current, update, pods``."""
        kind, name = parse_target(target)
        sts = self.kube.get(kind, name)
        return _tables.revisions(self._owned("controllerrevisions", sts), sts, self._workload_pods(sts))

    def statefulsets(self) -> "pd.DataFrame":
        """The namespace's StatefulSets with READY, revisions and strategy."""
        return _tables.statefulsets(self.kube.list("statefulsets"))

    def services(self, selector: str | None = None) -> "pd.DataFrame":
        """Services: ``name, type, cluster_ip, ports, selector`` (``cluster_ip`` is ``"None"`` when headless)."""
        return _tables.services(self.kube.list("services", label_selector=selector))

    def volumes(self, selector: str | None = None) -> "pd.DataFrame":
        """Each pod's volumes: ``pod, volume, source, claim, mount_path`` (what the controller filled in)."""
        return _tables.volumes(self.kube.list("pods", label_selector=selector))

    def dns_names(self, selector: str | None = None, *, lookup: bool = True, image: str = "busybox") -> "pd.DataFrame":
        """Each pod's DNS identity: ``pod, ip, hostname, subdomain, fqdn, reverse, owner``.

        ``fqdn`` is what cluster DNS should answer for the pod's IP; with ``lookup`` each IP is also
        looked up for real in a busybox pod (``reverse``), so the two can be compared. Select a
        Deployment and a StatefulSet together (``"app in (test-deploy, nginx-stateful)"``) to see
        them side by side.
        """
        pod_items = [p for p in self.kube.list("pods", label_selector=selector)
                     if (p["metadata"].get("labels") or {}).get("run") != "dnsquery"]
        reverse = None
        if lookup:
            reverse = {}
            for p in pod_items:
                ip = (p.get("status") or {}).get("podIP")
                if ip and ip not in reverse:
                    reverse[ip] = self.nslookup(ip, image=image).answers
            pod_items = [p for p in self.kube.list("pods", label_selector=selector)
                         if (p["metadata"].get("labels") or {}).get("run") != "dnsquery"]
        return _tables.dns_names(pod_items, self.kube.list("services"), self.namespace,
                                 self.settings.cluster.cluster_domain, reverse, self.kube.list("replicasets"))

    def pvcs(self, selector: str | None = None) -> "pd.DataFrame":
        """Claims: ``claim, pod, volume, capacity, access_modes, storage_class, status`` (+ ``ordinal, in_use``)."""
        return _tables.pvcs(self.kube.list("persistentvolumeclaims", label_selector=selector),
                            self.kube.list("pods"), self.kube.list("statefulsets"))

    def compare(self, *targets: str) -> "pd.DataFrame":
        """Side-by-side facts, e.g. ``lab.compare("deployment/test-deploy", "statefulset/nginx-stateful")``."""
        if not targets:
            targets = ("deployment/test-deploy", "statefulset/nginx-stateful")
        services = self.kube.list("services")
        subjects = []
        for t in targets:
            kind, name = parse_target(t)
            obj = self.kube.get(kind, name)
            subject = {"ref": f"{kind.kind.lower()}/{name}", "object": obj, "pods": self._workload_pods(obj),
                       "services": services}
            if kind.kind == "Deployment":
                subject["replicasets"] = self._owned("replicasets", obj)
            if kind.kind == "StatefulSet":
                prefixes = [f"{t_['metadata']['name']}-{name}-" for t_ in obj["spec"].get("volumeClaimTemplates") or []]
                subject["claims"] = [c for c in self.kube.list("persistentvolumeclaims")
                                     if any(c["metadata"]["name"].startswith(p) for p in prefixes)]
            subjects.append(subject)
        return _tables.compare(subjects)

    def events(self, name: str | None = None) -> "pd.DataFrame":
        """Kubernetes Events in the namespace (for ``name``: that object and the pods/claims named after it)."""
        items = self.kube.list("events")
        if name:
            items = [e for e in items if (e.get("involvedObject") or {}).get("name", "") == name
                     or (e.get("involvedObject") or {}).get("name", "").startswith(name + "-")]
        return _tables.events(items)

    def kubectl_get(self, kinds: str, selector: str | None = None, *, wide: bool = False) -> Text:
        """``kubectl get KINDS [-l SELECTOR] [-o wide]`` as text, from the server's own Tables."""
        words = [w for w in kinds.split(",") if w.strip()]
        many = len(words) > 1
        sections = []
        for w in words:
            k = resolve_kind(w)
            tbl = self.kube.table(k, label_selector=selector)
            if not tbl.get("rows"):
                continue
            sections.append(render_table(tbl, prefix=f"{k.ref}/" if many else "", wide=wide))
        if not sections:
            where = f"in {self.namespace} namespace" if resolve_kind(words[0]).namespaced else ""
            return Text(f"No resources found {where}.".replace("  ", " ").replace(" .", "."))
        return Text("\n\n".join(sections))


def render_table(tbl: dict, *, prefix: str = "", wide: bool = False) -> str:
    """kubectl's table printer: upper-case headers, tabwriter (minwidth 6, padding 3), last column unpadded."""
    cols = [(i, c) for i, c in enumerate(tbl.get("columnDefinitions") or []) if wide or c.get("priority", 0) == 0]
    lines = [[c["name"].upper() for _, c in cols]]
    for row in tbl.get("rows") or []:
        line = []
        for n, (i, c) in enumerate(cols):
            cell = row["cells"][i] if i < len(row.get("cells") or []) else ""
            text = "" if cell is None else ("true" if cell is True else "false" if cell is False else str(cell))
            if "\n" in text:
                text = text[: text.index("\n")] + "..."
            if prefix and n == 0 and c.get("format") == "name":
                text = prefix + text
            line.append(text)
        lines.append(line)
    widths = [max(6, max(len(line[j]) for line in lines) + 3) for j in range(len(cols) - 1)]
    return "\n".join("".join(cell.ljust(widths[j]) if j < len(widths) else cell for j, cell in enumerate(line)).rstrip()
                     for line in lines)
