"""A MySQL 5.7 server in the sandbox's pod network: its data directory, its SQL, its binary log and replication.

The MySQL images (:mod:`.programs.mysql`) start one server per container. What the sandbox keeps of
a server is what a learner can see of it:

* **the data directory** (``/var/lib/mysql`` unless the configuration says otherwise): the
  directories ``mysql/``, ``performance_schema/`` and ``sys/`` that tell an initialized directory
  from an empty one (the tutorials' scripts test ``[[ -d /var/lib/mysql/mysql ]]``), ``auto.cnf``
  with the server's UUID, and the databases, tables, rows, users, binary log and replication
  settings as JSON in ``stsnb-mysql.json`` (the sandbox's own format, named so; InnoDB's files are
  not simulated). It lives on the pod's volume, so it outlives the pod;
* **its SQL**, run by SQLite (Python's ``sqlite3``) over the tables loaded for each request:
  ``CREATE``/``DROP DATABASE``, ``USE``, ``SHOW DATABASES``/``TABLES``, and the tables' own
  statements (``CREATE TABLE``, ``INSERT``, ``SELECT``, ``UPDATE``, ``DELETE``, ``DROP TABLE``) with
  MySQL's functions and variables that the tutorials use (``NOW()``, ``VERSION()``, ``DATABASE()``,
  ``USER()``, ``@@server_id``, ``@@hostname``, ``@@read_only``, ``@@super_read_only``). SQLite's
  errors are answered with MySQL's codes and texts (``ERROR 1146 (42S02): Table 'test.messages'
  doesn't exist``, ``ERROR 1064 (42000)`` for syntax, ``ERROR 1046 (3D000): No database selected``).
  SQL that differs between the two (stored procedures, MySQL-only types and clauses) is SQLite's;
* **the binary log** of a server started with ``log-bin``: each write is an event at a position
  in ``<hostname>-bin.NNNNNN`` (a new file at each start, the first event at 154, as 5.7's);
* **replication**: ``CHANGE MASTER TO … MASTER_LOG_FILE, MASTER_LOG_POS, MASTER_HOST …`` and
  ``START SLAVE`` make the server a replica of ``MASTER_HOST``. A replica applies the events after
  its position whenever it is asked something (a query, a probe, a backup), reaching its source
  by its DNS name from its own pod, so a source that moved to a new IP is found again; a source it
  cannot reach leaves it as it was. ``super-read-only`` (or ``read-only``) refuses writes from
  clients (``ERROR 1290 (HY000)``), not from replication;
* **backups** for Percona XtraBackup (``POST /backup``): the tables and users, with the binary
  log position (``xtrabackup_binlog_info``) and, on a replica, its source's position
  (``xtrabackup_slave_info``).

Not simulated: users other than root and the entrypoint's ``MYSQL_USER`` (``CREATE USER`` and
``GRANT`` are accepted and change nothing), ``SET`` (accepted, no variable changes), transactions
(each statement stands alone), views and triggers (refused with a message saying so), GTIDs, and
replication lag (a replica catches up when asked). SQL cannot reach the host: SQLite's ``ATTACH``,
``VACUUM INTO`` and ``PRAGMA`` are refused as syntax errors, and a statement is stopped after
:data:`MAX_STEPS` steps of SQLite's machine (``ERROR 3024``), as ``max_execution_time`` would.

Clients speak to a server as JSON over HTTP on the sandbox's pod network (:mod:`.network`), the
only transport it has: ``POST /query`` (``{"sql", "database", "user", "password", "client"}``),
``POST /binlog`` (events after a position), ``POST /backup`` and ``GET /ping``. MySQL's wire
protocol is not simulated.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
import uuid
from typing import Any, Callable

from .containers import FileSystem, FsError
from .network import HttpRequest, HttpResponse, Refused, Server

__all__ = ["STATE_FILE", "VERSION", "SqlError", "Settings", "initialize", "initialized", "load_state", "save_state",
           "split_statements", "mysql_server", "read_config", "ask"]

STATE_FILE = "stsnb-mysql.json"
VERSION = "5.7.44"
#: Where the first event of a new binary log file starts (after the format description and previous-GTIDs events).
BINLOG_START = 154
#: SQLite virtual-machine steps one statement may take, and the largest value it may build (runaway SQL is stopped).
MAX_STEPS = 2_000_000
MAX_VALUE_BYTES = 1_000_000
#: What SQL may do (SQLite's authorizer actions): read and change tables; not ATTACH, DETACH, PRAGMA, views, triggers.
_ALLOWED = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE,
                      sqlite3.SQLITE_DELETE, sqlite3.SQLITE_CREATE_TABLE, sqlite3.SQLITE_DROP_TABLE,
                      sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_CREATE_INDEX, sqlite3.SQLITE_DROP_INDEX,
                      sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_ALTER_TABLE, sqlite3.SQLITE_RECURSIVE,
                      sqlite3.SQLITE_SAVEPOINT})
#: The system schemas, shown by ``SHOW DATABASES`` before the user's.
SYSTEM_SCHEMAS = ("information_schema", "mysql", "performance_schema", "sys")


class SqlError(Exception):
    """An error as MySQL reports it: ``ERROR code (state): message``."""

    def __init__(self, code: int, state: str, message: str) -> None:
        super().__init__(message)
        self.code, self.state, self.message = code, state, message

    def as_dict(self) -> dict:
        return {"code": self.code, "state": self.state, "message": self.message}


def _syntax(near: str) -> SqlError:
    return SqlError(1064, "42000", "You have an error in your SQL syntax; check the manual that corresponds to your "
                                   f"MySQL server version for the right syntax to use near '{near[:80]}' at line 1")


# ------------------------------------------------------------------ the data directory

def initialized(fs: FileSystem, datadir: str) -> bool:
    """Whether the data directory holds a server's files (``mysql/``), as the image's entrypoint checks."""
    return fs.exists(f"{datadir.rstrip('/')}/mysql")


def empty_state(root_password: str | None) -> dict:
    return {"databases": {}, "users": {"root": root_password or ""}, "binlog": {"index": 0, "events": []},
            "master": None}


def initialize(fs: FileSystem, datadir: str, root_password: str | None, database: str = "",
               user: str = "", password: str = "") -> None:
    """``mysqld --initialize-insecure`` and the entrypoint's set-up: system schemas, root, a database and a user."""
    base = datadir.rstrip("/")
    for d in SYSTEM_SCHEMAS[1:]:
        fs.makedirs(f"{base}/{d}")
    state = empty_state(root_password)
    if database:
        state["databases"][database] = {}
    if user:
        state["users"][user] = password
    save_state(fs, base, state)
    fs.write(f"{base}/auto.cnf", f"[auto]\nserver-uuid={uuid.uuid4()}\n".encode())


