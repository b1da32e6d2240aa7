"""``stsnb docs build`` publishes only notebooks whose latest run passed, unless told otherwise."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from stsnb.cli.published import NotPublishable, choose_copies
from stsnb.cli.run import run_notebooks

from .conftest import stsnb, write_lessons


def test_docs_build_after_a_run_with_a_failed_notebook_exits_non_zero_and_names_it(tmp_path):
    src = write_lessons(tmp_path / "src", {"01-intro.ipynb": "print('fine')",
                                           "02-broken.ipynb": "raise RuntimeError('no cluster here')"})
    out = tmp_path / "executed"
    results = run_notebooks(["en", "ko"], source_dir=src, out_dir=out, jobs=2, timeout=60)
    assert [r.status for r in results] == ["passed", "failed", "passed", "failed"]
    done = stsnb("docs", "build", "--executed", str(out), "--out", str(tmp_path / "site"), cwd=tmp_path)
    assert done.returncode == 2
    assert "refusing to publish notebooks whose latest run did not pass" in done.stderr
    assert "en/02-broken.ipynb: its latest run failed (RuntimeError: no cluster here" in done.stderr
    assert "ko/02-broken.ipynb: its latest run failed" in done.stderr
    assert "01-intro" not in done.stderr
    assert "--allow-failed" in done.stderr
    assert not (tmp_path / "site").exists()


def _copy(path: Path, *, error: bool = False, stsnb_status: str | None = None) -> Path:
    outputs = [{"output_type": "error", "ename": "ValueError", "evalue": "bad", "traceback": []}] if error else []
    nb = {"cells": [{"cell_type": "code", "source": "x", "metadata": {}, "outputs": outputs,
                     "execution_count": 1}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    if stsnb_status:
        nb["metadata"]["stsnb"] = {"status": stsnb_status, "error": "KeyboardInterrupt"}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb))
    return path


def _record(out: Path, **entries: tuple[str, str]) -> None:
    notebooks = {label.replace("__", "/").replace("_", "-") + ".ipynb": {"status": s, "file": f, "error": None}
                 for label, (s, f) in entries.items()}
    (out / "run.json").write_text(json.dumps({"version": 1, "notebooks": notebooks}))


def test_a_notebook_whose_latest_run_was_interrupted_is_refused_though_an_older_copy_passed(tmp_path):
    good = _copy(tmp_path / "en" / "01-a.ipynb")
    _copy(tmp_path / "en" / "01-a.interrupted.ipynb", stsnb_status="interrupted")
    _record(tmp_path, en__01_a=("interrupted", "en/01-a.interrupted.ipynb"))
    with pytest.raises(NotPublishable, match="en/01-a.ipynb: its latest run interrupted"):
        choose_copies(tmp_path, {"en": ["01-a.ipynb"]}, allow_failed=False, warnings=[])
    assert good.exists()


def test_allow_failed_publishes_the_latest_copy_and_says_so(tmp_path):
    _copy(tmp_path / "en" / "01-a.ipynb")
    marked = _copy(tmp_path / "en" / "01-a.failed.ipynb", error=True)
    _record(tmp_path, en__01_a=("failed", "en/01-a.failed.ipynb"))
    warnings: list[str] = []
    chosen = choose_copies(tmp_path, {"en": ["01-a.ipynb"]}, allow_failed=True, warnings=warnings)
    assert chosen == {"en": [marked]}
    assert warnings == ["published anyway (--allow-failed): en/01-a.ipynb: its latest run failed"]


def test_without_a_run_record_a_copy_holding_an_error_is_refused(tmp_path):
    _copy(tmp_path / "en" / "01-a.ipynb", error=True)
    with pytest.raises(NotPublishable, match="cell 0 ended in ValueError: bad"):
        choose_copies(tmp_path, {"en": ["01-a.ipynb"]}, allow_failed=False, warnings=[])


def test_without_a_run_record_a_newer_marked_copy_means_the_latest_run_failed(tmp_path):
    old = _copy(tmp_path / "en" / "01-a.ipynb")
    os.utime(old, (time.time() - 60, time.time() - 60))
    _copy(tmp_path / "en" / "01-a.interrupted.ipynb", stsnb_status="interrupted")
    with pytest.raises(NotPublishable, match="its latest run interrupted"):
        choose_copies(tmp_path, {"en": ["01-a.ipynb"]}, allow_failed=False, warnings=[])


def test_a_passed_latest_run_publishes_its_complete_copy(tmp_path):
    good = _copy(tmp_path / "en" / "01-a.ipynb")
    _record(tmp_path, en__01_a=("passed", "en/01-a.ipynb"))
    assert choose_copies(tmp_path, {"en": ["01-a.ipynb"]}, allow_failed=False, warnings=[]) == {"en": [good]}
