"""Build the docs site (``/en/`` and ``/ko/``) from the notebooks papermill executed.

The site is Sphinx + MyST-NB + sphinx-book-theme, two builds of one ``docs/conf.py``.
Nothing is executed here: the notebooks come from ``stsnb run``
(``build/executed/<lang>/<name>.ipynb``) with their outputs and saved widget state.
:func:`build_site` copies them into a staging tree, tags the cells a reader should not
see (the papermill parameters) or need not see (checks), and runs both builds side by
side in their own processes.

Widgets render in the browser from the saved state with ``@jupyter-widgets/html-manager``
and RequireJS, which the site serves itself: :func:`ensure_widget_js` fetches both
from the npm registry with ``npm`` once, checks them against pinned integrity hashes
and keeps them in ``docs/_vendor/`` (git-ignored). Later builds need no network.

A Hangul font is needed on any machine that renders the Korean pages for screenshots
or browser tests (Debian: ``apt-get install fonts-noto-cjk``); visitors use their own.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from stsnb.errors import StsnbError

from .published import NotPublishable, choose_copies, page_name

__all__ = [
    "BuildReport",
    "DocsBuildError",
    "DocsToolMissing",
    "NotPublishable",
    "VendorInfo",
    "build_site",
    "ensure_widget_js",
    "inspect_notebook",
    "prepare_notebook",
]

LANGS: tuple[str, ...] = ("en", "ko")
REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS_DIR = REPO_ROOT / "docs"
VENDOR_DIR = DOCS_DIR / "_vendor"
#: Where ``stsnb run`` writes the executed notebooks, and the default site output.
DEFAULT_EXECUTED_DIR = REPO_ROOT / "build" / "executed"
DEFAULT_OUT_DIR = REPO_ROOT / "build" / "site"

#: Notebook pages are the files named like ``01-what-is-a-statefulset.ipynb``; the
#: landing page's toctree globs ``[0-9][0-9]-*`` so they appear in order.
NOTEBOOK_NAME = re.compile(r"^\d\d-[A-Za-z0-9][A-Za-z0-9_.-]*\.ipynb$")

_DOCS_LINK = re.compile(r"(?<=\()\.\./\.\./docs/(?:en|ko)/")

#: Cell tag → tag added in the copy the site is built from.
TAG_RULES: dict[str, str] = {
    "parameters": "remove-cell",
    "injected-parameters": "remove-cell",
    "check": "hide-input",
}

WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"

SPHINX_TIMEOUT_S = 600
NPM_TIMEOUT_S = 180


class DocsBuildError(StsnbError):
    """The docs site could not be built; the message says why, the hint what to do."""


class DocsToolMissing(DocsBuildError):
    """A tool the build needs (npm, Sphinx) is not installed."""


# -- Vendored widget JavaScript -------------------------------------------------------


@dataclass(frozen=True)
class _NpmPackage:
    name: str
    version: str
    integrity: str  # the registry's sha512, as `npm pack --json` reports it
    keep: str  # regex over tarball member names (without "package/") to serve

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


# html-manager 1.0.15 renders ipywidgets 8 state (version_major 2); its embed-amd.js
# loads its hashed font/svg files relative to itself, so they are served beside it.
WIDGET_PACKAGES: tuple[_NpmPackage, ...] = (
    _NpmPackage(
        "@jupyter-widgets/html-manager",
        "1.0.15",
        "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
        r"dist/(embed-amd\.js|[0-9a-f]{20}\.(woff2?|ttf|eot|svg))",
    ),
    _NpmPackage(
        "requirejs",
        "2.3.8",
        "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
        r"require\.js",
    ),
)


@dataclass(frozen=True)
class VendorInfo:
    """Where the widget JavaScript is and whether this call had to fetch it."""

    static_dir: Path
    """The folder served as ``_static/``; the files are in its ``widgets/``."""
    packages: dict[str, str]
    """npm package name → version."""
    fetched: bool
    seconds: float


def _manifest(packages: Sequence[_NpmPackage]) -> dict:
    return {
        "packages": {p.name: {"version": p.version, "integrity": p.integrity} for p in packages}
    }


def _vendor_is_current(vendor_dir: Path, packages: Sequence[_NpmPackage]) -> bool:
    manifest_path = vendor_dir / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if manifest.get("packages") != _manifest(packages)["packages"]:
        return False
    static = vendor_dir / "static"
    return all((static / rel).is_file() for rel in manifest.get("files", [])) and bool(
        manifest.get("files")
    )


def _npm_failure(npm: str, specs: list[str], proc: subprocess.CompletedProcess) -> DocsBuildError:
    # With --json npm repeats the error as JSON on stdout; its stderr lines are enough.
    output = proc.stderr or proc.stdout or ""
    lines = [line for line in output.strip().splitlines() if "complete log of this run" not in line]
    tail = "\n".join(lines[-12:])
    network = re.search(
        r"ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|network|offline|"
        r"request to .* failed",
        output,
        re.IGNORECASE,
    )
    if network:
        return DocsBuildError(
            f"npm could not reach the registry to fetch {', '.join(specs)}. The docs site "
            "serves its own copy of the widget JavaScript; the first build downloads it once "
            f"into docs/_vendor/ and later builds work offline.\nnpm said:\n{tail}",
            hint="check the network or proxy (`npm config get registry`) and build again, "
            "or copy docs/_vendor/ from a checkout that has it",
        )
    return DocsBuildError(
        f"`{npm} pack {' '.join(specs)}` failed with exit code {proc.returncode}.\n"
        f"npm said:\n{tail}",
        hint="run the same `npm pack` by hand to see the full error",
    )


def _sri_sha512(path: Path) -> str:
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode("ascii")


def _npm_pack(npm: str, npm_path: str, specs: list[str], tmp: Path, timeout: float) -> dict[str, dict]:
    """``npm pack`` the packages into ``tmp`` (tarballs only); their ``npm pack --json`` entries by name."""
    try:
        proc = subprocess.run(
            [npm_path, "pack", "--json", "--prefer-offline", "--fetch-retries=1",
             "--pack-destination", str(tmp), *specs],
            cwd=tmp, capture_output=True, text=True, timeout=timeout,
            env={**os.environ, "npm_config_update_notifier": "false",
                 "npm_config_fund": "false", "npm_config_audit": "false"},
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise DocsBuildError(
            f"`npm pack {' '.join(specs)}` did not finish within {timeout:.0f} s; "
            "the npm registry is probably unreachable from here",
            hint="check the network or proxy (`npm config get registry`), or copy "
            "docs/_vendor/ from a checkout that has it",
        ) from exc
    if proc.returncode != 0:
        raise _npm_failure(npm, specs, proc)
    try:
        return {entry["name"]: entry for entry in json.loads(proc.stdout)}
    except (ValueError, KeyError, TypeError) as exc:
        raise DocsBuildError(f"could not read `npm pack --json` output: {proc.stdout[:500]!r}") from exc


def _unpack_widgets(packages: Sequence[_NpmPackage], packed: dict[str, dict], tmp: Path) -> tuple[Path, list[str]]:
    """Check each tarball against its pinned hash, keep the files the site serves; ``(staging dir, files)``."""
    staging = tmp / "static"
    widgets = staging / "widgets"
    widgets.mkdir(parents=True)
    files: list[str] = []
    notices: list[str] = []
    for package in packages:
        entry = packed.get(package.name)
        if entry is None or entry.get("version") != package.version:
            raise DocsBuildError(f"npm did not pack {package.spec}: got {entry!r}")
        tarball = tmp / entry["filename"]
        actual = _sri_sha512(tarball)
        if actual != package.integrity:
            raise DocsBuildError(
                f"{package.spec} from the registry does not match its pinned hash "
                f"(expected {package.integrity}, got {actual}); refusing to serve it",
                hint="if the version was changed on purpose, update WIDGET_PACKAGES "
                "in stsnb/cli/docs.py",
            )
        licence = _extract_kept(tarball, re.compile(package.keep), widgets, files)
        notices.append(f"{package.spec}  licence: {licence}  integrity: {package.integrity}")
    if "widgets/embed-amd.js" not in files or "widgets/require.js" not in files:
        raise DocsBuildError(f"the npm tarballs lacked embed-amd.js or require.js: {files}")
    (widgets / "THIRD-PARTY.txt").write_text(
        "Served by the stsnb docs site, fetched from the npm registry at build time:\n"
        + "\n".join(notices) + "\n",
        encoding="utf-8",
    )
    files.append("widgets/THIRD-PARTY.txt")
    return staging, files


def _extract_kept(tarball: Path, keep: re.Pattern, widgets: Path, files: list[str]) -> str:
    """Copy the tarball's files matching ``keep`` into ``widgets`` (flat); return the package's licence."""
    licence = "see package"
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar.getmembers():
            rel = member.name.removeprefix("package/")
            if rel == "package.json":
                meta = json.load(tar.extractfile(member))  # type: ignore[arg-type]
                licence = str(meta.get("license", licence))
                continue
            if not member.isfile() or not keep.fullmatch(rel):
                continue
            target = widgets / Path(rel).name
            with tar.extractfile(member) as src, open(target, "wb") as dst:  # type: ignore[union-attr]
                shutil.copyfileobj(src, dst)
            files.append(f"widgets/{target.name}")
    return licence


def ensure_widget_js(
    vendor_dir: Path | None = None,
    *,
    npm: str = "npm",
    packages: Sequence[_NpmPackage] = WIDGET_PACKAGES,
    timeout: float = NPM_TIMEOUT_S,
) -> VendorInfo:
    """Make sure the widget manager and RequireJS are in ``vendor_dir``; fetch them if not.

    The files land in ``<vendor_dir>/static/widgets/`` (served as ``_static/widgets/``)
    with a ``THIRD-PARTY.txt`` naming their packages and licences, and
    ``<vendor_dir>/manifest.json`` records what is there. When the manifest matches the
    pinned packages, nothing is fetched and no tool or network is needed.

    Fetching uses ``npm pack`` (the tarballs only, no dependency install) and checks
    each tarball against the pinned sha512 before anything is unpacked.

    Raises:
        DocsToolMissing: npm is not installed and the files are not vendored yet.
        DocsBuildError: npm failed (offline, registry unreachable) or a tarball did not
            match its pinned hash.
    """
    vendor_dir = Path(vendor_dir) if vendor_dir is not None else VENDOR_DIR
    start = time.perf_counter()
    versions = {p.name: p.version for p in packages}
    if _vendor_is_current(vendor_dir, packages):
        return VendorInfo(vendor_dir / "static", versions, False, time.perf_counter() - start)

    npm_path = shutil.which(npm)
    specs = [p.spec for p in packages]
    if npm_path is None:
        raise DocsToolMissing(
            f"`{npm}` was not found on PATH. The docs build fetches the widget JavaScript "
            f"({', '.join(specs)}) from the npm registry once and serves it from the site.",
            hint="install Node.js with npm (Debian/Ubuntu: `apt-get install nodejs npm`) and "
            "build again, or copy docs/_vendor/ from a checkout that already has it",
        )

    vendor_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="stsnb-npm-", dir=vendor_dir) as tmp_name:
        tmp = Path(tmp_name)
        packed = _npm_pack(npm, npm_path, specs, tmp, timeout)
        staging, files = _unpack_widgets(packages, packed, tmp)
        final = vendor_dir / "static"
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
        manifest = _manifest(packages) | {"files": sorted(files)}
        (vendor_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return VendorInfo(vendor_dir / "static", versions, True, time.perf_counter() - start)


# -- Notebooks -------------------------------------------------------------------------


def prepare_notebook(nb: dict) -> dict:
    """Return a copy of an executed notebook (nbformat JSON) tagged for the site.

    Cells tagged ``parameters`` or ``injected-parameters`` get ``remove-cell``; cells
    tagged ``check`` get ``hide-input`` (folded, one click away). Outputs and the
    saved widget state are kept exactly as executed.
    """
    nb = copy.deepcopy(nb)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            # in the repo a notebook links ../../docs/<lang>/glossary.md; on the site the pages are siblings
            src = cell.get("source", "")
            text = "".join(src) if isinstance(src, list) else src
            cell["source"] = _DOCS_LINK.sub("", text)
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        for tag, add in TAG_RULES.items():
            if tag in tags and add not in tags:
                tags.append(add)
        if cell.get("cell_type") == "code":
            cell["outputs"] = _with_static_panels(nb, cell.get("outputs", []))
    return nb


def _with_static_panels(nb: dict, outputs: list[dict]) -> list[dict]:
    """After each widget view, the HTML its saved state holds (tables, texts), as a static output.

    The page then shows a panel's table even where the widget cannot render (no JavaScript,
    a reader, a search engine); ``_static/stsnb-widgets.js`` hides the copy once the live
    widget has rendered, so a reader with JavaScript sees it once.
    """
    out: list[dict] = []
    for output in outputs:
        out.append(output)
        view = output.get("data", {}).get(WIDGET_VIEW_MIME) if isinstance(output, dict) else None
        if not view:
            continue
        found, shown, _ = panel_contents(nb, view.get("model_id", ""))
        if found and shown:
            html_text = "".join(f'<div class="stsnb-static-part">{part}</div>' for part in shown)
            out.append({"output_type": "display_data", "metadata": {},
                        "data": {"text/html": f'<div class="stsnb-static-panel">{html_text}</div>'}})
    return out


def _cell_tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _model_ref(value: object) -> str | None:
    if isinstance(value, str) and value.startswith("IPY_MODEL_"):
        return value.removeprefix("IPY_MODEL_")
    return None


def panel_contents(nb: dict, model_id: str) -> tuple[bool, list[str], int]:
    """Walk a widget view's models in the saved state.

    Returns ``(found, html, empty_outputs)``: whether the view's model is in the saved
    state at all; the HTML the state can show (outputs captured by Output widgets,
    values of HTML widgets) for the view and everything inside it; and how many of its
    Output widgets were saved empty (they render as blank space).
    """
    state = nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE_MIME, {}).get("state", {})
    if model_id not in state:
        return False, [], 0
    shown: list[str] = []
    empty = 0
    seen: set[str] = set()
    todo = [model_id]
    while todo:
        mid = todo.pop()
        if mid in seen or mid not in state:
            continue
        seen.add(mid)
        model = state[mid].get("state", {})
        if model.get("_model_name") == "OutputModel" and not model.get("outputs"):
            empty += 1
        for output in model.get("outputs", []) or []:
            data = output.get("data", {}) if isinstance(output, dict) else {}
            if "text/html" in data:
                shown.append(_joined(data["text/html"]))
        if model.get("_model_name") in {"HTMLModel", "HTMLMathModel"} and model.get("value"):
            shown.append(str(model["value"]))
        for value in model.values():
            refs = value if isinstance(value, list) else [value]
            todo.extend(ref for ref in map(_model_ref, refs) if ref)
    return True, shown, empty


def _joined(text: str | list[str]) -> str:
    return "".join(text) if isinstance(text, list) else str(text)


def _prints_table(cell: dict | None) -> bool:
    return cell is not None and any(
        "<table" in _joined(o.get("data", {}).get("text/html", "")) for o in cell.get("outputs", [])
    )


def inspect_notebook(nb: dict, label: str) -> list[str]:
    """Things a reader of the page would miss, as warnings (empty when all is well).

    Reported: no title heading; cells that ended in an error; widgets whose state was
    not saved; panels with an Output widget saved empty when neither that cell nor the
    next code cell prints a table (the page would show the panel without its data).
    """
    warnings: list[str] = []
    cells = nb.get("cells", [])
    if not any(
        c.get("cell_type") == "markdown" and re.search(r"^#\s", _joined(c.get("source", "")), re.M)
        for c in cells
    ):
        warnings.append(f"{label}: no '# Title' heading in a markdown cell; the page has no title")
    code = [(i, c) for i, c in enumerate(cells) if c.get("cell_type") == "code"]
    for position, (index, cell) in enumerate(code):
        if "remove-cell" in _cell_tags(cell):
            continue
        outputs = cell.get("outputs", [])
        for output in outputs:
            if output.get("output_type") == "error":
                warnings.append(
                    f"{label}: cell {index} ended in {output.get('ename')}: {output.get('evalue')}"
                )
        following = code[position + 1][1] if position + 1 < len(code) else None
        for output in outputs:
            view = output.get("data", {}).get(WIDGET_VIEW_MIME)
            if not view:
                continue
            found, _, empty = panel_contents(nb, view.get("model_id", ""))
            if not found:
                warnings.append(
                    f"{label}: cell {index} shows a widget whose state was not saved; the page "
                    "shows nothing there (papermill saves widget state by default)"
                )
            elif empty and not (_prints_table(cell) or _prints_table(following)):
                warnings.append(
                    f"{label}: cell {index} shows a panel whose Output was saved empty, and "
                    "neither it nor the next cell prints the table; the page shows no data there"
                )
    return warnings


# -- The build --------------------------------------------------------------------------


@dataclass
class BuildReport:
    """What :func:`build_site` built, how long it took, and what looked wrong."""

    out_dir: Path
    langs: tuple[str, ...]
    notebooks: dict[str, list[str]]
    """Language → notebook page names (without ``.ipynb``), in site order."""
    seconds: float
    """Wall-clock time of the whole call, vendoring included."""
    sphinx_seconds: dict[str, float]
    """Language → wall-clock time of that language's Sphinx build (they run side by side)."""
    vendor: VendorInfo
    warnings: list[str] = field(default_factory=list)
    """Sphinx warnings and notebook problems (errors in cells, panels with no data)."""

    def index(self, lang: str) -> Path:
        return self.out_dir / lang / "index.html"

    def page(self, lang: str, name: str) -> Path:
        return self.out_dir / lang / f"{Path(name).stem}.html"

    def __str__(self) -> str:
        return "\n".join([self.summary(), *(f"  warning: {w}" for w in self.warnings)])

    def summary(self) -> str:
        per_lang = ", ".join(f"{lang} {s:.1f} s" for lang, s in self.sphinx_seconds.items())
        fetched = f"fetched in {self.vendor.seconds:.1f} s" if self.vendor.fetched else "cached"
        return (
            f"docs site in {self.out_dir}: {self.seconds:.1f} s "
            f"(sphinx: {per_lang}; widget JS {fetched}); "
            f"{sum(map(len, self.notebooks.values()))} notebook pages, "
            f"{len(self.warnings)} warning(s)"
        )


