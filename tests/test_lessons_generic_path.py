"""Every lesson, top to bottom, on the generic-cluster path, and under a workshop prefix.

A fresh seeded sandbox reached through a kubeconfig context of another name (as kind names
its clusters), so labkit treats it as any cluster: only the Kubernetes API, no DNS query
log, clock or cache of the sandbox's own. Each lesson runs in a kernel of its own, in
course order, and fails on any error output or anything written to stderr. The same check
runs alone with `python scripts/run_notebooks.py --generic`.

Under a workshop prefix (`LABKIT_NAMESPACE_PREFIX=alice`, on the sandbox) every name a lesson
shows or probes must come from `lab` (`alice-default`, not `default`), and labkit must leave
kube-system alone: the same check, on a second fresh sandbox.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _runner():
    spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "scripts" / "run_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RUNNER = _runner()
LESSONS = RUNNER._build().lessons()


@pytest.fixture(scope="module")
def generic_env():
    with RUNNER.sandbox_session(generic=True) as env:
        yield env


@pytest.mark.timeout(600)
@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_on_the_generic_cluster_path(generic_env, lesson):
    assert generic_env["LABKIT_BACKEND"] == "cluster"
    with RUNNER.environ(generic_env):
        nb = RUNNER.run(lesson)
    assert RUNNER.error_outputs(nb) == []


@pytest.fixture(scope="module")
def workshop_env():
    with RUNNER.sandbox_session() as env:
        env["LABKIT_NAMESPACE_PREFIX"] = "alice"
        yield env


@pytest.mark.timeout(600)
@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_under_a_workshop_prefix(workshop_env, lesson):
    with RUNNER.environ(workshop_env):
        nb = RUNNER.run(lesson)
    assert RUNNER.error_outputs(nb) == []
