"""The site and the notebooks as a reader reads them: Korean pages in Korean, tables without NaN or
index, text in angle brackets kept, and the rollout table's ``reason`` column visible at 1280 px.

The Korean checks walk the English label catalogue (:mod:`stsnb._labels`): no table header, panel
label or phrase of it may show in English on a Korean page or in an executed Korean notebook.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from stsnb import _labels
from stsnb.cli.docs import NOTEBOOK_NAME, WIDGET_STATE_MIME, BuildReport

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _executed(executed_dir: Path, lang: str) -> list[Path]:
    return sorted(p for p in (executed_dir / lang).glob("*.ipynb") if NOTEBOOK_NAME.match(p.name))


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _notebook_html(nb: dict) -> list[str]:
    """Every HTML fragment a notebook shows: cell outputs and the outputs its panels captured."""
    out = []
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            if "text/html" in o.get("data", {}):
                out.append(_text(o["data"]["text/html"]))
    state = nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE_MIME, {}).get("state", {})
    for model in state.values():
        s = model.get("state", {})
        for o in s.get("outputs", []) or []:
            if isinstance(o, dict) and "text/html" in o.get("data", {}):
                out.append(_text(o["data"]["text/html"]))
        if s.get("_model_name") in ("HTMLModel", "HTMLMathModel") and s.get("value"):
            out.append(str(s["value"]))
    return out


def _widget_labels(nb: dict) -> list[str]:
    state = nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE_MIME, {}).get("state", {})
    return [m["state"]["description"] for m in state.values() if m.get("state", {}).get("description")]


def _headers_and_cells(fragments: list[str]) -> tuple[list[str], list[str]]:
    heads, cells = [], []
    for html in fragments:
        soup = BeautifulSoup(html, "html.parser")
        heads += [th.get_text(" ", strip=True) for th in soup.find_all("th") if th.get_text(strip=True)]
        cells += [td.get_text(" ", strip=True) for td in soup.find_all("td") if td.get_text(strip=True)]
        for tag in soup(["table", "pre", "code", "style", "script"]):
            tag.decompose()
        text = soup.get_text(" ", strip=True)
        if text:
            cells.append(text)
    return heads, cells


def test_executed_korean_notebooks_show_no_english_label(executed_dir: Path):
    offenders = []
    for path in _executed(executed_dir, "ko"):
        nb = json.loads(path.read_text(encoding="utf-8"))
        heads, cells = _headers_and_cells(_notebook_html(nb))
        assert heads, f"{path.name} shows no table"
        offenders += [f"{path.name}: header {t!r} ({e})" for t, e in _labels.untranslated(heads, exact=True)]
        offenders += [f"{path.name}: label {t!r} ({e})" for t, e in _labels.untranslated(_widget_labels(nb), exact=True)]
        offenders += [f"{path.name}: {t[:80]!r} shows {e!r}" for t, e in _labels.untranslated(cells)]
    assert not offenders, offenders


def _reader_text(page: Path) -> tuple[list[str], str]:
    """A page's table headers, and its visible text without code, program output and scripts."""
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    for tag in soup(["script", "style", "template", "noscript", "pre", "code"]):
        tag.decompose()
    for tag in soup.select(".output.stream, .output.text_plain, table.stsnb-glossary td:first-child"):
        tag.decompose()  # program output, and the glossary's English column, are English on purpose
    heads = [th.get_text(" ", strip=True) for th in soup.find_all("th") if th.get_text(strip=True)]
    return heads, " ".join(soup.get_text(" ").split())


def test_the_korean_site_shows_no_english_label(site: BuildReport):
    root = site.out_dir / "ko"
    pages = sorted(p for p in root.rglob("*.html") if p.relative_to(root).parts[0] not in ("_static", "_sources"))
    offenders = []
    for page in pages:
        heads, text = _reader_text(page)
        offenders += [f"{page.name}: header {t!r}" for t, _ in _labels.untranslated(heads, exact=True)]
        offenders += [f"{page.name}: shows {e!r}" for _, e in _labels.untranslated([text])]
    assert not offenders, offenders
    assert "확인 코드 보기" in (root / "01-what-is-a-statefulset.html").read_text(encoding="utf-8")
    footer = BeautifulSoup((root / "index.html").read_text(encoding="utf-8"), "html.parser").select_one(".stsnb-footer")
    assert footer is not None and footer.get_text(strip=True) == "stsnb 기여자"


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_tables_on_the_site_have_no_nan_and_no_index_column(site: BuildReport, lang: str):
    for name in site.notebooks[lang]:
        soup = BeautifulSoup(site.page(lang, name).read_text(encoding="utf-8"), "html.parser")
        tables = soup.select(".cell_output table")
        assert tables, f"{lang}/{name} has no table"
        for table in tables:
            cells = [td.get_text(strip=True) for td in table.find_all("td")]
            assert not {"NaN", "nan", "<NA>", "NaT"} & set(cells), f"{lang}/{name}: {cells[:20]}"
            assert not table.select("th.row_heading, th.blank, tbody th"), f"{lang}/{name} shows a pandas index"


