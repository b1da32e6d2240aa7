"""kubernetes.io's *Updating Configuration via a ConfigMap*, with kubectl, on a served sandbox.

A ConfigMap mounted as a volume reaches running pods when it changes (their loop logs the new
sport); one read into an environment variable does not until ``kubectl rollout restart``; a sidecar
rewrites the page its nginx serves from the mounted file; and an immutable ConfigMap refuses new
data, so the Deployment is pointed at a new one. The page edits objects with ``kubectl edit``; these
tests make the same changes with ``kubectl patch``. The manifests are the page's own, unchanged.
"""

from __future__ import annotations

from pathlib import Path

TUTORIAL = Path(__file__).parent / "tutorial"


def _logs_say(kubectl, deployment: str, text: str) -> str:
    """Wait until the newest line ``kubectl logs deployments/NAME`` prints contains ``text``."""
    def newest():
        lines = kubectl("logs", f"deployments/{deployment}", check=False).out.splitlines()
        return lines[-1] if lines and text in lines[-1] else None
    return kubectl.wait(f"{deployment} to log {text!r}", newest, timeout=60)


def _rolled_out(kubectl, deployment: str) -> None:
    kubectl("rollout", "status", f"deployment/{deployment}", "--timeout=90s", timeout=120)


def test_a_mounted_config_map_reaches_the_running_pods_when_it_changes(kubectl):
    kubectl("create", "configmap", "sport", "--from-literal=sport=football")
    kubectl.apply(TUTORIAL / "deployment-with-configmap-as-volume.yaml")
    _rolled_out(kubectl, "configmap-volume")
    pods = kubectl("get", "pods", "--selector=app.kubernetes.io/name=configmap-volume", "-o", "name").out.split()
    assert _logs_say(kubectl, "configmap-volume", "My preferred sport is football").endswith(
        " My preferred sport is football")
    kubectl("patch", "configmap", "sport", "--type=merge", "-p", '{"data":{"sport":"cricket"}}')
    _logs_say(kubectl, "configmap-volume", "My preferred sport is cricket")
    assert kubectl("get", "pods", "--selector=app.kubernetes.io/name=configmap-volume", "-o", "name").out.split() \
        == pods, "the same pods read the new value: nothing restarted"


def test_an_environment_variable_keeps_its_value_until_the_rollout_restarts_the_pods(kubectl):
    kubectl("create", "configmap", "fruits", "--from-literal=fruits=apples")
    kubectl.apply(TUTORIAL / "deployment-with-configmap-as-envvar.yaml")
    _rolled_out(kubectl, "configmap-env-var")
    _logs_say(kubectl, "configmap-env-var", "The basket is full of apples")
    kubectl("patch", "configmap", "fruits", "--type=merge", "-p", '{"data":{"fruits":"mangoes"}}')
    pod = kubectl("get", "pods", "--selector=app.kubernetes.io/name=configmap-env-var", "-o", "name").out.split()[0]
    assert kubectl("exec", pod, "--", "printenv", "FRUITS").out == "apples\n"
    kubectl("rollout", "restart", "deployment", "configmap-env-var")
    _rolled_out(kubectl, "configmap-env-var")
    _logs_say(kubectl, "configmap-env-var", "The basket is full of mangoes")


def test_a_sidecar_rewrites_the_page_nginx_serves_from_the_mounted_config_map(kubectl):
    kubectl("create", "configmap", "color", "--from-literal=color=red")
    kubectl.apply(TUTORIAL / "deployment-with-configmap-two-containers.yaml")
    _rolled_out(kubectl, "configmap-two-containers")
    kubectl("expose", "deployment", "configmap-two-containers", "--name=configmap-service", "--port=8080",
            "--target-port=80")

    def page_says(color: str):
        page = kubectl("exec", "deployments/configmap-two-containers", "-c", "nginx", "--",
                       "curl", "-s", "http://configmap-service:8080", check=False).out
        return page if f"My preferred color is {color}" in page else None
    kubectl.wait("the page to say red", lambda: page_says("red"))
    kubectl("patch", "configmap", "color", "--type=merge", "-p", '{"data":{"color":"blue"}}')
    kubectl.wait("the page to say blue", lambda: page_says("blue"), timeout=60)


def test_an_immutable_config_map_refuses_an_edit_so_the_deployment_moves_to_a_new_one(kubectl):
    kubectl.apply(TUTORIAL / "immutable-configmap.yaml")
    kubectl.apply(TUTORIAL / "deployment-with-immutable-configmap-as-volume.yaml")
    _rolled_out(kubectl, "immutable-configmap-volume")
    _logs_say(kubectl, "immutable-configmap-volume", "The name of the company is ACME, Inc.")
    refused = kubectl("patch", "configmap", "company-name-20150801", "--type=merge",
                      "-p", '{"data":{"company_name":"Fiktivesunternehmen GmbH"}}', check=False)
    assert refused.code == 1 and refused.err == (
        'The ConfigMap "company-name-20150801" is invalid: data: Forbidden: field is immutable when `immutable` '
        "is set\n")
    kubectl.apply(TUTORIAL / "new-immutable-configmap.yaml")
    kubectl("patch", "deployment", "immutable-configmap-volume", "--type=json", "-p",
            '[{"op":"replace","path":"/spec/template/spec/volumes/0/configMap/name","value":"company-name-20240312"}]')
    _rolled_out(kubectl, "immutable-configmap-volume")
    _logs_say(kubectl, "immutable-configmap-volume", "The name of the company is Fiktivesunternehmen GmbH")
    kubectl("delete", "configmap", "company-name-20150801")
