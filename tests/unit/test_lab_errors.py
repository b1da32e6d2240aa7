"""stsnb.errors: a small hierarchy of our own, translated from ApiException by status code."""

from __future__ import annotations

import json

import pytest
from kubernetes.client import ApiException

from stsnb import errors


def _api_exception(status: int, message: str, reason: str = "") -> ApiException:
    e = ApiException(status=status, reason="x")
    e.body = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message,
                         "reason": reason, "code": status})
    return e


def test_stsnb_error_is_not_an_api_exception():
    assert not issubclass(errors.StsnbError, ApiException)
    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type):
            assert issubclass(obj, errors.StsnbError) and not issubclass(obj, ApiException)


@pytest.mark.parametrize("status, reason, cls", [
    (404, "NotFound", errors.NotFound),
    (409, "AlreadyExists", errors.AlreadyExists),
    (409, "Conflict", errors.Conflict),
    (422, "Invalid", errors.Invalid),
    (400, "BadRequest", errors.Invalid),
    (403, "Forbidden", errors.Forbidden),
    (401, "Unauthorized", errors.Forbidden),
    (503, "ServiceUnavailable", errors.ClusterUnreachable),
    (500, "InternalError", errors.StsnbError),
])
def test_api_exceptions_are_translated_by_status_code(status, reason, cls):
    exc = _api_exception(status, f"something {reason}", reason)
    err = errors.from_api_exception(exc, action="create statefulset.apps/x", target="statefulset.apps/x",
                                    namespace="lab")
    assert type(err) is cls
    assert err.status == status
    assert "something " + reason in err.message and "create statefulset.apps/x" in err.message
    assert err.hint


def test_the_cause_is_chained_when_raised_from_the_api_exception():
    exc = _api_exception(404, 'statefulsets.apps "x" not found', "NotFound")
    with pytest.raises(errors.NotFound) as info:
        try:
            raise exc
        except ApiException as e:
            raise errors.from_api_exception(e, action="get statefulset.apps/x") from e
    assert info.value.__cause__ is exc


def test_an_immutable_statefulset_field_suggests_deleting_and_reapplying():
    exc = _api_exception(422, 'StatefulSet.apps "nginx-stateful" is invalid: spec: Forbidden: updates to statefulset '
                              "spec for fields other than 'replicas', 'template', 'updateStrategy' ... are forbidden",
                         "Invalid")
    err = errors.from_api_exception(exc, action="patch statefulset.apps/nginx-stateful",
                                    target="statefulset.apps/nginx-stateful")
    assert isinstance(err, errors.Invalid)
    assert "lab.delete('statefulset/nginx-stateful'" in err.hint


def test_a_terminating_namespace_says_to_wait():
    exc = _api_exception(403, "unable to create new content in namespace lab because it is being terminated",
                         "Forbidden")
    err = errors.from_api_exception(exc, action="create pod/x", namespace="lab")
    assert isinstance(err, errors.Forbidden) and "still being deleted" in err.hint


def test_the_message_and_the_next_step_both_show_in_str():
    err = errors.NotFound("no guide manifest named 'x'", hint="use one of: nginx-stateful")
    assert str(err) == "no guide manifest named 'x'\n  next: use one of: nginx-stateful"


def test_cannot_expose_prints_exactly_kubectls_text():
    err = errors.CannotExpose("cannot expose a StatefulSet.apps", hint="create a Service with a selector")
    assert str(err) == "cannot expose a StatefulSet.apps"
    assert err.hint


def test_wait_errors_carry_the_condition_the_state_and_the_pod():
    t = errors.WaitTimeout("timed out", condition="3 Ready pods", last_state="2/3 Ready")
    assert (t.condition, t.last_state) == ("3 Ready pods", "2/3 Ready")
    f = errors.ConditionFailed("stuck", pod="nginx-stateful-2", reason="ImagePullBackOff")
    assert (f.pod, f.reason) == ("nginx-stateful-2", "ImagePullBackOff")
    assert errors.BackendUnavailable is errors.ClusterUnreachable
