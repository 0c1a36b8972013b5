"""Run every lesson in JupyterLab in a headless Chromium, as a learner does; screenshot each.

    python scripts/browser_lessons.py                         # every lesson
    python scripts/browser_lessons.py notebooks/04-*.ipynb    # some
    python scripts/browser_lessons.py --out /tmp/shots        # screenshots elsewhere

A fresh seeded sandbox (`run_notebooks.sandbox_session`, the one nbval uses) and a JupyterLab
on 127.0.0.1 with a random token serve a temporary copy of the lessons with their outputs
cleared, so the repository's executed notebooks are never written. For each lesson, in course
order, the browser double-clicks it in JupyterLab's file browser, chooses Run > Run All Cells
from the menu bar, waits (with a deadline, on what the page shows) until every code cell has
an execution count and the kernel is idle, reads the page, and shuts the kernel down (each
lesson gets a fresh kernel, as under nbval). A lesson fails on:

* anything shown as stderr or as an error (JupyterLab renders both with the
  `application/vnd.jupyter.stderr` MIME type);
* "Error displaying widget" (a view that failed, or a model that is missing), a widget still
  "Loading widget..." at the deadline, or a cell whose committed output is a widget where no
  widget view rendered;
* a figure that does not show: an `<img>` of an output with no decoded pixels, or fewer
  images than the cell's committed outputs have;
* a dialog that stops the learner (a kernel to choose, a kernel that cannot start).

A screenshot of the whole notebook goes to `artifacts/browser/NN.png` (git-ignored; CI keeps
it). The browser is Debian's Chromium, driven by Playwright over its own protocol, so nothing
is downloaded: `chromium_path()` finds it, `unavailable()` says why the check cannot run.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "browser"
# Generous: a lesson runs in about ten seconds here; a slow CI machine must not fail on time.
LESSON_DEADLINE_S = 300
START_DEADLINE_S = 120
SETTLE_DEADLINE_S = 60
VIEWPORT = {"width": 1280, "height": 900}
# Chromium cannot capture a surface taller than this (its maximum texture size).
MAX_SHOT_HEIGHT = 16000
# Where Debian and other distributions put Chromium; LABKIT_CHROMIUM names another.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "/usr/lib/chromium/chromium")

# JupyterLab's settings for the run: no news or update check (there is no network), and every
# cell attached to the page (the default, content-visibility windowing, may leave cells out
# of the DOM until the CPU is idle, and a loaded CI machine never is).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parent / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def chromium_path() -> str | None:
    for name in (os.environ.get("LABKIT_CHROMIUM"), *CHROMIUM_NAMES):
        if name and (found := shutil.which(name)):
            return found
    return None


def unavailable() -> str | None:
    """Why the browser check cannot run here, or None when it can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if chromium_path() is None:
        return "no Chromium found (apt-get install chromium, as `make system-tools` does as root)"
    return None


@dataclasses.dataclass
class LessonResult:
    lesson: str
    seconds: float
    problems: list[str]
    screenshot: Path | None
    cells_run: int = 0
    widgets: int = 0
    images: int = 0


# ---- what each cell should show, from the committed (executed) notebook -------------------

def expectations(nb) -> list[dict]:
    """Per cell: does it show an execution count once run, how many widget views and images it had.

    A cell whose source is hidden (an exercise's solution) shows no count: JupyterLab draws
    a placeholder instead of its prompt. Empty cells are not sent to the kernel.
    """
    cells = []
    for cell in nb.cells:
        data = [out.get("data", {}) for out in cell.get("outputs") or []]
        hidden = cell.get("metadata", {}).get("jupyter", {}).get("source_hidden", False)
        cells.append({
            "code": cell.cell_type == "code" and bool(cell.source.strip()) and not hidden,
            "widgets": sum("application/vnd.jupyter.widget-view+json" in d and not _progress_bar(d) for d in data),
            "images": sum(("image/png" in d or "image/jpeg" in d) for d in data),
        })
    return cells


def _progress_bar(data: dict) -> bool:
    """labkit's progress bars show only while a wait lasts over a second: whether a run
    committed one says nothing about the lesson, so they are not expected."""
    text = "".join(data.get("text/plain") or "")
    return text.startswith(("IntProgress(", "FloatProgress("))


