"""The sandbox kubelet's container programs print what the real images print."""

from __future__ import annotations

import dns.message
import pytest

from stsnb.sandbox.dns import ClusterDns
from stsnb.sandbox.node.programs import Outcome, ProgramContext, run, supported_programs
from stsnb.sandbox.core.store import Store

SEARCH = ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"]
HEADER = "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n"


def _svc(name: str, cluster_ip: str, ns: str = "default") -> dict:
    spec = {"clusterIP": cluster_ip, "type": "ClusterIP",
            "ports": [{"name": "80-80", "port": 80, "targetPort": 80, "protocol": "TCP"}]}
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns}, "spec": spec}


def _slice(service: str, endpoints: list[tuple], ns: str = "default") -> dict:
    eps = [{"addresses": [ip], "conditions": {"ready": ready}, **({"hostname": h} if h else {})}
           for ip, h, ready in endpoints]
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"name": f"{service}-x1y2z", "namespace": ns,
                         "labels": {"kubernetes.io/service-name": service}},
            "ports": [{"name": "80-80", "port": 80, "protocol": "TCP"}], "endpoints": eps}


@pytest.fixture(scope="module")
def cluster() -> ClusterDns:
    s = Store()
    for ns in ("default", "kube-system"):
        s.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    s.create("services", _svc("kube-dns", "10.96.0.10", ns="kube-system"))
    s.create("services", _svc("test-deploy", "10.104.20.5"))
    s.create("endpointslices", _slice("test-deploy", [("10.100.194.79", None, True), ("10.110.126.39", None, True)]))
    s.create("services", _svc("nginx-stateful", "None"))
    s.create("endpointslices", _slice("nginx-stateful", [("10.100.194.82", "nginx-stateful-0", True),
                                                         ("10.110.126.47", "nginx-stateful-1", True),
                                                         ("10.100.194.90", "nginx-stateful-2", False)]))
    s.create("services", _svc("web", "None"))  # a StatefulSet without serviceName: no hostnames
    s.create("endpointslices", _slice("web", [("10.100.194.83", None, True)]))
    return ClusterDns(s)


