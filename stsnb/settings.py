"""One validated, frozen settings object per lab, built from notebook parameters and ``STSNB_*`` variables.

Precedence, highest first: a value passed to :func:`stsnb.connect` (a notebook
parameter), then the environment variable, then the default. ``None`` and the
empty string mean "not given" at every level, so a papermill parameter left at
``None`` falls through to the environment.

=====================  ======================  ===================================================
parameter              environment variable    meaning
=====================  ======================  ===================================================
``backend``            ``STSNB_BACKEND``       ``"sandbox"``, ``"kubeconfig"`` or ``"auto"``
``namespace``          ``STSNB_NAMESPACE``     default ``"default"`` (sandbox), ``"stsnb-lab"`` (real)
``kubeconfig``         ``STSNB_KUBECONFIG``    a kubeconfig file (``~/.kube/config`` when unset)
``context``            ``STSNB_CONTEXT``       a context in it (its current context when unset)
``k8s_version``        ``STSNB_K8S_VERSION``   the version the sandbox imitates (``"1.27"``)
``speed``              ``STSNB_SPEED``         sandbox time flows this many times faster between skips (``1``)
``seed``               ``STSNB_SEED``          makes sandbox IPs, suffixes and uids reproducible
``lang``               ``STSNB_LANG``          ``"en"`` or ``"ko"``: panel labels and table headers
``timeout_s``          ``STSNB_TIMEOUT_S``     how long a wait may take, in seconds (``120``)
``storage_class``      ``STSNB_STORAGE_CLASS`` replaces ``sc-nfs`` in the guide's claim templates
``cluster_domain``     ``STSNB_CLUSTER_DOMAIN`` the DNS zone used for expected FQDNs
=====================  ======================  ===================================================

``backend="auto"`` means the sandbox unless ``STSNB_BACKEND`` says otherwise,
or a kubeconfig or context was given explicitly (``STSNB_KUBECONFIG``, or the
``kubeconfig``/``context`` parameters). ``KUBECONFIG`` alone never selects a
real cluster: a learner's cluster is used only when asked for.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from .errors import ConfigError

__all__ = ["Settings", "ClusterSettings", "SandboxSettings", "DisplaySettings", "BACKENDS", "LANGS",
           "LAB_NAMESPACE", "ENV"]

BACKENDS = ("auto", "sandbox", "kubeconfig")
LANGS = ("en", "ko")
#: The namespace a real cluster gets when none is named: never ``default``, so a lab stays in its own corner.
LAB_NAMESPACE = "stsnb-lab"
#: The sandbox's namespace: ``default``, so the guide's DNS names come out exactly.
SANDBOX_NAMESPACE = "default"

#: parameter name → environment variable
ENV: dict[str, str] = {
    "backend": "STSNB_BACKEND", "namespace": "STSNB_NAMESPACE", "kubeconfig": "STSNB_KUBECONFIG",
    "context": "STSNB_CONTEXT", "k8s_version": "STSNB_K8S_VERSION", "speed": "STSNB_SPEED",
    "seed": "STSNB_SEED", "lang": "STSNB_LANG", "timeout_s": "STSNB_TIMEOUT_S",
    "storage_class": "STSNB_STORAGE_CLASS", "cluster_domain": "STSNB_CLUSTER_DOMAIN",
}

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_VERSION = re.compile(r"^v?1\.(\d+)(\.\d+)?$")


@dataclass(frozen=True)
class ClusterSettings:
    """Which cluster and where in it."""

    backend: str = "sandbox"
    """``"sandbox"`` or ``"kubeconfig"`` once resolved (``"auto"`` is resolved by :meth:`Settings.from_sources`)."""
    namespace: str = SANDBOX_NAMESPACE
    """The lab's namespace: everything stsnb creates lives here, and cleanup looks nowhere else."""
    kubeconfig: str | None = None
    """Path of the kubeconfig file for ``backend="kubeconfig"`` (the client's default when ``None``)."""
    context: str | None = None
    """Context in the kubeconfig (its ``current-context`` when ``None``)."""
    cluster_domain: str = "cluster.local"
    """The cluster's DNS zone, used for the FQDNs the tables expect."""


