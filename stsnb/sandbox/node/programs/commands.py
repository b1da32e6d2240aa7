"""The small programs of the images: ``true``, ``false``, ``echo``, ``cat``, ``hostname``, ``sleep``, nginx.

Each program is ``p_<name>(container, argv, io) -> exit status``, with the
output and error texts of the image's userland: busybox (``busybox``,
``alpine``, ``nginx:*-alpine``) or Debian's coreutils and dash (``nginx``).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from ....k8s.quantity import parse_quantity
from ..containers import FsError
from .base import IO, USERLAND, Forever, Killed

if TYPE_CHECKING:
    from .container import Container


def p_true(c: Container, argv: list[str], io: IO) -> int:
    return 0


def p_false(c: Container, argv: list[str], io: IO) -> int:
    return 1


def p_echo(c: Container, argv: list[str], io: IO) -> int:
    args = argv[1:]
    newline, escapes = True, c.userland == "debian"  # dash's echo always interprets escapes
    if c.userland == "busybox":
        while args and re.fullmatch(r"-[neE]+", args[0]):
            flags = args.pop(0)[1:]
            newline = newline and "n" not in flags
            for f in flags:
                escapes = True if f == "e" else False if f == "E" else escapes
    elif args and args[0] == "-n":
        newline = False
        args.pop(0)
    text = " ".join(args)
    if escapes:
        text, stop = _echo_escapes(text)
        if stop:
            newline = False
    io.out(text + ("\n" if newline else ""))
    return 0


def _echo_escapes(text: str) -> tuple[str, bool]:
    out, i = [], 0
    simple = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "c":
                return "".join(out), True
            if nxt in simple:
                out.append(simple[nxt])
                i += 2
                continue
            if nxt == "0":
                m = re.match(r"[0-7]{0,3}", text[i + 2:])
                out.append(chr(int(m.group(0) or "0", 8) & 0xFF))
                i += 2 + len(m.group(0))
                continue
        out.append(ch)
        i += 1
    return "".join(out), False


def p_cat(c: Container, argv: list[str], io: IO) -> int:
    status = 0
    paths = [a for a in argv[1:] if a != "-u"] or ["-"]
    if paths == ["-"] and not io.stdin.live and c.ctx.pid == 1 and (c.ctx.container or {}).get("stdin"):
        raise Forever()  # `stdin: true` with `cat` (the keep-alive of CI agents, `kubectl run -i … -- cat`): it waits
    for path in paths:
        if path == "-":
            if io.stdin.live:  # a terminal or an attached stream: each line comes back as it arrives
                while (line := io.stdin.readline()) is not None:
                    c.steps = 0  # waiting for input is not busy
                    io.out(line)
            else:
                io.out(io.stdin.read())
            continue
        content = c.file(path)
        if content is None:
            try:
                c.fs.read(path, c.cwd)
                why = "No such file or directory"
            except FsError as e:  # ENOENT, EISDIR, ELOOP …
                why = e.strerror
            if c.userland == "debian":
                io.err(f"cat: {path}: {why}\n")
            else:
                io.err(f"cat: can't open '{path}': {why}\n" if why != "Is a directory"
                       else f"cat: read error: {why}\n")
            status = 1
            continue
        io.out(content)
    return status


def p_hostname(c: Container, argv: list[str], io: IO) -> int:
    opts, rest = "", []
    for a in argv[1:]:
        if a.startswith("-") and len(a) > 1 and not a.startswith("--"):
            opts += a[1:]
        elif a in ("--fqdn", "--long"):
            opts += "f"
        elif a == "--short":
            opts += "s"
        elif a == "--domain":
            opts += "d"
        elif a == "--ip-address":
            opts += "i"
        else:
            rest.append(a)
    if rest and not opts:
        if c.userland == "debian":
            io.err("hostname: you must be root to change the host name\n")
        else:
            io.err("hostname: sethostname: Operation not permitted\n")
        return 1
    canonical = c.fqdn if c.domain else c.nodename  # gethostbyname(hostname) reads /etc/hosts
    if "i" in opts:
        ips = " ".join(c.pod_ips)
        io.out(ips + (" \n" if c.userland == "busybox" else "\n"))
    elif "d" in opts:
        if "." in canonical:
            io.out(canonical.split(".", 1)[1] + "\n")
        elif c.userland == "debian":
            io.out("\n")
    elif "f" in opts:
        io.out(canonical + "\n")
    elif "s" in opts:
        io.out(c.nodename.split(".", 1)[0] + "\n")
    else:
        io.out(c.nodename + "\n")
    return 0


_SLEEP_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def p_sleep(c: Container, argv: list[str], io: IO) -> int:
    if len(argv) < 2:
        if c.userland == "debian":
            io.err("sleep: missing operand\nTry 'sleep --help' for more information.\n")
        else:
            io.err("Usage: sleep [N]...\n\nPause for a time equal to the total of the args given, "
                   "where each arg can\nhave an optional suffix of (s)econds, (m)inutes, (h)ours, or (d)ays\n")
        return 1
    total = 0.0
    for a in argv[1:]:
        if a.lower() in ("inf", "infinity"):
            total = math.inf
            continue
        m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", a)
        if not m:
            if c.userland == "debian":
                io.err(f"sleep: invalid time interval '{a}'\nTry 'sleep --help' for more information.\n")
            else:
                io.err(f"sleep: invalid number '{a}'\n")
            return 1
        total += float(m.group(1)) * _SLEEP_UNITS[m.group(2) or "s"]
    if c.ctx.sleep is not None:  # an exec session or interactive shell: really wait (in sandbox time)
        c.ctx.sleep(total)
        c.steps = 0
        return 0
    if math.isinf(total):
        raise Forever()
    c.acc.slept += total
    c.steps = 0  # a sleeping program is not busy
    if c.acc.slept > SLEEP_HORIZON:
        raise Forever()  # a loop that sleeps for ever: the container keeps running
    return 0


#: Sandbox seconds of summed sleeps after which a container's program counts as running for ever
#: (``while true; do …; sleep 5; done``); what it writes after that is not simulated.
SLEEP_HORIZON = 3600.0


_ENTRYPOINT_LINES = (
    "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration\n"
    "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/\n"
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh\n"
    "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf\n"
    "10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf\n"
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh\n"
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh\n"
    "/docker-entrypoint.sh: Configuration complete; ready for start up\n"
)


def p_entrypoint(c: Container, argv: list[str], io: IO) -> int:
    """nginx's /docker-entrypoint.sh: configure when starting nginx, then ``exec "$@"``."""
    args = argv[1:]
    if args and args[0] in ("nginx", "nginx-debug"):
        io.out(_ENTRYPOINT_LINES)
    return c.execute(args, io, in_shell=False)


