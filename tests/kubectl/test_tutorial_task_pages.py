"""kubernetes.io's *Init Containers* example and the *Jobs* page's pi Job, with kubectl, on a served sandbox.

The Pod's two init containers loop ``until nslookup …; do echo waiting …; sleep 2; done``: the
Pod shows ``Init:0/2`` and the first one's log says it waits, until the two Services exist; then
the init containers complete in turn and the app container starts. The namespace comes from the
ServiceAccount volume every container gets (``/var/run/secrets/kubernetes.io/serviceaccount``).
"""

from __future__ import annotations

from pathlib import Path

TUTORIAL = Path(__file__).parent / "tutorial"


def _status(k, name: str = "myapp-pod") -> str:
    return k("get", "pod", name, "--no-headers").out.split()[2]


def test_the_pod_waits_in_init_until_both_services_exist_then_runs(kubectl):
    kubectl.apply(TUTORIAL / "myapp-init.yaml")
    kubectl.wait("the first init container to loop",
                 lambda: "waiting for myservice" in kubectl("logs", "myapp-pod", "-c", "init-myservice").out)
    assert _status(kubectl) == "Init:0/2"
    log = kubectl("logs", "myapp-pod", "-c", "init-myservice").out
    assert log.startswith("Server:    10.96.0.10\nAddress 1: 10.96.0.10 kube-dns.kube-system.svc.cluster.local\n\n"
                          "nslookup: can't resolve 'myservice.default.svc.cluster.local'\nwaiting for myservice\n")
    waiting = kubectl("logs", "myapp-pod", check=False)
    assert waiting.code == 1
    assert 'container "myapp-container" in pod "myapp-pod" is waiting to start: PodInitializing' in waiting.err
    described = kubectl("describe", "pod", "myapp-pod").out
    assert "Init Containers:\n  init-myservice:" in described
    assert ["Initialized", "False"] in [line.split() for line in described.splitlines()]

    kubectl.apply(TUTORIAL / "myapp-services.yaml")
    kubectl.wait("the app container to run", lambda: _status(kubectl) == "Running", timeout=60)
    assert kubectl("get", "pod", "myapp-pod", "--no-headers").out.split()[1] == "1/1"
    assert kubectl("logs", "myapp-pod").out == "The app is running!\n"
    mydb = kubectl("logs", "myapp-pod", "-c", "init-mydb").out
    assert "Name:      mydb.default.svc.cluster.local\n" in mydb
    codes = kubectl("get", "pod", "myapp-pod", "-o",
                    "jsonpath={.status.initContainerStatuses[*].state.terminated.reason}").out
    assert codes == "Completed Completed"


def test_the_jobs_pages_pi_job_completes_and_its_log_is_pi_to_2000_digits(kubectl):
    kubectl.apply(TUTORIAL / "job.yaml")
    kubectl("wait", "--for=condition=complete", "job/pi", "--timeout=60s", timeout=90)
    assert kubectl("get", "job", "pi", "--no-headers").out.split()[1] == "1/1"
    log = kubectl("logs", "job/pi").out
    assert log.startswith("3.14159265358979323846264338327950288419716939937510") and len(log) == 2002
