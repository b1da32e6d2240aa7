"""The MySQL images (``mysql:5.7``, ``8.0`` …) and Percona XtraBackup's (``gcr.io/google-samples/xtrabackup``).

kubernetes.io's *Run a Replicated Stateful Application* runs MySQL as a StatefulSet: ``mysqld`` from the
``mysql:5.7`` image, an ``xtrabackup`` sidecar that clones data to new replicas with ``ncat``, ``xbstream``
and ``xtrabackup``, and clients started with ``kubectl run … mysql -h …``; *Run a Single-Instance Stateful
Application* and *WordPress and MySQL* run one server. What the sandbox runs (the server itself,
its SQL and replication are :mod:`..mysql`):

* ``docker-entrypoint.sh mysqld`` (the image's default): an empty data directory is initialized
  first, which needs ``MYSQL_ROOT_PASSWORD``, ``MYSQL_ALLOW_EMPTY_PASSWORD`` or
  ``MYSQL_RANDOM_ROOT_PASSWORD`` (else the entrypoint's error and exit 1); ``MYSQL_DATABASE``,
  ``MYSQL_USER`` and ``MYSQL_PASSWORD`` are created. Then ``mysqld`` reads the ``[mysqld]`` options of
  ``/etc/mysql/conf.d/*.cnf`` (``server-id``, ``log-bin``, ``super-read-only``, ``read-only``) and serves
  on 3306 (initialization takes :data:`INIT_S` sandbox seconds, a start :data:`START_S`);
* ``mysql [-h HOST] [-P PORT] [-u USER] [-pPASSWORD] [-e SQL] [-N] [-s] [-B] [-t] [-E] [DATABASE]``: the
  statements of ``-e`` or of its standard input, printed as tables on a terminal (``kubectl run -i
  -t``), tab-separated otherwise, vertically with ``-E`` or ``\\G``; errors as ``ERROR 1146 (42S02) at
  line 1: …`` with exit status 1. On a terminal without ``-e`` it is the interactive monitor
  (``mysql>``). ``-h`` names are resolved in the cluster: ``mysql-0.mysql``, the Service ``mysql-read``
  (one Ready endpoint per connection);
* ``mysqladmin [-h HOST] ping``: ``mysqld is alive``, the liveness probe's check;
* ``ncat --listen … PORT -c COMMAND`` serves COMMAND's output to each connection; ``ncat --recv-only
  HOST PORT`` prints what the server there sends;
* ``xtrabackup --backup --stream=xbstream [--slave-info] --host=H`` streams a backup of the server
  at H (its tables, with ``xtrabackup_binlog_info`` and, with ``--slave-info``, ``xtrabackup_slave_info``);
  ``xbstream -x -C DIR`` unpacks one; ``xtrabackup --prepare --target-dir=DIR`` prepares it. The
  stream is the sandbox's own format (JSON), not xbstream's.

Each program is a file of its image (``/usr/bin/mysql`` …): the tutorial's ``mv /usr/bin/mysql
/usr/bin/mysql.off`` makes the readiness probe fail until it is moved back.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from typing import TYPE_CHECKING, Any

from ..containers import FsError
from ..mysql import (Settings, ask, initialize, initialized, mysql_server, read_config, split_statements)
from ..network import HttpRequest, HttpResponse, Refused
from .base import IO, Exit, Forever, Input
from .identity import identity

if TYPE_CHECKING:
    from .container import Container

#: Sandbox seconds the entrypoint takes to initialize an empty data directory, and mysqld to start.
INIT_S = 6.0
START_S = 2.0
DATADIR = "/var/lib/mysql"
MYSQL_UID = 999  # the images' mysql user and group
SOCKET = "/var/run/mysqld/mysqld.sock"
_VERSIONS = {"5.6": "5.6.51", "5.7": "5.7.44", "8.0": "8.0.40", "8.4": "8.4.3", "9": "9.1.0"}
_connections = itertools.count(2)


def server_version(c: Container) -> str:
    """The MySQL version of the container's image tag (``5.7`` → ``5.7.44``; latest: 9.1.0)."""
    image = (c.ctx.container or {}).get("image", "")
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else "latest"
    for prefix, version in _VERSIONS.items():
        if tag == prefix or tag.startswith(prefix + ".") or tag.startswith(prefix + "-"):
            return version
    return "9.1.0"


