"""The notebooks as committed: bilingual parity, no outputs, thin code, the lesson's shape."""

from __future__ import annotations

import ast
import re

import pytest

from . import guide_shingles
from .conftest import NAMES, NOTEBOOKS, read

EXPECTED = ["01-what-is-a-statefulset.ipynb", "02-creating.ipynb", "03-networking.ipynb", "04-storage.ipynb",
            "05-beyond-the-guide.ipynb"]
REQUIRED_PARAMETERS = {"backend", "namespace", "k8s_version", "speed", "timeout_s", "lang", "notebook_lang"}
_NOTEBOOK_LANG = re.compile(r'^notebook_lang = "(en|ko)"  #.*$', re.M)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def markdown(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_the_five_notebooks_exist_in_both_languages_with_the_same_names():
    assert NAMES == EXPECTED
    assert sorted(p.name for p in (NOTEBOOKS / "ko").glob("*.ipynb")) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_korean_and_english_have_identical_code_cells_and_tags(name):
    """Identical, except the one line that says which language the notebook is written in."""
    en, ko = read("en", name), read("ko", name)
    assert [c.cell_type for c in en.cells] == [c.cell_type for c in ko.cells], "cells must line up one to one"
    for i, (a, b) in enumerate(zip(code_cells(en), code_cells(ko))):
        same_a, same_b = _NOTEBOOK_LANG.sub("notebook_lang = ?", a.source), _NOTEBOOK_LANG.sub("notebook_lang = ?", b.source)
        assert same_a == same_b, f"code cell {i} differs between en and ko"
        assert a.metadata.get("tags", []) == b.metadata.get("tags", []), f"tags of code cell {i} differ"


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("name", EXPECTED)
def test_a_notebook_says_its_own_language_and_leaves_lang_to_the_reader(lang, name):
    """Opened anywhere (JupyterLab, raw papermill), a Korean notebook is Korean: ``notebook_lang`` says so,
    and ``lang = None`` leaves room for ``-p lang``, ``stsnb run`` and ``$STSNB_LANG`` to choose another."""
    params = next(c for c in code_cells(read(lang, name)) if "parameters" in c.metadata.get("tags", []))
    assert _NOTEBOOK_LANG.search(params.source).group(1) == lang
    assert re.search(r"^lang = None  #", params.source, re.M)
    connect = next(c for c in code_cells(read(lang, name)) if "stsnb.connect(" in c.source)
    assert "lang=lang" in connect.source and "notebook_lang=notebook_lang" in connect.source


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("name", EXPECTED)
def test_committed_notebook_has_no_outputs_and_no_execution_counts(lang, name):
    nb = read(lang, name)
    for i, c in enumerate(code_cells(nb)):
        assert c.get("outputs") == [], f"{lang}/{name} code cell {i} has outputs"
        assert c.get("execution_count") is None, f"{lang}/{name} code cell {i} has an execution count"
    assert "widgets" not in nb.metadata and "papermill" not in nb.metadata
    assert not any("papermill" in c.metadata or "execution" in c.metadata for c in nb.cells)


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_is_nbformat_4_on_the_python3_kernel(lang, name):
    nb = read(lang, name)
    assert nb.nbformat == 4
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("name", EXPECTED)
def test_parameters_cell_names_backend_namespace_version_speed_timeout_and_lang(name):
    nb = read("en", name)
    tagged = [c for c in code_cells(nb) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged parameters"
    tree = ast.parse(tagged[0].source)
    assigned = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets}
    assert REQUIRED_PARAMETERS <= assigned
    assert all(isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) for node in tree.body), \
        "the parameters cell holds plain assignments of constants only"
    assert code_cells(nb).index(tagged[0]) == 0, "the parameters cell is the first code cell"


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_starts_with_a_reset_and_ends_with_finish(name):
    """``lab.finish()`` keeps the sandbox's objects for the panels (Run All) and cleans a real cluster."""
    sources = [c.source.strip() for c in code_cells(read("en", name))]
    assert "stsnb.connect(" in sources[1]
    assert sources[2] == "lab.reset()"
    assert sources[-1] == "lab.finish()"


