"""A container as its programs see it: hostname, the kubelet-managed files, environment, PATH, DNS.

:class:`Container` runs argv vectors: a shell builtin (in a shell), or a
program of the image's userland (:mod:`.commands`, :mod:`.nslookup`, the shell
itself); anything else is ``not found``. Name resolution is libc's (nsswitch
``files dns``, resolv.conf ``search`` and ``ndots``), over the cluster DNS the
kubelet hands in.
"""

from __future__ import annotations

from typing import Callable

import dns.message
import dns.rcode
import dns.reversename

from .. import containers
from . import cassandra, commands, files, identity, net, nslookup, zookeeper
from .base import (IO, LATEST_BUSYBOX, PROGRAMS, USERLAND, Acc, Image, Limits, ProgramContext, T, ip_or_none,
                   kubelet_expand, printable)
from .shell import BUILTINS, Shell, p_sh

_BIN_DIRS = ("/bin/", "/usr/bin/", "/sbin/", "/usr/sbin/", "/usr/local/bin/", "/usr/local/sbin/")


class Container(Shell):
    """One container start: what it sees (hostname, files, environment, DNS) and runs (a program, a shell)."""

    def __init__(self, ctx: ProgramContext, image: Image | None) -> None:
        self.ctx = ctx
        self.image = image
        self.userland = image.userland if image else "busybox"
        self.bb = image.busybox if image else LATEST_BUSYBOX
        self.acc = Acc()
        self.status = 0
        self.errexit = False
        pod, spec = ctx.pod or {}, (ctx.pod or {}).get("spec") or {}
        meta = pod.get("metadata") or {}
        self.namespace = meta.get("namespace") or "default"
        name = spec.get("hostname") or meta.get("name") or ""
        if spec.get("hostNetwork") and spec.get("nodeName"):  # the node's own network and UTS namespace
            name = spec["nodeName"]
        if len(name) > 63:
            name = name[:63].rstrip("-.")
        self.hostname = name
        zone = cluster_zone(ctx)
        sub = spec.get("subdomain") or ""
        self.domain = f"{sub}.{self.namespace}.svc.{zone}" if sub else ""
        self.fqdn = f"{name}.{self.domain}" if sub else name
        self.nodename = self.fqdn if (sub and spec.get("setHostnameAsFQDN")) else name
        status = pod.get("status") or {}
        ips = [p.get("ip") for p in status.get("podIPs") or [] if p.get("ip")]
        self.pod_ips = [status["podIP"]] if status.get("podIP") else ips  # podIP is the one the kubelet just set
        self.env = self._environment()
        self.cwd = (ctx.container or {}).get("workingDir") or "/"
        self.steps = 0
        self.limits = ctx.limits or Limits()
        if ctx.fs is None:
            ctx.fs = new_filesystem(self)
        self.fs = ctx.fs

    def managed_files(self) -> dict[str, str]:
        """The files the kubelet writes into every container (``/etc/hosts``, ``/etc/hostname``, resolv.conf)."""
        return {p: self.kubelet_file(p) or "" for p in ("/etc/hostname", "/etc/hosts", "/etc/resolv.conf")}

    # ----- files the kubelet and runtime write

    def _environment(self) -> dict[str, str]:
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME": self.nodename}
        if self.ctx.env is not None:  # the kubelet's (:mod:`..envvars`): declared variables, then Service links
            env |= dict(self.ctx.env)
            env.setdefault("HOME", "/root")
            return env
        env["HOME"] = "/root"
        pod = self.ctx.pod or {}
        refs = {"metadata.name": (pod.get("metadata") or {}).get("name", ""),
                "metadata.namespace": self.namespace,
                "spec.nodeName": (pod.get("spec") or {}).get("nodeName", ""),
                "spec.serviceAccountName": (pod.get("spec") or {}).get("serviceAccountName", ""),
                "status.podIP": self.pod_ips[0] if self.pod_ips else "",
                "status.podIPs": ",".join(self.pod_ips),
                "status.hostIP": (pod.get("status") or {}).get("hostIP", "")}
        for var in (self.ctx.container or {}).get("env") or []:
            name = var.get("name")
            if not name:
                continue
            if "value" in var:
                env[name] = kubelet_expand(str(var.get("value") or ""), env)
            elif ((var.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath") in refs:
                env[name] = refs[var["valueFrom"]["fieldRef"]["fieldPath"]]
        return env

    def hosts_entries(self) -> list[tuple[str, list[str]]]:
        entries = [("127.0.0.1", ["localhost"]), ("::1", ["localhost", "ip6-localhost", "ip6-loopback"]),
                   ("fe00::0", ["ip6-localnet"]), ("fe00::0", ["ip6-mcastprefix"]),
                   ("fe00::1", ["ip6-allnodes"]), ("fe00::2", ["ip6-allrouters"])]
        for ip in self.pod_ips:
            entries.append((ip, [f"{self.hostname}.{self.domain}", self.hostname] if self.domain else [self.hostname]))
        for alias in ((self.ctx.pod or {}).get("spec") or {}).get("hostAliases") or []:
            if alias.get("ip") and alias.get("hostnames"):
                entries.append((alias["ip"], list(alias["hostnames"])))
        return entries

    def sleep(self, seconds: float) -> None:
        """Sleep in sandbox time: for real where the process runs live, else added up as ``sleep`` adds it."""
        if self.ctx.sleep is not None:
            self.ctx.sleep(seconds)
        else:
            self.acc.slept += seconds

    def file(self, path: str) -> str | None:
        """A file's text from the container's filesystem, or None."""
        try:
            return self.fs.read(path, self.cwd).decode("utf-8", "surrogateescape")
        except containers.FsError:
            return None

    def kubelet_file(self, path: str) -> str | None:
        if path == "/etc/hostname":
            return self.nodename + "\n"
        if path == "/etc/hosts":
            lines = ["# Kubernetes-managed hosts file.\n", "127.0.0.1\tlocalhost\n",
                     "::1\tlocalhost ip6-localhost ip6-loopback\n", "fe00::0\tip6-localnet\n",
                     "fe00::0\tip6-mcastprefix\n", "fe00::1\tip6-allnodes\n", "fe00::2\tip6-allrouters\n"]
            for ip in self.pod_ips:
                lines.append(f"{ip}\t{self.hostname}.{self.domain}\t{self.hostname}\n" if self.domain
                             else f"{ip}\t{self.hostname}\n")
            aliases = ((self.ctx.pod or {}).get("spec") or {}).get("hostAliases") or []
            if aliases:
                lines.append("\n# Entries added by HostAliases.\n")
                for alias in aliases:
                    lines.append(f"{alias.get('ip', '')}\t{chr(9).join(alias.get('hostnames') or [])}\n")
            return "".join(lines)
        if path == "/etc/resolv.conf":
            out = ""
            if self.ctx.search:
                out += "search " + " ".join(self.ctx.search) + "\n"
            if self.ctx.nameserver:
                out += f"nameserver {self.ctx.nameserver}\n"
            out += f"options ndots:{self.ctx.ndots}\n"
            return out
        return None

    # ----- running

    def available(self, name: str) -> bool:
        if name == "/agnhost":  # the image has it at /agnhost only (not in PATH)
            return self.image is not None and self.image.name == "agnhost"
        if name == "node":
            return self.image is not None and self.image.name == "kubernetes-bootcamp"
        if name == "perl":
            return self.image is not None and self.image.name == "perl"
        if name == "stress":
            return self.image is not None and self.image.name == "stress"
        if name in CASSANDRA_PROGRAMS:
            return self.image is not None and self.image.name == "cassandra"
        if self.image is not None and self.image.name == "zookeeper" and name in ZOOKEEPER_PROGRAMS:
            return self.fs.exists(f"/usr/bin/{name}")  # files in /usr/bin: `rm` one and it is gone
        path = next((f for f in self.image.files if name in (f, f.rsplit("/", 1)[1])), None) if self.image else None
        if path is not None or name in IMAGE_FILE_PROGRAMS:  # the image's own programs are its files: `mv` one
            return path is not None and self.fs.exists(path)  # away and it is gone
        if name in ("nginx", "/docker-entrypoint.sh"):
            return self.image is not None and self.image.nginx and (name == "nginx" or self.image.name == "nginx")
        return name in USERLAND[self.userland]

    def not_found(self, name: str, io: IO, in_shell: bool) -> int:
        if in_shell and self.shell_kind == "bash":  # bash 4's words (the MySQL 5.7 and XtraBackup images' bash)
            io.err(f"{self.shell_name}: {name}: command not found\n")
        elif in_shell and self.userland == "debian":
            io.err(f"sh: 1: {name}: not found\n")
        else:
            io.err(f"sh: {name}: not found\n")
        io.err("stsnb sandbox: containers here run only these programs: " + ", ".join(PROGRAMS) +
               " (see stsnb.sandbox.node.programs)\n")
        return 127

    def execute(self, argv: list[str], io: IO, in_shell: bool) -> int:
        if not argv:
            return 0
        word = argv[0]
        if in_shell:
            builtin = BUILTINS.get(word)
            if builtin is not None:
                return builtin(self, argv, io)
        name = word
        if "/" in word:
            if word in ("/docker-entrypoint.sh", "/agnhost", "/run.sh", "/ready-probe.sh", "/hello-app"):
                name = word
            elif word.startswith(_BIN_DIRS):
                name = word.rsplit("/", 1)[1]
            else:
                name = ""
        if not name or not self.available(name):
            return self.not_found(word, io, in_shell)
        return PROGRAM_FUNCS[name](self, [name, *argv[1:]], io)


    def query(self, name: str, rdtype: int) -> dns.message.Message | None:
        try:
            q = dns.message.make_query(name if name.endswith(".") else name + ".", rdtype)
        except Exception:
            return None
        try:
            return self.ctx.resolve(q)
        except Exception:
            return None

    def libc_addresses(self, name: str) -> list[str]:
        """getaddrinfo(AF_UNSPEC): /etc/hosts, then DNS with search domains and ndots."""
        if ip_or_none(name) is not None:
            return [str(ip_or_none(name))]
        want = name.rstrip(".").lower()
        found = [ip for ip, names in self.hosts_entries() if want in (h.lower() for h in names)]
        if found:
            return found
        for candidate in self.search_candidates(name):
            addrs: list[str] = []
            for rdtype in (T.A, T.AAAA):
                reply = self.query(candidate, rdtype)
                if reply is None or reply.rcode() != dns.rcode.NOERROR:
                    continue
                for rrset in reply.answer:
                    if rrset.rdtype == rdtype:
                        addrs += [rd.address for rd in rrset]
            if addrs:
                return addrs
        return []

    def search_candidates(self, name: str) -> list[str]:
        if name.endswith("."):
            return [name]
        searched = [f"{name}.{d}" for d in self.ctx.search]
        if name.count(".") >= self.ctx.ndots:
            return [name, *searched]
        return [*searched, name]

    def libc_reverse(self, ip: str) -> str | None:
        """getnameinfo(NI_NAMEREQD): /etc/hosts, then a PTR query; the first name."""
        for addr, names in self.hosts_entries():
            if ip_or_none(addr) == ip_or_none(ip):
                return names[0]
        try:
            rev = dns.reversename.from_address(ip).to_text()
        except Exception:
            return None
        reply = self.query(rev, T.PTR)
        if reply is None or reply.rcode() != dns.rcode.NOERROR:
            return None
        for rrset in reply.answer:
            if rrset.rdtype == T.PTR:
                for rd in rrset:
                    return printable(rd.target)
        return None


def cluster_zone(ctx: ProgramContext) -> str:
    for d in ctx.search or []:
        if d.startswith("svc."):
            return d[4:]
    return "cluster.local"


def _ps(c: Container, argv: list[str], io: IO) -> int:
    """busybox's ``ps``, or procps's where the image has it (the ZooKeeper tutorial's)."""
    ps = zookeeper.p_procps if c.image is not None and c.image.name == "zookeeper" else identity.p_ps
    return ps(c, argv, io)


def _mysql(name: str) -> Callable[[Container, list[str], IO], int]:
    """A program of :mod:`.mysql`, imported when a MySQL image first runs one (SQLite stays unloaded until then)."""
    def program(c: Container, argv: list[str], io: IO) -> int:
        from . import mysql
        return getattr(mysql, name)(c, argv, io)
    program.__name__ = name
    return program


#: The programs by name (as found in PATH); each is ``f(container, argv, io) -> exit status``.
PROGRAM_FUNCS = {
    "sh": p_sh, "ash": p_sh, "bash": p_sh, "cat": commands.p_cat, "echo": commands.p_echo,
    "sleep": commands.p_sleep, "true": commands.p_true, "false": commands.p_false,
    "hostname": commands.p_hostname, "nslookup": nslookup.p_nslookup, "nginx": commands.p_nginx,
    "/docker-entrypoint.sh": commands.p_entrypoint, "busybox": commands.p_busybox,
    "ls": files.p_ls, "mkdir": files.p_mkdir, "rm": files.p_rm, "rmdir": files.p_rmdir, "touch": files.p_touch,
    "cp": files.p_cp, "mv": files.p_mv, "pwd": files.p_pwd, "head": files.p_head, "tail": files.p_tail,
    "wc": files.p_wc, "grep": files.p_grep, "chmod": files.p_chmod, "tar": files.p_tar, "env": files.p_env,
    "printenv": files.p_printenv, "date": files.p_date, "test": files.p_test, "[": files.p_test,
    "wget": net.p_wget, "curl": net.p_curl, "ln": files.p_ln, "readlink": files.p_readlink, "dd": files.p_dd,
    "find": files.p_find,
    "/hello-app": commands.p_hello_app,
    "printf": commands.p_printf, "/agnhost": commands.p_agnhost, "node": commands.p_node, "perl": commands.p_perl,
    "stress": commands.p_stress, "id": identity.p_id, "ps": _ps, "dumb-init": cassandra.p_dumb_init, "/run.sh": cassandra.p_run,
    "/ready-probe.sh": cassandra.p_ready_probe, "nodetool": cassandra.p_nodetool,
    "start-zookeeper": zookeeper.p_start_zookeeper, "zookeeper-ready": zookeeper.p_zookeeper_ready,
    "zkCli.sh": zookeeper.p_zkcli, "pkill": zookeeper.p_pkill,
    "docker-entrypoint.sh": _mysql("p_entrypoint"), "mysqld": _mysql("p_mysqld"), "mysql": _mysql("p_mysql"),
    "mysqladmin": _mysql("p_mysqladmin"), "ncat": _mysql("p_ncat"), "xtrabackup": _mysql("p_xtrabackup"),
    "xbstream": _mysql("p_xbstream"), "sed": files.p_sed,
}
#: The Cassandra tutorial's image's own programs (:mod:`.cassandra`).
CASSANDRA_PROGRAMS = frozenset({"dumb-init", "/run.sh", "/ready-probe.sh", "nodetool"})
#: The ZooKeeper tutorial's image's own programs (:mod:`.zookeeper`).
ZOOKEEPER_PROGRAMS = frozenset({"start-zookeeper", "zookeeper-ready", "zkCli.sh", "ps", "pkill"})
#: Programs that exist only as files of the images that have them (:mod:`.mysql`'s).
IMAGE_FILE_PROGRAMS = frozenset({"docker-entrypoint.sh", "mysqld", "mysql", "mysqladmin", "ncat", "xtrabackup",
                                 "xbstream", "/hello-app"})


def new_filesystem(c: Container) -> containers.FileSystem:
    """A filesystem for a container started without one: its image's files plus the kubelet-managed ones."""
    image = c.image
    fs = containers.FileSystem(containers.image_root(c.userland, bool(image and image.nginx),
                                                     httpd=bool(image and image.httpd),
                                                     files=image.files if image else (),
                                                     users=image.users if image else ()))
    write_managed_files(fs, c)
    return fs


def write_managed_files(fs: containers.FileSystem, c: Container) -> None:
    for path, text in c.managed_files().items():
        fs.write(path, text.encode())
    fs.root.used = 0
    uid, gid, _ = identity.identity(c, fs)
    if (uid, gid) != (0, 0):
        fs.owner = (uid, gid)  # what the container's processes make is their user's
