"""The ZooKeeper tutorial's image, ``registry.k8s.io/kubernetes-zookeeper``: ``start-zookeeper``, ``zookeeper-ready``,
``zkCli.sh``.

kubernetes.io's *Running ZooKeeper, A Distributed System Coordinator* starts each server with
``sh -c "start-zookeeper --servers=3 --data_dir=/var/lib/zookeeper/data …"``, probes it with
``sh -c "zookeeper-ready 2181"`` and talks to the ensemble with ``zkCli.sh``. What the sandbox runs:

* ``start-zookeeper`` reads its ``--option=value`` arguments (the script's defaults otherwise),
  takes the server's id from the pod's ordinal (``zk-0`` is 1, as ``hostname -s`` gives it), and
  writes what the script writes: ``zoo.cfg`` (with ``server.N=<name>-<N-1>.<hostname -d>:2888:3888``
  for an ensemble), ``log4j.properties`` and ``java.env`` in ``--conf_dir``, and ``myid`` in
  ``--data_dir`` when there is none. It prints the configuration, then ZooKeeper's first lines, and
  serves on the client port a couple of sandbox seconds later (:mod:`..zookeeper`): taking the
  newest state from the servers that already serve, or beginning a new epoch when none does.
* ``zookeeper-ready PORT`` asks the server on ``127.0.0.1:PORT`` ``ruok`` and exits 0 on ``imok``,
  as the image's script does with ``nc``. Like every program of the image it is a file in
  ``/usr/bin``: ``rm /usr/bin/zookeeper-ready`` (the tutorial's liveness test) makes the probes fail.
* ``zkCli.sh [-server HOST:PORT] COMMAND ARGS`` runs one command as ZooKeeper 3.4's CLI does:
  ``create [-s] [-e] PATH DATA``, ``get PATH``, ``set PATH DATA``, ``delete PATH``, ``ls PATH``,
  ``stat PATH``, with its messages (``Created /hello``, ``Node already exists: /hello``, ``Node does
  not exist: /x``, ``Node not empty: /x``) and its ``Stat`` lines (``cZxid = 0x100000002`` …). It
  needs a majority of the ensemble in ``zoo.cfg`` to answer (the servers whose names resolve: the
  Ready pods of the headless Service); without one it fails with ``ConnectionLoss``. Without a
  command (the interactive shell) it says that only one command at a time is simulated.

* ``ps -ef`` / ``ps -elf`` (the image's procps) show PID 1 and, while the server runs, the JVM as PID 27
  under it; ``pkill java`` stops the JVM, which takes PID 1 with it: the container exits 143 and is
  restarted, as the page's *Handling Process Failure* shows.

Sequential and ephemeral nodes, watches and ACLs are not simulated.
"""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING

from ..containers import FsError
from ..network import HttpRequest, Refused
from ..zookeeper import empty_state, load_state, log_line, save_state
from .base import IO, Forever
from .identity import identity, main_command, user_name

if TYPE_CHECKING:
    from .container import Container

#: ``start-zookeeper``'s options and their defaults (the script's; the session timeouts follow the tick time).
OPTIONS = {"servers": "1", "data_dir": "/var/lib/zookeeper/data", "data_log_dir": "/var/lib/zookeeper/data/log",
           "log_dir": "/var/log/zookeeper", "conf_dir": "/opt/zookeeper/conf", "client_port": "2181",
           "election_port": "3888", "server_port": "2888", "tick_time": "2000", "init_limit": "10",
           "sync_limit": "5", "heap": "2G", "max_client_cnxns": "60", "snap_retain_count": "3",
           "purge_interval": "0", "max_session_timeout": "", "min_session_timeout": "", "log_level": "INFO",
           "quorum_listen_on_all_ips": "false"}
CONF = "/opt/zookeeper/conf/zoo.cfg"
#: Sandbox seconds from ``start-zookeeper`` until the server answers on its client port (the JVM starting).
START_S = 2.0
_MARK = "/var/run/zookeeper.start"  # where start-zookeeper notes its configuration for zkCli.sh


