"""The sandbox's MySQL server answers as MySQL 5.7 does: its SQL, its errors, its binary log and replication."""

from __future__ import annotations

import json

import pytest

from stsnb.sandbox.node.containers import FileSystem, image_root
from stsnb.sandbox.node.mysql import (STATE_FILE, Settings, initialize, initialized, mysql_server, read_config,
                                      split_statements)
from stsnb.sandbox.node.network import HttpRequest
from stsnb.sandbox.node.programs.mysql import format_batch, format_table, format_vertical

NOW = 1733340245.0  # 2024-12-04 19:24:05 UTC


def _server(options: dict | None = None, hostname: str = "mysql-0", password: str = "", connect=None):
    fs = FileSystem(image_root("debian", nginx=False))
    initialize(fs, "/var/lib/mysql", password)
    return fs, mysql_server(fs, "/var/lib/mysql", Settings(options or {}, hostname), lambda text: None,
                            lambda: NOW, connect)


def _query(server, sql: str, **kw) -> dict:
    body = {"sql": sql, "user": "root", "password": "", "client": "10.244.1.9", **kw}
    return json.loads(server(HttpRequest("POST", "/query", body=json.dumps(body).encode())).body)


def _rows(answer: dict) -> list:
    assert answer["error"] is None, answer["error"]
    return [r["rows"] for r in answer["results"] if "rows" in r]


def test_statements_split_at_semicolons_and_backslash_g_outside_quotes_and_comments():
    sql = "CREATE DATABASE test;\n-- a comment; still a comment\nINSERT INTO t VALUES ('a;b'); # end\nSELECT 1\\G"
    assert split_statements(sql) == [("CREATE DATABASE test", False), ("INSERT INTO t VALUES ('a;b')", False),
                                     ("SELECT 1", True)]


def test_the_tutorials_write_and_read_give_back_hello():
    _, server = _server()
    answer = _query(server, "CREATE DATABASE test;\nCREATE TABLE test.messages (message VARCHAR(250));\n"
                            "INSERT INTO test.messages VALUES ('hello');")
    assert answer["error"] is None and [r["affected"] for r in answer["results"]] == [1, 0, 1]
    answer = _query(server, "SELECT * FROM test.messages")
    assert answer["results"][0]["columns"] == ["message"] and _rows(answer) == [[["hello"]]]


def test_server_variables_and_now_keep_their_column_names_and_take_the_servers_values():
    _, server = _server({"server_id": "102"}, hostname="mysql-2")
    answer = _query(server, "SELECT @@server_id,NOW()")
    assert answer["results"][0]["columns"] == ["@@server_id", "NOW()"]
    assert _rows(answer) == [[[102, "2024-12-04 19:24:05"]]]
    assert _rows(_query(server, "SELECT @@hostname, VERSION(), DATABASE()")) == [[["mysql-2", "5.7.44", None]]]


def test_errors_carry_mysqls_codes_states_and_texts():
    _, server = _server()
    cases = {
        "SELECT * FROM test.messages": (1049, "42000", "Unknown database 'test'"),
        "SELECT * FROM messages": (1046, "3D000", "No database selected"),
        "CREATE TABLE messages (m INT)": (1046, "3D000", "No database selected"),
        "SELEC 1": (1064, "42000", "You have an error in your SQL syntax; check the manual that corresponds to your "
                                   "MySQL server version for the right syntax to use near 'SELEC 1' at line 1"),
        "SELECT @@nope": (1193, "HY000", "Unknown system variable 'nope'"),
    }
    for sql, (code, state, message) in cases.items():
        error = _query(server, sql)["error"]
        assert (error["code"], error["state"], error["message"]) == (code, state, message), sql
    _query(server, "CREATE DATABASE test; CREATE TABLE test.messages (message VARCHAR(250))")
    for sql, (code, state, message) in {
        "SELECT * FROM test.nope": (1146, "42S02", "Table 'test.nope' doesn't exist"),
        "CREATE DATABASE test": (1007, "HY000", "Can't create database 'test'; database exists"),
        "CREATE TABLE test.messages (m INT)": (1050, "42S01", "Table 'messages' already exists"),
        "INSERT INTO test.messages VALUES ('a', 'b')":
            (1136, "21S01", "Column count doesn't match value count at row 1"),
        "SELECT nope FROM test.messages": (1054, "42S22", "Unknown column 'nope' in 'field list'"),
    }.items():
        error = _query(server, sql)["error"]
        assert (error["code"], error["state"], error["message"]) == (code, state, message), sql


