"""Korean figures draw Hangul on a machine whose matplotlib knows no Hangul font.

The case the issue saw: matplotlib's font cache was written before a CJK font was installed, so
its font list has no Hangul font, and every Korean label became an empty box under a wall of
"Glyph … missing" warnings. Here a fresh ``MPLCONFIGDIR`` gets such a cache on purpose (this
machine's own font list with every font that has Hangul removed, saved where matplotlib loads it
without rescanning). Under it, a Korean timeline and a whole Korean notebook must draw with the
font stsnb registers itself, without one warning.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from stsnb import _labels

from .conftest import NOTEBOOKS

pytestmark = [pytest.mark.notebooks, pytest.mark.timeout(900)]

_STALE_CACHE = textwrap.dedent("""
    import json, matplotlib
    from pathlib import Path
    from matplotlib import font_manager as fm
    from matplotlib.ft2font import FT2Font

    def has_hangul(entry):
        try:
            return ord("한") in FT2Font(entry.fname).get_charmap()
        except Exception:
            return False

    kept = [f for f in fm.fontManager.ttflist if not has_hangul(f)]
    removed = len(fm.fontManager.ttflist) - len(kept)
    fm.fontManager.ttflist = kept
    path = Path(matplotlib.get_cachedir(), f"fontlist-v{fm.FontManager.__version__}.json")
    fm.json_dump(fm.fontManager, path)
    print(json.dumps({"removed": removed, "kept": len(kept), "cache": str(path)}))
""")

_DRAW = textwrap.dedent("""
    import json, warnings
    warnings.simplefilter("error")
    from matplotlib import font_manager as fm
    from matplotlib.ft2font import FT2Font
    before = [f.name for f in fm.fontManager.ttflist if ord("한") in FT2Font(f.fname).get_charmap()]
    from stsnb import plots
    rows = [{"time": 0.0, "event": "EXISTING", "pod": "nginx-stateful-0", "ordinal": 0, "status": "Running",
             "ready": True, "revision": "nginx-stateful-7db594cfbd", "uid": "a", "_owner": "nginx-stateful"},
            {"time": 2.0, "event": "MODIFIED", "pod": "nginx-stateful-0", "ordinal": 0, "status": "Terminating",
             "ready": False, "revision": "nginx-stateful-7db594cfbd", "uid": "a", "_owner": "nginx-stateful"}]
    reasons = [{"time": 0.0, "statefulset": "nginx-stateful", "reason": "pod 0 not Ready yet"}]
    fig = plots.timeline(rows, reasons, lang="ko", title="nginx-stateful")
    fig.savefig("figure.png")
    from matplotlib.text import Text
    fonts = sorted({fm.findfont(t.get_fontproperties()) for t in fig.findobj(Text)
                    if any("\\uac00" <= ch <= "\\ud7a3" for ch in t.get_text())})
    print(json.dumps({"hangul_fonts_before": before, "fonts_of_korean_text": fonts,
                      "registered": str(plots.hangul_font_file())}))
""")


@pytest.fixture(scope="module")
def stale_mpl(tmp_path_factory) -> dict:
    """An ``MPLCONFIGDIR`` whose font cache lists no font with Hangul, and the environment that uses it."""
    config = tmp_path_factory.mktemp("mplconfig")
    env = {**os.environ, "MPLCONFIGDIR": str(config)}
    env.pop("MPLBACKEND", None)  # the kernel must keep its inline backend (figures as PNG outputs)
    out = subprocess.run([sys.executable, "-c", _STALE_CACHE], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["kept"] > 0
    return {"env": env, **info}


def test_a_korean_figure_draws_with_the_registered_font_when_matplotlib_knows_no_hangul_font(stale_mpl, tmp_path):
    out = subprocess.run([sys.executable, "-c", _DRAW], env=stale_mpl["env"], capture_output=True, text=True,
                         cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr  # warnings are errors in there: a missing glyph would fail it
    assert "Glyph" not in out.stderr and "missing from" not in out.stderr
    seen = json.loads(out.stdout)
    assert seen["hangul_fonts_before"] == [], "the stale cache must hide every Hangul font"
    assert seen["fonts_of_korean_text"] == [seen["registered"]], "Korean text must use the registered NanumGothic"
    assert (tmp_path / "figure.png").stat().st_size > 10_000


def test_a_korean_notebook_runs_without_a_glyph_warning_under_that_cache(stale_mpl, tmp_path):
    """Raw papermill (no injected parameter), with the stale font cache: Korean headers, panels and status
    texts, and no warning in any output."""
    source = NOTEBOOKS / "ko" / "02-creating.ipynb"
    out = tmp_path / "out.ipynb"
    run = subprocess.run([sys.executable, "-m", "papermill", str(source), str(out), "--no-progress-bar",
                          "--execution-timeout", "180", "-k", "python3"],
                         env={**stale_mpl["env"], "STSNB_BACKEND": ""}, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    nb = nbformat.read(str(out), as_version=4)
    streams = [o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
               if o.output_type == "stream" and o.get("name") == "stderr"]
    assert not [s for s in streams if "Glyph" in s or "missing from" in s or "findfont" in s], streams
    assert any("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    headers = re.findall(r"<th[^>]*>([^<]+)</th>", html)
    assert {"시간", "이벤트", "파드", "서수", "이유"} <= set(headers), headers
    assert not _labels.untranslated(headers, exact=True)
    state = nb.metadata.widgets["application/vnd.jupyter.widget-state+json"]["state"].values()
    texts = {m["state"].get("description") or m["state"].get("value") for m in state
             if m["state"].get("_model_name") in ("ButtonModel", "HTMLModel", "IntSliderModel")}
    assert {"적용", "이미지 업데이트", "레플리카", "준비됨"} <= texts, texts
    assert "그대로 두었다" in "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "")
                                   for o in nb.cells[-1].outputs)


def test_executed_notebooks_have_no_glyph_warnings(notebook_runs):
    """The session's run of every notebook: not one 'Glyph … missing' or 'findfont' warning in any output."""
    offenders = []
    for (lang, name), result in notebook_runs.items():
        if not result.ok:
            continue
        nb = nbformat.read(str(result.output), as_version=4)
        for i, c in enumerate(nb.cells):
            for o in c.get("outputs", []):
                text = o.get("text", "") if o.output_type == "stream" else ""
                if "Glyph" in text or "missing from font" in text or "findfont" in text:
                    offenders.append(f"{lang}/{name} cell {i}: {text.strip()[:120]}")
        log = Path(result.log) if result.log else None
        if log and log.exists() and "Glyph" in log.read_text(errors="replace"):
            offenders.append(f"{lang}/{name}: kernel log has glyph warnings")
    assert not offenders, offenders