def p_start_zookeeper(c: Container, argv: list[str], io: IO) -> int:
    """The image's ``start-zookeeper``: configuration files, ``myid``, then the server (see the module docstring)."""
    opts = dict(OPTIONS)
    for arg in argv[1:]:
        m = re.fullmatch(r"--([a-z_]+)=(.*)", arg)
        if arg in ("-h", "--help"):
            io.out("Usage: start-zookeeper [OPTIONS]\n Starts a ZooKeeper server based on the supplied options.\n")
            return 0
        if not m or m.group(1) not in opts:
            io.err(f"Unknown option {arg}\n")
            return 1
        opts[m.group(1)] = m.group(2)
    tick = int(opts["tick_time"]) if opts["tick_time"].isdigit() else 2000
    opts["min_session_timeout"] = opts["min_session_timeout"] or str(2 * tick)
    opts["max_session_timeout"] = opts["max_session_timeout"] or str(20 * tick)
    m = re.fullmatch(r"(.*)-([0-9]+)", c.hostname)
    if not m:
        io.err("Failed to parse name and ordinal of Pod\n")
        return 1
    name, myid = m.group(1), str(int(m.group(2)) + 1)
    servers = int(opts["servers"]) if opts["servers"].isdigit() else 1
    conf_dir, data_dir = opts["conf_dir"].rstrip("/"), opts["data_dir"].rstrip("/")
    domain = c.domain or c.fqdn.partition(".")[2]
    config = ("#This file was autogenerated DO NOT EDIT\n"
              f"clientPort={opts['client_port']}\ndataDir={data_dir}\ndataLogDir={opts['data_log_dir']}\n"
              f"tickTime={opts['tick_time']}\ninitLimit={opts['init_limit']}\nsyncLimit={opts['sync_limit']}\n"
              f"maxClientCnxns={opts['max_client_cnxns']}\nminSessionTimeout={opts['min_session_timeout']}\n"
              f"maxSessionTimeout={opts['max_session_timeout']}\n"
              f"autopurge.snapRetainCount={opts['snap_retain_count']}\n"
              f"autopurge.purgeInteval={opts['purge_interval']}\n")
    if servers > 1:
        config += "".join(f"server.{i}={name}-{i - 1}.{domain}:{opts['server_port']}:{opts['election_port']}\n"
                          for i in range(1, servers + 1))
    log4j = ("zookeeper.root.logger=CONSOLE\n"
             f"zookeeper.console.threshold={opts['log_level']}\n"
             "log4j.rootLogger=${zookeeper.root.logger}\n"
             "log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\n"
             "log4j.appender.CONSOLE.Threshold=${zookeeper.console.threshold}\n"
             "log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\n"
             "log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n\n")
    try:
        for d in (conf_dir, data_dir, opts["data_log_dir"], opts["log_dir"]):
            c.fs.makedirs(d)
        c.fs.write(f"{conf_dir}/zoo.cfg", config.encode())
        c.fs.write(f"{conf_dir}/log4j.properties", log4j.encode())
        c.fs.write(f"{conf_dir}/java.env", f'JVMFLAGS="-Xmx{opts["heap"]} -Xms{opts["heap"]}"\n'.encode())
        if servers > 1 and not c.fs.exists(f"{data_dir}/myid"):
            c.fs.write(f"{data_dir}/myid", f"{myid}\n".encode())
        c.fs.write(_MARK, json.dumps({"conf": f"{conf_dir}/zoo.cfg", "port": opts["client_port"]}).encode())
    except FsError as e:
        io.err(f"start-zookeeper: {e}\n")
        return 1
    io.err(config)
    io.out(f"ZooKeeper JMX enabled by default\nUsing config: {conf_dir}/zoo.cfg\n")
    io.out(log_line(c.ctx.clock(), "", "main:QuorumPeerConfig@124", f"Reading configuration from: {conf_dir}/zoo.cfg"))
    io.out(log_line(c.ctx.clock(), myid, "main:QuorumPeerMain@127", "Starting quorum peer"))
    c.sleep(START_S)
    peers = _reachable(c, _servers(config), int(opts["client_port"]), skip=set(c.pod_ips))
    own = load_state(c.fs, data_dir)
    newest = max([own, *(s for _, s in peers)], key=lambda s: (s.get("epoch", 0), s.get("counter", 0)))
    if not peers:  # alone: a new election, a new epoch
        newest = dict(newest, epoch=newest.get("epoch", 0) + 1, counter=0)
    try:
        save_state(c.fs, data_dir, newest)
    except FsError as e:
        io.err(f"start-zookeeper: {e}\n")
        return 1
    state = "LEADING" if not peers else "FOLLOWING"
    io.out(log_line(c.ctx.clock(), myid, f"QuorumPeer[myid={myid}]/0.0.0.0:{opts['client_port']}:QuorumPeer@1022",
                    state))
    port = int(opts["client_port"]) if opts["client_port"].isdigit() else 2181
    raise Forever(handles_sigterm=True, listens=(port,), server=f"zookeeper:{port}:{myid}:{data_dir}",
                  hostname=c.hostname, sigterm_code=143)


