"""``pods/exec``, ``pods/attach`` and ``pods/portforward`` over WebSocket, as kubectl 1.30+ and the official client speak them.

The request is checked like any other (the pod, the container, the phase, the
query) and answered with a ``Status`` when something is wrong; otherwise the
handler returns a ``101`` whose :attr:`Response.upgrade` takes over the
connection. WebSocket framing is ``wsproto``'s; what travels inside follows
upstream:

* **exec/attach** (k8s.io/apimachinery ``util/httpstream/wsstream/conn.go``,
  client-go ``tools/remotecommand/websocket.go``, the kubelet's
  ``cri/streaming/remotecommand``): every binary message starts with its channel,
  stdin 0, stdout 1, stderr 2, error 3, resize 4; the ``base64.`` protocols send
  text messages with the channel as a digit and the data base64-encoded. The
  first message is an empty one on the lowest output channel. When the process
  ends the error channel carries the result: from ``v4.channel.k8s.io`` on a
  JSON ``Status`` (``Success``, or ``Failure`` with reason ``NonZeroExitCode``
  and ``details.causes[{reason: ExitCode, message: "N"}]``), before v4 only a
  failure's message. ``v5.channel.k8s.io`` adds the CLOSE signal ``[255, n]``: the
  client closes its stdin without closing the connection. Resize messages
  (``{"Width": w, "Height": h}``) are accepted. With a TTY there is one output
  stream, stdout.
* **portforward**: the kubelet's WebSocket protocol (``v4.channel.k8s.io``, the
  official Python client's ``portforward``): per ``ports`` query value a data
  channel ``2i`` and an error channel ``2i+1``, each opened with the port as two
  little-endian bytes; and kubectl's tunnel (``SPDY/3.1+portforward.k8s.io``,
  client-go ``tools/portforward/tunneling_dialer.go``): SPDY/3.1 frames carried
  in binary messages, one data and one error stream per connection
  (:mod:`.spdy`).

The sandbox speaks no SPDY without WebSocket: a plain (SPDY) upgrade request gets
a ``400`` that says so, after the same checks as a WebSocket one, so a client that
falls back still sees the real reason first.
"""

from __future__ import annotations

import base64
import json
import threading
from typing import Callable, Protocol
from urllib.parse import parse_qs, urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.events import (AcceptConnection, BytesMessage, CloseConnection, Ping, Request as WsRequest,
                            TextMessage)
from wsproto.utilities import LocalProtocolError

from ..core import errors
from ..core.cluster import Cluster

V5, V4, V3, V2, V1 = ("v5.channel.k8s.io", "v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io",
                      "channel.k8s.io")
B64_V4, B64_V1 = "v4.base64.channel.k8s.io", "base64.channel.k8s.io"
#: Subprotocols for exec and attach, the server's preference order (the client's order wins, as upstream's handshake).
EXEC_PROTOCOLS = (V5, V4, B64_V4, V3, V2, V1, B64_V1)
PORTFORWARD_TUNNEL = "SPDY/3.1+portforward.k8s.io"
PORTFORWARD_PROTOCOLS = (PORTFORWARD_TUNNEL, V4, B64_V4, V1, B64_V1)
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255


class Transport(Protocol):
    """The upgraded connection as the socket server hands it over."""

    raw_request: bytes

    def recv(self) -> bytes:
        """The next bytes from the client; ``b""`` when it has gone."""
        ...

    def send(self, data: bytes) -> None: ...

    def close(self) -> None: ...


def is_websocket(headers: dict[str, str]) -> bool:
    """``IsWebSocketRequest``: ``Upgrade: websocket`` and ``Connection`` naming upgrade."""
    return headers.get("upgrade", "").lower() == "websocket" and \
        "upgrade" in [p.strip() for p in headers.get("connection", "").lower().split(",")]


def choose(requested: list[str], supported: tuple[str, ...]) -> str | None:
    """The first protocol the client asked for that the server speaks (``""`` when it asked for none)."""
    if not requested:
        return ""
    return next((p for p in requested if p in supported), None)


def _bool(query: dict[str, list[str]], name: str) -> bool:
    return (query.get(name) or [""])[-1] in ("1", "true", "True")


# ---------------------------------------------------------------------- the checks before the upgrade