def load_state(fs: FileSystem, datadir: str) -> dict:
    """The server's state from its data directory (an empty one when there is none or it is not ours)."""
    try:
        state = json.loads(fs.read(f"{datadir.rstrip('/')}/{STATE_FILE}"))
    except (FsError, ValueError):
        return empty_state(None)
    return state if _well_formed(state) else empty_state(None)


def _well_formed(state: object) -> bool:
    """Whether ``state`` is what this module writes (a file edited in the pod, or a hostile request, is not)."""
    if not isinstance(state, dict) or not isinstance(state.get("databases"), dict) \
            or not isinstance(state.get("users"), dict) or not isinstance(state.get("binlog"), dict):
        return False
    for tables in state["databases"].values():
        if not isinstance(tables, dict):
            return False
        for table in tables.values():
            if not isinstance(table, dict) or not isinstance(table.get("create"), str) \
                    or not table["create"].startswith("CREATE TABLE ") or not isinstance(table.get("rows"), list):
                return False
    events = state["binlog"].get("events")
    master = state.get("master")
    return isinstance(events, list) and isinstance(state["binlog"].get("index"), int) and \
        (master is None or isinstance(master, dict))


def save_state(fs: FileSystem, datadir: str, state: dict) -> None:
    fs.write(f"{datadir.rstrip('/')}/{STATE_FILE}", json.dumps(state, sort_keys=True).encode())


