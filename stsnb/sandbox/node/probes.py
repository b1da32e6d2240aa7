"""Readiness, liveness and startup probes, as the kubelet's prober workers run them (``pkg/kubelet/prober``).

One :class:`Worker` per probe of a running container (``worker.go``): its first
probe comes ``initialDelaySeconds`` after the container started, then one every
``periodSeconds``; a result counts once it repeats ``successThreshold`` or
``failureThreshold`` times in a row (``doProbe``). Readiness starts as a
failure (the container is not ready until a probe succeeds), liveness and
startup as a success; readiness and liveness wait for the startup probe. Each
failed probe records a Warning ``Unhealthy`` event (``<Type> probe failed:
<output>``, prober.go ``runProbeWithRetries``).

What a probe finds is decided by :class:`Prober`, the one place where the
sandbox's containers answer probes. It looks at the container as it is now: its
own filesystem (:mod:`.containers`, the one ``kubectl exec`` and ``kubectl cp``
change) and the programs that run in it (:mod:`.programs`):

* the pod annotation ``<type>.probe.sandbox.stsnb.io/<container>`` set to
  ``fail`` (or ``false``) or ``succeed`` (``true``) overrides the outcome of
  that container's declared probe of that type (a lesson or a test breaks
  readiness the way a real failing probe would: nothing happens to a
  container without a probe of that type, as on a real kubelet);
* ``httpGet``: the container's default process, if its image serves HTTP on
  that port (:mod:`.images`: nginx, httpd …), answers from its web root in the
  container's filesystem (:func:`.network.static_lookup`): 200 for a file that
  is there (``/index.html`` of a fresh container is the image's), 404 once it
  is gone (``HTTP probe failed with statuscode: 404``, upstream's words), a
  directory its index (nginx refuses one without: 403; httpd lists it); a
  redirect is followed, and any status from 200 to 399 succeeds, as upstream's
  HTTP prober does. A server without a web root (CoreDNS) answers 200 for its
  :attr:`~.images.Entry.http_paths`. A program that serves by itself (agnhost
  ``netexec``, started by the pod's ``command``) is asked, on the ports it listens
  on. Nothing listening gives "connection refused"; an image the sandbox does not
  know is assumed to answer 200;
* ``tcpSocket``: open on the ports the default process serves (any port for
  an unknown image);
* ``exec``: the command runs through the container programs (:mod:`.programs`),
  on the same filesystem: exit 0 succeeds, anything else fails with its output,
  a command still running after ``timeoutSeconds`` fails with "command timed out";
* ``grpc``: succeeds.

Periodic probes are background timers (a discrete clock never jumps to them).
When a probe's outcome is about to change (its input changed: the pod was
updated, or an exec in the container finished: the kubelet's ``reprobe``, then
:meth:`Worker.poke`), the probes that decide it are foreground, so a waiting
client sees the container go unready, or ready again, without idling.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import images
from .network import HttpRequest, Server, static_lookup

if TYPE_CHECKING:
    from ..core.engine import Timer
    from .containers import FileSystem

__all__ = ["Prober", "Worker", "ANNOTATION", "TYPES"]

#: ``ANNOTATION.format(type="readiness", container="nginx")`` overrides that probe's outcome.
ANNOTATION = "{type}.probe.sandbox.stsnb.io/{container}"
TYPES = ("startup", "readiness", "liveness")
_TITLE = {"startup": "Startup", "readiness": "Readiness", "liveness": "Liveness"}


class Prober:
    """What a probe of a container finds; see the module docstring."""

    def __init__(self, run_command: Callable[[dict, dict, list[str]], tuple[int | None, str]],
                 filesystem: Callable[[dict, dict], "FileSystem | None"],
                 own_server: Callable[[dict, dict], "tuple[tuple[int, ...], Server] | None"] | None = None) -> None:
        """``run_command(pod, container, argv)`` runs an exec probe's command in the container;
        ``filesystem(pod, container)`` is the running container's filesystem (None if it has none);
        ``own_server(pod, container)`` the ports and server of a program that serves by itself
        (agnhost netexec), which a probe then asks as the kubelet's prober would."""
        self._run_command = run_command
        self._filesystem = filesystem
        self._own_server = own_server or (lambda pod, container: None)

    def probe(self, kind: str, pod: dict, container: dict, ip: str | None) -> tuple[bool, str]:
        """``(succeeded, output)`` of the container's ``kind`` probe right now."""
        spec = container.get(f"{kind}Probe") or {}
        name = container.get("name", "")
        override = ((pod.get("metadata") or {}).get("annotations") or {}).get(
            ANNOTATION.format(type=kind, container=name))
        if override is not None and override.lower() in ("fail", "false", "succeed", "true"):
            ok = override.lower() in ("succeed", "true")
            key = ANNOTATION.format(type=kind, container=name)
            return ok, "" if ok else f'the sandbox was told to fail it (annotation {key}: "{override}")'
        if "exec" in spec:
            return self.exec_command(pod, container, spec)
        if "httpGet" in spec:
            return self.http_get(pod, container, spec["httpGet"], ip)
        if "tcpSocket" in spec:
            return self.tcp_socket(pod, container, spec["tcpSocket"], ip)
        return True, ""

    # ------------------------------------------------------------------ handlers
    def _entry(self, container: dict) -> tuple[images.Entry | None, bool]:
        """The image's catalogue entry and whether its default process runs (no command override)."""
        try:
            entry = images.lookup(images.parse(container.get("image") or ""))
        except images.InvalidReference:
            return None, False
        return entry, not container.get("command")

    def _port(self, container: dict, port: Any) -> int | None:
        if isinstance(port, int):
            return port
        if isinstance(port, str) and port.isdigit():
            return int(port)
        for p in container.get("ports") or []:
            if p.get("name") == port:
                return p.get("containerPort")
        return None

    def serve_status(self, pod: dict, container: dict, entry: images.Entry, path: str) -> int:
        """The HTTP status the container's web server answers for ``GET path``, from its filesystem as it
        is now (a redirect followed, as the kubelet's prober follows one to the same host)."""
        fs = self._filesystem(pod, container)
        if fs is None:  # no filesystem to look at: only what the server answers by itself
            return 200 if path in entry.http_paths else 404
        status, where = static_lookup(fs, entry.docroot, path, autoindex=entry.autoindex)
        if status == 301:
            status, _ = static_lookup(fs, entry.docroot, where, autoindex=entry.autoindex)
        return status

    def _listening(self, container: dict, port: int | None) -> tuple[bool, images.Entry | None]:
        entry, default = self._entry(container)
        if entry is None:
            return True, None  # an image the sandbox does not know: assume it serves what it is asked
        return bool(default and port in entry.ports), entry

    def http_get(self, pod: dict, container: dict, action: dict, ip: str | None) -> tuple[bool, str]:
        port = self._port(container, action.get("port"))
        path = action.get("path") or "/"
        scheme = (action.get("scheme") or "HTTP").lower()
        host = action.get("host") or ip or ""
        own = self._own_server(pod, container)
        if own is not None:
            ports, server = own
            if port not in ports:
                return False, (f'Get "{scheme}://{host}:{port}{path}": dial tcp {host}:{port}: connect: '
                               "connection refused")
            status = server(HttpRequest("GET", path, [("Host", f"{host}:{port}")])).status
            return (True, "") if 200 <= status < 400 else (False, f"HTTP probe failed with statuscode: {status}")
        listening, entry = self._listening(container, port)
        if not listening:
            return False, f'Get "{scheme}://{host}:{port}{path}": dial tcp {host}:{port}: connect: connection refused'
        if entry is None:
            return True, ""
        if not entry.docroot:
            status = 200 if path.split("?", 1)[0] in entry.http_paths else 404
        else:
            status = self.serve_status(pod, container, entry, path)
        if 200 <= status < 400:
            return True, ""
        return False, f"HTTP probe failed with statuscode: {status}"

    def tcp_socket(self, pod: dict, container: dict, action: dict, ip: str | None) -> tuple[bool, str]:
        port = self._port(container, action.get("port"))
        host = action.get("host") or ip or ""
        own = self._own_server(pod, container)
        listening = port in own[0] if own is not None else self._listening(container, port)[0]
        return (True, "") if listening else (False, f"dial tcp {host}:{port}: connect: connection refused")

    def exec_command(self, pod: dict, container: dict, spec: dict) -> tuple[bool, str]:
        command = [str(a) for a in (spec.get("exec") or {}).get("command") or []]
        code, output = self._run_command(pod, container, command)
        if code is None:
            return False, "command timed out"
        return code == 0, output


