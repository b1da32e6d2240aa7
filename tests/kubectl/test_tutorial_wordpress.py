"""kubernetes.io's *Example: Deploying WordPress and MySQL with Persistent Volumes*, with kubectl, on a served sandbox.

The page's ``kustomization.yaml`` (a ``secretGenerator`` for the MySQL password) and its two
manifests, applied with ``kubectl apply -k ./``: the Secret gets kustomize's content-hash suffix, the
two claims without a StorageClass are bound by the default one, both Deployments (strategy
``Recreate``) run, and the ``LoadBalancer`` Service waits for an external IP as on minikube without
``minikube tunnel``.
"""

from __future__ import annotations

from pathlib import Path

TUTORIAL = Path(__file__).parent / "tutorial" / "wordpress"


def test_kubectl_apply_k_creates_the_secret_the_claims_and_both_deployments_as_the_page_shows(kubectl):
    out = kubectl("apply", "-k", str(TUTORIAL)).out
    assert "deployment.apps/wordpress created" in out and "deployment.apps/wordpress-mysql created" in out
    secret = kubectl("get", "secrets", "--no-headers").out.split()
    assert secret[0].startswith("mysql-pass-") and secret[1:3] == ["Opaque", "1"]
    password = kubectl("get", "secret", secret[0], "-o", "jsonpath={.data.password}").out
    assert password == "WU9VUl9QQVNTV09SRA=="  # base64 of the page's YOUR_PASSWORD

    kubectl.settled("wordpress", 1, plural="deployments")
    kubectl.settled("wordpress-mysql", 1, plural="deployments")
    claims = [line.split() for line in kubectl("get", "pvc", "--no-headers").out.splitlines()]
    assert [(c[0], c[1], c[3], c[5]) for c in claims] == [("mysql-pv-claim", "Bound", "20Gi", "standard"),
                                                          ("wp-pv-claim", "Bound", "20Gi", "standard")]
    pods = [line.split() for line in kubectl("get", "pods", "--no-headers").out.splitlines()]
    assert sorted((p[0].rsplit("-", 2)[0], p[1], p[2]) for p in pods) == [
        ("wordpress", "1/1", "Running"), ("wordpress-mysql", "1/1", "Running")]
    svc = kubectl("get", "services", "wordpress", "--no-headers").out.split()
    assert (svc[1], svc[3]) == ("LoadBalancer", "<pending>") and svc[4].startswith("80:")
    # the MySQL password reached the container from the generated Secret
    env = kubectl("get", "pod", "-l", "tier=mysql", "-o",
                  "jsonpath={.items[0].spec.containers[0].env[0].valueFrom.secretKeyRef.name}").out
    assert env == secret[0]
    assert kubectl("exec", "deploy/wordpress-mysql", "--", "printenv", "MYSQL_ROOT_PASSWORD").out == "YOUR_PASSWORD\n"

    kubectl("delete", "-k", str(TUTORIAL))
    kubectl.wait("everything to go", lambda: not kubectl.objs("pods") and not kubectl.objs("persistentvolumeclaims"))
