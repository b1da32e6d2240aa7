"""Build hook: the lessons ship inside the wheel as package data, copied from ``notebooks/``.

``notebooks/{en,ko}/*.ipynb`` stay the one source of truth (the notebooks tier, the docs build and
``git diff`` all read them there). Building a wheel copies them, byte for byte, to
``stsnb/lessons/{en,ko}/`` in the build tree, where :func:`stsnb.cli.lessons.lessons_root` finds
them after ``pip install``. An editable install copies nothing: the checkout's ``notebooks/`` is used.
The sdist carries ``notebooks/`` (MANIFEST.in), so a wheel built from it has the lessons too.
Everything else is in ``pyproject.toml``.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
LANGS = ("en", "ko")


class build_py_with_lessons(build_py):  # noqa: N801 - setuptools command naming
    """``build_py``, then the lessons into ``<build_lib>/stsnb/lessons/<lang>/``."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for lang in LANGS:
            source = HERE / "notebooks" / lang
            notebooks = sorted(source.glob("*.ipynb"))
            if not notebooks:
                raise SystemExit(f"no lessons in {source}: the wheel would ship without them")
            target = Path(self.build_lib) / "stsnb" / "lessons" / lang
            target.mkdir(parents=True, exist_ok=True)
            for nb in notebooks:
                shutil.copyfile(nb, target / nb.name)


setup(cmdclass={"build_py": build_py_with_lessons})
