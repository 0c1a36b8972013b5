"""Validation's entry point: object metadata, then the kind's own checks.

`validate` gathers every field error kube-apiserver reports and raises `Invalid`;
the per-kind checks live in _validation_pods, _validation_workloads and
_validation_services.
"""
from __future__ import annotations

from ._field_errors import Invalid, _Errors
from ._name_formats import _CLUSTER_SCOPED, is_dns1123_label, valid_name_message
from ._config import _validate_configmap
from ._labels import _annotations, _labels
from ._networking import _validate_networkpolicy
from ._pods import _validate_pod
from ._secrets import _validate_secret
from ._batch import _validate_cronjob, _validate_job
from ._rbac import VALIDATORS as _RBAC_VALIDATORS
from ._services import (_service_cluster_ips, _validate_endpoints, _validate_endpointslice,
                        _validate_namespace, _validate_service)
from ._workloads import (_validate_daemonset, _validate_deployment, _validate_replicaset,
                         _validate_replicationcontroller, _validate_statefulset)


# --- validation -----------------------------------------------------------------------------

def validate(kind: str, obj: dict, *, old: dict | None = None) -> None:
    """Raise `Invalid` with every field error kube-apiserver reports for `obj` (create, or
    update when `old` is given). Expects an object that went through `default` first, as the
    API server validates after defaulting."""
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    name = (meta or {}).get("name") or ""
    if kind == "Service":
        # The service allocator pre-validates clusterIPs and stops there (initIPFamilyFields).
        errs = _Errors()
        _service_cluster_ips(obj.get("spec") or {}, errs)
        if errs:
            raise Invalid(kind, name, errs.causes)
    errs = _Errors()
    if old is not None:
        _object_meta_update(obj, old, errs)
    _object_meta(kind, obj, errs)
    fn = _VALIDATORS.get(kind)
    if fn is not None:
        fn(obj, old, errs)
    if errs:
        raise Invalid(kind, name, errs.causes)


def _object_meta(kind: str, obj: dict, errs: _Errors) -> None:
    meta = obj.get("metadata") or {}
    gen = meta.get("generateName") or ""
    if gen:
        for msg in valid_name_message(kind, gen, prefix=True):
            errs.invalid("metadata.generateName", gen, msg)
    name = meta.get("name") or ""
    if not name:
        # Upstream names the object from generateName before validating; a caller that
        # validates first gets the same verdict, since a valid prefix yields a valid name.
        if not gen:
            errs.required("metadata.name", "name or generateName is required")
    else:
        for msg in valid_name_message(kind, name):
            errs.invalid("metadata.name", name, msg)
    ns = meta.get("namespace") or ""
    if kind in _CLUSTER_SCOPED:
        if ns:
            errs.forbidden("metadata.namespace", "not allowed on this type")
    elif ns:
        for msg in is_dns1123_label(ns):
            errs.invalid("metadata.namespace", ns, msg)
    _labels(meta.get("labels"), "metadata.labels", errs)
    _annotations(meta.get("annotations"), "metadata.annotations", errs)


def _object_meta_update(obj: dict, old: dict, errs: _Errors) -> None:
    new_meta, old_meta = obj.get("metadata") or {}, old.get("metadata") or {}
    # creationTimestamp is not checked: the API server copies it from the stored object first.
    for key in ("name", "namespace", "uid"):
        if key == "uid" and not new_meta.get(key):
            continue
        if new_meta.get(key) != old_meta.get(key):
            errs.invalid(f"metadata.{key}", new_meta.get(key) or "", "field is immutable")


_VALIDATORS = {"Pod": _validate_pod, "Deployment": _validate_deployment, "ReplicaSet": _validate_replicaset,
               "ReplicationController": _validate_replicationcontroller,
               "Service": _validate_service, "Namespace": _validate_namespace,
               "Endpoints": _validate_endpoints, "EndpointSlice": _validate_endpointslice,
               "NetworkPolicy": _validate_networkpolicy,
               "ConfigMap": _validate_configmap, "Secret": _validate_secret,
               "Job": _validate_job, "CronJob": _validate_cronjob,
               "StatefulSet": _validate_statefulset, "DaemonSet": _validate_daemonset, **_RBAC_VALIDATORS}
