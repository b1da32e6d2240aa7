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
``nginx[:tag]``             ``/docker-entrypoint.sh nginx -g    Debian (dash, coreutils); an
                            'daemon off;'``                     ``-alpine`` tag: busybox
==========================  ==================================  ==========================

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
* ``cat FILE...`` for ``/etc/hostname``, ``/etc/hosts`` (the kubelet-managed layout of
  kubelet_pods.go ``managedHostsFileContent``, host aliases included) and
  ``/etc/resolv.conf`` (as containerd writes it: ``search``, ``nameserver``,
  ``options ndots:N``); other paths fail like the image's ``cat``.
* ``echo``, ``true``, ``false``, ``sleep N|infinity`` (summed arguments, suffixes
  s/m/h/d; PID 1 without a SIGTERM handler, so it waits out the grace period).
* ``nginx`` (the nginx image): the entrypoint's configuration lines, then a server
  that stays up; without ``-g 'daemon off;'`` it daemonizes and the container exits 0.
* ``sh -c SCRIPT`` (and ``ash``, ``bash``): simple commands joined by ``;``, newlines,
  ``&&`` and ``||``; single and double quotes and backslashes; ``$VAR``, ``${VAR}``,
  ``$?``, ``$(command)`` and backquotes; ``NAME=value`` assignments; ``exit [N]``,
  ``exec``, ``set -e``/``sh -e``; redirections ``>/dev/null``, ``2>/dev/null``,
  ``2>&1``, ``>&2``. Not supported (a clear error, exit 2): pipes, ``&``, ``if``/``for``/
  ``while``/``case``, functions, subshells, redirection to files. ``sh`` with no
  script exits 0 at once, unless the container has ``stdin: true``, where it waits.

An unknown command prints the shell's ``not found`` line plus a line naming the
programs the sandbox runs, and exits 127 (a real runtime would fail an exec-form
command with a StartError, exit 128, instead).

Output is stdout and stderr interleaved as ``kubectl logs`` shows them. A container
that sleeps is reported with ``sleep_seconds``; what it prints and how it exits after
the sleep are ``output_after_sleep`` and ``exit_code_after_sleep`` (output after
several sleeps is all reported at the end of the total).

The package, by job: :mod:`.base` (the context and outcome types, images,
streams), :mod:`.shell` (``sh -c``), :mod:`.container` (what a container sees
and how it finds a program), :mod:`.commands` (the small programs and nginx),
:mod:`.nslookup` (busybox ``nslookup``).
"""

from __future__ import annotations

from .base import IO, Exit, Forever, Outcome, ProgramContext, kubelet_expand, parse_image, supported_programs
from .container import Container

__all__ = ["ProgramContext", "Outcome", "run", "supported_programs"]


def run(ctx: ProgramContext) -> Outcome:
    """Start the container ``ctx.container`` of ``ctx.pod``; see the package docstring."""
    try:
        return _run(ctx)
    except Exception as e:  # a sandbox bug must not take the kubelet down with it
        return Outcome(output=f"stsnb sandbox: internal error while running the container: {e!r}\n",
                       exit_code=128, runs_forever=False)


def _run(ctx: ProgramContext) -> Outcome:
    container = ctx.container or {}
    image = parse_image(container.get("image") or "")
    c = Container(ctx, image)
    command = [str(a) for a in container.get("command") or []]
    args = [str(a) for a in container.get("args") or []]
    if command:
        argv = command + args
    elif image is not None:
        argv = list(image.entrypoint) + (args or list(image.cmd))
    else:
        argv = args
    argv = [kubelet_expand(a, c.env) for a in argv]
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
    before, after = "".join(c.acc.before), "".join(c.acc.after)
    slept = c.acc.slept or None
    if forever is not None:
        return Outcome(output=before, exit_code=None, runs_forever=True, sleep_seconds=slept,
                       ignores_sigterm=not forever.handles_sigterm, output_after_sleep=after,
                       exit_code_after_sleep=None)
    if slept:
        return Outcome(output=before, exit_code=None, runs_forever=True, sleep_seconds=slept,
                       ignores_sigterm=True, output_after_sleep=after, exit_code_after_sleep=status & 0xFF)
    return Outcome(output=before, exit_code=status & 0xFF, runs_forever=False)