class Worker:
    """One probe of one running container instance (``prober/worker.go``).

    ``report(kind, ok)`` tells the kubelet a result that counts (after the thresholds);
    ``unhealthy(kind, message)`` records the Warning event of a failed probe.
    """

    def __init__(self, kind: str, spec: dict, schedule: Callable[..., "Timer"], evaluate: Callable[[], tuple[bool, str]],
                 report: Callable[[str, bool], None], unhealthy: Callable[[str, str], None]) -> None:
        self.kind, self.spec = kind, spec
        self._schedule, self._evaluate, self._report, self._unhealthy = schedule, evaluate, report, unhealthy
        self.result = kind != "readiness"  # readiness starts as a failure, liveness and startup as a success
        self._last: bool | None = None
        self._run = 0
        self._timer: Timer | None = None
        self._foreground = False
        self.stopped = False

    @property
    def period(self) -> float:
        return float(self.spec.get("periodSeconds") or 10)

    def start(self) -> None:
        """Schedule the first probe ``initialDelaySeconds`` from now (the container just started).

        The first readiness or startup probe is foreground: the container's readiness waits for it.
        A liveness probe starts as a success, so nothing waits for its first probe.
        """
        self._arm(float(self.spec.get("initialDelaySeconds") or 0), foreground=self.kind != "liveness")

    def stop(self) -> None:
        self.stopped = True
        if self._timer is not None:
            self._timer.cancel()

    def poke(self) -> None:
        """An input of the probe changed: if its outcome is about to change, the next probes are foreground."""
        if self.stopped or self._foreground:
            return
        ok, _ = self._evaluate()
        if ok != self.result and self._timer is not None:
            self._timer.cancel()
            self._arm(self.period, foreground=True)

    def _arm(self, delay: float, *, foreground: bool) -> None:
        self._foreground = foreground
        self._timer = self._schedule(delay, self._tick, background=not foreground)

    def _tick(self) -> None:
        if self.stopped:
            return
        ok, output = self._evaluate()
        if not ok:
            self._unhealthy(self.kind, f"{_TITLE[self.kind]} probe failed: {output}".rstrip())
        self._run = self._run + 1 if ok == self._last else 1
        self._last = ok
        threshold = int(self.spec.get("successThreshold") or 1) if ok else int(self.spec.get("failureThreshold") or 3)
        settling = ok != self.result
        if settling and self._run >= threshold:
            self.result = ok
            settling = False
            self._report(self.kind, ok)
        if self.stopped:
            return
        self._arm(self.period, foreground=settling)
