"""Timeline figures: one lane per pod ordinal, coloured by revision.

A bar is one pod object (one uid) from the moment it appeared to the moment it
was removed: pale and dotted while it is not Ready, solid once Ready, hatched
while it terminates. Its colour is its revision, so "created 0 → 1 → 2" reads
as a staircase and "updated 2 → 1 → 0" as the colour changing from the bottom
lane up. Under the lanes, the controller's reasons ("pod 1 not Ready yet",
"below partition 2: …") are written where they began.

Figures are built with the object-oriented API and closed in pyplot before
they are returned, so a notebook shows each one exactly once (as the cell's
value) and nothing accumulates in pyplot's global state.
"""

from __future__ import annotations

import warnings
from typing import Any

from . import _labels


__all__ = ["timeline", "REVISION_COLORS", "korean_font"]

#: Strong colours for revisions, in order of first appearance.
REVISION_COLORS = ["#2563eb", "#f59e0b", "#16a34a", "#db2777", "#7c3aed", "#ea580c", "#0891b2", "#65a30d"]

_KOREAN_FONTS = ("Noto Sans CJK KR", "Noto Sans KR", "NanumGothic", "Malgun Gothic", "AppleGothic",
                 "Noto Serif CJK KR", "UnDotum")


def korean_font() -> str | None:
    """The name of an installed font with Hangul glyphs, or None (Debian: ``apt-get install fonts-noto-cjk``)."""
    from matplotlib import font_manager
    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in _KOREAN_FONTS if n in names), None)


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


def timeline(rows: list[dict], reasons: list[dict], *, lang: str = "en", title: str | None = None, ax: Any = None):
    """Draw a timeline (the ``rows`` and ``reasons`` of a :class:`~stsnb.timeline.Recording`) as a figure.

    Returns the figure (not shown).
    """
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    rows = list(rows)
    font = korean_font() if lang == "ko" else None
    # concrete family names (not "sans-serif") are stored in each Text, so they still apply at draw time
    rc = {"font.family": [font, "DejaVu Sans"]} if font else {}
    with matplotlib.rc_context(rc), warnings.catch_warnings():
        if lang == "ko" and not font:
            warnings.filterwarnings("ignore", message="Glyph .* missing from", category=UserWarning)
        lanes = _lanes(rows)
        n = max(1, len(lanes))
        end = max([r["time"] for r in rows] + [r["time"] for r in reasons] + [0.0])
        end = end * 1.04 + 0.5
        if ax is None:
            fig, (ax, ax_r) = plt.subplots(2, 1, figsize=(9, 1.0 + 0.5 * n + 1.1), sharex=True,
                                           gridspec_kw={"height_ratios": [max(1.0, 0.5 * n), 1.1]})
        else:
            fig, ax_r = ax.figure, None
        colors: dict[str, str] = {}

        def color(rev: str | None) -> str:
            if rev is None:
                return "#9ca3af"
            if rev not in colors:
                colors[rev] = REVISION_COLORS[len(colors) % len(REVISION_COLORS)]
            return colors[rev]

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
                c = color(r.get("revision"))
                if r["status"] == "Terminating":
                    style = {"facecolor": c, "alpha": 0.45, "hatch": "////", "edgecolor": c}
                elif r["ready"]:
                    style = {"facecolor": c, "alpha": 0.95, "edgecolor": c}
                else:
                    style = {"facecolor": c, "alpha": 0.3, "hatch": "..", "edgecolor": c}
                ax.barh(y, width, left=r["time"], height=0.6, linewidth=0.6, **style)
        ax.set_yticks(range(n))
        ax.set_yticklabels([pod for (_, _, pod) in reversed(lanes)] if lanes else [_labels.text("no_pods", lang)])
        ax.set_ylim(-0.6, n - 0.4)
        ax.set_xlim(0, end)
        ax.grid(axis="x", alpha=0.25)
        label = title
        ax.set_title(_labels.text("timeline_title", lang, name=label) if label else _labels.text("timeline", lang))
        handles = [Patch(facecolor=c, edgecolor=c, label=rev) for rev, c in colors.items()]
        handles += [Patch(facecolor="#9ca3af", alpha=0.3, hatch="..", label=_labels.text("not_ready", lang)),
                    Patch(facecolor="#9ca3af", alpha=0.45, hatch="////", label=_labels.text("terminating", lang))]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False,
                  title=_labels.text("revision_legend", lang), title_fontsize=8)
        if not rows:
            ax.text(0.5, 0.5, _labels.text("no_events", lang), transform=ax.transAxes, ha="center", va="center")
        if ax_r is not None:
            _draw_reasons(ax_r, reasons, end, lang)
            ax_r.set_xlabel(_labels.text("time_axis", lang))
        else:
            ax.set_xlabel(_labels.text("time_axis", lang))
        fig.tight_layout()
    plt.close(fig)
    return fig


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


def _draw_reasons(ax_r: Any, reasons: list[dict], end: float, lang: str) -> None:
    spans = reason_steps(reasons, end)
    many = len({s[2] for s in spans}) > 1
    ax_r.set_ylim(0, 2)
    ax_r.set_yticks([])
    ax_r.set_ylabel(_labels.text("controller_lane", lang), rotation=0, ha="right", va="center")
    for k, (start, stop, name, reason) in enumerate(spans):
        level = 1.35 if k % 2 == 0 else 0.45
        ax_r.barh(level, stop - start, left=start, height=0.7, color="#e5e7eb", edgecolor="#9ca3af", linewidth=0.5)
        ax_r.text(start, level, " " + (f"{name}: " if many else "") + _labels.reason(reason, lang), fontsize=7,
                  va="center", ha="left", clip_on=True)
    for side in ("top", "right", "left"):
        ax_r.spines[side].set_visible(False)
