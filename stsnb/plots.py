"""Timeline figures: one lane per pod ordinal, coloured by revision.

A bar is one pod object (one uid) from the moment it appeared to the moment it
was removed: pale and dotted while it is not Ready, solid once Ready, hatched
while it terminates. Its colour is its revision, so "created 0 → 1 → 2" reads
as a staircase and "updated 2 → 1 → 0" as the colour changing from the bottom
lane up. Under the lanes, the controller's reasons ("pod 1 not Ready yet",
"below partition 2: …") are written where they began.

Figures are built with the object-oriented API on an Agg canvas, without
pyplot: nothing accumulates in pyplot's global state, and a notebook shows each
figure exactly once, as the cell's value, through :meth:`TimelineFigure._repr_png_`
(one draw at the figure's own layout and 100 dpi; matplotlib's inline backend
would draw it twice to find a tight bounding box, which the fixed margins here
make unnecessary). If a reader has imported pyplot, its inline backend shows
the figure its own way, as any matplotlib figure.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import threading
from pathlib import Path
from typing import Any

from . import _labels
from .tables import RevisionColors

__all__ = ["timeline", "png", "REVISION_COLORS", "korean_font", "hangul_font", "HANGUL_FONT_FAMILY"]

#: Strong colours for revisions, in order of first appearance (the table tints share their hues).
REVISION_COLORS = ["#2563eb", "#d97706", "#16a34a", "#db2777", "#7c3aed", "#ea580c", "#0891b2", "#65a30d"]

#: The Hangul font stsnb registers with matplotlib itself: NanumGothic (SIL Open Font License 1.1),
#: shipped as a file inside the ``koreanize-matplotlib`` wheel, a dependency of stsnb.
HANGUL_FONT_FAMILY = "NanumGothic"
_HANGUL_FONT_FILE = ("fonts", "NanumGothic.ttf")
_FONT_LOCK = threading.Lock()
_registered: list[str] = []


def hangul_font_file() -> Path | None:
    """Where the bundled NanumGothic file is, found without importing ``koreanize_matplotlib``.

    Importing that package would change matplotlib's global ``rcParams`` (and it imports
    ``distutils``, gone from Python 3.12), so only its folder is looked up.
    """
    spec = importlib.util.find_spec("koreanize_matplotlib")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder).joinpath(*_HANGUL_FONT_FILE)
        if path.is_file():
            return path
    return None


def hangul_font() -> str | None:
    """Register the bundled Hangul font with matplotlib (once per process) and return its family name.

    Uses ``font_manager.fontManager.addfont``, so it works whatever the machine has installed and
    however old matplotlib's font cache is. None only when the font file is missing (stsnb installed
    without its ``koreanize-matplotlib`` dependency).
    """
    if _registered:
        return _registered[0]
    from matplotlib import font_manager
    with _FONT_LOCK:
        if not _registered:
            path = hangul_font_file()
            if path is None:
                return None
            font_manager.fontManager.addfont(str(path))
            _registered.append(font_manager.FontProperties(fname=str(path)).get_name())
    return _registered[0]


def korean_font() -> str | None:
    """The family name figures use for Korean text (the registered :func:`hangul_font`)."""
    return hangul_font()


def _lanes(rows: list[dict]) -> list[tuple[str | None, int | None, str]]:
    """Lane keys ``(owner, ordinal, label)``: StatefulSet pods by ordinal, other pods by name."""
    seen: dict[tuple, str] = {}
    for r in rows:
        if r.get("ordinal") is not None and r.get("_owner"):
            key = (r["_owner"], int(r["ordinal"]))
            seen.setdefault(key, r["pod"])
        else:
            key = ("~" + str(r.get("pod")), -1)
            seen.setdefault(key, r["pod"])
    out = []
    for (owner, ordinal), pod in sorted(seen.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        out.append((owner, ordinal, pod))
    return out


#: Figure width in inches: at the notebook's 100 dpi it fills a page column (the site scales it down).
FIGURE_WIDTH = 10.0
_REASON_FONTSIZE = 8
#: Room for the lane labels (pod names) on the left and the legend (revision names) on the right.
_LEFT_IN, _RIGHT_IN = 1.5, 2.3


def _text_inches(text: str, fontsize: float = _REASON_FONTSIZE) -> float:
    """A text's width in inches, estimated: Hangul one em per syllable, Latin about half an em."""
    ems = sum(1.0 if "\uac00" <= ch <= "\ud7a3" else 0.58 for ch in text)
    return ems * fontsize / 72.0 + 0.1


