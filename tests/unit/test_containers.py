"""Container filesystems and the programs that use them: files, redirection, pipes, loops, tar, limits, HTTP."""

from __future__ import annotations

import ipaddress
import io
import os
import re
import tarfile
import time
from pathlib import Path

import pytest

from stsnb.sandbox.node.containers import (ENOSPC, EROFS, FileSystem, FsError, Volume, VolumeData, image_root,
                                            projected_volume, split_path, write_projection)
from stsnb.sandbox.node.envvars import go_quote
from stsnb.sandbox.node.network import HttpConnection, HttpRequest, hello_app_server, nginx_server
from stsnb.sandbox.node.programs import Limits, ProgramContext, run
from stsnb.sandbox.node.programs.process import Process

SEARCH = ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"]


def _no_dns(query):
    raise RuntimeError("no DNS in this test")


def _ctx(image: str = "busybox", script: str | None = None, *, fs: FileSystem | None = None, network=None,
         limits: Limits | None = None, **container) -> ProgramContext:
    spec = {"name": "c", "image": image, **container}
    if script is not None:
        spec["command"] = ["sh", "-c", script]
    pod = {"metadata": {"name": "web-0", "namespace": "default"}, "spec": {},
           "status": {"podIP": "10.244.1.5", "podIPs": [{"ip": "10.244.1.5"}]}}
    return ProgramContext(pod, spec, _no_dns, "10.96.0.10", SEARCH, fs=fs, network=network, limits=limits)


def sh(script: str, image: str = "busybox", **kw) -> tuple[str, int]:
    out = run(_ctx(image, script, **kw))
    return out.output, out.exit_code


def test_paths_resolve_lexically_and_dotdot_stops_at_the_root():
    assert split_path("../../../etc/passwd", "/usr/share") == ["etc", "passwd"]
    assert split_path("/a/./b/../c") == ["a", "c"]
    fs = FileSystem(image_root("busybox", nginx=False))
    assert fs.read("/../../../../etc/passwd").startswith(b"root:x:0:0:root:/root:/bin/sh")


def test_a_container_cannot_read_or_write_the_hosts_files(tmp_path):
    marker = tmp_path / "host-file"
    marker.write_text("the host's own file\n")
    host_passwd = Path("/etc/passwd").read_bytes()
    out, code = sh(f"cat /etc/passwd; cat {marker}; echo x > {marker}; echo y > /tmp/stsnb-host-probe; "
                   f"cat ../../../..{marker}; ls /tmp")
    assert out.startswith("root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:")  # busybox's, not the host's
    assert host_passwd.decode(errors="replace") not in out
    assert f"cat: can't open '{marker}': No such file or directory" in out
    assert marker.read_text() == "the host's own file\n"  # untouched
    assert not os.path.exists("/tmp/stsnb-host-probe")  # the container's /tmp is its own
    assert out.rstrip().endswith("stsnb-host-probe")  # ... where the file does exist
    assert code == 0


def test_redirections_write_append_and_read_files():
    out, code = sh("echo one > /tmp/f; echo two >> /tmp/f; cat < /tmp/f; wc -l /tmp/f; "
                   "echo oops > /no/such/dir/f; echo $?")
    assert out == "one\ntwo\n2 /tmp/f\nsh: can't create /no/such/dir/f: nonexistent directory\n1\n"
    assert code == 0
    out, _ = sh("echo oops > /no/such/dir/f", image="nginx")
    assert out == "sh: 1: cannot create /no/such/dir/f: Directory nonexistent\n"


def test_pipes_loops_and_conditions_run():
    script = ("for i in 1 2 3; do echo line$i; done | grep -v line2 | wc -l; "
              "n=0; while [ $n -lt 3 ]; do n=$(expr_is_missing 2>/dev/null || echo 3); done; echo n=$n; "
              "if test -d /etc; then echo dir; elif true; then echo no; else echo never; fi; "
              "until true; do echo never; done; echo done")
    out, code = sh(script)
    assert out == "2\nn=3\ndir\ndone\n" and code == 0


def test_file_programs_behave_like_busybox_and_coreutils():
    out, _ = sh("mkdir -p /data/a/b && touch /data/a/f && ls /data/a && rm /data/a; rm -r /data/a; ls /data; "
                "rm /nope; mkdir /data")
    assert out == ("b\nf\nrm: '/data/a' is a directory\n"
                   "rm: can't remove '/nope': No such file or directory\n"
                   "mkdir: can't create directory '/data': File exists\n")
    out, _ = sh("rm /nope; ls /nope", image="nginx")
    assert out == ("rm: cannot remove '/nope': No such file or directory\n"
                   "ls: cannot access '/nope': No such file or directory\n")


