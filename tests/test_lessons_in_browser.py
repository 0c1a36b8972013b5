"""Every lesson run in JupyterLab in a real headless Chromium, as a learner runs it.

`scripts/browser_lessons.py` (also alone: `.venv/bin/python scripts/browser_lessons.py`) opens
each lesson from JupyterLab's file browser, chooses Run > Run All Cells, and reads the page:
any stderr or error output, "Error displaying widget", a widget that did not render, or a
figure that did not load fails the lesson. A screenshot per lesson goes to
`artifacts/browser/NN.png`. A notebook made here, broken on purpose in each of those ways,
runs last and must be caught, so a checker that sees nothing cannot pass.

Skipped, with the reason, where the playwright package or a Chromium is missing
(`make system-tools` installs Debian's chromium as root).
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _checker():
    spec = importlib.util.spec_from_file_location("browser_lessons", ROOT / "scripts" / "browser_lessons.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module             # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


BROWSER = _checker()
LESSONS = BROWSER._load("build_notebooks").lessons()
SELFTEST = "98-broken-on-purpose.ipynb"
NO_KERNEL = "99-no-kernel.ipynb"


# ---- the reading of a page, without a browser ------------------------------------------------

def _view(*cells, status="idle"):
    blank = {"prompt": "", "stderr": [], "widgetErrors": [], "widgets": 0, "images": []}
    return {"status": status, "cells": [{**blank, **cell} for cell in cells]}


def _want(code=True, widgets=0, images=0):
    return {"code": code, "widgets": widgets, "images": images}


def test_a_clean_page_has_no_problems():
    view = _view({"prompt": "[1]:", "widgets": 1, "images": [{"complete": True, "width": 640, "height": 480}]},
                 {"prompt": ""})
    assert BROWSER.problems_of(view, [_want(widgets=1, images=1), _want(code=False)]) == []


def test_each_kind_of_problem_is_named_with_its_cell():
    view = _view({"prompt": "[1]:", "stderr": ["Traceback ... ZeroDivisionError"]},
                 {"prompt": "[2]:", "widgetErrors": ["Error displaying widget: model not found"]},
                 {"prompt": "[3]:", "widgets": 0},
                 {"prompt": "[4]:", "images": [{"complete": True, "width": 0, "height": 0}]},
                 {"prompt": "[ ]:"})
    problems = BROWSER.problems_of(view, [_want(), _want(widgets=1), _want(widgets=1), _want(images=1), _want()])
    assert problems == [
        "cell 1: stderr or error output: Traceback ... ZeroDivisionError",
        "cell 2: Error displaying widget: model not found",
        "cell 2: 1 widget view(s) expected, 0 rendered",
        "cell 3: 1 widget view(s) expected, 0 rendered",
        "cell 4: 1 figure(s) did not load",
        "cell 4: 1 figure(s) expected, 0 shown",
        "cell 5: did not run (prompt '[ ]:')",
    ]


def test_expectations_come_from_the_committed_outputs():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# title"),
        nbformat.v4.new_code_cell("w", outputs=[nbformat.v4.new_output(
            "display_data", {"application/vnd.jupyter.widget-view+json": {"model_id": "m"}, "text/plain": "W"})]),
        nbformat.v4.new_code_cell("fig", outputs=[nbformat.v4.new_output("display_data", {"image/png": "iVBO"})]),
        nbformat.v4.new_code_cell("   "),
        nbformat.v4.new_code_cell("solution", metadata={"jupyter": {"source_hidden": True}}),
    ])
    assert BROWSER.expectations(nb) == [
        _want(code=False), _want(widgets=1), _want(images=1), _want(code=False), _want(code=False)]


def test_a_committed_progress_bar_is_not_expected():
    # labkit shows one only while a wait lasts over a second: a faster run never draws it.
    bar = nbformat.v4.new_output("display_data", {"application/vnd.jupyter.widget-view+json": {"model_id": "p"},
                                                  "text/plain": "IntProgress(value=0, description='ready: ', max=5)"})
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("lab.apply(...)", outputs=[bar])])
    assert BROWSER.expectations(nb) == [_want(widgets=0)]


def test_the_browser_runs_a_cleared_copy(tmp_path):
    copy, = BROWSER.cleared_copy(LESSONS[1:2], tmp_path)
    assert copy.parent == tmp_path / "notebooks" and (tmp_path / "manifests").is_dir()
    code = [c for c in nbformat.read(copy, as_version=4).cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    assert any(c.get("outputs") for c in nbformat.read(LESSONS[1], as_version=4).cells)


def test_without_a_chromium_the_check_says_why(monkeypatch):
    monkeypatch.setattr(BROWSER, "CHROMIUM_NAMES", ("no-such-chromium", "/nonexistent/chromium"))
    monkeypatch.delenv("LABKIT_CHROMIUM", raising=False)
    assert BROWSER.chromium_path() is None
    assert "no Chromium found" in BROWSER.unavailable()


# ---- the real thing ----------------------------------------------------------------------------

def _broken_on_purpose(folder: Path) -> Path:
    """A notebook with one of each failure, and one widget and one figure that must show.

    Its outputs say what a good run shows (a widget in cell 4, a figure in cell 5), as a
    lesson's committed outputs do.
    """
    widget = {"application/vnd.jupyter.widget-view+json": {"model_id": "x", "version_major": 2, "version_minor": 0},
              "text/plain": "IntSlider()"}
    figure = {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}
    cells = [
        nbformat.v4.new_code_cell('import sys\nprint("a warning", file=sys.stderr)'),
        nbformat.v4.new_code_cell(
            'from IPython.display import display\n'
            'display({"application/vnd.jupyter.widget-view+json":'
            ' {"model_id": "no-such-model", "version_major": 2, "version_minor": 0}, "text/plain": "gone"}, raw=True)'),
        nbformat.v4.new_code_cell(
            'from IPython.display import Image\nImage(data=b"\\x89PNG\\r\\n\\x1a\\n not a picture", format="png")'),
        nbformat.v4.new_code_cell("import ipywidgets\nipywidgets.IntSlider(description='fine')",
                                  outputs=[nbformat.v4.new_output("display_data", widget)]),
        nbformat.v4.new_code_cell(
            "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()",
            outputs=[nbformat.v4.new_output("display_data", figure)]),
        nbformat.v4.new_code_cell("1 / 0"),
    ]
    path = folder / SELFTEST
    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}}
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata=kernel), path)
    return path


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    if reason := BROWSER.unavailable():
        pytest.skip(f"no browser to run the lessons in: {reason}")
    folder = tmp_path_factory.mktemp("selftest")
    broken = _broken_on_purpose(folder)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), folder / NO_KERNEL)
    results = BROWSER.run_course([*LESSONS, broken, folder / NO_KERNEL], BROWSER.ARTIFACTS)
    return {r.lesson: r for r in results}


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_in_jupyterlab(course, lesson):
    result = course[lesson.name]
    assert result.problems == [], f"{lesson.name} in the browser:\n" + "\n".join(result.problems)
    assert result.cells_run == sum(c["code"] for c in BROWSER.expectations(nbformat.read(lesson, as_version=4)))
    assert result.screenshot.stat().st_size > 0


@pytest.mark.timeout(1800)
def test_a_dialog_that_stops_the_learner_fails_the_lesson(course):
    # A notebook that names no kernel: JupyterLab asks which one, as it would ask a learner.
    problems = course[NO_KERNEL].problems
    assert len(problems) == 1 and problems[0].startswith("a dialog stopped the lesson:"), problems
    assert "kernel" in problems[0].lower(), problems


@pytest.mark.timeout(1800)
def test_the_browser_check_catches_each_failure(course):
    problems = course[SELFTEST].problems
    assert [p for p in problems if p.startswith("cell 1:")] == ["cell 1: stderr or error output: a warning"]
    assert [p for p in problems if p.startswith("cell 2:")] == ["cell 2: Error displaying widget: model not found"]
    assert "cell 3: 1 figure(s) did not load" in problems
    assert not [p for p in problems if p.startswith(("cell 4:", "cell 5:"))], problems
    assert any(p.startswith("cell 6: stderr or error output:") and "ZeroDivisionError" in p for p in problems)
