"""``Sandbox(data_dir=...)``: each PersistentVolume's files on disk under ``data_dir/<pv uid>/``, confined there."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from stsnb.sandbox import Sandbox
from stsnb.sandbox.node.containers import ENOSPC, ENTRY_BYTES, FileSystem, FsError, image_root
from stsnb.sandbox.node.disk import DirectoryVolume, PvDirectories

from .conftest import sts_settled, wait_until
from .test_exec import HTML, pod, run_exec, running, storage_class, web_sts


@pytest.fixture
def host(tmp_path) -> Path:
    """A corner of the host a container must never reach: beside the data directory, with a file in it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("host data\n")
    return outside


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def sandbox(data_dir):
    with Sandbox(dns_port=None, seed=11, data_dir=data_dir) as sb:
        yield sb
    assert not sb.internal_errors, sb.internal_errors
    assert not sb.engine.errors, sb.engine.errors


def host_tree(root: Path) -> dict[str, bytes | str]:
    """Every entry under ``root`` (links not followed): a file's bytes, a link's target, ``"dir"``."""
    out: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            out[rel] = f"-> {os.readlink(p)}" if p.is_symlink() else "dir" if p.is_dir() else p.read_bytes()
    return out


def claim_pod(core, sandbox, name: str = "writer", claim: str = "data", reclaim: str = "Delete") -> str:
    """A running busybox pod with claim ``claim`` (its class binds at once) mounted at ``/data``; the PV's uid."""
    cls = f"local-{reclaim.lower()}"
    if sandbox.store.get("storageclasses", "", cls) is None:
        sandbox.registry.create("storageclasses", None, storage_class(cls, reclaim))
    core.create_namespaced_persistent_volume_claim("default", {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": claim},
        "spec": {"storageClassName": cls, "accessModes": ["ReadWriteOnce"],
                 "resources": {"requests": {"storage": "1Gi"}}}})
    mounting_pod(core, name, claim)
    pv = core.read_namespaced_persistent_volume_claim(claim, "default").spec.volume_name
    return core.read_persistent_volume(pv).metadata.uid


def mounting_pod(core, name: str, claim: str = "data", image: str = "busybox") -> None:
    """A running pod of ``image`` with the existing claim ``claim`` mounted at ``/data``."""
    spec = pod(name, image, command=["sleep", "3600"], volumeMounts=[{"name": "d", "mountPath": "/data"}])
    spec["spec"]["volumes"] = [{"name": "d", "persistentVolumeClaim": {"claimName": claim}}]
    running(core, spec)


def gone(core, name: str, timeout: float = 10) -> None:
    core.delete_namespaced_pod(name, "default", grace_period_seconds=0)
    deadline = time.monotonic() + timeout
    while any(p.metadata.name == name for p in core.list_namespaced_pod("default").items):
        assert time.monotonic() < deadline, f"pod {name} is still there"
        time.sleep(0.05)


# ---------------------------------------------------------------------- through the API


def test_a_statefulset_pods_files_are_on_disk_under_the_pv_uid_and_its_successor_reads_them(core, apps, sandbox,
                                                                                            data_dir):
    apps.create_namespaced_stateful_set("default", web_sts(replicas=1))
    wait_until(apps.list_namespaced_stateful_set, sts_settled(1), "default")
    first = core.read_namespaced_pod("web-0", "default").metadata.uid
    assert run_exec(core, "web-0", ["sh", "-c", f"echo web-0 > {HTML}/index.html; mkdir {HTML}/logs; "
                                                f"echo started >> {HTML}/logs/boot; echo again >> {HTML}/logs/boot"]
                    ) == ("", "", 0)
    pv = core.read_namespaced_persistent_volume_claim("www-web-0", "default").spec.volume_name
    pv_dir = data_dir / core.read_persistent_volume(pv).metadata.uid
    assert (pv_dir / "index.html").read_text() == "web-0\n"
    assert (pv_dir / "logs" / "boot").read_text() == "started\nagain\n"
    assert sorted(p.name for p in data_dir.iterdir()) == [pv_dir.name]  # one directory per PV, nothing else

    core.delete_namespaced_pod("web-0", "default", grace_period_seconds=0)
    wait_until(core.list_namespaced_pod, lambda p: p.metadata.name == "web-0" and p.metadata.uid != first
               and p.status.phase == "Running", "default")
    assert run_exec(core, "web-0", ["cat", f"{HTML}/index.html", f"{HTML}/logs/boot"]) == \
        ("web-0\nstarted\nagain\n", "", 0)
    (pv_dir / "from-the-host").write_text("hello pod\n")  # the directory is the volume, both ways
    assert run_exec(core, "web-0", ["sh", "-c", f"ls {HTML}; cat {HTML}/from-the-host"])[0] == \
        "from-the-host\nindex.html\nlogs\nhello pod\n"