def _stamp(c: Container) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S+00:00", time.gmtime(c.ctx.clock()))


def _note(c: Container, text: str) -> str:
    """Lines as the entrypoint's ``mysql_note`` writes them, stamped with the time of writing."""
    return "".join(f"{_stamp(c)} [Note] [Entrypoint]: {line}\n" if line else "\n" for line in text.split("\n"))


def _package(version: str) -> str:
    return f"{version}-1debian9" if version.startswith("5.6") else f"{version}-1.el7" if version.startswith("5.7") \
        else f"{version}-1.el9"


def _mysqld_stamp(c: Container) -> str:
    t = c.ctx.clock()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1e6) % 1000000:06d}Z"


def p_entrypoint(c: Container, argv: list[str], io: IO) -> int:
    """The image's ``docker-entrypoint.sh``: initialize an empty data directory, then run ``mysqld``."""
    args = argv[1:]
    if args and args[0].startswith("-"):
        args = ["mysqld", *args]
    if not args or args[0] != "mysqld":
        return c.execute(args, io, in_shell=False) if args else 0
    version = server_version(c)
    started = f"Entrypoint script for MySQL Server {_package(version)} started."
    if identity(c)[0] == 0:  # root switches to the image's mysql user (gosu): what mysqld makes is mysql's
        io.out(_note(c, f"{started}\nSwitching to dedicated user 'mysql'\n{started}"))
        c.fs.owner = (MYSQL_UID, MYSQL_UID)
    else:
        io.out(_note(c, started))
    if not initialized(c.fs, DATADIR):
        env = c.env
        if not any(env.get(k) for k in ("MYSQL_ROOT_PASSWORD", "MYSQL_ALLOW_EMPTY_PASSWORD",
                                        "MYSQL_RANDOM_ROOT_PASSWORD")):
            io.err(f"{_stamp(c)} [ERROR] [Entrypoint]: Database is uninitialized and password option is not "
                   "specified\n    You need to specify one of the following as an environment variable:\n"
                   "    - MYSQL_ROOT_PASSWORD\n    - MYSQL_ALLOW_EMPTY_PASSWORD\n    - MYSQL_RANDOM_ROOT_PASSWORD\n")
            return 1
        io.out(_note(c, "Initializing database files"))
        password = env.get("MYSQL_ROOT_PASSWORD") or ""
        if env.get("MYSQL_RANDOM_ROOT_PASSWORD") and not password:
            password = "Shi5ahvoh9kaey0eipa1Aiph"
            io.out(_note(c, f"GENERATED ROOT PASSWORD: {password}"))
        try:
            initialize(c.fs, DATADIR, password, env.get("MYSQL_DATABASE", ""), env.get("MYSQL_USER", ""),
                       env.get("MYSQL_PASSWORD", ""))
        except FsError as e:
            io.err(f"mysqld: Can't create directory '{DATADIR}/' (OS errno {e.errno or 28} - {e.strerror})\n")
            return 1
        c.sleep(INIT_S / 2)
        io.out(_note(c, "Database files initialized\nStarting temporary server"))
        c.sleep(INIT_S / 4)
        io.out(_note(c, "Temporary server started."))
        if env.get("MYSQL_DATABASE"):
            io.out(_note(c, f"Creating database {env['MYSQL_DATABASE']}"))
        if env.get("MYSQL_USER"):
            io.out(_note(c, f"Creating user {env['MYSQL_USER']}"))
            if env.get("MYSQL_DATABASE"):
                io.out(_note(c, f"Giving user {env['MYSQL_USER']} access to schema {env['MYSQL_DATABASE']}"))
        io.out("\n" + _note(c, "Stopping temporary server"))
        c.sleep(INIT_S / 4)
        io.out(_note(c, "Temporary server stopped\n\nMySQL init process done. Ready for start up.\n"))
    return p_mysqld(c, ["mysqld", *args[1:]], io)