def timeline(rows: list[dict], reasons: list[dict], *, lang: str = "en", title: str | None = None, ax: Any = None,
             colors: RevisionColors | None = None):
    """Draw a timeline (the ``rows`` and ``reasons`` of a :class:`~stsnb.timeline.Recording`) as a figure.

    ``colors`` gives each revision its colour (a lab passes its own, so a hash keeps its colour in
    every table and figure of a notebook). Korean text is drawn with the registered Hangul font
    (:func:`hangul_font`); if that font is missing the figure is drawn in English rather than as
    empty boxes. Returns the figure (not shown).
    """
    import matplotlib

    rows = list(rows)
    colors = colors or RevisionColors()
    font = hangul_font() if lang == "ko" else None
    if lang == "ko" and font is None:
        lang = "en"
    # concrete family names (not "sans-serif") are stored in each Text, so they still apply at draw time
    rc = {"font.family": [font, "DejaVu Sans"]} if font else {"font.family": ["DejaVu Sans"]}
    with matplotlib.rc_context(rc):
        lanes = _lanes(rows)
        n = max(1, len(lanes))
        end = max([r["time"] for r in rows] + [r["time"] for r in reasons] + [0.0])
        end = end * 1.04 + 0.5
        # the lane labels (pod names) decide the left margin: the figure is drawn at its own layout, never cropped
        left_in = max([_LEFT_IN] + [_text_inches(pod, 9) + 0.25 for (_, _, pod) in lanes])
        right_in = max([_RIGHT_IN] + [_text_inches(r["revision"], 8) + 0.7 for r in rows if r.get("revision")])
        plot_width = FIGURE_WIDTH - left_in - right_in
        spans = _reason_rows(reason_steps(reasons, end), end, plot_width, lang)
        levels = max([s[3] for s in spans] + [0]) + 1
        if ax is None:
            lanes_h, reasons_h = max(1.2, 0.42 * n + 0.3), 0.32 * levels + 0.25
            fig = _new_figure(figsize=(FIGURE_WIDTH, lanes_h + reasons_h + 0.95))
            ax, ax_r = fig.subplots(2, 1, sharex=True,
                                    gridspec_kw={"height_ratios": [lanes_h, reasons_h], "hspace": 0.08})
        else:
            fig, ax_r = ax.figure, None
        seen = _draw_bars(ax, rows, lanes, end, colors)
        _label_lanes(ax, lanes, end, title, [(rev, colors.strong(rev)) for rev in seen], lang)
        if not rows:
            ax.text(0.5, 0.5, _labels.text("no_events", lang), transform=ax.transAxes, ha="center", va="center")
        if ax_r is not None:
            _draw_reasons(ax_r, spans, levels, lang)
            ax_r.set_xlabel(_labels.text("time_axis", lang))
        else:
            ax.set_xlabel(_labels.text("time_axis", lang))
        if ax_r is not None:
            height = fig.get_size_inches()[1]
            fig.subplots_adjust(left=left_in / FIGURE_WIDTH, right=1 - right_in / FIGURE_WIDTH,
                                bottom=0.55 / height, top=1 - 0.4 / height)
    return fig


@functools.cache
def _figure_class() -> type:
    """:class:`TimelineFigure`, made once matplotlib is imported (``import stsnb`` does not import it)."""
    from matplotlib.figure import Figure

    class TimelineFigure(Figure):
        """A timeline's figure; in a notebook its value is a PNG of one draw (see the module docstring)."""

        def _repr_png_(self) -> bytes:
            return png(self)

    TimelineFigure.__module__ = __name__
    return TimelineFigure


