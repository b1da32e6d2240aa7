"""The sandbox's image catalogue: which images it knows, what each runs by default, which never pull.

A real node pulls any image a registry has. The sandbox pulls nothing; it
looks the reference up here instead:

1. **Malformed references** fail as the kubelet fails them, before any pull
   (``InvalidImageName``): the reference grammar of
   ``distribution/reference`` (``regexp.go``), which the kubelet applies
   through ``ParseNormalizedNamed`` (``pkg/kubelet/images/image_manager.go``
   ``applyDefaultImageTag``), including "repository name must be lowercase".
2. **Unresolvable references** fail to pull (``ErrImagePull``, then
   ``ImagePullBackOff``), with containerd's "not found" message: a tag in
   :data:`MISSING_TAGS` (``nginx:does-not-exist``, the lessons' broken
   rollout), or a registry under the reserved ``.invalid`` domain.
3. **Known images** (:data:`CATALOGUE`) run their image's default ENTRYPOINT
   and CMD through the container programs (:mod:`.programs`): nginx and its
   look-alikes (``registry.k8s.io/nginx-slim``, the StatefulSet tutorial's
   image), httpd (also upstream's e2e ``httpd`` images), upstream's e2e
   ``agnhost`` (its ``netexec`` and ``pause``), the Kubernetes Basics tutorial's
   ``kubernetes-bootcamp`` (``v1``, ``v2``; its ``v10`` fails to pull, as the
   tutorial shows), Google's ``hello-app`` (``Hello, world!``, its version and the pod's hostname on
   ``$PORT``), busybox, alpine, debian, ubuntu, python, perl (the Jobs page's ``bpi``),
   ``polinux/stress`` (its memory hog, ``OOMKilled`` over the limit), the Cassandra tutorial's
   ``gcr.io/google-samples/cassandra`` (its ring, :mod:`.programs.cassandra`), the ZooKeeper
   tutorial's ``registry.k8s.io/kubernetes-zookeeper`` (its ensemble, :mod:`.programs.zookeeper`),
   ``pause`` and CoreDNS. Some of those default processes are
   servers the kubelet keeps running itself (:attr:`Entry.process`).
4. **Any other image** is pulled "successfully" and runs as a generic
   long-running container: no output, never exits, stops at once on SIGTERM.
   The kubelet records a Normal event saying so; a ``command`` given in the
   pod spec still runs through the programs.

The catalogue is data: a new image is one :class:`Entry`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CATALOGUE", "MISSING_TAGS", "Entry", "Reference", "InvalidReference", "parse", "lookup", "unresolvable",
           "pull_error", "busybox_version"]

#: Tags the sandbox's registries do not have: pulling one fails like a missing tag on Docker Hub.
MISSING_TAGS = frozenset({"does-not-exist", "doesnotexist", "nonexistent", "not-a-tag", "missing"})

# distribution/reference regexp.go, verbatim in structure
_ALNUM = r"[a-z0-9]+"
_SEP = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEP}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}"
_REFERENCE = re.compile(rf"^((?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)(?::({_TAG}))?(?:@({_DIGEST}))?$")
_ANY_CASE_REFERENCE = re.compile(_REFERENCE.pattern.replace("[a-z0-9]+", "[a-zA-Z0-9]+"))
_NAME_TOTAL_LENGTH_MAX = 255
DOCKER_HUB = "docker.io"


class InvalidReference(ValueError):
    """An image reference the kubelet cannot parse; the message is the kubelet's."""


@dataclass(frozen=True)
class Reference:
    """A parsed image reference, normalized as containerd reports it (``docker.io/library/nginx:latest``)."""

    text: str  # as written in the pod spec
    repository: str  # docker.io/library/nginx
    tag: str  # "latest" when neither a tag nor a digest was given
    digest: str = ""

    @property
    def full(self) -> str:
        """``repository:tag`` (or ``repository@digest``), what ``containerStatuses[].image`` shows."""
        if self.digest and not self.explicit_tag:
            return f"{self.repository}@{self.digest}"
        return f"{self.repository}:{self.tag}"

    @property
    def explicit_tag(self) -> bool:
        return ":" in self.text.rsplit("/", 1)[-1].split("@", 1)[0]

    @property
    def domain(self) -> str:
        return self.repository.split("/", 1)[0]

    @property
    def path(self) -> str:
        """The repository without its registry: ``library/nginx``, ``nginx-slim``."""
        return self.repository.split("/", 1)[1]


