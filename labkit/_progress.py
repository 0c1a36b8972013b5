"""Progress shown while labkit waits for something it can observe, with a deadline."""
from __future__ import annotations

import time


class Deadline:
    """A wait of at most `timeout` seconds, shown as a bar of the time it may still take:
    an ipywidgets bar in a notebook, else a line of text every few seconds."""

    def __init__(self, label: str, timeout: float) -> None:
        self.label, self.timeout = label, timeout
        self.start = time.monotonic()
        self._bar = self._text = None
        self._printed = 0.0

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.start

    @property
    def expired(self) -> bool:
        return self.elapsed > self.timeout

    def _show(self) -> None:
        try:
            import ipywidgets
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:
            return
        if get_ipython() is None:
            return
        self._bar = ipywidgets.FloatProgress(value=0, min=0, max=self.timeout, description=self.label,
                                             style={"description_width": "initial"})
        self._text = ipywidgets.Label()
        display(ipywidgets.HBox([self._bar, self._text]))

    def tick(self, status: str) -> None:
        """Another look that found the condition not yet met; `status` says what was seen."""
        if self._bar is None and self._printed == 0.0:
            self._show()
            self._printed = -1.0 if self._bar is not None else 0.0
        elapsed = self.elapsed
        if self._bar is not None:
            self._bar.value = min(elapsed, self.timeout)
            self._text.value = f"{status} ({elapsed:.0f} s)"
        elif elapsed - self._printed >= 5:
            print(f"{self.label}: {status} ({elapsed:.0f} s of at most {self.timeout:g} s)", flush=True)
            self._printed = elapsed

    def done(self) -> None:
        if self._bar is not None:
            self._bar.bar_style = "success"
            self._bar.value = self.timeout
            self._text.value = f"done after {self.elapsed:.0f} s"