def _new_figure(**kw: Any) -> Any:
    """A ``TimelineFigure`` on an Agg canvas (pyplot never involved)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    fig = _figure_class()(**kw)
    FigureCanvasAgg(fig)
    return fig


#: zlib level of the PNGs: 3 encodes a timeline in half the time of the default 6, and still smaller
#: than matplotlib's own PNG, which carries an alpha channel these opaque figures do not need.
PNG_COMPRESS_LEVEL = 3


def png(fig: Any, dpi: float = 100) -> bytes:
    """The figure as PNG bytes, drawn once at its own size and layout (``dpi`` dots per inch).

    matplotlib draws it (``savefig`` to raw RGBA, so its size, dpi and face colour are exactly what
    ``savefig(format="png")`` would use) and Pillow encodes it: as RGB when every pixel is opaque, as a
    timeline's always are (the same pixels, a quarter less to compress), else as RGBA.
    """
    from PIL import Image

    raw = io.BytesIO()
    fig.savefig(raw, format="rgba", dpi=dpi, bbox_inches=None)
    width, height = int(fig.get_figwidth() * dpi), int(fig.get_figheight() * dpi)
    data = raw.getbuffer()
    if width * height * 4 != data.nbytes:  # never seen: matplotlib rounded the size another way
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches=None)
        return buf.getvalue()
    image = Image.frombuffer("RGBA", (width, height), data, "raw", "RGBA", 0, 1)
    if image.getextrema()[3] == (255, 255):
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, format="png", compress_level=PNG_COMPRESS_LEVEL)
    return out.getvalue()


def _draw_bars(ax: Any, rows: list[dict], lanes: list, end: float, colors: RevisionColors) -> list[str]:
    """One bar per state of each pod instance, in its StatefulSet ordinal's lane, in its revision's colour
    (grey without one); the revisions drawn, in order of appearance."""
    n = max(1, len(lanes))
    seen: list[str] = []
    lane_index = {}
    for i, (owner, ordinal, pod) in enumerate(lanes):
        if ordinal is not None and ordinal >= 0:
            lane_index[(owner, ordinal)] = i
        else:
            lane_index[(owner, -1)] = i
    by_uid: dict[str, list[dict]] = {}
    for r in rows:
        by_uid.setdefault(r.get("uid") or r["pod"], []).append(r)
    for uid, rs in by_uid.items():
        r0 = rs[0]
        key = (r0["_owner"], int(r0["ordinal"])) if (r0.get("ordinal") is not None and r0.get("_owner")) \
            else ("~" + str(r0["pod"]), -1)
        y = n - 1 - lane_index[key]
        for j, r in enumerate(rs):
            if r["event"] == "DELETED" or r["status"] == "Deleted":
                break
            t1 = rs[j + 1]["time"] if j + 1 < len(rs) else end
            width = max(t1 - r["time"], end * 0.004)
            rev = r.get("revision")
            if rev is not None and rev not in seen:
                seen.append(rev)
            c = "#9ca3af" if rev is None else colors.strong(rev)
            if r["status"] == "Terminating":
                style = {"facecolor": c, "alpha": 0.45, "hatch": "////", "edgecolor": c}
            elif r["ready"]:
                style = {"facecolor": c, "alpha": 0.95, "edgecolor": c}
            else:
                style = {"facecolor": c, "alpha": 0.3, "hatch": "..", "edgecolor": c}
            _bar(ax, y, r["time"], width, 0.62, linewidth=0.6, **style)
    return seen


def _bar(ax: Any, y: float, left: float, width: float, height: float, **style: Any) -> None:
    """A horizontal bar, as ``ax.barh`` draws it, without its per-bar bookkeeping.

    ``barh`` makes a container and widens the data limits for every bar (about 2.5 ms each, a
    third of building a figure); the timelines set their limits themselves, so a bare
    ``Rectangle`` added as an artist draws the same bar.
    """
    from matplotlib.patches import Rectangle

    ax.add_artist(Rectangle((left, y - height / 2), width, height, **style))


def _label_lanes(ax: Any, lanes: list, end: float, title: str | None, legend: list[tuple[str, str]],
                 lang: str) -> None:
    """Lane names, axes, title and the legend (each revision's colour, then the not-ready and terminating hatches)."""
    from matplotlib.patches import Patch

    n = max(1, len(lanes))
    ax.set_yticks(range(n))
    ax.set_yticklabels([pod for (_, _, pod) in reversed(lanes)] if lanes else [_labels.text("no_pods", lang)],
                       fontsize=9)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlim(0, end)
    ax.grid(axis="x", alpha=0.25)
    # y given: the title sits where matplotlib would put it anyway (no ticks above the lanes), without the
    # search through every tick label's box that placing it automatically costs at each draw (a fifth of it)
    ax.set_title(_labels.text("timeline_title", lang, name=title) if title else _labels.text("timeline", lang),
                 fontsize=11, y=1.0)
    handles = [Patch(facecolor=c, edgecolor=c, label=rev) for rev, c in legend]
    handles += [Patch(facecolor="#9ca3af", alpha=0.3, hatch="..", label=_labels.text("not_ready", lang)),
                Patch(facecolor="#9ca3af", alpha=0.45, hatch="////", label=_labels.text("terminating", lang))]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False,
              title=_labels.text("revision_legend", lang), title_fontsize=8)