def _split_domain(name: str) -> tuple[str, str]:
    """``splitDockerDomain`` (distribution/reference normalize.go)."""
    first, _, rest = name.partition("/")
    if not rest or ("." not in first and ":" not in first and first != "localhost" and first.lower() == first):
        domain, remainder = DOCKER_HUB, name
    else:
        domain, remainder = first, rest
    if domain == "index.docker.io":
        domain = DOCKER_HUB
    if domain == DOCKER_HUB and "/" not in remainder:
        remainder = "library/" + remainder
    return domain, remainder


def parse(image: str) -> Reference:
    """Parse an image reference as the kubelet does; raise :class:`InvalidReference` with its message.

    The message is what the kubelet puts in the ``InspectFailed`` event and the ``InvalidImageName``
    state: ``Failed to apply default image tag "X": couldn't parse image name "X": invalid reference
    format`` (``pkg/util/parsers/parsers.go`` ``ParseImageName``).
    """
    def invalid(why: str) -> InvalidReference:
        return InvalidReference(f'Failed to apply default image tag "{image}": couldn\'t parse image name '
                                f'"{image}": {why}')
    m = _REFERENCE.match(image or "")
    if m is None:
        loose = _ANY_CASE_REFERENCE.match(image or "")
        if loose is not None:
            domain, remainder = _split_domain(loose.group(1))
            if remainder.lower() != remainder:
                raise invalid(f"invalid reference format: repository name ({remainder}) must be lowercase")
        raise invalid("invalid reference format")
    name, tag, digest = m.group(1), m.group(2) or "", m.group(3) or ""
    if len(name) > _NAME_TOTAL_LENGTH_MAX:
        raise invalid("invalid reference format: repository name must not be more than 255 characters")
    domain, remainder = _split_domain(name)
    return Reference(image, f"{domain}/{remainder}", tag or ("" if digest else "latest"), digest)


@dataclass(frozen=True)
class Entry:
    """One image family the sandbox knows.

    ``entrypoint`` and ``cmd`` are the image's; ``userland`` is the programs' name for its tools
    (``"busybox"``, ``"debian"``, or ``None`` for images without a shell such as ``pause`` and
    CoreDNS). ``process`` says how the default process behaves when the pod gives no command:
    ``"programs"`` runs ``entrypoint + cmd`` through :mod:`.programs`; ``"server"`` keeps running and
    writes ``banner`` (``{ip}`` is the pod IP); ``"pause"`` keeps running silently; ``"exits"``
    writes ``banner`` and exits 0 (a REPL without a terminal), unless the container has ``stdin``.
    ``ports`` are what the default process serves (for probes), ``docroot`` where its web root is
    (an HTTP probe looks there, in the container's own filesystem: a file moved away is a 404);
    ``autoindex`` whether a directory without an index is listed (httpd's ``Options Indexes``) rather
    than refused (nginx: 403); ``family`` is the image whose programs it carries (``nginx-slim`` has
    nginx's); ``http_paths`` what a server without a web root answers 200 for (CoreDNS's
    ``/health`` and ``/ready``).
    """

    name: str
    repositories: tuple[str, ...]
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    userland: str | None = "debian"
    alpine_userland: str | None = "busybox"  # the userland of an ``-alpine`` tag
    process: str = "programs"
    banner: str = ""
    ports: tuple[int, ...] = ()
    docroot: str = ""
    sigterm: bool = True  # whether the default process exits on SIGTERM (else it waits out the grace period)
    family: str = ""
    autoindex: bool = False
    http_paths: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()  # the tags its registry has, when known: any other fails to pull
    files: tuple[str, ...] = ()  # the image's own programs, as files (``rm`` one and it is gone)
    users: tuple[tuple[str, int], ...] = ()  # users the image adds, each with a group of its own: (name, id)

    def has_tag(self, tag: str) -> bool:
        return not self.tags or tag in self.tags

    @property
    def programs_name(self) -> str:
        return self.family or self.name

    def userland_for(self, tag: str) -> str | None:
        return self.alpine_userland if "alpine" in tag else self.userland


_HTTPD_BANNER = (
    "AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using {ip}. "
    "Set the 'ServerName' directive globally to suppress this message\n"
    "AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using {ip}. "
    "Set the 'ServerName' directive globally to suppress this message\n"
    "[{apache_time}] [mpm_event:notice] [pid 1:tid 1] AH00489: Apache/2.4.58 (Unix) configured -- "
    "resuming normal operations\n"
    "[{apache_time}] [core:notice] [pid 1:tid 1] AH00094: Command line: 'httpd -D FOREGROUND'\n")