@pytest.mark.parametrize("lang, pattern, facts", [
    ("en", "nginx-stateful-<ordinal>", "test-deploy-<pod-template-hash>-<5 random characters>"),
    ("ko", "nginx-stateful-<서수>", "test-deploy-<pod-template-hash>-<무작위 문자 5개>"),
])
def test_text_in_angle_brackets_is_shown_not_swallowed(site: BuildReport, lang: str, pattern: str, facts: str):
    _, text = _reader_text(site.page(lang, "01-what-is-a-statefulset"))
    assert pattern in text and facts in text


def test_times_read_as_seconds_not_as_raw_floats(site: BuildReport):
    soup = BeautifulSoup(site.page("en", "01-what-is-a-statefulset").read_text(encoding="utf-8"), "html.parser")
    times = [td.get_text(strip=True) for table in soup.select(".cell_output table")
             if table.find("th", string="time") for td in table.select("td:first-child")]
    assert times and all(re.fullmatch(r"\d+(\.\d+)? s", t) for t in times), times[:10]


# -- in Chromium --------------------------------------------------------------------------

needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists() and not shutil.which("chromium"),
                                    reason="chromium is not installed at /usr/bin/chromium (Debian: apt-get install chromium)")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


@pytest.fixture(scope="module")
def site_url(site: BuildReport) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site.out_dir)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


_MEASURE = """() => [...document.querySelectorAll('.cell_output table')].map(t => {
  const ths = [...t.querySelectorAll('th')];
  const reason = ths.find(th => ['reason', '이유'].includes(th.textContent.trim()));
  const box = t.getBoundingClientRect();
  const rollout = ths.some(th => ['event', '이벤트'].includes(th.textContent.trim()));
  return {reason: reason ? Math.round(reason.getBoundingClientRect().right) : null, rollout: rollout,
          right: Math.round(box.left + t.clientWidth), clipped: t.scrollWidth > t.clientWidth + 1,
          text: t.innerText};
})"""


@needs_chromium
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_in_chromium_at_1280px_the_reason_column_shows_and_no_cell_says_nan(site: BuildReport, site_url: str,
                                                                            tmp_path: Path, lang: str):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            args=LAUNCH_ARGS, viewport={"width": 1280, "height": 900})
        try:
            page = browser.new_page()
            reasons = 0
            for name in site.notebooks[lang]:
                page.goto(f"{site_url}/{lang}/{name}.html")
                page.wait_for_load_state("load")
                for t in page.evaluate(_MEASURE):
                    assert not re.search(r"(^|\s)(NaN|nan|<NA>|NaT)(\s|$)", t["text"]), f"{lang}/{name}: {t['text'][:200]}"
                    if t["reason"] is not None:  # the rollout tables, and the events table: reason visible
                        assert t["reason"] <= t["right"], f"{lang}/{name}: the reason column is cut off at 1280 px ({t})"
                    if t["rollout"]:
                        reasons += 1
                        assert not t["clipped"], f"{lang}/{name}: the rollout table is clipped at 1280 px ({t})"
                if name.startswith("01-"):
                    shown = page.locator(".bd-article").inner_text()
                    assert ("<ordinal>" in shown) if lang == "en" else ("<서수>" in shown)
            assert reasons, "no rollout table with a reason column on these pages"
        finally:
            browser.close()


EVIL = "<img src=x onerror=alert(1)>"


def test_an_image_named_like_a_tag_is_text_on_the_site_not_an_element(tmp_path: Path):
    """H9: the lab's HTML (a styled table, an action's result) carries such a name escaped, and the site keeps it so."""
    import pandas as pd

    from stsnb.cli.docs import build_site
    from stsnb.lab.results import ActionResult
    from stsnb.tables import to_html

    frame = pd.DataFrame({"name": ["evil-0"], "ordinal": [0], "image": [EVIL]})
    for lang in ("en", "ko"):
        outputs = [{"output_type": "display_data", "metadata": {}, "data": {"text/html": to_html(frame, lang),
                                                                             "text/plain": "table"}},
                   {"output_type": "display_data", "metadata": {},
                    "data": {"text/html": ActionResult([f"set image {EVIL}"], frame=frame, lang=lang)._repr_html_(),
                             "text/plain": "result"}}]
        nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                               "language": "python"}},
              "cells": [{"cell_type": "markdown", "id": "a", "metadata": {}, "source": "# Evil"},
                        {"cell_type": "code", "id": "b", "metadata": {}, "execution_count": 1, "source": "lab.pods()",
                         "outputs": outputs}]}
        (tmp_path / "executed" / lang).mkdir(parents=True)
        (tmp_path / "executed" / lang / "01-evil.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    report = build_site(tmp_path / "executed", tmp_path / "site")
    for lang in ("en", "ko"):
        soup = BeautifulSoup(report.page(lang, "01-evil").read_text(encoding="utf-8"), "html.parser")
        article = soup.select_one(".bd-article")
        assert not article.select("img[onerror]"), "the image name became an <img> element"
        assert EVIL in article.get_text(" "), "the image name is not shown as text"