def p_mysqld(c: Container, argv: list[str], io: IO) -> int:
    """``mysqld``: the server of :mod:`..mysql` on port 3306, with the options of ``/etc/mysql/conf.d``."""
    options = read_config(c.fs)
    for arg in argv[1:]:
        m = re.fullmatch(r"--([a-z0-9_-]+)(?:=(.*))?", arg)
        if m:
            options[m.group(1).replace("-", "_")] = m.group(2) or ""
    version = server_version(c)
    settings = Settings(options, c.hostname, version)
    log_suffix = "-log" if settings.log_bin else ""
    if not initialized(c.fs, DATADIR):
        io.err(f"{_mysqld_stamp(c)} 0 [ERROR] --initialize specified but the data directory has files in it. "
               "Aborting.\n" if c.fs.exists(DATADIR) and c.fs.listdir(DATADIR) else
               f"{_mysqld_stamp(c)} 0 [ERROR] Fatal error: Can't open and lock privilege tables: "
               "Table 'mysql.user' doesn't exist\n")
        return 1
    io.out(f"{_mysqld_stamp(c)} 0 [Note] mysqld (mysqld {version}{log_suffix}) starting as process 1 ...\n")
    c.sleep(START_S)
    if settings.super_read_only:
        io.out(f"{_mysqld_stamp(c)} 0 [Note] Server is operating in super_read_only mode.\n")
    io.out(f"{_mysqld_stamp(c)} 0 [Note] mysqld: ready for connections.\n"
           f"Version: '{version}{log_suffix}'  socket: '{SOCKET}'  port: 3306  MySQL Community Server (GPL)\n")

    def connect(host: str, port: int):
        addrs = c.libc_addresses(host)
        if not addrs or c.ctx.network is None:
            return None
        try:
            return c.ctx.network(addrs[0], port)
        except Refused:
            return None

    server = mysql_server(c.fs, DATADIR, settings, lambda text: None, c.ctx.clock, connect)
    raise Forever(handles_sigterm=True, listens=(3306,), server=server, hostname=c.hostname)


# ------------------------------------------------------------------ clients

def _client_options(argv: list[str], io: IO) -> dict | None:
    """The options of ``mysql`` and ``mysqladmin`` (short forms may carry their value: ``-uroot``, ``-ppw``)."""
    opts: dict[str, Any] = {"host": "localhost", "port": 3306, "user": "root", "password": None, "execute": None,
                            "database": None, "skip_names": False, "silent": False, "batch": False, "table": False,
                            "vertical": False, "args": []}
    long = {"host": "host", "port": "port", "user": "user", "execute": "execute", "database": "database"}
    short = {"h": "host", "P": "port", "u": "user", "e": "execute", "D": "database"}
    flags = {"N": "skip_names", "s": "silent", "B": "batch", "t": "table", "E": "vertical"}
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            name = name.replace("-", "_")
            if name == "password":
                opts["password"] = value if eq else ""
            elif name in long:
                if not eq:
                    if i >= len(argv):
                        io.err(f"mysql: option '--{name}' requires an argument\n")
                        return None
                    value, i = argv[i], i + 1
                opts[long[name]] = value
            elif name in ("skip_column_names", "silent", "batch", "table", "vertical"):
                opts[{"skip_column_names": "skip_names"}.get(name, name)] = True
            elif name in ("protocol", "socket", "connect_timeout", "default_character_set"):
                pass
            else:
                io.err(f"mysql: [ERROR] unknown option '--{name}'\n")
                return None
        elif arg.startswith("-") and len(arg) > 1:
            j = 1
            while j < len(arg):
                ch = arg[j]
                if ch == "p":
                    opts["password"] = arg[j + 1:]
                    break
                if ch in short:
                    value = arg[j + 1:]
                    if not value:
                        if i >= len(argv):
                            io.err(f"mysql: option '-{ch}' requires an argument\n")
                            return None
                        value, i = argv[i], i + 1
                    opts[short[ch]] = value
                    break
                if ch in flags:
                    opts[flags[ch]] = True
                    j += 1
                    continue
                io.err(f"mysql: [ERROR] unknown option '-{ch}'\n")
                return None
        else:
            opts["args"].append(arg)
    if isinstance(opts["port"], str):
        if not opts["port"].isdigit():
            io.err(f"mysql: [ERROR] mysql: Error while setting value '{opts['port']}' to 'port'.\n")
            return None
        opts["port"] = int(opts["port"])
    return opts


