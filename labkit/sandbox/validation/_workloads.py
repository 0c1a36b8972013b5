"""Deployment and ReplicaSet validation (pkg/apis/apps/validation): replicas, selector
against template labels, the pod template, and a Deployment's rollout strategy.
"""
from __future__ import annotations

import re

from ._field_errors import _Errors, _Go, _gomap, _goquote
from ._name_formats import _regex_error
from ._labels import _annotations, _labels, _selector, _selector_go, _selector_matches
from ._pods import _pod_spec


# --- workloads ------------------------------------------------------------------------------

def _validate_workload(obj: dict, old, errs: _Errors, *, deployment: bool) -> None:
    spec = obj.get("spec") or {}
    replicas = spec.get("replicas", 0)
    if isinstance(replicas, int) and replicas < 0:
        errs.invalid("spec.replicas", replicas, "must be greater than or equal to 0")
    mrs = spec.get("minReadySeconds", 0) or 0
    if not deployment:      # ValidateReplicaSetSpec checks it before the selector
        _min_ready(mrs, errs)
    sel = spec.get("selector")
    if sel is None:
        errs.required("spec.selector")
    else:
        _selector(sel, "spec.selector", errs)
        if not (sel.get("matchLabels") or sel.get("matchExpressions")):
            # Upstream's ReplicaSet validation says "deployment" too.
            errs.invalid("spec.selector", _selector_go(sel), "empty selector is invalid for deployment")
    tmpl = spec.get("template") or {}
    tmeta = tmpl.get("metadata") or {}
    labels = tmeta.get("labels") or {}
    if (sel is None or sel.get("matchLabels") or sel.get("matchExpressions")) \
            and not _selector_matches(sel, labels):
        errs.invalid("spec.template.metadata.labels", _gomap(tmeta.get("labels")),
                     "`selector` does not match template `labels`")
    # ValidatePodTemplateSpec: note the path is spec.template.labels, not .metadata.labels.
    _labels(tmeta.get("labels"), "spec.template.labels", errs)
    _annotations(tmeta.get("annotations"), "spec.template.annotations", errs)
    tspec = tmpl.get("spec") or {}
    _pod_spec(tspec, "spec.template.spec", errs)
    if tspec.get("restartPolicy") and tspec["restartPolicy"] != "Always":
        errs.not_supported("spec.template.spec.restartPolicy", tspec["restartPolicy"], ["Always"])
    if tspec.get("activeDeadlineSeconds") is not None:
        errs.forbidden("spec.template.spec.activeDeadlineSeconds",
                       "activeDeadlineSeconds in ReplicaSet is not Supported")
    if deployment:
        _strategy(spec.get("strategy") or {}, errs)
    if deployment:
        _min_ready(mrs, errs)
        rhl = spec.get("revisionHistoryLimit")
        if isinstance(rhl, int) and rhl < 0:
            errs.invalid("spec.revisionHistoryLimit", rhl, "must be greater than or equal to 0")
        pds = spec.get("progressDeadlineSeconds")
        if isinstance(pds, int):
            if pds < 0:
                errs.invalid("spec.progressDeadlineSeconds", pds, "must be greater than or equal to 0")
            if isinstance(mrs, int) and pds <= mrs:
                errs.invalid("spec.progressDeadlineSeconds", pds, "must be greater than minReadySeconds")
    if old is not None:
        old_sel = (old.get("spec") or {}).get("selector")
        if sel != old_sel:
            # apps/v1 strategies: ValidateImmutableField(newSelector, oldSelector).
            errs.invalid("spec.selector", _selector_go(sel), "field is immutable")


def _min_ready(mrs, errs: _Errors) -> None:
    if isinstance(mrs, int) and mrs < 0:
        errs.invalid("spec.minReadySeconds", mrs, "must be greater than or equal to 0")


def _intstr_go(value) -> _Go:
    """%#v of an intstr.IntOrString (its String() has a pointer receiver, so it is not used)."""
    if isinstance(value, str):
        return _Go('intstr.IntOrString{Type:1, IntVal:0, StrVal:%s}' % _goquote(value))
    return _Go('intstr.IntOrString{Type:0, IntVal:%d, StrVal:""}' % (value if isinstance(value, int) else 0))


