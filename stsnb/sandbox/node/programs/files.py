"""The file programs: ``ls``, ``mkdir``, ``rm``, ``touch``, ``cp``, ``mv``, ``ln``, ``dd``, ``find``, ``grep``, ``tar`` …

They work on the container's in-memory filesystem (:mod:`..containers`), never
the host's. Messages follow the image's userland: busybox (``can't remove
'x'``) or GNU coreutils as Debian ships them (``cannot remove 'x'``), in the C
locale containers run with. ``tar`` is Python's :mod:`tarfile` over the same
filesystem, enough for ``kubectl cp`` (``tar cf - PATH``, ``tar -xmf - -C DIR``).
"""

from __future__ import annotations

import io as _io
import re
import stat as _stat
import tarfile
import time
from typing import TYPE_CHECKING, Callable

from ..containers import ENOENT, FsError, join, split_path
from . import identity
from .base import IO

if TYPE_CHECKING:
    from .container import Container


def _bb(c: Container) -> bool:
    return c.userland == "busybox"


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _flags(argv: list[str]) -> tuple[str, list[str]]:
    """Short options (``-rf`` → ``rf``) and operands; ``--`` ends the options."""
    flags, rest, ended = "", [], False
    for a in argv[1:]:
        if ended or not a.startswith("-") or a == "-":
            rest.append(a)
        elif a == "--":
            ended = True
        elif a.startswith("--"):
            flags += {"--recursive": "r", "--force": "f", "--parents": "p", "--all": "a"}.get(a, "")
        else:
            flags += a[1:]
    return flags, rest


def _mode_string(is_dir: bool, mode: int) -> str:
    return _stat.filemode((_stat.S_IFDIR if is_dir else _stat.S_IFREG) | mode)


