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