def cleared_copy(lessons: list[Path], folder: Path) -> list[Path]:
    """The lessons without outputs under folder/notebooks, beside a copy of the manifests they apply."""
    import nbformat
    (folder / "notebooks").mkdir(parents=True)
    shutil.copytree(ROOT / "manifests", folder / "manifests")
    copies = []
    for path in lessons:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(nb, folder / "notebooks" / path.name)
        copies.append(folder / "notebooks" / path.name)
    return copies


# ---- JupyterLab ------------------------------------------------------------------------------

@contextlib.contextmanager
def jupyterlab(env: dict[str, str], root_dir: Path):
    """A JupyterLab serving root_dir on 127.0.0.1 (a free port, a random token); yields (url, token)."""
    state = Path(tempfile.mkdtemp(prefix="labkit-browser-jupyter-"))
    token = secrets.token_hex(24)
    for name, values in LAB_SETTINGS.items():
        (state / "settings" / name).parent.mkdir(parents=True, exist_ok=True)
        (state / "settings" / name).write_text(json.dumps(values))
    env = dict(env, JUPYTER_RUNTIME_DIR=str(state / "runtime"), JUPYTER_CONFIG_DIR=str(state / "config"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               "--ServerApp.port=0", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root_dir}", f"--LabApp.user_settings_dir={state / 'settings'}",
               f"--LabApp.workspaces_dir={state / 'workspaces'}"]
    if hasattr(os, "getuid") and os.getuid() == 0:
        command.append("--allow-root")
    log = open(state / "jupyter.log", "wb")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root_dir)
    try:
        yield _server_url(server, state / "runtime", state / "jupyter.log"), token
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        shutil.rmtree(state, ignore_errors=True)


def _server_url(server: subprocess.Popen, runtime: Path, log: Path) -> str:
    """The server's URL, from the file jupyter_server writes once it listens."""
    deadline = time.monotonic() + START_DEADLINE_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {server.returncode}:\n{log.read_text()[-2000:]}")
        for info in runtime.glob("jpserver-*.json"):
            with contextlib.suppress(ValueError, OSError):
                return json.loads(info.read_text())["url"].rstrip("/") + "/"
        time.sleep(0.1)
    raise TimeoutError(f"JupyterLab did not start within {START_DEADLINE_S} s:\n{log.read_text()[-2000:]}")


# ---- the browser -----------------------------------------------------------------------------

# Helpers every page script has in its body: the notebook on show, and its cells in notebook order
# (by the index JupyterLab's windowed list gives each, the document order where it gives none).
_JS = """
  const CURRENT = () => [...document.querySelectorAll('.jp-NotebookPanel')].find(p => !p.classList.contains('lm-mod-hidden'));
  const CELLS = panel => {
    const cells = [...panel.querySelectorAll('.jp-Notebook .jp-Cell')];
    const index = c => c.closest('[data-windowed-list-index]')?.dataset.windowedListIndex;
    if (!cells.every(c => index(c) !== undefined)) return cells;
    return cells.sort((a, b) => Number(index(a)) - Number(index(b)));
  };"""


def _script(params: str, body: str) -> str:
    """A function for page.evaluate and wait_for_function, with the helpers in its body."""
    return f"{params} => {{{_JS}{body}}}"


# The page's view of the open notebook, one entry per cell in document order. A widget output
# (jupyterlab-manager's renderer, which has no data-mime-type) counts once the model's view is
# in it (elements of class `widget-*`: `widget-inline-hbox`, `widget-toggle-buttons`, ...);
# while the model loads, or after "Error displaying widget", it holds only text.
READ_CELLS = _script("()", """
  const VIEW = '[class*="widget-"]';
  const LOADING = 'Loading widget...';
  const panel = CURRENT();
  if (!panel) return null;
  const status = panel.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status || '';
  const cells = CELLS(panel).map(cell => {
    const outputs = [...cell.querySelectorAll('.jp-OutputArea-output')];
    const text = o => (o.innerText || o.textContent || '').trim();
    return {
      prompt: cell.classList.contains('jp-CodeCell')
        ? (cell.querySelector('.jp-InputPrompt')?.textContent || '').trim() : '',
      stderr: outputs.filter(o => o.matches('[data-mime-type="application/vnd.jupyter.stderr"]')).map(text),
      widgetErrors: outputs.filter(o => text(o).startsWith('Error displaying widget')).map(text),
      widgetsLoading: outputs.filter(o => text(o) === LOADING).length,
      widgets: outputs.filter(o => o.querySelector(VIEW)).length,
      images: [...cell.querySelectorAll('.jp-OutputArea-output img')].map(
        i => ({complete: i.complete, width: i.naturalWidth, height: i.naturalHeight})),
    };
  });
  return {status, cells};
""")