def p_nginx(c: Container, argv: list[str], io: IO) -> int:
    directives = " ".join(argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "-g")
    if "-t" in argv[1:]:
        io.err("nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n"
               "nginx: configuration file /etc/nginx/nginx.conf test is successful\n")
        return 0
    if re.search(r"daemon\s+off\s*;", directives):
        raise Forever(handles_sigterm=True, listens=_nginx_ports(c))
    return 0  # daemonized: the foreground process exits


def _nginx_ports(c: Container) -> tuple[int, ...]:
    """The ports nginx listens on: the ``listen`` directives of its configuration files (80 by default)."""
    mounts = [m.get("mountPath", "") for m in (c.ctx.container or {}).get("volumeMounts") or []]
    if getattr(c.fs, "built", True) is False and not any(m.startswith("/etc/nginx") for m in mounts):
        return (80,)  # the image's own configuration, untouched: no need to build the filesystem to read it
    ports: list[int] = []
    for conf in ("/etc/nginx/nginx.conf", *(f"/etc/nginx/conf.d/{n}" for n in _listdir(c, "/etc/nginx/conf.d")
                                            if n.endswith(".conf"))):
        text = c.file(conf) or ""
        for line in text.splitlines():
            m = re.match(r"\s*listen\s+(?:[0-9.]+:)?(\d+)", line)
            if m and int(m.group(1)) not in ports:
                ports.append(int(m.group(1)))
    return tuple(ports) or (80,)


