"""What kube-apiserver does to an object before storing it: defaulting and validation.

`default` applies the v1 API defaults (pkg/apis/*/v1/defaults.go) plus what the
admission plugins of a stock cluster add (ServiceAccount, Priority,
DefaultTolerationSeconds) and what the registries' strategies fill in
(Service clusterIPs, ipFamilies, ipFamilyPolicy; Namespace finalizers).
`validate` reports field errors in apimachinery's exact wording
(staging/src/k8s.io/apimachinery/pkg/util/validation, .../field/errors.go,
pkg/apis/core/validation, pkg/apis/apps/validation) and raises `Invalid`, whose
`status()` is the 422 body kube-apiserver sends (api/errors.NewInvalid).

Both are pure functions of their arguments: no store, no clock, no I/O.
They live in _defaults and _validation (per kind in _validation_pods,
_validation_workloads, _validation_services), over _field_errors (`Invalid`, the
field.ErrorList wording), _name_formats and _validation_labels.
"""
from __future__ import annotations

from ._defaults import default
from ._field_errors import Invalid
from ._name_formats import valid_name_message
from ._validation import validate

__all__ = ["Invalid", "default", "validate", "valid_name_message"]