def test_nginx_has_its_default_files_and_busybox_its_resolv_conf():
    out, _ = sh("cat /usr/share/nginx/html/index.html | head -4; ls /etc/nginx/conf.d", image="nginx")
    assert out == "<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\ndefault.conf\n"
    out, _ = sh("cat /etc/resolv.conf /etc/hostname")
    assert out == ("search default.svc.cluster.local svc.cluster.local cluster.local\n"
                   "nameserver 10.96.0.10\noptions ndots:5\nweb-0\n")


def test_tar_creates_and_extracts_archives_through_stdin_and_stdout():
    fs = FileSystem(image_root("busybox", nginx=False))
    fs.makedirs("/src/sub")
    fs.write("/src/sub/a.txt", b"hello\n")
    fs.write("/src/bin", bytes(range(256)))
    ctx = _ctx("busybox", "tar cf - /src", fs=fs)
    archive = run(ctx).output.encode("utf-8", "surrogateescape")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tf:
        assert sorted(tf.getnames()) == ["src", "src/bin", "src/sub", "src/sub/a.txt"]
        assert tf.extractfile("src/bin").read() == bytes(range(256))
    chunks: list[bytes] = []
    proc = Process(_ctx("busybox"), ["tar", "-xmf", "-", "-C", "/restored"], tty=False,
                   on_output=lambda ch, data: chunks.append(data), on_exit=lambda code, reason: None)
    proc.ctx.fs.makedirs("/restored")
    proc.start()
    proc.write(archive)
    proc.close_stdin()
    assert proc.wait(10) == 0, chunks
    assert proc.ctx.fs.read("/restored/src/bin") == bytes(range(256))
    assert proc.ctx.fs.read("/restored/src/sub/a.txt") == b"hello\n"


def test_tar_refuses_members_that_would_leave_the_target_directory():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("../../escape")
        info.size = 2
        tf.addfile(info, io.BytesIO(b"x\n"))
    out: list[bytes] = []
    proc = Process(_ctx("busybox"), ["tar", "xf", "-", "-C", "/tmp"], tty=False,
                   on_output=lambda ch, d: out.append(d), on_exit=lambda c, r: None).start()
    proc.write(buf.getvalue())
    proc.close_stdin()
    proc.wait(10)
    assert not proc.ctx.fs.exists("/escape") and b"skipping" in b"".join(out)


def test_volumes_have_quotas_and_read_only_mounts_refuse_writes():
    fs = FileSystem(image_root("busybox", nginx=False))
    small = Volume(quota=1000)
    fs.mount("/data", small)
    fs.mount("/config", projected_volume({"key": b"value"}, "configMap"))
    fs.write("/data/a", b"x" * 500)
    with pytest.raises(FsError) as e:
        fs.write("/data/b", b"x" * 600)
    assert e.value.strerror == ENOSPC
    assert fs.read("/config/key") == b"value"
    with pytest.raises(FsError) as e:
        fs.write("/config/key", b"changed")
    assert e.value.strerror == EROFS


def test_volume_data_is_kept_per_key_until_released():
    data = VolumeData()
    FileSystem(data.get(("pv", "uid-1"))).write("/index.html", b"web-0\n")
    assert FileSystem(data.get(("pv", "uid-1"))).read("/index.html") == b"web-0\n"
    data.release("pv", "uid-1")
    assert not FileSystem(data.get(("pv", "uid-1"))).exists("/index.html")


def test_a_memory_bomb_is_killed_as_out_of_memory():
    outcome = run(_ctx("busybox", "a=xxxxxxxxxxxxxxxx; while true; do a=$a$a$a$a; done",
                       limits=Limits(memory=1 << 20)))
    assert (outcome.exit_code, outcome.reason) == (137, "OOMKilled")
    assert "memory limit" in outcome.output


def test_a_busy_loop_is_stopped_after_its_step_budget():
    outcome = run(_ctx("busybox", "while true; do :; done", limits=Limits(steps=500)))
    assert outcome.exit_code == 137 and outcome.reason == "Error"
    assert "without sleeping or waiting for input" in outcome.output