@dataclass(frozen=True)
class SandboxSettings:
    """How the embedded sandbox cluster behaves."""

    k8s_version: str = "1.27"
    """The Kubernetes version the sandbox imitates (the guide's cluster is 1.27)."""
    speed: float = 1.0
    """Sandbox time flows this many times faster than the wall clock between the simulated delays it skips."""
    seed: int | None = None
    """Makes pod IPs, name suffixes and uids reproducible."""


@dataclass(frozen=True)
class DisplaySettings:
    """How tables and panels talk to the reader."""

    lang: str = "en"
    """``"en"`` or ``"ko"``: panel labels and displayed table headers (column keys stay English)."""


@dataclass(frozen=True)
class Settings:
    """Everything a lab is configured with; build it with :meth:`from_sources`."""

    cluster: ClusterSettings = field(default_factory=ClusterSettings)
    sandbox: SandboxSettings = field(default_factory=SandboxSettings)
    display: DisplaySettings = field(default_factory=DisplaySettings)
    timeout_s: float = 120.0
    """Deadline for each wait, in seconds of wall-clock time."""
    storage_class: str | None = None
    """StorageClass put into the guide's ``volumeClaimTemplates`` instead of ``sc-nfs`` (``None`` keeps it)."""
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    """Where each value came from: ``"parameter"``, the variable's name, or ``"default"``."""
    backend_reason: str = field(default="", compare=False)
    """Why this backend was chosen, in one clause."""

    # ------------------------------------------------------------------ shortcuts
    @property
    def backend(self) -> str:
        return self.cluster.backend

    @property
    def namespace(self) -> str:
        return self.cluster.namespace

    @property
    def lang(self) -> str:
        return self.display.lang

    def with_lang(self, lang: str) -> "Settings":
        """A copy with another display language."""
        _check_choice("lang", lang, LANGS)
        return replace(self, display=DisplaySettings(lang=lang))

    # ------------------------------------------------------------------ building
    @classmethod
    def from_sources(cls, params: Mapping[str, Any] | None = None,
                     env: Mapping[str, str] | None = None) -> "Settings":
        """Merge notebook parameters over ``STSNB_*`` variables over defaults; validate; resolve ``auto``.

        Raises:
            ConfigError: a value is not allowed; the message names the key, the value and what is allowed.
        """
        raw, sources = _gather(params, env)

        def where(key: str) -> str:
            return "" if sources[key] == "parameter" else f" (from ${sources[key]})"

        backend, reason = _choose_backend(raw, sources, where)
        cluster = _cluster_settings(raw, sources, where, backend)
        storage_class = raw.get("storage_class")
        if storage_class is not None:
            storage_class = str(storage_class).strip()
            if not _DNS_SUBDOMAIN.match(storage_class):
                raise ConfigError(f"storage_class {storage_class!r}{where('storage_class')} is not a valid name",
                                  hint="name an existing StorageClass (`kubectl get storageclass`), e.g. 'standard'")
        timeout_s = _number("timeout_s", raw.get("timeout_s", 120.0), float, where("timeout_s"))
        if not timeout_s > 0:
            raise ConfigError(f"timeout_s {timeout_s!r}{where('timeout_s')} must be greater than 0",
                              hint="a real cluster pulling images may need 120 s or more")
        lang = str(raw.get("lang", "en")).strip().lower()
        _check_choice("lang", lang, LANGS, where("lang"))
        return cls(cluster=cluster, sandbox=_sandbox_settings(raw, where), display=DisplaySettings(lang=lang),
                   timeout_s=timeout_s, storage_class=storage_class, sources=sources, backend_reason=reason)


def _gather(params: Mapping[str, Any] | None, env: Mapping[str, str] | None) -> tuple[dict[str, Any], dict[str, str]]:
    """Raw values and where each came from: a parameter, beats its ``STSNB_*`` variable, beats the default."""
    params = dict(params or {})
    env = os.environ if env is None else env
    unknown = sorted(set(params) - set(ENV))
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(map(repr, unknown))}",
                          hint=f"the settings are: {', '.join(sorted(ENV))}")
    raw: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, var in ENV.items():
        value = params.get(key)
        if value is not None and value != "":
            raw[key], sources[key] = value, "parameter"
        elif env.get(var, "") != "":
            raw[key], sources[key] = env[var], var
        else:
            sources[key] = "default"
    return raw, sources


