"""The lessons' shape: names that sort, the same bookends, generated parts current, outputs
committed from a run that reached the bottom. (nbval re-runs them: see notebooks/conftest.py.)
"""
from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbval.plugin import get_sanitize_patterns

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SCRIPT = ROOT / "scripts" / "build_notebooks.py"
BOOKENDS = ["What you'll do", "What you'll learn", "What you'll need",
            "Key points", "On your own", "In practice", "Further reading"]


def _load_build():
    spec = importlib.util.spec_from_file_location("build_notebooks", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build()
LESSONS = build.lessons()


def _headings(nb) -> list[str]:
    return [line[3:].strip().replace("\u2019", "'") for c in nb.cells if c.cell_type == "markdown"
            for line in c.source.splitlines() if line.startswith("## ")]


def _code(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


# --- the committed course ----------------------------------------------------------------

def test_notebooks_are_numbered_lessons_plus_the_index():
    names = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert "index.ipynb" in names
    lessons = [n for n in names if n != "index.ipynb"]
    bad = [n for n in lessons if not build.LESSON_NAME.match(n)]
    assert not bad, f"not NN-short-title.ipynb: {bad}"
    numbers = [int(n[:2]) for n in lessons]
    assert numbers == list(range(len(numbers))), f"numbers must run 00, 01, ... without gaps: {lessons}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lesson_has_the_bookends_in_order(path):
    nb = nbformat.read(path, as_version=4)
    headings = _headings(nb)
    missing = [b for b in BOOKENDS if b not in headings]
    assert not missing, f"missing '## {missing[0]}'"
    assert [h for h in headings if h in BOOKENDS] == BOOKENDS, headings
    assert nb.cells[1].source.startswith("# "), "the first cell after the navigation is the title"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lesson_was_run_top_to_bottom_without_errors(path):
    nb = nbformat.read(path, as_version=4)
    counts = [c.execution_count for c in _code(nb)]
    assert None not in counts, "unexecuted cells: run scripts/run_notebooks.py"
    assert counts == list(range(1, len(counts) + 1)), f"not one run, in order: {counts}"
    for cell in _code(nb):
        for out in cell.outputs:
            assert out.output_type != "error", f"cell {cell.id} raised {out.ename}: {out.evalue}"
            assert not (out.output_type == "stream" and out.name == "stderr"
                        and "Traceback" in out.text), f"cell {cell.id} printed a traceback"
    assert nb.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_solutions_are_hidden_and_checked(path):
    nb = nbformat.read(path, as_version=4)
    cells = nb.cells
    for i, cell in enumerate(cells):
        if "solution" in build.tags(cell):
            assert cell.metadata["jupyter"] == {"source_hidden": True, "outputs_hidden": True}
            assert "exercise" in build.tags(cells[i - 1]), "each solution follows its exercise cell"
            assert "check" in build.tags(cells[i + 1]), "each solution is followed by a check cell"


def test_setup_lesson_fails_fast_on_old_python():
    nb = nbformat.read(NOTEBOOKS / "00-setup.ipynb", as_version=4)
    first = _code(nb)[0]
    assert "sys.version_info < (3, 11)" in first.source and "raise" in first.source
    assert "labkit.connect()" in _code(nb)[1].source


def test_navigation_exercises_and_index_are_current():
    proc = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


# --- scripts/build_notebooks.py on a scratch course --------------------------------------

def _lesson(title: str, learn: str, *extra) -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_markdown_cell(f"# {title}", id="t"),
             nbformat.v4.new_markdown_cell(f"## What you’ll learn\n\n* {learn}\n\n## What you'll need", id="l"),
             *extra]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture
def course(tmp_path):
    solution = nbformat.v4.new_code_cell("# Store the answer in `x`.\n# solution\nx = 42", id="sol")
    solution.metadata["tags"] = ["solution"]
    solution.execution_count, solution.outputs = 3, [nbformat.v4.new_output("stream", text="42\n")]
    nbformat.write(_lesson("Setup", "connecting", solution), tmp_path / "00-setup.ipynb")
    nbformat.write(_lesson("Pods", "pods"), tmp_path / "01-pods.ipynb")
    nbformat.write(_lesson("Services", "services"), tmp_path / "02-services.ipynb")
    assert build.main(["--notebooks", str(tmp_path)]) == 0
    return tmp_path


def test_navigation_links_previous_contents_next(course):
    nb = nbformat.read(course / "01-pods.ipynb", as_version=4)
    expected = ("< [00 Setup](00-setup.ipynb) | [Contents](index.ipynb) | "
                "[02 Services](02-services.ipynb) >")
    assert nb.cells[0].source == expected == nb.cells[-1].source
    assert build.tags(nb.cells[0]) == ["navigation"]
    first = nbformat.read(course / "00-setup.ipynb", as_version=4)
    assert first.cells[0].source == "[Contents](index.ipynb) | [01 Pods](01-pods.ipynb) >"
    last = nbformat.read(course / "02-services.ipynb", as_version=4)
    assert last.cells[-1].source == "< [01 Pods](01-pods.ipynb) | [Contents](index.ipynb)"


def test_index_lists_lessons_with_what_they_teach(course):
    text = "\n".join(c.source for c in nbformat.read(course / "index.ipynb", as_version=4).cells)
    assert "## [00 Setup](00-setup.ipynb)\n\n* connecting" in text
    assert text.index("01 Pods") < text.index("02 Services")


def test_exercise_is_generated_from_its_solution(course):
    cells = nbformat.read(course / "00-setup.ipynb", as_version=4).cells
    i = next(i for i, c in enumerate(cells) if c.id == "sol")
    exercise, solution = cells[i - 1], cells[i]
    assert exercise.source == "# Store the answer in `x`.\n# Write your code here."
    assert build.tags(exercise) == ["exercise"]
    assert solution.metadata["jupyter"] == {"source_hidden": True, "outputs_hidden": True}
    assert solution.outputs[0].text == "42\n" and solution.execution_count == 3, "outputs are kept"


def test_check_is_clean_after_a_build_and_names_what_went_stale(course, capsys):
    assert build.main(["--check", "--notebooks", str(course)]) == 0
    path = course / "02-services.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source = "# Services and DNS"              # a retitled lesson
    nbformat.write(nb, path)
    assert build.main(["--check", "--notebooks", str(course)]) == 1
    err = capsys.readouterr().err
    assert "stale: " in err and "01-pods.ipynb" in err and "index.ipynb" in err
    assert "00-setup.ipynb" not in err                     # its neighbours did not change
    build.main(["--notebooks", str(course)])
    assert "[02 Services and DNS](02-services.ipynb) >" in \
        nbformat.read(course / "01-pods.ipynb", as_version=4).cells[0].source


def test_running_an_exercise_cell_does_not_make_it_stale(course):
    path = course / "00-setup.ipynb"
    nb = nbformat.read(path, as_version=4)
    exercise = next(c for c in nb.cells if "exercise" in build.tags(c))
    exercise.execution_count = 2
    path.write_text(build.text_of(nb), encoding="utf-8")
    assert build.main(["--check", "--notebooks", str(course)]) == 0


def test_a_solution_without_its_marker_is_refused(course):
    path = course / "01-pods.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = nbformat.v4.new_code_cell("x = 1", id="bare")
    cell.metadata["tags"] = ["solution"]
    nb.cells.insert(2, cell)
    nbformat.write(nb, path)
    with pytest.raises(ValueError, match="# solution"):
        build.main(["--check", "--notebooks", str(course)])


# --- notebooks/sanitize.cfg, through nbval's own parser -------------------------------------

def _sanitize(text: str) -> str:
    for regex, replace in get_sanitize_patterns((NOTEBOOKS / "sanitize.cfg").read_text()):
        text = re.sub(regex, replace, text)
    return text


def test_sanitize_absorbs_what_differs_between_runs():
    run1 = """labkit: using the embedded sandbox (https://127.0.0.1:41473); set LABKIT_BACKEND=cluster
NAME                                READY   STATUS    RESTARTS   AGE   IP             NODE
nginx-deployment-5d8b9c7f4-x2q9z    1/1     Running   0          45s   10.10.100.37   lab-worker
64 bytes from 10-10-100-37.web-svc.default.svc.cluster.local (10.10.100.37): icmp_seq=1 ttl=64 time=0.045 ms
rtt min/avg/max/mdev = 0.040/0.045/0.050/0.004 ms
;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 4242
;; Query time: 3 msec
;; WHEN: Tue Nov 25 21:51:00 UTC 2025
Date: Tue, 25 Nov 2025 21:51:00 GMT
uid 0b6f3c1e-2d4a-4e8b-9c1d-7a5e3f2b1c0d created 2025-11-25T21:51:00Z
kubeconfig: /tmp/labkit-notebooks-abc/sandbox/kubeconfig
python     3.11.7"""
    run2 = """labkit: using the embedded sandbox (https://127.0.0.1:6443); set LABKIT_BACKEND=cluster
NAME                                READY   STATUS    RESTARTS   AGE   IP             NODE
nginx-deployment-6c9f8d7b5-kq4rt    1/1     Running   0          2m5s   10.10.100.12   lab-worker
64 bytes from 10-10-100-12.web-svc.default.svc.cluster.local (10.10.100.12): icmp_seq=1 ttl=64 time=1.2 ms
rtt min/avg/max/mdev = 1.000/1.200/1.400/0.100 ms
;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 17
;; Query time: 0 msec
;; WHEN: Wed Nov 26 08:00:59 UTC 2025
Date: Wed, 26 Nov 2025 08:00:59 GMT
uid 9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d created 2025-11-26T08:00:59Z
kubeconfig: /home/jovyan/.labkit/sandbox/kubeconfig
python     3.12.1"""
    assert run1 != run2
    assert _sanitize(run1).split() == _sanitize(run2).split()


def test_sanitize_keeps_what_the_lessons_teach():
    kept = ("web-svc.default.svc.cluster.local nameserver 10.0.0.10 search default.svc.cluster.local "
            "options ndots:5 status: NXDOMAIN lab-worker2 web-clusterip 10.0.0.1 NOERROR client")
    assert _sanitize(kept) == kept
    # Column padding is not what a lesson teaches: tables compare equal whatever their widths.
    assert _sanitize("0  web  10.10.100.5") == _sanitize("0  web   10.10.100.105")
    assert _sanitize("NXDOMAIN") != _sanitize("NOERROR")
