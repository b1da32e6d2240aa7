"""Packaging metadata that must agree: ``environment.yml`` and the pip dependencies and extras of ``pyproject.toml``."""

from __future__ import annotations

import tomllib

import yaml
from packaging.requirements import Requirement

from .conftest import ROOT

#: conda-forge package name → the PyPI name it packages.
CONDA_TO_PIP = {"python-kubernetes": "kubernetes", "matplotlib-base": "matplotlib"}
#: environment.yml entries that are not Python dependencies of stsnb.
NOT_DEPENDENCIES = {"python", "pip"}


def _pip() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"]) + [r for extra in project["optional-dependencies"].values() for r in extra]
    parsed = [Requirement(r) for r in reqs]
    return {r.name.lower(): str(r.specifier) for r in parsed}


def _conda() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    entries: list[str] = []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            entries.extend(e for e in dep.get("pip", []) if not e.startswith("-e"))
        elif dep.split("=")[0].split(">")[0].split("<")[0] not in NOT_DEPENDENCIES:
            entries.append(dep)
    found = {}
    for entry in entries:
        req = Requirement(entry.split("#")[0].strip())
        found[CONDA_TO_PIP.get(req.name.lower(), req.name.lower())] = str(req.specifier)
    return found


def test_environment_yml_has_the_same_packages_and_versions_as_the_pip_dependencies_and_extras():
    assert _conda() == _pip()


def test_the_runtime_dependencies_include_what_every_lesson_imports_at_run_time():
    runtime = {Requirement(r).name.lower() for r in
               tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    # pandas' Styler (the lab's coloured tables) needs jinja2, which pandas does not require
    assert {"jinja2", "pandas", "ipywidgets", "ipykernel", "papermill", "kubernetes", "matplotlib"} <= runtime
