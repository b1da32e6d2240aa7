"""Choosing a cluster: the embedded sandbox by default, a real one through a kubeconfig when asked."""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .. import manifests as _manifests
from ..errors import AlreadyExists, ConfigError, Forbidden, NotFound
from ..kube import Kube
from ..settings import Settings

from .facade import Lab

if TYPE_CHECKING:
    from ..sandbox import Sandbox

__all__ = ["connect"]

log = logging.getLogger("stsnb")


def connect(backend: str | None = None, namespace: str | None = None, k8s_version: str | None = None,
            speed: float | None = None, seed: int | None = None, context: str | None = None,
            kubeconfig: str | None = None, lang: str | None = None, timeout_s: float | None = None, *,
            storage_class: str | None = None, cluster_domain: str | None = None, notebook_lang: str | None = None,
            sandbox: "Sandbox | None" = None, env: dict[str, str] | None = None) -> "Lab":
    """Connect a lab to a cluster: the embedded sandbox by default, a real one only when asked for.

    Every argument left at ``None`` falls back to its ``STSNB_*`` environment variable, then to its
    default (see :mod:`stsnb.settings`). ``lab.why`` says which cluster was chosen and why.

    Args:
        backend: ``"sandbox"``, ``"kubeconfig"`` or ``"auto"``.
        namespace: the lab's namespace (``default`` on the sandbox, ``stsnb-lab`` on a real cluster).
        k8s_version, speed, seed: how the sandbox behaves.
        context, kubeconfig: which real cluster (``backend="kubeconfig"``).
        lang: ``"en"`` or ``"ko"`` for panels, displayed table headers and figures.
        notebook_lang: the language the calling notebook is written in (its parameters cell says
            ``notebook_lang = "ko"``). The display language is, first found: ``lang`` (a notebook
            parameter: papermill's ``-p lang en`` and ``stsnb run`` set it), ``$STSNB_LANG``,
            ``notebook_lang``, then ``"en"``. So a Korean notebook is Korean wherever it is opened,
            and an explicit choice still wins.
        timeout_s: the deadline of each wait.
        storage_class: replaces ``sc-nfs`` in the guide's claim templates (a real cluster's class).
        cluster_domain: the DNS zone for expected FQDNs (``cluster.local``).
        sandbox: an already started :class:`~stsnb.sandbox.Sandbox` to use (tests); it is not stopped
            by :meth:`Lab.close`.
        env: the environment to read ``STSNB_*`` from (``os.environ`` by default).

    Raises:
        ConfigError: a setting, the kubeconfig file or the context is wrong.
        ClusterUnreachable: the real cluster does not answer.
        Forbidden: the namespace cannot be used (RBAC, or it is being deleted).
    """
    params = {"backend": backend, "namespace": namespace, "k8s_version": k8s_version, "speed": speed, "seed": seed,
              "context": context, "kubeconfig": kubeconfig, "lang": lang, "timeout_s": timeout_s,
              "storage_class": storage_class, "cluster_domain": cluster_domain}
    if sandbox is not None:
        if backend not in (None, "auto", "sandbox"):
            raise ConfigError(f"backend={backend!r} cannot be combined with sandbox=...",
                              hint="pass either a running sandbox or backend='kubeconfig', not both")
        params["backend"] = "sandbox"
    settings = Settings.from_sources(params, env)
    if notebook_lang is not None and settings.sources.get("lang") == "default":
        settings = dataclasses.replace(settings.with_lang(str(notebook_lang).strip().lower()),
                                       sources={**settings.sources, "lang": "notebook"})
    if sandbox is not None and backend is None:
        settings = dataclasses.replace(settings, backend_reason="a running sandbox was passed to connect()")
    if settings.backend == "sandbox":
        return _connect_sandbox(settings, sandbox)
    return _connect_kubeconfig(settings)


def _connect_sandbox(settings: Settings, existing: "Sandbox | None") -> "Lab":
    from ..sandbox import Sandbox
    owns = existing is None
    if existing is None:
        sb = Sandbox(k8s_version=settings.sandbox.k8s_version, speed=settings.sandbox.speed,
                     seed=settings.sandbox.seed, dns_port=None)
        sb.start()
    else:
        sb = existing if existing.started else existing.start()
    kube = Kube(sb.api_client(), settings.namespace, context="stsnb-sandbox")
    kube.waiter = sb  # in this process: the lab's watches acknowledge what they acted on
    created = _ensure_namespace(kube, settings.namespace)
    why = (f"the embedded sandbox cluster at {sb.url} (imitating Kubernetes v{sb.profile.version}, "
           f"{sb.clock_description}), namespace {settings.namespace!r}"
           f"{' (created)' if created else ''}: {settings.backend_reason}")
    lab = Lab(kube, settings, why=why, sandbox=sb, owns_sandbox=owns)
    log.info("stsnb: %s", why)
    return lab