#: agnhost's subcommands the sandbox runs; the others print :data:`_AGNHOST_ONLY` and exit 1.
AGNHOST_SUBCOMMANDS = ("netexec", "pause")
_AGNHOST_ONLY = ("stsnb sandbox: agnhost {sub} is not simulated here; the sandbox's agnhost runs "
                 + " and ".join(AGNHOST_SUBCOMMANDS) + "\n")


#: The largest ``bpi(N)`` computed (``perl -Mbignum=bpi``): the Jobs page asks for 2000 digits.
PERL_BPI_MAX = 100_000
_PERL_ONLY = ("stsnb sandbox: perl here runs only the Job example's `perl -Mbignum=bpi -wle 'print bpi(N)'` "
              "(pi to N digits); other Perl is not simulated\n")


def pi_digits(n: int) -> str:
    """π to ``n`` significant digits, rounded to nearest (Math::BigFloat's ``bpi(n)``): Machin's formula in
    integers, with guard digits."""
    prec = n + 12
    scale = 10 ** prec

    def arctan_inv(x: int) -> int:
        total = term = scale // x
        x2, k, sign = x * x, 1, -1
        while term:
            term //= x2
            k += 2
            total += sign * (term // k)
            sign = -sign
        return total
    pi = 4 * (4 * arctan_inv(5) - arctan_inv(239))
    q, r = divmod(pi, 10 ** (prec - (n - 1)))
    half = 10 ** (prec - (n - 1)) // 2
    if r > half or (r == half and q % 2):
        q += 1
    chunks = []  # str() of an int refuses more than 4300 digits (CVE-2020-10735): 1000 at a time
    while q:
        q, r = divmod(q, 10 ** 1000)
        chunks.append(r)
    digits = str(chunks[-1]) + "".join(f"{x:01000d}" for x in reversed(chunks[:-1]))
    return digits[0] + ("." + digits[1:] if n > 1 else "")


def p_perl(c: Container, argv: list[str], io: IO) -> int:
    """The ``perl`` image's interpreter, for the one program kubernetes.io's Job example runs:
    ``perl -Mbignum=bpi -wle 'print bpi(2000)'`` prints π to 2000 digits (``-l``: with a newline).
    Without ``-Mbignum=bpi`` it fails as perl does; any other script says it is not simulated."""
    imports: set[str] = set()
    newline, debugger, script, args = False, False, None, argv[1:]
    while args and script is None:
        a = args.pop(0)
        if a.startswith("-M"):
            module, _, names = a[2:].partition("=")
            if module in ("bignum", "bigint", "bigrat"):
                imports |= set(filter(None, names.split(",")))
            continue
        if not a.startswith("-") or a == "-":
            break
        flags = a[1:]
        for i, f in enumerate(flags):
            if f == "l":
                newline = True
            elif f == "d":
                debugger = True
            elif f == "e":
                script = flags[i + 1:] or (args.pop(0) if args else "")
                break
            elif f not in "wsnpaT":
                io.err(_PERL_ONLY)
                return 2
    if debugger and script == "0":  # the image's CMD, `perl -de0`: without a terminal the debugger ends at once
        return 0
    m = re.fullmatch(r"\s*print\s*\(?\s*bpi\s*\(\s*(\d*)\s*\)\s*\)?\s*;?\s*", script or "")
    if script is None or m is None:
        io.err(_PERL_ONLY)
        return 2
    if "bpi" not in imports:
        io.err("Undefined subroutine &main::bpi called at -e line 1.\n")
        return 255
    n = int(m.group(1) or 40)
    if n > PERL_BPI_MAX:
        io.err(f"stsnb sandbox: bpi({n}) is more digits than the sandbox computes (at most {PERL_BPI_MAX})\n")
        return 2
    io.out(pi_digits(max(n, 1)) + ("\n" if newline else ""))
    return 0


_STRESS_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def p_stress(c: Container, argv: list[str], io: IO) -> int:
    """``polinux/stress`` (kubernetes.io's *Assign Memory Resources* task): ``--vm N --vm-bytes SIZE`` hogs
    N × SIZE of memory (suffixes b, k, m, g, binary; 256m by default). Over the container's memory limit the
    kernel's OOM killer ends it (exit 137, ``OOMKilled``); within it, it runs until ``--timeout`` or for ever."""
    counts = {"cpu": 0, "io": 0, "vm": 0, "hdd": 0}
    vm_bytes, timeout, args = 256 << 20, None, argv[1:]
    while args:
        a = args.pop(0)
        key, _, value = a.lstrip("-").partition("=")
        if not value and args and not args[0].startswith("-"):
            value = args.pop(0)
        if key in ("c", "cpu", "i", "io", "m", "vm", "d", "hdd"):
            counts[{"c": "cpu", "i": "io", "m": "vm", "d": "hdd"}.get(key, key)] = int(value or 0)
        elif key == "vm-bytes":
            m = re.fullmatch(r"(\d+)([bkmgBKMG]?)", value or "")
            if not m:
                io.err(f"stress: FAIL: [1] (339) invalid number: {value}\n")
                return 1
            vm_bytes = int(m.group(1)) * _STRESS_UNITS[m.group(2).lower()]
        elif key in ("t", "timeout"):
            m = re.fullmatch(r"(\d+)([smhd]?)", value or "")
            timeout = int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)] if m else None
        elif key in ("vm-hang", "vm-stride", "vm-keep", "hdd-bytes", "backoff", "q", "quiet", "v", "verbose"):
            continue
        elif key in ("?", "help"):
            io.out("`stress' imposes certain types of compute stress on your system\n\n"
                   "Usage: stress [OPTION [ARG]] ...\n")
            return 0
        else:
            io.err(f"stress: FAIL: [1] (244) unrecognized option: {a}\n")
            return 1
    io.out(f"stress: info: [1] dispatching hogs: {counts['cpu']} cpu, {counts['io']} io, {counts['vm']} vm, "
           f"{counts['hdd']} hdd\n")
    limit = (((c.ctx.container or {}).get("resources") or {}).get("limits") or {}).get("memory")
    if counts["vm"] and limit is not None and counts["vm"] * vm_bytes > parse_quantity(limit):
        raise Killed("OOMKilled", "")
    if timeout is None:
        raise Forever()
    p_sleep(c, ["sleep", str(timeout)], io)
    io.out(f"stress: info: [1] successful run completed in {timeout}s\n")
    return 0


