"""``stsnb lessons`` and ``stsnb lab``: the reader's own copies of the lessons, never clobbered."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from stsnb.cli import main
from stsnb.cli.lessons import copy_lessons, default_lang, lab_argv, lessons_root

from .conftest import NOTEBOOKS, clean_env, stsnb, write_lessons


def test_in_a_checkout_the_lessons_are_the_checkouts_notebooks():
    assert lessons_root(env={}) == NOTEBOOKS
    assert lessons_root(env={"STSNB_NOTEBOOKS": "/somewhere"}) == Path("/somewhere")


def test_lessons_writes_the_chosen_language_into_a_new_folder_byte_for_byte(tmp_path):
    done = stsnb("lessons", "--lang", "ko", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    written = sorted((tmp_path / "stsnb-lessons").glob("*.ipynb"))
    assert [p.name for p in written] == sorted(p.name for p in (NOTEBOOKS / "ko").glob("*.ipynb"))
    assert all(p.read_bytes() == (NOTEBOOKS / "ko" / p.name).read_bytes() for p in written)
    assert "written:" in done.stdout and "stsnb lab stsnb-lessons" in done.stdout


@pytest.mark.parametrize("env, lang", [({"STSNB_LANG": "ko"}, "ko"), ({"LANG": "ko_KR.UTF-8"}, "ko"),
                                       ({"LANG": "en_US.UTF-8"}, "en"), ({"STSNB_LANG": "en", "LANG": "ko_KR"}, "en")])
def test_the_language_defaults_to_stsnb_lang_then_the_locale(env, lang):
    assert default_lang(env) == lang


def test_lessons_uses_the_korean_lessons_for_a_korean_locale(tmp_path):
    done = stsnb("lessons", "here", cwd=tmp_path, env=clean_env(LANG="ko_KR.UTF-8", LC_ALL="", LC_MESSAGES=""))
    assert done.returncode == 0, done.stderr
    first = sorted((tmp_path / "here").glob("*.ipynb"))[0]
    assert first.read_bytes() == (NOTEBOOKS / "ko" / first.name).read_bytes()


def test_a_copy_the_reader_changed_is_kept_unless_forced(tmp_path):
    src = write_lessons(tmp_path / "src", {"01-a.ipynb": "print(1)", "02-b.ipynb": "print(2)"}, langs=("en",))
    folder = tmp_path / "mine"
    copy_lessons(folder, "en", source_dir=src)
    (folder / "01-a.ipynb").write_text("my notes")
    report = copy_lessons(folder, "en", source_dir=src)
    assert report.kept == ["01-a.ipynb"] and report.unchanged == ["02-b.ipynb"]
    assert (folder / "01-a.ipynb").read_text() == "my notes"
    assert "--force replaces them" in str(report)
    forced = copy_lessons(folder, "en", source_dir=src, force=True)
    assert forced.refreshed == ["01-a.ipynb"]
    assert (folder / "01-a.ipynb").read_bytes() == (src / "en" / "01-a.ipynb").read_bytes()


def test_an_unchanged_copy_of_an_older_lesson_is_updated(tmp_path):
    src = write_lessons(tmp_path / "src", {"01-a.ipynb": "print('old')"}, langs=("en",))
    folder = tmp_path / "mine"
    copy_lessons(folder, "en", source_dir=src)
    write_lessons(src, {"01-a.ipynb": "print('new')"}, langs=("en",))
    report = copy_lessons(folder, "en", source_dir=src)
    assert report.refreshed == ["01-a.ipynb"]
    assert "print('new')" in (folder / "01-a.ipynb").read_text()


def test_lab_without_jupyterlab_says_which_extra_to_install(tmp_path, monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "jupyterlab" else real(name, *a))
    assert main(["lab", str(tmp_path / "lessons")]) == 2
    err = capsys.readouterr().err
    assert "JupyterLab is not installed" in err and 'pip install "stsnb[lab]"' in err
    assert not (tmp_path / "lessons").exists()


def test_lab_opens_this_environments_jupyterlab_on_the_lessons_folder(tmp_path):
    argv = lab_argv(tmp_path / "lessons", ["--", "--no-browser"])
    assert argv == [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={(tmp_path / 'lessons').resolve()}",
                    "--no-browser"]