def connect(sb: Cluster, method: str, target: str, headers: dict[str, str], namespace: str, name: str,
            subresource: str):
    """Check a streaming request; returns the upgrade callable (taking a :class:`Transport`) or raises a Status."""
    query = parse_qs(urlsplit(target).query, keep_blank_values=True)
    pod = sb.registry.get("pods", namespace, name)
    websocket = is_websocket(headers)
    requested = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",") if p.strip()]
    if subresource == "portforward":
        ports = _ports(query)
        if websocket and not requested:
            requested = [V1]
        protocol = choose(requested, PORTFORWARD_PROTOCOLS)
        if protocol != PORTFORWARD_TUNNEL and websocket and not ports:
            raise errors.bad_request('query parameter "port" is required')
    else:
        container = _container(pod, (query.get("container") or [""])[-1])
        phase = (pod.get("status") or {}).get("phase")
        if phase in ("Succeeded", "Failed"):
            raise errors.bad_request(f"cannot exec into or attach to a container in a completed pod; current "
                                     f"phase is {phase}")
        if not pod["spec"].get("nodeName"):
            raise errors.bad_request(f"pod {name} does not have a host assigned")
        command = query.get("command") or []
        if subresource == "exec" and not command:
            raise errors.bad_request("you must specify at least one command for the container")
        tty, stdin = _bool(query, "tty"), _bool(query, "stdin")
        stdout, stderr = _bool(query, "stdout"), _bool(query, "stderr") and not tty
        if not (stdin or stdout or stderr):
            raise errors.bad_request("you must specify at least 1 of stdin, stdout, stderr")
        protocol = choose(requested, EXEC_PROTOCOLS)
    if not websocket:
        if subresource != "portforward":
            # a kubectl that fell back to SPDY after the WebSocket upgrade was refused (a container that is not
            # running) is told that reason again, as a real cluster tells it, not that SPDY is not served
            try:
                sb.kubelet.check_running(namespace, name, container)
            except errors.ApiError as e:  # kubectl's SPDY client prefixes "unable to upgrade connection: " itself
                raise errors.bad_request(e.message.removeprefix("unable to upgrade connection: ")) from None
        # kubectl speaks WebSocket by default for exec/attach/cp from 1.30 and for port-forward from 1.31
        # (KEP-4006: beta, on by default); 1.30's port-forward needs KUBECTL_PORT_FORWARD_WEBSOCKETS=true
        newer = ("kubectl 1.31 and newer (1.30 with KUBECTL_PORT_FORWARD_WEBSOCKETS=true)"
                 if subresource == "portforward" else "kubectl 1.30 and newer")
        raise errors.bad_request(
            f"{subresource} over SPDY is not served by the stsnb sandbox: it speaks the WebSocket protocols "
            f"({', '.join(EXEC_PROTOCOLS if subresource != 'portforward' else PORTFORWARD_PROTOCOLS)}); {newer} "
            "and the official Python client use them (an older kubectl, or one that picks its version to match "
            "the cluster's 1.27, falls back to SPDY)")
    if protocol is None:
        raise errors.bad_request(f"requested protocol(s) are not supported: {requested}; supports "
                                 f"{list(EXEC_PROTOCOLS if subresource != 'portforward' else PORTFORWARD_PROTOCOLS)}")
    kubelet = sb.kubelet
    if subresource == "portforward":
        if protocol == PORTFORWARD_TUNNEL:
            from .spdy import serve_tunnel
            return lambda t: serve_tunnel(_socket(t, protocol), kubelet, namespace, name)
        return lambda t: _serve_port_channels(_socket(t, protocol), kubelet, namespace, name, ports, protocol)
    kubelet.check_running(namespace, name, container)  # the kubelet refuses before the upgrade
    opts = {"tty": tty, "stdin": stdin, "stdout": stdout, "stderr": stderr}
    if subresource == "exec":
        return lambda t: _serve_exec(_socket(t, protocol), kubelet, namespace, name, container, command, opts)
    stdin_once = any(c.get("name") == container and c.get("stdinOnce")
                     for key in ("containers", "initContainers", "ephemeralContainers") for c in pod["spec"].get(key) or [])
    return lambda t: _serve_attach(_socket(t, protocol), kubelet, pod, container, opts, stdin_once)


