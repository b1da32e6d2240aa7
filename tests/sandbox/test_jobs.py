"""Jobs run their pods to completion, and CronJobs start Jobs on their schedule in sandbox time."""

from __future__ import annotations

from kubernetes import client

from .conftest import wait_until


def job(name: str, command: list[str], **spec) -> dict:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [
                {"name": "c", "image": "busybox", "command": command}]}}, **spec}}


def condition(obj, type_: str):
    return next((c for c in (obj.status.conditions or []) if c.type == type_ and c.status == "True"), None)


def test_a_job_runs_pods_to_its_completions_at_its_parallelism(api, core, sandbox):
    batch = client.BatchV1Api(api)
    batch.create_namespaced_job("default", job("count", ["sh", "-c", "echo done"], completions=3, parallelism=2))
    done = wait_until(batch.list_namespaced_job, lambda j: condition(j, "Complete") is not None, "default")
    assert (done.status.succeeded, done.status.failed, done.status.active) == (3, None, None)
    assert done.status.completion_time is not None and done.status.start_time is not None
    pods = core.list_namespaced_pod("default", label_selector="job-name=count").items
    assert len(pods) == 3 and {p.status.phase for p in pods} == {"Succeeded"}
    assert all(not p.metadata.finalizers for p in pods), "counted, so the tracking finalizer is gone"
    messages = [e.message for e in core.list_namespaced_event("default").items if e.involved_object.name == "count"]
    assert "Job completed" in messages and sum(m.startswith("Created pod: count-") for m in messages) == 3
    assert sandbox.wait_idle(10)


def test_a_failing_job_stops_after_its_backoff_limit(api, core):
    batch = client.BatchV1Api(api)
    batch.create_namespaced_job("default", job("flaky", ["sh", "-c", "exit 1"], backoffLimit=1))
    failed = wait_until(batch.list_namespaced_job, lambda j: condition(j, "Failed") is not None, "default")
    cond = condition(failed, "Failed")
    assert (cond.reason, cond.message) == ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
    assert failed.status.failed == 2 and not failed.status.succeeded


def test_a_cronjob_starts_a_job_at_its_next_schedule_time(api, core):
    batch = client.BatchV1Api(api)
    batch.create_namespaced_cron_job("default", {
        "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "tick"},
        "spec": {"schedule": "*/1 * * * *", "jobTemplate": {"spec": {"template": {"spec": {
            "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox", "command": ["echo", "tick"]}]}}}}}})
    first = wait_until(batch.list_namespaced_job, lambda j: j.metadata.name.startswith("tick-"), "default")
    minutes = int(first.metadata.name.split("-")[1])
    # no second run: the waits below would otherwise let simulated time reach the next minute
    # (a watch the test has not closed yet still counts as somebody waiting)
    batch.patch_namespaced_cron_job("tick", "default", {"spec": {"suspend": True}})
    assert first.metadata.owner_references[0].kind == "CronJob"
    assert first.metadata.annotations is None or "batch.kubernetes.io/cronjob-scheduled-timestamp" not in \
        first.metadata.annotations, "the annotation comes with 1.28"
    wait_until(batch.list_namespaced_job, lambda j: j.metadata.name == first.metadata.name and
               condition(j, "Complete") is not None, "default")
    cj = wait_until(batch.list_namespaced_cron_job, lambda c: c.status.last_successful_time is not None, "default")
    assert int(cj.status.last_schedule_time.timestamp() // 60) == minutes


def test_deleting_a_running_job_takes_its_pods_with_it(api, core, sandbox):
    batch = client.BatchV1Api(api)
    batch.create_namespaced_job("default", job("long", ["sleep", "3600"]))
    pod = wait_until(core.list_namespaced_pod, lambda p: p.status.phase == "Running", "default",
                     label_selector="job-name=long")
    assert pod.metadata.finalizers == ["batch.kubernetes.io/job-tracking"]
    batch.delete_namespaced_job("long", "default", propagation_policy="Background")
    assert sandbox.wait_idle(30)
    assert not core.list_namespaced_pod("default", label_selector="job-name=long").items
