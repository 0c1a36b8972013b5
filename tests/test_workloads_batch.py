"""Jobs and CronJobs as kube-controller-manager runs them (pkg/controller/job,
pkg/controller/cronjob), through kubectl and the official client over the sandbox's
sockets. A pod's outcome is written to its status as a kubelet would (the phase), so the
Job controller is tested apart from how containers end."""
from __future__ import annotations

import json

import pytest

from labkit.sandbox.validation._cron import schedule_error

from .conftest import wait_for


def _job(kubectl, namespace, name):
    return json.loads(kubectl("get", "job", name, "-n", namespace, "-o", "json").stdout)


def _pods(core, namespace, job):
    return sorted(core.list_namespaced_pod(namespace, label_selector=f"job-name={job}").items,
                  key=lambda p: p.metadata.name)


def _end(core, namespace, pod, phase):
    """What a kubelet reports when the pod's containers exit."""
    code = 0 if phase == "Succeeded" else 1
    core.patch_namespaced_pod_status(pod.metadata.name, namespace, {"status": {
        "phase": phase, "containerStatuses": [{
            "name": pod.spec.containers[0].name, "image": pod.spec.containers[0].image, "imageID": "",
            "ready": False, "restartCount": 0,
            "state": {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error"}}}]}})


def test_job_runs_completions_with_parallelism_and_completes(kubectl, api_client, namespace):
    from kubernetes import client
    core = client.CoreV1Api(api_client)
    kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps({
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "pi"},
        "spec": {"completions": 3, "parallelism": 2, "template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "pi", "image": "busybox", "command": ["sleep", "3600"]}]}}}}))
    job = _job(kubectl, namespace, "pi")
    uid = job["metadata"]["uid"]
    assert job["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    assert job["spec"]["backoffLimit"] == 6 and job["spec"]["completionMode"] == "NonIndexed"
    pods = wait_for(lambda: len(_pods(core, namespace, "pi")) == 2 and _pods(core, namespace, "pi"))
    labels = pods[0].metadata.labels
    assert labels["job-name"] == "pi" and labels["controller-uid"] == uid
    assert labels["batch.kubernetes.io/job-name"] == "pi"
    assert pods[0].metadata.owner_references[0].kind == "Job"
    assert pods[0].metadata.name.startswith("pi-")
    table = kubectl("get", "jobs", "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert table[1].split()[:3] == ["pi", "Running", "0/3"]

    _end(core, namespace, pods[0], "Succeeded")
    # One succeeded: a third pod starts, never more than parallelism at once.
    wait_for(lambda: len(_pods(core, namespace, "pi")) == 3)
    for pod in _pods(core, namespace, "pi"):
        if pod.status.phase != "Succeeded":
            _end(core, namespace, pod, "Succeeded")
    job = wait_for(lambda: (_job(kubectl, namespace, "pi").get("status") or {}).get("succeeded") == 3
                   and _job(kubectl, namespace, "pi"))
    conds = [(c["type"], c["status"], c["reason"], c["message"]) for c in job["status"]["conditions"]]
    assert conds == [("SuccessCriteriaMet", "True", "CompletionsReached", "Reached expected number of succeeded pods"),
                     ("Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods")]
    assert job["status"]["completionTime"] and "active" not in job["status"]
    assert kubectl("get", "jobs", "-n", namespace, "--no-headers").stdout.split()[:3] == ["pi", "Complete", "3/3"]
    kubectl("wait", "--for=condition=complete", "job/pi", "-n", namespace, "--timeout=10s")


def _apply_job(kubectl, namespace, name, command, **spec):
    kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps({
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
        "spec": {**spec, "template": {"spec": {
            "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox", "command": command}]}}}}))


def _conditions(kubectl, namespace, name):
    return {c["type"]: c for c in (_job(kubectl, namespace, name).get("status") or {}).get("conditions") or []}


def test_job_fails_past_its_backoff_limit(kubectl, api_client, namespace):
    from kubernetes import client
    core = client.CoreV1Api(api_client)
    _apply_job(kubectl, namespace, "flaky", ["sleep", "3600"], backoffLimit=1)
    for attempt in (1, 2):
        pods = wait_for(lambda: [p for p in _pods(core, namespace, "flaky") if p.status.phase != "Failed"])
        _end(core, namespace, pods[0], "Failed")
    wait_for(lambda: "Failed" in _conditions(kubectl, namespace, "flaky"))
    job = _job(kubectl, namespace, "flaky")
    conds = _conditions(kubectl, namespace, "flaky")
    assert list(conds) == ["FailureTarget", "Failed"]
    assert (conds["Failed"]["reason"], conds["Failed"]["message"]) == (
        "BackoffLimitExceeded", "Job has reached the specified backoff limit")
    assert job["status"]["failed"] == 2
    assert kubectl("get", "job", "flaky", "-n", namespace, "--no-headers").stdout.split()[:3] == ["flaky", "Failed", "0/1"]


def test_jobs_whose_commands_end_finish_by_themselves(kubectl, namespace):
    """The kubelet sets the phase when the command ends: true succeeds, false fails."""
    _apply_job(kubectl, namespace, "ok", ["true"], completions=3, parallelism=2)
    _apply_job(kubectl, namespace, "bad", ["false"], backoffLimit=2)
    kubectl("wait", "--for=condition=complete", "job/ok", "-n", namespace, "--timeout=20s")
    assert _job(kubectl, namespace, "ok")["status"]["succeeded"] == 3
    wait_for(lambda: "Failed" in _conditions(kubectl, namespace, "bad"), timeout=20)
    assert _job(kubectl, namespace, "bad")["status"]["failed"] == 3


def test_job_validation_in_the_api_servers_words(api_client, namespace):
    from kubernetes import client
    from kubernetes.client.rest import ApiException
    with pytest.raises(ApiException) as info:
        client.BatchV1Api(api_client).create_namespaced_job(namespace, {
            "metadata": {"name": "j"}, "spec": {"completions": -1, "template": {"spec": {
                "containers": [{"name": "c", "image": "busybox"}]}}}})
    body = json.loads(info.value.body)
    assert info.value.status == 422
    assert body["message"] == ('Job.batch "j" is invalid: [spec.completions: Invalid value: -1: must be greater '
                               'than or equal to 0, spec.template.spec.restartPolicy: Unsupported value: "Always": '
                               'supported values: "OnFailure", "Never"]')


def test_cron_schedules_parse_as_robfig_cron():
    assert schedule_error("*/5 * * * *") is None
    assert schedule_error("@hourly") is None
    assert schedule_error("0 0 * * MON-FRI") is None
    assert schedule_error("61 * * * *") == "end of range (61) above maximum (59): 61"
    assert schedule_error("* * *") == "expected exactly 5 fields, found 3: [* * *]"
    assert schedule_error("TZ=UTC * * * * *") == "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"


def test_cronjob_runs_on_the_sandbox_clock(kubectl, sandbox, namespace):
    kubectl("create", "cronjob", "tick", "--image=busybox", "--schedule=*/5 * * * *", "-n", namespace, "--",
            "sleep", "3600")
    table = kubectl("get", "cronjobs", "-n", namespace).stdout.splitlines()
    assert table[0].split() == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST", "SCHEDULE", "AGE"]
    assert table[1].split()[:8] == ["tick", "*/5", "*", "*", "*", "*", "<none>", "False"]
    assert kubectl("get", "jobs", "-n", namespace, "-o", "name").stdout == ""
    sandbox.clock.advance(301)      # past the next multiple of five minutes
    cj = wait_for(lambda: (json.loads(kubectl("get", "cj", "tick", "-n", namespace, "-o", "json").stdout)
                           .get("status") or {}).get("lastScheduleTime") and
                  json.loads(kubectl("get", "cj", "tick", "-n", namespace, "-o", "json").stdout), timeout=15)
    last = cj["status"]["lastScheduleTime"]
    assert last.endswith(":00Z") and int(last[14:16]) % 5 == 0
    job_name = cj["status"]["active"][0]["name"]
    assert job_name.startswith("tick-")
    job = _job(kubectl, namespace, job_name)
    assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    assert job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == last
    # The minute in the name is the schedule time's, as the controller names it.
    import datetime as dt
    stamp = dt.datetime.strptime(last, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    assert job_name == f"tick-{int(stamp.timestamp()) // 60}"