def p_agnhost(c: Container, argv: list[str], io: IO) -> int:
    """upstream's e2e test image ``agnhost`` (``registry.k8s.io/e2e-test-images/agnhost``): ``netexec`` and ``pause``.

    ``netexec [--http-port N] [--udp-port N]`` logs that its servers started, as the Hello
    Minikube tutorial shows, and serves HTTP (:func:`..network.netexec_server`); ``pause``
    prints ``Paused`` and waits for its signal. Flags are read as cobra reads them (``--flag=V``
    or ``--flag V``); like agnhost, a flag error prints cobra's message and exits 0.
    """
    from ..network import klog_line

    sub, args = (argv[1], argv[2:]) if len(argv) > 1 else ("", [])
    if sub == "pause":
        io.out("Paused\n")
        raise Forever(handles_sigterm=True)
    if sub != "netexec":
        io.err(_AGNHOST_ONLY.format(sub=sub or "without a subcommand"))
        return 1
    ports = {"http-port": 8080, "udp-port": 8081, "sctp-port": -1}
    i = 0
    while i < len(args):
        name, eq, value = args[i].partition("=")
        key = name[2:] if name.startswith("--") else ""
        if key not in ports:
            io.err(f"Error: unknown flag: {name}\n")
            return 0
        if not eq:
            if i + 1 >= len(args):
                io.err(f"Error: flag needs an argument: {name}\n")
                return 0
            i, value = i + 1, args[i + 1]
        try:
            ports[key] = int(value)
        except ValueError:
            io.err(f'Error: invalid argument "{value}" for "--{key}" flag: strconv.ParseInt: parsing "{value}": '
                   "invalid syntax\n")
            return 0
        i += 1
    io.out(klog_line(f"Started HTTP server on port {ports['http-port']}"))
    if ports["udp-port"] != -1:
        io.out(klog_line(f"Started UDP server on port  {ports['udp-port']}"))
    raise Forever(handles_sigterm=True, listens=(ports["http-port"],), server="netexec", hostname=c.hostname)


