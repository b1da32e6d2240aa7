"""Fingerprints of the guide's Korean prose, so the copy check runs without the guide itself.

The guide (``shared/reference/statefulset-guide.ko.md``, outside this repository) is ground truth
for facts, never for sentences. ``guide_shingles.txt`` beside this file holds a 40-bit hash of
every 16-character run of its prose (code blocks removed, whitespace collapsed) that has at least
six Hangul syllables: enough to recognise a copied run, not enough to rebuild a sentence.

Regenerate after the guide changes::

    python tests/notebooks/guide_shingles.py path/to/statefulset-guide.ko.md
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

WIDTH = 16
FILE = Path(__file__).with_name("guide_shingles.txt")


def normalise(text: str, *, strip_code: bool) -> str:
    if strip_code:
        text = re.sub(r"```.*?```", "", text, flags=re.S)
    return re.sub(r"\s+", " ", text)


def fingerprint(run: str) -> str:
    return hashlib.sha256(run.encode("utf-8")).hexdigest()[:10]


def shingles(text: str, *, min_hangul: int = 0) -> set[str]:
    return {text[i:i + WIDTH] for i in range(len(text) - WIDTH)
            if len(re.findall(r"[가-힣]", text[i:i + WIDTH])) >= min_hangul}


def load() -> set[str]:
    return set(FILE.read_text(encoding="ascii").split())


if __name__ == "__main__":
    guide = normalise(Path(sys.argv[1]).read_text(encoding="utf-8"), strip_code=True)
    prints = sorted({fingerprint(s) for s in shingles(guide, min_hangul=6)})
    FILE.write_text("\n".join(prints) + "\n", encoding="ascii")
    print(f"{len(prints)} fingerprints written to {FILE}")