def test_a_loop_that_sleeps_runs_for_ever_without_being_killed():
    outcome = run(_ctx("busybox", "while true; do echo tick; sleep 5; done", limits=Limits(steps=500)))
    assert outcome.runs_forever and outcome.exit_code is None and outcome.output == "tick\n"


def test_nginx_serves_files_403_for_a_directory_without_index_and_404_for_missing_ones():
    fs = FileSystem(image_root("debian", nginx=True))
    serve = nginx_server(fs, "1.27.3")
    ok = serve(HttpRequest("GET", "/"))
    assert ok.status == 200 and b"Welcome to nginx!" in ok.body
    fs.remove("/usr/share/nginx/html/index.html")
    forbidden = serve(HttpRequest("GET", "/"))
    assert forbidden.status == 403 and b"<center><h1>403 Forbidden</h1></center>" in forbidden.body
    assert serve(HttpRequest("GET", "/nope.html")).status == 404
    assert serve(HttpRequest("POST", "/")).status == 405


def test_an_http_connection_answers_pipelined_requests_with_h11():
    fs = FileSystem(image_root("debian", nginx=True))
    fs.write("/usr/share/nginx/html/index.html", b"web-0\n")
    sent: list[bytes] = []
    conn = HttpConnection(nginx_server(fs, "1.11.13"), sent.append, lambda: None)
    conn.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b"".join(sent)
    assert data.count(b"HTTP/1.1 200 OK\r\n") == 2 and data.endswith(b"web-0\n")
    assert b"Server: nginx/1.11.13" in data


def test_wget_and_curl_fetch_through_the_pod_network_with_their_own_messages():
    fs = FileSystem(image_root("debian", nginx=True))
    fs.write("/usr/share/nginx/html/index.html", b"web-0\n")

    def network(ip: str, port: int):
        if (ip, port) == ("10.244.1.5", 80):
            return nginx_server(fs, "1.27.3")
        from stsnb.sandbox.node.network import Refused
        raise Refused("refused")

    out, code = sh("wget -qO- http://10.244.1.5/; wget -qO- http://10.244.1.5:81/", network=network)
    assert out == "web-0\nwget: can't connect to remote host (10.244.1.5): Connection refused\n" and code == 1
    out, code = sh("curl -s http://localhost/; curl -s http://localhost/nope -f; echo $?; curl http://nohost/",
                   image="nginx", network=lambda ip, port: network("10.244.1.5" if ip == "127.0.0.1" else ip, port))
    assert out == "web-0\n22\ncurl: (6) Could not resolve host: nohost\n" and code == 6


def test_an_interactive_shell_on_a_terminal_echoes_prompts_and_exits():
    chunks: list[bytes] = []
    codes: list[int] = []
    proc = Process(_ctx("busybox:1.28", stdin=True, tty=True), ["sh"], tty=True,
                   on_output=lambda ch, d: chunks.append(d), on_exit=lambda c, r: codes.append(c)).start()

    def prompts(n: int) -> None:  # type the next line once the shell shows its n-th prompt, as a person does
        deadline = time.monotonic() + 10
        while b"".join(chunks).count(b"/ # ") < n and time.monotonic() < deadline:
            time.sleep(0.01)

    prompts(1)
    proc.write(b"echo hi\r")
    prompts(2)
    proc.write(b"ecx\x7fho $HOSTNAME\r")
    prompts(3)
    proc.write(b"exit 3\r")
    assert proc.wait(10) == 3 and codes == [3]
    text = b"".join(chunks).decode()
    assert text == "/ # echo hi\r\nhi\r\n/ # ecx\b \bho $HOSTNAME\r\nweb-0\r\n/ # exit 3\r\n"