def _pod(name: str = "dnsquery", ip: str = "10.100.194.99", **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": spec, "status": {"podIP": ip, "podIPs": [{"ip": ip}]}}


STS_POD = _pod("nginx-stateful-0", "10.100.194.82", hostname="nginx-stateful-0", subdomain="nginx-stateful")


def start(cluster: ClusterDns, image: str = "busybox", args: list[str] | None = None,
          command: list[str] | None = None, pod: dict | None = None, **container) -> Outcome:
    spec = {"name": "c", "image": image, **container}
    if args is not None:
        spec["args"] = args
    if command is not None:
        spec["command"] = command
    return run(ProgramContext(pod or _pod(), spec, cluster.resolve, "10.96.0.10", SEARCH))


def done(outcome: Outcome) -> tuple[str, int | None]:
    assert not outcome.runs_forever
    return outcome.output, outcome.exit_code


# ----------------------------------------------------------------- busybox nslookup, the guide's outputs


def test_reverse_lookup_of_a_deployment_pod_prints_the_guides_output_byte_for_byte(cluster):
    assert done(start(cluster, args=["nslookup", "10.100.194.79"])) == (
        "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n"
        "79.194.100.10.in-addr.arpa\tname = 10-100-194-79.test-deploy.default.svc.cluster.local\n\n", 0)


def test_reverse_lookup_of_a_statefulset_pod_names_it_under_its_headless_service(cluster):
    assert done(start(cluster, args=["nslookup", "10.100.194.82"])) == (
        HEADER + "82.194.100.10.in-addr.arpa\tname = nginx-stateful-0.nginx-stateful.default.svc.cluster.local\n\n", 0)


def test_reverse_lookup_of_a_pod_of_a_statefulset_without_service_name_gets_the_dashed_name(cluster):
    assert done(start(cluster, args=["nslookup", "10.100.194.83"])) == (
        HEADER + "83.194.100.10.in-addr.arpa\tname = 10-100-194-83.web.default.svc.cluster.local\n\n", 0)


def test_reverse_lookup_of_a_pod_behind_no_service_is_nxdomain_and_exits_1(cluster):
    assert done(start(cluster, args=["nslookup", "10.100.194.99"])) == (
        HEADER + "** server can't find 99.194.100.10.in-addr.arpa: NXDOMAIN\n\n", 1)


def test_a_not_ready_statefulset_pod_has_no_name(cluster):
    assert done(start(cluster, args=["nslookup", "10.100.194.90"])) == (
        HEADER + "** server can't find 90.194.100.10.in-addr.arpa: NXDOMAIN\n\n", 1)


def test_busybox_before_1_31_exits_0_even_on_nxdomain(cluster):
    output, code = done(start(cluster, "busybox:1.30.1", args=["nslookup", "10.100.194.99"]))
    assert code == 0 and "NXDOMAIN" in output


def test_a_dotted_short_name_is_sent_literally_and_not_found(cluster):
    assert done(start(cluster, args=["nslookup", "nginx-stateful-0.nginx-stateful"])) == (
        HEADER + "** server can't find nginx-stateful-0.nginx-stateful: NXDOMAIN\n\n" * 2, 1)


def test_a_full_name_prints_its_address_then_the_empty_aaaa_reply(cluster):
    assert done(start(cluster, args=["nslookup", "nginx-stateful-0.nginx-stateful.default.svc.cluster.local"])) == (
        HEADER + "Name:\tnginx-stateful-0.nginx-stateful.default.svc.cluster.local\nAddress: 10.100.194.82\n\n\n", 0)


def test_busybox_1_31_to_1_33_say_no_answer_for_the_empty_aaaa_reply(cluster):
    output, code = done(start(cluster, "busybox:1.33", args=["nslookup", "test-deploy.default.svc.cluster.local"]))
    assert output == (HEADER + "Name:\ttest-deploy.default.svc.cluster.local\nAddress: 10.104.20.5\n\n"
                      "*** Can't find test-deploy.default.svc.cluster.local: No answer\n\n")
    assert code == 0


def test_a_dotless_name_goes_through_every_search_domain_a_first_then_aaaa(cluster):
    assert done(start(cluster, args=["nslookup", "nginx-stateful"])) == (
        HEADER
        + "Name:\tnginx-stateful.default.svc.cluster.local\nAddress: 10.100.194.82\n"
        + "Name:\tnginx-stateful.default.svc.cluster.local\nAddress: 10.110.126.47\n\n"
        + "** server can't find nginx-stateful.svc.cluster.local: NXDOMAIN\n\n"
        + "** server can't find nginx-stateful.cluster.local: NXDOMAIN\n\n"
        + "\n"
        + "** server can't find nginx-stateful.svc.cluster.local: NXDOMAIN\n\n"
        + "** server can't find nginx-stateful.cluster.local: NXDOMAIN\n\n", 1)


def test_busybox_1_29_does_not_use_the_search_domains(cluster):
    output, code = done(start(cluster, "busybox:1.29.3", args=["nslookup", "test-deploy"]))
    assert output == HEADER + "** server can't find test-deploy: NXDOMAIN\n\n" * 2 and code == 0


def test_nslookup_srv_prints_each_service_record(cluster):
    assert done(start(cluster, args=["nslookup", "-type=srv", "_80-80._tcp.nginx-stateful.default.svc.cluster.local"])) == (
        HEADER
        + "_80-80._tcp.nginx-stateful.default.svc.cluster.local\tservice = 0 50 80 nginx-stateful-0.nginx-stateful.default.svc.cluster.local\n"
        + "_80-80._tcp.nginx-stateful.default.svc.cluster.local\tservice = 0 50 80 nginx-stateful-1.nginx-stateful.default.svc.cluster.local\n\n",
        0)


def test_nslookup_against_another_server_times_out(cluster):
    assert done(start(cluster, args=["nslookup", "test-deploy", "8.8.8.8"])) == (
        ";; connection timed out; no servers could be reached\n\n", 1)


def test_nslookup_with_the_cluster_dns_named_as_server_works(cluster):
    output, code = done(start(cluster, args=["nslookup", "10.100.194.79", "kube-dns.kube-system"]))
    assert output.startswith("Server:\t\tkube-dns.kube-system\nAddress:\t10.96.0.10:53\n\n") and code == 0


def test_nslookup_without_a_host_prints_usage_and_exits_1(cluster):
    output, code = done(start(cluster, args=["nslookup"]))
    assert "Usage: nslookup" in output and code == 1


# ----------------------------------------------------------------- busybox 1.28


def test_busybox_1_28_resolves_short_names_through_the_search_path(cluster):
    assert done(start(cluster, "busybox:1.28", args=["nslookup", "nginx-stateful-0.nginx-stateful"])) == (
        "Server:    10.96.0.10\n"
        "Address 1: 10.96.0.10 kube-dns.kube-system.svc.cluster.local\n\n"
        "Name:      nginx-stateful-0.nginx-stateful\n"
        "Address 1: 10.100.194.82 nginx-stateful-0.nginx-stateful.default.svc.cluster.local\n", 0)


def test_busybox_1_28_lists_every_address_of_a_headless_service_with_its_name(cluster):
    output, _ = done(start(cluster, "busybox:1.28", args=["nslookup", "nginx-stateful"]))
    assert output.endswith("Name:      nginx-stateful\n"
                           "Address 1: 10.100.194.82 nginx-stateful-0.nginx-stateful.default.svc.cluster.local\n"
                           "Address 2: 10.110.126.47 nginx-stateful-1.nginx-stateful.default.svc.cluster.local\n")


def test_busybox_1_28_reverse_lookup_and_failure(cluster):
    output, code = done(start(cluster, "busybox:1.28", args=["nslookup", "10.100.194.79"]))
    assert output.endswith("Name:      10.100.194.79\n"
                           "Address 1: 10.100.194.79 10-100-194-79.test-deploy.default.svc.cluster.local\n")
    assert code == 0
    assert done(start(cluster, "busybox:1.28", args=["nslookup", "nope"])) == (
        "Server:    10.96.0.10\nAddress 1: 10.96.0.10 kube-dns.kube-system.svc.cluster.local\n\n"
        "nslookup: can't resolve 'nope'\n", 1)


# ----------------------------------------------------------------- hostname and the kubelet's files


def test_hostname_is_short_and_hostname_f_is_the_fqdn_with_a_subdomain(cluster):
    assert done(start(cluster, args=["hostname"], pod=STS_POD)) == ("nginx-stateful-0\n", 0)
    assert done(start(cluster, args=["hostname", "-f"], pod=STS_POD)) == (
        "nginx-stateful-0.nginx-stateful.default.svc.cluster.local\n", 0)
    assert done(start(cluster, args=["hostname", "-f"])) == ("dnsquery\n", 0)


def test_set_hostname_as_fqdn_makes_the_fqdn_the_hostname(cluster):
    pod = _pod("db-0", "10.1.1.1", hostname="db-0", subdomain="db", setHostnameAsFQDN=True)
    assert done(start(cluster, args=["sh", "-c", "hostname; cat /etc/hostname"], pod=pod)) == (
        "db-0.db.default.svc.cluster.local\n" * 2, 0)


def test_etc_hosts_has_the_kubelet_managed_layout(cluster):
    pod = dict(STS_POD, spec=dict(STS_POD["spec"], hostAliases=[{"ip": "10.0.0.1", "hostnames": ["foo", "bar"]}]))
    assert done(start(cluster, args=["cat", "/etc/hosts"], pod=pod)) == (
        "# Kubernetes-managed hosts file.\n"
        "127.0.0.1\tlocalhost\n"
        "::1\tlocalhost ip6-localhost ip6-loopback\n"
        "fe00::0\tip6-localnet\n"
        "fe00::0\tip6-mcastprefix\n"
        "fe00::1\tip6-allnodes\n"
        "fe00::2\tip6-allrouters\n"
        "10.100.194.82\tnginx-stateful-0.nginx-stateful.default.svc.cluster.local\tnginx-stateful-0\n"
        "\n# Entries added by HostAliases.\n"
        "10.0.0.1\tfoo\tbar\n", 0)
    assert done(start(cluster, args=["cat", "/etc/hosts"]))[0].endswith("fe00::2\tip6-allrouters\n10.100.194.99\tdnsquery\n")


def test_resolv_conf_and_hostname_files(cluster):
    assert done(start(cluster, args=["cat", "/etc/resolv.conf"])) == (
        "search default.svc.cluster.local svc.cluster.local cluster.local\n"
        "nameserver 10.96.0.10\n"
        "options ndots:5\n", 0)
    assert done(start(cluster, args=["cat", "/etc/hostname"], pod=STS_POD)) == ("nginx-stateful-0\n", 0)


def test_cat_of_a_missing_file_fails_like_the_images_cat(cluster):
    assert done(start(cluster, args=["cat", "/data/x"])) == ("cat: can't open '/data/x': No such file or directory\n", 1)
    assert done(start(cluster, "nginx", command=["cat", "/data/x"])) == ("cat: /data/x: No such file or directory\n", 1)


# ----------------------------------------------------------------- sleep, servers, shells


def test_sleep_runs_for_its_seconds_ignoring_sigterm_then_exits_0(cluster):
    outcome = start(cluster, args=["sleep", "3600"])
    assert (outcome.runs_forever, outcome.exit_code, outcome.sleep_seconds, outcome.ignores_sigterm) == (True, None, 3600, True)
    assert (outcome.output_after_sleep, outcome.exit_code_after_sleep) == ("", 0)
    assert start(cluster, args=["sleep", "1m", "30"]).sleep_seconds == 90


def test_sleep_infinity_never_ends(cluster):
    outcome = start(cluster, args=["sleep", "infinity"])
    assert (outcome.runs_forever, outcome.exit_code, outcome.sleep_seconds, outcome.ignores_sigterm) == (True, None, None, True)
    assert done(start(cluster, args=["sleep", "soon"])) == ("sleep: invalid number 'soon'\n", 1)


def test_nginx_prints_its_entrypoint_lines_and_stays_up(cluster):
    outcome = start(cluster, "nginx:1.21.1")
    assert outcome.output.startswith("/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty")
    assert outcome.output.endswith("/docker-entrypoint.sh: Configuration complete; ready for start up\n")
    assert (outcome.runs_forever, outcome.exit_code, outcome.ignores_sigterm) == (True, None, False)


def test_nginx_args_replace_cmd_but_keep_the_entrypoint(cluster):
    outcome = start(cluster, "nginx", args=["sleep", "5"])
    assert (outcome.output, outcome.sleep_seconds) == ("", 5)
    assert done(start(cluster, "nginx", command=["nginx"])) == ("", 0)  # daemonizes: PID 1 exits


def test_busybox_default_shell_exits_0_at_once_without_a_tty(cluster):
    assert done(start(cluster)) == ("", 0)
    waiting = start(cluster, stdin=True, tty=True)
    assert waiting.runs_forever and waiting.output == "/ # "


def test_sh_runs_sequences_with_substitution_and_quotes(cluster):
    script = "echo \"I am $(hostname)\" && echo 'single $(x)' ; false || echo \"status $?\"; echo a   b \"c  d\""
    assert done(start(cluster, args=["sh", "-c", script], pod=STS_POD)) == (
        "I am nginx-stateful-0\nsingle $(x)\nstatus 1\na b c  d\n", 0)


def test_sh_reports_output_after_a_sleep_and_the_exit_code(cluster):
    outcome = start(cluster, command=["/bin/sh", "-c", "echo start; sleep 10; echo end; exit 3"])
    assert (outcome.output, outcome.sleep_seconds, outcome.output_after_sleep, outcome.exit_code_after_sleep) == (
        "start\n", 10, "end\n", 3)


def test_sh_redirects_to_dev_null_and_uses_exit_codes(cluster):
    script = "nslookup 10.100.194.99 >/dev/null 2>&1 || echo no-name; set -e; true; false; echo unreachable"
    assert done(start(cluster, args=["sh", "-c", script])) == ("no-name\n", 1)


def test_an_unknown_command_fails_with_127_and_says_what_runs(cluster):
    output, code = done(start(cluster, args=["ping", "-c1", "web"]))
    assert code == 127
    assert output.startswith("sh: ping: not found\nstsnb sandbox: containers here run only these programs: ")
    assert all(p in output for p in supported_programs())
    assert done(start(cluster, command=["sh", "-c", "curl x"]))[0].startswith("sh: curl: not found\n")  # busybox
    assert done(start(cluster, "nginx", command=["sh", "-c", "wget x"]))[0].startswith("sh: 1: wget: not found\n")
    assert done(start(cluster, "nginx", args=["nslookup", "x"]))[1] == 127  # not in the Debian-based image


def test_unsupported_shell_syntax_fails_with_a_clear_message(cluster):
    for script in ("case x in a) echo;; esac", "f() { echo; }", "sleep 1 &", "(echo a)"):
        output, code = done(start(cluster, args=["sh", "-c", script]))
        assert code == 2 and "not supported by the stsnb sandbox shell" in output, (script, output)


def test_kubelet_expands_env_references_in_args(cluster):
    env = [{"name": "TARGET", "value": "10.100.194.79"},
           {"name": "ME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]
    assert done(start(cluster, args=["echo", "$(ME)", "$(TARGET)", "$(UNSET)", "$$(ME)"], env=env)) == (
        "dnsquery 10.100.194.79 $(UNSET) $(ME)\n", 0)


def test_run_never_raises_even_when_the_dns_does(cluster):
    def broken(query: dns.message.Message) -> dns.message.Message:
        raise RuntimeError("boom")

    outcome = run(ProgramContext(_pod(), {"name": "c", "image": "busybox", "args": ["nslookup", "x"]},
                                 broken, "10.96.0.10", SEARCH))
    assert outcome.exit_code == 1 and "timed out" in outcome.output
    odd = run(ProgramContext({}, {"name": "c", "image": "quay.io/unknown:1"}, cluster.resolve, "10.96.0.10", SEARCH))
    assert odd.exit_code == 127 and "give the container a command" in odd.output


AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.39"


def test_agnhost_without_a_command_runs_its_default_pause_and_keeps_running(cluster):
    out = start(cluster, AGNHOST)
    assert (out.output, out.runs_forever, out.exit_code, out.listens) == ("Paused\n", True, None, ())


def test_agnhost_netexec_logs_its_servers_in_klog_form_and_serves_its_http_port(cluster):
    out = start(cluster, AGNHOST, command=["/agnhost", "netexec", "--http-port", "9000", "--udp-port=-1"])
    assert out.runs_forever and (out.listens, out.server) == ((9000,), "netexec")
    assert out.output.endswith("       1 log.go:195] Started HTTP server on port 9000\n")
    assert out.output.count("\n") == 1  # no UDP server with --udp-port=-1
    assert out.hostname == "dnsquery"


@pytest.mark.parametrize("args, says", [
    (["netexec", "--http-port=eighty"], 'Error: invalid argument "eighty" for "--http-port" flag: strconv.ParseInt: '
                                        'parsing "eighty": invalid syntax\n'),
    (["netexec", "--verbose"], "Error: unknown flag: --verbose\n"),
    (["netexec", "--http-port"], "Error: flag needs an argument: --http-port\n"),
])
def test_agnhost_netexec_flag_errors_print_cobras_message_and_exit_0_as_agnhost_does(cluster, args, says):
    assert done(start(cluster, AGNHOST, args=args)) == (says, 0)


def test_an_agnhost_subcommand_the_sandbox_does_not_simulate_says_which_ones_it_does(cluster):
    assert done(start(cluster, AGNHOST, args=["liveness"])) == (
        "stsnb sandbox: agnhost liveness is not simulated here; the sandbox's agnhost runs netexec and pause\n", 1)


def test_only_the_agnhost_image_has_agnhost(cluster):
    output, code = done(start(cluster, "busybox", command=["/agnhost", "netexec"]))
    assert code == 127 and output.startswith("sh: /agnhost: not found\n")


BOOTCAMP = "gcr.io/google-samples/kubernetes-bootcamp:v1"


def test_the_bootcamp_image_starts_its_node_server_on_8080_with_its_start_line(cluster):
    out = start(cluster, BOOTCAMP)
    assert out.runs_forever and (out.listens, out.server, out.hostname) == ((8080,), "bootcamp:v=1", "dnsquery")
    assert out.output.startswith("Kubernetes Bootcamp App Started At: ")
    assert out.output.endswith(" | Running On:  dnsquery \n\n")
    assert start(cluster, "docker.io/jocatalin/kubernetes-bootcamp:v2").server == "bootcamp:v=2"


def test_node_runs_only_the_bootcamp_server_and_only_in_its_image(cluster):
    assert done(start(cluster, BOOTCAMP, command=["node", "-e", "1"])) == (
        "stsnb sandbox: node here runs only the kubernetes-bootcamp image's server.js (`node server.js`), "
        "not `node -e 1`\n", 1)
    assert done(start(cluster, "nginx", command=["sh", "-c", "node server.js"]))[1] == 127


# ---------------------------------------------------------------------- perl (the Jobs page's pi Job)
def test_perl_prints_pi_to_the_digits_bpi_asks_for_rounded_as_math_bigfloat_rounds():
    from stsnb.sandbox.node.programs.commands import pi_digits
    assert pi_digits(1) == "3" and pi_digits(3) == "3.14" and pi_digits(10) == "3.141592654"
    digits = pi_digits(2000)
    assert len(digits) == 2001 and digits.startswith("3.14159265358979323846264338327950288419716939937510")
    # π's digits 1996-2005 after the point are 2759009946: the 2000th significant digit rounds up
    assert digits.endswith("4780275901")
    assert len(pi_digits(20000)) == 20001  # past str()'s 4300-digit limit on ints


def test_the_job_examples_perl_command_prints_pi_and_other_perl_says_it_is_not_simulated(cluster):
    job = done(start(cluster, "perl:5.34.0", command=["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"]))
    assert job[1] == 0 and job[0].startswith("3.14159") and job[0].endswith("01\n") and len(job[0]) == 2002
    assert done(start(cluster, "perl", command=["perl", "-wle", "print bpi(10)"])) == (
        "Undefined subroutine &main::bpi called at -e line 1.\n", 255)
    other = done(start(cluster, "perl", command=["perl", "-e", 'print "hi"']))
    assert other[1] == 2 and "perl here runs only the Job example" in other[0]
    assert done(start(cluster, "perl")) == ("", 0)  # the image's `perl -de0`, without a terminal
    assert done(start(cluster, "busybox", command=["perl", "-v"]))[1] == 127  # only the perl image has it


# ---------------------------------------------------------------------- polinux/stress (Assign Memory Resources)
def test_stress_hogs_memory_within_its_limit_for_ever_and_is_oom_killed_over_it(cluster):
    hog = ["stress", "--vm", "1", "--vm-bytes", "150M", "--vm-hang", "1"]
    within = start(cluster, "polinux/stress", command=hog, resources={"limits": {"memory": "200Mi"}})
    assert within.runs_forever and within.output == "stress: info: [1] dispatching hogs: 0 cpu, 0 io, 1 vm, 0 hdd\n"
    over = start(cluster, "polinux/stress", command=["stress", "--vm", "1", "--vm-bytes", "250M", "--vm-hang", "1"],
                 resources={"limits": {"memory": "100Mi"}})
    assert (over.exit_code, over.reason, over.runs_forever) == (137, "OOMKilled", False)
    timed = start(cluster, "polinux/stress", command=["stress", "--cpu", "2", "--timeout", "10s"])
    assert (timed.sleep_seconds, timed.exit_code_after_sleep) == (10, 0)
    assert timed.output_after_sleep == "stress: info: [1] successful run completed in 10s\n"
    assert done(start(cluster, "polinux/stress", command=["stress", "--nope"])) == (
        "stress: FAIL: [1] (244) unrecognized option: --nope\n", 1)


def test_dollar_zero_and_the_positional_parameters_come_from_sh_c_or_the_shells_name(cluster):
    assert done(start(cluster, command=["sh", "-c", "echo $0"])) == ("sh\n", 0)
    assert done(start(cluster, command=["sh", "-c", "echo $0 $1 $2 $#", "myname", "first", "second"])) == (
        "myname first second 2\n", 0)
    assert done(start(cluster, "debian", command=["bash", "-c", "echo $0"])) == ("bash\n", 0)


def test_a_shell_given_a_file_runs_it_as_a_script_with_its_arguments(cluster):
    script = "printf '#!/bin/sh\\necho $0 got $1 and $#\\n' > /tmp/s.sh; sh /tmp/s.sh one two; bash /tmp/s.sh x"
    assert done(start(cluster, "debian", command=["sh", "-c", script])) == (
        "/tmp/s.sh got one and 2\n/tmp/s.sh got x and 1\n", 0)
    assert done(start(cluster, "debian", command=["sh", "/missing.sh"])) == (
        "sh: 0: cannot open /missing.sh: No such file\n", 2)


# ---------------------------------------------------------------------- the Cassandra tutorial's image
def test_the_cassandra_images_run_sh_echoes_its_settings_and_keeps_running(cluster):
    env = [{"name": "POD_IP", "value": "10.100.194.99"}, {"name": "CASSANDRA_SEEDS", "value": "cassandra-0.x"},
           {"name": "CASSANDRA_DC", "value": "DC1"}, {"name": "CASSANDRA_RACK", "value": "R1"}]
    out = start(cluster, "gcr.io/google-samples/cassandra:v13", env=env)
    assert out.runs_forever
    lines = out.output.splitlines()
    assert lines[:4] == ["Starting Cassandra on 10.100.194.99", "CASSANDRA_CONF_DIR /etc/cassandra",
                         "CASSANDRA_CFG /etc/cassandra/cassandra.yaml", "CASSANDRA_AUTO_BOOTSTRAP true"]
    assert "CASSANDRA_SEEDS cassandra-0.x" in lines and "CASSANDRA_NUM_TOKENS 32" in lines
    assert "CASSANDRA_CLUSTER_NAME Test Cluster" in lines  # run.sh's default
    # nodetool and the probe are in that image only, and say the node is not up before it has joined
    probe = done(start(cluster, "gcr.io/google-samples/cassandra:v13", env=env,
                       command=["/bin/bash", "-c", "/ready-probe.sh"]))
    assert probe == ("", 1)
    assert done(start(cluster, "busybox", command=["nodetool", "status"]))[1] == 127


def test_effective_ownership_with_two_replicas_adds_up_to_twice_the_ring():
    from stsnb.sandbox.node.programs.cassandra import _ownership, _tokens
    ids = ["2cd735a6-d1f7-5e00-9ef0-02a3aef95582", "0123b829-ab60-5608-a884-b6a41cb47e16",
           "4033f33c-b52b-5983-8f4d-2c664a9cf364"]
    assert _ownership({"a": _tokens(ids[0], 32)}) == {"a": 1.0}
    two = _ownership({"a": _tokens(ids[0], 32), "b": _tokens(ids[1], 32)})
    assert two == {"a": pytest.approx(1.0), "b": pytest.approx(1.0)}  # two nodes, two replicas: each has all
    three = _ownership({ip: _tokens(h, 32) for ip, h in zip("abc", ids)})
    assert sum(three.values()) == pytest.approx(2.0)
    assert all(0.4 < v < 0.9 for v in three.values())
    assert _tokens(ids[0], 32) == _tokens(ids[0], 32)  # a node's tokens follow from its host ID


# ---------------------------------------------------------------------- the ZooKeeper tutorial's image
ZK = "registry.k8s.io/kubernetes-zookeeper:1.0-3.4.10"


def test_start_zookeeper_refuses_unknown_options_and_pods_without_an_ordinal(cluster):
    assert done(start(cluster, ZK, command=["start-zookeeper", "--servers=3", "--colour=blue"], pod=_pod("zk-0"))) == (
        "Unknown option --colour=blue\n", 1)
    assert done(start(cluster, ZK, command=["start-zookeeper"], pod=_pod("zookeeper"))) == (
        "Failed to parse name and ordinal of Pod\n", 1)


def test_start_zookeeper_writes_its_configuration_and_serves(cluster):
    out = start(cluster, ZK, command=["sh", "-c", "start-zookeeper --servers=3 --heap=512M"],
                pod=_pod("zk-1", subdomain="zk-hs"))
    assert out.runs_forever and out.listens == (2181,) and out.server == "zookeeper:2181:2:/var/lib/zookeeper/data"
    assert "server.3=zk-2.zk-hs.default.svc.cluster.local:2888:3888\n" in out.output
    assert "ZooKeeper JMX enabled by default\nUsing config: /opt/zookeeper/conf/zoo.cfg\n" in out.output


def test_zkcli_and_zookeeper_ready_without_a_server_say_so(cluster):
    assert done(start(cluster, ZK, command=["zookeeper-ready", "2181"], pod=_pod("zk-0"))) == ("", 1)
    lost = done(start(cluster, ZK, command=["zkCli.sh", "get", "/hello"], pod=_pod("zk-0")))
    assert lost == ("Connecting to localhost:2181\n"
                    'Exception in thread "main" org.apache.zookeeper.KeeperException$ConnectionLossException: '
                    "KeeperErrorCode = ConnectionLoss for /hello\n", 1)
    shell = done(start(cluster, ZK, command=["zkCli.sh"], pod=_pod("zk-0")))
    assert shell[1] == 1 and "not its interactive shell" in shell[0]
    # only that image has them, and a removed one is gone
    assert done(start(cluster, "busybox", command=["zkCli.sh", "ls", "/"]))[1] == 127
    assert done(start(cluster, ZK, command=["sh", "-c", "rm /usr/bin/zookeeper-ready; zookeeper-ready 2181"],
                      pod=_pod("zk-0")))[1] == 127


def test_a_zookeeper_server_ignores_a_state_it_did_not_write():
    from stsnb.sandbox.node.containers import FileSystem, image_root
    from stsnb.sandbox.node.network import HttpRequest
    from stsnb.sandbox.node.zookeeper import STATE_FILE, empty_state, load_state, zookeeper_server
    fs = FileSystem(image_root("debian", False))
    serve = zookeeper_server(fs, "/data", "1", 2181, lambda text: None, lambda: 0.0)
    for hostile in (b"[]", b'{"epoch": 1, "counter": 1, "nodes": {"/": 5}}', b"\xff", b'{"epoch": -1}'):
        assert serve(HttpRequest("PUT", "/state", body=hostile)).status == 400
    fs.makedirs("/data/version-2")
    fs.write(f"/data/{STATE_FILE}", b'{"epoch": "x", "counter": 0, "nodes": {}}')  # edited by hand in the pod
    assert load_state(fs, "/data") == empty_state()
    assert serve(HttpRequest("GET", "/ruok")).body == b"imok"


# ---------------------------------------------------------------------- who runs (Configure a Security Context)
def test_id_shows_run_as_user_run_as_group_and_fs_group_as_the_security_context_page_does(cluster):
    demo = _pod("security-context-demo", securityContext={"runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 2000})
    assert done(start(cluster, "busybox:1.28", command=["id"], pod=demo)) == ("uid=1000 gid=3000 groups=2000\n", 0)
    assert done(start(cluster, "busybox:1.28", command=["id", "-u"], pod=demo)) == ("1000\n", 0)
    # the container's own runAsUser wins; a user the image knows gets its names and its primary group
    own = start(cluster, "debian", command=["id"], pod=demo, securityContext={"runAsUser": 33})
    assert done(own) == ("uid=33(www-data) gid=3000 groups=3000,2000\n", 0)
    assert done(start(cluster, "busybox", command=["id"])) == ("uid=0(root) gid=0(root) groups=0(root)\n", 0)
    assert done(start(cluster, "busybox", command=["id", "-x"]))[1] == 1


def test_ps_lists_the_main_process_as_pid_1_with_a_lone_sh_c_command_in_its_place(cluster):
    demo = _pod("security-context-demo", securityContext={"runAsUser": 1000})
    alone = done(start(cluster, "busybox:1.28", command=["sh", "-c", "ps"], pod=demo))
    assert alone == ("PID   USER     TIME  COMMAND\n    1 1000      0:00 ps\n", 0)
    child = done(start(cluster, "busybox:1.28", command=["sh", "-c", "ps; true"], pod=demo))
    assert child == ("PID   USER     TIME  COMMAND\n    1 1000      0:00 sh -c ps; true\n    6 1000      0:00 ps\n", 0)
    assert done(start(cluster, "debian", command=["ps"]))[1] == 127  # Debian's slim images have no procps


def test_files_made_by_a_non_root_user_are_theirs_and_the_kubelets_stay_roots(cluster):
    demo = _pod("security-context-demo", securityContext={"runAsUser": 1000, "runAsGroup": 3000})
    out = done(start(cluster, "busybox:1.28", command=["sh", "-c", "echo hello > /tmp/f; ls -l /tmp/f; ls -l /etc/hostname"],
                     pod=demo))
    lines = out[0].splitlines()
    assert lines[0].startswith("-rw-r--r--    1 1000     3000             6 ") and lines[0].endswith(" /tmp/f")
    assert " root     root " in lines[1]  # the kubelet's files stay root's
