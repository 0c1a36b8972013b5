"""labkit.predict: the learner's prediction beside what happened, stable when nobody answers."""
from __future__ import annotations

import pytest

import labkit
from labkit.predictions import Prediction


def test_unanswered_prediction_reveals_the_answer_only(capsys):
    guess = labkit.predict("How many addresses?", ["1", "3"])
    guess.reveal("3", why="one A record per ready pod")
    out = capsys.readouterr().out
    assert out == ("No prediction was made (run the lesson yourself to make one). What happened: 3\n"
                   "Why: one A record per ready pod\n")
    assert guess.correct("3") is None


@pytest.mark.parametrize("chosen, mark", [("3", "✔"), ("1", "✘")])
def test_a_choice_is_compared(capsys, chosen, mark):
    guess = labkit.predict("How many addresses?", ["1", "3"])
    guess._ipython_display_()                  # what showing it in a notebook does
    guess.widget.value = chosen                # what clicking does
    guess.reveal("3")
    assert capsys.readouterr().out.strip().endswith(f"What happened: 3 {mark}")
    assert guess.correct("3") is (chosen == "3")


def test_free_text_is_echoed(capsys):
    guess = labkit.predict("What will ping print?")
    guess.value = "no reply"
    guess.reveal("100% packet loss")
    assert "You predicted: no reply. What happened: 100% packet loss" in capsys.readouterr().out


def test_the_widget_offers_the_choices_and_starts_empty():
    guess = labkit.predict("Which?", ["a", "b"])
    guess._ipython_display_()
    assert list(guess.widget.options) == ["a", "b"] and guess.widget.value is None
    assert guess.value is None


def test_duplicate_choices_are_refused():
    with pytest.raises(ValueError):
        labkit.predict("Which?", ["a", "a"])


def test_repr_names_the_question():
    assert repr(Prediction("Which?", ["a"])) == "Prediction('Which?' choices=['a'])"
