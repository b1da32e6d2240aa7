"""The Cassandra tutorial's image, ``gcr.io/google-samples/cassandra``: its ``run.sh``, ``ready-probe.sh`` and ``nodetool``.

kubernetes.io's *Example: Deploying Cassandra with a StatefulSet* runs this image (kubernetes/examples
``cassandra/image``: Cassandra 3.11 on ubuntu-slim, ``CMD ["/sbin/dumb-init", "/bin/bash", "/run.sh"]``)
with a readiness probe ``/bin/bash -c /ready-probe.sh``, and shows the ring with ``kubectl exec -it
cassandra-0 -- nodetool status``. What the sandbox runs of it:

* ``/run.sh`` prints the settings it derives from the environment (``Starting Cassandra on <POD_IP>``,
  ``CASSANDRA_SEEDS …``, one ``echo`` each, as the script does), writes
  ``/etc/cassandra/cassandra-rackdc.properties`` when ``CASSANDRA_DC`` and ``CASSANDRA_RACK`` are set,
  then starts Cassandra: a node whose own address is among the seeds joins the ring
  :data:`SEED_JOIN_S` seconds (sandbox time) after it starts; any other node waits for the ring delay
  too (``CASSANDRA_RING_DELAY``, 30000 ms by default), as a bootstrapping node does. Until then the
  JMX port is not up and ``nodetool`` cannot connect.
* ``nodetool status`` prints the ring of the node's datacenter as Cassandra 3.11's ``Status`` command
  formats it. The nodes are this one (once it has joined) and the *ready* addresses of its pod's
  headless Service (its ``subdomain``), which are the nodes whose readiness probe saw them ``UN``.
  Host IDs are UUIDs derived from each node's DNS name, so they survive restarts as a node's data
  directory does; each node has ``CASSANDRA_NUM_TOKENS`` (32) tokens drawn from its host ID, and
  ``Owns (effective)`` is the share of the Murmur3 ring each node replicates for ``system_traces``
  (SimpleStrategy, replication factor 2), the keyspace nodetool reports when there is no user keyspace.
  ``Load`` is a stand-in (tens of KiB, drawn from the host ID): the sandbox stores no data.
  ``nodetool drain`` (the tutorial's preStop hook) succeeds.
* ``/ready-probe.sh`` exits 0 when ``nodetool status`` shows ``$POD_IP`` as ``UN``, as the image's
  script does (``[[ $(nodetool status | grep $POD_IP) == *"UN"* ]]``).

Other ``nodetool`` commands, CQL (port 9042) and gossip between nodes are not simulated.
"""

from __future__ import annotations

import random
import uuid
from typing import TYPE_CHECKING

from ..containers import FsError
from .base import IO, Forever, T

if TYPE_CHECKING:
    from .container import Container

#: Sandbox seconds from ``run.sh``'s start until a seed node has joined the ring (JMX up, ``UN``).
SEED_JOIN_S = 20.0
#: Where the running node notes that it has joined (the sandbox's own marker; Cassandra keeps it in memory).
JOINED = "/var/run/cassandra/joined"
CONF_DIR = "/etc/cassandra"
#: What ``run.sh`` echoes, in its order: (variable, default when unset).
_ECHOED = (("CASSANDRA_CONF_DIR", CONF_DIR), ("CASSANDRA_CFG", f"{CONF_DIR}/cassandra.yaml"),
           ("CASSANDRA_AUTO_BOOTSTRAP", "true"), ("CASSANDRA_BROADCAST_ADDRESS", None),
           ("CASSANDRA_BROADCAST_RPC_ADDRESS", None), ("CASSANDRA_CLUSTER_NAME", "Test Cluster"),
           ("CASSANDRA_COMPACTION_THROUGHPUT_MB_PER_SEC", ""), ("CASSANDRA_CONCURRENT_COMPACTORS", ""),
           ("CASSANDRA_CONCURRENT_READS", ""), ("CASSANDRA_CONCURRENT_WRITES", ""),
           ("CASSANDRA_COUNTER_CACHE_SIZE_IN_MB", ""), ("CASSANDRA_DC", ""),
           ("CASSANDRA_DISK_OPTIMIZATION_STRATEGY", "ssd"), ("CASSANDRA_ENDPOINT_SNITCH", "SimpleSnitch"),
           ("CASSANDRA_GC_WARN_THRESHOLD_IN_MS", ""), ("CASSANDRA_INTERNODE_COMPRESSION", ""),
           ("CASSANDRA_KEY_CACHE_SIZE_IN_MB", ""), ("CASSANDRA_LISTEN_ADDRESS", None),
           ("CASSANDRA_LISTEN_INTERFACE", ""), ("CASSANDRA_MEMTABLE_ALLOCATION_TYPE", ""),
           ("CASSANDRA_MEMTABLE_CLEANUP_THRESHOLD", ""), ("CASSANDRA_MEMTABLE_FLUSH_WRITERS", ""),
           ("CASSANDRA_MIGRATION_WAIT", "1"), ("CASSANDRA_NUM_TOKENS", "32"), ("CASSANDRA_RACK", ""),
           ("CASSANDRA_RING_DELAY", "30000"), ("CASSANDRA_RPC_ADDRESS", "0.0.0.0"), ("CASSANDRA_RPC_INTERFACE", ""),
           ("CASSANDRA_SEEDS", "false"), ("CASSANDRA_SEED_PROVIDER", "org.apache.cassandra.locator.SimpleSeedProvider"),
           ("CASSANDRA_TRICKLE_FSYNC", "false"))
