"""Discovery documents: ``/api``, ``/apis`` and each group version, as kubectl reads them.

The legacy (non-aggregated) form; kubectl falls back to it when the server
answers its aggregated-discovery Accept header with plain ``APIVersions``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.resources import group_versions


@dataclass
class Discovery:
    """Documents for ``/api``, ``/apis`` and each group version (legacy, non-aggregated form)."""

    server_address: str = "127.0.0.1:0"
    _cache: dict = field(default_factory=dict)

    def api_versions(self) -> dict:
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": self.server_address}]}

    def api_group_list(self) -> dict:
        """Each group with its versions, the stored (preferred) one first, as the API server lists them."""
        groups: dict[str, dict] = {}
        for gv, resources in group_versions().items():
            if "/" not in gv:
                continue
            g, v = gv.split("/")
            ver = {"groupVersion": gv, "version": v}
            group = groups.setdefault(g, {"name": g, "versions": [], "preferredVersion": None})
            if all(r.storage for r in resources) and group["preferredVersion"] is None:
                group["versions"].insert(0, ver)
                group["preferredVersion"] = ver
            else:
                group["versions"].append(ver)
        for group in groups.values():
            group["preferredVersion"] = group["preferredVersion"] or group["versions"][0]
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": list(groups.values())}

    def api_group(self, group: str) -> dict | None:
        for g in self.api_group_list()["groups"]:
            if g["name"] == group:
                return {"kind": "APIGroup", "apiVersion": "v1", **g}
        return None

    def resource_list(self, group_version: str) -> dict | None:
        res = group_versions().get(group_version)
        if res is None:
            return None
        items = []
        for r in res:
            item = {"name": r.plural, "singularName": r.singular_name, "namespaced": r.namespaced,
                    "kind": r.kind, "verbs": list(r.verbs)}
            if r.short_names:
                item["shortNames"] = list(r.short_names)
            if r.categories:
                item["categories"] = list(r.categories)
            items.append(item)
            for sub in r.subresources:
                verbs = {"scale": ["get", "patch", "update"], "status": ["get", "patch", "update"],
                         "log": ["get"], "eviction": ["create"], "binding": ["create"],
                         "ephemeralcontainers": ["get", "patch", "update"]}.get(sub, ["create", "get"])
                kind = {"scale": "Scale", "eviction": "Eviction", "binding": "Binding"}.get(sub, r.kind)
                sub_item = {"name": f"{r.plural}/{sub}", "singularName": "", "namespaced": r.namespaced,
                            "kind": kind, "verbs": verbs}
                if sub == "scale":
                    sub_item.update(group="autoscaling", version="v1")
                elif sub == "eviction":
                    sub_item.update(group="policy", version="v1")
                items.append(sub_item)
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": items}
