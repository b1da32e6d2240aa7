"""The container programs the sandbox kubelet can "run", with the output the real ones give.

The kubelet calls :func:`run` once per container start. The program comes from the
image and ``command``/``args`` the way a real kubelet and runtime combine them:
``command`` replaces the image's ENTRYPOINT (and drops its CMD), ``args`` replace
CMD, and ``$(VAR)`` in either is expanded from the container's ``env`` first.

Images the sandbox knows:

==========================  ==================================  ==========================
image                       default ENTRYPOINT + CMD            userland
==========================  ==================================  ==========================
``busybox[:tag]``           ``sh``                              busybox (its version from the tag)
``alpine[:tag]``            ``/bin/sh``                         busybox (latest)
``nginx[:tag]``             ``/docker-entrypoint.sh nginx -g    Debian (dash, coreutils, curl);
                            'daemon off;'``                     an ``-alpine`` tag: busybox
``…/nginx-slim[:tag]``      ``nginx -g 'daemon off;'``          Debian (the StatefulSet tutorial's)
``…/agnhost[:tag]``         ``/agnhost pause``                  busybox (upstream's e2e image)
==========================  ==================================  ==========================

Each container start gets a filesystem of its own (:mod:`..containers`): the
image's files (busybox's ``/bin`` and ``/etc/passwd``; nginx's
``/usr/share/nginx/html/index.html``, ``/etc/nginx/nginx.conf`` and
``conf.d/default.conf``), the kubelet-managed ``/etc/hosts``, ``/etc/hostname``
and ``/etc/resolv.conf``, and the pod's volumes at their ``mountPath``.

Programs (each only where its image has it):

* ``nslookup [-type=T] NAME|IP [SERVER]`` (busybox). busybox ≥1.29 (``busybox``,
  ``busybox:latest``, any non-numeric tag, ``1.29``+) prints the OpenWrt-derived
  format byte for byte: a header when the first reply arrives, each reply followed by a
  blank line, ``** server can't find NAME: NXDOMAIN`` on errors (exit 1 since 1.31).
  An IP is one PTR query for its reverse name; a name with a dot is sent literally; a
  dot-less name is expanded with every search domain (since 1.30), A queries first,
  then AAAA. NODATA prints ``*** Can't find NAME: No answer`` in 1.31-1.33 and nothing
  from 1.34. ``busybox:1.28`` and older use the libc resolver format
  (``Server:    …`` / ``Address 1: IP NAME``), where search domains and ``ndots`` apply
  and each address is followed by its reverse name. Replies are printed in the order
  the queries were sent. A SERVER other than the cluster DNS times out
  (``;; connection timed out; no servers could be reached``).
* ``hostname [-s|-f|-d|-i]``: the short name (``spec.hostname`` or the pod name,
  truncated to 63 characters), ``-f`` the FQDN ``<hostname>.<subdomain>.<ns>.svc.<zone>``
  when a subdomain is set. ``setHostnameAsFQDN`` makes the FQDN the kernel hostname.
* ``cat``, ``ls [-laAdR1]`` (``total`` of 1K blocks with ``-l``), ``readlink [-fn]``, ``mkdir [-p]``, ``rm [-rf]``, ``rmdir``, ``touch``, ``cp``,
  ``mv`` (``-v`` says what they did), ``ln [-sf]`` (symbolic links, resolved inside the
  container's filesystem; hard links), ``find [PATH] [-name P] [-type f|d|l] [-maxdepth N]``,
  ``dd if= of= bs= count= conv=`` (``/dev/zero``, stdin, the record counts on stderr), ``pwd``, ``head``/``tail [-n N]``, ``wc``, ``grep [-ivqcF]``, ``chmod``
  (recorded, not enforced), ``env``/``printenv``, ``date``, ``test``/``[``, and ``tar
  c|x|t [vzm] f ARCHIVE [-C DIR]`` (Python's ``tarfile``; enough for ``kubectl cp``),
  over the container's filesystem, with busybox's or coreutils' messages.
* ``wget [-q] [-O FILE|-] URL`` (busybox) and ``curl [-sSfiI] [-o FILE] URL`` (Debian):
  HTTP to cluster names and IPs through the pod network (:mod:`..network`): a pod
  IP, a Service's ClusterIP (ready endpoints, round-robin), ``localhost``.
* ``echo``, ``printf FORMAT [ARG...]``, ``true``, ``false``, ``sleep N|infinity`` (summed arguments, suffixes
  s/m/h/d; PID 1 without a SIGTERM handler, so it waits out the grace period; a
  container's loop that sleeps for more than an hour in total counts as running for
  ever; in ``kubectl exec`` a sleep really waits, in sandbox time).
* ``nginx`` (the nginx images): the entrypoint's configuration lines, then a server
  that stays up and serves its html directory on the ``listen`` ports of its
  configuration; without ``-g 'daemon off;'`` it daemonizes and the container exits 0.
* ``/agnhost netexec [--http-port N] [--udp-port N]`` (the agnhost image; Hello Minikube's
  server): logs its start in klog form and serves HTTP (:func:`..network.netexec_server`);
  ``/agnhost pause`` prints ``Paused`` and runs until stopped; other subcommands say what is
  simulated and exit 1.
* ``sh -c SCRIPT`` (and ``ash``, ``bash``; :mod:`.shell`, :mod:`.grammar`): lists
  joined by ``;``, newlines, ``&&`` and ``||``; pipelines (``|``, one stage after the
  other); ``if``/``elif``/``else``, ``while``, ``until`` and ``for NAME in WORDS``;
  quotes and backslashes; ``$VAR``, ``${VAR}``, ``$?``, ``$(command)`` and backquotes;
  ``NAME=value``, ``${#VAR}``; ``exit``, ``exec``, ``set -e``/``-x``, ``export``, ``cd``, ``read``;
  redirections ``>``, ``>>``, ``<`` to files, ``N>&M`` and ``/dev/null``. Not supported
  (a clear error, exit 2): ``&``, ``case``, functions, brace groups, subshells.
  ``$((...))`` does integer arithmetic (``+ - * / %``, comparisons, parentheses).
  ``bash`` also runs ``[[ EXPRESSION ]]`` (file and string tests, ``==``/``!=`` globs, ``=~``
  POSIX extended regular expressions that set ``BASH_REMATCH``, ``-eq`` …, ``!``, ``&&``, ``||``,
  ``( )``; busybox ash has it too, dash says ``[[: not found``), ``${BASH_REMATCH[N]}``,
  ``"${BASH_REMATCH[@]}"``, ``${#BASH_REMATCH[@]}`` and ``$(<FILE)``. ``set -x``, ``sh -x`` and
  ``bash -x`` trace commands as the shell does; options combine (``bash -ec``, ``-ic``, ``-xc``);
  ``set -e`` does not stop the shell inside ``if``/``while``/``until`` conditions. ``sh`` with no
  script exits 0 at once, unless the container has ``stdin: true``: then it is an interactive
  shell (:class:`.process.Process`) that ``kubectl attach`` and ``kubectl run -it`` type into
  (so are ``mysql`` without ``-e``: ``kubectl run -i … -- mysql -h mysql-0.mysql <<EOF``, and ``cat``
  without files, which echoes each line and keeps a ``stdin``/``tty`` container running). A
  container with ``stdin: true`` whose program does not read it runs live, as any other.
* ``sed [-E] [-n] [-i] [-e] SCRIPT``: ``s/RE/REPL/[g][p][N]``, ``d`` and ``p`` with ``/RE/``,
  ``N`` and ``$`` addresses (basic or extended regular expressions, ``&`` and ``\\N`` in
  replacements).
* The MySQL images' ``docker-entrypoint.sh``, ``mysqld``, ``mysql``, ``mysqladmin``, and Percona
  XtraBackup's ``xtrabackup``, ``xbstream`` and ``ncat`` (:mod:`.mysql`, :mod:`..mysql`).

Every program run is bounded (:class:`Limits`): 20,000 commands or loop turns
without sleeping or waiting for input, and 4 MiB of shell variables. Past the
first the program is stopped with exit code 137 (reason ``Error``: a real
container would keep burning CPU instead); past the second it is killed with 137
and reason ``OOMKilled``, as the kernel's OOM killer does to a container over its
memory limit.

An unknown command prints the shell's ``not found`` line plus a line naming the
programs the sandbox runs, and exits 127 (a real runtime would fail an exec-form
command with a StartError, exit 128, instead).

Output is stdout and stderr interleaved as ``kubectl logs`` shows them. A container
that sleeps is reported with ``sleep_seconds``; what it prints and how it exits after
the sleep are ``output_after_sleep`` and ``exit_code_after_sleep`` (output after
several sleeps is all reported at the end of the total).

The package, by job: :mod:`.base` (the context and outcome types, images,
streams, limits), :mod:`.grammar` and :mod:`.shell` (``sh``), :mod:`.container`
(what a container sees and how it finds a program), :mod:`.commands` (the small
programs and nginx), :mod:`.files` (the file programs and ``tar``), :mod:`.net`
(``wget``, ``curl``), :mod:`.nslookup` (busybox ``nslookup``), :mod:`.process`
(a program with live streams: exec sessions and interactive shells).
"""