def test_a_batch_stops_at_its_first_error_and_says_which_statement_failed():
    _, server = _server()
    answer = _query(server, "CREATE DATABASE a; SELECT * FROM a.t; CREATE DATABASE b")
    assert answer["error"]["code"] == 1146 and answer["error"]["index"] == 1
    assert _rows(_query(server, "SHOW DATABASES")) == [[["information_schema"], ["mysql"], ["performance_schema"],
                                                         ["sys"], ["a"]]]


def test_use_makes_a_database_current_for_unqualified_and_qualified_names():
    _, server = _server()
    _query(server, "CREATE DATABASE test")
    answer = _query(server, "USE test; CREATE TABLE t (n INT); INSERT INTO t VALUES (1), (2); "
                            "SELECT COUNT(*) FROM test.t; SHOW TABLES")
    assert _rows(answer) == [[[2]], [["t"]]] and answer["database"] == "test"
    assert answer["results"][-1]["columns"] == ["Tables_in_test"]


def test_tables_live_in_the_data_directory_and_survive_a_new_server_on_it():
    fs, server = _server()
    _query(server, "CREATE DATABASE test; CREATE TABLE test.m (v TEXT); INSERT INTO test.m VALUES ('kept')")
    again = mysql_server(fs, "/var/lib/mysql", Settings({}, "mysql-0"), lambda text: None, lambda: NOW)
    assert _rows(_query(again, "SELECT v FROM test.m")) == [[["kept"]]]
    assert initialized(fs, "/var/lib/mysql") and fs.exists(f"/var/lib/mysql/{STATE_FILE}")


def test_a_state_file_the_server_did_not_write_is_read_as_empty():
    fs, server = _server()
    fs.write(f"/var/lib/mysql/{STATE_FILE}", b'{"databases": {"x": {"t": {"create": 1}}}}')
    assert _rows(_query(server, "SHOW DATABASES")) == [[["information_schema"], ["mysql"], ["performance_schema"],
                                                         ["sys"]]]


def test_a_root_password_is_required_and_access_denied_names_the_client():
    _, server = _server(password="password")
    error = _query(server, "SELECT 1")["error"]
    assert error == {"code": 1045, "state": "28000",
                     "message": "Access denied for user 'root'@'10.244.1.9' (using password: NO)"}
    assert _rows(_query(server, "SELECT 1", password="password")) == [[[1]]]


def test_super_read_only_refuses_client_writes_with_error_1290():
    _, server = _server({"super_read_only": ""}, hostname="mysql-1")
    error = _query(server, "CREATE DATABASE test")["error"]
    assert (error["code"], error["message"]) == (1290, "The MySQL server is running with the --super-read-only "
                                                       "option so it cannot execute this statement")


def test_the_config_files_in_conf_d_give_server_id_log_bin_and_super_read_only():
    fs = FileSystem(image_root("debian", nginx=False))
    fs.makedirs("/etc/mysql/conf.d")
    fs.write("/etc/mysql/conf.d/server-id.cnf", b"[mysqld]\nserver-id=101\n")
    fs.write("/etc/mysql/conf.d/replica.cnf", b"# Apply this config only on replicas.\n[mysqld]\nsuper-read-only\n"
                                              b"# datadir=/var/lib/mysql/mysql\n")
    settings = Settings(read_config(fs), "mysql-1")
    assert (settings.server_id, settings.log_bin, settings.super_read_only) == (101, False, True)
    assert Settings({"log_bin": ""}, "mysql-0").log_bin_base == "mysql-0-bin"


def _pair():
    """A primary with log-bin and a replica whose source is reached by name (its file system too)."""
    _, primary = _server({"server_id": "100", "log_bin": ""}, hostname="mysql-0")
    reachable = {"mysql-0.mysql": primary}
    fs, replica = _server({"server_id": "101", "super_read_only": ""}, hostname="mysql-1",
                          connect=lambda host, port: reachable.get(host))
    return primary, replica, reachable, fs