_RING = 2 ** 64  # Murmur3Partitioner's tokens: -2**63 … 2**63 - 1
_REPLICAS = 2  # system_traces: SimpleStrategy, replication_factor 2


def _settings(c: Container) -> dict[str, str]:
    env = c.env
    own = env.get("POD_IP") or c.fqdn
    values = {name: env.get(name) or (own if default is None else default) for name, default in _ECHOED}
    values["CASSANDRA_CLUSTER_NAME"] = env.get("CASSANDRA_CLUSTER_NAME") or "Test Cluster"
    if not env.get("CASSANDRA_SEEDS"):
        values["CASSANDRA_SEEDS"] = c.fqdn  # "we are doing StatefulSet or just setting our seeds"
    return values


def p_dumb_init(c: Container, argv: list[str], io: IO) -> int:
    """``/sbin/dumb-init CMD…``: runs CMD as its child (signals are forwarded; the sandbox's are direct)."""
    if len(argv) < 2:
        io.err("Usage: dumb-init [option] program [args]\n")
        return 1
    return c.execute(argv[1:], io, in_shell=False)


def p_run(c: Container, argv: list[str], io: IO) -> int:
    """The image's ``/run.sh``: the settings it echoes, then Cassandra, which joins the ring in sandbox time."""
    values = _settings(c)
    listen = values["CASSANDRA_LISTEN_ADDRESS"]
    _forget_joined(c)
    io.out(f"Starting Cassandra on {listen}\n")
    for name, _ in _ECHOED:
        io.out(f"{name} {values[name]}\n")
    if c.env.get("CASSANDRA_DC") and c.env.get("CASSANDRA_RACK"):
        _write(c, f"{CONF_DIR}/cassandra-rackdc.properties",
               f"dc={c.env['CASSANDRA_DC']}\nrack={c.env['CASSANDRA_RACK']}\n")
    seeds = [s.strip() for s in values["CASSANDRA_SEEDS"].split(",") if s.strip()]
    is_seed = any(s in (listen, c.fqdn, c.hostname) or listen in c.libc_addresses(s) for s in seeds)
    try:
        ring_delay = float(values["CASSANDRA_RING_DELAY"]) / 1000
    except ValueError:
        ring_delay = 30.0
    io.out(_log(c, "CassandraDaemon.java:471", f"Hostname: {c.fqdn}"))
    io.out(_log(c, "StorageService.java:618", "Cassandra version: 3.11.2"))
    io.out(_log(c, "StorageService.java:1538", "JOINING: waiting for ring information"))
    c.sleep(SEED_JOIN_S if is_seed else SEED_JOIN_S + ring_delay)
    _write(c, JOINED, f"{listen}\n")
    io.out(_log(c, "StorageService.java:2289", f"Node /{listen} state jump to NORMAL"))
    io.out(_log(c, "Server.java:156", "Starting listening for CQL clients on /0.0.0.0:9042 (unencrypted)..."))
    raise Forever(handles_sigterm=True, sigterm_code=143)  # the JVM: 128 + SIGTERM


def p_ready_probe(c: Container, argv: list[str], io: IO) -> int:
    """The image's ``/ready-probe.sh``: 0 when ``nodetool status`` shows ``$POD_IP`` Up and Normal."""
    ip = c.env.get("POD_IP", "")
    rows = _ring(c) if _joined(c) else []
    up = any(addr == ip and state == "UN" for state, addr, *_ in rows) if ip else False
    if c.env.get("DEBUG"):
        io.out("UN\n" if up else "Not Up\n")
    return 0 if up else 1


