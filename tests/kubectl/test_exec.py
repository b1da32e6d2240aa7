"""kubectl exec, cp, attach, run -it and port-forward against a served sandbox, over WebSocket (never SPDY)."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request

import pexpect
import pytest

WEB = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
spec:
  containers:
  - name: nginx
    image: nginx
    ports:
    - containerPort: 80
      name: http
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 8080
    targetPort: http
"""


@pytest.fixture
def web(kubectl):
    (kubectl.workdir / "web.yaml").write_text(WEB)
    kubectl.apply(kubectl.workdir / "web.yaml")
    kubectl.wait("pod web to run", lambda: (kubectl.obj("pods", "web") or {}).get("status", {}).get("phase")
                 == "Running")
    return kubectl


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawn(k, *args: str) -> pexpect.spawn:
    return pexpect.spawn(k.binary, ["--cache-dir", str(k.cache_dir), *args], env=k.env, cwd=str(k.workdir),
                         timeout=30, encoding="utf-8")


def test_exec_prints_output_and_passes_the_exit_code_on(web):
    assert web("exec", "web", "--", "hostname").out == "web\n"
    failed = web("exec", "web", "--", "sh", "-c", "echo out; echo err >&2; exit 3", check=False)
    assert (failed.code, failed.out, failed.err) == (3, "out\n", "err\ncommand terminated with exit code 3\n")
    piped = web("exec", "-i", "web", "--", "sh", "-c", "cat > /tmp/in; wc -l < /tmp/in", stdin="a\nb\nc\n")
    assert piped.out == "3\n"


def test_exec_is_refused_as_a_cluster_refuses_it(web):
    missing = web("exec", "nope", "--", "ls", check=False)
    assert missing.code == 1 and 'pods "nope" not found' in missing.err
    bad = web("exec", "web", "-c", "sidecar", "--", "ls", check=False)
    assert bad.code == 1 and "container sidecar is not valid for pod web" in bad.err
    # a container that is not running: kubectl's WebSocket upgrade is refused, it falls back to SPDY, and
    # that is refused for the same reason, which is what it prints
    web("run", "crash", "--image=busybox", "--", "sh", "-c", "exit 1")
    web.wait("crash to exit", lambda: "terminated" in str(
        ((web.obj("pods", "crash") or {}).get("status", {}).get("containerStatuses") or [{}])[0].get("state", {})))
    crashed = web("exec", "crash", "--", "ls", check=False)
    assert (crashed.code, crashed.err) == (1, 'error: unable to upgrade connection: container not found ("crash")\n')


def test_cp_copies_a_file_into_the_pod_and_back(web):
    src = web.workdir / "note.txt"
    src.write_bytes(b"line one\nbinary \x00\xff tail\n")
    assert web("cp", str(src), "web:/tmp/note.txt").code == 0
    assert web("exec", "web", "--", "head", "-n", "1", "/tmp/note.txt").out == "line one\n"
    back = web.workdir / "back.txt"
    web("cp", "web:/tmp/note.txt", str(back))
    assert back.read_bytes() == src.read_bytes()
    web("cp", "web:/etc/nginx", str(web.workdir / "nginx"))
    assert (web.workdir / "nginx" / "conf.d" / "default.conf").read_text().startswith("server {\n    listen       80;")


@pytest.mark.parametrize("target", ["pod/web", "svc/web"])
def test_port_forward_serves_the_pods_index_page(web, target):
    web("exec", "web", "--", "sh", "-c", "echo forwarded > /usr/share/nginx/html/index.html")
    port = _free_port()
    remote = "80" if target.startswith("pod") else "8080"
    proc = subprocess.Popen([web.binary, "--cache-dir", str(web.cache_dir), "port-forward", target,
                             f"{port}:{remote}"], env=web.env, cwd=web.workdir, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == f"Forwarding from 127.0.0.1:{port} -> 80\n"
        for _ in range(2):  # one tunnel, several connections
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:
                assert (r.status, r.read(), r.headers["Server"]) == (200, b"forwarded\n", "nginx/1.27.3")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/50x.html", timeout=10) as r:
            assert b"An error occurred." in r.read()
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    assert "Handling connection for" in out
    assert "falling back" not in err.lower() and "spdy" not in err.lower()


def test_run_it_rm_gives_a_shell_that_takes_typed_commands_and_leaves_no_pod(web):
    child = _spawn(web, "run", "-i", "--tty", "--rm", "shell", "--image=busybox", "--restart=Never", "--", "sh")
    try:
        child.expect("If you don't see a command prompt, try pressing enter.")
        child.sendline("")
        child.expect_exact("/ # ")
        child.sendline("wget -qO- http://web:8080/ | wc -c")
        child.expect_exact("615\r\n")
        child.expect_exact("/ # ")
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    assert 'pod "shell" deleted' in child.before
    web.wait("the shell pod to be gone", lambda: web.obj("pods", "shell") is None)


def test_exec_it_opens_an_interactive_shell_in_a_running_container(web):
    child = _spawn(web, "exec", "-it", "web", "--", "sh")
    try:
        child.expect_exact("# ")
        child.sendline("cd /usr/share/nginx/html && ls")
        child.expect_exact("50x.html  index.html\r\n")
        child.sendline("exit 4")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 4


def test_attach_joins_a_running_shell_whose_exit_completes_the_pod(web):
    web("run", "keeper", "--image=busybox", "--restart=Never", "-i", "--tty", "--attach=false", "--", "sh")
    web.wait("keeper to run", lambda: (web.obj("pods", "keeper") or {}).get("status", {}).get("phase") == "Running")
    child = _spawn(web, "attach", "-it", "keeper")
    try:
        child.expect("If you don't see a command prompt, try pressing enter.")
        child.sendline("echo attached")
        child.expect_exact("attached\r\n")
        child.sendline("exit 0")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    web.wait("keeper to complete", lambda: (web.obj("pods", "keeper") or {}).get("status", {}).get("phase")
             == "Succeeded")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "attached" not in web("logs", "keeper").out:
        time.sleep(0.1)
    assert "attached" in web("logs", "keeper").out


def test_cat_with_stdin_echoes_what_is_attached_and_keeps_a_tty_container_running(kubectl):
    echoed = kubectl("run", "echo", "-i", "--rm", "--image=busybox", "--restart=Never", "--", "cat",
                     stdin="hi\nthere\n")
    assert echoed.out.startswith("hi\nthere\n")
    kubectl("run", "keep", "--image=busybox", "--restart=Never", "--stdin", "--tty", "--attach=false", "--", "cat")
    kubectl.wait("keep to run", lambda: (kubectl.obj("pods", "keep") or {}).get("status", {}).get("phase") == "Running")
    assert kubectl("exec", "keep", "--", "echo", "alive").out == "alive\n"
    assert kubectl.obj("pods", "keep")["status"]["phase"] == "Running"  # `cat` waits on its open stdin