def reason_steps(reasons: list[dict], end: float, min_share: float = 0.03) -> list[tuple[float, float, str, str]]:
    """``(start, stop, statefulset, reason)`` spans, without the fleeting ones (under ``min_share`` of the time).

    The controller passes through "creating pod 2" in milliseconds; what a reader needs to see is
    where it *waited*: "pod 2 not Ready yet", "pod 1 terminating", "below partition 2 …".
    """
    spans = []
    by_set: dict[str, list[dict]] = {}
    for r in reasons:
        by_set.setdefault(r["statefulset"], []).append(r)
    for name, rs in by_set.items():
        for i, r in enumerate(rs):
            stop = rs[i + 1]["time"] if i + 1 < len(rs) else end
            if r["reason"] and stop - r["time"] >= min_share * max(end, 1e-9):
                spans.append((r["time"], stop, name, r["reason"]))
    spans.sort()
    return spans


def _reason_rows(spans: list[tuple[float, float, str, str]], end: float, plot_width_in: float,
                 lang: str) -> list[tuple[float, float, str, int, bool]]:
    """``(start, stop, text, row, right)``: each reason on the first row where neither its bar nor its text
    overlaps another. A text runs on to the right of a short bar; one that would run past the end of the
    axis ends there instead (``right``), so no reason is cut off."""
    many = len({s[2] for s in spans}) > 1
    per_inch = end / max(plot_width_in, 1.0)
    row_ends: list[float] = []
    out = []
    for start, stop, name, reason in spans:
        text = (f"{name}: " if many else "") + _labels.reason(reason, lang)
        width = _text_inches(text) * per_inch
        right = start + width > end
        left = min(start, end - width) if right else start
        reach = max(stop, left + width)
        row = next((i for i, e in enumerate(row_ends) if e <= left), len(row_ends))
        if row == len(row_ends):
            row_ends.append(reach)
        else:
            row_ends[row] = reach
        out.append((start, stop, text, row, right))
    return out


def _draw_reasons(ax_r: Any, spans: list[tuple[float, float, str, int, bool]], levels: int, lang: str) -> None:
    ax_r.set_ylim(-0.5, levels - 0.5)
    ax_r.set_yticks([])
    ax_r.set_ylabel(_labels.text("controller_lane", lang), rotation=0, ha="right", va="center")
    end = ax_r.get_xlim()[1]
    for start, stop, text, row, right in spans:
        y = levels - 1 - row
        _bar(ax_r, y, start, stop - start, 0.72, facecolor="#e5e7eb", edgecolor="#9ca3af", linewidth=0.5)
        if right:
            ax_r.text(end, y, text + " ", fontsize=_REASON_FONTSIZE, va="center", ha="right", clip_on=True)
        else:
            ax_r.text(start, y, " " + text, fontsize=_REASON_FONTSIZE, va="center", ha="left", clip_on=True)
    for side in ("top", "right", "left"):
        ax_r.spines[side].set_visible(False)