def read_config(fs: FileSystem, dirs: tuple[str, ...] = ("/etc/mysql/conf.d", "/etc/mysql/mysql.conf.d")) -> dict:
    """The ``[mysqld]`` options of the ``*.cnf`` files in ``dirs`` (later files win), dashes as underscores."""
    options: dict[str, str] = {}
    for d in dirs:
        try:
            names = sorted(n for n in fs.listdir(d) if n.endswith(".cnf"))
        except FsError:
            continue
        for name in names:
            try:
                text = fs.read(f"{d}/{name}").decode("utf-8", "replace")
            except FsError:
                continue
            section = ""
            for line in text.splitlines():
                line = line.strip()
                if not line or line.startswith(("#", ";")):
                    continue
                if line.startswith("[") and line.endswith("]"):
                    section = line[1:-1].strip()
                    continue
                if section == "mysqld":
                    key, _, value = line.partition("=")
                    options[key.strip().replace("-", "_")] = value.strip()
    return options


class Settings:
    """What a running server was started with (its options and identity)."""

    def __init__(self, options: dict, hostname: str, version: str = VERSION) -> None:
        self.hostname, self.version = hostname, version
        sid = options.get("server_id", "0")
        self.server_id = int(sid) if sid.isdigit() else 0
        self.log_bin = "log_bin" in options
        self.log_bin_base = (options.get("log_bin") or f"{hostname}-bin").rsplit("/", 1)[-1]
        self.super_read_only = "super_read_only" in options and options["super_read_only"] not in ("0", "OFF", "off")
        self.read_only = self.super_read_only or ("read_only" in options and options["read_only"] not in ("0", "OFF",
                                                                                                       "off"))


# ------------------------------------------------------------------ statements

def split_statements(sql: str) -> list[tuple[str, bool]]:
    """The statements of ``sql``, split at ``;`` and ``\\G`` outside quotes and comments: ``(text, vertical)``."""
    out: list[tuple[str, bool]] = []
    buf: list[str] = []
    i, quote = 0, ""
    while i < len(sql):
        ch = sql[i]
        if quote:
            buf.append(ch)
            if ch == "\\" and quote != "`" and i + 1 < len(sql):
                buf.append(sql[i + 1])
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
            buf.append(ch)
        elif ch == "#" or sql.startswith("-- ", i) or sql.startswith("--\n", i):
            while i < len(sql) and sql[i] != "\n":
                i += 1
            continue
        elif ch == ";" or sql.startswith("\\G", i) or sql.startswith("\\g", i):
            text = "".join(buf).strip()
            if text:
                out.append((text, sql.startswith("\\G", i)))
            buf = []
            if ch == "\\":
                i += 1
        else:
            buf.append(ch)
        i += 1
    text = "".join(buf).strip()
    if text:
        out.append((text, False))
    return out


_IDENT = r"`?([A-Za-z0-9_$]+)`?"
_CREATE_DB = re.compile(rf"(?is)^(?:CREATE)\s+(?:DATABASE|SCHEMA)\s+(IF\s+NOT\s+EXISTS\s+)?{_IDENT}(?:\s+.*)?$")
_DROP_DB = re.compile(rf"(?is)^DROP\s+(?:DATABASE|SCHEMA)\s+(IF\s+EXISTS\s+)?{_IDENT}$")
_USE = re.compile(rf"(?is)^USE\s+{_IDENT}$")
_SHOW_TABLES = re.compile(rf"(?is)^SHOW\s+TABLES(?:\s+(?:FROM|IN)\s+{_IDENT})?$")
_CHANGE_MASTER = re.compile(r"(?is)^CHANGE\s+MASTER\s+TO\s+(.*)$")
_OPTION = re.compile(r"(?is)\s*([A-Z_]+)\s*=\s*('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[0-9]+)\s*(?:,|$)")
_WRITES = re.compile(r"(?is)^(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|TRUNCATE|RENAME)\b")
_SYSVAR = re.compile(r"@@(?:(?:global|session)\.)?([A-Za-z_]+)")


