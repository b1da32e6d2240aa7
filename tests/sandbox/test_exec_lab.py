"""lab.exec and lab.exec_each: kubectl exec for the notebooks, on the official client's stream API."""

from __future__ import annotations

import pytest

from stsnb.errors import ConditionFailed, Forbidden

HTML = "/usr/share/nginx/html"


def test_exec_returns_stdout_stderr_and_exit_code(lab):
    lab.apply("nginx-stateful")
    lab.wait_ready("nginx-stateful")
    assert (lab.exec("nginx-stateful-0", ["hostname"]).stdout, lab.exec("nginx-stateful-0", "hostname").ok) == (
        "nginx-stateful-0\n", True)
    failed = lab.exec("nginx-stateful-1", "echo out; echo err >&2; exit 3")
    assert (failed.stdout, failed.stderr, failed.exit_code, failed.ok) == ("out\n", "err\n", 3, False)
    assert failed.text == "out\nerr\ncommand terminated with exit code 3\n"
    piped = lab.exec("nginx-stateful-2", ["sh", "-c", "cat > /tmp/in; wc -c < /tmp/in"], stdin="abc\n")
    assert piped.stdout == "4\n"


def test_exec_refuses_pods_stsnb_did_not_create(lab):
    lab.core.create_namespaced_pod(lab.namespace, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "theirs"},
                                                   "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
    with pytest.raises(Forbidden) as e:
        lab.exec("theirs", "hostname")
    assert "pod/theirs was not created by stsnb" in str(e.value)


def test_exec_names_the_servers_reason_when_the_container_is_wrong(lab):
    lab.apply("nginx-stateful")
    lab.wait_ready("nginx-stateful")
    with pytest.raises(ConditionFailed) as e:
        lab.exec("nginx-stateful-0", "hostname", container="sidecar")
    assert "container sidecar is not valid for pod nginx-stateful-0" in str(e.value)


def test_each_pods_claim_keeps_what_it_wrote_across_re_creation(lab):
    lab.apply("sc-nfs")
    lab.apply("nginx-stateful2")
    lab.wait_ready("nginx-stateful2")
    wrote = lab.exec_each("statefulset/nginx-stateful2", f'echo "$(hostname)" > {HTML}/index.html')
    assert [r.exit_code for r in wrote.results] == [0, 0, 0]
    before = lab.exec_each("statefulset/nginx-stateful2", f"cat {HTML}/index.html").outputs()
    assert before == {f"nginx-stateful2-{i}": f"nginx-stateful2-{i}" for i in range(3)}
    for i in range(3):
        replaced = lab.delete_pod(f"nginx-stateful2-{i}")
        assert replaced.new_uid and replaced.new_uid != replaced.old_uid
    after = lab.exec_each("statefulset/nginx-stateful2", ["curl", "-s", "http://localhost/"])
    assert after.outputs() == before
    assert list(after.frame.columns) == ["pod", "stdout", "stderr", "exit_code"]


def test_exec_through_a_kubeconfig_sends_its_token_over_tls(sandbox, tmp_path):
    import stsnb
    from kubernetes.client.exceptions import ApiException
    path = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
    assert "https://" in path.read_text() and "token:" in path.read_text()
    lab = stsnb.connect(backend="kubeconfig", kubeconfig=str(path), namespace="exec-tls", timeout_s=60, env={})
    try:
        lab.apply("nginx-stateful", wait=True)
        assert lab.exec("nginx-stateful-0", "hostname").stdout == "nginx-stateful-0\n"
        lab.kube.api_client.configuration.api_key = {}  # no token: the server must refuse the upgrade
        with pytest.raises(ApiException) as e:
            lab.kube.connect("/api/v1/namespaces/exec-tls/pods/nginx-stateful-0/exec", [("command", "hostname")])
        assert "401" in str(e.value)
    finally:
        stsnb.connect(backend="kubeconfig", kubeconfig=str(path), namespace="exec-tls", env={}).cleanup(timeout=30)
