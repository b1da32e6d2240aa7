"""The docs site built from the executed notebooks: both languages, real outputs, offline.

Expected values are read from the executed notebooks' own outputs (``executed_dir``),
never written into the tests, so the same tests hold for the tiny fixture notebooks and
for the real ``build/executed`` (``STSNB_EXECUTED_DIR=build/executed``).
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

import myst_nb  # noqa: E402,F401 - the docs extra is part of the test install (README)
from bs4 import BeautifulSoup  # noqa: E402  (installed with the docs extra)

from stsnb.cli.docs import (  # noqa: E402
    NOTEBOOK_NAME,
    WIDGET_STATE_MIME,
    WIDGET_VIEW_MIME,
    BuildReport,
    DocsBuildError,
    DocsToolMissing,
    build_site,
    ensure_widget_js,
    inspect_notebook,
    prepare_notebook,
)

LANGS = ("en", "ko")
OTHER = {"en": "ko", "ko": "en"}
DOCS_EXT = Path(__file__).resolve().parents[2] / "docs" / "_ext"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
EXTERNAL = re.compile(r"^\s*(https?:|//)", re.IGNORECASE)
HIDDEN_TAGS = {"remove-cell", "remove-output", "remove_cell", "remove_output",
               "parameters", "injected-parameters"}  # fmt: skip


# -- helpers over notebooks and pages ----------------------------------------------------


def _executed(executed_dir: Path, lang: str) -> list[Path]:
    return sorted(p for p in (executed_dir / lang).glob("*.ipynb") if NOTEBOOK_NAME.match(p.name))


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _text(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else value


def _norm(text: str) -> str:
    return " ".join(ANSI.sub("", text).split())


def _fragment_lines(fragment: str) -> list[str]:
    soup = BeautifulSoup(fragment, "html.parser")
    for tag in soup(["script", "style", "template"]):
        tag.decompose()
    return [_norm(line) for line in soup.get_text("\n").splitlines() if _norm(line)]


def _visible_text(page: Path) -> str:
    """The page's text without scripts: what a reader sees with JavaScript off."""
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    for tag in soup(["script", "style", "template", "noscript"]):
        tag.decompose()
    return _norm(soup.get_text(" "))


def _shown_cells(nb: dict) -> Iterator[tuple[int, dict]]:
    for index, cell in enumerate(nb["cells"]):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if cell["cell_type"] == "code" and not tags & HIDDEN_TAGS:
            yield index, cell


def _printed_values(nb: dict) -> list[str]:
    """Lines the notebook showed: table cells and text of HTML outputs, stdout, plain reprs."""
    values: list[str] = []
    for _, cell in _shown_cells(nb):
        for output in cell.get("outputs", []):
            kind = output["output_type"]
            if kind == "stream" and output.get("name") == "stdout":
                values += [_norm(line) for line in _text(output["text"]).splitlines() if _norm(line)]
            elif kind in ("execute_result", "display_data"):
                data = output.get("data", {})
                if WIDGET_VIEW_MIME in data:
                    continue
                if "text/html" in data:
                    values += _fragment_lines(_text(data["text/html"]))
                elif "text/plain" in data and not any(k.startswith("image/") for k in data):
                    values += [_norm(line) for line in _text(data["text/plain"]).splitlines() if _norm(line)]
    return values


def _widget_state(nb: dict) -> dict:
    return nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE_MIME, {}).get("state", {})


def _panel_models(nb: dict, model_id: str) -> list[dict]:
    """The state of a widget view and of every model inside it."""
    state, seen, todo, found = _widget_state(nb), set(), [model_id], []
    while todo:
        mid = todo.pop()
        if mid in seen or mid not in state:
            continue
        seen.add(mid)
        model = state[mid]["state"]
        found.append(model)
        for value in model.values():
            for ref in value if isinstance(value, list) else [value]:
                if isinstance(ref, str) and ref.startswith("IPY_MODEL_"):
                    todo.append(ref.removeprefix("IPY_MODEL_"))
    return found


def _panels(nb: dict) -> list[tuple[int, list[dict]]]:
    panels = []
    for index, cell in _shown_cells(nb):
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW_MIME)
            if view:
                panels.append((index, _panel_models(nb, view["model_id"])))
    return panels


