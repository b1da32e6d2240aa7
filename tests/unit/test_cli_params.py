"""``stsnb run``'s parameter checks, as pure functions: parameters cells parsed, command-line values held to them."""

from __future__ import annotations

import pytest

from stsnb.cli.params import Given, NotebookParameter, check_parameters, format_parameters, infer, parse_parameters
from stsnb.errors import ConfigError

CELL = '''backend = "auto"  # "sandbox", "kubeconfig", or "auto"
namespace = None  # None: the backend's default
k8s_version = None  # None: "1.27"
speed = None  # None: 20 times faster
replicas: int = 3  # how many pods
lang = "en"
'''
DECLARED = {"en/01-a.ipynb": parse_parameters(CELL), "en/02-b.ipynb": parse_parameters(CELL)}


def check(*given: Given, env: dict | None = None) -> dict:
    return check_parameters(list(given), DECLARED, env=env or {})


@pytest.mark.parametrize("text, value", [("5", 5), ("0.25", 0.25), ("True", True), ("False", False),
                                         ("None", None), ("kubeconfig", "kubeconfig"), ("1.27", 1.27),
                                         ("1.30", 1.3)])
def test_minus_p_values_are_typed_as_papermill_types_them(text, value):
    assert infer(text) == value and type(infer(text)) is type(value)


def test_a_parameters_cell_gives_names_defaults_and_the_comments_as_help():
    params = parse_parameters(CELL)
    assert [(p.name, p.default, p.help) for p in params] == [
        ("backend", "auto", '"sandbox", "kubeconfig", or "auto"'),
        ("namespace", None, "None: the backend's default"),
        ("k8s_version", None, 'None: "1.27"'),
        ("speed", None, "None: 20 times faster"),
        ("replicas", 3, "how many pods"),
        ("lang", "en", ""),
    ]


def test_a_parameters_cell_that_computes_a_value_is_refused_by_name():
    with pytest.raises(ConfigError, match="computes speed instead of giving a literal"):
        parse_parameters("speed = 10 * 2", "05-x.ipynb")


def test_an_unknown_parameter_is_refused_naming_the_known_ones_and_the_likely_one():
    with pytest.raises(ConfigError) as e:
        check(Given.typed("sped", "50"))
    assert "unknown parameter 'sped' (-p sped 50) (did you mean 'speed'?)" in e.value.message
    assert "backend, k8s_version, namespace, replicas, speed" in e.value.message
    assert "stsnb run --list" in e.value.hint


def test_a_parameter_only_some_notebooks_declare_is_refused_naming_the_others():
    declared = {"en/01-a.ipynb": parse_parameters(CELL), "en/02-b.ipynb": parse_parameters("lang = 'en'")}
    with pytest.raises(ConfigError, match="parameter 'speed' .* is not declared by en/02-b.ipynb"):
        check_parameters([Given.typed("speed", "5")], declared, env={})


def test_lang_is_refused_because_it_is_set_per_language():
    with pytest.raises(ConfigError, match="use --lang"):
        check(Given.typed("lang", "ko"))


@pytest.mark.parametrize("given, words", [
    (Given.typed("speed", "fast"), ["-p speed fast", "speed='fast'", "not a number"]),
    (Given.typed("backend", "nope"), ["-p backend nope", "backend='nope'", "not allowed", "'kubeconfig'"]),
    (Given.typed("namespace", "Not_OK"), ["-p namespace Not_OK", "not a valid namespace name"]),
    (Given.typed("speed", "-3"), ["-p speed -3", "must be greater than 0"]),
])
def test_a_setting_is_held_to_what_the_notebooks_connect_would_allow(given, words):
    with pytest.raises(ConfigError) as e:
        check(given)
    assert all(w in str(e.value) for w in words), str(e.value)


def test_a_version_papermill_would_turn_into_another_number_points_to_minus_r():
    with pytest.raises(ConfigError) as e:
        check(Given.typed("k8s_version", "1.30"))
    assert "papermill reads '1.30' as the number 1.3" in e.value.message
    assert "Kubernetes 1.3, not 1.30" in e.value.message
    assert e.value.hint == "pass it as text with -r: stsnb run -r k8s_version 1.30"


def test_a_version_given_as_text_or_as_an_exact_number_passes():
    assert check(Given.raw_text("k8s_version", "1.30")) == {"k8s_version": "1.30"}
    assert check(Given.typed("k8s_version", "1.27")) == {"k8s_version": 1.27}


def test_a_non_setting_parameter_must_have_the_type_of_its_default():
    assert check(Given.typed("replicas", "5")) == {"replicas": 5}
    with pytest.raises(ConfigError, match="replicas takes a int .*not str 'five'"):
        check(Given.typed("replicas", "five"))


def test_the_last_of_two_values_for_one_name_wins_as_with_papermill():
    assert check(Given.typed("speed", "5"), Given.typed("speed", "50")) == {"speed": 50}


def test_a_bad_value_from_the_environment_is_reported_with_its_variable():
    with pytest.raises(ConfigError, match=r"\(from \$STSNB_SPEED\)"):
        check(env={"STSNB_SPEED": "fast"})


def test_values_passed_from_python_are_checked_too():
    with pytest.raises(ConfigError, match="speed='x'"):
        check(Given.of("speed", "x"))
    assert check(Given.of("speed", 7.5), Given.of("backend", "sandbox")) == {"speed": 7.5, "backend": "sandbox"}


def test_the_parameter_list_is_aligned_with_defaults_and_help():
    lines = format_parameters([NotebookParameter("backend", "auto", "which cluster"),
                               NotebookParameter("k8s_version", None, "the version")])
    assert lines == ["backend      'auto'  which cluster", "k8s_version  None    the version"]
