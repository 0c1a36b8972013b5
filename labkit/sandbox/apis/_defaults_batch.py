"""Defaults of the batch kinds: pkg/apis/batch/v1/defaults.go SetDefaults_Job and
SetDefaults_CronJob, and the selector the Job registry strategy generates
(pkg/registry/batch/job/strategy.go generateSelector)."""
from __future__ import annotations

JOB_NAME, CONTROLLER_UID = "batch.kubernetes.io/job-name", "batch.kubernetes.io/controller-uid"


def default_job_spec(spec: dict, labels_owner: dict | None) -> None:
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    if spec.get("parallelism") is None:
        spec["parallelism"] = 1
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = 2147483647 if spec.get("backoffLimitPerIndex") is not None else 6
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    if spec.get("podReplacementPolicy") is None and spec.get("podFailurePolicy") is None:
        spec["podReplacementPolicy"] = "TerminatingOrFailed"
    if spec.get("manualSelector") is None:
        spec.pop("manualSelector", None)
    tmpl_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels")
    if labels_owner is not None and tmpl_labels and not labels_owner.get("labels"):
        labels_owner["labels"] = dict(tmpl_labels)


def default_job(job: dict, config, old, default_template) -> None:
    spec = job.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    default_template(job)
    default_job_spec(spec, job.setdefault("metadata", {}))


def default_cronjob(cj: dict, config, old, default_template) -> None:
    spec = cj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    jt = spec.setdefault("jobTemplate", {})
    if isinstance(jt, dict):
        jt.setdefault("metadata", {}).setdefault("creationTimestamp", None)
        jspec = jt.setdefault("spec", {})
        if isinstance(jspec, dict):
            default_template(jt)
            default_job_spec(jspec, None)


def generate_job_selector(job: dict) -> None:
    """Without manualSelector, the strategy labels the template with the Job's name and
    uid (the batch.kubernetes.io/ keys and the legacy bare ones) and selects on the uid."""
    spec = job.get("spec")
    if not isinstance(spec, dict) or spec.get("manualSelector"):
        return
    meta = job["metadata"]
    uid, name = meta["uid"], meta.get("name", "")
    tmpl = spec.setdefault("template", {})
    labels = tmpl.setdefault("metadata", {}).setdefault("labels", {})
    if not isinstance(labels, dict):
        return
    labels.setdefault(CONTROLLER_UID, uid)
    labels.setdefault(JOB_NAME, name)
    labels.setdefault("controller-uid", uid)
    labels.setdefault("job-name", name)
    if spec.get("selector") is None:
        spec["selector"] = {"matchLabels": {CONTROLLER_UID: uid}}
