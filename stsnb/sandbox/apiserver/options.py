"""Request options as the API server reads them: dryRun, fieldValidation, DeleteOptions, timeouts.

Upstream sources (kubernetes/kubernetes ``staging/src/k8s.io/apiserver/pkg/endpoints/handlers``
and kubernetes/apimachinery ``pkg/apis/meta/v1/validation/validation.go``):

* ``create.go``, ``update.go``, ``patch.go``: ``dryRun`` comes from the query string and is
  checked by ``ValidateDryRun``; only ``All`` is allowed, anything else is a 422
  ``CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: …``
  (``UpdateOptions``/``PatchOptions`` for the other verbs).
* ``delete.go``: a DELETE with a body takes **all** its options from the body (a
  ``DeleteOptions`` in JSON or protobuf); the query string is read only when the
  body is empty. ``ValidateDeleteOptions`` checks ``dryRun`` and
  ``propagationPolicy`` (422 ``DeleteOptions.meta.k8s.io``). This is why
  ``kubectl delete --dry-run=server``, which sends ``dryRun: ["All"]`` in the body,
  must be read from the body.
* query parameters are decoded by the parameter codec: an integer that does not
  parse is a 400 with ``strconv.ParseInt``'s text.

Known difference: a DeleteOptions body that is not a JSON object makes upstream
answer 500 (the decoder's error is not wrapped as a BadRequest there); the
sandbox answers 400 with the decoder's words, since the mistake is the client's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..core import errors
from ..profile import Profile
from .validation import go_value

__all__ = ["DeleteOptions", "dry_run", "field_validation", "int64_param", "parse_delete_options", "timeout_seconds"]

_INT64 = (-(2 ** 63), 2 ** 63 - 1)
#: The longest grace period the sandbox schedules (its clock cannot represent 10^18 seconds); upstream
#: accepts any int64 and the pod simply never finishes terminating on its own.
MAX_GRACE_SECONDS = 10 ** 9


def int64_param(name: str, raw: str) -> int:
    """A query parameter of type int64, refused as the parameter codec refuses it (400, strconv's words)."""
    text = raw.strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isdigit() or not digits.isascii():
        raise errors.bad_request(f'strconv.ParseInt: parsing "{raw}": invalid syntax')
    value = int(text)
    if not _INT64[0] <= value <= _INT64[1]:
        raise errors.bad_request(f'strconv.ParseInt: parsing "{raw}": value out of range')
    return value


def _dry_run_causes(values: list, profile: Profile) -> list[tuple[str, str, str]]:
    if all(v == "All" for v in values):
        return []
    shown = (f"[]string{{{', '.join(json.dumps(v) for v in values)}}}" if profile.go_value_format == "go"
             else go_value(values, profile))
    return [("dryRun", "FieldValueNotSupported", f'Unsupported value: {shown}: supported values: "All"')]


def dry_run(query_all: dict[str, list[str]], options_kind: str, profile: Profile) -> bool:
    """Whether a create/update/patch is a dry run; a value other than ``All`` is a 422 as upstream."""
    values = query_all.get("dryRun") or []
    causes = _dry_run_causes(values, profile)
    if causes:
        raise errors.invalid(options_kind, "meta.k8s.io", "", causes)
    return bool(values)


def field_validation(query: dict[str, str]) -> str:
    """``fieldValidation``: Strict, Warn (the default since 1.27) or Ignore; another value is a 400."""
    value = query.get("fieldValidation", "")
    if value not in ("", "Strict", "Warn", "Ignore"):
        raise errors.bad_request(f'fieldValidation: Unsupported value: "{value}": supported values: "", "Ignore", '
                                 '"Strict", "Warn"')
    return value or "Warn"


def timeout_seconds(query: dict[str, str], default: float) -> float:
    """A watch's ``timeoutSeconds``: an int64 (``nan``, ``inf``, ``1.5`` are 400s); ≤ 0 ends the watch at once."""
    raw = query.get("timeoutSeconds")
    if raw in (None, ""):
        return default
    value = int64_param("timeoutSeconds", raw)
    return float(max(0, min(value, 10 ** 9)))


@dataclass
class DeleteOptions:
    """``metav1.DeleteOptions`` as read from a DELETE's body or (without a body) its query."""

    grace_period_seconds: int | None = None
    propagation_policy: str | None = None
    orphan_dependents: bool | None = None
    preconditions: dict = field(default_factory=dict)
    dry_run: bool = False

    @property
    def propagation(self) -> str | None:
        if self.orphan_dependents is True:
            return "Orphan"
        if self.orphan_dependents is False and self.propagation_policy is None:
            return "Background"
        return self.propagation_policy

    @property
    def grace(self) -> int | None:
        """The grace period to schedule: negative means 1 second (as the pod strategy), huge is capped."""
        g = self.grace_period_seconds
        if g is None:
            return None
        return 1 if g < 0 else min(g, MAX_GRACE_SECONDS)


def _go_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "bool", int: "number", float: "number"}.get(
        type(value), "null")