def _panel_table_values(models: list[dict]) -> list[str]:
    """Table cell texts the panel's Output widgets captured when the notebook ran."""
    values = []
    for model in models:
        if model.get("_model_name") != "OutputModel":
            continue
        for output in model.get("outputs", []):
            html = _text(output.get("data", {}).get("text/html", ""))
            if "<table" in html:
                soup = BeautifulSoup(html, "html.parser")
                values += [_norm(td.get_text()) for td in soup.find_all("td") if _norm(td.get_text())]
    return values


def _pages(site: BuildReport, lang: str) -> list[Path]:
    root = site.out_dir / lang
    return sorted(
        p for p in root.rglob("*.html") if p.relative_to(root).parts[0] not in ("_static", "_sources")
    )


def _soup(page: Path) -> BeautifulSoup:
    return BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")


# -- the notebook copy -------------------------------------------------------------------


def test_notebook_copy_hides_parameters_and_folds_checks():
    nb = {
        "cells": [
            {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "a = 1", "outputs": []},
            {"cell_type": "code", "metadata": {"tags": ["injected-parameters"]}, "source": "a = 2", "outputs": []},
            {"cell_type": "code", "metadata": {"tags": ["check"]}, "source": "assert a", "outputs": []},
            {"cell_type": "code", "metadata": {}, "source": "a", "outputs": []},
        ],
        "metadata": {},
    }
    copy = prepare_notebook(nb)
    assert [c["metadata"]["tags"] for c in copy["cells"]] == [
        ["parameters", "remove-cell"],
        ["injected-parameters", "remove-cell"],
        ["check", "hide-input"],
        [],
    ]
    assert nb["cells"][0]["metadata"]["tags"] == ["parameters"], "the input must not change"


def _panel_notebook(output_state: list, printed: list) -> dict:
    view = {"output_type": "execute_result", "execution_count": 1, "metadata": {},
            "data": {WIDGET_VIEW_MIME: {"model_id": "vbox"}, "text/plain": "VBox()"}}  # fmt: skip
    state = {
        "vbox": {"state": {"_model_name": "VBoxModel", "children": ["IPY_MODEL_out"]}},
        "out": {"state": {"_model_name": "OutputModel", "outputs": output_state}},
    }
    return {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# Title"},
            {"cell_type": "code", "metadata": {}, "source": "panel", "outputs": [view]},
            {"cell_type": "code", "metadata": {}, "source": "table", "outputs": printed},
        ],
        "metadata": {"widgets": {WIDGET_STATE_MIME: {"version_major": 2, "state": state}}},
    }


def test_inspection_flags_a_panel_saved_empty_unless_the_table_is_printed():
    table = {"output_type": "display_data", "metadata": {}, "data": {"text/html": "<table></table>"}}
    assert inspect_notebook(_panel_notebook([table], []), "nb") == []
    assert inspect_notebook(_panel_notebook([], [table]), "nb") == []
    (warning,) = inspect_notebook(_panel_notebook([], []), "nb")
    assert "cell 1" in warning and "saved empty" in warning
    broken = _panel_notebook([table], [])
    broken["cells"][2]["outputs"] = [{"output_type": "error", "ename": "WaitTimeout", "evalue": "x", "traceback": []}]
    assert inspect_notebook(broken, "nb") == ["nb: cell 2 ended in WaitTimeout: x"]


def test_missing_npm_is_named_with_what_to_install(tmp_path: Path):
    with pytest.raises(DocsToolMissing) as caught:
        ensure_widget_js(tmp_path / "vendor", npm="stsnb-test-no-such-npm")
    assert "stsnb-test-no-such-npm" in caught.value.message
    assert "apt-get install nodejs npm" in caught.value.hint


def test_languages_with_different_notebooks_are_refused(tmp_path: Path):
    for lang, name in (("en", "01-a.ipynb"), ("en", "02-b.ipynb"), ("ko", "01-a.ipynb")):
        (tmp_path / lang).mkdir(exist_ok=True)
        (tmp_path / lang / name).write_text("{}", encoding="utf-8")
    with pytest.raises(DocsBuildError, match="ko lacks 02-b.ipynb"):
        build_site(tmp_path, tmp_path / "site", npm="stsnb-test-no-such-npm")