def test_spdy_frames_and_header_blocks_round_trip_with_the_draft_3_dictionary():
    import struct
    import zlib

    from stsnb.sandbox.apiserver.spdy import (DICTIONARY, SYN_STREAM, Session, control_frame, data_frame,
                                              decode_headers, encode_headers)
    assert zlib.adler32(DICTIONARY) == 0xE3C6A7C2  # the DICTID spdystream's zlib streams carry
    client = zlib.compressobj(zlib.Z_BEST_COMPRESSION, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, zdict=DICTIONARY)

    def syn(stream_id: int, headers: dict) -> bytes:
        block = client.compress(encode_headers(headers)) + client.flush(zlib.Z_SYNC_FLUSH)
        return control_frame(SYN_STREAM, 0, struct.pack(">IIBB", stream_id, 0, 0, 0) + block)

    class Kubelet:
        def port_forward(self, namespace, name, port, send, close):
            class Echo:
                def feed(self, data):
                    send(data.upper())
            return Echo()

    out: list[bytes] = []
    session = Session(out.append, Kubelet(), "default", "web")
    frames = syn(1, {"streamtype": "error", "port": "80", "requestid": "0"}) + \
        syn(3, {"streamtype": "data", "port": "80", "requestid": "0"}) + data_frame(3, b"hello") + \
        data_frame(3, b"", fin=True)
    session.feed(frames[:7])  # frames may arrive in any split
    session.feed(frames[7:])
    server = zlib.decompressobj(zdict=DICTIONARY)
    replies = [o for o in out if o[:4] == b"\x80\x03\x00\x02"]
    assert [struct.unpack_from(">I", r, 8)[0] for r in replies] == [1, 3]
    assert all(decode_headers(server.decompress(r[12:])) == {} for r in replies)
    assert data_frame(3, b"HELLO") in out
    assert out[-2:] == [data_frame(3, b"", fin=True), data_frame(1, b"", fin=True)]


def test_arithmetic_expansion_counts_loops_with_integers_only():
    out, code = sh("i=0; while [ $i -lt 3 ]; do i=$((i + 1)); echo $i; done; echo $(( (7 - 10) / 2 )) $((7 % 3))")
    assert (out, code) == ("1\n2\n3\n-1 1\n", 0)
    out, code = sh("echo $((2 ** 99999))")
    assert code == 2 and "arithmetic syntax error" in out


def test_a_shell_at_a_prompt_reports_an_error_and_goes_on():
    chunks: list[bytes] = []
    proc = Process(_ctx("busybox", stdin=True), ["sh"], tty=False,
                   on_output=lambda ch, d: chunks.append(d), on_exit=lambda c, r: None).start()
    proc.write(b"echo 'unterminated\necho still here\nexit 4\n")
    assert proc.wait(10) == 4
    assert b"".join(chunks) == b"sh: syntax error: unterminated quoted string\nstill here\n"


def test_symbolic_links_resolve_inside_the_container_and_never_reach_the_hosts_files(tmp_path):
    marker = tmp_path / "host-file"
    marker.write_text("the host's own file\n")
    out, code = sh(f"ln -s {marker} /tmp/to-host; cat /tmp/to-host; ln -s ../../../../../etc/passwd /tmp/up; "
                   f"head -n 1 /tmp/up; ln -s loop /tmp/loop; cat /tmp/loop; echo x > /tmp/to-host; "
                   f"ln -s /tmp/new /tmp/to-new; echo hi > /tmp/to-new; cat /tmp/new")
    assert "cat: can't open '/tmp/to-host': No such file or directory" in out  # the target is the container's path
    assert "root:x:0:0:root:/root:/bin/sh\n" in out  # .. stops at the container's root: its own passwd
    assert "cat: can't open '/tmp/loop': Too many levels of symbolic links" in out
    assert out.rstrip().endswith("hi")  # writing through a link made the container's file
    assert marker.read_text() == "the host's own file\n"
    assert code == 0


def test_a_symbolic_link_on_a_volume_resolves_in_the_filesystem_that_reads_it():
    data = Volume()
    first = FileSystem(image_root("busybox", nginx=False))
    first.mount("/data", data)
    out, _ = sh("echo $(hostname) | dd of=/data/hostname conv=fsync; ln -s /data/hostname /data/hostname-symlink",
                fs=first)
    assert out == "0+1 records in\n0+1 records out\n6 bytes (6B) copied, 0.000071 seconds, 82.5KB/s\n"
    second = FileSystem(image_root("debian", nginx=False))  # the next pod of the claim
    second.mount("/data", data)
    out, code = sh('if [ "$(cat /data/hostname-symlink)" = "$(hostname)" ]; then exit 0; else exit 1; fi', fs=second)
    assert code == 0
    assert second.lstat("/data/hostname-symlink").target == "/data/hostname"
    out, _ = sh("ls -l /data; find /data; find /data -type l; rm /data/hostname-symlink; ls /data", "nginx", fs=second)
    assert " hostname-symlink -> /data/hostname\n" in out
    assert "/data\n/data/hostname\n/data/hostname-symlink\n/data/hostname-symlink\n" in out
    assert out.endswith("hostname\n") and second.read("/data/hostname") == b"web-0\n"