def _container(pod: dict, container: str) -> str:
    """``streamLocation`` in pkg/registry/core/pod/strategy.go: the named container, or the only one."""
    name = pod["metadata"]["name"]
    names = [c["name"] for c in pod["spec"]["containers"]]
    inits = [c["name"] for c in pod["spec"].get("initContainers") or []]
    if not container:
        if len(names) == 1:
            return names[0]
        if not names:
            raise errors.bad_request(f"a container name must be specified for pod {name}")
        more = f" or one of the init containers: [{' '.join(inits)}]" if inits else ""
        raise errors.bad_request(f"a container name must be specified for pod {name}, choose one of: "
                                 f"[{' '.join(names)}]{more}")
    if not any(c["name"] == container for key in ("containers", "initContainers", "ephemeralContainers")
               for c in pod["spec"].get(key) or []):
        raise errors.bad_request(f"container {container} is not valid for pod {name}")
    return container


def _ports(query: dict[str, list[str]]) -> list[int]:
    ports: list[int] = []
    for value in query.get("ports") or []:
        for p in value.split(","):
            if not p.isdigit() or not 0 < int(p) < 65536:
                raise errors.bad_request(f'unable to parse "{value}" as a port: strconv.ParseUint: parsing "{p}": '
                                         "invalid syntax")
            ports.append(int(p))
    return ports


# ---------------------------------------------------------------------- WebSocket


class WebSocket:
    """A server-side WebSocket over a :class:`Transport`, framed by ``wsproto``; sends are thread-safe."""

    def __init__(self, transport: Transport, protocol: str) -> None:
        self.t = transport
        self.protocol = protocol
        self.ws = WSConnection(ConnectionType.SERVER)
        self.lock = threading.Lock()
        self.closed = False
        self.ws.receive_data(transport.raw_request)
        for event in self.ws.events():
            if isinstance(event, WsRequest):
                self._send(AcceptConnection(subprotocol=protocol or None))

    def _send(self, event: object) -> bool:
        with self.lock:
            if self.closed:
                return False
            try:
                data = self.ws.send(event)
            except LocalProtocolError:
                return False
            try:
                self.t.send(data)
            except OSError:
                self.closed = True
                return False
            return True

    def send(self, data: bytes | str) -> bool:
        return self._send(TextMessage(data=data) if isinstance(data, str) else BytesMessage(data=data))

    def close(self, code: int = 1000) -> None:
        if self._send(CloseConnection(code=code)):
            pass

    def messages(self):
        """Whole messages (bytes or str) until the client closes; pings answered on the way."""
        parts: list = []
        while True:
            try:
                data = self.t.recv()
            except OSError:
                data = b""
            if not data:
                self.ws.receive_data(None)
                self.closed = True
                return
            self.ws.receive_data(data)
            for event in self.ws.events():
                if isinstance(event, Ping):
                    self._send(event.response())
                elif isinstance(event, CloseConnection):
                    self._send(event.response())
                    with self.lock:
                        self.closed = True
                    return
                elif isinstance(event, (BytesMessage, TextMessage)):
                    parts.append(event.data)
                    if event.message_finished:
                        yield b"".join(parts) if isinstance(event, BytesMessage) else "".join(parts)
                        parts = []


class ChannelSocket(WebSocket):
    """The ``channel.k8s.io`` family: one byte (or digit) of channel before each message."""

    @property
    def base64(self) -> bool:
        return "base64" in self.protocol

    def send_channel(self, channel: int, data: bytes) -> bool:
        if self.base64:
            return self.send(str(channel) + base64.b64encode(data).decode())
        return self.send(bytes([channel]) + data)

    def channel_messages(self):
        """``(channel, data)`` of each message; text and binary messages alike (Go's ``Message.Receive``)."""
        for msg in self.messages():
            data = msg.encode("utf-8", "surrogateescape") if isinstance(msg, str) else msg
            if not data:
                continue
            if self.base64:
                try:
                    yield data[0] - ord("0"), base64.b64decode(data[1:])
                except ValueError:
                    continue
            else:
                yield data[0], data[1:]


def _socket(t: Transport, protocol: str) -> ChannelSocket:
    return ChannelSocket(t, protocol)