#: The images the sandbox knows, by family; matched on the normalized repository.
CATALOGUE: tuple[Entry, ...] = (
    Entry("nginx", ("docker.io/library/nginx",), ("/docker-entrypoint.sh",), ("nginx", "-g", "daemon off;"),
          ports=(80,), docroot="/usr/share/nginx/html", sigterm=True),
    # kubernetes/contrib ingress/echoheaders nginx-slim: ubuntu-slim with nginx, no entrypoint script
    Entry("nginx-slim", ("registry.k8s.io/nginx-slim", "k8s.gcr.io/nginx-slim", "gcr.io/google_containers/nginx-slim",
                         "gcr.io/google-containers/nginx-slim"),
          (), ("nginx", "-g", "daemon off;"), ports=(80,), docroot="/usr/share/nginx/html", family="nginx"),
    Entry("httpd", ("docker.io/library/httpd", "registry.k8s.io/e2e-test-images/httpd", "k8s.gcr.io/e2e-test-images/httpd"),
          (), ("httpd-foreground",), process="server", banner=_HTTPD_BANNER, ports=(80,),
          docroot="/usr/local/apache2/htdocs", autoindex=True),
    # upstream's e2e test image, on alpine (busybox tools); Hello Minikube runs its netexec server
    Entry("agnhost", ("registry.k8s.io/e2e-test-images/agnhost", "k8s.gcr.io/e2e-test-images/agnhost",
                      "gcr.io/kubernetes-e2e-test-images/agnhost"),
          ("/agnhost",), ("pause",), userland="busybox", ports=(8080,)),
    # the Kubernetes Basics tutorial's app: node:6 (Debian) running server.js on 8080; v2 is jocatalin's
    Entry("kubernetes-bootcamp", ("gcr.io/google-samples/kubernetes-bootcamp", "docker.io/jocatalin/kubernetes-bootcamp"),
          (), ("/bin/sh", "-c", "node server.js"), ports=(8080,), tags=("v1", "v2")),
    # Google's hello-app (Go, on alpine): *Exposing an External IP Address*, *Set up Ingress on Minikube*, GKE's
    # quickstarts; "Hello, world!", its version and the pod's hostname on 8080
    Entry("hello-app", ("gcr.io/google-samples/hello-app", "us-docker.pkg.dev/google-samples/containers/gke/hello-app"),
          (), ("/hello-app",), userland="busybox", ports=(8080,), files=("/hello-app",)),
    Entry("busybox", ("docker.io/library/busybox", "registry.k8s.io/busybox", "k8s.gcr.io/busybox",
                      "gcr.io/google_containers/busybox", "gcr.io/google-containers/busybox",
                      "registry.k8s.io/e2e-test-images/busybox"),
          (), ("sh",), userland="busybox"),
    Entry("alpine", ("docker.io/library/alpine",), (), ("/bin/sh",), userland="busybox"),
    # busybox 1.22 with curl (radial/busyboxplus:curl): *Connecting Applications with Services* runs nslookup and
    # curl in it; its nslookup prints the old libc-resolver format the page shows
    Entry("busyboxplus", ("docker.io/radial/busyboxplus",), (), ("/bin/sh",), userland="busybox",
          family="busybox", files=("/usr/bin/curl",)),
    # Debian's and Ubuntu's base images: a shell (`kubectl debug --image=ubuntu`, `kubectl run -it --image=debian`)
    Entry("debian", ("docker.io/library/debian",), (), ("bash",)),
    Entry("ubuntu", ("docker.io/library/ubuntu",), (), ("/bin/bash",)),
    Entry("python", ("docker.io/library/python",), (), ("python3",), process="exits"),
    # Debian with perl; the Jobs page's pi Job runs `perl -Mbignum=bpi -wle 'print bpi(2000)'` in it
    Entry("perl", ("docker.io/library/perl",), (), ("perl", "-de0")),
    # alpine with stress 1.0.4; the Assign Memory Resources task runs `stress --vm 1 --vm-bytes 150M --vm-hang 1`
    Entry("stress", ("docker.io/polinux/stress",), (), ("stress", "--help"), userland="busybox"),
    # kubernetes/examples cassandra/image: Cassandra 3.11 on ubuntu-slim, the Cassandra tutorial's StatefulSet
    Entry("cassandra", ("gcr.io/google-samples/cassandra",), (), ("/sbin/dumb-init", "/bin/bash", "/run.sh"),
          ports=(7000, 7001, 7199, 9042)),
    # kubernetes-retired/contrib statefulsets/zookeeper: ZooKeeper 3.4.10 on Ubuntu, the ZooKeeper tutorial's StatefulSet
    Entry("zookeeper", ("registry.k8s.io/kubernetes-zookeeper", "k8s.gcr.io/kubernetes-zookeeper",
                        "gcr.io/google_containers/kubernetes-zookeeper"),
          (), ("start-zookeeper",), ports=(2181, 2888, 3888),
          files=("/usr/bin/start-zookeeper", "/usr/bin/zookeeper-ready", "/usr/bin/zkCli.sh", "/usr/bin/ps",
                 "/usr/bin/pkill"),
          users=(("zookeeper", 1000),)),
    # MySQL's official images (5.7: Oracle Linux with bash; the sandbox gives them Debian's tools): the Single-Instance
    # and Replicated Stateful Application tasks' servers and clients, and the WordPress tutorial's database
    Entry("mysql", ("docker.io/library/mysql", "docker.io/mysql/mysql-server"), ("docker-entrypoint.sh",), ("mysqld",),
          ports=(3306, 33060),
          files=("/usr/local/bin/docker-entrypoint.sh", "/usr/sbin/mysqld", "/usr/bin/mysql", "/usr/bin/mysqladmin"),
          users=(("mysql", 999),)),  # programs.mysql.MYSQL_UID
    # the Replicated Stateful Application task's sidecar: Percona XtraBackup 2.4, ncat and the mysql client on Debian
    Entry("xtrabackup", ("gcr.io/google-samples/xtrabackup",), (), ("bash",), tags=("1.0",),
          files=("/usr/bin/xtrabackup", "/usr/bin/xbstream", "/usr/bin/ncat", "/usr/bin/mysql")),
    Entry("pause", ("registry.k8s.io/pause", "k8s.gcr.io/pause", "gcr.io/google_containers/pause"),
          ("/pause",), (), userland=None, alpine_userland=None, process="pause"),
    Entry("coredns", ("registry.k8s.io/coredns/coredns", "k8s.gcr.io/coredns/coredns", "docker.io/coredns/coredns",
                      "k8s.gcr.io/coredns"),
          ("/coredns",), (), userland=None, alpine_userland=None, process="server",
          banner=".:53\n[INFO] plugin/reload: Running configuration SHA512 = "
                 "591cf328cccc12bc490481273e738df59329c62c0b729d94e8b61db9961c2fa5f046dd37f1cf888b953814040d180f52"
                 "594972691cd6ff41be96639138a43908\nCoreDNS-1.10.1\nlinux/amd64, go1.20, 055b2c3\n",
          ports=(53, 8080, 8181), http_paths=("/health", "/ready")),
)