def p_ls(c: Container, argv: list[str], io: IO) -> int:
    """``ls`` with ``-a -A -d -l -1 -R``: with ``-l`` a directory's listing starts with its ``total`` (1K blocks,
    busybox's and coreutils' ``calculate_blocks``); with ``-R`` or several operands each directory is headed by
    its name, and ``-R`` goes on into each subdirectory (never through a link), depth first."""
    flags, paths = _flags(argv)
    status, blocks = 0, []

    def listing(path: str, st) -> tuple[list[str], list[str], int]:
        whole = st.is_dir and "d" not in flags
        names = c.fs.listdir(path, c.cwd) if whole else [path]
        if "a" in flags and whole:
            names = [".", "..", *names]
        elif "A" not in flags:
            names = [n for n in names if not n.startswith(".") or n == path]
        lines, subdirs, kb = [], [], 0
        for n in names:
            full = n if not whole else f"{path.rstrip('/')}/{n}"
            if "l" not in flags and not ("R" in flags and whole):
                lines.append(n)
                continue
            s = st if n == "." else c.fs.stat(f"{path.rstrip('/')}/..", c.cwd) if n == ".." else c.fs.lstat(full, c.cwd)
            if "R" in flags and whole and n not in (".", "..") and s.is_dir and not s.is_link:
                subdirs.append(full)
            if "l" not in flags:
                lines.append(n)
                continue
            kb += 0 if s.is_link else 4 if s.is_dir else -(-s.size // 4096) * 4
            when = time.strftime("%b %e %H:%M", time.gmtime(s.mtime))
            mode = "l" + _mode_string(False, s.mode)[1:] if s.is_link else _mode_string(s.is_dir, s.mode)
            shown = f"{n} -> {s.target}" if s.is_link else n
            lines.append((mode, "1", identity.user_name(c, s.uid), identity.group_name(c, s.gid), str(s.size), when,
                          shown))
        return lines, subdirs, kb if whole else -1

    def visit(path: str, st) -> None:
        lines, subdirs, kb = listing(path, st)
        blocks.append((path, lines, kb))
        for sub in subdirs:
            try:
                visit(sub, c.fs.stat(sub, c.cwd))
            except FsError:
                continue

    files: list[tuple[str, object]] = []
    dirs: list[tuple[str, object]] = []
    for path in paths or ["."]:
        try:
            st = c.fs.stat(path, c.cwd)
            if "l" in flags and not path.endswith("/") and c.fs.is_link(path, c.cwd):
                st = c.fs.lstat(path, c.cwd)  # -l shows a link operand itself, as busybox and coreutils do
        except FsError as e:
            io.err(f"ls: {path}: {e.strerror}\n" if _bb(c) else f"ls: cannot access '{path}': {e.strerror}\n")
            status = 2 if not _bb(c) else 1
            continue
        if st.is_dir and not st.is_link and "d" not in flags:
            dirs.append((path, st))
        else:
            files.append((path, st))
    files.sort(key=lambda f: f[0])  # operands in name order, as both sort them
    dirs.sort(key=lambda d: d[0])
    if files:  # the operands that are not directories come first, together and without a heading
        saved, flags = flags, flags + "d"
        lines = [line for f, st in files for line in listing(f, st)[0]]
        flags = saved
        blocks.append(("", lines, -1))
    for path, st in dirs:
        visit(path, st)
    headed = len(paths) > 1 or "R" in flags
    for k, (path, lines, kb) in enumerate(blocks):
        if headed and path:
            io.out(("\n" if k else "") + f"{path}:\n")
        if "l" in flags:
            io.out((f"total {kb}\n" if kb >= 0 else "") + "".join(f"{line}\n" for line in _long(lines, _bb(c))))
        elif io.tty and "1" not in flags:
            io.out("  ".join(lines) + ("\n" if lines else ""))
        else:
            io.out("".join(f"{line}\n" for line in lines))
    return status


def _long(rows: list, busybox: bool) -> list[str]:
    """``ls -l`` rows: busybox's fixed widths, or coreutils' columns as wide as their widest cell."""
    if busybox:
        return [f"{m}    {n} {u:<8} {g:<8} {z:>9} {w} {name}" for m, n, u, g, z, w, name in rows]
    width = [max((len(r[i]) for r in rows), default=0) for i in range(5)]
    return [f"{m} {n:>{width[1]}} {u:<{width[2]}} {g:<{width[3]}} {z:>{width[4]}} {w} {name}"
            for m, n, u, g, z, w, name in rows]


def p_mkdir(c: Container, argv: list[str], io: IO) -> int:
    flags, paths = _flags(argv)
    status = 0
    for path in paths:
        try:
            if "p" in flags:
                c.fs.makedirs(path, c.cwd)
            else:
                c.fs.mkdir(path, c.cwd)
        except FsError as e:
            io.err(f"mkdir: can't create directory '{path}': {e.strerror}\n" if _bb(c)
                   else f"mkdir: cannot create directory '{path}': {e.strerror}\n")
            status = 1
    return status


def p_rm(c: Container, argv: list[str], io: IO) -> int:
    flags, paths = _flags(argv)
    status = 0
    for path in paths:
        try:
            c.fs.remove(path, c.cwd, recursive="r" in flags or "R" in flags)
        except FsError as e:
            if e.strerror == ENOENT and "f" in flags:
                continue
            if e.strerror == "Is a directory":
                io.err(f"rm: '{path}' is a directory\n" if _bb(c) else f"rm: cannot remove '{path}': Is a directory\n")
            else:
                io.err(f"rm: can't remove '{path}': {e.strerror}\n" if _bb(c)
                       else f"rm: cannot remove '{path}': {e.strerror}\n")
            status = 1
    return status


def p_rmdir(c: Container, argv: list[str], io: IO) -> int:
    _, paths = _flags(argv)
    status = 0
    for path in paths:
        try:
            if not c.fs.is_dir(path, c.cwd):
                raise FsError("Not a directory" if c.fs.exists(path, c.cwd) else ENOENT, path)
            c.fs.remove(path, c.cwd, directory_ok=True)
        except FsError as e:
            io.err(f"rmdir: '{path}': {e.strerror}\n" if _bb(c)
                   else f"rmdir: failed to remove '{path}': {e.strerror}\n")
            status = 1
    return status


def p_touch(c: Container, argv: list[str], io: IO) -> int:
    _, paths = _flags(argv)
    status = 0
    for path in paths:
        try:
            c.fs.touch(path, c.cwd)
        except FsError as e:
            io.err(f"touch: {path}: {e.strerror}\n" if _bb(c) else f"touch: cannot touch '{path}': {e.strerror}\n")
            status = 1
    return status


def _copy_tree(c: Container, src: str, dst: str, links: bool = False) -> None:
    """Copy ``src`` to ``dst``; with ``links`` (mv, cp -r) a symbolic link is copied as a link, not followed."""
    if links and c.fs.is_link(src, c.cwd):
        c.fs.symlink(c.fs.lstat(src, c.cwd).target, dst, c.cwd)
    elif c.fs.is_dir(src, c.cwd):
        c.fs.makedirs(dst, c.cwd)
        for name in c.fs.listdir(src, c.cwd):
            _copy_tree(c, f"{src.rstrip('/')}/{name}", f"{dst.rstrip('/')}/{name}", links=True)
    else:
        c.fs.write(dst, c.fs.read(src, c.cwd), c.cwd)


def _cp_or_mv(c: Container, argv: list[str], io: IO, move: bool) -> int:
    flags, paths = _flags(argv)
    name = "mv" if move else "cp"
    if len(paths) < 2:
        io.err(f"{name}: missing file operand\n" if not _bb(c) else f"BusyBox: {name}: missing operand\n")
        return 1
    *sources, dest = paths
    status = 0
    for src in sources:
        target = dest
        if c.fs.is_dir(dest, c.cwd):
            target = f"{dest.rstrip('/')}/{split_path(src, c.cwd)[-1] if split_path(src, c.cwd) else ''}"
        try:
            if c.fs.is_dir(src, c.cwd) and not move and "r" not in flags.lower() and "a" not in flags:
                io.err(f"cp: omitting directory '{src}'\n")
                status = 1
                continue
            _copy_tree(c, src, target, links=move or "r" in flags.lower() or "a" in flags)
            if move:
                c.fs.remove(src, c.cwd, recursive=True)
            if "v" in flags:  # coreutils' and busybox's verbose lines
                io.out(f"renamed '{src}' -> '{target}'\n" if move and not _bb(c) else f"'{src}' -> '{target}'\n")
        except FsError as e:
            io.err(f"{name}: can't stat '{src}': {e.strerror}\n" if _bb(c)
                   else f"{name}: cannot stat '{src}': {e.strerror}\n")
            status = 1
    return status


def p_cp(c: Container, argv: list[str], io: IO) -> int:
    return _cp_or_mv(c, argv, io, move=False)


def p_mv(c: Container, argv: list[str], io: IO) -> int:
    return _cp_or_mv(c, argv, io, move=True)


def p_pwd(c: Container, argv: list[str], io: IO) -> int:
    io.out(c.cwd + "\n")
    return 0


def _inputs(c: Container, name: str, paths: list[str], io: IO) -> list[tuple[str, str | None]]:
    """The texts of ``paths`` (stdin for none or ``-``); a missing file is reported and given as None."""
    out: list[tuple[str, str | None]] = []
    for path in paths or ["-"]:
        if path == "-":
            out.append((path, io.stdin.read()))
            continue
        try:
            out.append((path, _text(c.fs.read(path, c.cwd))))
        except FsError as e:
            io.err(f"{name}: can't open '{path}': {e.strerror}\n" if _bb(c) else f"{name}: {path}: {e.strerror}\n")
            out.append((path, None))
    return out


def _count(flags: str, argv: list[str], default: int = 10) -> tuple[int, list[str]]:
    n, rest, it = default, [], iter(argv[1:])
    for a in it:
        if a == "-n":
            n = int(next(it, str(default)) or default)
        elif re.fullmatch(r"-n?\d+", a):
            n = int(a.lstrip("-n"))
        elif not a.startswith("-") or a == "-":
            rest.append(a)
    return n, rest


def p_head(c: Container, argv: list[str], io: IO) -> int:
    n, paths = _count("", argv)
    status = 0
    for _, text in _inputs(c, "head", paths, io):
        if text is None:
            status = 1
            continue
        io.out("".join(text.splitlines(keepends=True)[:n]))
    return status


def p_tail(c: Container, argv: list[str], io: IO) -> int:
    n, paths = _count("", argv)
    status = 0
    for _, text in _inputs(c, "tail", paths, io):
        if text is None:
            status = 1
            continue
        io.out("".join(text.splitlines(keepends=True)[-n:] if n else []))
    return status


def p_wc(c: Container, argv: list[str], io: IO) -> int:
    flags, paths = _flags(argv)
    status = 0
    for path, text in _inputs(c, "wc", paths, io):
        if text is None:
            status = 1
            continue
        counts = {"l": text.count("\n"), "w": len(text.split()), "c": len(text.encode("utf-8", "surrogateescape"))}
        chosen = [k for k in "lwc" if k in flags] or ["l", "w", "c"]
        shown = " ".join(f"{counts[k]:>7}" if len(chosen) > 1 else str(counts[k]) for k in chosen)
        io.out(shown + ("" if path == "-" else f" {path}") + "\n")
    return status


def p_grep(c: Container, argv: list[str], io: IO) -> int:
    flags, rest = _flags(argv)
    if not rest:
        io.err("Usage: grep [-ivqc] PATTERN [FILE]...\n" if _bb(c) else "Usage: grep [OPTION]... PATTERNS [FILE]...\n")
        return 2
    pattern, paths = rest[0], rest[1:]
    try:
        rx = re.compile(pattern if "F" not in flags else re.escape(pattern), re.I if "i" in flags else 0)
    except re.error:
        rx = re.compile(re.escape(pattern), re.I if "i" in flags else 0)
    found, status = 0, 0
    for path, text in _inputs(c, "grep", paths, io):
        if text is None:
            status = 2
            continue
        for line in text.splitlines():
            c.tick()
            if bool(rx.search(line)) != ("v" in flags):
                found += 1
                if "q" not in flags and "c" not in flags:
                    io.out((f"{path}:" if len(paths) > 1 else "") + line + "\n")
    if "c" in flags:
        io.out(f"{found}\n")
    return status or (0 if found else 1)


def p_chmod(c: Container, argv: list[str], io: IO) -> int:
    _, rest = _flags(argv)
    if len(rest) < 2 or not re.fullmatch(r"[0-7]{3,4}", rest[0]):
        return 0 if len(rest) >= 2 else 1  # symbolic modes: accepted, permissions are not enforced here
    status = 0
    for path in rest[1:]:
        try:
            c.fs.chmod(path, int(rest[0], 8) & 0o7777, c.cwd)
        except FsError as e:
            io.err(f"chmod: {path}: {e.strerror}\n" if _bb(c)
                   else f"chmod: cannot access '{path}': {e.strerror}\n")
            status = 1
    return status


def p_env(c: Container, argv: list[str], io: IO) -> int:
    if len(argv) > 1:
        return c.execute(argv[1:], io, in_shell=False)
    io.out("".join(f"{k}={v}\n" for k, v in c.env.items()))
    return 0


def p_printenv(c: Container, argv: list[str], io: IO) -> int:
    if len(argv) > 1:
        missing = [a for a in argv[1:] if a not in c.env]
        io.out("".join(f"{c.env[a]}\n" for a in argv[1:] if a in c.env))
        return 1 if missing else 0
    return p_env(c, argv[:1], io)


def p_date(c: Container, argv: list[str], io: IO) -> int:
    """``date [+FORMAT]`` in UTC, at the sandbox's time (``+%s``: seconds since the epoch)."""
    now = c.ctx.clock()
    fmt = "%a %b %e %H:%M:%S UTC %Y"
    for a in argv[1:]:
        if a.startswith("+"):
            fmt = a[1:]
        elif a not in ("-u", "--utc"):
            io.err(f"date: invalid date '{a}'\n")
            return 1
    parts = fmt.split("%%")
    io.out("%".join(time.strftime(p.replace("%s", str(int(now))), time.gmtime(now)) for p in parts) + "\n")
    return 0


def p_test(c: Container, argv: list[str], io: IO) -> int:
    args = argv[1:]
    if argv[0] == "[":
        if not args or args[-1] != "]":
            io.err("[: missing ]\n" if not _bb(c) else "sh: missing ]\n")
            return 2
        args = args[:-1]
    negate = False
    if args and args[0] == "!":
        negate, args = True, args[1:]
    result = _test(c, args)
    if result is None:
        io.err(f"test: {' '.join(args)}: unknown operand\n" if _bb(c) else "sh: 1: test: unexpected operator\n")
        return 2
    return 0 if result != negate else 1


def _test(c: Container, args: list[str]) -> bool | None:
    if not args:
        return False
    if len(args) == 1:
        return args[0] != ""
    if len(args) == 2:
        op, path = args
        checks = {"-e": lambda: c.fs.exists(path, c.cwd), "-d": lambda: c.fs.is_dir(path, c.cwd),
                  "-f": lambda: c.fs.exists(path, c.cwd) and not c.fs.is_dir(path, c.cwd),
                  "-s": lambda: c.fs.exists(path, c.cwd) and c.fs.stat(path, c.cwd).size > 0,
                  "-r": lambda: c.fs.exists(path, c.cwd), "-w": lambda: c.fs.exists(path, c.cwd),
                  "-x": lambda: c.fs.exists(path, c.cwd), "-z": lambda: path == "", "-n": lambda: path != ""}
        return checks[op]() if op in checks else None
    if len(args) == 3:
        a, op, b = args
        if op in ("=", "=="):
            return a == b
        if op == "!=":
            return a != b
        ints = {"-eq": int.__eq__, "-ne": int.__ne__, "-lt": int.__lt__, "-le": int.__le__, "-gt": int.__gt__,
                "-ge": int.__ge__}
        if op in ints:
            try:
                return ints[op](int(a), int(b))
            except ValueError:
                return None
    return None


# ---------------------------------------------------------------------- tar


def p_tar(c: Container, argv: list[str], io: IO) -> int:
    """``tar c|x|t [v] [m] [z] f ARCHIVE [-C DIR] [PATH...]`` over the container's filesystem."""
    args = argv[1:]
    mode, verbose, archive, directory, gzip, paths = "", False, None, None, False, []
    if args and not args[0].startswith("-"):
        args = ["-" + args[0], *args[1:]]  # old-style "tar cf - x"
    it = iter(args)
    for a in it:
        if a.startswith("--"):
            if a.startswith("--directory="):
                directory = a.split("=", 1)[1]
            continue
        if a.startswith("-") and a != "-":
            letters = a[1:]
            for k, ch in enumerate(letters):
                if ch in "cxt":
                    mode = ch
                elif ch == "v":
                    verbose = True
                elif ch == "z":
                    gzip = True
                elif ch == "f":
                    archive = letters[k + 1:] or next(it, None)
                    break
                elif ch == "C":
                    directory = letters[k + 1:] or next(it, None)
                    break
            continue
        paths.append(a)
    prog = "tar"
    if not mode:
        io.err(f"{prog}: must specify one of -c, -x, -t\n" if not _bb(c) else "tar: need one of -c, -x or -t\n")
        return 2
    base = join(split_path(directory or ".", c.cwd))
    if directory is not None and not c.fs.is_dir(base):
        io.err(f"tar: can't change directory to '{directory}': No such file or directory\n" if _bb(c)
               else f"tar: {directory}: Cannot open: No such file or directory\n")
        return 2
    comp = ":gz" if gzip else ""
    if mode == "c":
        return _tar_create(c, paths, base, archive, comp, verbose, io)
    data = io.stdin.read().encode("utf-8", "surrogateescape") if archive in (None, "-") else None
    if data is None:
        try:
            data = c.fs.read(archive or "", c.cwd)
        except FsError as e:
            io.err(f"tar: can't open '{archive}': {e.strerror}\n")
            return 2
    try:
        tf = tarfile.open(fileobj=_io.BytesIO(data), mode="r" + (comp or ":*"))
    except (tarfile.TarError, EOFError, OSError):
        io.err("tar: short read\n" if _bb(c) else "tar: This does not look like a tar archive\n")
        return 2
    with tf:
        status = 0
        for member in tf.getmembers():
            c.tick()
            name = member.name.lstrip("/")
            if mode == "t":
                io.out(name + ("/" if member.isdir() and not name.endswith("/") else "") + "\n")
                continue
            target = join(split_path(name, base))
            if not target.startswith(base.rstrip("/") + "/") and target != base:
                io.err(f"tar: skipping '{member.name}': it would leave {base}\n")
                continue
            try:
                if member.isdir():
                    c.fs.makedirs(target)
                elif member.isfile():
                    parent = join(split_path(target)[:-1])
                    c.fs.makedirs(parent)
                    c.fs.write(target, tf.extractfile(member).read(), mode=member.mode & 0o7777 or 0o644)
                # links, devices and fifos are not created in the sandbox's filesystems
            except FsError as e:
                io.err(f"tar: {name}: Cannot open: {e.strerror}\n")
                status = 2
            if verbose:
                io.err(name + "\n") if archive in (None, "-") else io.out(name + "\n")
    return status


def _tar_create(c: Container, paths: list[str], base: str, archive: str | None, comp: str, verbose: bool,
                io: IO) -> int:
    buf = _io.BytesIO()
    status = 0
    warned = False
    with tarfile.open(fileobj=buf, mode="w" + comp, format=tarfile.GNU_FORMAT) as tf:
        for path in paths:
            if path.startswith("/") and not warned and not _bb(c):
                io.err("tar: Removing leading `/' from member names\n")
                warned = True
            try:
                entries = c.fs.walk(path, base)
            except FsError as e:
                io.err(f"tar: {path}: Cannot stat: {e.strerror}\n" if not _bb(c)
                       else f"tar: can't stat '{path}': {e.strerror}\n")
                status = 2
                continue
            root = join(split_path(path, base))
            shown = path.lstrip("/").rstrip("/") or "."
            for full, st in entries:
                c.tick()
                name = shown + full[len(root):] if full != root else shown
                info = tarfile.TarInfo(name)
                info.mtime, info.mode, info.uname, info.gname = int(st.mtime), st.mode, "root", "root"
                if st.is_dir:
                    info.type = tarfile.DIRTYPE
                    tf.addfile(info)
                else:
                    try:
                        data = c.fs.read(full)
                    except FsError as e:  # a hard link planted in a PV's directory, a dangling link, a file gone meanwhile
                        io.err(f"tar: {name}: Cannot open: {e.strerror}\n" if not _bb(c)
                               else f"tar: can't open '{full}': {e.strerror}\n")
                        status = 2
                        continue
                    info.size = len(data)
                    tf.addfile(info, _io.BytesIO(data))
                if verbose:
                    io.err(name + "\n")
    out = buf.getvalue()
    if archive in (None, "-"):
        io.out(_text(out))
    else:
        try:
            c.fs.write(archive, out, c.cwd)
        except FsError as e:
            io.err(f"tar: {archive}: Cannot open: {e.strerror}\n")
            return 2
    return status


def p_readlink(c: Container, argv: list[str], io: IO) -> int:
    """``readlink [-f] [-n] PATH...``: a link's target as written, or with ``-f`` the path with every link
    resolved; nothing printed and status 1 for what is not a link (without ``-f``) or cannot be resolved."""
    flags, paths = _flags(argv)
    status, end = 0, "" if "n" in flags else "\n"
    for path in paths:
        try:
            if "f" in flags:
                io.out(c.fs.realpath(path, c.cwd) + end)
                continue
            st = c.fs.lstat(path, c.cwd)
        except FsError:
            status = 1
            continue
        if st.is_link:
            io.out(st.target + end)
        else:
            status = 1
    return status


def p_ln(c: Container, argv: list[str], io: IO) -> int:
    """``ln [-sf] TARGET LINK_NAME`` (or ``… TARGET... DIRECTORY``): symbolic links with ``-s``, else hard ones."""
    flags, paths = _flags(argv)
    if len(paths) < 2:
        io.err("BusyBox: ln: missing operand\n" if _bb(c) else
               f"ln: missing {'destination file operand after' if paths else 'file operand'}"
               f"{' ' + repr(paths[0]) if paths else ''}\n")
        return 1
    *targets, dest = paths
    status = 0
    for target in targets:
        name = dest
        if c.fs.is_dir(dest, c.cwd) and not c.fs.is_link(dest, c.cwd):
            name = f"{dest.rstrip('/')}/{target.rstrip('/').rsplit('/', 1)[-1]}"
        try:
            if "f" in flags and (c.fs.exists(name, c.cwd) or c.fs.is_link(name, c.cwd)):
                c.fs.remove(name, c.cwd)
            if "s" in flags:
                c.fs.symlink(target, name, c.cwd)
            else:
                c.fs.link(target, name, c.cwd)
        except FsError as e:
            what = "symbolic link" if "s" in flags else "hard link"
            if e.strerror == ENOENT and "s" not in flags and not c.fs.exists(target, c.cwd):
                io.err(f"ln: {target}: {e.strerror}\n" if _bb(c) else f"ln: failed to access '{target}': {e.strerror}\n")
            else:
                io.err(f"ln: {name}: {e.strerror}\n" if _bb(c) else
                       f"ln: failed to create {what} '{name}': {e.strerror}\n")
            status = 1
    return status


def _dd_size(text: str) -> int:
    """A dd size: a number with an optional multiplier (``c``, ``w``, ``b``, ``k``/``K``, ``M``, ``G``, ``kB``…)."""
    m = re.fullmatch(r"(\d+)(c|w|b|kB|K|k|KiB|MB|M|MiB|GB|G|GiB)?", text)
    if not m:
        raise ValueError(text)
    mult = {None: 1, "c": 1, "w": 2, "b": 512, "kB": 1000, "K": 1024, "k": 1024, "KiB": 1024, "MB": 10**6,
            "M": 2**20, "MiB": 2**20, "GB": 10**9, "G": 2**30, "GiB": 2**30}[m.group(2)]
    return int(m.group(1)) * mult


def p_dd(c: Container, argv: list[str], io: IO) -> int:
    """``dd [if=FILE] [of=FILE] [bs=N] [count=N] [conv=…]``: one block after another, then the record counts.

    ``if=/dev/zero`` reads zeros (``count`` of them, else until the output is full); ``conv`` is
    accepted (``fsync``, ``notrunc`` …: the sandbox's writes are durable at once).
    """
    ops: dict[str, str] = {}
    for a in argv[1:]:
        key, eq, value = a.partition("=")
        if not eq or key not in ("if", "of", "bs", "ibs", "obs", "count", "conv", "status", "skip", "seek"):
            io.err(f"dd: unknown operand {a}\n" if _bb(c) else f"dd: unrecognized operand '{a}'\n")
            return 1
        ops[key] = value
    try:
        bs = _dd_size(ops.get("bs") or ops.get("ibs") or "512")
        count = _dd_size(ops["count"]) if "count" in ops else None
    except ValueError as e:
        io.err(f"dd: invalid number '{e}'\n")
        return 1
    source = ops.get("if")
    if source == "/dev/zero":
        data = b"\0" * (bs * count) if count is not None else None
    elif source:
        try:
            data = c.fs.read(source, c.cwd)
        except FsError as e:
            io.err(f"dd: can't open '{source}': {e.strerror}\n" if _bb(c)
                   else f"dd: failed to open '{source}': {e.strerror}\n")
            return 1
    else:
        data = io.stdin.read().encode("utf-8", "surrogateescape")
    if data is not None and count is not None:
        data = data[:bs * count]
    status = 0
    dest = ops.get("of")
    if data is None:  # zeros until the output is full
        data, chunk = b"", b"\0" * max(bs, 1 << 20)
        try:
            while True:
                if dest:
                    c.fs.write(dest, chunk, c.cwd, append=bool(data))
                data += chunk
                if not dest and len(data) > 1 << 24:
                    break
        except FsError as e:
            io.err(f"dd: error writing '{dest}': {e.strerror}\n")
            status = 1
    elif dest:
        try:
            c.fs.write(dest, data, c.cwd)
        except FsError as e:
            io.err(f"dd: can't open '{dest}': {e.strerror}\n" if _bb(c)
                   else f"dd: failed to open '{dest}': {e.strerror}\n")
            return 1
    else:
        io.out(_text(data))
    if ops.get("status") == "none":
        return status
    full, partial = divmod(len(data), bs) if bs else (0, 0)
    records = f"{full}+{1 if partial else 0}"
    n = len(data)
    if _bb(c):
        io.err(f"{records} records in\n{records} records out\n{n} bytes ({_human(n)}) copied, 0.000071 seconds, "
               f"{_human(int(n / 0.000071))}/s\n")
    else:
        io.err(f"{records} records in\n{records} records out\n{n} byte{'' if n == 1 else 's'} copied, "
               f"7.1e-05 s, {_si(n / 0.000071)}B/s\n")
    return status


def _human(n: int) -> str:
    """busybox's sizes: ``1B``, ``9.5KB``, ``16.0MB``."""
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return f"{n}B"


def _si(rate: float) -> str:
    """coreutils' rates: ``14.1 k``, ``1.2 M`` (powers of 1000)."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if rate >= size:
            return f"{rate / size:.1f} {unit}"
    return f"{rate:.0f} "


def p_find(c: Container, argv: list[str], io: IO) -> int:
    """``find [PATH...] [-name PATTERN] [-type f|d|l] [-maxdepth N]``: each path and what is below it."""
    import fnmatch
    paths, args = [], argv[1:]
    while args and not args[0].startswith("-"):
        paths.append(args.pop(0))
    name, kind, maxdepth = None, None, None
    while args:
        opt = args.pop(0)
        if opt in ("-name", "-type", "-maxdepth") and args:
            value = args.pop(0)
            if opt == "-name":
                name = value
            elif opt == "-type":
                kind = value
            else:
                maxdepth = int(value)
        elif opt == "-print":
            continue
        else:
            io.err(f"find: unrecognized: {opt}\n" if _bb(c) else f"find: unknown predicate `{opt}'\n")
            return 1
    status = 0

    def visit(path: str, depth: int) -> None:
        st = c.fs.lstat(path, c.cwd)
        t = "l" if st.is_link else "d" if st.is_dir else "f"
        base = path.rstrip("/").rsplit("/", 1)[-1] or "/"
        if (name is None or fnmatch.fnmatchcase(base, name)) and (kind is None or kind == t):
            io.out(path + "\n")
        if st.is_dir and (maxdepth is None or depth < maxdepth):
            for child in c.fs.listdir(path, c.cwd):
                visit(f"{path.rstrip('/')}/{child}" if path != "/" else f"/{child}", depth + 1)

    for path in paths or ["."]:
        try:
            visit(path, 0)
        except FsError as e:
            io.err(f"find: {path}: {e.strerror}\n" if _bb(c) else f"find: '{path}': {e.strerror}\n")
            status = 1
    return status


# ------------------------------------------------------------------ sed

_POSIX_CLASSES = {"space": r"\s", "digit": r"0-9", "alpha": r"A-Za-z", "alnum": r"A-Za-z0-9", "upper": r"A-Z",
                  "lower": r"a-z", "blank": r" \t", "punct": r"!-/:-@\[-`{-~", "xdigit": r"0-9A-Fa-f"}


def posix_regex(pattern: str, extended: bool) -> str:
    """A POSIX regular expression (basic, or extended with ``-E``) as Python's ``re`` writes it."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "[":  # a bracket expression, with [:class:] inside
            j = i + 1
            body = ""
            if j < len(pattern) and pattern[j] == "^":
                body, j = "^", j + 1
            if j < len(pattern) and pattern[j] == "]":
                body, j = body + r"\]", j + 1
            while j < len(pattern) and pattern[j] != "]":
                m = re.match(r"\[:([a-z]+):\]", pattern[j:])
                if m:
                    body += _POSIX_CLASSES.get(m.group(1), "")
                    j += m.end()
                    continue
                body += "\\\\" if pattern[j] == "\\" else pattern[j]
                j += 1
            out.append(f"[{body}]")
            i = j + 1
            continue
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if not extended and nxt in "(){}|+?":
                out.append(nxt)
            elif nxt.isdigit():
                out.append("\\" + nxt)
            else:
                out.append(re.escape(nxt) if nxt not in "nt" else "\\" + nxt)
            i += 2
            continue
        if not extended and ch in "(){}|+?":
            out.append("\\" + ch)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _sed_replacement(repl: str) -> Callable[[re.Match], str]:
    parts: list[str | int] = []
    i = 0
    while i < len(repl):
        ch = repl[i]
        if ch == "\\" and i + 1 < len(repl):
            nxt = repl[i + 1]
            parts.append(int(nxt) if nxt.isdigit() else {"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
            continue
        parts.append(0 if ch == "&" else ch)
        i += 1
    return lambda m: "".join(p if isinstance(p, str) else (m.group(p) or "") for p in parts)


def _sed_commands(script: str, extended: bool) -> list[tuple]:
    """``[ADDRESS]s/RE/REPL/FLAGS``, ``[ADDRESS]d`` and ``[ADDRESS]p``, separated by ``;`` or newlines."""
    commands: list[tuple] = []
    i = 0
    while i < len(script):
        while i < len(script) and script[i] in " \t\n;":
            i += 1
        if i >= len(script):
            break
        address = None
        if script[i] == "/":
            end = script.index("/", i + 1)
            address = re.compile(posix_regex(script[i + 1:end], extended))
            i = end + 1
        elif script[i].isdigit() or script[i] == "$":
            m = re.match(r"\d+|\$", script[i:])
            address = m.group(0)
            i += m.end()
        cmd = script[i] if i < len(script) else ""
        if cmd == "s" and i + 1 < len(script):
            sep = script[i + 1]
            pieces, j, buf = [], i + 2, ""
            while j < len(script) and len(pieces) < 2:
                if script[j] == "\\" and j + 1 < len(script) and script[j + 1] == sep:
                    buf += sep
                    j += 2
                    continue
                if script[j] == sep:
                    pieces.append(buf)
                    buf = ""
                else:
                    buf += script[j]
                j += 1
            if len(pieces) < 2:
                raise ValueError("unterminated `s' command")
            m = re.match(r"[gpiI0-9]*", script[j:])
            flags = m.group(0)
            i = j + m.end()
            count = int(re.sub(r"\D", "", flags) or 0) if re.search(r"\d", flags) else 0
            rx = re.compile(posix_regex(pieces[0], extended), re.I if "i" in flags.lower() else 0)
            commands.append((address, "s", rx, _sed_replacement(pieces[1]), "g" in flags, "p" in flags, count))
        elif cmd in ("d", "p"):
            commands.append((address, cmd))
            i += 1
        else:
            raise ValueError(f"unknown command: `{cmd}'")
    return commands


def p_sed(c: Container, argv: list[str], io: IO) -> int:
    """``sed [-E|-r] [-n] [-i] [-e] SCRIPT [FILE]…``: ``s/RE/REPL/[g][p][N]``, ``d`` and ``p``, with ``/RE/``, ``N`` or
    ``$`` addresses (GNU sed's and busybox's messages); other commands are a clear error."""
    args, scripts, extended, quiet, in_place, files = argv[1:], [], False, False, False, []
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a in ("-E", "-r", "--regexp-extended"):
            extended = True
        elif a in ("-n", "--quiet", "--silent"):
            quiet = True
        elif a in ("-i", "--in-place"):
            in_place = True
        elif a in ("-e", "--expression") and i < len(args):
            scripts.append(args[i])
            i += 1
        elif a.startswith("-") and len(a) > 1 and set(a[1:]) <= set("Erni"):
            extended = extended or "E" in a or "r" in a
            quiet = quiet or "n" in a
            in_place = in_place or "i" in a
        elif a.startswith("-") and len(a) > 1:
            io.err(f"sed: invalid option -- '{a[1:2]}'\n")
            return 1
        elif not scripts and not files:
            scripts.append(a)
        else:
            files.append(a)
    if not scripts:
        io.err("Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...\n")
        return 1 if not _bb(c) else 1
    try:
        commands = [cmd for s in scripts for cmd in _sed_commands(s, extended)]
    except (ValueError, re.error) as e:
        io.err(f"sed: -e expression #1, char {len(scripts[0])}: {e}\n")
        return 1
    status = 0
    for path, text in _inputs(c, "sed", files, io):
        if text is None:
            status = 2
            continue
        lines = text.split("\n")
        trailing = lines[-1] == ""
        if trailing:
            lines.pop()
        out: list[str] = []
        for n, line in enumerate(lines, 1):
            c.tick()
            deleted = False
            for cmd in commands:
                address = cmd[0]
                if address is not None and not (address == "$" and n == len(lines) or address == str(n) or
                                                isinstance(address, re.Pattern) and address.search(line)):
                    continue
                if cmd[1] == "d":
                    deleted = True
                    break
                if cmd[1] == "p":
                    out.append(line)
                    continue
                _, _, rx, repl, glob, show, count = cmd
                new = rx.sub(repl, line, count=0 if glob else 1) if not count else _nth_sub(rx, repl, line, count)
                changed, line = new != line, new
                if show and changed:
                    out.append(line)
            if not deleted and not quiet:
                out.append(line)
        result = "\n".join(out) + ("\n" if out and (trailing or len(out) > len(lines)) else "")
        if in_place and path != "-":
            try:
                c.fs.write(path, result.encode("utf-8", "surrogateescape"), c.cwd)
            except FsError as e:
                io.err(f"sed: couldn't open temporary file {path}: {e.strerror}\n")
                status = 4
        else:
            io.out(result)
    return status


def _nth_sub(rx: re.Pattern, repl: Callable[[re.Match], str], line: str, n: int) -> str:
    seen = 0

    def one(m: re.Match) -> str:
        nonlocal seen
        seen += 1
        return repl(m) if seen == n else m.group(0)

    return rx.sub(one, line)
