"""Settings: parameters over STSNB_* variables over defaults; validated with messages that say what to do."""

from __future__ import annotations

import dataclasses

import pytest

from stsnb.errors import ConfigError
from stsnb.settings import Settings


def test_with_nothing_configured_the_lab_uses_the_sandbox_in_namespace_default():
    s = Settings.from_sources({}, env={})
    assert (s.backend, s.namespace, s.lang, s.timeout_s) == ("sandbox", "default", "en", 120.0)
    assert (s.sandbox.k8s_version, s.sandbox.speed, s.sandbox.seed) == ("1.27", 1.0, None)
    assert "no real cluster was asked for" in s.backend_reason


def test_a_real_cluster_is_used_only_when_asked_for():
    assert Settings.from_sources({}, env={"KUBECONFIG": "/some/config"}).backend == "sandbox"
    s = Settings.from_sources({}, env={"STSNB_BACKEND": "kubeconfig"})
    assert (s.backend, s.namespace) == ("kubeconfig", "stsnb-lab")
    assert "STSNB_BACKEND" in s.backend_reason
    s = Settings.from_sources({"backend": "auto"}, env={"STSNB_KUBECONFIG": "/k"})
    assert (s.backend, s.cluster.kubeconfig) == ("kubeconfig", "/k")
    assert Settings.from_sources({"context": "kind-stsnb"}, env={}).backend == "kubeconfig"


def test_notebook_parameters_win_over_environment_variables_and_none_falls_through():
    env = {"STSNB_LANG": "ko", "STSNB_SPEED": "5", "STSNB_NAMESPACE": "from-env", "STSNB_SEED": "3"}
    s = Settings.from_sources({"lang": "en", "speed": None, "namespace": ""}, env=env)
    assert (s.lang, s.sandbox.speed, s.namespace, s.sandbox.seed) == ("en", 5.0, "from-env", 3)
    assert s.sources["lang"] == "parameter" and s.sources["speed"] == "STSNB_SPEED"


def test_settings_are_frozen():
    s = Settings.from_sources({}, env={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.timeout_s = 1  # type: ignore[misc]


@pytest.mark.parametrize("params, env, words", [
    ({"backend": "cloud"}, {}, ["backend='cloud'", "'sandbox'", "'kubeconfig'"]),
    ({}, {"STSNB_LANG": "fr"}, ["lang='fr'", "$STSNB_LANG", "'ko'"]),
    ({"namespace": "Lab_1"}, {}, ["'Lab_1'", "lower-case"]),
    ({"speed": 0}, {}, ["speed 0", "greater than 0"]),
    ({"speed": "fast"}, {}, ["speed='fast'", "number"]),
    ({"seed": 1.5}, {}, ["seed=1.5", "integer"]),
    ({"k8s_version": "27"}, {}, ["'27'", "MAJOR.MINOR"]),
    ({"timeout_s": -1}, {}, ["timeout_s -1"]),
    ({"storage_class": "Bad Name"}, {}, ["'Bad Name'", "kubectl get storageclass"]),
])
def test_invalid_values_name_the_key_the_value_and_what_is_allowed(params, env, words):
    with pytest.raises(ConfigError) as e:
        Settings.from_sources(params, env=env)
    text = str(e.value)
    for w in words:
        assert w in text


def test_unknown_parameters_are_refused_with_the_list_of_settings():
    with pytest.raises(ConfigError, match="unknown setting.*'langage'") as e:
        Settings.from_sources({"langage": "ko"}, env={})
    assert "lang" in e.value.hint


def test_passing_a_kubeconfig_with_backend_sandbox_is_a_contradiction():
    with pytest.raises(ConfigError, match="backend='sandbox'"):
        Settings.from_sources({"backend": "sandbox", "context": "kind-x"}, env={})


def test_versions_are_normalised_to_major_minor():
    assert Settings.from_sources({"k8s_version": "v1.34.2"}, env={}).sandbox.k8s_version == "1.34"


def test_with_lang_returns_a_copy_in_another_language():
    s = Settings.from_sources({}, env={})
    assert s.with_lang("ko").lang == "ko" and s.lang == "en"