def p_zookeeper_ready(c: Container, argv: list[str], io: IO) -> int:
    """``zookeeper-ready PORT``: ``echo ruok | nc 127.0.0.1 PORT`` must say ``imok``."""
    port = argv[1] if len(argv) > 1 else "2181"
    if not port.isdigit() or c.ctx.network is None:
        return 1
    try:
        answer = c.ctx.network("127.0.0.1", int(port))(HttpRequest("GET", "/ruok")).body
    except Refused:
        return 1
    return 0 if answer == b"imok" else 1


# ------------------------------------------------------------------ zkCli.sh

_USAGE = ("ZooKeeper -server host:port cmd args\n\tstat path [watch]\n\tset path data [version]\n\tls path [watch]\n"
          "\tdelete path [version]\n\tget path [watch]\n\tcreate [-s] [-e] path data acl\n")


def p_zkcli(c: Container, argv: list[str], io: IO) -> int:
    """``zkCli.sh [-server HOST:PORT] COMMAND ARGS``: one command against the ensemble (see the module docstring)."""
    args = argv[1:]
    server = "localhost:2181"
    if len(args) >= 2 and args[0] == "-server":
        server, args = args[1], args[2:]
    host, _, port = server.rpartition(":")
    if not host or not port.isdigit():
        host, port = server, "2181"
    io.out(f"Connecting to {server}\n")
    if not args:
        io.err("stsnb sandbox: zkCli.sh here runs one command given on its command line "
               "(create, get, set, delete, ls, stat), not its interactive shell\n")
        return 1
    command, rest = args[0], args[1:]
    if command not in ("create", "get", "set", "delete", "rmr", "ls", "stat"):
        io.err(_USAGE)
        return 1
    addrs = c.libc_addresses("127.0.0.1" if host == "localhost" else host)
    first = _ask(c, addrs[0], int(port)) if addrs else None
    path = next((a for a in rest if a.startswith("/")), rest[0] if rest else "/")
    if first is None:
        return _connection_loss(io, path)
    conf = _conf_text(c)
    servers = _servers(conf)
    asked = {addrs[0], *(c.pod_ips if addrs[0].startswith("127.") else ())}
    answered = [(addrs[0], first), *_reachable(c, servers, int(port), skip=asked)]
    if servers and len(answered) * 2 <= len(servers):
        return _connection_loss(io, path)
    io.out("\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null\n")
    state = max((s for _, s in answered), key=lambda s: (s.get("epoch", 0), s.get("counter", 0)))
    state = json.loads(json.dumps(state)) if state.get("nodes") else empty_state()
    state["counter"] = state.get("counter", 0) + 1  # the session is a transaction
    code = _run(c, state, command, rest, io)
    for ip, _ in answered:
        try:
            c.ctx.network(ip, int(port))(HttpRequest("PUT", "/state", body=json.dumps(state).encode()))
        except Refused:
            pass
    return code


