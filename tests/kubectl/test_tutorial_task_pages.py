"""kubernetes.io task pages, with kubectl, on a served sandbox.

*Init Containers*, the *Jobs* page's pi Job, *Assign Memory Resources*, *Configure a Security Context*
(``ps`` and ``id`` in its shell), the StatefulSet tasks *Scale a StatefulSet*, *Force Delete
StatefulSet Pods* and *Delete a StatefulSet*, *Connecting Applications with Services*, and
*Exposing an External IP Address to Access an Application in a Cluster* (Google's ``hello-app``).

The Pod's two init containers loop ``until nslookup …; do echo waiting …; sleep 2; done``: the
Pod shows ``Init:0/2`` and the first one's log says it waits, until the two Services exist; then
the init containers complete in turn and the app container starts. The namespace comes from the
ServiceAccount volume every container gets (``/var/run/secrets/kubernetes.io/serviceaccount``).
"""

from __future__ import annotations

import re
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


def test_the_memory_tasks_pods_run_get_oom_killed_and_stay_pending_as_the_page_shows(kubectl):
    kubectl.apply(TUTORIAL / "memory-demos.yaml")
    kubectl.wait("memory-demo-2 to be OOM-killed and restarted", lambda: (
        (kubectl.obj("pods", "memory-demo-2")["status"].get("containerStatuses") or [{}])[0].get("restartCount", 0) >= 1))
    assert kubectl("logs", "memory-demo").out == "stress: info: [1] dispatching hogs: 0 cpu, 0 io, 1 vm, 0 hdd\n"
    assert _status(kubectl, "memory-demo") == "Running"
    last = kubectl.obj("pods", "memory-demo-2")["status"]["containerStatuses"][0]["lastState"]["terminated"]
    assert (last["reason"], last["exitCode"]) == ("OOMKilled", 137)
    assert _status(kubectl, "memory-demo-3") == "Pending"
    assert "2 Insufficient memory" in kubectl("describe", "pod", "memory-demo-3").out


def test_the_security_context_pages_shell_shows_its_processes_and_ids_as_user_1000(kubectl):
    kubectl.apply(TUTORIAL / "security-context.yaml")
    kubectl("wait", "--for=condition=Ready", "pod/security-context-demo", "--timeout=60s", timeout=90)
    shell = kubectl("exec", "-i", "security-context-demo", "--", "sh", stdin="ps\nid\nexit\n").out
    assert shell == ("PID   USER     TIME  COMMAND\n    1 1000      0:00 sleep 1h\n    6 1000      0:00 sh\n"
                     "   11 1000      0:00 ps\nuid=1000 gid=3000 groups=2000\n")
    # the fsGroup owns the volume, setgid, so the file the user makes there is the group's
    files = kubectl("exec", "-i", "security-context-demo", "--", "sh",
                    stdin="cd /data\nls -l\ncd demo\necho hello > testfile\nls -l\nexit\n").out.splitlines()
    # busybox's ls -l heads each directory with its total of 1K blocks (the page shows only the entry)
    assert files[0] == "total 4" and files[2] == "total 4"
    assert files[1].startswith("drwxrwsrwx ") and files[1].split()[2:4] == ["root", "2000"] and files[1].endswith(" demo")
    assert files[3].startswith("-rw-r--r-- ") and files[3].split()[2:5] == ["1000", "2000", "6"]
    assert files[3].endswith(" testfile")


def test_the_scale_force_delete_and_delete_statefulset_pages_work_on_the_basics_set(kubectl):
    """*Scale a StatefulSet*, *Force Delete StatefulSet Pods* and *Delete a StatefulSet*, on StatefulSet Basics' web."""
    kubectl("apply", "-f", str(TUTORIAL / "web.yaml"))
    kubectl.settled("web", 2)
    ns = " from default namespace" if kubectl.minor >= 35 else ""
    assert kubectl("scale", "statefulsets", "web", "--replicas=3").out == "statefulset.apps/web scaled\n"
    kubectl.settled("web", 3)
    assert kubectl("patch", "statefulsets", "web", "-p", '{"spec":{"replicas":2}}').out == \
        "statefulset.apps/web patched\n"
    kubectl.settled("web", 2)
    uid = kubectl.obj("pods", "web-0")["metadata"]["uid"]
    forced = kubectl("delete", "pods", "web-0", "--grace-period=0", "--force")
    assert forced.out == f'pod "web-0" force deleted{ns}\n'
    assert forced.err == ("Warning: Immediate deletion does not wait for confirmation that the running resource has "
                          "been terminated. The resource may continue to run on the cluster indefinitely.\n")
    kubectl.wait("a new web-0", lambda: (kubectl.obj("pods", "web-0") or {}).get("metadata", {}).get("uid", uid) != uid)
    kubectl.settled("web", 2)
    assert kubectl("patch", "pod", "web-0", "-p", '{"metadata":{"finalizers":null}}').out == \
        "pod/web-0 patched (no change)\n"
    assert kubectl("get", "pods", "web-0", "--template", "{{.spec.terminationGracePeriodSeconds}}").out == "30"
    assert kubectl("delete", "-f", str(TUTORIAL / "web.yaml"), "--cascade=orphan").out == (
        f'service "nginx" deleted{ns}\nstatefulset.apps "web" deleted{ns}\n')
    assert [p["metadata"]["name"] for p in kubectl.objs("pods", "app=nginx")] == ["web-0", "web-1"]
    kubectl("delete", "pods", "-l", "app=nginx")
    kubectl.wait("the pods to go", lambda: not kubectl.objs("pods", "app=nginx"))
    assert kubectl("delete", "pvc", "-l", "app=nginx").out == (
        f'persistentvolumeclaim "www-web-0" deleted{ns}\npersistentvolumeclaim "www-web-1" deleted{ns}\n'
        f'persistentvolumeclaim "www-web-2" deleted{ns}\n')


