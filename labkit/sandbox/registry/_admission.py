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
They live in apis._defaults and the validation package (per kind in _pods, _workloads,
_services), over validation._field_errors (`Invalid`, the field.ErrorList wording),
_name_formats and _labels.
"""
from __future__ import annotations

from ..apis._defaults import default
from ..validation._field_errors import Invalid
from ..validation._name_formats import valid_name_message
from ..validation._validate import validate

__all__ = ["Invalid", "default", "validate", "valid_name_message"]