def test_the_primarys_binary_log_starts_at_154_and_each_write_moves_it_on():
    primary, *_ = _pair()
    status = _query(primary, "SHOW MASTER STATUS")["results"][0]
    assert status["rows"][0][:2] == ["mysql-0-bin.000001", 154]
    _query(primary, "CREATE DATABASE test")
    assert _query(primary, "SHOW MASTER STATUS")["results"][0]["rows"][0][1] > 154


def test_a_replica_cloned_at_a_position_applies_only_the_sources_later_events():
    primary, replica, reachable, fs = _pair()
    _query(primary, "CREATE DATABASE test; CREATE TABLE test.messages (message VARCHAR(250))")
    backup = json.loads(primary(HttpRequest("POST", "/backup", body=b"{}")).body)
    fs.write(f"/var/lib/mysql/{STATE_FILE}", json.dumps(backup["state"]).encode())  # what xbstream unpacks
    _query(primary, "INSERT INTO test.messages VALUES ('hello')")
    file, pos = backup["binlog_info"].split("\t")
    answer = _query(replica, f"CHANGE MASTER TO MASTER_LOG_FILE='{file}',                   MASTER_LOG_POS={pos}, "
                             "MASTER_HOST='mysql-0.mysql', MASTER_USER='root', MASTER_PASSWORD='', "
                             "MASTER_CONNECT_RETRY=10; START SLAVE;")
    assert answer["error"] is None
    # the CREATEs before the position are not replayed (they would fail); the INSERT after it is applied
    assert _rows(_query(replica, "SELECT * FROM test.messages")) == [[["hello"]]]
    status = _query(replica, "SHOW SLAVE STATUS")["results"][0]
    row = dict(zip(status["columns"], status["rows"][0]))
    assert (row["Slave_IO_Running"], row["Slave_SQL_Running"], row["Master_Host"]) == ("Yes", "Yes", "mysql-0.mysql")
    assert row["Master_Log_File"] == "mysql-0-bin.000001" and row["Exec_Master_Log_Pos"] > int(pos)
    reachable.clear()  # the source is gone: the replica keeps what it has and says it cannot reach it
    assert _rows(_query(replica, "SELECT * FROM test.messages")) == [[["hello"]]]
    status = _query(replica, "SHOW SLAVE STATUS")["results"][0]
    row = dict(zip(status["columns"], status["rows"][0]))
    assert row["Slave_IO_Running"] == "Connecting" and "error connecting to master 'root@mysql-0.mysql:3306'" \
        in row["Last_IO_Error"]


def test_a_backup_carries_the_tables_and_the_positions_a_clone_starts_replication_from():
    primary, replica, _, _ = _pair()
    _query(primary, "CREATE DATABASE test; CREATE TABLE test.messages (message VARCHAR(250)); "
                    "INSERT INTO test.messages VALUES ('hello')")
    backup = json.loads(primary(HttpRequest("POST", "/backup", body=b"{}")).body)
    file, pos = backup["binlog_info"].split("\t")
    assert file == "mysql-0-bin.000001" and int(pos) > 154 and backup["slave_info"] == ""
    assert backup["state"]["databases"]["test"]["messages"]["rows"] == [["hello"]]
    assert backup["state"]["binlog"]["events"] == []  # binary logs are not part of a backup
    _query(replica, f"CHANGE MASTER TO MASTER_LOG_FILE='{file}', MASTER_LOG_POS={pos}, MASTER_HOST='mysql-0.mysql'; "
                    "START SLAVE")
    _query(primary, "INSERT INTO test.messages VALUES ('again')")
    from_replica = json.loads(replica(HttpRequest("POST", "/backup", body=b"{}")).body)
    assert from_replica["binlog_info"] == ""
    assert from_replica["slave_info"].startswith("CHANGE MASTER TO MASTER_LOG_FILE='mysql-0-bin.000001', "
                                                 "MASTER_LOG_POS=") and from_replica["slave_info"].endswith(";")


def test_hostile_requests_get_a_bad_request_and_the_server_keeps_serving():
    _, server = _server()
    for body in (b"not json", b"[1]", b'{"sql": 5}'):
        answer = server(HttpRequest("POST", "/query", body=body))
        assert answer.status in (200, 400)
    answer = server(HttpRequest("POST", "/binlog", body=b'{"file": 1, "pos": "x"}'))
    assert answer.status == 200 and json.loads(answer.body) == {"events": []}
    assert _rows(_query(server, "SELECT 1")) == [[[1]]]