class _Request:
    """One client's statements against one server: the state, its SQLite view, the current database."""

    def __init__(self, server: "_Server", state: dict, database: str | None, user: str, client: str,
                 replication: bool = False) -> None:
        self.server, self.state, self.database = server, state, database
        self.user, self.client, self.replication = user, client, replication

    # ----- SQLite over the tables
    def _connect(self) -> tuple[sqlite3.Connection, dict]:
        conn = sqlite3.connect(":memory:", isolation_level=None)
        denied: dict = {}
        for db in self.state["databases"]:  # each database a schema of its own; the current one is `main`
            if db != self.database:
                conn.execute('ATTACH DATABASE \':memory:\' AS "' + db.replace('"', '""') + '"')
        s = self.server.settings
        now = self.server.now
        conn.create_function("NOW", 0, lambda: time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now())))
        conn.create_function("SYSDATE", 0, lambda: time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now())))
        conn.create_function("VERSION", 0, lambda: s.version + ("-log" if s.log_bin else ""))
        conn.create_function("DATABASE", 0, lambda: self.database)
        conn.create_function("USER", 0, lambda: f"{self.user}@{self.client}")
        conn.create_function("CURRENT_USER", 0, lambda: f"{self.user}@%")
        conn.create_function("SYSVAR", 1, self._sysvar)
        no_db = self.database is None

        def authorize(action: int, arg1: Any, arg2: Any, dbname: Any, _trigger: Any) -> int:
            if action not in _ALLOWED:  # ATTACH (and VACUUM INTO) would reach the host's files, PRAGMA its settings
                denied["action"] = action
                return sqlite3.SQLITE_DENY
            if dbname == "main" and no_db and action in (sqlite3.SQLITE_CREATE_TABLE, sqlite3.SQLITE_INSERT,
                                                         sqlite3.SQLITE_READ, sqlite3.SQLITE_UPDATE,
                                                         sqlite3.SQLITE_DELETE, sqlite3.SQLITE_DROP_TABLE) \
                    and not str(arg1).startswith("sqlite_"):
                denied["no_db"] = True
                return sqlite3.SQLITE_DENY
            return sqlite3.SQLITE_OK

        steps = [0]

        def progress() -> int:  # a runaway statement (a recursive CTE without end) is stopped, as max_execution_time
            steps[0] += 1
            return 1 if steps[0] > MAX_STEPS // 1000 else 0

        conn.set_authorizer(authorize)
        conn.set_progress_handler(progress, 1000)
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
        # the tables, under the same rules as a client's SQL (a state file edited in the pod cannot ATTACH)
        for db, tables in self.state["databases"].items():
            alias = "main" if db == self.database else db
            for name, table in tables.items():
                try:
                    conn.execute(table["create"].replace("CREATE TABLE ", f'CREATE TABLE "{alias}".', 1))
                    if table["rows"]:
                        marks = ",".join("?" * len(table["rows"][0]))
                        conn.executemany(f'INSERT INTO "{alias}"."{name}" VALUES ({marks})', table["rows"])
                except (sqlite3.DatabaseError, ValueError, TypeError):
                    continue  # not a table this server wrote: left out
        denied.clear()
        steps[0] = 0
        return conn, denied

    def _sysvar(self, name: str) -> Any:
        s = self.server.settings
        values = {"server_id": s.server_id, "hostname": s.hostname, "read_only": int(s.read_only),
                  "super_read_only": int(s.super_read_only), "version": s.version + ("-log" if s.log_bin else ""),
                  "log_bin": int(s.log_bin), "port": 3306, "datadir": self.server.datadir.rstrip("/") + "/",
                  "server_uuid": self.server.uuid, "autocommit": 1}
        if name.lower() not in values:
            self.unknown_variable = name  # SQLite only says "user-defined function raised exception"
            raise ValueError(name)
        return values[name.lower()]

    def _dump(self, conn: sqlite3.Connection) -> None:
        """Write the SQLite tables back into the state."""
        databases: dict = {}
        for db in self.state["databases"]:
            alias = "main" if db == self.database else db
            tables = {}
            for name, sql in conn.execute(f'SELECT name, sql FROM "{alias}".sqlite_master WHERE type = \'table\''):
                rows = conn.execute(f'SELECT * FROM "{alias}"."{name}"')
                tables[name] = {"create": sql, "rows": [list(r) for r in rows]}
            databases[db] = tables
        self.state["databases"] = databases

    # ----- one statement
    def run(self, text: str) -> dict:
        """Run one statement; the result ``{"columns", "rows"}`` or ``{"affected"}``; raises :class:`SqlError`."""
        s = self.server.settings
        # read_only refuses writes from users without SUPER; super_read_only from root too; replication writes pass
        if _WRITES.match(text) and not self.replication and (s.super_read_only or s.read_only and self.user != "root"):
            opt = "--super-read-only" if s.super_read_only else "--read-only"
            raise SqlError(1290, "HY000", f"The MySQL server is running with the {opt} option so it cannot "
                                          "execute this statement")
        m = _CREATE_DB.match(text)
        if m:
            name = m.group(2)
            if name in self.state["databases"] or name in SYSTEM_SCHEMAS:
                if m.group(1):
                    return {"affected": 0, "warnings": 1}
                raise SqlError(1007, "HY000", f"Can't create database '{name}'; database exists")
            self.state["databases"][name] = {}
            return {"affected": 1, "write": True}
        m = _DROP_DB.match(text)
        if m:
            name = m.group(2)
            if name not in self.state["databases"]:
                if m.group(1):
                    return {"affected": 0, "warnings": 1}
                raise SqlError(1008, "HY000", f"Can't drop database '{name}'; database doesn't exist")
            tables = len(self.state["databases"].pop(name))
            if self.database == name:
                self.database = None
            return {"affected": tables, "write": True}
        m = _USE.match(text)
        if m:
            if m.group(1) not in self.state["databases"] and m.group(1) not in SYSTEM_SCHEMAS:
                raise SqlError(1049, "42000", f"Unknown database '{m.group(1)}'")
            self.database = m.group(1)
            return {"affected": None, "use": self.database}
        if re.fullmatch(r"(?is)SHOW\s+(DATABASES|SCHEMAS)", text):
            return {"columns": ["Database"], "rows": [[d] for d in (*SYSTEM_SCHEMAS, *sorted(self.state["databases"]))]}
        m = _SHOW_TABLES.match(text)
        if m:
            db = m.group(1) or self.database
            if db is None:
                raise SqlError(1046, "3D000", "No database selected")
            if db not in self.state["databases"]:
                raise SqlError(1049, "42000", f"Unknown database '{db}'")
            return {"columns": [f"Tables_in_{db}"], "rows": [[t] for t in sorted(self.state["databases"][db])]}
        if re.fullmatch(r"(?is)SHOW\s+MASTER\s+STATUS", text):
            return self.server.master_status()
        if re.fullmatch(r"(?is)SHOW\s+SLAVE\s+STATUS", text):
            return self.server.slave_status(self.state)
        m = _CHANGE_MASTER.match(text)
        if m:
            return self._change_master(m.group(1))
        if re.fullmatch(r"(?is)START\s+SLAVE", text):
            if not self.state.get("master"):
                raise SqlError(1200, "HY000", "The server is not configured as slave; fix in config file or "
                                              "with CHANGE MASTER TO")
            self.state["master"]["running"] = True
            return {"affected": 0}
        if re.fullmatch(r"(?is)STOP\s+SLAVE", text):
            if self.state.get("master"):
                self.state["master"]["running"] = False
            return {"affected": 0}
        if re.match(r"(?is)^(SET|FLUSH|GRANT|CREATE\s+USER|COMMIT|BEGIN|START\s+TRANSACTION|ROLLBACK)\b", text):
            return {"affected": 0}
        return self._sqlite(text)

    def _change_master(self, options: str) -> dict:
        values: dict[str, str] = {}
        rest = options.strip()
        while rest:
            m = _OPTION.match(rest)
            if not m:
                raise _syntax(rest)
            raw = m.group(2)
            values[m.group(1).upper()] = raw[1:-1] if raw[0] in "'\"" else raw
            rest = rest[m.end():].strip()
        master = dict(self.state.get("master") or {})
        if master.get("running"):
            raise SqlError(3021, "HY000", "This operation cannot be performed with a running slave io thread; "
                                          "run STOP SLAVE IO_THREAD FOR CHANNEL '' first.")
        for key, field in (("MASTER_HOST", "host"), ("MASTER_USER", "user"), ("MASTER_PASSWORD", "password"),
                           ("MASTER_LOG_FILE", "file"), ("MASTER_LOG_POS", "pos"), ("MASTER_PORT", "port"),
                           ("MASTER_CONNECT_RETRY", "retry")):
            if key in values:
                master[field] = int(values[key]) if field in ("pos", "port", "retry") else values[key]
        master.setdefault("port", 3306)
        master.setdefault("pos", 4)
        master["running"] = False
        self.state["master"] = master
        return {"affected": 0}

    def _sqlite(self, text: str) -> dict:
        conn, denied = self._connect()
        names: dict[str, str] = {}

        def sysvar(m: re.Match) -> str:
            expr = f"SYSVAR('{m.group(1)}')"
            names[expr] = m.group(0)
            return expr

        translated = _SYSVAR.sub(sysvar, text)
        if self.database is not None:  # `USE test` made `test` the main schema: `test.t` is `main.t`
            translated = re.sub(rf"(?<![\w.`]){re.escape(self.database)}\s*\.", "main.", translated)
            translated = re.sub(rf"`{re.escape(self.database)}`\s*\.", "main.", translated)
        translated = re.sub(r"`([^`]*)`", r'"\1"', translated)
        try:
            cur = conn.execute(translated)
            rows = cur.fetchall()
        except sqlite3.DatabaseError as e:
            raise self._mysql_error(str(e), text, denied) from None
        try:
            if cur.description:
                columns = [d[0] for d in cur.description]
                for expr, original in names.items():
                    columns = [c.replace(expr, original) for c in columns]
                return {"columns": columns, "rows": [list(r) for r in rows]}
            affected = cur.rowcount if cur.rowcount >= 0 else 0
            self._dump(conn)
            return {"affected": affected, "write": True}
        finally:
            conn.close()

    def _mysql_error(self, message: str, text: str, denied: dict) -> SqlError:
        if denied.get("action") in (sqlite3.SQLITE_CREATE_VIEW, sqlite3.SQLITE_CREATE_TRIGGER,
                                    sqlite3.SQLITE_CREATE_TEMP_VIEW, sqlite3.SQLITE_CREATE_TEMP_TRIGGER):
            return SqlError(1105, "HY000", "views and triggers are not simulated by the stsnb sandbox's MySQL "
                                           "(its SQL is run by SQLite); use tables")
        if denied.get("action") is not None:
            return _syntax(text)
        if denied.get("no_db") or message.startswith("not authorized"):
            return SqlError(1046, "3D000", "No database selected")
        if message == "interrupted":
            return SqlError(3024, "HY000", "Query execution was interrupted, maximum statement execution time "
                                           "exceeded")
        if "too big" in message:
            return SqlError(1153, "08S01", "Got a packet bigger than 'max_allowed_packet' bytes")
        m = re.match(r"no such table: (?:(\w+)\.)?(\w+)", message)
        if m:
            db = m.group(1) if m.group(1) and m.group(1) != "main" else self.database
            if db is None:
                return SqlError(1046, "3D000", "No database selected")
            if db not in self.state["databases"] and db is not None and db not in SYSTEM_SCHEMAS:
                return SqlError(1049, "42000", f"Unknown database '{db}'")
            return SqlError(1146, "42S02", f"Table '{db}.{m.group(2)}' doesn't exist")
        m = re.match(r"unknown database (\w+)", message)
        if m:
            return SqlError(1049, "42000", f"Unknown database '{m.group(1)}'")
        m = re.match(r"table (?:\"?\w+\"?\.)?\"?(\w+)\"? already exists", message)
        if m:
            return SqlError(1050, "42S01", f"Table '{m.group(1)}' already exists")
        m = re.match(r"no such column: (\S+)", message)
        if m:
            return SqlError(1054, "42S22", f"Unknown column '{m.group(1)}' in 'field list'")
        if re.search(r"has \d+ columns but \d+ values were supplied|\d+ values for \d+ columns", message):
            return SqlError(1136, "21S01", "Column count doesn't match value count at row 1")
        if getattr(self, "unknown_variable", None):
            return SqlError(1193, "HY000", f"Unknown system variable '{self.unknown_variable}'")
        m = re.match(r'near "(.*?)": syntax error', message)
        if m:
            at = text.find(m.group(1))
            return _syntax(text[at:] if at >= 0 else m.group(1))
        if "incomplete input" in message:
            return _syntax("")
        m = re.match(r"no such function: (\w+)", message)
        if m:
            return SqlError(1305, "42000", f"FUNCTION {self.database or 'mysql'}.{m.group(1)} does not exist")
        return SqlError(1105, "HY000", f"{message} (stsnb sandbox: MySQL's SQL is run by SQLite here)")