def parse_delete_options(body: Any, query: dict[str, str], query_all: dict[str, list[str]],
                         profile: Profile) -> DeleteOptions:
    """DeleteOptions from a decoded body (a dict, or None when there was none) or else from the query."""
    opts = DeleteOptions()
    if body is None:
        if query.get("gracePeriodSeconds") not in (None, ""):
            opts.grace_period_seconds = int64_param("gracePeriodSeconds", query["gracePeriodSeconds"])
        if query.get("propagationPolicy") not in (None, ""):
            opts.propagation_policy = query["propagationPolicy"]
        if query.get("orphanDependents") not in (None, ""):
            if query["orphanDependents"] not in ("true", "false", "1", "0", "True", "False"):
                raise errors.bad_request(f'strconv.ParseBool: parsing "{query["orphanDependents"]}": invalid syntax')
            opts.orphan_dependents = query["orphanDependents"] in ("true", "1", "True")
        dry = query_all.get("dryRun") or []
    else:
        if not isinstance(body, dict):
            raise errors.bad_request(f"json: cannot unmarshal {_go_type(body)} into Go value of type v1.DeleteOptions")
        expected = {"gracePeriodSeconds": (int,), "propagationPolicy": (str,), "orphanDependents": (bool,),
                    "preconditions": (dict,), "dryRun": (list,), "kind": (str,), "apiVersion": (str,)}
        for key, types in expected.items():
            value = body.get(key)
            if value is None:
                continue
            if not isinstance(value, types) or (types == (int,) and isinstance(value, bool)):
                go = {"gracePeriodSeconds": "int64", "propagationPolicy": "v1.DeletionPropagation",
                      "orphanDependents": "bool", "preconditions": "v1.Preconditions", "dryRun": "[]string",
                      "kind": "string", "apiVersion": "string"}[key]
                raise errors.bad_request(f"json: cannot unmarshal {_go_type(value)} into Go struct field "
                                         f"DeleteOptions.{key} of type {go}")
        grace = body.get("gracePeriodSeconds")
        if isinstance(grace, int) and not _INT64[0] <= grace <= _INT64[1]:
            raise errors.bad_request(f"json: cannot unmarshal number {grace} into Go struct field "
                                     "DeleteOptions.gracePeriodSeconds of type int64")
        opts.grace_period_seconds = grace
        opts.propagation_policy = body.get("propagationPolicy")
        opts.orphan_dependents = body.get("orphanDependents")
        opts.preconditions = {k: v for k, v in (body.get("preconditions") or {}).items() if isinstance(v, str)}
        dry = body.get("dryRun") or []
        if not all(isinstance(d, str) for d in dry):
            raise errors.bad_request("json: cannot unmarshal non-string into Go struct field DeleteOptions.dryRun "
                                     "of type string")
    causes = []
    if opts.orphan_dependents is not None and opts.propagation_policy is not None:
        causes.append(("propagationPolicy", "FieldValueInvalid", f"Invalid value: {json.dumps(opts.propagation_policy)}"
                       ": orphanDependents and deletionPropagation cannot be both set"))
    if opts.propagation_policy is not None and opts.propagation_policy not in ("Foreground", "Background", "Orphan"):
        causes.append(("propagationPolicy", "FieldValueNotSupported",
                       f'Unsupported value: "{opts.propagation_policy}": supported values: "Foreground", '
                       '"Background", "Orphan", "nil"'))
    causes += _dry_run_causes(list(dry), profile)
    if causes:
        raise errors.invalid("DeleteOptions", "meta.k8s.io", "", causes)
    opts.dry_run = bool(dry)
    return opts