def test_result_sets_print_as_the_mysql_client_prints_them():
    assert format_table(["message"], [["hello"]]) == (
        "+---------+\n| message |\n+---------+\n| hello   |\n+---------+\n")
    assert format_table(["@@server_id", "NOW()"], [[100, "2006-01-02 15:04:05"]]) == (
        "+-------------+---------------------+\n"
        "| @@server_id | NOW()               |\n"
        "+-------------+---------------------+\n"
        "|         100 | 2006-01-02 15:04:05 |\n"
        "+-------------+---------------------+\n")
    assert format_batch(["message", "n"], [["a\tb", None]]) == "message\tn\na\\tb\tNULL\n"
    assert format_vertical(["message", "n"], [["hello", 1]]) == (
        "*************************** 1. row ***************************\nmessage: hello\n      n: 1\n")


@pytest.mark.parametrize("script, text, out", [
    ("s/;$//g", "CHANGE MASTER TO MASTER_LOG_FILE='f', MASTER_LOG_POS=9;\n",
     "CHANGE MASTER TO MASTER_LOG_FILE='f', MASTER_LOG_POS=9\n"),
    ("s/([a-z]+)-([0-9]+)/\\2 \\1/", "mysql-12\n", "12 mysql\n"),
    ("s/o/0/2", "foo boo\n", "fo0 boo\n"),
    ("/^#/d", "# comment\nkept\n", "kept\n"),
])
def test_sed_e_substitutes_and_deletes_as_gnu_sed(script, text, out):
    from stsnb.sandbox.node.programs import ProgramContext
    from stsnb.sandbox.node.programs.base import IO, Input
    from stsnb.sandbox.node.programs.container import Container
    from stsnb.sandbox.node.programs.files import p_sed
    ctx = ProgramContext(pod={"metadata": {"name": "p", "namespace": "default"}, "spec": {}, "status": {}},
                         container={"name": "c", "image": "debian"}, resolve=lambda q: q, nameserver="10.96.0.10",
                         search=[])
    c = Container(ctx, None)
    written: list[str] = []
    assert p_sed(c, ["sed", "-E", script], IO(written.append, written.append, Input(text))) == 0
    assert "".join(written) == out


def test_sql_cannot_reach_the_hosts_files_or_settings(tmp_path):
    _, server = _server()
    target = tmp_path / "escaped.db"
    for sql in (f"ATTACH DATABASE '{target}' AS x", f"VACUUM INTO '{target}'", "PRAGMA journal_mode"):
        error = _query(server, sql)["error"]
        assert error["code"] == 1064, sql
    assert not target.exists()


def test_a_runaway_statement_is_stopped_and_the_server_keeps_serving():
    _, server = _server()
    error = _query(server, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c")["error"]
    assert (error["code"], error["message"]) == (3024, "Query execution was interrupted, maximum statement execution "
                                                       "time exceeded")
    error = _query(server, "SELECT length(zeroblob(100000000))")["error"]
    assert error["code"] == 1153
    _query(server, "CREATE DATABASE d")
    error = _query(server, "CREATE VIEW d.v AS SELECT 1")["error"]
    assert error["code"] == 1105 and "views and triggers are not simulated" in error["message"]
    assert _rows(_query(server, "SELECT 1")) == [[[1]]]


def test_a_state_file_edited_in_the_pod_cannot_make_the_server_attach_host_files(tmp_path):
    fs, server = _server()
    target = tmp_path / "escaped.db"
    evil = {"databases": {"d": {"t": {"create": f"CREATE TABLE t (x); ATTACH DATABASE '{target}' AS y",
                                      "rows": []},
                                "u": {"create": "CREATE TABLE u AS SELECT 1", "rows": [["a", "b"]]}}},
            "users": {"root": ""}, "binlog": {"index": 0, "events": []}, "master": None}
    fs.write(f"/var/lib/mysql/{STATE_FILE}", json.dumps(evil).encode())
    answer = _query(server, "SHOW TABLES FROM d")
    assert answer["error"] is None and not target.exists()