def test_dd_printf_and_hard_links():
    out, code = sh("dd if=/dev/zero of=/z bs=1 count=3 conv=fsync 2>/dev/null; wc -c < /z; printf $(hostname); "
                   "printf '\\n%s=%03d;' a 1 b 2; echo; ln /z /z2; echo more >> /z2; wc -c < /z", "nginx")
    assert out == "3\nweb-0\na=001;\nb=002;\n8\n"  # the format is used again for the arguments left
    assert code == 0


def test_cluster_nodes_keeps_the_guides_two_workers_first_and_adds_more_in_their_own_pod_ranges():
    from stsnb.sandbox.node.scheduler import DEFAULT_NODES, MAX_WORKERS, cluster_nodes
    assert cluster_nodes() == DEFAULT_NODES
    assert [n.name for n in cluster_nodes(1)] == ["k8s-master", "k8s-worker1"]
    four = cluster_nodes(4)
    assert [n.name for n in four] == ["k8s-master", "k8s-worker1", "k8s-worker2", "k8s-worker3", "k8s-worker4"]
    import ipaddress
    for n in cluster_nodes(MAX_WORKERS):
        assert ipaddress.ip_address(n.first_pod_ip) in ipaddress.ip_network(n.pod_cidr)
    assert len({n.pod_cidr for n in cluster_nodes(MAX_WORKERS)}) == MAX_WORKERS + 1
    for bad in (0, MAX_WORKERS + 1, -3):
        with pytest.raises(ValueError, match=r"\(--workers\) must be a whole number from 1 to 16, got"):
            cluster_nodes(bad)


def test_a_lazy_filesystem_passes_settings_to_the_filesystem_it_builds():
    from stsnb.sandbox.node.runtime import LazyFileSystem
    built = []
    lazy = LazyFileSystem(lambda: built.append(1) or FileSystem(image_root("debian", nginx=False)))
    lazy.owner = (999, 999)  # as the MySQL entrypoint switching to its user does
    lazy.makedirs("/var/lib/mysql/mysql")
    assert built == [1] and lazy.owner == (999, 999)
    assert (lazy.stat("/var/lib/mysql/mysql").uid, lazy.stat("/var/lib/mysql/mysql").gid) == (999, 999)


def test_a_pod_never_gets_an_address_a_service_holds_inside_the_pod_range():
    import random
    from stsnb.sandbox.node.scheduler import DEFAULT_NODES, Ipam
    worker1 = DEFAULT_NODES[1]
    first = Ipam([worker1], random.Random(0)).allocate(worker1.name)
    ipam = Ipam([worker1], random.Random(0))  # the same start: `first` is the next address
    second = ipam.allocate(worker1.name, taken=lambda ip: ip == first)  # a Service's ClusterIP, e.g. set by hand
    assert second != first and ipaddress.ip_address(second) == ipaddress.ip_address(first) + 1
    assert ipam.allocate(worker1.name) == str(ipaddress.ip_address(first) + 2)


def test_a_projection_is_written_as_the_atomic_writer_does_and_replaced_whole():
    vol = projected_volume({"a": b"1", "dir/b": b"2", "/abs": b"x", "../up": b"x", "..hidden": b"x"}, "configMap",
                           stamp="2026_12_04_10_00_00.1", modes={"a": 0o400})
    fs = FileSystem(image_root("busybox", nginx=False))
    fs.mount("/cfg", vol)
    assert fs.listdir("/cfg") == ["..2026_12_04_10_00_00.1", "..data", "a", "dir"]
    assert fs.lstat("/cfg/..data").target == "..2026_12_04_10_00_00.1" and fs.lstat("/cfg/dir").target == "..data/dir"
    assert fs.read("/cfg/dir/b") == b"2" and fs.stat("/cfg/a").mode == 0o400
    held = fs.read("/cfg/..2026_12_04_10_00_00.1/a")
    write_projection(vol, {"dir/b": b"3", "c": b"4"}, "2026_12_04_10_01_00.2")
    assert fs.listdir("/cfg") == ["..2026_12_04_10_01_00.2", "..data", "c", "dir"], "a gone, c new, the old payload gone"
    assert (fs.read("/cfg/dir/b"), fs.read("/cfg/c"), held) == (b"3", b"4", b"1")
    with pytest.raises(FsError) as e:
        fs.write("/cfg/c", b"mine")
    assert e.value.strerror == EROFS


