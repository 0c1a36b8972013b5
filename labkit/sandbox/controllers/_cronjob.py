"""The CronJob controller (pkg/controller/cronjob/cronjob_controllerv2.go): on the sandbox
clock, a Job per schedule time (named `<cronjob>-<minutes since the epoch>`), as the
concurrencyPolicy allows; finished Jobs leave `active` and beyond the history limits are
deleted. The schedule is read in UTC (the sandbox's controller-manager zone) unless
spec.timeZone names a zone."""
from __future__ import annotations

import datetime as dt

from ...kube.objects import clone
from ..apis import _errors
from .._clock import rfc3339
from ..registry import _admission
from ..storage._store import Event
from ..validation._cron import ScheduleError, parse
from ._base import MANAGER, Controller, delete_quietly, owned_by, owner_ref, parse_time
from ._job import JOBS, finished
from ..apis._resources import by_plural

CRONJOBS = by_plural("cronjobs")
SCHEDULED_AT = "batch.kubernetes.io/cronjob-scheduled-timestamp"
# The sandbox's clock may be advanced by a lesson: look again at least this often.
RECHECK_SECONDS = 1.0
MAX_MISSED = 100


class CronJobController(Controller):
    name = "cronjob"

    def on_event(self, event: Event) -> None:
        self.mark_self_or_owner(event, "cronjobs", "jobs", "CronJob")

    def reconcile(self, key) -> None:
        ns, name = key
        cj = self.store.get_resource(CRONJOBS, ns, name)
        if cj is None or cj["metadata"].get("deletionTimestamp"):
            return
        spec = cj["spec"]
        jobs = [j for j in self.store.list_resource(JOBS, ns) if owned_by(j, cj)]
        status = clone(cj.get("status") or {})
        self._track_finished(cj, jobs, status)
        now = self.store.clock.now()
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError     # the first CronJob pays for it
        try:
            schedule = parse(spec["schedule"])
            zone = ZoneInfo(spec["timeZone"]) if spec.get("timeZone") else dt.timezone.utc
        except (ScheduleError, ZoneInfoNotFoundError, ValueError) as e:
            self.record(cj, "UnparseableSchedule", f"unparseable schedule: {spec.get('schedule')!r} : {e}",
                        "cronjob-controller", "Warning")
            return
        due = self._most_recent(cj, schedule, zone, now)
        if due is not None and not spec.get("suspend"):
            self._start(cj, jobs, status, due)
        self._trim_history(cj)
        if status != (cj.get("status") or {}):
            self.store.mutate(CRONJOBS, ns, name, lambda o: o.__setitem__("status", status))
        following = schedule.next(now.astimezone(zone))
        wait = RECHECK_SECONDS if following is None else \
            min(RECHECK_SECONDS, max(0.0, (following - now).total_seconds()))
        self.manager.later(wait, self.name, key)

    def _most_recent(self, cj: dict, schedule, zone, now: dt.datetime) -> dt.datetime | None:
        """mostRecentScheduleTime: the latest activation after the last one scheduled (or the
        CronJob's creation) up to now, None when none is due or it is past the starting deadline."""
        status = cj.get("status") or {}
        earliest = dt.datetime.fromtimestamp(parse_time(status.get("lastScheduleTime")
                                                        or cj["metadata"]["creationTimestamp"]), dt.timezone.utc)
        deadline = cj["spec"].get("startingDeadlineSeconds")
        if deadline is not None:
            earliest = max(earliest, now - dt.timedelta(seconds=deadline))
        t, latest, missed = schedule.next(earliest.astimezone(zone)), None, 0
        while t is not None and t <= now:
            latest, missed = t, missed + 1
            if missed > MAX_MISSED:
                self.record(cj, "TooManyMissedTimes",
                            "too many missed start times. Set or decrease .spec.startingDeadlineSeconds "
                            "or check clock skew", "cronjob-controller", "Warning")
                break
            t = schedule.next(t)
        return latest

    def _start(self, cj: dict, jobs: list[dict], status: dict, due: dt.datetime) -> None:
        ns = cj["metadata"]["namespace"]
        active = [j for j in jobs if not finished(j)]
        policy = cj["spec"].get("concurrencyPolicy", "Allow")
        if active and policy == "Forbid":
            self.record(cj, "JobAlreadyActive", "Not starting job because prior execution is running and "
                        "concurrency policy is Forbid", "cronjob-controller")
            return
        if active and policy == "Replace":
            for job in active:
                delete_quietly(self.store, JOBS, ns, job["metadata"]["name"])
                self.record(cj, "SuccessfulDelete", f"Deleted job {job['metadata']['name']}", "cronjob-controller")
            status["active"] = []
        template = cj["spec"]["jobTemplate"]
        meta = clone(template.get("metadata") or {})
        meta.pop("creationTimestamp", None)
        meta.update(name=f"{cj['metadata']['name']}-{int(due.timestamp()) // 60}", namespace=ns,
                    ownerReferences=[owner_ref(cj, "CronJob", "batch/v1")])
        meta.setdefault("annotations", {})[SCHEDULED_AT] = due.isoformat().replace("+00:00", "Z")
        try:
            job = self.registry.create(JOBS, ns, {"metadata": meta, "spec": clone(template["spec"])}, manager=MANAGER)
        except (_errors.ApiError, _admission.Invalid) as e:
            self.record(cj, "FailedCreate", f"Error creating job: {e}", "cronjob-controller", "Warning")
            return
        self.record(cj, "SuccessfulCreate", f"Created job {job['metadata']['name']}", "cronjob-controller")
        status.setdefault("active", []).append(
            {"apiVersion": "batch/v1", "kind": "Job", "name": job["metadata"]["name"], "namespace": ns,
             "uid": job["metadata"]["uid"], "resourceVersion": job["metadata"]["resourceVersion"]})
        status["lastScheduleTime"] = rfc3339(due)

    def _track_finished(self, cj: dict, jobs: list[dict], status: dict) -> None:
        by_uid = {j["metadata"]["uid"]: j for j in jobs}
        kept = []
        for ref in status.get("active") or []:
            job = by_uid.get(ref.get("uid"))
            outcome = finished(job) if job else None
            if job is not None and outcome is None:
                kept.append(ref)
            elif outcome:
                self.record(cj, "SawCompletedJob", f"Saw completed job: {job['metadata']['name']}, "
                            f"condition: {outcome}", "cronjob-controller")
                if outcome == "Complete" and job["status"].get("completionTime"):
                    status["lastSuccessfulTime"] = job["status"]["completionTime"]
        if kept:
            status["active"] = kept
        else:
            status.pop("active", None)

    def _trim_history(self, cj: dict) -> None:
        """cleanupFinishedJobs: the oldest finished Jobs past each history limit."""
        ns = cj["metadata"]["namespace"]
        jobs = [j for j in self.store.list_resource(JOBS, ns) if owned_by(j, cj)]
        for outcome, field in (("Complete", "successfulJobsHistoryLimit"), ("Failed", "failedJobsHistoryLimit")):
            limit = cj["spec"].get(field)
            if limit is None:
                continue
            done = sorted((j for j in jobs if finished(j) == outcome),
                          key=lambda j: ((j.get("status") or {}).get("startTime") or "", j["metadata"]["name"]))
            for job in done[:max(0, len(done) - limit)]:
                delete_quietly(self.store, JOBS, ns, job["metadata"]["name"])
                self.record(cj, "SuccessfulDelete", f"Deleted job {job['metadata']['name']}", "cronjob-controller")