def _connect(c: Container, host: str, port: int, io: IO, prog: str = "mysql"):
    """The server at ``host:port`` or None (the client's error printed)."""
    local = host in ("localhost", "127.0.0.1", "::1")
    addrs = ["127.0.0.1"] if local else c.libc_addresses(host)
    if not addrs:
        io.err(f"ERROR 2005 (HY000): Unknown MySQL server host '{host}' (-2)\n" if prog == "mysql" else
               f"{prog}: connect to server at '{host}' failed\nerror: 'Unknown MySQL server host '{host}' (-2)'\n")
        return None
    try:
        if c.ctx.network is None:
            raise Refused("no network")
        return c.ctx.network(addrs[0], port)
    except Refused:
        if host == "localhost":
            io.err(f"ERROR 2002 (HY000): Can't connect to local MySQL server through socket '{SOCKET}' (2)\n"
                   if prog == "mysql" else
                   f"{prog}: connect to server at 'localhost' failed\nerror: 'Can't connect to local MySQL server "
                   f"through socket '{SOCKET}' (2)'\nCheck that mysqld is running and that the socket: "
                   f"'{SOCKET}' exists!\n")
        else:
            io.err(f"ERROR 2003 (HY000): Can't connect to MySQL server on '{host}' (111)\n" if prog == "mysql" else
                   f"{prog}: connect to server at '{host}' failed\nerror: 'Can't connect to MySQL server on "
                   f"'{host}' (111)'\nCheck that mysqld is running on {host} and that the port is {port}.\n"
                   f"You can check this by doing 'telnet {host} {port}'\n")
        return None


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def format_table(columns: list[str], rows: list[list]) -> str:
    """A result set as the mysql client boxes it on a terminal (numbers right-aligned)."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(col), *(len(r[i]) for r in cells)]) for i, col in enumerate(columns)]
    numeric = [bool(rows) and all(isinstance(r[i], (int, float)) or r[i] is None for r in rows)
               for i in range(len(columns))]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+\n"
    out = line + "| " + " | ".join(col.ljust(w) for col, w in zip(columns, widths)) + " |\n" + line
    for r in cells:
        out += "| " + " | ".join(v.rjust(w) if numeric[i] else v.ljust(w)
                                 for i, (v, w) in enumerate(zip(r, widths))) + " |\n"
    return out + line


def _escape(value: Any) -> str:
    return _cell(value).replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")


def format_batch(columns: list[str], rows: list[list], names: bool = True) -> str:
    """A result set tab-separated, as the client prints it when its output is not a terminal."""
    out = "\t".join(columns) + "\n" if names else ""
    return out + "".join("\t".join(_escape(v) for v in row) + "\n" for row in rows)


def format_vertical(columns: list[str], rows: list[list]) -> str:
    width = max((len(col) for col in columns), default=0)
    out = ""
    for n, row in enumerate(rows, 1):
        out += f"{'*' * 27} {n}. row {'*' * 27}\n"
        out += "".join(f"{col.rjust(width)}: {_cell(v)}\n" for col, v in zip(columns, row))
    return out


def _line_of(sql: str, statement: str) -> int:
    at = sql.find(statement)
    return sql.count("\n", 0, at) + 1 if at >= 0 else 1


def p_mysql(c: Container, argv: list[str], io: IO) -> int:
    """The ``mysql`` client (see the module docstring)."""
    opts = _client_options(argv[1:], io)
    if opts is None:
        return 1 if argv[1:] else 2
    if opts["execute"] is None and not io.stdin.live and (c.ctx.container or {}).get("stdin") and c.ctx.pid == 1:
        raise Forever()  # the container's own client with `stdin: true`: it reads what is attached (kubectl run -i)
    if opts["args"]:
        opts["database"] = opts["database"] or opts["args"][0]
    if opts["password"] is not None and opts["password"] != "":
        io.err("mysql: [Warning] Using a password on the command line interface can be insecure.\n")
    elif opts["password"] == "":
        io.out("Enter password: ")
        opts["password"] = (io.stdin.readline() or "").rstrip("\n")
    server = _connect(c, opts["host"], opts["port"], io)
    if server is None:
        return 1
    client = "localhost" if opts["host"] in ("localhost", "127.0.0.1", "::1") else (c.pod_ips or ["localhost"])[0]
    base = {"user": opts["user"], "password": opts["password"], "client": client}
    first = ask(server, "/query", {**base, "sql": "", "database": opts["database"]})
    if first is None:
        io.err("ERROR 2013 (HY000): Lost connection to MySQL server at 'reading initial communication packet', "
               "system error: 0\n")
        return 1
    if first.get("error"):
        e = first["error"]
        io.err(f"ERROR {e['code']} ({e['state']}): {e['message']}\n")
        return 1
    sql = opts["execute"]
    if sql is None and io.tty and io.stdin.live:
        return _monitor(c, server, base, opts, first, io)
    if sql is None:
        sql = io.stdin.read()
    # a terminal: an exec session's, or the container's own (`kubectl run -i -t … -- mysql -e …`)
    tty = io.tty or (c.ctx.pid == 1 and bool((c.ctx.container or {}).get("tty")))
    table = opts["table"] or (tty and opts["execute"] is not None and not opts["batch"])
    answer = ask(server, "/query", {**base, "sql": sql, "database": opts["database"]})
    if answer is None:
        io.err("ERROR 2013 (HY000): Lost connection to MySQL server during query\n")
        return 1
    for result in answer.get("results", []):
        io.out(_render(result, opts, table))
    error = answer.get("error")
    if error:
        statements = split_statements(sql)
        at = error.get("index", 0)
        line = _line_of(sql, statements[at][0]) if at < len(statements) else 1
        io.err(f"ERROR {error['code']} ({error['state']}) at line {line}: {error['message']}\n")
        return 1
    return 0


def _render(result: dict, opts: dict, table: bool) -> str:
    if "columns" not in result or not result["columns"]:
        return ""
    columns, rows = result["columns"], result["rows"]
    if opts["vertical"] or result.get("vertical"):
        return format_vertical(columns, rows)
    if not rows and not table:
        return format_batch(columns, rows, names=not opts["skip_names"]) if not opts["silent"] else ""
    if not rows:
        return ""
    if table:
        return format_table(columns, rows)
    return format_batch(columns, rows, names=not (opts["skip_names"] or opts["silent"]))


def _monitor(c: Container, server, base: dict, opts: dict, first: dict, io: IO) -> int:
    """The interactive monitor: ``mysql>``, statements ended by ``;`` or ``\\G``, ``exit`` or ``quit``."""
    version = server_version(c)
    io.out("Welcome to the MySQL monitor.  Commands end with ; or \\g.\n"
           f"Your MySQL connection id is {next(_connections)}\n"
           f"Server version: {version} MySQL Community Server (GPL)\n\n"
           "Copyright (c) 2000, 2023, Oracle and/or its affiliates.\n\n"
           "Oracle is a registered trademark of Oracle Corporation and/or its\naffiliates. Other names may be "
           "trademarks of their respective\nowners.\n\n"
           "Type 'help;' or '\\h' for help. Type '\\c' to clear the current input statement.\n\n")
    database = opts["database"]
    pending = ""
    while True:
        io.out("mysql> " if not pending else "    -> ")
        line = io.stdin.readline()
        if line is None:
            io.out("Bye\n")
            return 0
        c.steps = 0
        stripped = line.strip()
        if not pending and stripped.rstrip(";").lower() in ("exit", "quit", "\\q"):
            io.out("Bye\n")
            return 0
        if not pending and not stripped:  # an empty line: the prompt again
            continue
        if stripped.endswith("\\c"):
            pending = ""
            continue
        pending += line
        if not re.search(r"(;|\\G|\\g)\s*$", pending):
            continue
        sql, pending = pending, ""
        answer = ask(server, "/query", {**base, "sql": sql, "database": database})
        if answer is None:
            io.out("ERROR 2013 (HY000): Lost connection to MySQL server during query\n")
            continue
        database = answer.get("database", database)
        for result in answer.get("results", []):
            io.out(_interactive(result, opts))
        if answer.get("error"):
            e = answer["error"]
            io.out(f"ERROR {e['code']} ({e['state']}): {e['message']}\n")


def _interactive(result: dict, opts: dict) -> str:
    if "use" in result:
        return "Database changed\n"
    if result.get("columns"):
        rows = result["rows"]
        if not rows:
            return "Empty set (0.00 sec)\n\n"
        body = format_vertical(result["columns"], rows) if opts["vertical"] or result.get("vertical") else \
            format_table(result["columns"], rows)
        return body + f"{len(rows)} row{'s' if len(rows) != 1 else ''} in set (0.00 sec)\n\n"
    n = result.get("affected") or 0
    warnings = result.get("warnings", 0)
    return f"Query OK, {n} row{'s' if n != 1 else ''} affected{f', {warnings} warning' if warnings else ''} " \
           "(0.01 sec)\n\n"


def p_mysqladmin(c: Container, argv: list[str], io: IO) -> int:
    """``mysqladmin [-h HOST] [-u USER] [-pPW] ping|status|version``."""
    opts = _client_options(argv[1:], io)
    if opts is None:
        return 1
    commands = opts["args"]
    if not commands:
        io.err("mysqladmin: no command given\n")
        return 1
    server = _connect(c, opts["host"], opts["port"], io, prog="mysqladmin")
    if server is None:
        return 1
    if commands[0] == "ping":
        io.out("mysqld is alive\n")
        return 0
    answer = ask(server, "/query", {"user": opts["user"], "password": opts["password"], "client": "localhost",
                                    "sql": "SELECT VERSION()"})
    if answer is None or answer.get("error"):
        e = (answer or {}).get("error") or {"message": "Lost connection"}
        io.err(f"mysqladmin: connect to server at '{opts['host']}' failed\nerror: '{e['message']}'\n")
        return 1
    if commands[0] == "version":
        version = answer["results"][0]["rows"][0][0]
        io.out(f"mysqladmin  Ver 8.42 Distrib {server_version(c)}, for Linux on x86_64\n"
               f"Server version\t\t{version}\nProtocol version\t10\nConnection\t\tLocalhost via UNIX socket\n")
        return 0
    if commands[0] == "status":
        io.out("Uptime: 60  Threads: 1  Questions: 1  Slow queries: 0  Opens: 100  Flush tables: 1  "
               "Open tables: 90  Queries per second avg: 0.016\n")
        return 0
    io.err(f"mysqladmin: Unknown command: '{commands[0]}'\n")
    return 1


# ------------------------------------------------------------------ ncat, xbstream, xtrabackup

class _NcatServer:
    """``ncat --listen PORT -c COMMAND``: each connection gets COMMAND's standard output (its errors go to the log)."""

    def __init__(self, c: Container, command: str) -> None:
        self.c, self.command = c, command
        self.lock = threading.Lock()
        self.log = lambda text: None

    def set_log(self, log) -> None:
        self.log = log

    def __call__(self, req: HttpRequest) -> HttpResponse:
        out: list[str] = []
        with self.lock:
            self.c.steps = 0
            try:
                self.c.run_script(self.command, IO(out.append, self.log, Input()))
            except Exit:
                pass
            except Forever:
                pass
        body = "".join(out).encode("utf-8", "surrogateescape")
        return HttpResponse(200, "OK", [("Content-Length", str(len(body)))], body)