def test_connecting_applications_with_services_finds_my_nginx_by_env_and_by_dns(kubectl):
    """*Connecting Applications with Services*: the Service's variables in pods made after it, its DNS name and
    its pages from ``radial/busyboxplus:curl`` (busybox 1.22: nslookup's old libc-resolver format)."""
    kubectl("apply", "-f", str(TUTORIAL / "run-my-nginx.yaml"))
    kubectl.settled("my-nginx", 2, plural="deployments")
    assert kubectl("expose", "deployment/my-nginx").out == "service/my-nginx exposed\n"
    cluster_ip = kubectl.obj("services", "my-nginx")["spec"]["clusterIP"]
    pod_ips = {p["status"]["podIP"] for p in kubectl.objs("pods", "run=my-nginx")}
    assert cluster_ip not in pod_ips
    kubectl("scale", "deployment", "my-nginx", "--replicas=0")
    kubectl.wait("no pods", lambda: not kubectl.objs("pods", "run=my-nginx"))
    kubectl("scale", "deployment", "my-nginx", "--replicas=2")
    kubectl.settled("my-nginx", 2, plural="deployments")
    pod = kubectl.objs("pods", "run=my-nginx")[0]["metadata"]["name"]
    env = kubectl("exec", pod, "--", "printenv").out.splitlines()
    assert f"MY_NGINX_SERVICE_HOST={cluster_ip}" in env and "KUBERNETES_SERVICE_HOST=10.96.0.1" in env
    out = kubectl("run", "curl", "--image=radial/busyboxplus:curl", "-i", "--rm", "--restart=Never", "--",
                  "sh", "-c", "nslookup my-nginx; curl -s my-nginx", timeout=60).out
    assert out.startswith("Server:    10.96.0.10\nAddress 1: 10.96.0.10 kube-dns.kube-system.svc.cluster.local\n\n"
                          f"Name:      my-nginx\nAddress 1: {cluster_ip} my-nginx.default.svc.cluster.local\n")
    assert "<title>Welcome to nginx!</title>" in out


def test_exposing_an_external_ip_address_serves_hello_app_behind_a_pending_load_balancer(kubectl):
    kubectl.apply(TUTORIAL / "load-balancer-example.yaml")
    kubectl("rollout", "status", "deployment/hello-world", "--timeout=90s", timeout=120)
    assert kubectl("get", "deployments", "hello-world", "--no-headers").out.split()[:4] == [
        "hello-world", "5/5", "5", "5"]
    kubectl("expose", "deployment", "hello-world", "--type=LoadBalancer", "--name=my-service")
    service = kubectl("get", "services", "my-service", "--no-headers").out.split()
    # no cloud load balancer in a kind-like cluster: the external IP stays pending, a node port is allocated
    assert service[1] == "LoadBalancer" and service[3] == "<pending>" and service[4].startswith("8080:")
    described = kubectl("describe", "services", "my-service").out
    endpoints_line = next(line for line in described.splitlines() if line.startswith("Endpoints:"))
    endpoints = endpoints_line.split()[1]
    pods = kubectl("get", "pods", "-l", "app.kubernetes.io/name=load-balancer-example", "-o",
                   "jsonpath={range .items[*]}{.metadata.name} {.status.podIP}{'\\n'}{end}").out.split("\n")
    ips = {line.split()[1]: line.split()[0] for line in pods if line}
    # describe shows three of the five endpoints and counts the rest
    assert {e.rsplit(":", 1)[0] for e in endpoints.split(",")} < set(ips) and len(ips) == 5
    assert endpoints_line.endswith(" + 2 more...")
    page = kubectl("run", "-i", "--rm", "--restart=Never", "client", "--image=busybox", "--",
                   "wget", "-qO-", "my-service:8080", timeout=90).out
    lines = page.splitlines()
    assert lines[:2] == ["Hello, world!", "Version: 2.0.0"] and lines[2].removeprefix("Hostname: ") in ips.values()
    logs = kubectl("logs", "-l", "app.kubernetes.io/name=load-balancer-example", "--prefix").out
    assert re.search(r"\] \d{4}/\d\d/\d\d \d\d:\d\d:\d\d Server listening on port 8080$", logs, re.M)
    assert re.search(r"\] \d{4}/\d\d/\d\d \d\d:\d\d:\d\d Serving request: /$", logs, re.M)
