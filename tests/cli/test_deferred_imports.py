"""The runner's process defers ``rfc3987_syntax`` (see ``stsnb.cli._deferred``) without changing any check.

Each test runs a fresh interpreter: what is imported is the point.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

#: IRIs and non-IRIs, checked with jsonschema's ``iri`` and ``iri-reference`` formats.
SAMPLES = ["https://example.com/lesson", "https://예시.한국/스테이트풀셋?q=1", "http://[::1]:8080/",
           "not an iri", "http://exa mple.com/", "//no-scheme/path", "a:b", "http://[bad", ""]

CHECK = f"""
import json, sys
from stsnb.cli._deferred import defer_rfc3987_syntax
mode = sys.argv[1]
if mode == "no-defer":
    import jsonschema  # imported first, rfc3987_syntax with it: nothing left to defer
# "import-only": the runner's own module defers, nobody else asks
deferred = None if mode == "import-only" else defer_rfc3987_syntax()
import stsnb.cli.execute  # papermill, nbformat, jsonschema
import jsonschema
loaded_before = "lark" in sys.modules
checker = jsonschema.FormatChecker()
results = {{f: [checker.conforms(s, f) for s in {SAMPLES!r}] for f in ("iri", "iri-reference")}}
print(json.dumps({{"deferred": deferred, "lark_before_first_check": loaded_before, "results": results,
                  "formats": sorted(f for f in checker.checkers if f.startswith("iri")),
                  "module": type(sys.modules.get("rfc3987_syntax")).__name__}}))
"""


def _run(mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHECK, mode], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_runner_builds_no_iri_grammar_until_an_iri_is_checked() -> None:
    got = _run("import-only")
    assert got["lark_before_first_check"] is False
    assert _run("no-defer")["lark_before_first_check"] is (importlib.util.find_spec("rfc3987_syntax") is not None)


def test_iri_checks_give_the_same_answers_with_the_deferral_as_without() -> None:
    deferred, plain = _run("defer"), _run("no-defer")
    assert deferred["results"] == plain["results"]
    assert deferred["formats"] == plain["formats"]
    assert plain["deferred"] is False
    if plain["formats"]:  # rfc3987-syntax installed (JupyterLab's dependencies bring it)
        assert deferred["deferred"] is True
        assert deferred["module"] == "module"  # the real package replaced the stand-in at the first check
        assert plain["results"]["iri"][0] is True and plain["results"]["iri"][3] is False
