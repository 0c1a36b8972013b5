"""Predict, then look: the learner commits to an expectation before a key observation.

    guess = labkit.predict("What does `getent hosts web-clusterip` print?",
                           ["the web pod's address", "an address from the Service range", "nothing"])
    # ... the cell that makes the observation ...
    guess.reveal("an address from the Service range",
                 why="A ClusterIP Service's name resolves to its one virtual address.")

In JupyterLab `predict` shows the question with a button per choice (a text box when there
are no choices); the learner clicks before running the next cell. `reveal` then prints what
they chose next to what happened, and why. A run with nobody at the keyboard (nbval, CI,
`jupyter nbconvert --execute`) chooses nothing: `reveal` says so and shows the answer, so
executed notebooks are the same from run to run.
"""
from __future__ import annotations

import html

__all__ = ["predict", "Prediction"]


class Prediction:
    """A question, the learner's answer so far (None until they choose), and its widget."""

    def __init__(self, question: str, choices: list[str] | None = None) -> None:
        self.question = question
        self.choices = list(choices) if choices else None
        self.widget = None
        self._typed: str | None = None

    @property
    def value(self) -> str | None:
        """What the learner chose or typed, or None."""
        if self.widget is not None:
            value = self.widget.value
            return value if value not in ("", None) else None
        return self._typed

    @value.setter
    def value(self, answer: str | None) -> None:
        """Answer from code (`guess.value = "3"`), as clicking would."""
        if self.widget is not None:
            self.widget.value = answer if answer is not None else (None if self.choices else "")
        self._typed = answer

    def _make_widget(self):
        try:
            import ipywidgets
        except ImportError:                       # plain Python: answer through `value`
            return None
        if self.choices:
            return ipywidgets.ToggleButtons(options=self.choices, value=None,
                                            style={"button_width": "auto"})
        return ipywidgets.Text(placeholder="your prediction", layout={"width": "60%"})

    def _ipython_display_(self) -> None:
        from IPython.display import HTML, display
        display(HTML(f"<p><b>Predict before you run the next cell:</b> {html.escape(self.question)}</p>"))
        if self.widget is None:
            self.widget = self._make_widget()
            if self.widget is not None and self._typed is not None:
                self.widget.value = self._typed
        if self.widget is not None:
            display(self.widget)

    def __repr__(self) -> str:
        choices = f" choices={self.choices}" if self.choices else ""
        return f"Prediction({self.question!r}{choices})"

    def correct(self, answer) -> bool | None:
        """Whether the chosen answer is `answer`; None when nothing was chosen or the
        prediction was free text."""
        guess = self.value
        return None if guess is None or not self.choices else guess == answer

    def reveal(self, answer, why: str | None = None) -> None:
        """Print the prediction beside what happened, and why."""
        guess = self.value
        shown = answer if isinstance(answer, str) else repr(answer)
        if guess is None:
            print(f"No prediction was made (run the lesson yourself to make one). What happened: {shown}")
        elif self.choices:
            print(f"You predicted: {guess}. What happened: {shown} {'✔' if guess == answer else '✘'}")
        else:
            print(f"You predicted: {guess}. What happened: {shown}")
        if why:
            print(f"Why: {why}")


def predict(question: str, choices: list[str] | None = None) -> Prediction:
    """Ask for a prediction; show the returned object (the cell's last value) to display it."""
    if choices is not None and len(set(choices)) != len(choices):
        raise ValueError("choices must differ from each other")
    return Prediction(question, choices)