def test_korean_search_strips_one_trailing_particle():
    sys.path.insert(0, str(DOCS_EXT))
    try:
        from stsnb_sphinx import SearchKorean, strip_particle
    finally:
        sys.path.remove(str(DOCS_EXT))
    assert strip_particle("파드가") == "파드"
    assert strip_particle("스테이트풀셋은") == "스테이트풀셋"
    assert strip_particle("네임스페이스에서는") == "네임스페이스"
    assert strip_particle("노드") is None, "a two-syllable noun is never cut to one syllable"
    assert strip_particle("nginx") is None
    assert SearchKorean({}).split("파드를 지운다") == ["파드를", "지운다", "파드"]


# -- the built site ----------------------------------------------------------------------


def test_build_reports_its_time_and_no_warnings(site: BuildReport):
    assert set(site.sphinx_seconds) == set(LANGS)
    assert site.seconds >= max(site.sphinx_seconds.values()) > 0
    assert site.warnings == []
    print(site.summary())


@pytest.mark.parametrize("lang", LANGS)
def test_language_tree_has_every_notebook_and_page(site: BuildReport, executed_dir: Path, lang: str):
    notebooks = _executed(executed_dir, lang)
    assert notebooks, f"no executed notebooks in {executed_dir / lang}"
    for path in notebooks:
        assert site.page(lang, path.name).is_file(), f"{lang}/{path.stem}.html was not built"
    for page in ("index", "glossary", "run-it-yourself", "search", "genindex"):
        assert (site.out_dir / lang / f"{page}.html").is_file(), f"{lang}/{page}.html is missing"
    assert site.notebooks[lang] == [p.stem for p in notebooks]


def test_site_root_links_both_languages(site: BuildReport):
    links = {a["href"] for a in _soup(site.out_dir / "index.html").find_all("a")}
    assert links == {"en/index.html", "ko/index.html"}


@pytest.mark.parametrize("lang", LANGS)
def test_landing_page_lists_the_notebooks_in_order(site: BuildReport, executed_dir: Path, lang: str):
    soup = _soup(site.index(lang))
    hrefs = [a["href"] for a in soup.select(".toctree-wrapper a.reference.internal")]
    notebook_links = [h for h in hrefs if NOTEBOOK_NAME.match(h.replace(".html", ".ipynb"))]
    assert notebook_links == [f"{p.stem}.html" for p in _executed(executed_dir, lang)]
    assert "glossary.html" in hrefs and "run-it-yourself.html" in hrefs


@pytest.mark.parametrize("lang", LANGS)
def test_pages_show_the_values_the_notebooks_printed(site: BuildReport, executed_dir: Path, lang: str):
    checked = 0
    for path in _executed(executed_dir, lang):
        values = _printed_values(_load(path))
        text = _visible_text(site.page(lang, path.name))
        missing = [v for v in values if v not in text]
        assert not missing, f"{lang}/{path.stem}.html lacks printed values: {missing[:10]}"
        checked += len(values)
    assert checked, "the executed notebooks printed nothing to compare"


@pytest.mark.parametrize("lang", LANGS)
def test_dataframes_are_html_tables_and_figures_are_images(site: BuildReport, executed_dir: Path, lang: str):
    for path in _executed(executed_dir, lang):
        nb = _load(path)
        outputs = [o for _, c in _shown_cells(nb) for o in c.get("outputs", [])]
        tables = sum("<table" in _text(o.get("data", {}).get("text/html", "")) for o in outputs)
        images = sum(
            any(k.startswith("image/") for k in o.get("data", {}))
            and "text/html" not in o.get("data", {})
            for o in outputs
        )
        page = site.page(lang, path.name)
        soup = _soup(page)
        assert len(soup.select(".cell_output table")) >= tables
        imgs = soup.select(".cell_output img")
        assert len(imgs) >= images
        for img in imgs:
            assert (page.parent / urllib.parse.unquote(img["src"])).is_file(), img["src"]


@pytest.mark.parametrize("lang", LANGS)
def test_parameter_cells_are_removed_and_check_cells_folded(site: BuildReport, executed_dir: Path, lang: str):
    for path in _executed(executed_dir, lang):
        nb = _load(path)
        soup = _soup(site.page(lang, path.name))
        assert not soup.select(".cell.tag_parameters, .cell.tag_injected-parameters")
        tags = [set(c.get("metadata", {}).get("tags", [])) for c in nb["cells"]]
        checks = soup.select(".cell.tag_check")
        assert len(checks) == sum("check" in t for t in tags)
        for cell in checks:
            assert cell.select_one("details.hide") is not None, "a check cell's source is not folded"


