"""ConfigMap, Secret, downward API and projected volumes, as the kubelet writes and refreshes them.

Upstream's AtomicWriter (pkg/volume/util/atomic_writer.go) writes each payload into a new
``..<timestamp>`` directory, points ``..data`` at it, and links each top-level name into ``..data``;
the kubelet's sync writes a new payload when the ConfigMap, the Secret or the pod's own labels and
annotations change, and keeps the last one when the object is deleted. A ``subPath`` mount is never
updated. ``defaultMode`` and an item's ``mode`` set the files' permissions; an item's ``path`` may
have directories.
"""

from __future__ import annotations

import time

from kubernetes import client

from .conftest import run_exec
from .test_exec import running


def _pod(name: str, volumes: list[dict], mounts: list[dict]) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"volumes": volumes, "containers": [{"name": "c", "image": "busybox:1.28",
                                                         "command": ["sleep", "3600"], "volumeMounts": mounts}]}}


def _sh(core, pod: str, script: str) -> str:
    out, err, code = run_exec(core, pod, ["sh", "-c", script])
    assert code == 0, err
    return out


def _until(core, pod: str, script: str, expected: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while True:
        out = _sh(core, pod, script)
        if out == expected or time.monotonic() > deadline:
            return out
        time.sleep(0.1)


def _config_map(core, name: str, data: dict) -> None:
    core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name), data=data))


def test_a_config_map_volume_is_laid_out_by_the_atomic_writer(core, sandbox):
    _config_map(core, "game", {"lives": "3", "color": "red"})
    running(core, _pod("p", [{"name": "cfg", "configMap": {"name": "game"}}], [{"name": "cfg", "mountPath": "/etc/cfg"}]))
    listing = _sh(core, "p", "ls -la /etc/cfg").splitlines()
    assert listing[0].startswith("total ")
    entries = {line.split()[8]: line for line in listing[1:]}
    stamp = entries["..data"].split(" -> ")[1]
    assert stamp.startswith("..") and entries[stamp].startswith("drwxr-xr-x ")
    assert entries["lives"].startswith("lrwxrwxrwx ") and entries["lives"].endswith("lives -> ..data/lives")
    assert entries["."].startswith("drwxrwxrwx "), "a ConfigMap's directory is an emptyDir's, world-writable"
    assert _sh(core, "p", f"cat /etc/cfg/lives /etc/cfg/{stamp}/color; ls /etc/cfg") == "3red" + "color\nlives\n"


def test_an_updated_config_map_reaches_its_volume_but_not_a_sub_path_mount(core, sandbox):
    _config_map(core, "game", {"lives": "3", "color": "red"})
    running(core, _pod("p", [{"name": "cfg", "configMap": {"name": "game"}}],
                       [{"name": "cfg", "mountPath": "/etc/cfg"}, {"name": "cfg", "mountPath": "/etc/lives",
                                                                  "subPath": "lives"}]))
    before = _sh(core, "p", "readlink /etc/cfg/..data")
    core.patch_namespaced_config_map("game", "default", {"data": {"lives": "9", "level": "hard", "color": None}})
    assert _until(core, "p", "cat /etc/cfg/lives; ls /etc/cfg", "9level\nlives\n") == "9level\nlives\n"
    assert _sh(core, "p", "cat /etc/lives") == "3", "a subPath mount keeps what it had"
    assert _sh(core, "p", "readlink /etc/cfg/..data") != before
    assert _sh(core, "p", "ls -a /etc/cfg | grep -c '^[.][.][0-9]'") == "1\n", "the old payload directory is gone"
    core.delete_namespaced_config_map("game", "default")
    time.sleep(0.5)
    assert _sh(core, "p", "cat /etc/cfg/lives") == "9", "a deleted ConfigMap's files stay as last written"


def test_secret_files_take_default_mode_and_item_modes_and_item_paths_may_have_directories(core, sandbox):
    core.create_namespaced_secret("default", client.V1Secret(metadata=client.V1ObjectMeta(name="s"),
                                                             string_data={"user": "admin", "pass": "pw"}))
    volume = {"name": "sec", "secret": {"secretName": "s", "defaultMode": 0o400,
                                        "items": [{"key": "user", "path": "my/group/user"},
                                                  {"key": "pass", "path": "pass", "mode": 0o440}]}}
    running(core, _pod("p", [volume], [{"name": "sec", "mountPath": "/etc/sec"}]))
    assert _sh(core, "p", "cat /etc/sec/my/group/user /etc/sec/pass") == "adminpw"
    assert _sh(core, "p", "ls -ld /etc/sec").startswith("drwxrwxrwt "), "a Secret's volume is a tmpfs"
    assert _sh(core, "p", "ls -l /etc/sec/..data/my/group/user").startswith("-r-------- ")
    assert _sh(core, "p", "ls -l /etc/sec/..data/pass").startswith("-r--r----- ")
    assert _sh(core, "p", "ls /etc/sec") == "my\npass\n"
    core.patch_namespaced_secret("s", "default", {"stringData": {"pass": "changed"}})
    assert _until(core, "p", "cat /etc/sec/pass", "changed") == "changed"


def test_downward_api_files_follow_the_pods_labels_and_keep_the_service_account_token(core, sandbox):
    volumes = [{"name": "info", "projected": {"sources": [
        {"downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                                   {"path": "app", "fieldRef": {"fieldPath": "metadata.labels['app']"}},
                                   {"path": "notes", "fieldRef": {"fieldPath": "metadata.annotations"}}]}},
        {"serviceAccountToken": {"path": "token"}}]}}]
    running(core, _pod("p", volumes, [{"name": "info", "mountPath": "/info"}]))
    token = _sh(core, "p", "cat /info/token")
    assert _sh(core, "p", "cat /info/labels; echo; cat /info/app") == 'app="p"\np'
    core.patch_namespaced_pod("p", "default", {"metadata": {"labels": {"tier": "front-end"},
                                                            "annotations": {"note": 'say "hi"\n\tbye'}}})
    assert _until(core, "p", "cat /info/labels", 'app="p"\ntier="front-end"') == 'app="p"\ntier="front-end"'
    # FormatMap quotes each value with Go's %q
    assert _sh(core, "p", "cat /info/notes") == 'note="say \\"hi\\"\\n\\tbye"'
    assert _sh(core, "p", "cat /info/token") == token, "the token is rotated on its own schedule, not with the labels"
