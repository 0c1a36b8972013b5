"""Job and CronJob validation (pkg/apis/batch/validation): counts, the selector against
the template's labels, the pod template with restartPolicy OnFailure or Never, and a
CronJob's schedule as robfig/cron's standard parser reads it."""
from __future__ import annotations

from ._field_errors import _Errors, _gomap
from ._labels import _annotations, _labels, _selector, _selector_matches
from ._pods import _pod_spec
from ._cron import schedule_error


def _nonnegative(spec: dict, field: str, path: str, errs: _Errors) -> None:
    value = spec.get(field)
    if isinstance(value, int) and value < 0:
        errs.invalid(f"{path}.{field}", value, "must be greater than or equal to 0")


def _job_spec(spec: dict, path: str, errs: _Errors, *, selector_required: bool = True) -> None:
    for field in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit",
                  "ttlSecondsAfterFinished"):
        _nonnegative(spec, field, path, errs)
    if isinstance(spec.get("activeDeadlineSeconds"), int) and spec["activeDeadlineSeconds"] == 0:
        errs.invalid(f"{path}.activeDeadlineSeconds", 0, "must be greater than 0")
    sel = spec.get("selector")
    tmpl = spec.get("template") or {}
    tmeta = tmpl.get("metadata") or {}
    if sel is None:
        if selector_required:
            errs.required(f"{path}.selector")
    else:
        _selector(sel, f"{path}.selector", errs)
        if not _selector_matches(sel, tmeta.get("labels") or {}):
            errs.invalid(f"{path}.template.metadata.labels", _gomap(tmeta.get("labels")),
                         "`selector` does not match template `labels`")
    _labels(tmeta.get("labels"), f"{path}.template.labels", errs)
    _annotations(tmeta.get("annotations"), f"{path}.template.annotations", errs)
    tspec = tmpl.get("spec") or {}
    _pod_spec(tspec, f"{path}.template.spec", errs)
    if tspec.get("restartPolicy") not in ("OnFailure", "Never"):
        errs.not_supported(f"{path}.template.spec.restartPolicy", tspec.get("restartPolicy") or "",
                           ["OnFailure", "Never"])
    mode = spec.get("completionMode")
    if mode not in (None, "NonIndexed", "Indexed"):
        errs.not_supported(f"{path}.completionMode", mode, ["NonIndexed", "Indexed"])
    if mode == "Indexed" and spec.get("completions") is None:
        errs.required(f"{path}.completions", "when completion mode is Indexed")


def _validate_job(obj: dict, old: dict | None, errs: _Errors) -> None:
    spec = obj.get("spec") or {}
    _job_spec(spec, "spec", errs)
    if old is not None:
        old_spec = old.get("spec") or {}
        # ValidateJobSpecUpdate: what a running Job may not change.
        for field in ("completions", "selector", "completionMode"):
            if field == "completions" and spec.get("completionMode") == "Indexed":
                continue
            if spec.get(field) != old_spec.get(field):
                errs.invalid(f"spec.{field}", spec.get(field), "field is immutable")
        if spec.get("template") != old_spec.get("template") and not old_spec.get("suspend"):
            errs.invalid("spec.template", "", "field is immutable")


def _validate_cronjob(obj: dict, old: dict | None, errs: _Errors) -> None:
    spec = obj.get("spec") or {}
    schedule = spec.get("schedule")
    if not schedule:
        errs.required("spec.schedule")
    else:
        problem = schedule_error(schedule)
        if problem:
            errs.invalid("spec.schedule", schedule, problem)
    policy = spec.get("concurrencyPolicy")
    if policy not in ("Allow", "Forbid", "Replace"):
        errs.not_supported("spec.concurrencyPolicy", policy or "", ["Allow", "Forbid", "Replace"])
    for field in ("startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        _nonnegative(spec, field, "spec", errs)
    jt = spec.get("jobTemplate") or {}
    _job_spec(jt.get("spec") or {}, "spec.jobTemplate.spec", errs, selector_required=False)