def _choose_backend(raw: dict[str, Any], sources: dict[str, str], where: Any) -> tuple[str, str]:
    """``(backend, why)``: ``auto`` becomes the sandbox unless a kubeconfig or context was given explicitly."""
    backend = str(raw.get("backend", "auto")).strip().lower()
    _check_choice("backend", backend, BACKENDS, where("backend"))
    if backend != "auto":
        return backend, (f"backend={backend!r} was asked for ({_describe(sources['backend'])})"
                         if sources["backend"] != "default" else f"backend={backend!r}")
    if sources["kubeconfig"] != "default" or sources["context"] != "default":
        given = "kubeconfig" if sources["kubeconfig"] != "default" else "context"
        return "kubeconfig", f"backend='auto' and a {given} was given explicitly ({_describe(sources[given])})"
    return "sandbox", "backend='auto' and no real cluster was asked for (no STSNB_BACKEND, STSNB_KUBECONFIG or context)"


def _cluster_settings(raw: dict[str, Any], sources: dict[str, str], where: Any, backend: str) -> ClusterSettings:
    default_ns = SANDBOX_NAMESPACE if backend == "sandbox" else LAB_NAMESPACE
    namespace = str(raw.get("namespace", default_ns)).strip()
    if not _DNS_LABEL.match(namespace) or len(namespace) > 63:
        raise ConfigError(f"namespace {namespace!r}{where('namespace')} is not a valid namespace name",
                          hint="use lower-case letters, digits and '-', at most 63 characters, e.g. 'stsnb-lab'")
    domain = str(raw.get("cluster_domain", "cluster.local")).strip().strip(".")
    if not _DNS_SUBDOMAIN.match(domain):
        raise ConfigError(f"cluster_domain {domain!r}{where('cluster_domain')} is not a DNS domain",
                          hint="it is usually 'cluster.local'")
    kubeconfig = raw.get("kubeconfig")
    if kubeconfig is not None:
        kubeconfig = os.path.expanduser(str(kubeconfig))
    context = raw.get("context")
    if context is not None:
        context = str(context)
    if backend == "sandbox" and (sources["kubeconfig"] == "parameter" or sources["context"] == "parameter"):
        raise ConfigError(
            f"backend='sandbox' was chosen but a {'kubeconfig' if kubeconfig else 'context'} was passed too "
            f"({kubeconfig or context!r})",
            hint="to use that cluster pass backend='kubeconfig'; for the sandbox leave kubeconfig/context unset")
    return ClusterSettings(backend=backend, namespace=namespace, kubeconfig=kubeconfig, context=context,
                           cluster_domain=domain)


def _sandbox_settings(raw: dict[str, Any], where: Any) -> SandboxSettings:
    k8s_version = str(raw.get("k8s_version", "1.27")).strip()
    m = _VERSION.match(k8s_version)
    if not m:
        raise ConfigError(f"k8s_version {k8s_version!r}{where('k8s_version')} is not a Kubernetes version",
                          hint="write it as MAJOR.MINOR, e.g. '1.27' (the guide's) or '1.34'")
    speed = _number("speed", raw.get("speed", 1.0), float, where("speed"))
    if not speed > 0:
        raise ConfigError(f"speed {speed!r}{where('speed')} must be greater than 0",
                          hint="1 (the default) flows at the wall clock's pace and skips simulated delays while "
                               "the lab waits; 20 flows twenty times faster in between")
    seed = raw.get("seed")
    if seed is not None:
        seed = _number("seed", seed, int, where("seed"))
    return SandboxSettings(k8s_version=f"1.{m.group(1)}", speed=speed, seed=seed)


def _describe(source: str) -> str:
    return "as a parameter" if source == "parameter" else f"by ${source}"


def _check_choice(key: str, value: Any, allowed: tuple[str, ...], where: str = "") -> None:
    if value not in allowed:
        raise ConfigError(f"{key}={value!r}{where} is not allowed",
                          hint=f"choose one of {', '.join(map(repr, allowed))}")


def _number(key: str, value: Any, kind: type, where: str) -> Any:
    if isinstance(value, bool):
        raise ConfigError(f"{key}={value!r}{where} is not a number", hint=f"give {key} as a number")
    try:
        if kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(str(value).strip()) if isinstance(value, str) else int(value)
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key}={value!r}{where} is not a{'n integer' if kind is int else ' number'}",
                          hint=f"give {key} as a{'n integer' if kind is int else ' number'}, e.g. "
                               f"{'0' if kind is int else '20'}") from None