def p_ncat(c: Container, argv: list[str], io: IO) -> int:
    """``ncat --listen [-k] [--send-only] [--max-conns N] PORT -c|-e COMMAND`` or ``ncat [--recv-only] HOST PORT``."""
    args = argv[1:]
    listen, command, rest = False, None, []
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a in ("-l", "--listen"):
            listen = True
        elif a in ("-c", "--sh-exec", "-e", "--exec"):
            if i >= len(args):
                io.err(f"Ncat: option requires an argument -- '{a.lstrip('-')}'\n")
                return 2
            command, i = args[i], i + 1
        elif a.startswith("--max-conns") or a in ("-m",):
            if "=" not in a:
                i += 1
        elif a in ("-k", "--keep-open", "--send-only", "--recv-only", "-v", "--verbose", "-n", "--nodns"):
            pass
        elif a.startswith("-") and len(a) > 1:
            io.err(f"Ncat: unrecognized option '{a}'\nNcat: Try `--help' or man(1) ncat for more information, "
                   "usage options and help. QUITTING.\n")
            return 2
        else:
            rest.append(a)
    if listen:
        port = rest[-1] if rest else "31337"
        if not port.isdigit() or not 0 < int(port) < 65536:
            io.err(f"Ncat: Invalid port number \"{port}\". QUITTING.\n")
            return 2
        if command is None:
            io.err("stsnb sandbox: ncat --listen here serves a command's output (-c COMMAND); "
                   "a bare listener is not simulated\n")
            return 2
        raise Forever(handles_sigterm=True, listens=(int(port),), server=_NcatServer(c, command),
                      hostname=c.hostname)
    if len(rest) != 2 or not rest[1].isdigit():
        io.err("Ncat: You must specify a host to connect to. QUITTING.\n")
        return 2
    host, port = rest
    addrs = c.libc_addresses(host)
    if not addrs:
        io.err(f"Ncat: Could not resolve hostname \"{host}\": Name or service not known. QUITTING.\n")
        return 2
    try:
        if c.ctx.network is None:
            raise Refused("no network")
        answer = c.ctx.network(addrs[0], int(port))(HttpRequest("GET", "/"))
    except Refused:
        io.err("Ncat: Connection refused.\n")
        return 1
    io.out(answer.body.decode("utf-8", "surrogateescape"))
    return 0