def _run(c: Container, state: dict, command: str, args: list[str], io: IO) -> int:
    nodes: dict[str, dict] = state["nodes"]
    flags = [a for a in args if a in ("-s", "-e")]
    args = [a for a in args if a not in ("-s", "-e")]
    if not args or not args[0].startswith("/"):
        io.err(_USAGE)
        return 1
    path = args[0].rstrip("/") or "/"
    now = int(c.ctx.clock() * 1000)
    if command == "create":
        if flags:
            io.err("stsnb sandbox: zkCli.sh here creates persistent nodes only (no -s or -e)\n")
            return 1
        if path in nodes:
            io.err(f"Node already exists: {path}\n")
            return 1
        parent = path.rsplit("/", 1)[0] or "/"
        if parent not in nodes:
            io.err(f"Node does not exist: {path}\n")
            return 1
        zxid = _txn(state)
        nodes[path] = {"data": args[1] if len(args) > 1 else "", "czxid": zxid, "mzxid": zxid, "pzxid": zxid,
                       "ctime": now, "mtime": now, "cversion": 0, "version": 0}
        nodes[parent]["cversion"] += 1
        nodes[parent]["pzxid"] = zxid
        io.err(f"Created {path}\n")
        return 0
    if path not in nodes:
        io.err(f"Node does not exist: {path}\n")
        return 1
    node = nodes[path]
    if command == "get":
        io.out(f"{node['data'] or 'null'}\n")
        _stat(node, nodes, path, io)
    elif command == "stat":
        _stat(node, nodes, path, io)
    elif command == "ls":
        io.out("[" + ", ".join(_children(nodes, path)) + "]\n")
    elif command == "set":
        node.update(data=args[1] if len(args) > 1 else "", mzxid=_txn(state), mtime=now, version=node["version"] + 1)
        _stat(node, nodes, path, io)
    elif command in ("delete", "rmr"):
        doomed = [p for p in nodes if p == path or p.startswith(path.rstrip("/") + "/")]
        if command == "delete" and len(doomed) > 1:
            io.err(f"Node not empty: {path}\n")
            return 1
        if path in ("/", "/zookeeper"):
            io.err(f"Node does not exist: {path}\n" if path == "/" else "Node not empty: /zookeeper\n")
            return 1
        zxid = _txn(state)
        for p in doomed:
            del nodes[p]
        parent = nodes[path.rsplit("/", 1)[0] or "/"]
        parent["cversion"] += 1
        parent["pzxid"] = zxid
    return 0


def _txn(state: dict) -> int:
    state["counter"] += 1
    return (state["epoch"] << 32) | state["counter"]


def _children(nodes: dict, path: str) -> list[str]:
    prefix = path.rstrip("/") + "/"
    return sorted(p[len(prefix):] for p in nodes if p.startswith(prefix) and "/" not in p[len(prefix):] and p != "/")


def _stat(node: dict, nodes: dict, path: str, io: IO) -> None:
    def when(ms: int) -> str:
        return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(ms / 1000))
    io.err(f"cZxid = {node['czxid']:#x}\nctime = {when(node['ctime'])}\nmZxid = {node['mzxid']:#x}\n"
           f"mtime = {when(node['mtime'])}\npZxid = {node['pzxid']:#x}\ncversion = {node['cversion']}\n"
           f"dataVersion = {node['version']}\naclVersion = 0\nephemeralOwner = 0x0\n"
           f"dataLength = {len(node['data'].encode())}\nnumChildren = {len(_children(nodes, path))}\n")


def _connection_loss(io: IO, path: str) -> int:
    io.err('Exception in thread "main" org.apache.zookeeper.KeeperException$ConnectionLossException: '
           f"KeeperErrorCode = ConnectionLoss for {path}\n")
    return 1


# ------------------------------------------------------------------ the ensemble

def _conf_text(c: Container) -> str:
    try:
        conf = json.loads(c.fs.read(_MARK)).get("conf") or CONF
    except (FsError, ValueError):
        conf = CONF
    return c.file(conf) or ""


def _servers(config: str) -> list[str]:
    """The hosts of ``server.N=host:port:port`` lines."""
    return [m.group(1) for m in re.finditer(r"^server\.\d+=([^:\n]+):", config, re.M)]


def _ask(c: Container, ip: str, port: int) -> dict | None:
    if c.ctx.network is None:
        return None
    try:
        resp = c.ctx.network(ip, port)(HttpRequest("GET", "/state"))
        return json.loads(resp.body) if resp.status == 200 else None
    except (Refused, ValueError):
        return None


def _reachable(c: Container, hosts: list[str], port: int, skip: set[str]) -> list[tuple[str, dict]]:
    """``(ip, state)`` of each server in ``hosts`` whose name resolves (a Ready pod) and that answers, but ``skip``."""
    out = []
    for host in hosts:
        for ip in c.libc_addresses(host)[:1]:
            if ip in skip:
                continue
            state = _ask(c, ip, port)
            if state is not None:
                out.append((ip, state))
    return out