@pytest.mark.parametrize("name", EXPECTED)
def test_code_cells_define_no_functions_classes_or_loops(name):
    for i, c in enumerate(code_cells(read("en", name))):
        tree = ast.parse(c.source)
        banned = [type(n).__name__ for n in ast.walk(tree)
                  if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.For, ast.While,
                                    ast.If, ast.Try, ast.Global))]
        assert not banned, f"code cell {i} has {banned}: notebooks only call into stsnb"


@pytest.mark.parametrize("name", EXPECTED)
def test_check_cells_are_tagged_and_only_assert(name):
    checks = [c for c in code_cells(read("en", name)) if "check" in c.metadata.get("tags", [])]
    assert len(checks) >= 3, "each notebook checks what it shows"
    for c in checks:
        tree = ast.parse(c.source)
        assert any(isinstance(n, ast.Assert) for n in tree.body)
        assert all(isinstance(n, (ast.Assert, ast.Assign, ast.Import, ast.ImportFrom)) for n in tree.body), \
            f"a check cell only computes and asserts:\n{c.source}"
    untagged_asserts = [c.source for c in code_cells(read("en", name))
                        if "check" not in c.metadata.get("tags", []) and "assert " in c.source]
    assert not untagged_asserts, "every cell with an assert is tagged check (the docs fold them)"


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("name", EXPECTED)
def test_prose_links_to_the_glossary_in_its_own_language(lang, name):
    assert f"](../../docs/{lang}/glossary.md)" in markdown(read(lang, name))
    assert (NOTEBOOKS.parent / "docs" / lang / "glossary.md").exists()


@pytest.mark.parametrize("name", EXPECTED)
def test_korean_prose_is_in_korean_and_uses_the_official_terms(name):
    text = markdown(read("ko", name))
    prose = re.sub(r"`[^`]*`|\([^)]*\)|\[[^\]]*\]", "", text)
    hangul = len(re.findall(r"[가-힣]", prose))
    latin = len(re.findall(r"[A-Za-z]", prose))
    assert hangul > 2 * latin, "the Korean notebook's prose is mostly Korean"
    # the official Korean docs (kubernetes/website content/ko) write these, not the variants
    assert not re.search(r"(?<![가-힣])세트", prose), "write 스테이트풀셋, not the calque 세트"
    for variant, official in [("포드", "파드"), ("라벨", "레이블"), ("스테이트풀 셋", "스테이트풀셋"),
                              ("헤드리스서비스", "헤드리스 서비스"), ("퍼시스턴트 볼륨 클레임", "퍼시스턴트볼륨클레임"),
                              ("스토리지 클래스", "스토리지클래스"), ("레플리카 셋", "레플리카셋")]:
        assert variant not in prose, f"use {official!r}, not {variant!r}"


@pytest.mark.parametrize("name", EXPECTED)
def test_korean_prose_does_not_copy_the_guides_sentences(name):
    """No run of 16 characters of the guide's Korean prose (code blocks aside) reappears in the notebook."""
    guide = guide_shingles.load()
    text = guide_shingles.normalise(markdown(read("ko", name)), strip_code=False)
    copied = sorted(s for s in guide_shingles.shingles(text) if guide_shingles.fingerprint(s) in guide)
    assert not copied, f"runs of text copied from the guide: {copied}"


def test_the_guide_fingerprints_recognise_a_run_copied_from_the_guide():
    """The copy check can fail: a sentence that copies the guide's opening definition is caught."""
    copied = "이 자원은 상태기반의 어플리케이션을 관리하기 위한 리소스다."  # the guide's words, as a copier would
    guide = guide_shingles.load()
    assert any(guide_shingles.fingerprint(s) in guide for s in guide_shingles.shingles(copied))
    ours = "스테이트풀셋은 파드마다 이름과 저장소를 지켜 주는 워크로드 리소스입니다."
    assert not any(guide_shingles.fingerprint(s) in guide for s in guide_shingles.shingles(ours))
