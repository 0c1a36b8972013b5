"""The Job controller (pkg/controller/job/job_controller.go): pods from the template until
`completions` pods have Succeeded, at most `parallelism` at once; the Job Failed once more
than `backoffLimit` pods have; counts and conditions written as the real controller writes
them. A pod's outcome is its phase, which the kubelet sets when its command ends."""
from __future__ import annotations

from typing import Iterator

from ...kube.objects import clone
from .._clock import rfc3339
from ..storage._store import Event
from ...kube.readiness import pod_ready
from ._base import PODS, Controller, delete_quietly, owned_by, pod_from_template
from ..apis._resources import by_plural

JOBS = by_plural("jobs")
COMPLETE_MESSAGE = "Reached expected number of succeeded pods"
BACKOFF_MESSAGE = "Job has reached the specified backoff limit"


def finished(job: dict) -> str | None:
    """"Complete" or "Failed" once the Job has that condition (IsJobFinished)."""
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") in ("Complete", "Failed") and c.get("status") == "True":
            return c["type"]
    return None


class JobController(Controller):
    name = "job"

    def on_event(self, event: Event) -> None:
        self.mark_self_or_owner(event, "jobs", "pods", "Job")

    def reconcile(self, key) -> Iterator[None] | None:
        ns, name = key
        job = self.store.get_resource(JOBS, ns, name)
        if job is None or job["metadata"].get("deletionTimestamp") or finished(job):
            return
        spec = job["spec"]
        pods = [p for p in self.store.list_resource(PODS, ns) if owned_by(p, job)]
        phase = lambda p: (p.get("status") or {}).get("phase")     # noqa: E731
        succeeded = sum(1 for p in pods if phase(p) == "Succeeded")
        failed = sum(1 for p in pods if phase(p) == "Failed")
        active = [p for p in pods if phase(p) not in ("Succeeded", "Failed")
                  and not p["metadata"].get("deletionTimestamp")]
        now = rfc3339(self.store.clock.now())
        status = clone(job.get("status") or {})
        conditions = list(status.get("conditions") or [])
        completions = spec.get("completions")
        parallelism = spec.get("parallelism", 1)
        suspended = spec.get("suspend")
        event = None
        if failed > spec.get("backoffLimit", 6):
            # The FailureTarget condition first, then Failed once no pod is left running
            # (both at once here: the active pods are deleted right away).
            for p in active:
                delete_quietly(self.store, PODS, ns, p["metadata"]["name"])
            active = []
            for type_ in ("FailureTarget", "Failed"):
                conditions.append(_condition(type_, "BackoffLimitExceeded", BACKOFF_MESSAGE, now))
            event = ("BackoffLimitExceeded", BACKOFF_MESSAGE, "Warning")
        elif (completions is not None and succeeded >= completions) or (
                completions is None and succeeded > 0 and not active):
            for type_ in ("SuccessCriteriaMet", "Complete"):
                conditions.append(_condition(type_, "CompletionsReached", COMPLETE_MESSAGE, now))
            status["completionTime"] = now
            event = ("Completed", "Job completed", "Normal")
        elif not suspended:
            want = parallelism if completions is None else min(parallelism, completions - succeeded)
            if completions is None and succeeded > 0:
                want = 0          # a work queue: once one pod succeeded, no more are made
            missing = want - len(active)
            for _ in range(max(0, missing)):
                created = self._create_pod(job)
                if created is None:
                    break
                active.append(created)
            for p in sorted(active, key=lambda p: p["metadata"]["name"])[max(0, want):] if missing < 0 else []:
                delete_quietly(self.store, PODS, ns, p["metadata"]["name"])
                active.remove(p)
        if not suspended:
            status.setdefault("startTime", now)
        status.update(active=len(active), succeeded=succeeded, failed=failed,
                      ready=sum(1 for p in active if pod_ready(p)), terminating=0,
                      uncountedTerminatedPods={})
        for field in ("active", "succeeded", "failed"):
            if not status[field]:
                del status[field]
        if conditions:
            status["conditions"] = conditions
        if status != (job.get("status") or {}):
            self.store.mutate(JOBS, ns, name, lambda o: o.__setitem__("status", status))
        if event:
            self.record(job, event[0], event[1], "job-controller", event[2])

    def _create_pod(self, job: dict) -> dict | None:
        return self.create_pod(job, pod_from_template(job["spec"]["template"], job, "Job", "batch/v1"),
                               "job-controller")


def _condition(type_: str, reason: str, message: str, now: str) -> dict:
    return {"type": type_, "status": "True", "reason": reason, "message": message,
            "lastProbeTime": now, "lastTransitionTime": now}