def _find_notebooks(executed_dir: Path, lang: str) -> tuple[list[Path], list[str]]:
    folder = executed_dir / lang
    if not folder.is_dir():
        raise DocsBuildError(
            f"no executed notebooks for {lang!r}: {folder} does not exist",
            hint="run `stsnb run` first (it writes build/executed/<lang>/), or pass the "
            "folder that holds en/ and ko/",
        )
    found = sorted(folder.glob("*.ipynb"))
    # a page per notebook, whether its latest run left a complete copy or only a marked one
    pages = sorted({folder / page_name(p) for p in found if NOTEBOOK_NAME.match(page_name(p))})
    skipped = [
        f"{lang}/{p.name}: not named NN-name.ipynb, left out of the site" for p in found
        if not NOTEBOOK_NAME.match(page_name(p))
    ]
    if not pages:
        raise DocsBuildError(
            f"{folder} holds no executed notebooks named like 01-name.ipynb",
            hint="run `stsnb run` first",
        )
    return pages, skipped


def _check_sphinx() -> None:
    missing = []
    for module in ("sphinx", "myst_nb", "sphinx_book_theme"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise DocsToolMissing(
            f"the docs build needs {', '.join(missing)}, which is not installed",
            hint='install the docs extra: pip install "stsnb[docs]" (in a checkout: pip install -e ".[docs]")',
        )


def _check_out_dir(out_dir: Path, langs: Iterable[str]) -> None:
    """Refuse to replace anything in out_dir that a Sphinx build did not make."""
    for lang in langs:
        tree = out_dir / lang
        if tree.exists() and not (tree / ".buildinfo").exists():
            raise DocsBuildError(
                f"{tree} exists and is not a site this build made (no .buildinfo); "
                "refusing to replace it",
                hint="choose another output folder, or remove that one",
            )


_LANDING = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>stsnb: StatefulSets, executed · 실행하며 배우는 스테이트풀셋</title>
<style>
 body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans KR",
        "Noto Sans CJK KR", "Apple SD Gothic Neo", "Malgun Gothic", sans-serif;
        max-width: 36rem; margin: 4rem auto; padding: 0 1rem; line-height: 1.6; }}
 a {{ display: block; font-size: 1.25rem; margin: 0.75rem 0; }}