def _int_or_percent(value, path: str, errs: _Errors) -> None:
    """ValidatePositiveIntOrPercent and IsNotMoreThan100Percent."""
    if isinstance(value, str):
        if not re.fullmatch("[0-9]+%", value):
            errs.invalid(path, _intstr_go(value), _regex_error(
                "a valid percent string must be a numeric string followed by an ending '%'", "[0-9]+%", "1%", "93%"))
        elif int(value[:-1]) > 100:
            errs.invalid(path, _intstr_go(value), "must not be greater than 100%")
    elif isinstance(value, int) and value < 0:
        errs.invalid(path, value, "must be greater than or equal to 0")


def _strategy(strategy: dict, errs: _Errors) -> None:
    typ = strategy.get("type")
    if typ == "Recreate":
        if strategy.get("rollingUpdate") is not None:
            errs.forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'")
    elif typ == "RollingUpdate":
        ru = strategy.get("rollingUpdate")
        if ru is None:
            errs.required("spec.strategy.rollingUpdate", "this should be defaulted and never be nil")
            return
        mu, ms = ru.get("maxUnavailable"), ru.get("maxSurge")
        _int_or_percent(mu, "spec.strategy.rollingUpdate.maxUnavailable", errs)
        _int_or_percent(ms, "spec.strategy.rollingUpdate.maxSurge", errs)
        if mu in (0, "0%") and ms in (0, "0%"):
            errs.invalid("spec.strategy.rollingUpdate.maxUnavailable", _intstr_go(mu),
                         "may not be 0 when `maxSurge` is 0")
    else:
        rendered = _Go("apps.DeploymentStrategy{Type:%s, RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}"
                       % _goquote(str(typ or "")))
        errs.not_supported("spec.strategy", rendered, ["Recreate", "RollingUpdate"])


def _validate_statefulset(obj, old, errs):
    """ValidateStatefulSetSpec: a ReplicaSet's checks, and its own policies."""
    spec = obj.get("spec") or {}
    policy = spec.get("podManagementPolicy")
    if policy not in ("OrderedReady", "Parallel"):
        errs.invalid("spec.podManagementPolicy", policy or "",
                     "must be 'OrderedReady' or 'Parallel'")
    strategy = (spec.get("updateStrategy") or {}).get("type")
    if strategy not in ("RollingUpdate", "OnDelete"):
        errs.invalid("spec.updateStrategy", strategy or "", "must be 'RollingUpdate' or 'OnDelete'")
    _validate_workload(obj, old, errs, deployment=False)


def _validate_daemonset(obj, old, errs):
    """ValidateDaemonSetSpec: the selector against the template, the pod template."""
    spec = dict(obj.get("spec") or {})
    spec.pop("replicas", None)
    _validate_workload(dict(obj, spec=spec), old, errs, deployment=False)


def _validate_deployment(obj, old, errs):
    _validate_workload(obj, old, errs, deployment=True)


def _validate_replicaset(obj, old, errs):
    _validate_workload(obj, old, errs, deployment=False)


def _validate_replicationcontroller(obj, old, errs):
    """pkg/apis/core/validation ValidateReplicationControllerSpec: a map selector that may not
    be empty and must match the template's labels, a template whose pods always restart.
    Unlike apps' workloads, the selector may change on update."""
    spec = obj.get("spec") or {}
    _min_ready(spec.get("minReadySeconds", 0) or 0, errs)
    selector = spec.get("selector")
    if not selector:                                   # ValidateNonEmptySelector
        errs.required("spec.selector")
    replicas = spec.get("replicas", 0)
    if isinstance(replicas, int) and replicas < 0:
        errs.invalid("spec.replicas", replicas, "must be greater than or equal to 0")
    tmpl = spec.get("template")
    if tmpl is None:                                   # ValidatePodTemplateSpecForRC
        errs.required("spec.template")
        return
    tmeta = tmpl.get("metadata") or {}
    labels = tmeta.get("labels") or {}
    if isinstance(selector, dict) and selector and any(labels.get(k) != v for k, v in selector.items()):
        errs.invalid("spec.template.metadata.labels", _gomap(tmeta.get("labels")),
                     "`selector` does not match template `labels`")
    _labels(tmeta.get("labels"), "spec.template.labels", errs)
    _annotations(tmeta.get("annotations"), "spec.template.annotations", errs)
    tspec = tmpl.get("spec") or {}
    _pod_spec(tspec, "spec.template.spec", errs)
    if tspec.get("restartPolicy") != "Always":
        errs.not_supported("spec.template.spec.restartPolicy", tspec.get("restartPolicy") or "", ["Always"])
    if tspec.get("activeDeadlineSeconds") is not None:
        errs.forbidden("spec.template.spec.activeDeadlineSeconds",
                       "activeDeadlineSeconds in ReplicationController is not Supported")
