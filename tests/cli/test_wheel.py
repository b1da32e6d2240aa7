"""The package as a user installs it: the wheel alone, in a fresh venv, outside the checkout.

One wheel is built per session from the checkout's files (``git ls-files``, so build leftovers do
not leak in) with ``pip wheel --no-deps``; a new venv installs it with plain ``pip install``
(dependencies from the package index) and, from an empty folder, runs the English lessons and
copies them with ``stsnb lessons``. This is what CI runs (``.ci/run`` runs the whole test suite).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from .conftest import NOTEBOOKS, ROOT, clean_env

pytestmark = pytest.mark.timeout(1800)

LESSONS = {f"{lang}/{p.name}": p for lang in ("en", "ko") for p in sorted((NOTEBOOKS / lang).glob("*.ipynb"))}


def _checkout_copy(dest: Path) -> Path:
    """The files git would commit (tracked, or new and not ignored), copied to ``dest``."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=False)
    if listed.returncode != 0:
        shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(".venv", "build", "dist", "*.egg-info", ".git",
                                                                  "__pycache__", "docs/_vendor"))
        return dest
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """``stsnb-<version>-py3-none-any.whl`` built from a copy of the checkout."""
    src = _checkout_copy(tmp_path_factory.mktemp("checkout"))
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(src)], check=True,
                   capture_output=True, timeout=600)
    [built] = dist.glob("stsnb-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv (outside the checkout) where ``pip install <wheel>`` is all that was done; its bin/."""
    home = tmp_path_factory.mktemp("fresh")
    venv.EnvBuilder(with_pip=True).create(home / "venv")
    bin_dir = home / "venv" / ("Scripts" if sys.platform == "win32" else "bin")
    done = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)], capture_output=True,
                          text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    return bin_dir


def _user_env(tmp: Path, bin_dir: Path) -> dict[str, str]:
    """A new user's environment: this venv first on PATH, no Jupyter or IPython settings of ours."""
    return clean_env(PATH=f"{bin_dir}:/usr/bin:/bin", LANG="C.UTF-8", LC_ALL="", LC_MESSAGES="",
                     JUPYTER_DATA_DIR=str(tmp / "jupyter-data"), JUPYTER_CONFIG_DIR=str(tmp / "jupyter-config"),
                     IPYTHONDIR=str(tmp / "ipython"), PYTHONPATH="", VIRTUAL_ENV=str(bin_dir.parent))


def test_the_wheel_carries_all_ten_lessons_byte_for_byte(wheel):
    assert len(LESSONS) == 10
    with zipfile.ZipFile(wheel) as zf:
        shipped = {n.removeprefix("stsnb/lessons/"): zf.read(n) for n in zf.namelist()
                   if n.startswith("stsnb/lessons/") and n.endswith(".ipynb")}
    assert sorted(shipped) == sorted(LESSONS)
    assert all(shipped[name] == path.read_bytes() for name, path in LESSONS.items())


def test_the_installed_wheel_runs_every_english_lesson_from_an_empty_folder(installed, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    done = subprocess.run([str(installed / "stsnb"), "run", "--lang", "en", "--no-progress"], cwd=empty,
                          env=_user_env(tmp_path, installed), capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "5/5 passed" in done.stdout
    assert sorted(p.name for p in (empty / "build" / "executed" / "en").glob("*.ipynb")) == \
        sorted(p.name for p in (NOTEBOOKS / "en").glob("*.ipynb"))


def test_the_installed_wheel_copies_the_lessons_for_the_reader(installed, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    done = subprocess.run([str(installed / "stsnb"), "lessons"], cwd=empty, env=_user_env(tmp_path, installed),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    written = sorted((empty / "stsnb-lessons").glob("*.ipynb"))
    assert len(written) == 5
    assert all(p.read_bytes() == (NOTEBOOKS / "en" / p.name).read_bytes() for p in written)


def test_the_installed_wheel_knows_its_version_and_its_lessons_are_not_the_checkouts(installed, tmp_path):
    done = subprocess.run([str(installed / "python"), "-c",
                           "import stsnb; from stsnb.cli.lessons import lessons_root; "
                           "print(stsnb.__version__, lessons_root())"],
                          cwd=tmp_path, env=_user_env(tmp_path, installed), capture_output=True, text=True)
    version, root = done.stdout.split()
    assert version == __import__("stsnb").__version__
    assert Path(root).parts[-2:] == ("stsnb", "lessons") and str(ROOT) not in root