</style>
</head>
<body>
<h1>stsnb</h1>
{links}
</body>
</html>
"""
_LANDING_LINKS = {
    "en": '<a href="en/index.html" hreflang="en" lang="en">English: Kubernetes StatefulSets, executed</a>',
    "ko": '<a href="ko/index.html" hreflang="ko" lang="ko">한국어: 실행하며 배우는 쿠버네티스 스테이트풀셋</a>',
}


def _notebooks_per_language(executed_dir: Path, langs: Sequence[str], warnings: list[str],
                            allow_failed: bool = False) -> dict[str, list[Path]]:
    """The executed copy of each page, per language; every language must have the same pages.

    A page whose latest run failed or was interrupted is refused (see :mod:`stsnb.cli.published`).
    """
    notebooks: dict[str, list[Path]] = {}
    for lang in langs:
        notebooks[lang], skipped = _find_notebooks(executed_dir, lang)
        warnings.extend(skipped)
    names = {lang: [p.name for p in paths] for lang, paths in notebooks.items()}
    all_names = sorted({n for ns in names.values() for n in ns})
    gaps = {lang: sorted(set(all_names) - set(ns)) for lang, ns in names.items()}
    if any(gaps.values()):
        detail = "; ".join(f"{lang} lacks {', '.join(g)}" for lang, g in gaps.items() if g)
        raise DocsBuildError(
            f"the languages have different notebooks ({detail}); every page links to its "
            "twin in the other language",
            hint="run `stsnb run` for all languages first",
        )
    return choose_copies(executed_dir, names, allow_failed=allow_failed, warnings=warnings)


def _start_sphinx(lang: str, docs_dir: Path, tmp: Path, notebooks: list[Path], vendor: VendorInfo,
                  warnings: list[str]) -> tuple[subprocess.Popen, float, Path, Path]:
    """Stage one language's sources (pages and prepared notebooks) and start ``sphinx-build`` on them."""
    src = tmp / "src" / lang
    pages = docs_dir / lang
    if not (pages / "index.md").is_file():
        raise DocsBuildError(f"{pages} has no index.md (the landing page for {lang!r})")
    shutil.copytree(pages, src)
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        warnings.extend(inspect_notebook(nb, f"{lang}/{page_name(path)}"))
        (src / page_name(path)).write_text(
            json.dumps(prepare_notebook(nb), ensure_ascii=False, indent=1), encoding="utf-8"
        )
    log = tmp / f"sphinx-{lang}.log"
    warn = tmp / f"warnings-{lang}.txt"
    cmd = [
        sys.executable, "-m", "sphinx", "-b", "html", "-q", "-T",
        "-c", str(docs_dir), "-d", str(tmp / "doctrees" / lang),
        "-w", str(warn), "-D", f"language={lang}",
        "-D", f"html_static_path=_static,{Path(vendor.static_dir).resolve()}",
        str(src), str(tmp / "out" / lang / "html"),
    ]  # fmt: skip
    env = {**os.environ, "STSNB_DOCS_LANG": lang, "PYTHONIOENCODING": "utf-8"}
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, env=env)
    return proc, time.perf_counter(), log, warn