# Run all has finished when the kernel is idle and every runnable cell has a count, or it
# stopped at an error (JupyterLab then un-queues the cells after it).
FINISHED = _script("([runnable])", """
  const panel = CURRENT();
  if (!panel || panel.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status !== 'idle') return false;
  const cells = CELLS(panel);
  const prompts = cells.map(c => c.classList.contains('jp-CodeCell')
    ? (c.querySelector('.jp-InputPrompt')?.textContent || '').trim() : '');
  if (prompts.some(p => p.includes('*'))) return false;
  const counted = runnable.every(i => /^\\[\\d+\\]:$/.test(prompts[i] || ''));
  const stopped = panel.querySelector('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]');
  return counted || !!stopped;
""")

# Widgets and images render after the output arrives: settled when each cell expected to show
# a widget shows a view or an error, no widget output still reads "Loading widget..." (what
# jupyterlab-manager shows until the model arrives), and every image has loaded or failed.
SETTLED = _script("([widgetCells])", """
  const panel = CURRENT();
  const cells = CELLS(panel);
  const imagesDone = [...panel.querySelectorAll('.jp-OutputArea-output img')].every(i => i.complete);
  const loading = [...panel.querySelectorAll('.jp-OutputArea-output')]
    .some(o => (o.textContent || '').trim() === 'Loading widget...');
  const widgetsDone = widgetCells.every(i => {
    const cell = cells[i];
    return !!cell && (!!cell.querySelector('.jp-OutputArea-output [class*="widget-"]')
        || (cell.textContent || '').includes('Error displaying widget')
        || !!cell.querySelector('[data-mime-type="application/vnd.jupyter.stderr"]'));
  });
  return imagesDone && widgetsDone && !loading;
""")


def problems_of(view: dict, expected: list[dict]) -> list[str]:
    """What the page shows that a learner should not see, cell by cell (numbered from 1)."""
    found = []
    if len(view["cells"]) != len(expected):
        found.append(f"the page shows {len(view['cells'])} cells, the notebook has {len(expected)}")
    for number, (cell, want) in enumerate(zip(view["cells"], expected), start=1):
        where = f"cell {number}"
        if want["code"] and not cell["prompt"].strip("[]: ").isdigit():
            found.append(f"{where}: did not run (prompt {cell['prompt']!r})")
            continue
        found += [f"{where}: stderr or error output: {text[:600]}" for text in cell["stderr"]]
        found += [f"{where}: {text[:200]}" for text in cell["widgetErrors"]]
        if cell.get("widgetsLoading"):
            found.append(f"{where}: {cell['widgetsLoading']} widget(s) never rendered (still 'Loading widget...')")
        if cell["widgets"] < want["widgets"]:
            found.append(f"{where}: {want['widgets']} widget view(s) expected, {cell['widgets']} rendered")
        shown = [i for i in cell["images"] if i["complete"] and i["width"] > 0 and i["height"] > 0]
        if len(shown) < len(cell["images"]):
            found.append(f"{where}: {len(cell['images']) - len(shown)} figure(s) did not load")
        if len(shown) < want["images"]:
            found.append(f"{where}: {want['images']} figure(s) expected, {len(shown)} shown")
    return found


