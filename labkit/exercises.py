"""Checks and hidden solutions for exercise cells.

The pattern, in a notebook:

    # Exercise: which address does `web-svc.default` resolve to from namespace `test`?
    answer = ...                                   # the learner's code
    check("cross-namespace name", answer, expected=web_ip,
          hint="From `test`, the short name misses: add the namespace.")
    solution('answer = lab.exec("client", "getent hosts web-svc.default", namespace="test").stdout.split()[0]')

`check` prints one line, `✔ name` or `✘ name: got ..., expected ...` then the hint, and
returns True/False. It never raises, whatever `value` is (an unanswered `...`, a DataFrame,
an exception object), so "Run all" always reaches the bottom of the notebook.

`solution(text)` shows the solution folded: an HTML `<details>` block in Jupyter and in
static renderings (nbviewer, nbconvert), a one-line pointer in plain text. `reveal()` shows
the last solution (or a named one) unfolded. The solution text is the single source: the
exercise cell is the solution with the answer replaced by `...`.
"""
from __future__ import annotations

import html
import math

__all__ = ["check", "solution", "reveal", "Solution"]

_SOLUTIONS: dict[str, "Solution"] = {}
_LAST: list[str] = []


def _show(value, limit: int = 80) -> str:
    text = "..." if value is Ellipsis else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _normal(value):
    """Comparable form: sequences as lists, numpy/pandas scalars as Python ones."""
    if hasattr(value, "tolist") and not hasattr(value, "columns"):
        value = value.tolist()                       # numpy arrays/scalars, pandas Series
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, str):
        value = value.strip()
    return value


def _equal(value, expected, tolerance: float | None) -> bool:
    if hasattr(value, "equals") and hasattr(expected, "equals"):
        return bool(value.equals(expected))          # two DataFrames/Series
    value, expected = _normal(value), _normal(expected)
    if isinstance(expected, (set, frozenset)) and isinstance(value, (list, set, frozenset)):
        return set(value) == set(expected)
    if isinstance(expected, float) or isinstance(value, float):
        if isinstance(value, (int, float)) and isinstance(expected, (int, float)) \
                and not isinstance(value, bool):
            return math.isclose(value, expected, rel_tol=tolerance or 1e-9, abs_tol=tolerance or 0.0)
    return bool(value == expected)


class Verdict:
    """What `check` returns: true when the answer was right. As a cell's last value it
    shows nothing, since `check` already printed the verdict."""

    def __init__(self, ok: bool) -> None:
        self.ok = ok

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return f"Verdict(ok={self.ok})"

    def _ipython_display_(self) -> None:
        pass


def check(name: str, value, expected=None, *, hint: str | None = None,
          tolerance: float | None = None) -> Verdict:
    """Print whether `value` is right; return a Verdict, true when right. Never raises.

    expected: the right value (lists and tuples compare alike, a set ignores order, floats
    within `tolerance`); a callable, called with `value`, that returns True when right; or
    None, when `value` itself must be true (e.g. `check("resolves", df.resolves.all())`).
    """
    try:
        if value is Ellipsis:
            ok, why = False, "not answered yet (replace `...`)"
        elif callable(expected):
            ok, why = bool(expected(value)), f"got {_show(value)}"
        elif expected is None:
            ok, why = bool(value), f"got {_show(value)}"
        else:
            ok, why = _equal(value, expected, tolerance), f"got {_show(value)}, expected {_show(expected)}"
    except Exception as e:                           # a wrong answer, not a broken notebook
        ok, why = False, f"could not check {_show(value)}: {type(e).__name__}: {e}"
    if ok:
        print(f"✔ {name}")
    else:
        print(f"✘ {name}: {why}")
        if hint:
            print(f"  hint: {hint}")
    return Verdict(ok)


class Solution:
    """A solution folded away: `<details>` in HTML, a pointer in plain text."""

    def __init__(self, text: str, name: str, lang: str = "python", open: bool = False) -> None:
        self.text, self.name, self.lang, self.open = text.strip("\n"), name, lang, open

    def _repr_html_(self) -> str:
        state = " open" if self.open else ""
        return (f"<details{state}><summary>{html.escape(self.name)}</summary>"
                f'<pre><code class="language-{self.lang}">{html.escape(self.text)}</code></pre></details>')

    def __repr__(self) -> str:
        if self.open:
            return f"{self.name}:\n{self.text}"
        return f"{self.name} (hidden: click to unfold, or run reveal())"

    def __str__(self) -> str:
        return self.text


def solution(text: str, name: str = "Solution", lang: str = "python") -> Solution:
    """Register and return a folded solution (show it as the cell's last expression)."""
    sol = Solution(text, name, lang)
    _SOLUTIONS[name] = sol
    _LAST[:] = [name]
    return sol


def reveal(name: str | None = None) -> Solution | None:
    """The last solution (or the one called `name`), unfolded; None when there is none."""
    key = name or (_LAST[0] if _LAST else None)
    sol = _SOLUTIONS.get(key) if key else None
    if sol is None:
        print("no solution to reveal" + (f" called {name!r}" if name else ""))
        return None
    return Solution(sol.text, sol.name, sol.lang, open=True)
