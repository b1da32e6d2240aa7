"""kubernetes.io's MySQL tasks, with kubectl, on a served sandbox.

*Run a Single-Instance Stateful Application*: a PersistentVolume of StorageClass ``manual``, its
claim, a ``Recreate`` Deployment of ``mysql:5.6`` with ``MYSQL_ROOT_PASSWORD`` and a headless
Service; then ``kubectl run -it --rm … mysql -h mysql -ppassword`` opens the MySQL monitor, and the
data outlives the pod.

*Run a Replicated Stateful Application*: the page's ConfigMap, Services and StatefulSet (``mysql:5.7``
with an ``xtrabackup`` sidecar, cloned by ``ncat | xbstream`` and replicating from ``mysql-0.mysql``),
then its client traffic, its downtime drills and its scaling, section by section.
"""

from __future__ import annotations

import re
from pathlib import Path

import pexpect

TUTORIAL = Path(__file__).parent / "tutorial"


def _spawn(k, *args: str) -> pexpect.spawn:
    return pexpect.spawn(k.binary, ["--cache-dir", str(k.cache_dir), *args], env=k.env, cwd=str(k.workdir),
                         timeout=30, encoding="utf-8")


def _logs_say(kubectl, target: str, text: str, *extra: str) -> None:
    kubectl.wait(f"{target}'s log to say {text!r}",
                 lambda: text in kubectl("logs", target, *extra, check=False).out, timeout=60)


def test_the_single_instance_page_runs_mysql_on_its_claim_and_the_monitor_answers(kubectl):
    assert kubectl("apply", "-f", str(TUTORIAL / "mysql-pv.yaml")).out == (
        "persistentvolume/mysql-pv-volume created\npersistentvolumeclaim/mysql-pv-claim created\n")
    assert kubectl("apply", "-f", str(TUTORIAL / "mysql-deployment.yaml")).out == (
        "service/mysql created\ndeployment.apps/mysql created\n")
    kubectl.settled("mysql", 1, plural="deployments")
    described = kubectl("describe", "deployment", "mysql").out
    assert re.search(r"StrategyType:\s+Recreate", described) and re.search(r"Image:\s+mysql:5.6", described)
    claim = kubectl("describe", "pvc", "mysql-pv-claim").out
    assert re.search(r"Status:\s+Bound", claim) and re.search(r"Volume:\s+mysql-pv-volume", claim)
    assert re.search(r"StorageClass:\s+manual", claim)
    _logs_say(kubectl, "deploy/mysql", "mysqld: ready for connections.")
    log = kubectl("logs", "deploy/mysql").out
    assert "[Note] [Entrypoint]: Initializing database files" in log
    assert "Version: '5.6.51'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306  MySQL Community Server (GPL)" in log
    # the entrypoint switched to the image's mysql user: the data directory's files are mysql's
    listing = kubectl("exec", "deploy/mysql", "--", "ls", "-l", "/var/lib/mysql").out
    assert re.search(r"^d\S+\s+\d+\s+mysql\s+mysql\s.*\smysql$", listing, re.M), listing

    child = _spawn(kubectl, "run", "-it", "--rm", "--image=mysql:5.6", "--restart=Never", "mysql-client", "--",
                   "mysql", "-h", "mysql", "-ppassword")
    try:
        child.expect("If you don't see a command prompt, try pressing enter.")
        child.sendline("")
        child.expect_exact("mysql> ")
        child.sendline("CREATE DATABASE test;")
        child.expect_exact("Query OK, 1 row affected")
        child.sendline("CREATE TABLE test.messages (message VARCHAR(250));")
        child.expect_exact("Query OK, 0 rows affected")
        child.sendline("INSERT INTO test.messages VALUES ('hello');")
        child.expect_exact("Query OK, 1 row affected")
        child.sendline("SELECT * FROM test.messages;")
        child.expect_exact("+---------+\r\n| message |\r\n+---------+\r\n| hello   |\r\n+---------+\r\n"
                           "1 row in set")
        child.sendline("SELECT * FROM test.nope;")
        child.expect_exact("ERROR 1146 (42S02): Table 'test.nope' doesn't exist")
        child.sendline("exit")
        child.expect_exact("Bye")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert 'pod "mysql-client" deleted' in child.before
    kubectl.wait("the client pod to be gone", lambda: kubectl.obj("pods", "mysql-client") is None)

    # the data is on the claim: a new pod of the Deployment (Recreate) serves it again, without initializing
    kubectl("delete", "pod", "-l", "app=mysql")
    kubectl.settled("mysql", 1, plural="deployments")
    _logs_say(kubectl, "deploy/mysql", "mysqld: ready for connections.")
    assert "Initializing database files" not in kubectl("logs", "deploy/mysql").out
    read = kubectl("run", "-i", "--rm", "--image=mysql:5.6", "--restart=Never", "mysql-read", "--",
                   "mysql", "-h", "mysql", "-ppassword", "-e", "SELECT * FROM test.messages", timeout=60)
    assert "\nmessage\nhello\n" in read.out
    assert "mysql: [Warning] Using a password on the command line interface can be insecure." in read.out + read.err

    kubectl("delete", "deployment,svc", "mysql")
    kubectl("delete", "pvc", "mysql-pv-claim")
    kubectl("delete", "pv", "mysql-pv-volume")
    kubectl.wait("everything to go", lambda: not kubectl.objs("pods") and not kubectl.objs("persistentvolumes"))