def check_lesson(page, url: str, token: str, copy: Path, committed: Path, shot: Path | None) -> LessonResult:
    """Open one lesson, Run > Run All Cells, read what the page shows; screenshot it."""
    import nbformat
    expected = expectations(nbformat.read(committed, as_version=4))
    runnable = [i for i, cell in enumerate(expected) if cell["code"]]
    widget_cells = [i for i, cell in enumerate(expected) if cell["widgets"]]
    start = time.monotonic()
    if dialog := open_lesson(page, copy.name):
        if shot is not None:
            screenshot(page, shot)
        dismiss_dialogs(page)
        return LessonResult(committed.name, time.monotonic() - start, [f"a dialog stopped the lesson: {dialog}"], shot)
    run_all(page)
    problems = []
    try:
        page.wait_for_function(FINISHED, arg=[runnable], timeout=LESSON_DEADLINE_S * 1000, polling=250)
        page.wait_for_function(SETTLED, arg=[widget_cells], timeout=SETTLE_DEADLINE_S * 1000, polling=250)
    except Exception as e:                      # report what the page shows at the deadline
        if type(e).__name__ != "TimeoutError":
            raise
        problems.append(f"not finished within the deadline ({LESSON_DEADLINE_S} s to run, "
                        f"{SETTLE_DEADLINE_S} s to render)")
    seconds = time.monotonic() - start
    view = page.evaluate(READ_CELLS)
    problems += problems_of(view, expected)
    if shot is not None:
        screenshot(page, shot)
    return LessonResult(
        lesson=committed.name, seconds=seconds, problems=problems, screenshot=shot,
        cells_run=sum(c["prompt"].strip("[]: ").isdigit() for c in view["cells"]),
        widgets=sum(c["widgets"] for c in view["cells"]),
        images=sum(len(c["images"]) for c in view["cells"]))


def open_lab(page, url: str, token: str) -> None:
    """JupyterLab in a workspace of its own, its file browser on the lessons' folder."""
    page.goto(f"{url}lab/workspaces/browser-check/tree/notebooks?token={token}")
    page.locator(".jp-DirListing-item").first.wait_for(timeout=START_DEADLINE_S * 1000)


def open_lesson(page, name: str) -> str | None:
    """Double-click the lesson in the file browser; wait for its kernel to be idle.

    Returns the text of a dialog that came up instead (a kernel to choose, a kernel that
    failed to start): the learner is stopped there, and so is the check.
    """
    page.locator(".jp-DirListing-item", has_text=name).dblclick()
    page.wait_for_function(_script("([name])", """
      if (document.querySelector('.jp-Dialog')) return true;
      const tab = document.querySelector('.lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current');
      const panel = CURRENT();
      return !!tab && tab.textContent.includes(name)
          && panel?.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status === 'idle';
    """), arg=[name], timeout=START_DEADLINE_S * 1000, polling=250)
    return dialog_text(page)


def dialog_text(page) -> str | None:
    dialog = page.locator(".jp-Dialog")
    return " ".join(dialog.first.inner_text().split())[:300] if dialog.count() else None


def dismiss_dialogs(page) -> None:
    for _ in range(3):
        if not page.locator(".jp-Dialog").count():
            return
        page.keyboard.press("Escape")
        with contextlib.suppress(Exception):
            page.locator(".jp-Dialog").first.wait_for(state="detached", timeout=5_000)


# Queued cells show [*] at once, so a click that queued nothing is seen within this time.
QUEUED = _script("()", """
  const panel = CURRENT();
  return [...panel.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
    .some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent));
""")


def run_all(page) -> None:
    """Run > Run All Cells, from the menu bar; again if the click queued nothing.

    The menu enables the item for the current notebook only, and draws it when it opens: the
    notebook is focused first (a click on its first prompt), and a menu that opened too early
    (the item disabled) is closed and opened again.
    """
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    item = page.locator('.lm-Menu-item[data-command="runmenu:run-all"]:not(.lm-mod-disabled)')
    for _ in range(5):
        if dialog := dialog_text(page):
            raise RuntimeError(f"a dialog is open: {dialog}")
        with contextlib.suppress(Exception):    # focus only: a moving layout may refuse a click
            panel.locator(".jp-CodeCell .jp-InputPrompt").first.click(timeout=10_000)
        page.locator("#jp-MainMenu .lm-MenuBar-item", has_text="Run").first.click()
        try:
            item.wait_for(timeout=5_000)
        except Exception as e:
            if type(e).__name__ != "TimeoutError":
                raise
            page.keyboard.press("Escape")
            continue
        if item.inner_text().strip() != "Run All Cells":
            raise RuntimeError(f"the Run menu's item reads {item.inner_text()!r}, not 'Run All Cells'")
        item.click()
        try:
            page.wait_for_function(QUEUED, timeout=15_000, polling=100)
            return
        except Exception as e:
            if type(e).__name__ != "TimeoutError":
                raise
    raise RuntimeError("Run > Run All Cells queued no cell")