class _Server:
    """One mysqld: its data directory, settings, binary log; replication applied when it is asked."""

    def __init__(self, fs: FileSystem, datadir: str, settings: Settings, log: Callable[[str], None],
                 now: Callable[[], float], connect: Callable[[str, int], Server | None] | None) -> None:
        self.fs, self.datadir, self.settings, self.log, self.now, self.connect = \
            fs, datadir.rstrip("/"), settings, log, now, connect
        self.lock = threading.RLock()
        self.uuid = ""
        try:
            for line in fs.read(f"{self.datadir}/auto.cnf").decode().splitlines():
                if line.startswith("server-uuid="):
                    self.uuid = line.partition("=")[2]
        except FsError:
            pass
        state = load_state(fs, self.datadir)
        if settings.log_bin:  # each start opens a new binary log file
            state["binlog"]["index"] = int(state["binlog"].get("index", 0)) + 1
            state["binlog"]["file"] = f"{settings.log_bin_base}.{state['binlog']['index']:06d}"
            state["binlog"]["pos"] = BINLOG_START
        if state.get("master"):
            state["master"]["error"] = ""
        try:
            save_state(fs, self.datadir, state)
        except FsError:
            pass

    def state(self) -> dict:
        return load_state(self.fs, self.datadir)

    def save(self, state: dict) -> None:
        save_state(self.fs, self.datadir, state)

    # ----- binary log
    def _log_event(self, state: dict, sql: str, database: str | None) -> None:
        if not self.settings.log_bin:
            return
        binlog = state["binlog"]
        binlog["pos"] = int(binlog.get("pos", BINLOG_START)) + 65 + len(sql.encode())
        binlog["events"].append({"file": binlog["file"], "pos": binlog["pos"], "sql": sql, "db": database})

    def master_status(self) -> dict:
        if not self.settings.log_bin:
            return {"columns": ["File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB", "Executed_Gtid_Set"],
                    "rows": []}
        b = self.state()["binlog"]
        return {"columns": ["File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB", "Executed_Gtid_Set"],
                "rows": [[b.get("file", ""), b.get("pos", BINLOG_START), "", "", ""]]}

    def slave_status(self, state: dict) -> dict:
        m = state.get("master")
        if not m:
            return {"columns": [], "rows": []}
        running = "Yes" if m.get("running") else "No"
        io_running = running if not m.get("error") else "Connecting"
        columns = ["Slave_IO_State", "Master_Host", "Master_User", "Master_Port", "Connect_Retry", "Master_Log_File",
                   "Read_Master_Log_Pos", "Slave_IO_Running", "Slave_SQL_Running", "Exec_Master_Log_Pos",
                   "Last_IO_Error", "Seconds_Behind_Master"]
        state_text = "Waiting for master to send event" if io_running == "Yes" else \
            ("Connecting to master" if running == "Yes" else "")
        return {"columns": columns, "rows": [[state_text, m.get("host", ""), m.get("user", ""), m.get("port", 3306),
                                              m.get("retry", 60), m.get("file", ""), m.get("pos", 4), io_running,
                                              running, m.get("pos", 4), m.get("error", ""),
                                              0 if running == "Yes" and io_running == "Yes" else None]]}

    def events_after(self, file: str, pos: int) -> list[dict]:
        def key(f: str, p: int) -> tuple[int, int]:
            suffix = f.rsplit(".", 1)[-1]
            return (int(suffix) if suffix.isdigit() else 0, p)
        start = key(file, pos)
        return [e for e in self.state()["binlog"]["events"] if key(e["file"], e["pos"]) > start]

    # ----- replication
    def catch_up(self, state: dict) -> None:
        """A running replica applies its source's events after its position (the source asked by name)."""
        m = state.get("master")
        if not m or not m.get("running") or self.connect is None:
            return
        server = self.connect(m.get("host", ""), int(m.get("port", 3306)))
        if server is None:
            m["error"] = f"error connecting to master '{m.get('user', 'root')}@{m.get('host', '')}:" \
                         f"{m.get('port', 3306)}' - retry-time: {m.get('retry', 60)}  retries: 1"
            return
        try:
            answer = server(HttpRequest("POST", "/binlog", body=json.dumps(
                {"file": m.get("file", ""), "pos": m.get("pos", 4)}).encode()))
            events = json.loads(answer.body).get("events", []) if answer.status == 200 else []
        except (Refused, ValueError, AttributeError):
            m["error"] = f"error reconnecting to master '{m.get('user', 'root')}@{m.get('host', '')}:" \
                         f"{m.get('port', 3306)}' - retry-time: {m.get('retry', 60)}  retries: 1"
            return
        m["error"] = ""
        for event in events if isinstance(events, list) else []:
            if not isinstance(event, dict) or not isinstance(event.get("sql"), str):
                continue
            req = _Request(self, state, event.get("db") if isinstance(event.get("db"), str) else None, "system user",
                           "", replication=True)
            try:
                req.run(event["sql"])
            except SqlError:
                pass
            m["file"], m["pos"] = str(event.get("file", m.get("file"))), int(event.get("pos", m.get("pos", 4)))

    # ----- requests
    def query(self, body: dict) -> dict:
        with self.lock:
            state = self.state()
            user, password = str(body.get("user") or "root"), body.get("password")
            client = str(body.get("client") or "localhost")
            users = state.get("users") or {}
            if user not in users or (users[user] or "") != (password or ""):
                return {"error": SqlError(1045, "28000", f"Access denied for user '{user}'@'{client}' "
                                                         f"(using password: {'YES' if password else 'NO'})").as_dict()}
            self.catch_up(state)
            database = body.get("database") or None
            if database is not None and database not in state["databases"] and database not in SYSTEM_SCHEMAS:
                self.save(state)
                return {"error": SqlError(1049, "42000", f"Unknown database '{database}'").as_dict()}
            req = _Request(self, state, database, user, client)
            results: list[dict] = []
            error = None
            for text, vertical in split_statements(str(body.get("sql") or "")):
                try:
                    result = req.run(text)
                except SqlError as e:
                    error = e.as_dict()
                    error["index"] = len(results)
                    break
                if result.pop("write", False):
                    self._log_event(state, text, req.database)
                result["vertical"] = vertical
                results.append(result)
            self.save(state)
            return {"results": results, "error": error, "database": req.database}

    def backup(self) -> dict:
        """What ``xtrabackup --backup`` copies: tables and users, the binlog position, a replica's source position."""
        with self.lock:
            state = self.state()
            self.catch_up(state)
            self.save(state)
            copy = {"databases": state["databases"], "users": state["users"], "binlog": {"index": 0, "events": []},
                    "master": None}
            binlog_info = f"{state['binlog']['file']}\t{state['binlog']['pos']}" if self.settings.log_bin else ""
            m = state.get("master")
            slave_info = (f"CHANGE MASTER TO MASTER_LOG_FILE='{m.get('file', '')}', MASTER_LOG_POS={m.get('pos', 4)};"
                          if m else "")
            return {"state": copy, "binlog_info": binlog_info, "slave_info": slave_info}


