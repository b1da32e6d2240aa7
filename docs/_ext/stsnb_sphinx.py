"""Sphinx glue for the stsnb docs site: language settings, the language switch, Korean search.

Every string the site adds around the notebooks comes from the same catalogue as the
notebooks' own labels (:data:`stsnb._labels.THEME`): MyST-NB's "Show code cell source"
prompt and the footer; Sphinx's ``language`` gives the theme's own strings.

The site is two builds of one ``conf.py`` (``/en/`` and ``/ko/``) with the same page
names in both trees, so "the same page in the other language" is always
``../<other>/<same page>.html``. This extension computes that link for every page,
sets the per-language titles once the language is final (after any ``-D language=``
override), and registers a search language for Korean.

Why a Korean search language: Sphinx has none, and falls back to English. That still
finds words of three or more syllables by partial match, but Korean attaches particles
to nouns ("파드가", "파드를"), and Sphinx's partial matching only starts at three
characters, so a two-syllable query such as "파드" or "노드" would find nothing.
:class:`SearchKorean` indexes every Hangul word both as written and without a trailing
particle; ASCII words go through the English stemmer as before.
"""

from __future__ import annotations

import re
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError
from sphinx.search.en import SearchEnglish

from stsnb import _labels

#: Per-language strings. The keys are the only languages the site is built in.
LANGUAGES: dict[str, dict[str, str]] = {
    "en": {
        "label": "English",
        "title": "stsnb: StatefulSets, executed",
        "switch_title": "Read this page in English",
    },
    "ko": {
        "label": "한국어",
        "title": "stsnb: 실행하며 배우는 스테이트풀셋",
        "switch_title": "이 페이지를 한국어로 보기",
    },
}

# Longest first, so that "에서는" is tried before "는".
_PARTICLES = sorted(
    """
    에서는 에서도 에게서 으로는 으로도 이라는 까지는 부터는 에서 에게 으로 까지 부터
    처럼 보다 마다 이나 이고 이며 이다 이라 라는 하고 과는 와는 에는 에도 로는 로도
    은 는 이 가 을 를 의 에 로 와 과 도 만
    """.split(),
    key=len,
    reverse=True,
)
_HANGUL_WORD = re.compile(r"^[\uac00-\ud7a3]+$")
_HANGUL_RUN = re.compile(r"[\uac00-\ud7a3]{2,}")


def strip_particle(word: str) -> str | None:
    """Return ``word`` without one trailing Korean particle, or None if there is none.

    The stem must keep at least two syllables, so short nouns are never cut down to
    one syllable ("노드" stays "노드").
    """
    if not _HANGUL_WORD.match(word):
        return None
    for particle in _PARTICLES:
        if word.endswith(particle) and len(word) - len(particle) >= 2:
            return word[: -len(particle)]
    return None


class SearchKorean(SearchEnglish):
    """English search plus Korean words indexed with and without a trailing particle."""

    lang = "ko"
    # Sphinx names the browser-side stemmer after language_name ("EnglishStemmer"),
    # and this class reuses the English one, so the name must stay "English".
    language_name = "English"

    def split(self, input: str) -> list[str]:  # noqa: A002 - Sphinx's signature
        words = super().split(input)
        # Korean written against Latin letters or digits ("0부터", "app이면서") is one token for
        # the English splitter; index its Hangul runs as words of their own too.
        runs = [run for w in words if not _HANGUL_WORD.match(w) for run in _HANGUL_RUN.findall(w)]
        words = words + runs
        extra = [stem for stem in map(strip_particle, words) if stem]
        return words + extra


def _check_language(app: Sphinx, config: Config) -> None:
    lang = config.language
    if lang not in LANGUAGES:
        raise ConfigError(
            f"stsnb docs are built in {sorted(LANGUAGES)} only, got language={lang!r}; "
            "set STSNB_DOCS_LANG or pass -D language=en|ko"
        )
    strings = LANGUAGES[lang]
    config.html_title = strings["title"]
    config.html_short_title = strings["title"]
    # MyST-NB's prompt on folded cells (the checks); without this a Korean page says "Show code cell source"
    config.nb_code_prompt_show = _labels.THEME["show_code"][lang]
    config.nb_code_prompt_hide = _labels.THEME["hide_code"][lang]
    config.author = _labels.THEME["footer"][lang]


def _page_context(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    lang = app.config.language
    other = next(code for code in LANGUAGES if code != lang)
    depth = pagename.count("/") + 1
    context["stsnb_lang"] = lang
    context["stsnb_footer"] = _labels.THEME["footer"][lang]
    context["stsnb_other_lang"] = other
    context["stsnb_other_lang_label"] = LANGUAGES[other]["label"]
    context["stsnb_other_lang_title"] = LANGUAGES[other]["switch_title"]
    context["stsnb_other_lang_url"] = (
        "../" * depth + other + "/" + app.builder.get_target_uri(pagename)
    )


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_search_language(SearchKorean)
    app.connect("config-inited", _check_language)
    app.connect("html-page-context", _page_context)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