_STREAM = "stsnb-xbstream"
_XB_VERSION = "xtrabackup version 2.4.4 based on MySQL server 5.7.13 Linux (x86_64) (revision id: df58cf2)\n"


def _xb_stamp(c: Container) -> str:
    return time.strftime("%y%m%d %H:%M:%S", time.gmtime(c.ctx.clock()))


def p_xtrabackup(c: Container, argv: list[str], io: IO) -> int:
    """``xtrabackup --backup --stream=xbstream [--slave-info] [--host=H] [--user=U]``, or ``--prepare --target-dir=D``
    (see the module docstring)."""
    opts: dict[str, str] = {}
    for arg in argv[1:]:
        m = re.fullmatch(r"--([a-z0-9_-]+)(?:=(.*))?", arg)
        if not m:
            io.err(f"xtrabackup: Error: unknown argument: '{arg}'\n")
            return 1
        opts[m.group(1).replace("-", "_")] = m.group(2) if m.group(2) is not None else "1"
    if "prepare" in opts:
        target = opts.get("target_dir", ".").rstrip("/") or "/"
        io.err(f"xtrabackup: recognized server arguments: \nxtrabackup: recognized client arguments: "
               f"--prepare=1 --target-dir={target} \n{_XB_VERSION}")
        checkpoints = c.file(f"{target}/xtrabackup_checkpoints")
        if checkpoints is None:
            io.err(f"xtrabackup: Error: cannot open {target}/xtrabackup_checkpoints\n"
                   "xtrabackup: error: xtrabackup_read_metadata()\n"
                   "xtrabackup: This target seems not to have correct metadata...\n")
            return 1
        try:
            c.fs.write(f"{target}/xtrabackup_checkpoints",
                       checkpoints.replace("full-backuped", "full-prepared").encode(), c.cwd)
        except FsError as e:
            io.err(f"xtrabackup: Error writing file '{target}/xtrabackup_checkpoints' (Errcode: {e.errno})\n")
            return 1
        io.err(f"xtrabackup: cd to {target}/\nxtrabackup: This target seems to be not prepared yet.\n"
               "InnoDB: Starting crash recovery.\nInnoDB: Apply batch completed\n"
               f"{_xb_stamp(c)} completed OK!\n")
        return 0
    if "backup" not in opts:
        io.err("xtrabackup: Error: Please set parameter 'datadir'\n" if not opts else
               "xtrabackup: error: you must specify --backup or --prepare\n")
        return 1
    if opts.get("stream", "xbstream") not in ("xbstream", "tar"):
        io.err(f"xtrabackup: Error: Invalid --stream argument: {opts['stream']}\n")
        return 1
    host = opts.get("host", "localhost")
    io.err(f"xtrabackup: recognized server arguments: --datadir={DATADIR} \n"
           f"xtrabackup: recognized client arguments: " + " ".join(a for a in argv[1:]) + " \n" + _XB_VERSION)
    server = _connect(c, host, int(opts.get("port", "3306")) if opts.get("port", "3306").isdigit() else 3306,
                      IO(None, None))
    backup = ask(server, "/backup", {}) if server is not None else None
    if backup is None or not isinstance(backup.get("state"), dict):
        io.err(f"Failed to connect to MySQL server: Can't connect to MySQL server on '{host}' (111).\n")
        return 1
    stamp = _xb_stamp(c)
    io.err(f"{stamp}  version_check Connecting to MySQL server with DSN 'dbi:mysql:;mysql_read_default_group="
           f"xtrabackup;host={host}' as '{opts.get('user', 'root')}'  (using password: NO).\n"
           f"{stamp}  version_check Connected to MySQL server\n"
           f"{stamp} >> log scanned up to (2549209)\nxtrabackup: Generating a list of tablespaces\n")
    files = {"stsnb-mysql.json": json.dumps(backup["state"], sort_keys=True),
             "xtrabackup_checkpoints": "backup_type = full-backuped\nfrom_lsn = 0\nto_lsn = 2549200\n"
                                       "last_lsn = 2549209\ncompact = 0\nrecover_binlog_info = 0\n",
             "backup-my.cnf": "# This MySQL options file was generated by innobackupex.\n\n[mysqld]\n"
                              "innodb_checksum_algorithm=crc32\ninnodb_log_files_in_group=2\n"}
    if backup.get("binlog_info"):
        files["xtrabackup_binlog_info"] = backup["binlog_info"] + "\n"
    if "slave_info" in opts:
        files["xtrabackup_slave_info"] = backup.get("slave_info", "") + ("\n" if backup.get("slave_info") else "")
        if backup.get("slave_info"):
            io.err(f"{stamp} [00] Writing xtrabackup_slave_info\n")
    if backup.get("binlog_info"):
        io.err(f"MySQL binlog position: filename '{backup['binlog_info'].split(chr(9))[0]}', "
               f"position '{backup['binlog_info'].split(chr(9))[-1]}'\n")
    io.err(f"{stamp} Executing UNLOCK TABLES\n{stamp} All tables unlocked\n{stamp} Backup created in directory "
           f"'/xtrabackup_backupfiles/'\n{stamp} [00] Writing backup-my.cnf\n{stamp} [00]        ...done\n"
           f"{stamp} [00] Writing xtrabackup_info\n{stamp} [00]        ...done\n"
           "xtrabackup: Transaction log of lsn (2549200) to (2549209) was copied.\n"
           f"{stamp} completed OK!\n")
    io.out(json.dumps({_STREAM: 1, "dirs": ["mysql", "performance_schema", "sys"], "files": files}) + "\n")
    return 0