from __future__ import annotations

import dataclasses

from .base import (IO, Exit, Forever, Killed, Limits, Outcome, ProgramContext, is_nginx, kubelet_expand, parse_image,
                   supported_programs)
from .container import Container
from .process import Process

__all__ = ["ProgramContext", "Outcome", "Limits", "Process", "run", "supported_programs", "container_argv",
           "reads_stdin", "parse_image", "is_nginx", "new_container_fs"]


def run(ctx: ProgramContext) -> Outcome:
    """Start the container ``ctx.container`` of ``ctx.pod``; see the package docstring."""
    try:
        return _run(ctx)
    except Exception as e:  # a sandbox bug must not take the kubelet down with it
        return Outcome(output=f"stsnb sandbox: internal error while running the container: {e!r}\n",
                       exit_code=128, runs_forever=False)


def container_argv(container: dict) -> list[str]:
    """The container's process as the runtime starts it: ``command`` (or ENTRYPOINT) then ``args`` (or CMD)."""
    image = parse_image(container.get("image") or "")
    command = [str(a) for a in container.get("command") or []]
    args = [str(a) for a in container.get("args") or []]
    if command:
        return command + args
    if image is not None:
        return list(image.entrypoint) + (args or list(image.cmd))
    return args


def new_container_fs(ctx: ProgramContext):
    """A fresh filesystem for the container of ``ctx``: its image's files and the kubelet-managed ones."""
    c = Container(dataclasses.replace(ctx, fs=None), parse_image((ctx.container or {}).get("image") or ""))
    return c.fs


