"""A ZooKeeper server in the sandbox's pod network: its ``ruok`` answer and the ensemble state it keeps on disk.

The ZooKeeper tutorial's image (:mod:`.programs.zookeeper`) starts one server per pod. What the
sandbox keeps of a server is what a learner can see:

* **the data tree** (znodes with their data and ``Stat``), in the server's data directory, so it
  lives on the pod's PersistentVolume and survives the pod, as ZooKeeper's snapshots and
  transaction log do. It is kept as JSON in ``version-2/stsnb-znodes.json`` (the sandbox's own
  format, named so; ZooKeeper's binary snapshots are not simulated), beside ``currentEpoch`` and
  ``acceptedEpoch`` as ZooKeeper writes them;
* **its answers** on the client port: the four-letter word ``ruok`` (``imok``, each one logged as
  the tutorial's ``kubectl logs`` shows: ``Accepted socket connection``, ``Processing ruok
  command``, ``Closed socket connection``), and, for the sandbox's own ``zkCli.sh`` and servers,
  the state (``GET /state``) and its replacement (``PUT /state``). Requests travel as HTTP over the
  sandbox's pod network (:mod:`.network`), the only transport it has; the wire protocol of
  ZooKeeper (jute) is not simulated.

Consensus is the client's: ``zkCli.sh`` reads the state of every server it reaches, needs a
majority of the ensemble to answer, and writes the new state back to each of them. A server that
starts while others serve takes the newest state from them (as a follower syncs with its leader);
one that starts alone begins a new epoch, as a new election does. Zxids are ``epoch << 32 | counter``,
and each session and each write is a transaction, as in ZooKeeper.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Callable

from .containers import FileSystem, FsError
from .network import HttpRequest, HttpResponse, Server

__all__ = ["STATE_FILE", "empty_state", "load_state", "save_state", "well_formed", "zookeeper_server", "log_line"]

STATE_FILE = "version-2/stsnb-znodes.json"


def empty_state() -> dict:
    """A fresh ensemble's tree: ``/`` and ``/zookeeper``, created at zxid 0."""
    node = {"data": "", "czxid": 0, "mzxid": 0, "pzxid": 0, "ctime": 0, "mtime": 0, "cversion": 0, "version": 0}
    return {"epoch": 0, "counter": 0, "nodes": {"/": dict(node), "/zookeeper": dict(node)}}


def load_state(fs: FileSystem, data_dir: str) -> dict:
    """The state this server's data directory holds (a fresh one when there is none)."""
    try:
        state = json.loads(fs.read(f"{data_dir.rstrip('/')}/{STATE_FILE}"))
    except (FsError, ValueError):
        return empty_state()
    return state if well_formed(state) else empty_state()


_NODE_FIELDS = {"data": str, "czxid": int, "mzxid": int, "pzxid": int, "ctime": int, "mtime": int, "cversion": int,
                "version": int}


def well_formed(state: object) -> bool:
    """Whether ``state`` is a tree this module wrote (a file edited in the pod, or a hostile PUT, is not)."""
    if not isinstance(state, dict) or not all(isinstance(state.get(k), int) and not isinstance(state.get(k), bool)
                                              and state[k] >= 0 for k in ("epoch", "counter")):
        return False
    nodes = state.get("nodes")
    return isinstance(nodes, dict) and "/" in nodes and all(
        isinstance(path, str) and path.startswith("/") and isinstance(node, dict) and
        all(isinstance(node.get(f), t) and not isinstance(node.get(f), bool) for f, t in _NODE_FIELDS.items())
        for path, node in nodes.items())


def save_state(fs: FileSystem, data_dir: str, state: dict) -> None:
    """Write ``state`` to the data directory, with ``currentEpoch`` and ``acceptedEpoch`` as ZooKeeper keeps them."""
    base = f"{data_dir.rstrip('/')}/version-2"
    fs.makedirs(base)
    fs.write(f"{data_dir.rstrip('/')}/{STATE_FILE}", json.dumps(state, sort_keys=True).encode())
    for name in ("currentEpoch", "acceptedEpoch"):
        fs.write(f"{base}/{name}", str(state.get("epoch", 0)).encode())


def log_line(now: float, myid: str, where: str, message: str, level: str = "INFO") -> str:
    """A line as the image's log4j pattern writes it: ``%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n``."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)) + f",{int(now * 1000) % 1000:03d}"
    return f"{stamp} [myid:{myid}] - {level:<5} [{where}] - {message}\n"


def zookeeper_server(fs: FileSystem, data_dir: str, myid: str, port: int, log: Callable[[str], None],
                     now: Callable[[], float]) -> Server:
    """The server of one pod: ``GET /ruok`` (logged as ZooKeeper logs it), ``GET /state`` and ``PUT /state``."""
    client_ports = itertools.count(52740)
    factory = f"NIOServerCxn.Factory:0.0.0.0/0.0.0.0:{port}"

    def reply(status: int, body: bytes, ctype: str = "text/plain") -> HttpResponse:
        return HttpResponse(status, "OK" if status == 200 else "Bad Request",
                            [("Content-Type", ctype), ("Content-Length", str(len(body)))], body)

    def serve(req: HttpRequest) -> HttpResponse:
        if req.target == "/ruok":
            peer = f"/127.0.0.1:{next(client_ports)}"
            t = now()
            log(log_line(t, myid, f"{factory}:NIOServerCnxnFactory@192", f"Accepted socket connection from {peer}")
                + log_line(t, myid, f"{factory}:NIOServerCnxn@827", f"Processing ruok command from {peer}")
                + log_line(t, myid, "Thread-1:NIOServerCnxn@1008",
                           f"Closed socket connection for client {peer} (no session established for client)"))
            return reply(200, b"imok")
        if req.target == "/state" and req.method == "GET":
            return reply(200, json.dumps(load_state(fs, data_dir)).encode(), "application/json")
        if req.target == "/state" and req.method == "PUT":
            try:
                state = json.loads(req.body)
            except ValueError:
                state = None
            if not well_formed(state):
                return reply(400, b"not a state")
            try:
                save_state(fs, data_dir, state)
            except FsError as e:
                return reply(400, str(e).encode())
            return reply(200, b"ok")
        return reply(400, b"")

    return serve