def _kubeconfig_path(settings: Settings) -> str:
    """The kubeconfig to read: the setting, else ``$KUBECONFIG`` (several files merge, as kubectl does), else ``~/.kube/config``."""
    if settings.cluster.kubeconfig:
        return settings.cluster.kubeconfig
    env = os.environ.get("KUBECONFIG", "")
    if any(p for p in env.split(os.pathsep)):
        return os.pathsep.join(os.path.expanduser(p) for p in env.split(os.pathsep) if p)
    return os.path.expanduser("~/.kube/config")


def _connect_kubeconfig(settings: Settings) -> "Lab":
    from kubernetes import client, config
    path = _kubeconfig_path(settings)
    if not any(Path(p).is_file() for p in path.split(os.pathsep)):
        raise ConfigError(f"backend='kubeconfig' but there is no kubeconfig file at {str(path)!r}",
                          hint="point STSNB_KUBECONFIG (or kubeconfig=...) at one, create a cluster with "
                               "`kind create cluster`, or use the sandbox: stsnb.connect(backend='sandbox')")
    try:
        contexts, current = config.list_kube_config_contexts(str(path))
    except Exception as e:  # ConfigException, YAML errors
        raise ConfigError(f"cannot read the kubeconfig {str(path)!r}: {e}",
                          hint="check it with `kubectl config view`") from e
    names = [c["name"] for c in contexts or []]
    ctx = settings.cluster.context or (current or {}).get("name")
    if not ctx:
        raise ConfigError(f"the kubeconfig {str(path)!r} has no current context and none was given",
                          hint=f"pass context=... (one of {', '.join(names) or 'none defined'})")
    if ctx not in names:
        raise ConfigError(f"context {ctx!r} is not in the kubeconfig {str(path)!r}",
                          hint=f"available contexts: {', '.join(names) or 'none'}; see `kubectl config get-contexts`")
    cfg = client.Configuration()
    cfg.retries = 1
    try:
        api_client = config.new_client_from_config(config_file=str(path), context=ctx, persist_config=False,
                                                   client_configuration=cfg)
    except Exception as e:  # noqa: BLE001 - exec plugins, missing certificate files
        raise ConfigError(f"cannot use context {ctx!r} from {str(path)!r}: {e}",
                          hint=f"check that `kubectl --context {ctx} get ns` works") from e
    kube = Kube(api_client, settings.namespace, context=ctx)
    version = kube.version()
    created = _ensure_namespace(kube, settings.namespace)
    why = (f"a real cluster through the kubeconfig {str(path)!r}, context {ctx!r} ({kube.host}, Kubernetes "
           f"{version.get('gitVersion', '?')}), namespace {settings.namespace!r}{' (created)' if created else ''}: "
           f"{settings.backend_reason}")
    lab = Lab(kube, settings, why=why)
    log.info("stsnb: %s", why)
    return lab


def _ensure_namespace(kube: Kube, name: str) -> bool:
    """Create the lab namespace if it is missing (labelled managed-by stsnb); True when created."""
    try:
        ns = kube.get("namespaces", name)
    except NotFound:
        try:
            kube.create({"apiVersion": "v1", "kind": "Namespace",
                         "metadata": {"name": name, "labels": dict(_manifests.MANAGED_BY)}})
        except AlreadyExists:
            return False
        except Forbidden as e:
            raise Forbidden(f"namespace {name!r} does not exist and may not be created here: {e.message}",
                            hint="ask an admin to create it (`kubectl create namespace " + name + "`), or connect "
                                 "with namespace=... one you may use") from e
        return True
    except Forbidden as e:
        # many users may work inside a namespace without being allowed to read the Namespace object
        try:
            kube.call("GET", f"/api/v1/namespaces/{name}/pods", query={"limit": 1}, action=f"list pods in namespace {name}")
        except Forbidden:
            raise Forbidden(f"namespace {name!r} may not be used with this context: {e.message}",
                            hint="ask for a Role in it, or connect with namespace=... one you may use") from e
        return False
    if (ns.get("metadata") or {}).get("deletionTimestamp"):
        raise Forbidden(f"namespace {name!r} is being deleted",
                        hint="wait until `kubectl get ns` no longer lists it, or connect with another namespace=...")
    return False
