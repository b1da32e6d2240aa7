"""``stsnb run`` itself, on three tiny notebooks: one passes, one fails a check, one hangs."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from stsnb.errors import ConfigError
from stsnb.cli.run import _infer, check_kernel, main_run, run_notebooks

TINY = {
    "01-passes.ipynb": 'import sys\nprint(lang, backend, speed, sys.executable)',
    "02-fails.ipynb": 'assert lang in ("en", "ko")\nassert lang == "xx", f"lang is {lang}"',
    "03-hangs.ipynb": "import time\ntime.sleep(60)",
}


def _write_tiny(root: Path) -> Path:
    for lang in ("en", "ko"):
        for name, code in TINY.items():
            nb = v4.new_notebook()
            nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
            params = v4.new_code_cell('backend = "auto"\nspeed = None\nlang = "en"')
            params.metadata["tags"] = ["parameters"]
            check = v4.new_code_cell(code)
            check.metadata["tags"] = ["check"]
            nb.cells = [v4.new_markdown_cell(f"# {name}"), params, check]
            (root / lang).mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(root / lang / name))
    return root


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """``stsnb run --lang ko -p speed 7.5 --timeout 4`` over the tiny notebooks: (exit code, stdout, out dir)."""
    root = _write_tiny(tmp_path_factory.mktemp("tiny"))
    out = root / "executed"
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main_run(["--source", str(root), "--out", str(out), "--lang", "ko", "--backend", "sandbox",
                         "-p", "speed", "7.5", "--timeout", "4", "--jobs", "2", "--no-progress"])
    return code, buf.getvalue(), out


def test_run_exits_non_zero_when_a_notebook_fails(tiny_run):
    code, _, _ = tiny_run
    assert code == 1


def test_summary_lists_every_notebook_with_status_and_seconds(tiny_run):
    _, text, _ = tiny_run
    lines = text.splitlines()
    assert lines[0].split() == ["lang", "notebook", "status", "seconds"]
    rows = {line.split()[1]: line.split() for line in lines[1:4]}
    assert rows["01-passes.ipynb"][2] == "passed"
    assert rows["02-fails.ipynb"][2] == "failed"
    assert rows["03-hangs.ipynb"][2] == "timeout"
    assert all(float(r[3]) > 0 for r in rows.values())
    assert "1/3 passed" in text


def test_failure_names_the_notebook_the_cell_and_the_error(tiny_run):
    _, text, _ = tiny_run
    assert 'ko/02-fails.ipynb, cell 2 [check]: assert lang in ("en", "ko")' in text
    assert 'AssertionError: lang is ko (at: assert lang == "xx", f"lang is {lang}")' in text


def test_a_cell_running_past_the_timeout_is_stopped_and_named(tiny_run):
    _, text, _ = tiny_run
    assert "ko/03-hangs.ipynb, cell 2 [check]: import time" in text
    assert "CellTimeoutError" in text


def test_parameters_are_injected_with_lang_per_language_and_typed(tiny_run):
    _, _, out = tiny_run
    nb = nbformat.read(str(out / "ko" / "01-passes.ipynb"), as_version=4)
    assert nb.metadata.papermill.parameters == {"speed": 7.5, "lang": "ko", "backend": "sandbox"}
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and 'lang = "ko"' in injected[0].source


def test_the_kernel_is_this_environments_python(tiny_run):
    import sys

    _, _, out = tiny_run
    nb = nbformat.read(str(out / "ko" / "01-passes.ipynb"), as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert printed.split()[:3] == ["ko", "sandbox", "7.5"]
    assert Path(printed.split()[3]).resolve() == Path(sys.executable).resolve()


def test_kernel_noise_goes_to_a_log_file_not_the_summary(tiny_run):
    _, text, out = tiny_run
    assert "Kernel is running over TCP" not in text
    assert (out / "logs" / "ko-01-passes.log").exists()


def test_only_the_selected_notebooks_run(tmp_path):
    root = _write_tiny(tmp_path / "src")
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


@pytest.mark.parametrize("text, value", [("5", 5), ("0.25", 0.25), ("True", True), ("False", False),
                                         ("None", None), ("kubeconfig", "kubeconfig"), ("1.27", 1.27)])
def test_minus_p_values_are_typed_as_papermill_types_them(text, value):
    assert _infer(text) == value and type(_infer(text)) is type(value)


def test_minus_r_passes_a_version_as_a_string(tmp_path):
    root = _write_tiny(tmp_path / "src")
    code = main_run(["01", "--source", str(root), "--out", str(tmp_path / "out"), "--lang", "en", "-r", "speed",
                     "1.30", "--no-progress"])
    nb = nbformat.read(str(tmp_path / "out" / "en" / "01-passes.ipynb"), as_version=4)
    assert code == 0 and nb.metadata.papermill.parameters["speed"] == "1.30"


def test_lang_cannot_be_passed_as_a_parameter(capsys):
    assert main_run(["-p", "lang", "ko"]) == 2
    assert "use --lang" in capsys.readouterr().err