def mysql_server(fs: FileSystem, datadir: str, settings: Settings, log: Callable[[str], None],
                 now: Callable[[], float], connect: Callable[[str, int], Server | None] | None = None) -> Server:
    """The server of one mysqld (see the module docstring); ``connect(host, port)`` reaches a source by name."""
    server = _Server(fs, datadir, settings, log, now, connect)

    def reply(status: int, obj: object) -> HttpResponse:
        body = json.dumps(obj).encode()
        return HttpResponse(status, "OK" if status == 200 else "Bad Request",
                            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body)

    def serve(req: HttpRequest) -> HttpResponse:
        if req.target == "/ping":
            return reply(200, {"alive": True})
        try:
            body = json.loads(req.body or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return reply(400, {"error": "not a request"})
        try:
            if req.target == "/query" and req.method == "POST":
                return reply(200, server.query(body))
            if req.target == "/binlog" and req.method == "POST":
                pos = body.get("pos")
                return reply(200, {"events": server.events_after(str(body.get("file", "")),
                                                                 pos if isinstance(pos, int) else 0)})
            if req.target == "/backup" and req.method == "POST":
                return reply(200, server.backup())
        except FsError as e:
            return reply(200, {"error": SqlError(1030, "HY000", f"Got error {e.errno or 28} from storage engine")
                               .as_dict(), "results": []})
        return reply(400, {"error": "unknown request"})

    return serve


def ask(server: Server, path: str, body: dict) -> dict | None:
    """A client's request to a server; None when it does not answer as a MySQL server."""
    try:
        answer = server(HttpRequest("POST", path, body=json.dumps(body).encode()))
        data = json.loads(answer.body)
    except (Refused, ValueError):
        return None
    return data if isinstance(data, dict) else None
