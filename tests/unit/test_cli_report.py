"""The summary ``stsnb run`` prints, from results alone."""

from __future__ import annotations

from pathlib import Path

from stsnb.cli.report import RunResult, format_summary


def result(name: str, status: str, seconds: float = 1.0, **kw) -> RunResult:
    return RunResult("en", name, Path(f"/src/en/{name}"), None, status, seconds, **kw)


def test_an_interrupted_run_says_what_was_running_and_what_never_started():
    text = format_summary([result("01-a.ipynb", "passed", 2.0), result("02-b.ipynb", "interrupted", 3.0,
                                                                       cell=4, error="KeyboardInterrupt"),
                           result("03-c.ipynb", "cancelled", 0.0)])
    assert "1/3 passed, 5.0 s of notebook time" in text
    assert ("interrupted (Ctrl-C): stopped while running: en/02-b.ipynb; not started: en/03-c.ipynb. "
            "Their previous executed copies, if any, are unchanged.") in text
    assert "failed or interrupted:\nen/02-b.ipynb, cell 4\n  interrupted: KeyboardInterrupt" in text
    assert "03-c.ipynb, cell" not in text


def test_a_run_without_ctrl_c_says_nothing_about_interruptions():
    text = format_summary([result("01-a.ipynb", "passed"), result("02-b.ipynb", "failed", error="ValueError: x")])
    assert "interrupted" not in text
    assert text.endswith("\nfailed:\nen/02-b.ipynb\n  failed: ValueError: x")