def _run(ctx: ProgramContext) -> Outcome:
    container = ctx.container or {}
    image = parse_image(container.get("image") or "")
    c = Container(ctx, image)
    argv = [kubelet_expand(a, c.env) for a in container_argv(container)]
    if not argv:
        known = "busybox, alpine and nginx"
        return Outcome(output=f"stsnb sandbox: image {container.get('image')!r} is not one the sandbox knows "
                              f"({known}), so it has no default command; give the container a command\n",
                       exit_code=127, runs_forever=False)
    io = IO(c.acc.write, c.acc.write)
    forever: Forever | None = None
    try:
        status = c.execute(argv, io, in_shell=False)
    except Exit as e:
        status = e.code
    except Forever as f:
        forever, status = f, 0
    except Killed as k:
        c.acc.write(k.message + "\n")
        return Outcome(output="".join(c.acc.before) + "".join(c.acc.after), exit_code=k.code, runs_forever=False,
                       reason=k.reason)
    before, after = "".join(c.acc.before), "".join(c.acc.after)
    slept = c.acc.slept or None
    if forever is not None:
        waits_on_stdin = bool(container.get("stdin")) and not forever.handles_sigterm and not forever.listens \
            and not slept
        return Outcome(output=before, exit_code=None, runs_forever=True, sleep_seconds=slept,
                       ignores_sigterm=not forever.handles_sigterm, output_after_sleep=after,
                       exit_code_after_sleep=None, listens=forever.listens, server=forever.server,
                       hostname=forever.hostname,
                       interactive=waits_on_stdin and reads_stdin(argv))
    if slept:
        return Outcome(output=before, exit_code=None, runs_forever=True, sleep_seconds=slept,
                       ignores_sigterm=True, output_after_sleep=after, exit_code_after_sleep=status & 0xFF)
    return Outcome(output=before, exit_code=status & 0xFF, runs_forever=False)


def reads_stdin(argv: list[str]) -> bool:
    """A program that reads its stdin: a shell without a script (``sh``, ``/bin/sh -i``) reads commands from it,
    ``mysql`` without ``-e`` its statements (``kubectl run -i … -- mysql -h mysql-0.mysql <<EOF``)."""
    name = argv[0].rsplit("/", 1)[-1] if argv else ""
    if name == "docker-entrypoint.sh" and len(argv) > 1 and argv[1] != "mysqld":  # the entrypoint execs its arguments
        return reads_stdin(argv[1:])
    if name == "mysql":
        return not any(a == "-e" or a.startswith(("--execute", "-e")) for a in argv[1:])
    if name == "cat":  # no file: it copies its stdin (`kubectl run -i … -- cat`, `stdin: true` + `tty: true`)
        return not [a for a in argv[1:] if a not in ("-", "-u")]
    if name not in ("sh", "ash", "bash"):
        return False
    for arg in argv[1:]:  # its options: a `c` among them (`-c`, `-ic`, `-ec`) gives it a script to run instead
        if not arg.startswith("-") or arg.startswith("--") or arg == "-":
            break
        if "c" in arg[1:]:
            return False
    return True
