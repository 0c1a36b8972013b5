"""labkit.exercises: checks print one clear line and never raise; solutions fold away."""
from __future__ import annotations

import pandas as pd

from labkit import exercises
from labkit.exercises import check, reveal, solution


def test_right_answers_print_a_tick(capsys):
    assert check("pod IP", "10.10.100.37\n", "10.10.100.37")
    assert check("search list", ("test.svc.cluster.local", "svc.cluster.local"),
                 ["test.svc.cluster.local", "svc.cluster.local"])
    assert check("all pods", ["b", "a"], {"a", "b"})            # a set ignores order
    assert check("ratio", 0.3333, 1 / 3, tolerance=1e-3)
    assert check("resolves", pd.Series([True, True]).all())     # expected=None: truthy
    assert check("ndots", 5, lambda v: v > 1)
    assert check("frame", pd.DataFrame({"a": [1]}), pd.DataFrame({"a": [1]}))
    assert capsys.readouterr().out.splitlines() == [
        "✔ pod IP", "✔ search list", "✔ all pods", "✔ ratio", "✔ resolves", "✔ ndots", "✔ frame"]


def test_wrong_answers_show_value_expected_and_hint(capsys):
    assert not check("pod IP", "10.10.100.1", "10.10.100.37", hint="Look at lab.pods().IP")
    assert capsys.readouterr().out == ("✘ pod IP: got '10.10.100.1', expected '10.10.100.37'\n"
                                       "  hint: Look at lab.pods().IP\n")
    assert not check("ratio", 0.5, 1 / 3, tolerance=1e-3)
    capsys.readouterr()


def test_never_raises_on_odd_values(capsys):
    assert not check("not yet", ..., 3, hint="replace ...")
    out = capsys.readouterr().out
    assert "not answered yet" in out and "hint: replace ..." in out
    # A DataFrame compared with a list has an ambiguous truth value: reported, not raised.
    assert not check("table", pd.DataFrame({"a": [1, 2]}), [1, 2])
    assert not check("predicate that fails", 1, lambda v: 1 / 0)
    out = capsys.readouterr().out
    assert "could not check" in out and "ZeroDivisionError" in out
    assert len(out.splitlines()) == 2


def test_long_values_are_shortened(capsys):
    check("long", "x" * 500, "y")
    line = capsys.readouterr().out.splitlines()[0]
    assert len(line) < 200 and "..." in line


def test_solution_is_folded_then_revealed(capsys):
    sol = solution('lab.exec("client", "getent hosts web-svc.default", namespace="test")', name="Solution 3.1")
    html = sol._repr_html_()
    assert html.startswith("<details><summary>Solution 3.1</summary>")
    assert "&quot;getent hosts web-svc.default&quot;" in html and "<details open" not in html
    assert "hidden" in repr(sol) and "getent" not in repr(sol)
    shown = reveal()
    assert shown._repr_html_().startswith("<details open>")
    assert repr(shown) == 'Solution 3.1:\nlab.exec("client", "getent hosts web-svc.default", namespace="test")'
    solution("x = 1", name="other")
    assert str(reveal("Solution 3.1")).startswith("lab.exec")
    assert reveal("nope") is None and "no solution to reveal called 'nope'" in capsys.readouterr().out


def test_html_is_escaped():
    assert "<script>" not in exercises.solution("<script>alert(1)</script>")._repr_html_()