def _finish_sphinx(lang: str, run: tuple[subprocess.Popen, float, Path, Path], seconds: dict[str, float],
                   warnings: list[str]) -> str | None:
    """Wait for one ``sphinx-build``; collect its warnings; the failure text, or None."""
    proc, started, log, warn = run
    try:
        code: int | str = proc.wait(timeout=SPHINX_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        code = "timeout"
    seconds[lang] = time.perf_counter() - started
    if warn.exists():
        warnings.extend(
            f"sphinx {lang}: {line}"
            for line in warn.read_text(encoding="utf-8", errors="replace").splitlines()
            if line.strip()
        )
    if code != 0:
        tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-25:])
        return f"sphinx-build for {lang!r} failed ({code}):\n{tail}"
    return None


def _write_landing(out_dir: Path) -> None:
    """``out_dir/index.html``: a link to each language the site has."""
    built = [lang for lang in LANGS if (out_dir / lang / "index.html").exists()]
    (out_dir / "index.html").write_text(
        _LANDING.format(links="\n".join(_LANDING_LINKS[lang] for lang in built)), encoding="utf-8"
    )


def build_site(
    executed_dir: Path,
    out_dir: Path,
    *,
    langs: Sequence[str] = LANGS,
    docs_dir: Path | None = None,
    vendor_dir: Path | None = None,
    npm: str = "npm",
    allow_failed: bool = False,
) -> BuildReport:
    """Build the static site from executed notebooks into ``out_dir/<lang>/``.

    Args:
        executed_dir: Holds ``<lang>/NN-name.ipynb`` as written by ``stsnb run``.
        out_dir: Receives ``en/``, ``ko/`` and an ``index.html`` that links both.
            Existing language trees there are replaced (only if a build made them).
        langs: Which trees to build. Every language must have the same notebooks,
            because every page links to the same page in the other language.
        docs_dir: The folder with ``conf.py`` and the ``<lang>/`` page sources;
            defaults to the repository's ``docs/``.
        vendor_dir: Where the widget JavaScript is cached; defaults to ``docs/_vendor``.
        npm: The npm executable used when the widget JavaScript is not cached yet.
        allow_failed: Publish notebooks whose latest run failed or was interrupted
            (their latest copy, errors and all) instead of refusing.

    Returns:
        A :class:`BuildReport` with the page list, timings and warnings.

    Raises:
        DocsToolMissing: Sphinx/MyST-NB or (on the first build) npm is missing.
        DocsBuildError: Missing inputs, mismatched languages, or a failed Sphinx build.
        NotPublishable: The latest run of a notebook did not pass (each one named).
    """
    start = time.perf_counter()
    executed_dir = Path(executed_dir)
    out_dir = Path(out_dir)
    docs_dir = Path(docs_dir) if docs_dir is not None else DOCS_DIR
    langs = tuple(langs)
    unknown = [lang for lang in langs if lang not in LANGS]
    if unknown or not langs:
        raise DocsBuildError(f"langs must be a non-empty subset of {LANGS}, got {langs!r}")
    if not (docs_dir / "conf.py").is_file():
        raise DocsBuildError(f"{docs_dir} has no conf.py: the site's sources are not here",
                             hint="build the site from a checkout of stsnb (its docs/ folder), or pass "
                                  "--docs DIR (docs_dir=) pointing at one")
    _check_sphinx()

    warnings: list[str] = []
    notebooks = _notebooks_per_language(executed_dir, langs, warnings, allow_failed)
    _check_out_dir(out_dir, langs)
    vendor = ensure_widget_js(vendor_dir, npm=npm)
    out_dir.mkdir(parents=True, exist_ok=True)

    sphinx_seconds: dict[str, float] = {}
    # Staged inside out_dir so that finished trees are renamed, not copied, into place,
    # and so that each language's Sphinx output folder has its own parent: MyST-NB
    # writes <outdir>/../jupyter_execute/, which the two builds must not share.
    with tempfile.TemporaryDirectory(prefix=".stsnb-docs-", dir=out_dir) as tmp_name:
        tmp = Path(tmp_name)
        procs = {lang: _start_sphinx(lang, docs_dir, tmp, notebooks[lang], vendor, warnings) for lang in langs}
        failures = [f for lang, run in procs.items() if (f := _finish_sphinx(lang, run, sphinx_seconds, warnings))]
        if failures:
            raise DocsBuildError(
                "\n\n".join(failures), hint="fix the first error above and build again"
            )
        for lang in langs:  # only now, so a failed build leaves the previous site alone
            if (out_dir / lang).exists():
                shutil.rmtree(out_dir / lang)
            (tmp / "out" / lang / "html").rename(out_dir / lang)

    _write_landing(out_dir)
    return BuildReport(
        out_dir=out_dir,
        langs=langs,
        notebooks={lang: [Path(page_name(p)).stem for p in paths] for lang, paths in notebooks.items()},
        seconds=time.perf_counter() - start,
        sphinx_seconds=sphinx_seconds,
        vendor=vendor,
        warnings=warnings,
    )