def screenshot(page, path: Path) -> None:
    """The whole notebook in one picture: the viewport grows to the notebook's height for the shot.

    Growing it may re-lay the notebook out (outputs reflow), so it grows until nothing is left
    to scroll, within Chromium's limit.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    hidden = _script("()", """
      const outer = CURRENT()?.querySelector('.jp-WindowedPanel-outer');
      if (!outer) return 0;
      outer.scrollTop = 0;
      return outer.scrollHeight - outer.clientHeight;
    """)
    height = VIEWPORT["height"]
    try:
        for _ in range(5):
            extra = page.evaluate(hidden)
            if extra <= 0 or height >= MAX_SHOT_HEIGHT:
                break
            height = min(height + extra, MAX_SHOT_HEIGHT)
            page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
        page.screenshot(path=str(path))
    finally:
        page.set_viewport_size(VIEWPORT)


def shut_down_kernels(page, url: str, token: str) -> None:
    """Each lesson gets a fresh kernel, as nbval gives it: end the sessions of the one before."""
    headers = {"Authorization": f"token {token}"}
    for session in page.request.get(f"{url}api/sessions", headers=headers).json():
        page.request.delete(f"{url}api/sessions/{session['id']}", headers=headers)


def run_course(lessons: list[Path], out: Path | None = ARTIFACTS, *, report=None) -> list[LessonResult]:
    """Every lesson in the browser, in order, on one fresh sandbox (as `make test`'s nbval runs them)."""
    from playwright.sync_api import sync_playwright
    sandbox_session = _load("run_notebooks").sandbox_session
    report = report or (lambda line: print(line, flush=True))
    folder = Path(tempfile.mkdtemp(prefix="labkit-browser-"))
    results = []
    for stale in out.glob("*.png") if out is not None else ():
        stale.unlink()                          # the folder shows this run only
    try:
        copies = cleared_copy(lessons, folder)
        with sandbox_session() as env, jupyterlab(env, folder) as (url, token), sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path())
            try:
                page = browser.new_page(viewport=VIEWPORT)
                open_lab(page, url, token)
                for copy, lesson in zip(copies, lessons):
                    shot = out / f"{lesson.name.split('-')[0]}.png" if out is not None else None
                    t0 = time.monotonic()
                    try:
                        result = check_lesson(page, url, token, copy, lesson, shot)
                    except Exception as e:      # this lesson fails; the next one still runs
                        first = (str(e).strip().splitlines() or [""])[0]
                        problem = f"{type(e).__name__}: {first}"
                        if dialog := dialog_text(page):
                            problem = f"a dialog stopped the lesson: {dialog} ({problem})"
                        result = LessonResult(lesson.name, time.monotonic() - t0, [problem], None)
                        with contextlib.suppress(Exception):
                            if shot is not None:
                                screenshot(page, shot)
                                result.screenshot = shot
                        dismiss_dialogs(page)
                    shut_down_kernels(page, url, token)
                    report(f"{result.lesson}: {result.seconds:.1f} s, {result.cells_run} cells run, "
                           f"{result.widgets} widgets, {result.images} figures"
                           + ("" if not result.problems else f", {len(result.problems)} PROBLEMS"))
                    for problem in result.problems:
                        report(f"  {problem}")
                    results.append(result)
            finally:
                browser.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every lesson")
    parser.add_argument("--out", type=Path, default=ARTIFACTS, help="where the screenshots go")
    args = parser.parse_args(argv)
    if reason := unavailable():
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    lessons = [p.resolve() for p in args.notebooks] or _load("build_notebooks").lessons()
    start = time.monotonic()
    results = run_course(lessons, args.out)
    failed = sum(bool(r.problems) for r in results)
    print(f"browser: {len(results)} lessons in {time.monotonic() - start:.1f} s, {failed} failed; "
          f"screenshots in {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
