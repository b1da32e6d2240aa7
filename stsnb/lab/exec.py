"""``kubectl exec`` for the lab: run a command in a pod's container and get its output and exit code.

Built on the official client's WebSocket client (``kubernetes.stream.ws_client``, what
``kubernetes.stream.stream`` uses, opened by :meth:`stsnb.kube.Kube.connect` without the typed
API classes), the channel protocol kubectl speaks, so it works on the sandbox and on a real
cluster alike. The exit code comes from the error channel's ``Status``
(``Success``, or ``NonZeroExitCode`` with the code as its cause).
"""

from __future__ import annotations

import html
import json
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import ConditionFailed, NotFound, WaitTimeout
from ..k8s.pods import pod_owner
from ..kube import parse_target, ref as _ref, resolve_kind
from .ownership import Ownership

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Exec", "ExecResult", "ExecTable"]


@dataclass(repr=False)
class ExecResult:
    """What one command in a container did: ``stdout``, ``stderr``, ``exit_code`` (``ok`` when 0)."""

    pod: str
    command: list[str]
    stdout: str
    stderr: str
    exit_code: int
    container: str | None = None

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def text(self) -> str:
        """What kubectl prints: stdout, stderr, and ``command terminated with exit code N`` on failure."""
        out = self.stdout + self.stderr
        if self.exit_code:
            out += f"command terminated with exit code {self.exit_code}\n"
        return out

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text.rstrip("\n") or "(no output)"

    def _repr_html_(self) -> str:
        return f'<pre class="stsnb-exec">{html.escape(self.text or "(no output)")}</pre>'


@dataclass(repr=False)
class ExecTable:
    """The same command run in several pods: ``results`` in pod order, and ``frame`` (pod, stdout, exit_code)."""

    command: list[str]
    results: list[ExecResult]
    lang: str = "en"

    @property
    def frame(self) -> "pd.DataFrame":
        import pandas as pd
        return pd.DataFrame([{"pod": r.pod, "stdout": r.stdout.rstrip("\n"), "stderr": r.stderr.rstrip("\n"),
                              "exit_code": r.exit_code} for r in self.results],
                            columns=["pod", "stdout", "stderr", "exit_code"])

    def outputs(self) -> dict[str, str]:
        """``{pod: stdout without the final newline}``."""
        return {r.pod: r.stdout.rstrip("\n") for r in self.results}

    def __repr__(self) -> str:
        return "\n".join(f"{r.pod}: {r.stdout.rstrip()}" for r in self.results)

    def _repr_html_(self) -> str:
        from .. import tables
        return tables.to_html(self.frame, self.lang)


def _handshake_message(e: Exception) -> str:
    """The ``Status`` message out of a failed WebSocket handshake (the client puts the body in ``reason``)."""
    text = str(getattr(e, "reason", "") or e)
    m = re.search(r"(\{.*\})", text, re.S)
    if m:
        try:
            doc = json.loads(m.group(1).encode().decode("unicode_escape"))
            if isinstance(doc, dict) and doc.get("message"):
                return str(doc["message"])
        except (ValueError, UnicodeDecodeError):
            pass
    return text


class Exec(Ownership):
    """``lab.exec`` and ``lab.exec_each``."""

    def exec(self, pod: str, command: str | list[str], *, container: str | None = None,
             stdin: str | bytes | None = None, timeout: float | None = None) -> ExecResult:
        """``kubectl exec POD [-c CONTAINER] -- COMMAND``: run a command, return stdout, stderr and exit code.

        Args:
            pod: the pod's name (one stsnb created, or one owned by something it created).
            command: a list of words (run as given), or a string run by ``sh -c``.
            container: the container (the pod's only one by default).
            stdin: text or bytes sent to the command's stdin, which is then closed.
            timeout: seconds to wait for the command (the lab's timeout by default).

        A non-zero exit code is returned, not raised (``result.ok`` is False); a pod that is not
        running, or a container that does not exist, raises with the server's message.
        """
        from kubernetes.client.exceptions import ApiException
        self._require_ours(resolve_kind("pod"), pod)
        argv = ["sh", "-c", command] if isinstance(command, str) else [str(a) for a in command]
        query = [("command", a) for a in argv] + [("stdout", "true"), ("stderr", "true"),
                                                  ("stdin", "true" if stdin is not None else "false"), ("tty", "false")]
        if container:
            query.append(("container", container))
        try:
            resp = self.kube.connect(resolve_kind("pod").path(self.namespace, pod, "exec"), query)
        except ApiException as e:
            raise ConditionFailed(f"could not exec into pod {pod}: {_handshake_message(e)}", pod=pod,
                                  hint="the pod must be Running and the container must exist: "
                                       f"`kubectl get pod {pod}`") from None
        limit = self._timeout(timeout)
        try:
            if stdin is not None:
                resp.write_stdin(stdin)
                resp.close_channel(0)  # v5: end of input, the connection stays open for the output
            deadline = time.monotonic() + limit
            while resp.is_open() and time.monotonic() < deadline:
                resp.update(timeout=min(1.0, max(0.0, deadline - time.monotonic())))
            if resp.is_open():
                raise WaitTimeout(f"`{' '.join(argv)}` in pod {pod} did not finish within {limit:g}s",
                                  condition=f"exec in {pod}", hint="pass a larger `timeout=`")
            out, err = resp.read_stdout(), resp.read_stderr()
            code = resp.returncode
        finally:
            resp.close()
            resp.sock.shutdown()  # the client leaves the socket open when the server ended the WebSocket
        return ExecResult(pod=pod, command=argv, stdout=out or "", stderr=err or "", exit_code=int(code or 0),
                          container=container)

    def exec_each(self, target: str, command: str | list[str], *, container: str | None = None,
                  timeout: float | None = None) -> ExecTable:
        """Run the same command in every pod of a StatefulSet or Deployment (``statefulset/NAME``), in name order."""
        kind, name = parse_target(target)
        owner = self._require_ours(kind, name)
        pods = sorted(self._workload_pods(owner), key=lambda p: _ordinal_key(p["metadata"]["name"]))
        if not pods:
            raise NotFound(f"{_ref(kind, name)} has no pods to run `{command}` in",
                           hint=f"wait until it is ready: `lab.wait_ready('{target}')`")
        results = []
        for p in pods:
            if pod_owner(p) is None:
                continue
            results.append(self.exec(p["metadata"]["name"], command, container=container, timeout=timeout))
        argv = ["sh", "-c", command] if isinstance(command, str) else list(command)
        return ExecTable(argv, results, self.lang)


def _ordinal_key(name: str) -> tuple:
    head, _, tail = name.rpartition("-")
    return (head, int(tail)) if tail.isdigit() else (name, -1)