@pytest.mark.parametrize("lang", LANGS)
def test_panel_tables_also_appear_as_static_html(site: BuildReport, executed_dir: Path, lang: str):
    checked = 0
    for path in _executed(executed_dir, lang):
        nb = _load(path)
        text = _visible_text(site.page(lang, path.name))
        for index, models in _panels(nb):
            values = _panel_table_values(models)
            missing = [v for v in values if v not in text]
            assert not missing, (
                f"{lang}/{path.stem}: the panel in cell {index} holds table values the page "
                f"does not show without JavaScript: {missing[:10]}"
            )
            checked += len(values)
    if not checked:
        pytest.fail("no panel in these notebooks captured a table: the lessons' panels should show one")


@pytest.mark.parametrize("lang", LANGS)
def test_widget_pages_carry_state_and_the_sites_own_widget_manager(
    site: BuildReport, executed_dir: Path, lang: str
):
    widget_pages = [p for p in _executed(executed_dir, lang) if _panels(_load(p))]
    if not widget_pages:
        pytest.fail("no notebook shows a widget: the lessons have panels")
    for path in widget_pages:
        page = site.page(lang, path.name)
        soup = _soup(page)
        state = soup.find("script", type=WIDGET_STATE_MIME)
        assert state is not None and json.loads(state.string)["state"]
        assert soup.find_all("script", type=WIDGET_VIEW_MIME)
        srcs = [s["src"].split("?")[0] for s in soup.find_all("script", src=True)]
        for needed in ("_static/widgets/require.js", "_static/widgets/embed-amd.js"):
            assert needed in srcs, f"{page.name} does not load {needed}"
            assert (page.parent / needed).is_file()
        assert srcs.index("_static/widgets/require.js") < srcs.index("_static/widgets/embed-amd.js")
    assert list((site.out_dir / lang / "_static" / "widgets").glob("*.woff2")), "widget fonts missing"


@pytest.mark.parametrize("lang", LANGS)
def test_no_page_loads_scripts_or_stylesheets_from_elsewhere(site: BuildReport, lang: str):
    offenders = []
    for page in _pages(site, lang):
        soup = _soup(page)
        for tag in soup.find_all("script", src=True):
            if EXTERNAL.match(tag["src"]):
                offenders.append(f"{page.name}: <script src={tag['src']}>")
        for tag in soup.find_all("link", href=True):
            if EXTERNAL.match(tag["href"]):
                offenders.append(f"{page.name}: <link href={tag['href']}>")
    css_external = re.compile(r"(@import\s+(url\()?|url\()\s*['\"]?(https?:)?//", re.IGNORECASE)
    for css in (site.out_dir / lang).rglob("*.css"):
        if css_external.search(css.read_text(encoding="utf-8", errors="replace")):
            offenders.append(f"{css.relative_to(site.out_dir)} imports from another site")
    assert not offenders, offenders


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_links_to_the_same_page_in_the_other_language(site: BuildReport, lang: str):
    root = site.out_dir / lang
    pages = _pages(site, lang)
    assert len(pages) >= 5
    for page in pages:
        soup = _soup(page)
        switch = soup.select_one("a.stsnb-lang-switch")
        assert switch is not None, f"{page.relative_to(site.out_dir)} has no language switch"
        assert switch["hreflang"] == OTHER[lang]
        target = (page.parent / switch["href"]).resolve()
        assert target == (site.out_dir / OTHER[lang] / page.relative_to(root)).resolve()
        assert target.is_file(), f"{switch['href']} from {page.name} does not exist"
        alternate = soup.find("link", rel="alternate", hreflang=OTHER[lang])
        assert alternate is not None and alternate["href"] == switch["href"]


def test_korean_pages_have_korean_ui_strings_and_a_hangul_font_stack(site: BuildReport):
    soup = _soup(site.index("ko"))
    assert soup.html["lang"] == "ko"
    ui = soup.get_text(" ")
    for word in ("검색", "다음"):  # search box, next-page link
        assert word in ui, f"Korean UI string {word!r} missing from ko/index.html"
    css = (site.out_dir / "ko" / "_static" / "stsnb.css").read_text(encoding="utf-8")
    stack = ["Noto Sans KR", "Noto Sans CJK KR", "Apple SD Gothic Neo", "Malgun Gothic"]
    positions = [css.find(f'"{font}"') for font in stack]
    assert -1 not in positions and positions == sorted(positions), "font stack order"
    assert any(link["href"].startswith("_static/stsnb.css") for link in soup.find_all("link", href=True))


