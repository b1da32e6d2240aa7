"""The lab: one object bound to a cluster, a namespace and a settings object.

``stsnb.connect(...)`` returns a :class:`Lab`. Every notebook step is one call
on it: apply a manifest, scale, set an image, roll back, delete a pod, look a
name up in DNS, show a table, record a timeline, clean up. The lab never knows
whether it talks to the embedded sandbox or to a real cluster: both are reached
through the official ``kubernetes`` client, over HTTP (:mod:`stsnb.kube`).

The class (:mod:`.facade`) is a thin facade over its parts, one module each:

* :mod:`.connect` — which cluster, and why;
* :mod:`.base` — settings, waiting (:meth:`Lab.wait_ready`) and recording (:meth:`Lab.record`);
* :mod:`.apply` — ``kubectl apply``;
* :mod:`.actions` — patch, scale, set image, roll back, restart, delete, expose, nslookup;
* :mod:`.ownership` — what stsnb may touch, and cleanup of exactly that;
* :mod:`.safety` — the pods and claims a StatefulSet would take over;
* :mod:`.lifecycle` — ``finish`` and ``restore``;
* :mod:`.views` — the tables;
* :mod:`.results` — what actions return.

Safety rules, enforced here and tested:

* everything stsnb creates carries ``app.kubernetes.io/managed-by=stsnb`` (top-level labels and
  volume claim templates, never the pod template);
* :meth:`Lab.cleanup` deletes only objects with that label, only in the lab's namespace, and
  waits until they (and what the cluster garbage-collects with them) are gone;
* :meth:`Lab.apply` refuses to modify an object in the namespace that stsnb did not create, and
  :meth:`Lab.delete` / :meth:`Lab.delete_pod` refuse objects that neither carry the label nor are
  owned by something that does;
* before it applies, scales or re-configures a StatefulSet, the lab refuses when the set would
  adopt a pod or mount or own a claim that stsnb did not create (:mod:`.safety`);
* a cluster-scoped object it creates (the StorageClass ``sc-nfs``) is annotated with the lab's
  namespace, and that lab's cleanup removes it again once no claim names it;
* :meth:`Lab.finish` (a notebook's last step) keeps the sandbox's objects for the panels and
  cleans a real cluster; :meth:`Lab.restore` brings back what cleanup deleted (:mod:`.lifecycle`);
* a real cluster is used only when asked for (``backend="kubeconfig"``), and then in its own
  namespace (``stsnb-lab`` by default), created if missing.
"""

from __future__ import annotations

from .connect import connect
from .facade import Lab
from .results import ActionResult, DnsLookup, ErrorText, PodReplacement, Text, parse_nslookup

__all__ = ["connect", "Lab", "ActionResult", "PodReplacement", "DnsLookup", "Text", "ErrorText", "parse_nslookup"]
