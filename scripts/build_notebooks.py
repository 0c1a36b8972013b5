"""Regenerate the generated parts of the course notebooks; `--check` only reports staleness.

The lessons are authored as `notebooks/NN-short-title.ipynb` directly (in JupyterLab).
This script owns the cells it generates and leaves every other cell, output included,
untouched:

* navigation: a first and a last markdown cell tagged `navigation`
  (`< previous | Contents | next >`), from the lessons' file order and `# ` titles;
* exercises: each code cell tagged `solution` is the one source of an exercise. Its
  source and outputs are hidden (JupyterLab collapses them), and the code cell just
  before it, tagged `exercise`, is generated from it: the solution's lines above its
  `# solution` marker, then `# Write your code here.`;
* `notebooks/index.ipynb`: every lesson with its "What you'll learn" points.

    python scripts/build_notebooks.py            # rewrite what is stale
    python scripts/build_notebooks.py --check    # exit 1 and name the stale files
"""
from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
INDEX = "index.ipynb"
LESSON_NAME = re.compile(r"^(\d\d)-[a-z0-9]+(?:-[a-z0-9]+)*\.ipynb$")
SOLUTION_MARKER = "# solution"
EXERCISE_PLACEHOLDER = "# Write your code here."
COURSE_TITLE = "Kubernetes Service networking, anywhere"


def lessons(folder: Path = NOTEBOOKS) -> list[Path]:
    return sorted(p for p in folder.glob("*.ipynb") if LESSON_NAME.match(p.name))


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def text_of(nb: nbformat.NotebookNode) -> str:
    """The notebook as JupyterLab saves it (nbformat's JSON with a final newline)."""
    s = nbformat.writes(nb)
    return s if s.endswith("\n") else s + "\n"


def tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def title(nb: nbformat.NotebookNode) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "navigation" not in tags(cell):
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    raise ValueError("no '# ' title in any markdown cell")


def section(nb: nbformat.NotebookNode, heading: str) -> str:
    """The markdown under `## heading`, up to the next heading of level 1 or 2."""
    lines: list[str] | None = None
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if lines is not None and re.match(r"#{1,2} ", line):
                return "\n".join(lines).strip()
            if lines is not None:
                lines.append(line)
            elif _heading(line) == _heading(f"## {heading}"):
                lines = []
    if lines is None:
        raise ValueError(f"no '## {heading}' section")
    return "\n".join(lines).strip()


def _heading(line: str) -> str:
    # Typographic and straight apostrophes are the same heading.
    return line.strip().replace("\u2019", "'").lower()


def link(path: Path, nb: nbformat.NotebookNode) -> str:
    return f"[{path.name[:2]} {title(nb)}]({path.name})"


def _navigation(prev: str | None, nxt: str | None, where: str) -> nbformat.NotebookNode:
    parts = ([f"< {prev}"] if prev else []) + [f"[Contents]({INDEX})"] + ([f"{nxt} >"] if nxt else [])
    cell = nbformat.v4.new_markdown_cell(" | ".join(parts), id=f"navigation-{where}")
    cell.metadata["tags"] = ["navigation"]
    return cell


def _exercise_from(solution) -> nbformat.NotebookNode:
    lines = solution.source.splitlines()
    if SOLUTION_MARKER not in (l.strip() for l in lines):
        raise ValueError(f"solution cell {solution.get('id')} has no '{SOLUTION_MARKER}' line")
    prompt = lines[:[l.strip() for l in lines].index(SOLUTION_MARKER)]
    cell = nbformat.v4.new_code_cell("\n".join(prompt + [EXERCISE_PLACEHOLDER]),
                                     id=f"exercise-{solution.id}"[:64])
    cell.metadata["tags"] = ["exercise"]
    return cell


def build_lesson(nb: nbformat.NotebookNode, prev: str | None, nxt: str | None) -> nbformat.NotebookNode:
    """The lesson with its generated cells current; other cells are kept as they are."""
    nb = copy.deepcopy(nb)
    old_exercises = {c.id: c for c in nb.cells if "exercise" in tags(c)}
    body = [c for c in nb.cells if not {"navigation", "exercise"} & set(tags(c))]
    cells = [_navigation(prev, nxt, "top")]
    for cell in body:
        if "solution" in tags(cell):
            exercise = _exercise_from(cell)
            old = old_exercises.get(exercise.id)
            if old is not None and old.source == exercise.source:
                # Keep what running it recorded, so execution alone never makes it stale.
                exercise.execution_count, exercise.outputs = old.execution_count, old.outputs
            cells.append(exercise)
            cell.metadata["jupyter"] = {"source_hidden": True, "outputs_hidden": True}
        cells.append(cell)
    cells.append(_navigation(prev, nxt, "bottom"))
    nb.cells = cells
    return nb


def build_index(entries: list[tuple[Path, nbformat.NotebookNode]]) -> nbformat.NotebookNode:
    parts = [f"# {COURSE_TITLE}\n\n"
             "How pods find each other through Services and DNS, one lab at a time, on a real "
             "cluster or on the embedded sandbox. Start with the first lesson and follow the "
             "links at the bottom of each.\n\n"
             "*This page is generated by `scripts/build_notebooks.py`: edit the lessons, not this page.*"]
    for path, nb in entries:
        learn = section(nb, "What you'll learn")
        parts.append(f"## {link(path, nb)}\n\n{learn}")
    cells = [nbformat.v4.new_markdown_cell(text, id=f"index-{i}") for i, text in enumerate(parts)]
    for cell in cells:
        cell.metadata["tags"] = ["navigation"]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                  "name": "python3"},
                   "language_info": {"name": "python"}}
    return nb


def build(folder: Path = NOTEBOOKS) -> dict[Path, str]:
    """Every generated file's expected text, keyed by path."""
    paths = lessons(folder)
    nbs = [read(p) for p in paths]
    try:
        links = [link(p, nb) for p, nb in zip(paths, nbs)]
    except ValueError as e:
        raise ValueError(f"a lesson has no title: {e}") from e
    out: dict[Path, str] = {}
    for i, (path, nb) in enumerate(zip(paths, nbs)):
        try:
            built = build_lesson(nb, links[i - 1] if i else None, links[i + 1] if i + 1 < len(links) else None)
            section(nb, "What you'll learn")
        except ValueError as e:
            raise ValueError(f"{path.name}: {e}") from e
        nbformat.validate(built)
        out[path] = text_of(built)
    out[folder / INDEX] = text_of(build_index(list(zip(paths, nbs))))
    return out


def stale(folder: Path = NOTEBOOKS) -> list[Path]:
    return [p for p, text in build(folder).items()
            if not p.exists() or p.read_text(encoding="utf-8") != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file is stale")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    expected = build(args.notebooks)
    changed = [p for p, text in expected.items()
               if not p.exists() or p.read_text(encoding="utf-8") != text]
    if args.check:
        for p in changed:
            print(f"stale: {p.relative_to(args.notebooks.parent)} "
                  f"(run: python scripts/build_notebooks.py)", file=sys.stderr)
        return 1 if changed else 0
    for p in changed:
        p.write_text(expected[p], encoding="utf-8")
        print(f"wrote {p.relative_to(args.notebooks.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