@pytest.mark.parametrize("reclaim", ["Delete", "Retain"])
def test_a_pv_directory_follows_its_reclaim_policy(core, sandbox, data_dir, reclaim):
    pv_uid = claim_pod(core, sandbox, reclaim=reclaim)
    assert run_exec(core, "writer", ["sh", "-c", "echo precious > /data/f"])[2] == 0
    pv_dir = data_dir / pv_uid
    assert (pv_dir / "f").read_text() == "precious\n"
    pv = core.read_namespaced_persistent_volume_claim("data", "default").spec.volume_name
    gone(core, "writer")
    core.delete_namespaced_persistent_volume_claim("data", "default")
    if reclaim == "Delete":
        deadline = time.monotonic() + 10
        while pv_dir.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(p.metadata.name == pv for p in core.list_persistent_volume().items)
        assert not pv_dir.exists() and list(data_dir.iterdir()) == []
    else:
        wait_until(core.list_persistent_volume, lambda p: p.metadata.name == pv and p.status.phase == "Released")
        assert (pv_dir / "f").read_text() == "precious\n"
        core.delete_persistent_volume(pv)  # the administrator deletes the PV object: the storage stays
        deadline = time.monotonic() + 10
        while sandbox.kubelet.runtime.volumes.has(("pv", pv_uid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not sandbox.kubelet.runtime.volumes.has(("pv", pv_uid))
        assert (pv_dir / "f").read_text() == "precious\n"


def test_no_container_path_leaves_the_pv_directory(core, sandbox, tmp_path, data_dir, host):
    pv_dir = data_dir / claim_pod(core, sandbox)
    before = host_tree(host)
    out, err, code = run_exec(core, "writer", ["sh", "-c", "; ".join([
        "echo x > /data/../../../etc/x",
        "echo y > /data/../../../../../../../../outside/keep",
        "mkdir -p /data/a/../../../../../../tmp/escape",
        "cd /data && echo z > ../../../../../../../../../z && cd /",
        r"echo w > '/data/..\..\w'",
        "mkdir '/data/%2e%2e' && echo v > '/data/%2e%2e/v'",
        "mkdir /data/... && echo u > /data/.../u",
        "cat /data/../../../../../../../../etc/hostname",
        "ls -a /data",
    ])])
    assert out == "writer\n.\n..\n%2e%2e\n...\n..\\..\\w\n", (out, err)
    assert err == "sh: can't create /data/../../../../../../../../outside/keep: nonexistent directory\n"
    assert host_tree(host) == before
    assert not Path("/etc/x").exists() and not Path("/tmp/escape").exists() and not Path("/z").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "outside"]  # nothing new beside them
    assert sorted(p.name for p in data_dir.iterdir()) == [pv_dir.name]
    assert host_tree(pv_dir) == {"%2e%2e": "dir", "%2e%2e/v": b"v\n", "...": "dir", ".../u": b"u\n",
                                 "..\\..\\w": b"w\n"}  # names with dots and backslashes are just names
    # what climbed out of /data landed in the container's own root filesystem
    assert run_exec(core, "writer", ["sh", "-c", "cat /etc/x /z; ls -d /tmp/escape"]) == \
        ("x\nz\n/tmp/escape\n", "", 0)


def test_a_containers_symbolic_links_on_a_pv_directory_are_links_for_the_next_pod_and_never_reach_the_host(
        core, sandbox, tmp_path, data_dir, host):
    pv_dir = data_dir / claim_pod(core, sandbox)
    before = host_tree(host)
    out, err, code = run_exec(core, "writer", ["sh", "-c", "; ".join([
        "echo $(hostname) > /data/hostname",
        "ln -s /data/hostname /data/hostname-symlink",  # upstream's e2e "should provide basic identity"
        "mkdir /data/sub && ln -s ../hostname /data/sub/rel",
        f"ln -s {host}/keep /data/abs",  # the host's path of a host file
        "ln -s ../../outside/keep /data/up",  # from PATH/<pv uid>/ on the host, this would be that file
        "ln -s ../../../../../../../../etc /data/etc",
        "ln -s /etc/passwd /data/passwd",
        "ln -s loop /data/loop",
        "ln /data/hostname /data/hard",  # a hard link: refused on a PV directory
    ])])
    assert (out, err, code) == ("", "ln: /data/hard: Operation not permitted\n", 1)
    # real links on disk, holding what the container wrote, for the PV's next pod
    assert host_tree(pv_dir) == {"hostname": b"writer\n", "hostname-symlink": "-> /data/hostname", "sub": "dir",
                                 "sub/rel": "-> ../hostname", "abs": f"-> {host}/keep",
                                 "up": "-> ../../outside/keep", "etc": "-> ../../../../../../../../etc",
                                 "passwd": "-> /etc/passwd", "loop": "-> loop"}
    gone(core, "writer")

    mounting_pod(core, "reader", image="nginx")  # the successor: another pod, another image, the same claim
    out, err, code = run_exec(core, "reader", ["sh", "-c", "ls -l /data; find /data -type l"])
    assert code == 0, err
    for line in ("hostname-symlink -> /data/hostname\n", f"abs -> {host}/keep\n", "up -> ../../outside/keep\n",
                 "passwd -> /etc/passwd\n", "loop -> loop\n"):
        assert line in out
    assert out.endswith("/data/abs\n/data/etc\n/data/hostname-symlink\n/data/loop\n/data/passwd\n/data/sub/rel\n"
                        "/data/up\n")
    assert run_exec(core, "reader", ["cat", "/data/hostname-symlink", "/data/sub/rel"]) == ("writer\nwriter\n", "", 0)
    # what the links name is the reader's own filesystem: its passwd (nginx's Debian one), its /etc/hostname
    passwd, _, _ = run_exec(core, "reader", ["cat", "/etc/passwd"])
    assert "nginx:x:101:101:nginx user:" in passwd
    assert run_exec(core, "reader", ["sh", "-c", "cat /data/passwd /data/etc/hostname"]) == \
        (passwd + "reader\n", "", 0)
    for command in ("cat /data/abs", "cat /data/up", "cat /data/loop", "echo pwned > /data/abs",
                    "echo pwned >> /data/up", "touch /data/up", "cp /data/abs /copy"):
        out, err, code = run_exec(core, "reader", ["sh", "-c", command])
        assert code != 0 and "host data" not in out, (command, out, err)
    # even where the container makes the host's path, it is the container's file that is written
    assert run_exec(core, "reader", ["sh", "-c", f"mkdir -p {host} /outside; echo pwned > /data/abs; "
                                                 f"echo pwned >> /data/up; echo mine > /data/etc/mine; "
                                                 f"cat {host}/keep /outside/keep /etc/mine"]) == \
        ("pwned\npwned\nmine\n", "", 0)
    assert host_tree(host) == before and not Path("/etc/mine").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "outside"]
    # removing a link removes the link
    assert run_exec(core, "reader", ["sh", "-c", "rm /data/abs /data/up /data/etc /data/passwd /data/loop; ls /data"]) \
        == ("hostname\nhostname-symlink\nsub\n", "", 0)
    assert host_tree(host) == before and Path("/etc/passwd").exists()