def p_xbstream(c: Container, argv: list[str], io: IO) -> int:
    """``xbstream -x [-C DIR]``: unpack a stream read from standard input."""
    args = argv[1:]
    if "-x" not in args and "--extract" not in args:
        io.err("xbstream: either -c or -x must be specified.\n" if "-c" not in args else
               "stsnb sandbox: xbstream -c (create) is not simulated; xtrabackup --stream=xbstream makes streams\n")
        return 1
    target = "."
    if "-C" in args:
        k = args.index("-C")
        if k + 1 >= len(args):
            io.err("xbstream: option requires an argument -- 'C'\n")
            return 1
        target = args[k + 1]
    text = io.stdin.read()
    if not text.strip():
        return 0
    try:
        stream = json.loads(text)
        if not isinstance(stream, dict) or stream.get(_STREAM) != 1:
            raise ValueError
        dirs, files = stream.get("dirs") or [], stream.get("files") or {}
        if not all(isinstance(d, str) for d in dirs) or not isinstance(files, dict):
            raise ValueError
    except ValueError:
        io.err("xbstream: wrong chunk magic at offset 0x0.\n")
        return 1
    base = target.rstrip("/") or "/"
    try:
        if not c.fs.exists(base, c.cwd):
            io.err(f"xbstream: Can't change dir to '{target}' (Errcode: 2 - No such file or directory)\n")
            return 1
        for d in dirs:
            if ".." not in d.split("/"):
                c.fs.makedirs(f"{base}/{d}", c.cwd)
        for name, content in files.items():
            if not isinstance(name, str) or not isinstance(content, str) or ".." in name.split("/") \
                    or name.startswith("/"):
                continue
            c.fs.write(f"{base}/{name}", content.encode("utf-8", "surrogateescape"), c.cwd)
    except FsError as e:
        io.err(f"xbstream: failed to create file: {e.strerror}\n")
        return 1
    return 0
