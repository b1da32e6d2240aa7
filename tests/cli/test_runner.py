"""``stsnb run`` itself, on tiny notebooks: one passes, one fails a check, one hangs past the timeout.

Also how executed copies are written: once, when a notebook ends, atomically, never replacing the
last complete copy with a failed or half-run one (that one is kept beside it, marked).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

from stsnb.cli.execute import waiting_at
from stsnb.cli.report import read_record
from stsnb.cli.run import check_kernel, main_run, run_notebooks
from stsnb.errors import ConfigError

from .conftest import write_lessons

TINY = {
    "01-passes.ipynb": 'import sys\nprint(lang, backend, speed, sys.executable)',
    "02-fails.ipynb": 'assert lang in ("en", "ko")\nassert lang == "xx", f"lang is {lang}"',
    "03-hangs.ipynb": "import time\ntime.sleep(60)",
}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """``stsnb run --lang ko -p speed 7.5 --timeout 4`` over the tiny notebooks: (exit code, stdout, out dir)."""
    root = write_lessons(tmp_path_factory.mktemp("tiny"), TINY)
    out = root / "executed"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main_run(["--source", str(root), "--out", str(out), "--lang", "ko", "--backend", "sandbox",
                         "-p", "speed", "7.5", "--timeout", "4", "--jobs", "2", "--no-progress"])
    return code, buf.getvalue(), out


def _summary(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["lang", "notebook"])
    return lines[start:]


def test_run_exits_non_zero_when_a_notebook_fails(tiny_run):
    code, _, _ = tiny_run
    assert code == 1


def test_summary_lists_every_notebook_with_status_and_seconds(tiny_run):
    _, text, _ = tiny_run
    lines = _summary(text)
    assert lines[0].split() == ["lang", "notebook", "status", "seconds"]
    rows = {line.split()[1]: line.split() for line in lines[1:4]}
    assert rows["01-passes.ipynb"][2] == "passed"
    assert rows["02-fails.ipynb"][2] == "failed"
    assert rows["03-hangs.ipynb"][2] == "timeout"
    assert all(float(r[3]) > 0 for r in rows.values())
    assert "1/3 passed" in text


def test_a_line_is_printed_as_each_notebook_ends(tiny_run):
    _, text, _ = tiny_run
    ended = text.splitlines()[:3]
    assert sorted(line.split()[1] for line in ended) == ["ko/01-passes.ipynb", "ko/02-fails.ipynb",
                                                        "ko/03-hangs.ipynb"]


def test_failure_names_the_notebook_the_cell_and_the_error(tiny_run):
    _, text, _ = tiny_run
    assert 'ko/02-fails.ipynb, cell 2 [check]: assert lang in ("en", "ko")' in text
    assert 'AssertionError: lang is ko (at: assert lang == "xx", f"lang is {lang}")' in text


def test_a_cell_running_past_the_timeout_is_stopped_and_named(tiny_run):
    _, text, _ = tiny_run
    assert "ko/03-hangs.ipynb, cell 2 [check]: import time" in text
    assert "CellTimeoutError" in text
    assert "(the kernel was at: cell line 2)" in text  # time.sleep: no Python frame below the cell's


@pytest.mark.parametrize("warm", [True, False], ids=["warm kernel", "cold kernel"])
def test_a_timeout_says_where_the_cell_was_waiting_from_the_kernels_own_stacks(tmp_path, warm):
    stuck = "import threading\n\ndef stuck():\n    threading.Event().wait()\n\nstuck()"
    root = write_lessons(tmp_path / "src", {"01-stuck.ipynb": stuck}, langs=("en",))
    [result] = run_notebooks(["en"], source_dir=root, out_dir=tmp_path / "out", jobs=1, timeout=3, warm=warm)
    assert result.status == "timeout"
    assert re.search(r"\(the kernel was at: threading\.py:\d+ in wait <- cell line 4\)$", result.error), result.error
    assert "most recent call first" in result.log.read_text()  # the whole dump stays in the kernel's log


def test_the_place_named_is_the_innermost_frame_stsnbs_innermost_and_the_cells_line():
    dump = "\n".join([
        "Thread 0x00007f0000000001 (most recent call first):",
        '  File "/usr/lib/python3.11/selectors.py", line 468 in select',
        "",
        "Current thread 0x00007f0000000002 (most recent call first):",
        '  File "/usr/lib/python3.11/threading.py", line 331 in wait',
        '  File "/venv/lib/python3.11/site-packages/stsnb/watching.py", line 301 in wait_for',
        '  File "/venv/lib/python3.11/site-packages/stsnb/lab/base.py", line 165 in wait_ready',
        '  File "/tmp/ipykernel_4242/1234567.py", line 3 in <module>',
        '  File "/venv/lib/python3.11/site-packages/IPython/core/interactiveshell.py", line 3577 in run_code',
        ""])
    assert waiting_at(dump) == "threading.py:331 in wait <- stsnb/watching.py:301 in wait_for <- cell line 3"
    assert waiting_at("no dump") == ""


def test_a_failed_notebook_is_kept_beside_as_a_marked_copy(tiny_run):
    _, _, out = tiny_run
    assert not (out / "ko" / "02-fails.ipynb").exists()
    failed = json.loads((out / "ko" / "02-fails.failed.ipynb").read_text())
    assert failed["metadata"]["stsnb"]["status"] == "failed"
    assert failed["metadata"]["stsnb"]["cell"] == 2
    assert any("papermill-error-cell-tag" in c["metadata"].get("tags", []) for c in failed["cells"])


def test_a_timed_out_notebook_is_kept_with_the_cells_that_ran_and_names_the_cell(tiny_run):
    _, _, out = tiny_run
    copy = json.loads((out / "ko" / "03-hangs.failed.ipynb").read_text())
    assert copy["metadata"]["stsnb"]["status"] == "timeout"
    assert copy["metadata"]["stsnb"]["cell"] == 2
    params = [c for c in copy["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert params and params[0]["execution_count"] is not None


def test_the_run_record_says_what_each_notebooks_latest_run_did(tiny_run):
    _, _, out = tiny_run
    record = read_record(out)
    assert {k: v["status"] for k, v in record.items()} == {
        "ko/01-passes.ipynb": "passed", "ko/02-fails.ipynb": "failed", "ko/03-hangs.ipynb": "timeout"}
    assert record["ko/02-fails.ipynb"]["file"] == "ko/02-fails.failed.ipynb"


def test_parameters_are_injected_with_lang_per_language_and_typed(tiny_run):
    _, _, out = tiny_run
    nb = nbformat.read(str(out / "ko" / "01-passes.ipynb"), as_version=4)
    assert nb.metadata.papermill.parameters == {"speed": 7.5, "lang": "ko", "backend": "sandbox"}
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and 'lang = "ko"' in injected[0].source


def test_the_kernel_is_this_environments_python(tiny_run):
    _, _, out = tiny_run
    nb = nbformat.read(str(out / "ko" / "01-passes.ipynb"), as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert printed.split()[:3] == ["ko", "sandbox", "7.5"]
    assert Path(printed.split()[3]).resolve() == Path(sys.executable).resolve()


def test_kernel_noise_goes_to_a_log_file_not_the_summary(tiny_run):
    _, text, out = tiny_run
    assert "Kernel is running over TCP" not in text
    assert (out / "logs" / "ko-01-passes.log").exists()


def test_the_copy_is_written_once_when_the_notebook_ends_and_the_previous_one_stays_until_then(tmp_path):
    """A cell looks at its own executed copy while the notebook runs: still the previous one, byte for byte."""
    out = tmp_path / "out"
    target = out / "en" / "01-watch.ipynb"
    target.parent.mkdir(parents=True)
    target.write_text('{"previous": "copy"}')
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    watch = (f"import hashlib, pathlib\np = pathlib.Path({str(target)!r})\n"
             "print(hashlib.sha256(p.read_bytes()).hexdigest(), sorted(x.name for x in p.parent.iterdir()))")
    root = write_lessons(tmp_path / "src", {"01-watch.ipynb": [watch, watch]}, langs=("en",))
    [result] = run_notebooks(["en"], source_dir=root, out_dir=out, jobs=1, timeout=60)
    assert result.ok, result.describe_failure()
    nb = nbformat.read(str(target), as_version=4)
    seen = [o["text"].split()[0] for c in nb.cells if c.cell_type == "code" for o in c.outputs if "text" in o]
    assert seen == [before, before]
    assert sorted(p.name for p in target.parent.iterdir()) == ["01-watch.ipynb"]


def test_a_failure_keeps_the_last_complete_copy_and_a_later_pass_removes_the_failed_one(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    write_lessons(src, {"01-flaky.ipynb": "assert speed != 1.5, 'speed 1.5 fails'"}, langs=("en",))
    [good] = run_notebooks(["en"], source_dir=src, out_dir=out, jobs=1, timeout=60)
    complete = good.output.read_bytes()
    [bad] = run_notebooks(["en"], source_dir=src, out_dir=out, jobs=1, timeout=60, parameters={"speed": 1.5})
    assert (good.status, bad.status) == ("passed", "failed")
    assert good.output.read_bytes() == complete
    assert bad.output == out / "en" / "01-flaky.failed.ipynb" and bad.output.exists()
    [again] = run_notebooks(["en"], source_dir=src, out_dir=out, jobs=1, timeout=60)
    assert again.ok and not bad.output.exists()
    assert read_record(out)["en/01-flaky.ipynb"]["status"] == "passed"


def test_only_the_selected_notebooks_run(tmp_path):
    root = write_lessons(tmp_path / "src", TINY)
    results = run_notebooks(["en"], backend="sandbox", out_dir=tmp_path / "out", jobs=1, timeout=30,
                            source_dir=root, select=["01"])
    assert [(r.lang, r.notebook, r.status) for r in results] == [("en", "01-passes.ipynb", "passed")]
    assert (tmp_path / "out" / "en" / "01-passes.ipynb").exists()


def test_a_python3_kernelspec_of_another_interpreter_is_refused(tmp_path, monkeypatch):
    spec = tmp_path / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({"argv": ["/opt/elsewhere/bin/python", "-m", "ipykernel_launcher",
                                                           "-f", "{connection_file}"],
                                                  "display_name": "Python 3", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="ipykernel install --sys-prefix"):
        check_kernel("python3")


def test_a_missing_kernelspec_says_how_to_install_it():
    with pytest.raises(ConfigError, match="no Jupyter kernel named 'no-such-kernel'"):
        check_kernel("no-such-kernel")


def test_running_without_an_execution_timeout_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="timeout"):
        run_notebooks(["en"], out_dir=tmp_path, timeout=0, source_dir=tmp_path)


def test_minus_r_passes_a_version_as_text(tmp_path):
    root = write_lessons(tmp_path / "src", TINY)
    code = main_run(["01", "--source", str(root), "--out", str(tmp_path / "out"), "--lang", "en", "-r",
                     "k8s_version", "1.30", "--no-progress"])
    nb = nbformat.read(str(tmp_path / "out" / "en" / "01-passes.ipynb"), as_version=4)
    assert code == 0 and nb.metadata.papermill.parameters["k8s_version"] == "1.30"


def test_lang_cannot_be_passed_as_a_parameter(capsys):
    assert main_run(["-p", "lang", "ko"]) == 2
    assert "use --lang" in capsys.readouterr().err


def test_by_default_as_many_notebooks_run_at_once_as_the_process_has_cpus_plus_one():
    import os
    import subprocess

    code = "from stsnb.cli.runner import DEFAULT_JOBS; print(DEFAULT_JOBS)"
    one_cpu = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             preexec_fn=lambda: os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]}))
    assert one_cpu.stdout.strip() == "2"
    every_cpu = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert every_cpu.stdout.strip() == str(len(os.sched_getaffinity(0)) + 1)
    help_text = subprocess.run([sys.executable, "-m", "stsnb", "run", "--help"], capture_output=True, text=True,
                               check=True).stdout
    assert f"(default: {len(os.sched_getaffinity(0)) + 1}, one per CPU plus one)" in " ".join(help_text.split())