def test_without_a_root_password_option_the_entrypoint_refuses_to_initialize(kubectl):
    kubectl("run", "nopass", "--image=mysql:5.7", "--restart=Never")
    kubectl.wait("nopass to fail", lambda: kubectl.pod_phase("nopass") == "Failed")
    log = kubectl("logs", "nopass").out
    assert "[ERROR] [Entrypoint]: Database is uninitialized and password option is not specified" in log
    assert "    - MYSQL_ROOT_PASSWORD\n    - MYSQL_ALLOW_EMPTY_PASSWORD\n    - MYSQL_RANDOM_ROOT_PASSWORD\n" in log


# ------------------------------------------------------------------ Run a Replicated Stateful Application

def _replicated(kubectl) -> None:
    assert kubectl("apply", "-f", str(TUTORIAL / "mysql-configmap.yaml")).out == "configmap/mysql created\n"
    assert kubectl("apply", "-f", str(TUTORIAL / "mysql-services.yaml")).out == (
        "service/mysql created\nservice/mysql-read created\n")
    assert kubectl("apply", "-f", str(TUTORIAL / "mysql-statefulset.yaml")).out == "statefulset.apps/mysql created\n"
    kubectl.settled("mysql", 3)


def _pods(kubectl) -> list[tuple[str, str, str]]:
    lines = kubectl("get", "pods", "-l", "app=mysql", "--no-headers").out.splitlines()
    return [tuple(line.split()[:3]) for line in lines]


def _client(kubectl, name: str, *mysql_args: str, stdin: str | None = None) -> str:
    """``kubectl run NAME --image=mysql:5.7 -i --rm --restart=Never -- mysql …``: what it printed."""
    return kubectl("run", name, "--image=mysql:5.7", "-i", "--rm", "--restart=Never", "--", "mysql", *mysql_args,
                   stdin=stdin, timeout=60).out


def _server_ids(kubectl, calls: int = 12) -> set[int]:
    """``SELECT @@server_id`` through ``mysql-read``, ``calls`` times in one pod: the ids that answered."""
    turns = " ".join(map(str, range(calls)))
    out = kubectl("run", "ids", "--image=mysql:5.7", "-i", "--rm", "--restart=Never", "--", "bash", "-c",
                  f"for i in {turns}; do mysql -h mysql-read -N -e 'SELECT @@server_id'; done", timeout=60).out
    return {int(line) for line in out.splitlines() if line.strip().isdigit()}