def test_links_planted_in_the_pv_directory_from_the_host_resolve_inside_the_container(core, sandbox, tmp_path,
                                                                                       data_dir, host):
    pv_dir = data_dir / claim_pod(core, sandbox)
    assert run_exec(core, "writer", ["ls", "/data"]) == ("", "", 0)  # the directory is made at the first look
    (pv_dir / "abs").symlink_to(host / "keep")  # an absolute link to a host file
    (pv_dir / "up").symlink_to(Path("..") / ".." / "outside")  # a relative one climbing out
    (pv_dir / "etc").symlink_to("/etc")
    os.link(host / "keep", pv_dir / "hard")  # a hard link to a host file
    before = host_tree(host)
    out, err, code = run_exec(core, "writer", ["ls", "-l", "/data"])
    assert code == 0 and f"abs -> {host / 'keep'}\n" in out and "up -> ../../outside\n" in out, (out, err)
    for command in ("cat /data/abs", "cat /data/up/keep", "ls /data/up/keep", "cd /data/up",
                    "echo pwned > /data/abs", "echo pwned >> /data/up/keep", "echo pwned > /data/up/new",
                    "mkdir /data/up/new", "touch /data/abs", "cat /data/hard", "echo pwned > /data/hard",
                    "echo pwned >> /data/hard", "rm -r /data/up/keep", "tar cf - /data", "cp -r /data /copy"):
        out, err, code = run_exec(core, "writer", ["sh", "-c", command])
        assert code != 0 and "pwned" not in out and "host data" not in out, (command, out, err)
    assert host_tree(host) == before
    assert (host / "keep").read_text() == "host data\n"
    # a link to /etc is a link to the container's /etc
    assert run_exec(core, "writer", ["sh", "-c", "cat /data/etc/hostname; echo mine > /data/etc/mine; cat /etc/mine"]
                    ) == ("writer\nmine\n", "", 0)
    assert not Path("/etc/mine").exists()
    # removing a link removes the link, never what it points at
    assert run_exec(core, "writer", ["sh", "-c", "rm -r /data/up /data/abs /data/etc; ls /data; cat /etc/hostname"]) == \
        ("hard\nwriter\n", "", 0)
    assert host_tree(host) == before and Path("/etc/hostname").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "outside"]