def test_a_sub_path_can_mount_one_file_of_a_read_only_projection():
    fs = FileSystem(image_root("busybox", nginx=False))
    fs.mount("/etc/app.conf", projected_volume({"app.conf": b"x=1"}, "configMap"), sub_path="app.conf")
    assert fs.read("/etc/app.conf") == b"x=1"


@pytest.mark.parametrize("text, quoted", [
    ("plain", '"plain"'), ('say "hi"', '"say \\"hi\\""'), ("a\\b", '"a\\\\b"'), ("l1\nl2\t", '"l1\\nl2\\t"'),
    ("\x01\x7f", '"\\x01\\x7f"'), ("한글 é", '"한글 é"'), ("\u00a0\u200b", '"\\u00a0\\u200b"'),
    ("\U000e0001", '"\\U000e0001"')])
def test_go_quote_is_strconv_quote(text, quoted):
    assert go_quote(text) == quoted


def test_ls_long_heads_directories_with_their_total_and_recurses_with_capital_r():
    fs = FileSystem(image_root("busybox", nginx=False))
    fs.mount("/v", projected_volume({"k": b"x" * 5000}, "configMap", stamp="S"))
    out, code = sh("ls -lR /v; ls -laR /v; ls -l /v/k /etc/passwd /v/..data; readlink /v/k; readlink -f /v/k; "
                   "readlink /etc", fs=fs)
    lines = out.splitlines()
    assert code == 1, "readlink of something that is not a link fails, silently"
    # without -a the payload directory is hidden, so -R does not go into it
    assert lines[0] == "/v:" and lines[1] == "total 0" and lines[2].endswith(" k -> ..data/k")
    assert lines[3:5] == ["/v:", "total 12"] and lines[5].endswith(" .") and lines[6].endswith(" ..")
    assert lines[9].endswith(" k -> ..data/k")
    # . and .. count a block each, the 5,000-byte file two (1K blocks of 4K pages)
    assert lines[10:13] == ["", "/v/..S:", "total 16"] and lines[15].startswith("-rw-r--r-- ")
    # file operands in name order; a link operand is shown itself with -l
    assert [re.search(r"\d\d:\d\d (.*)$", line).group(1) for line in lines[16:19]] == [
        "/etc/passwd", "/v/..data -> ..S", "/v/k -> ..data/k"]
    assert lines[19:] == ["..data/k", "/v/..S/k"]


def test_coreutils_ls_long_aligns_its_columns_to_the_widest_cell_and_busybox_keeps_fixed_widths():
    fs = FileSystem(image_root("nginx", nginx=False))
    fs.write("/tmp/big", b"x" * 12345)
    fs.write("/tmp/small", b"x")
    out, _ = sh("ls -l /tmp/small /tmp/big", image="nginx", fs=fs)
    assert out.splitlines() == [f"-rw-r--r-- 1 root root 12345 {_when(fs, '/tmp/big')} /tmp/big",
                                f"-rw-r--r-- 1 root root     1 {_when(fs, '/tmp/small')} /tmp/small"]
    out, _ = sh("ls -l /tmp/small", fs=fs)
    assert out == f"-rw-r--r--    1 root     root             1 {_when(fs, '/tmp/small')} /tmp/small\n"


def _when(fs: FileSystem, path: str) -> str:
    return time.strftime("%b %e %H:%M", time.gmtime(fs.stat(path).mtime))


def test_hello_app_says_where_it_listens_and_answers_with_its_version_and_hostname():
    out = run(_ctx("gcr.io/google-samples/hello-app:2.0", None, command=["/hello-app"]))
    assert re.fullmatch(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d Server listening on port 8080\n", out.output)
    assert (out.listens, out.server) == ((8080,), "hello-app:2.0.0")
    moved = run(_ctx("us-docker.pkg.dev/google-samples/containers/gke/hello-app:1.0", None, command=["/hello-app"],
                     env=[{"name": "PORT", "value": "9000"}]))
    assert (moved.listens, moved.server) == ((9000,), "hello-app:1.0.0") and moved.output.endswith(" 9000\n")
    logged: list[str] = []
    answer = hello_app_server("web-0", "1.0.0", logged.append)(HttpRequest("GET", "/hello?x=1"))
    assert (answer.status, answer.body) == (200, b"Hello, world!\nVersion: 1.0.0\nHostname: web-0\n")
    assert ("Content-Type", "text/plain; charset=utf-8") in answer.headers
    assert logged[0].endswith(" Serving request: /hello\n")
    assert run(_ctx("busybox", "/hello-app")).exit_code == 127, "only its own image has it"
