"""kubectl's port-forward tunnel: SPDY/3.1 frames carried in WebSocket messages.

kubectl 1.31+ dials ``pods/NAME/portforward`` as a WebSocket with the
subprotocol ``SPDY/3.1+portforward.k8s.io`` (client-go
``tools/portforward/tunneling_dialer.go``) and runs an ordinary SPDY/3.1
client connection (``moby/spdystream``) over the WebSocket's binary messages
(``tunneling_connection.go``). For every local connection it opens two streams
with the headers ``streamtype`` (``error`` or ``data``), ``port`` and
``requestid``; the server answers each SYN_STREAM with a SYN_REPLY, copies the
data stream to and from the pod's port, writes a failure on the error stream,
and half-closes both when the pod's side is done (the kubelet's
``cri/streaming/portforward/httpstream.go``).

There is no maintained SPDY library for Python, so the few frames the tunnel
uses are read and written here, after the SPDY Protocol Draft 3 (framing,
section 2.2-2.6; header blocks compressed with zlib and the draft's dictionary,
section 2.6.10.1, one compression context per direction for the whole
connection, as Go's ``spdy.Framer`` does): SYN_STREAM, SYN_REPLY, RST_STREAM,
SETTINGS, PING, GOAWAY, WINDOW_UPDATE and DATA. Flow control windows are not
enforced (spdystream does not enforce them either).
"""

from __future__ import annotations

import struct
import threading
import zlib

from ..core import errors

SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
FLAG_FIN = 0x01
VERSION = 3

_WORDS = ("options head post put delete trace accept accept-charset accept-encoding accept-language accept-ranges "
          "age allow authorization cache-control connection content-base content-encoding content-language "
          "content-length content-location content-md5 content-range content-type date etag expect expires from "
          "host if-match if-modified-since if-none-match if-range if-unmodified-since last-modified location "
          "max-forwards pragma proxy-authenticate proxy-authorization range referer retry-after server te trailer "
          "transfer-encoding upgrade user-agent vary via warning www-authenticate method get status").split() + [
    "200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin"]
_TAIL = ("100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
         "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
         "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
         "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
         "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
         "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.")
#: The SPDY/3 header compression dictionary (draft 3, section 2.6.10.1): length-prefixed words, then text.
DICTIONARY = b"".join(struct.pack(">I", len(w)) + w.encode() for w in _WORDS) + _TAIL.encode()


def control_frame(kind: int, flags: int, body: bytes) -> bytes:
    return struct.pack(">HHI", 0x8000 | VERSION, kind, (flags << 24) | len(body)) + body


def data_frame(stream_id: int, data: bytes, fin: bool = False) -> bytes:
    return struct.pack(">II", stream_id & 0x7FFFFFFF, ((FLAG_FIN if fin else 0) << 24) | len(data)) + data


def encode_headers(headers: dict[str, str]) -> bytes:
    out = struct.pack(">I", len(headers))
    for k, v in headers.items():
        out += struct.pack(">I", len(k)) + k.encode() + struct.pack(">I", len(v)) + v.encode()
    return out


def decode_headers(block: bytes) -> dict[str, str]:
    (count,), pos, out = struct.unpack_from(">I", block), 4, {}
    for _ in range(count):
        (n,) = struct.unpack_from(">I", block, pos)
        key = block[pos + 4:pos + 4 + n].decode("latin-1")
        pos += 4 + n
        (m,) = struct.unpack_from(">I", block, pos)
        out[key.lower()] = block[pos + 4:pos + 4 + m].decode("latin-1").split("\x00")[0]
        pos += 4 + m
    return out