def test_the_replicated_set_initializes_each_pod_from_its_ordinal_and_clones_the_replicas(kubectl):
    _replicated(kubectl)
    assert _pods(kubectl) == [("mysql-0", "2/2", "Running"), ("mysql-1", "2/2", "Running"),
                              ("mysql-2", "2/2", "Running")]
    for ordinal in range(3):
        conf = kubectl("exec", f"mysql-{ordinal}", "-c", "mysql", "--", "cat", "/etc/mysql/conf.d/server-id.cnf").out
        assert conf == f"[mysqld]\nserver-id={100 + ordinal}\n"
        listed = kubectl("exec", f"mysql-{ordinal}", "-c", "mysql", "--", "ls", "/etc/mysql/conf.d").out.split()
        assert listed == (["primary.cnf", "server-id.cnf"] if ordinal == 0 else ["replica.cnf", "server-id.cnf"])
    # set -x traces the init script as bash does
    trace = kubectl("logs", "mysql-1", "-c", "init-mysql").out
    assert "+ ordinal=1\n+ echo '[mysqld]'\n+ echo server-id=101\n" in trace
    assert "+ cp /mnt/config-map/replica.cnf /mnt/conf.d/\n" in trace
    # mysql-0 skips the clone; mysql-1 clones from mysql-0 and mysql-2 from mysql-1 (which passes its source on)
    assert kubectl("logs", "mysql-0", "-c", "clone-mysql").out.rstrip().endswith("+ exit 0")
    clone = kubectl("logs", "mysql-2", "-c", "clone-mysql").out
    assert "+ ncat --recv-only mysql-1.mysql 3307\n" in clone and "completed OK!" in clone
    sidecar = kubectl("logs", "mysql-2", "-c", "xtrabackup").out
    assert "Initializing replication from clone position" in sidecar
    assert "+ mv change_master_to.sql.in change_master_to.sql.orig" in sidecar
    status = kubectl("exec", "mysql-2", "-c", "mysql", "--", "mysql", "-h", "127.0.0.1", "-e",
                     "SHOW SLAVE STATUS\\G").out
    assert "Master_Host: mysql-0.mysql" in status and "Slave_IO_Running: Yes" in status
    assert "Slave_SQL_Running: Yes" in status
    # the primary's binary log is mysql-0-bin (log-bin without a name), replicas refuse writes
    refused = kubectl("exec", "mysql-1", "-c", "mysql", "--", "mysql", "-h", "127.0.0.1", "-e",
                      "CREATE DATABASE nope", check=False)
    assert refused.code == 1 and refused.err.startswith(
        "ERROR 1290 (HY000) at line 1: The MySQL server is running with the --super-read-only option so it "
        "cannot execute this statement\n")


def test_client_traffic_writes_on_the_primary_and_reads_from_every_ready_server(kubectl):
    _replicated(kubectl)
    written = _client(kubectl, "mysql-client", "-h", "mysql-0.mysql", stdin=(
        "CREATE DATABASE test;\nCREATE TABLE test.messages (message VARCHAR(250));\n"
        "INSERT INTO test.messages VALUES ('hello');\n"))
    assert written.startswith('pod "mysql-client" deleted') or "ERROR" not in written
    child = _spawn(kubectl, "run", "mysql-client", "--image=mysql:5.7", "-i", "-t", "--rm", "--restart=Never", "--",
                   "mysql", "-h", "mysql-read", "-e", "SELECT * FROM test.messages")
    try:
        child.expect(pexpect.EOF)
    finally:
        child.close()
    # the client ended before kubectl attached: kubectl prints the log, whose lines a terminal wrote with \r\n
    assert "+---------+\n| message |\n+---------+\n| hello   |\n+---------+\n" in child.before.replace("\r", "")
    assert 'pod "mysql-client" deleted' in child.before
    kubectl.wait("the client pod to be gone", lambda: kubectl.obj("pods", "mysql-client") is None)
    # every replica has the row, from replication
    for ordinal in (1, 2):
        assert _client(kubectl, f"read-{ordinal}", "-h", f"mysql-{ordinal}.mysql", "-N", "-e",
                       "SELECT * FROM test.messages").splitlines()[0] == "hello"
    # the loop of the page: the server ids change as mysql-read picks an endpoint per connection
    loop = _spawn(kubectl, "run", "mysql-client-loop", "--image=mysql:5.7", "-i", "-t", "--rm", "--restart=Never",
                  "--", "bash", "-ic", "while sleep 1; do mysql -h mysql-read -e 'SELECT @@server_id,NOW()'; done")
    try:
        loop.expect_exact("+-------------+---------------------+\r\n| @@server_id | NOW()               |\r\n")
        seen = set()
        for _ in range(12):
            loop.expect(r"\|\s+(10[0-2]) \| \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \|")
            seen.add(int(loop.match.group(1)))
        assert seen == {100, 101, 102}
    finally:
        kubectl("delete", "pod", "mysql-client-loop", "--now")
        loop.close()
    kubectl.wait("the loop pod to be gone", lambda: kubectl.obj("pods", "mysql-client-loop") is None)