def p_node(c: Container, argv: list[str], io: IO) -> int:
    """The kubernetes-bootcamp image's ``node server.js``: its start line, then its server on 8080."""
    import time
    if argv[1:] != ["server.js"]:
        io.err("stsnb sandbox: node here runs only the kubernetes-bootcamp image's server.js "
               f"(`node server.js`), not `{' '.join(argv)}`\n")
        return 1
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
    io.out(f"Kubernetes Bootcamp App Started At: {stamp} | Running On:  {c.hostname} \n\n")
    version = (c.image.tag if c.image else "").lstrip("v") or "1"
    raise Forever(handles_sigterm=True, listens=(8080,), server=f"bootcamp:v={version}", hostname=c.hostname)


def p_hello_app(c: Container, argv: list[str], io: IO) -> int:
    """Google's ``hello-app`` (``gcr.io/google-samples/hello-app``): Go's log line, then its server on ``$PORT``
    (8080 unless the pod sets it); the page says ``Version: 1.0.0`` or ``2.0.0`` after the image's tag."""
    import time
    port = c.env.get("PORT") or "8080"
    if not port.isdigit() or not 0 < int(port) < 65536:
        io.err(f"{time.strftime('%Y/%m/%d %H:%M:%S', time.gmtime())} listen tcp: address {port}: invalid port\n")
        return 1
    io.err(f"{time.strftime('%Y/%m/%d %H:%M:%S', time.gmtime())} Server listening on port {port}\n")
    tag = c.image.tag if c.image else ""
    version = f"{tag}.0" if re.fullmatch(r"\d+\.\d+", tag) else "1.0.0"
    raise Forever(handles_sigterm=True, listens=(int(port),), server=f"hello-app:{version}", hostname=c.hostname)


def _listdir(c: Container, path: str) -> list[str]:
    try:
        return c.fs.listdir(path)
    except Exception:
        return []



def p_busybox(c: Container, argv: list[str], io: IO) -> int:
    if len(argv) > 1 and argv[1] in USERLAND["busybox"] and argv[1] != "busybox":
        return c.execute(argv[1:], io, in_shell=False)
    if len(argv) > 1:
        io.err(f"{argv[1]}: applet not found\n")
        return 127
    io.out(f"BusyBox v{c.bb[0]}.{c.bb[1]} multi-call binary.\n")
    return 0



def p_printf(c: Container, argv: list[str], io: IO) -> int:
    """``printf FORMAT [ARGUMENT...]``: ``%s %d %i %u %x %o %c %%`` (with flags and widths), the backslash
    escapes of FORMAT and of ``%b`` arguments; the format is reused while arguments are left."""
    if len(argv) < 2:
        io.err("printf: usage: printf format [arg ...]\n" if c.userland == "debian" else
               "BusyBox: printf: missing operand\n")
        return 2 if c.userland == "debian" else 1
    fmt, args = argv[1], argv[2:]
    spec = re.compile(r"%([-+ #0]*)(\d*)(?:\.(\d+))?([sdiuxXocb%])")
    status = 0
    out: list[str] = []
    while True:
        used = 0
        pos = 0
        for m in spec.finditer(fmt):
            out.append(_echo_escapes(fmt[pos:m.start()])[0])
            pos = m.end()
            flags, width, precision, conv = m.groups()
            if conv == "%":
                out.append("%")
                continue
            arg = args[used] if used < len(args) else ""
            used += 1
            if conv in "sb":
                text = _echo_escapes(arg)[0] if conv == "b" else arg
                if precision is not None:
                    text = text[:int(precision)]
                out.append(f"{text:{'<' if '-' in flags else '>'}{width or 0}}")
                continue
            if conv == "c":
                out.append(arg[:1])
                continue
            try:
                value = int(arg, 0) if arg.strip() else 0
            except ValueError:
                io.err(f"printf: invalid number '{arg}'\n" if c.userland != "debian" else
                       f"sh: 1: printf: {arg}: expected numeric value\n")
                status, value = 1, 0
            pyconv = {"i": "d", "u": "d"}.get(conv, conv)
            out.append(f"%{flags}{width}{pyconv}" % value)
        out.append(_echo_escapes(fmt[pos:])[0])
        if not args or used == 0 or used >= len(args):
            break
        args = args[used:]
    io.out("".join(out))
    return status