class Session:
    """The server side of one SPDY connection: frames in through :meth:`feed`, frames out through ``write``."""

    def __init__(self, write, kubelet, namespace: str, name: str) -> None:
        self.write, self.kubelet, self.namespace, self.name = write, kubelet, namespace, name
        self.buf = b""
        self.inflate = zlib.decompressobj(zdict=DICTIONARY)
        self.deflate = zlib.compressobj(zlib.Z_BEST_COMPRESSION, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY,
                                        zdict=DICTIONARY)
        self.lock = threading.Lock()
        self.streams: dict[int, dict] = {}  # stream id -> its headers
        self.errors_by_request: dict[str, int] = {}
        self.conns: dict[int, object] = {}  # data stream id -> the pod connection
        self.finished: set[int] = set()
        self.open = True

    # ------------------------------------------------------------------ out
    def _send(self, frame: bytes) -> None:
        with self.lock:
            if self.open:
                self.write(frame)

    def _reply(self, stream_id: int) -> None:
        with self.lock:
            block = self.deflate.compress(encode_headers({})) + self.deflate.flush(zlib.Z_SYNC_FLUSH)
            if self.open:
                self.write(control_frame(SYN_REPLY, 0, struct.pack(">I", stream_id) + block))

    def _fin(self, stream_id: int) -> None:
        if stream_id in self.finished:
            return
        self.finished.add(stream_id)
        self._send(data_frame(stream_id, b"", fin=True))

    # ------------------------------------------------------------------ in
    def feed(self, data: bytes) -> None:
        self.buf += data
        while len(self.buf) >= 8:
            first, second = struct.unpack_from(">II", self.buf)
            length = second & 0xFFFFFF
            if len(self.buf) < 8 + length:
                return
            body, flags = self.buf[8:8 + length], second >> 24
            self.buf = self.buf[8 + length:]
            if first & 0x80000000:
                self._control((first >> 16) & 0x7FFF, first & 0xFFFF, flags, body)
            else:
                self._data(first & 0x7FFFFFFF, flags, body)

    def _control(self, version: int, kind: int, flags: int, body: bytes) -> None:
        if kind == SYN_STREAM:
            stream_id = struct.unpack_from(">I", body)[0] & 0x7FFFFFFF
            headers = decode_headers(self.inflate.decompress(body[10:]))
            self.streams[stream_id] = headers
            self._reply(stream_id)
            self._opened(stream_id, headers)
        elif kind == HEADERS:
            self.inflate.decompress(body[4:])  # keep the decompression context in step
        elif kind == PING:
            self._send(control_frame(PING, 0, body[:4]))
        elif kind == RST_STREAM:
            stream_id = struct.unpack_from(">I", body)[0] & 0x7FFFFFFF
            self.finished.add(stream_id)
            self.conns.pop(stream_id, None)
        elif kind == GOAWAY:
            self.open = False
        # SETTINGS and WINDOW_UPDATE: nothing to do (no flow control is enforced)

    def _opened(self, stream_id: int, headers: dict[str, str]) -> None:
        request = headers.get("requestid", "")
        if headers.get("streamtype") == "error":
            self.errors_by_request[request] = stream_id
            return
        if headers.get("streamtype") != "data":
            return
        error_stream = self.errors_by_request.get(request)
        try:
            port = int(headers.get("port", ""))
        except ValueError:
            port = 0

        def send(data: bytes) -> None:
            if data and stream_id not in self.finished:
                self._send(data_frame(stream_id, data))

        def close() -> None:
            self._fin(stream_id)
            if error_stream is not None:
                self._fin(error_stream)

        try:
            self.conns[stream_id] = self.kubelet.port_forward(self.namespace, self.name, port, send, close)
        except errors.ApiError as e:
            if error_stream is not None:
                self._send(data_frame(error_stream, e.message.encode()))
            close()

    def _data(self, stream_id: int, flags: int, body: bytes) -> None:
        conn = self.conns.get(stream_id)
        if conn is not None and body:
            conn.feed(body)
        if flags & FLAG_FIN and stream_id in self.conns:
            # the client has sent all it will: the pod side has answered (responses are written as requests
            # arrive), so both streams end
            self.conns.pop(stream_id)
            self._fin(stream_id)
            error_stream = self.errors_by_request.get(self.streams.get(stream_id, {}).get("requestid", ""))
            if error_stream is not None:
                self._fin(error_stream)


def serve_tunnel(ws, kubelet, namespace: str, name: str) -> None:
    """Run a SPDY session over the WebSocket ``ws`` until the client closes it."""
    session = Session(ws.send, kubelet, namespace, name)
    for message in ws.messages():
        if isinstance(message, bytes):
            session.feed(message)
    session.open = False