def test_a_broken_readiness_probe_a_deleted_pod_and_a_drained_node_each_take_a_server_out_for_a_while(kubectl):
    _replicated(kubectl)
    _client(kubectl, "mysql-client", "-h", "mysql-0.mysql", stdin=(
        "CREATE DATABASE test;\nCREATE TABLE test.messages (message VARCHAR(250));\n"
        "INSERT INTO test.messages VALUES ('hello');\n"))
    assert _server_ids(kubectl) == {100, 101, 102}
    # Break the Readiness Probe
    kubectl("exec", "mysql-2", "-c", "mysql", "--", "mv", "/usr/bin/mysql", "/usr/bin/mysql.off")
    kubectl.wait("mysql-2 to be 1/2", lambda: _pods(kubectl)[2] == ("mysql-2", "1/2", "Running"))
    assert _server_ids(kubectl) == {100, 101}
    kubectl("exec", "mysql-2", "-c", "mysql", "--", "mv", "/usr/bin/mysql.off", "/usr/bin/mysql")
    kubectl.wait("mysql-2 to be 2/2", lambda: _pods(kubectl)[2] == ("mysql-2", "2/2", "Running"))
    assert _server_ids(kubectl) == {100, 101, 102}
    # Delete Pods: the new mysql-2 has its claim, so it skips the clone and serves the data again
    kubectl("delete", "pod", "mysql-2")
    kubectl.settled("mysql", 3)
    assert kubectl("logs", "mysql-2", "-c", "clone-mysql").out.rstrip().endswith("+ exit 0")
    assert _client(kubectl, "read-2", "-h", "mysql-2.mysql", "-N", "-e",
                   "SELECT * FROM test.messages").splitlines()[0] == "hello"
    # Drain a Node
    node = kubectl("get", "pod", "mysql-2", "-o", "jsonpath={.spec.nodeName}").out
    drained = kubectl("drain", node, "--force", "--delete-emptydir-data", "--ignore-daemonsets", timeout=120)
    assert "pod/mysql-2 evicted" in drained.out and f"node/{node} drained" in drained.out
    kubectl.settled("mysql", 3)
    assert kubectl("get", "pod", "mysql-2", "-o", "jsonpath={.spec.nodeName}").out != node
    assert _server_ids(kubectl) == {100, 101, 102}
    assert kubectl("uncordon", node).out == f"node/{node} uncordoned\n"


def test_scaling_up_clones_the_new_replicas_and_scaling_down_keeps_their_claims(kubectl):
    _replicated(kubectl)
    _client(kubectl, "mysql-client", "-h", "mysql-0.mysql", stdin=(
        "CREATE DATABASE test;\nCREATE TABLE test.messages (message VARCHAR(250));\n"
        "INSERT INTO test.messages VALUES ('hello');\n"))
    assert kubectl("scale", "statefulset", "mysql", "--replicas=5").out == "statefulset.apps/mysql scaled\n"
    kubectl.settled("mysql", 5)
    assert _client(kubectl, "mysql-client", "-h", "mysql-3.mysql", "-e",
                   "SELECT * FROM test.messages").startswith("message\nhello\n")
    assert _server_ids(kubectl, calls=20) == {100, 101, 102, 103, 104}
    kubectl("scale", "statefulset", "mysql", "--replicas=3")
    kubectl.settled("mysql", 3)
    claims = [line.split()[:2] for line in kubectl("get", "pvc", "-l", "app=mysql", "--no-headers").out.splitlines()]
    assert claims == [[f"data-mysql-{i}", "Bound"] for i in range(5)]
    assert kubectl("delete", "pvc", "data-mysql-3").out == 'persistentvolumeclaim "data-mysql-3" deleted' \
        + (" from default namespace\n" if kubectl.minor >= 35 else "\n")
    kubectl("delete", "pvc", "data-mysql-4")
    # the page's cleanup
    kubectl("delete", "statefulset", "mysql")
    kubectl.wait("the pods to go", lambda: not kubectl.objs("pods", "app=mysql"), timeout=60)
    kubectl("delete", "configmap,service,pvc", "-l", "app=mysql")
    kubectl.wait("everything to go", lambda: not kubectl.objs("persistentvolumeclaims") and
                 not kubectl.objs("configmaps", "app=mysql"))
