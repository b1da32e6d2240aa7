"""One Sphinx configuration for both trees of the stsnb docs site (``/en/`` and ``/ko/``).

Build one language with either::

    STSNB_DOCS_LANG=ko sphinx-build -b html -c docs <source>/ko <out>/ko
    sphinx-build -b html -c docs -D language=ko <source>/ko <out>/ko

Normally ``stsnb.cli.docs.build_site`` (``stsnb docs build``) does this: it copies the
pages in ``docs/<lang>/`` and the executed notebooks (``build/executed/<lang>/``) into
a staging tree, tags the cells to hide, makes sure the widget JavaScript is vendored in
``docs/_vendor/static/widgets/`` and runs both builds. Nothing here executes a
notebook: papermill already did.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE / "_ext"))

# The default language comes from the environment; `-D language=..` overrides it, and
# the stsnb_sphinx extension derives every language-dependent setting after that.
language = os.environ.get("STSNB_DOCS_LANG", "en")

project = "stsnb"
author = "stsnb contributors"
copyright = "stsnb contributors"

extensions = ["myst_nb", "stsnb_sphinx"]

root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "README.md"]
templates_path = ["_templates"]

# -- Notebooks -----------------------------------------------------------------------
# papermill has executed the notebooks already; the site shows those outputs as saved.
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# Widgets render from the saved widget state with a widget manager served by the site
# itself (fetched from npm into docs/_vendor/, never from a CDN). The CDN attribute is
# set to a local path on purpose: html-manager falls back to jsdelivr when it is empty,
# so a third-party widget module we do not vendor fails locally instead of leaving.
# stsnb-widgets.js points RequireJS at the vendored folder so that the manager's font
# and icon files load from this site too.
nb_ipywidgets_js = {
    "widgets/require.js": {},
    "stsnb-widgets.js": {},
    "widgets/embed-amd.js": {"data-jupyter-widgets-cdn": "_static/widgets/modules/"},
}

# -- HTML ----------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_static_path = ["_static", "_vendor/static"]
html_css_files = ["stsnb.css"]
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "article_header_end": ["lang-switch.html", "article-header-buttons.html"],
    "navigation_with_keys": False,
    # The notebook pages give their width to the tables (the rollout table's `reason` column must
    # show at 1280 px): their page contents move from the right-hand column into the left one.
    "secondary_sidebar_items": {"index": ["page-toc.html"], "glossary": ["page-toc.html"],
                                "run-it-yourself": ["page-toc.html"], "[0-9][0-9]-*": []},
    # "By {author}" came out as "으로 stsnb contributors" in Korean: the footer is ours, per language.
    "footer_content_items": ["stsnb-footer.html"],
}
html_sidebars = {
    "[0-9][0-9]-*": ["navbar-logo.html", "icon-links.html", "search-button-field.html", "sbt-sidebar-nav.html",
                     "stsnb-page-toc.html"],
}
html_last_updated_fmt = None