_BY_REPOSITORY = {repo: e for e in CATALOGUE for repo in e.repositories}


def lookup(ref: Reference) -> Entry | None:
    """The catalogue's entry for a parsed reference, or None for an image it does not know."""
    return _BY_REPOSITORY.get(ref.repository)


#: Images whose busybox is older than any tag says (radial/busyboxplus was built on busybox 1.22.1).
_BUSYBOX_OF = {"docker.io/radial/busyboxplus": (1, 22)}


def busybox_version(ref: Reference, latest: tuple[int, int] = (1, 37)) -> tuple[int, int]:
    """The busybox version a busybox image carries, from its tag (``1.28`` → (1, 28)); ``latest`` otherwise."""
    if ref.repository in _BUSYBOX_OF:
        return _BUSYBOX_OF[ref.repository]
    m = re.match(r"(\d+)\.(\d+)", ref.tag)
    return (int(m.group(1)), int(m.group(2))) if m and ref.repository.endswith("/busybox") else latest


def unresolvable(ref: Reference) -> bool:
    """True when no registry has the reference: a tag in :data:`MISSING_TAGS`, a tag a catalogue image with
    known tags does not have (the Kubernetes Basics tutorial's ``kubernetes-bootcamp:v10``), or a ``.invalid``
    registry."""
    host = ref.domain.split(":", 1)[0]
    entry = lookup(ref)
    missing = entry is not None and bool(ref.tag) and not ref.digest and not entry.has_tag(ref.tag)
    return ref.tag in MISSING_TAGS or missing or host == "invalid" or host.endswith(".invalid")


def pull_error(ref: Reference) -> str:
    """containerd's message for a reference that cannot be pulled (the kubelet wraps it in its event)."""
    host = ref.domain.split(":", 1)[0]
    if host.endswith(".invalid") or host == "invalid":
        return (f'rpc error: code = Unknown desc = failed to pull and unpack image "{ref.full}": failed to resolve '
                f'reference "{ref.full}": failed to do request: Head "https://{ref.domain}/v2/{ref.path}/manifests/'
                f'{ref.tag}": dial tcp: lookup {host}: no such host')
    return (f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref.full}": failed to resolve '
            f'reference "{ref.full}": {ref.full}: not found')