def p_nodetool(c: Container, argv: list[str], io: IO) -> int:
    """``nodetool status`` and ``nodetool drain``; the others say they are not simulated."""
    args = [a for a in argv[1:] if not a.startswith("-")]
    command = args[0] if args else ""
    if not _joined(c):
        io.err("nodetool: Failed to connect to '127.0.0.1:7199' - ConnectException: "
               "'Connection refused (Connection refused)'.\n")
        return 1
    if command == "drain":
        return 0
    if command != "status":
        io.err(f"stsnb sandbox: nodetool here runs only `status` and `drain`, not `{' '.join(argv[1:])}`\n")
        return 1
    dc = c.env.get("CASSANDRA_DC") or "datacenter1"
    rows = _ring(c)
    width = max(len("Address"), *(len(r[1]) for r in rows))
    fmt = "{:<2}  {:<%d}  {:<9}  {:<11}  {:<16}  {:<36}  {}\n" % width
    io.out(f"Datacenter: {dc}\n{'=' * len('Datacenter: ' + dc)}\n"
           "Status=Up/Down\n|/ State=Normal/Leaving/Joining/Moving\n")
    io.out(fmt.format("--", "Address", "Load", "Tokens", "Owns (effective)", "Host ID", "Rack"))
    for row in rows:
        io.out(fmt.format(*row))
    return 0


# ------------------------------------------------------------------ the ring

def _ring(c: Container) -> list[tuple[str, str, str, str, str, str, str]]:
    """``(state, address, load, tokens, owns, host id, rack)`` for each node, by address."""
    own = c.env.get("POD_IP") or (c.pod_ips[0] if c.pod_ips else "")
    nodes = {own: c.fqdn} if own else {}
    if c.domain:
        reply = c.query(c.domain, T.A)
        for rrset in (reply.answer if reply is not None else []):
            for rd in rrset:
                if rrset.rdtype == T.A and rd.address not in nodes:
                    nodes[rd.address] = c.libc_reverse(rd.address) or rd.address
    try:
        num_tokens = max(1, int(c.env.get("CASSANDRA_NUM_TOKENS") or 32))
    except ValueError:
        num_tokens = 32
    ids = {ip: str(uuid.uuid5(uuid.NAMESPACE_DNS, name.rstrip("."))) for ip, name in nodes.items()}
    owns = _ownership({ip: _tokens(ids[ip], num_tokens) for ip in nodes})
    rack = c.env.get("CASSANDRA_RACK") or "rack1"
    return [("UN", ip, _load(ids[ip]), str(num_tokens), f"{owns[ip] * 100:.1f}%", ids[ip], rack)
            for ip in sorted(nodes, key=_ip_key)]


def _tokens(host_id: str, n: int) -> list[int]:
    rng = random.Random(host_id)
    return [rng.randrange(-_RING // 2, _RING // 2) for _ in range(n)]


def _ownership(tokens: dict[str, list[int]]) -> dict[str, float]:
    """The share of the ring each node holds a replica of (SimpleStrategy, :data:`_REPLICAS`)."""
    ring = sorted((t, ip) for ip, ts in tokens.items() for t in ts)
    share = dict.fromkeys(tokens, 0)  # in tokens, exact; a fraction of the ring at the end
    replicas = min(_REPLICAS, len(tokens))
    for i, (token, _) in enumerate(ring):
        width = (token - ring[i - 1][0]) % _RING or _RING  # the range (previous token, token]
        holders: list[str] = []
        j = i
        while len(holders) < replicas:
            ip = ring[j % len(ring)][1]
            if ip not in holders:
                holders.append(ip)
            j += 1
        for ip in holders:
            share[ip] += width
    return {ip: n / _RING for ip, n in share.items()}


def _load(host_id: str) -> str:
    kib = 60 + random.Random("load:" + host_id).randrange(0, 5000) / 100
    return f"{kib:.2f}".rstrip("0").rstrip(".") + " KiB"


def _ip_key(ip: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in ip.split("."))


# ------------------------------------------------------------------ helpers

def _joined(c: Container) -> bool:
    try:
        c.fs.read(JOINED, "/")
    except FsError:
        return False
    return True


def _forget_joined(c: Container) -> None:
    try:
        c.fs.remove(JOINED, "/")
    except (FsError, AttributeError):
        pass


def _write(c: Container, path: str, text: str) -> None:
    try:
        c.fs.makedirs(path.rsplit("/", 1)[0] or "/", "/")
        c.fs.write(path, text.encode())
    except (FsError, AttributeError):
        pass


def _log(c: Container, where: str, message: str) -> str:
    """A line of Cassandra's log as the image's logback pattern writes it (``%-5level [%thread] %date %F:%L - %msg``)."""
    import time
    now = c.ctx.clock()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)) + f",{int(now * 1000) % 1000:03d}"
    return f"INFO  [main] {stamp} {where} - {message}\n"