# ------------------------------------------------------------------ the image's procps: ps and pkill

JAVA_PID = 27  # the JVM, a child of PID 1, as the page's `ps -ef` shows it


def _java(c: Container) -> str | None:
    """The JVM's command line while the server runs (start-zookeeper has written its configuration), else None."""
    try:
        conf = json.loads(c.fs.read(_MARK)).get("conf") or CONF
    except (FsError, ValueError):
        return None
    env = c.file(conf.rsplit("/", 1)[0] + "/java.env") or ""
    heap = re.search(r"-Xmx(\S+)", env)
    size = heap.group(1).rstrip('"') if heap else "2G"
    return ("/usr/lib/jvm/java-8-openjdk-amd64/bin/java -Dzookeeper.log.dir=/var/log/zookeeper "
            "-Dzookeeper.root.logger=INFO,CONSOLE -cp /usr/bin/../build/classes:/usr/bin/../build/lib/*.jar:"
            "/usr/bin/../share/zookeeper/zookeeper-3.4.10.jar:/usr/bin/../etc/zookeeper: "
            f"-Xmx{size} -Xms{size} -Dcom.sun.management.jmxremote -Dcom.sun.management.jmxremote.local.only=false "
            f"org.apache.zookeeper.server.quorum.QuorumPeerMain {conf}")


def p_procps(c: Container, argv: list[str], io: IO) -> int:
    """procps ``ps`` (``-ef``, ``-elf``; plain ``ps`` lists the same processes): PID 1, the JVM, exec sessions."""
    uid, _, _ = identity(c)
    user = user_name(c, uid)
    user = user if len(user) <= 8 else user[:7] + "+"
    stime = time.strftime("%H:%M", time.gmtime(c.ctx.clock()))
    rows = [(1, 0, main_command(c), 1127)]
    java = _java(c)
    if java:
        rows.append((JAVA_PID, 1, java, 1155556))
    sessions = c.ctx.processes() if c.ctx.processes is not None else []
    rows += [(pid, 0, " ".join(cmd), 4624) for pid, cmd in sessions]
    if not any(pid == c.ctx.pid for pid, _, _, _ in rows):
        rows.append((c.ctx.pid, 0, " ".join(argv), 4624))
    long = "l" in "".join(a for a in argv[1:] if a.startswith("-"))
    if long:
        io.out("F S UID        PID  PPID  C PRI  NI ADDR SZ WCHAN  STIME TTY          TIME CMD\n")
    else:
        io.out("UID        PID  PPID  C STIME TTY          TIME CMD\n")
    for pid, ppid, cmd, size in sorted(rows):
        if long:
            pad = " " * max(1, 6 - max(0, len(str(size)) - 5))  # a wide SZ takes from WCHAN's padding
            io.out(f"{4 if ppid == 0 else 0} {'R' if cmd.startswith('ps') else 'S'} {user:<8} {pid:>5} {ppid:>5}  0"
                   f"  80   0 - {size:>5} -{pad}{stime} ?        00:00:00 {cmd}\n")
        else:
            io.out(f"{user:<8} {pid:>5} {ppid:>5}  0 {stime} ?        00:00:00 {cmd}\n")
    return 0


def p_pkill(c: Container, argv: list[str], io: IO) -> int:
    """procps ``pkill PATTERN``: SIGTERM to the processes whose name matches. The JVM exits 143 and takes its
    parent, the container's PID 1, with it (``pkill java``, the page's process failure); PID 1 itself (``sh``)
    ignores SIGTERM, as PID 1 does without a handler."""
    patterns = [a for a in argv[1:] if not a.startswith("-")]
    if len(patterns) != 1:
        io.err("pkill: no matching criteria specified\nTry `pkill --help' for more information.\n")
        return 2
    try:
        pattern = re.compile(patterns[0])
    except re.error as e:
        io.err(f"pkill: cannot compile regular expression '{patterns[0]}': {e}\n")
        return 2
    names = {"java": _java(c) is not None, (main_command(c).split() or ["sh"])[0].rsplit("/", 1)[-1]: True}
    matched = [name for name, running in names.items() if running and pattern.search(name)]
    if not matched:
        return 1
    if "java" in matched and c.ctx.signal_main is not None:
        c.ctx.signal_main(143)
    return 0