def _status(code: int | None, message: str | None = None) -> dict:
    if not code:
        return {"metadata": {}, "status": "Success"}
    return {"metadata": {}, "status": "Failure",
            "message": message or f"command terminated with non-zero exit code: error executing command, "
                                  f"exit code {code}",
            "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


def _write_status(ws: ChannelSocket, code: int | None, command: list[str] | None = None) -> None:
    message = (f"command terminated with non-zero exit code: error executing command {_go_list(command)}, "
               f"exit code {code}") if code and command is not None else None
    status = _status(code, message)
    if ws.protocol in (V5, V4, B64_V4):
        ws.send_channel(ERROR, json.dumps(status, separators=(",", ":")).encode())
    elif code:
        ws.send_channel(ERROR, (status.get("message") or "").encode())


def _go_list(items: list[str] | None) -> str:
    return "[" + " ".join(items or []) + "]"


def _first_message(ws: ChannelSocket, opts: dict) -> None:
    """Upstream opens with an empty message on the lowest writable channel."""
    ws.send_channel(STDOUT if opts["stdout"] else STDERR if opts["stderr"] else ERROR, b"")


def _control(ws: ChannelSocket, channel: int, data: bytes, on_stdin: Callable[[bytes], None],
             on_close_stdin: Callable[[], None], on_resize: Callable[[int, int], None]) -> None:
    if channel == STDIN:
        on_stdin(data)
    elif channel == RESIZE:
        try:
            size = json.loads(data or b"{}")
            on_resize(int(size.get("Width", 0)), int(size.get("Height", 0)))
        except (ValueError, TypeError, AttributeError):
            pass
    elif channel == CLOSE and ws.protocol == V5 and data[:1] == bytes([STDIN]):
        on_close_stdin()


def _serve_exec(ws: ChannelSocket, kubelet, namespace: str, name: str, container: str, command: list[str],
                opts: dict) -> None:
    _first_message(ws, opts)
    finished = threading.Event()

    def output(channel: int, data: bytes) -> None:
        if (channel == STDOUT and opts["stdout"]) or (channel == STDERR and opts["stderr"]):
            ws.send_channel(channel, data)

    def exited(code: int, reason: str | None) -> None:
        _write_status(ws, code, command)
        finished.set()
        ws.close()

    try:
        proc = kubelet.exec(namespace, name, container, command, tty=opts["tty"], stdin=opts["stdin"],
                            on_output=output, on_exit=exited)
    except errors.ApiError as e:
        ws.send_channel(ERROR, json.dumps(e.status()).encode() if ws.protocol in (V5, V4, B64_V4)
                        else e.message.encode())
        ws.close()
        proc = None
    for channel, data in ws.channel_messages():
        if proc is not None:
            _control(ws, channel, data, proc.write, proc.close_stdin, proc.resize)
    if proc is not None and not finished.is_set():
        proc.kill()  # the client went away: so does the process (SIGKILL, as the runtime does)


def _serve_attach(ws: ChannelSocket, kubelet, pod: dict, container: str, opts: dict, stdin_once: bool) -> None:
    _first_message(ws, opts)
    meta = pod["metadata"]
    done = threading.Event()

    def output(channel: int, data: bytes) -> None:
        if opts["tty"] or channel == STDOUT and opts["stdout"] or channel == STDERR and opts["stderr"]:
            ws.send_channel(STDOUT if opts["tty"] else channel, data)

    attachment = kubelet.attach(meta["namespace"], meta["name"], container, output)

    def watch() -> None:  # the attach ends when the container's process does
        while not done.is_set():
            proc = attachment.process
            if proc is not None:
                if proc.done.wait(0.25):
                    break
            elif not kubelet.container_running(meta["uid"], container):
                break
            else:
                done.wait(0.25)
        if not done.is_set():
            _write_status(ws, 0)
            ws.close()

    threading.Thread(target=watch, name="stsnb-sandbox-attach", daemon=True).start()
    for channel, data in ws.channel_messages():
        if opts["stdin"]:
            proc = attachment.process
            _control(ws, channel, data, attachment.write, proc.close_stdin if proc else (lambda: None),
                     proc.resize if proc else (lambda w, h: None))
    done.set()
    attachment.detach(stdin_once and opts["stdin"])


def _serve_port_channels(ws: ChannelSocket, kubelet, namespace: str, name: str, ports: list[int],
                         protocol: str) -> None:
    """The kubelet's WebSocket port-forward: data channel ``2i`` and error channel ``2i+1`` for port ``i``."""
    conns = {}
    for i, port in enumerate(ports):
        head = port.to_bytes(2, "little")
        ws.send_channel(2 * i, head)
        ws.send_channel(2 * i + 1, head)

        def send(data: bytes, ch: int = 2 * i) -> None:
            ws.send_channel(ch, data)

        try:
            conns[2 * i] = kubelet.port_forward(namespace, name, port, send, lambda: None)
        except errors.ApiError as e:
            ws.send_channel(2 * i + 1, e.message.encode())
    for channel, data in ws.channel_messages():
        conn = conns.get(channel)
        if conn is not None and data:
            conn.feed(data)