def test_korean_search_index_holds_the_notebooks_words(site: BuildReport, executed_dir: Path):
    raw = (site.out_dir / "ko" / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(raw[raw.index("(") + 1 : raw.rindex(")")])
    terms = set(index["terms"]) | set(index["titleterms"])
    words = set()
    for path in _executed(executed_dir, "ko"):
        for cell in _load(path)["cells"]:
            if cell["cell_type"] == "markdown":
                words |= set(re.findall(r"[\uac00-\ud7a3]{2,}", _text(cell["source"])))
    assert words, "the Korean notebooks have no Korean prose"
    missing = sorted(w for w in words if w not in terms)
    assert not missing, f"Korean words not in the search index: {missing[:10]}"


# -- in a browser ------------------------------------------------------------------------


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


needs_chromium = pytest.mark.skipif(
    _chromium() is None,
    reason="chromium is not installed (Debian: apt-get install chromium fonts-noto-cjk)",
)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


@pytest.fixture(scope="module")
def served(site: BuildReport) -> Iterator[str]:
    """The built site on a loopback HTTP server (as a reader's browser would get it)."""
    handler = functools.partial(_QuietHandler, directory=str(site.out_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _dump_dom(url: str, profile: Path) -> BeautifulSoup:
    profile.mkdir(parents=True, exist_ok=True)
    cmd = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", f"--user-data-dir={profile}",
        # Anything that is not the local site fails to resolve: a page that needed a CDN
        # would render without its widgets and the assertions below would catch it.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--virtual-time-budget=15000", "--dump-dom", url,
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return BeautifulSoup(proc.stdout, "html.parser")


def _has_class(tag, *names: str) -> bool:
    return any(name in (tag.get("class") or []) for name in names)


@needs_chromium
@pytest.mark.parametrize("lang", LANGS)
def test_panel_shows_its_slider_and_table_in_a_browser(
    site: BuildReport, executed_dir: Path, served: str, tmp_path: Path, lang: str
):
    target = None
    for path in _executed(executed_dir, lang):
        for _, models in _panels(_load(path)):
            names = {m.get("_model_name") for m in models}
            values = _panel_table_values(models)
            if any(n and n.endswith("SliderModel") for n in names) and values:
                target = (path, values)
                break
        if target:
            break
    if target is None:
        pytest.fail("no panel with a slider and a captured table in these notebooks")
    path, values = target

    dom = _dump_dom(f"{served}/{lang}/{path.stem}.html", tmp_path / "profile")
    sliders = dom.find_all(lambda t: _has_class(t, "widget-slider", "widget-hslider", "widget-vslider"))
    assert sliders, "no slider widget in the DOM after the page's scripts ran"
    outputs = dom.find_all(lambda t: _has_class(t, "widget-output"))
    tables = [table for out in outputs for table in out.find_all("table")]
    assert tables, "no table inside an Output widget after the page's scripts ran"
    shown = _norm(" ".join(t.get_text(" ") for t in tables))
    assert all(v in shown for v in values), f"the rendered panel table lacks {values[:5]}"


@needs_chromium
def test_korean_search_finds_a_notebook_by_a_word_without_its_particle(
    site: BuildReport, executed_dir: Path, served: str, tmp_path: Path
):
    sys.path.insert(0, str(DOCS_EXT))
    try:
        from stsnb_sphinx import strip_particle
    finally:
        sys.path.remove(str(DOCS_EXT))
    query = page = None
    for path in _executed(executed_dir, "ko"):
        for cell in _load(path)["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            for word in re.findall(r"[\uac00-\ud7a3]{2,}", _text(cell["source"])):
                if strip_particle(word):
                    query, page = strip_particle(word), f"{path.stem}.html"
                    break
            if query:
                break
        if query:
            break
    if query is None:
        pytest.fail("no Korean word with a particle in the notebooks' prose")

    url = f"{served}/ko/search.html?q={urllib.parse.quote(query)}"
    dom = _dump_dom(url, tmp_path / "profile")
    results = [a["href"] for a in dom.select("#search-results ul.search li a[href]")]
    assert page in results, f"searching {query!r} found {results}, not {page}"