# ---------------------------------------------------------------------- the directory volume itself


def test_a_directory_volume_is_the_same_filesystem_to_a_container_and_keeps_its_quota(tmp_path):
    (tmp_path / "pv").mkdir()
    fs = FileSystem(image_root("busybox", nginx=False))
    fs.mount("/data", DirectoryVolume(tmp_path / "pv", quota=1000), sub_path="sub")
    fs.makedirs("/data/a/b")
    fs.write("/data/a/b/f", b"x" * 400)
    fs.write("/data/a/b/f", b"y", append=True)
    fs.touch("/data/new")
    assert (tmp_path / "pv" / "sub" / "a" / "b" / "f").read_bytes() == b"x" * 400 + b"y"
    assert fs.listdir("/data") == ["a", "new"] and fs.stat("/data/a/b/f").size == 401
    assert fs.read("../../../../../data/a/b/f", "/data/a") == b"x" * 400 + b"y"  # .. stops at the root, lexically
    assert not fs.exists("/data/../a/b/f") and not fs.exists("/data/../../sub/a/b/f")
    with pytest.raises(FsError) as e:
        fs.write("/data/big", b"z" * 600)
    assert e.value.strerror == ENOSPC and not (tmp_path / "pv" / "sub" / "big").exists()
    with pytest.raises(FsError) as e:
        fs.remove("/data/a")
    assert e.value.strerror == "Is a directory"
    fs.remove("/data/a", recursive=True)
    fs.write("/data/big", b"z" * 600)  # the space came back
    assert sorted(p.name for p in (tmp_path / "pv" / "sub").iterdir()) == ["big", "new"]
    with pytest.raises(FsError) as e:
        fs.read("/data/nul\0name")
    assert e.value.strerror == "Invalid argument"


def test_a_directory_volume_stores_links_and_never_follows_one(tmp_path, host):
    (tmp_path / "pv").mkdir()
    vol = DirectoryVolume(tmp_path / "pv", quota=1000)
    fs = FileSystem(image_root("busybox", nginx=False))
    fs.mount("/data", vol)
    fs.write("/data/f", b"data")
    used = vol.used
    fs.symlink("/data/f", "/data/l")
    fs.symlink(str(host / "keep"), "/data/host")
    assert os.readlink(tmp_path / "pv" / "l") == "/data/f"
    assert vol.used == used + 2 * ENTRY_BYTES + len("/data/f") + len(str(host / "keep"))
    assert DirectoryVolume(tmp_path / "pv", quota=1000).used == vol.used  # what a new sandbox counts again
    assert vol.readlink(["l"]) == "/data/f" and vol.stat(["l"]).is_link and vol.stat(["l"]).target == "/data/f"
    assert fs.read("/data/l") == b"data" and fs.lstat("/data/l").target == "/data/f"
    fs.write("/data/l", b"more", append=True)  # written through: the container's /data/f
    assert (tmp_path / "pv" / "f").read_bytes() == b"datamore"
    # asked directly, the volume fails rather than follow a link (one planted while a path was being resolved)
    for call in (lambda: vol.read(["host"]), lambda: vol.write(["host"], b"pwned"), lambda: vol.listdir(["host"]),
                 lambda: vol.write(["host", "x"], b"pwned"), lambda: vol.readlink(["f"])):
        with pytest.raises(FsError) as e:
            call()
        assert e.value.strerror in ("Too many levels of symbolic links", "Not a directory", "Invalid argument")
    with pytest.raises(FsError) as e:
        fs.link("/data/f", "/data/hard")
    assert e.value.strerror == "Operation not permitted"
    with pytest.raises(FsError) as e:
        fs.link("/etc/passwd", "/data/passwd")
    assert e.value.strerror == "Invalid cross-device link"
    fs.remove("/data/host")
    fs.remove("/data/l")
    assert vol.used == used + 4 and (host / "keep").read_text() == "host data\n"
    assert sorted(p.name for p in (tmp_path / "pv").iterdir()) == ["f"]


def test_a_directory_left_by_an_earlier_sandbox_is_moved_aside_never_reused(tmp_path):
    uid = "0b6f8d1e-6d2c-4c57-9a3e-1f0c2b7d9e11"
    (tmp_path / uid).mkdir()
    (tmp_path / uid / "old").write_text("an earlier sandbox's\n")
    vol = PvDirectories(tmp_path).volume(uid, quota=1000)
    assert FileSystem(vol).listdir("/") == []
    assert (tmp_path / f"{uid}.earlier-1" / "old").read_text() == "an earlier sandbox's\n"
    vol.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{uid}.earlier-1"]
    assert not PvDirectories.usable("../etc") and not PvDirectories.usable(".hidden")


def test_a_data_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="not a directory|cannot be a directory"):
        Sandbox(data_dir=tmp_path / "file")
