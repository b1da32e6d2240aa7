"""The sandbox's bash runs the MySQL StatefulSet tutorial's scripts as bash would: ``[[ ]]``, BASH_REMATCH,
``$(<file)``, ``set -x`` and combined flags; dash keeps not having them."""

from __future__ import annotations

from stsnb.sandbox.node.containers import FileSystem, image_root
from stsnb.sandbox.node.programs import Outcome, ProgramContext, run


def _no_dns(query):
    raise RuntimeError("no DNS in this test")


def start(argv: list[str], *, hostname: str = "mysql-0", image: str = "debian", files: dict[str, str] | None = None,
          dirs: tuple[str, ...] = ()) -> tuple[Outcome, FileSystem]:
    """Run ``argv`` as the container's command in a pod named ``hostname``, its filesystem prepared first."""
    fs = FileSystem(image_root("busybox" if image == "busybox" else "debian", nginx=False))
    for d in dirs:
        fs.makedirs(d)
    for path, text in (files or {}).items():
        fs.makedirs(path.rsplit("/", 1)[0] or "/")
        fs.write(path, text.encode())
    pod = {"metadata": {"name": hostname, "namespace": "default"}, "spec": {},
           "status": {"podIP": "10.244.1.5", "podIPs": [{"ip": "10.244.1.5"}]}}
    spec = {"name": "c", "image": image, "command": argv}
    return run(ProgramContext(pod, spec, _no_dns, "10.96.0.10", [], fs=fs)), fs


def bash(script: str, *args: str, **kw) -> tuple[str, int]:
    """``bash -c SCRIPT [ARGS]``: its output (stdout and stderr as ``kubectl logs`` shows them) and exit status."""
    out, _ = start(["bash", "-c", script, *args], **kw)
    assert not out.runs_forever
    return out.output, out.exit_code


def sh(script: str, image: str = "debian") -> tuple[str, int]:
    out, _ = start(["sh", "-c", script], image=image)
    return out.output, out.exit_code


def test_an_assignment_alone_has_the_status_of_its_command_substitution():
    assert bash("x=$(false); echo $?; x=$(true); echo $?; x=1; echo $?") == ("1\n0\n0\n", 0)


def test_the_value_of_an_assignment_is_not_split():
    assert bash("x=$(printf 'a   b') y=`printf 'c  d'`; echo \"$x|$y\"; z=$x printenv z") == ("a   b|c  d\na   b\n", 0)
    assert sh("x=$(printf 'a   b'); echo \"$x\"; echo $(printf '1   2')") == ("a   b\n1 2\n", 0)


def test_a_failing_condition_does_not_stop_a_set_e_shell():
    assert sh("set -e; if false; then :; fi; until true; do :; done; while false; do :; done; echo survived; "
              "false; echo never") == ("survived\n", 1)
